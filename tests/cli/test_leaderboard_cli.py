"""``brainbench leaderboard``: its options, CSV that spreadsheets cannot run, and importing kept scores."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from brainbench.benchmarks import scoring
from brainbench.benchmarks.kinds import KINDS
from brainbench.leaderboard import Leaderboard, ScoreRecord, unsaved

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"


def record(model: str, ceiled: float = 0.25, benchmark: str = "Kiani2007.IT-rsa") -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest="7f" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region="IT", raw=ceiled, ceiling=1.0, ceiled=ceiled, error=None, layer="3", brainbench_version="0.1.0",
        seed=0, device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
    )  # ceiled (ceiling 1), so it feeds the IT column


def last_error(result) -> str:
    """The error line: the last line on stderr (progress bars of the work before it may come first)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    line = result.stderr.rstrip("\n").splitlines()[-1]
    assert line.startswith("error: ")
    return line


DANGEROUS = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(cli, tmp_path: Path) -> None:
    board = tmp_path / "board.sqlite"
    Leaderboard(board).append([record(name, 0.1 + i / 100) for i, name in enumerate(DANGEROUS)]
                              + [record("plain", -0.2)])
    result = cli("leaderboard", "--leaderboard", board, "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    cells = {row["model"]: row for row in rows}
    assert set(cells) == {"'" + name for name in DANGEROUS} | {"plain"}  # OWASP: a leading single quote
    assert all(row["label"] == row["model"] for row in rows)
    assert float(cells["plain"]["IT"]) == -0.2  # a negative number stays a number
    assert float(cells["'-2+3"]["IT"]) == pytest.approx(0.12)  # rows intact: value as appended (repr round trip)


def test_ranking_options_work_on_the_command_group(cli, tmp_path: Path) -> None:
    board = tmp_path / "board.sqlite"
    Leaderboard(board).append([record("a", 0.3), record("a", 0.1, "Other.IT-pls"), record("b", 0.2)])
    table = cli("leaderboard", "--leaderboard", board, "--benchmarks")
    assert table.exit_code == 0 and "Other" in table.stdout and "0.100" in table.stdout  # a's Other.IT-pls score
    ranking = json.loads(cli("leaderboard", "--leaderboard", board, "--json").stdout)
    assert [(r["label"], r["visual_degrees"], r["layers"]) for r in ranking] == [("a", 8.0, None), ("b", 8.0, None)]
    assert cli("leaderboard", "--leaderboard", tmp_path / "none.sqlite").stdout.startswith("No scores yet")


def test_import_adds_kept_records_once(cli, home: Path, tmp_path: Path) -> None:
    board = tmp_path / "board.sqlite"
    kept = unsaved.keep([record("a"), record("b")], board)
    first = cli("leaderboard", "import", kept, "--leaderboard", board)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("Imported 2 of 2 score record(s)")
    again = cli("leaderboard", "--leaderboard", board, "import", kept, "--json")  # the group's option works too
    assert json.loads(again.stdout) == {"leaderboard": str(board), "records": 2, "imported": 0, "already_present": 2}
    assert sorted(r.model for r in Leaderboard(board).records()) == ["a", "b"]


def test_import_of_another_file_is_one_error_line(cli, tmp_path: Path) -> None:
    other = tmp_path / "ranking.json"
    other.write_text("[]")
    line = last_error(cli("leaderboard", "import", other, "--leaderboard", tmp_path / "board.sqlite"))
    assert f"{other} is not a file of brainbench score records" in line
    assert not (tmp_path / "board.sqlite").exists()


def test_unwritable_leaderboard_is_refused_before_any_model_work(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leaderboard path under a regular file cannot be written by anyone, root included."""
    def no_model_work(*args, **kwargs):
        raise AssertionError("model work started before the leaderboard was checked")

    monkeypatch.setattr(scoring, "_session", no_model_work)
    (tmp_path / "lab").mkdir()
    blocker = tmp_path / "lab" / "a-file"
    blocker.write_text("")
    board = blocker / "scores" / "board.sqlite"
    line = last_error(cli("score", "timm:resnet18", "--random-init", "-b", "Kiani2007.IT-rsa", "--leaderboard", board))
    assert line == (f"error: The leaderboard {board} cannot be written ({blocker}: Not a directory); make it writable, "
                    "pass another --leaderboard PATH, or score with --no-save.")
    assert [p.name for p in blocker.parent.iterdir()] == ["a-file"]


@pytest.mark.mirror
def test_scores_of_a_failed_write_are_kept_and_imported_once(
    cli, home: Path, mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real score whose leaderboard becomes unusable during the work (a folder appears at its path)."""
    assert cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn").exit_code == 0
    board = tmp_path / "board.sqlite"
    run_rsa = KINDS["rsa"]

    def sabotaged(*args, **kwargs):
        board.mkdir()
        return run_rsa(*args, **kwargs)

    monkeypatch.setitem(KINDS, "rsa", sabotaged)
    failed = cli("score", "tinycnn", "-b", "Kiani2007.IT-rsa", "--layers", "3", "--visual-degrees", "10",
                 "--device", "cpu", "--data-mirror", mirror, "--leaderboard", board)
    line = last_error(failed)
    command = re.search(r"run `(brainbench leaderboard import (\S+) --leaderboard (\S+))`\.$", line)
    assert line.startswith(f"error: The leaderboard {board} cannot be written (") and command, line
    assert Path(command[2]).parent == home / "unsaved" and command[3] == str(board)

    board.rmdir()
    monkeypatch.setitem(KINDS, "rsa", run_rsa)
    for _ in range(2):  # the same file twice: one record
        assert cli(*command[1].split()[1:]).exit_code == 0
    (stored,) = Leaderboard(board).records()
    assert stored.details["model"]["layers_given"] is True and stored.layer == "3"
    assert 0 < stored.raw < 1  # the score was computed by the real run, not made up
    (row,) = json.loads(cli("leaderboard", "--leaderboard", board, "--json").stdout)
    # Kiani2007 has no noise ceiling: shown, not averaged into IT.
    assert (row["visual_degrees"], row["layers"], row["regions"]["IT"]) == (10.0, ["3"], None)
    assert row["benchmarks"] == {"Kiani2007.IT-rsa": stored.ceiled} and row["not_averaged"] == ["Kiani2007.IT-rsa"]
