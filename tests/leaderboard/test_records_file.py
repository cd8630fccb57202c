"""`leaderboard export --records F.jsonl` and `leaderboard import F.jsonl`: records move between leaderboards whole
(fields, details, uid, per-unit results), importing is idempotent, and a bad line imports nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord


def record(model: str = "tinycnn", benchmark: str = "A.IT-rsa", units: dict | None = None,
           seed: int = 0) -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest="7f" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region="IT", raw=0.2, ceiling=0.8, ceiled=0.25, error=0.01, layer="3", brainbench_version="0.1.0", seed=seed,
        device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
        details={"model": {"visual_degrees": 8.0}, "unit_test": "neural", "splits": [[0, 1], [2]]},
        units=units or {},
    )


def units(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"r": rng.standard_normal((4, 30)).astype(np.float32), "split": np.arange(4, dtype=np.int16),
            "stimulus_id": np.array([f"im{i:03d}" for i in range(30)])}


def board_with_records(path: Path) -> list[ScoreRecord]:
    """Five records on a board at ``path``: three with per-unit results, two without (as before schema 3)."""
    records = [record("alexnet", "A.IT-rsa", units(1)), record("alexnet", "B.V4-pls", units(2)),
               record("resnet", "A.IT-rsa", units(3), seed=4), record("resnet", "B.V4-pls"),
               record("cornet", "C.behavior-i2n")]
    Leaderboard(path).append(records)
    return records


def same_records(got: list[ScoreRecord], expected: list[ScoreRecord]) -> None:
    """Every field equal (ids aside: they are local to a file) and the per-unit arrays bit for bit: the file carries
    the arrays' own .npz bytes, so nothing may change, not even the dtype."""
    by_uid = {r.uid: r for r in got}
    assert sorted(by_uid) == sorted(r.uid for r in expected)
    for want in expected:
        have = by_uid[want.uid]
        assert {**have.to_dict(), "id": None, "units": None} == {**want.to_dict(), "id": None, "units": None}
        assert sorted(have.units) == sorted(want.units)
        for name, array in want.units.items():
            assert have.units[name].dtype == array.dtype
            np.testing.assert_array_equal(have.units[name], array)


def test_export_then_import_into_an_empty_board_gives_the_same_records_with_units(cli, tmp_path: Path) -> None:
    original = board_with_records(tmp_path / "a.sqlite")
    exported = cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    assert exported.exit_code == 0, exported.stderr
    assert exported.stdout.startswith("Wrote 5 score record(s)")
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["uid"] for line in lines)
    assert [json.loads(line)["units"] is None for line in lines].count(True) == 2

    imported = cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "b.sqlite", "--json")
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout) == {"leaderboard": str(tmp_path / "b.sqlite"), "records": 5, "imported": 5,
                                           "already_present": 0}
    same_records(Leaderboard(tmp_path / "b.sqlite").records(with_units=True), original)


def test_importing_twice_adds_nothing(cli, tmp_path: Path) -> None:
    board_with_records(tmp_path / "a.sqlite")
    cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    first = cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    again = cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    assert first.stdout.startswith("Imported 5 of 5") and again.stdout.startswith("Imported 0 of 5"), again.stderr
    assert "(5 already there)" in again.stdout
    assert len(Leaderboard(tmp_path / "b.sqlite").records()) == 5
    # Back into the board they came from: all there already.
    home = cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    assert home.stdout.startswith("Imported 0 of 5") and len(Leaderboard(tmp_path / "a.sqlite").records()) == 5


def test_export_selects_by_model_and_benchmark(cli, tmp_path: Path) -> None:
    original = board_with_records(tmp_path / "a.sqlite")
    result = cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "-m", "res*", "-m", "alexnet",
                 "-b", "A.*", "--leaderboard", tmp_path / "a.sqlite")
    assert result.exit_code == 0, result.stderr
    cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    same_records(Leaderboard(tmp_path / "b.sqlite").records(with_units=True),
                 [r for r in original if r.benchmark == "A.IT-rsa"])


def test_export_of_nothing_writes_nothing(cli, tmp_path: Path) -> None:
    board_with_records(tmp_path / "a.sqlite")
    (tmp_path / "r.jsonl").write_text("kept\n")
    result = cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "-m", "vgg*",
                 "--leaderboard", tmp_path / "a.sqlite")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: No model among the score records matches 'vgg*'; nothing was "
                                          "written."]
    assert (tmp_path / "r.jsonl").read_text() == "kept\n"
    empty = cli("leaderboard", "export", "--records", tmp_path / "e.jsonl", "--leaderboard", tmp_path / "none.sqlite")
    assert empty.exit_code == 1 and "holds no score records; nothing was written" in empty.stderr
    assert not (tmp_path / "e.jsonl").exists()
    missing = cli("leaderboard", "export", "--records", tmp_path / "no" / "r.jsonl", "--leaderboard",
                  tmp_path / "a.sqlite")
    assert missing.exit_code == 1 and "does not exist; create it or name another file" in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.sqlite", "brainbench-home", "r.jsonl"]


def _spoil_seed(line: str) -> str:
    return json.dumps({**json.loads(line), "seed": None})


def _add_key(line: str) -> str:
    return json.dumps({**json.loads(line), "colour": "red"})


def _drop_key(line: str) -> str:
    item = json.loads(line)
    del item["ceiled"]
    return json.dumps(item)


def _spoil_units(line: str) -> str:
    return json.dumps({**json.loads(line), "units": "not base64!"})


BAD_LINES = [
    (lambda line: line[: len(line) // 2], "it is not JSON"),
    (_spoil_seed, "seed = None, which is not a whole number"),
    (_add_key, "it has unknown key(s) colour"),
    (_drop_key, "it lacks the key(s) ceiled"),
    (_spoil_units, "per-unit results are not base64 text"),
    (lambda line: "[1, 2]", "it is a JSON list, not an object"),
]


@pytest.mark.parametrize(("spoil", "problem"), BAD_LINES)
def test_a_bad_line_3_of_5_is_named_and_nothing_is_imported(cli, tmp_path: Path, spoil, problem: str) -> None:
    board_with_records(tmp_path / "a.sqlite")
    cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    lines[2] = spoil(lines[2])
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    Leaderboard(tmp_path / "b.sqlite").append([record("kept", "Z.IT-rsa")])

    result = cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: Line 3 of {tmp_path / 'r.jsonl'} is not a score record: "), line
    assert problem in line and line.endswith("; nothing of the file was imported.")
    assert [r.model for r in Leaderboard(tmp_path / "b.sqlite").records()] == ["kept"]


def test_a_truncated_last_line_is_named_and_nothing_is_imported(cli, tmp_path: Path) -> None:
    """A copy cut off mid-record (a full disk, an interrupted transfer): no trailing newline, half a line."""
    board_with_records(tmp_path / "a.sqlite")
    cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    text = (tmp_path / "r.jsonl").read_text()
    (tmp_path / "r.jsonl").write_text(text[: len(text) - 100])

    result = cli("leaderboard", "import", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: Line 5 of {tmp_path / 'r.jsonl'} is not a score record: it is not JSON (")
    assert "a truncated line?" in line
    assert not (tmp_path / "b.sqlite").exists()


def test_a_repeated_uid_must_be_the_same_record(cli, tmp_path: Path) -> None:
    board_with_records(tmp_path / "a.sqlite")
    cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    same = [*lines, lines[0]]
    (tmp_path / "same.jsonl").write_text("\n".join(same) + "\n")
    result = cli("leaderboard", "import", tmp_path / "same.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    assert result.stdout.startswith("Imported 5 of 5"), result.stderr

    other = [*lines, json.dumps({**json.loads(lines[0]), "raw": 0.3})]
    (tmp_path / "other.jsonl").write_text("\n".join(other) + "\n")
    result = cli("leaderboard", "import", tmp_path / "other.jsonl", "--leaderboard", tmp_path / "c.sqlite")
    assert result.exit_code == 1
    assert "Line 6 of" in result.stderr and "it has the uid of line 1 but other contents" in result.stderr
    assert not (tmp_path / "c.sqlite").exists()


def test_a_file_that_is_not_records_and_an_empty_one_are_refused(cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("model,score\nalexnet,0.5\n")
    result = cli("leaderboard", "import", tmp_path / "notes.txt", "--leaderboard", tmp_path / "b.sqlite")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'notes.txt'} is not a file of brainbench score records "
                                    "(line 1: it is not JSON")
    (tmp_path / "empty.jsonl").write_text("\n")
    result = cli("leaderboard", "import", tmp_path / "empty.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    assert result.stderr == f"error: {tmp_path / 'empty.jsonl'} holds no score records; pass a file of " \
                            "`leaderboard export --records`.\n"
    assert not (tmp_path / "b.sqlite").exists()


def test_a_file_saved_with_a_byte_order_mark_and_crlf_line_ends_is_read(cli, tmp_path: Path) -> None:
    """An editor on Windows may add both; the records are the same."""
    original = board_with_records(tmp_path / "a.sqlite")
    cli("leaderboard", "export", "--records", tmp_path / "r.jsonl", "--leaderboard", tmp_path / "a.sqlite")
    text = (tmp_path / "r.jsonl").read_text()
    (tmp_path / "w.jsonl").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    result = cli("leaderboard", "import", tmp_path / "w.jsonl", "--leaderboard", tmp_path / "b.sqlite")
    assert result.exit_code == 0, result.stderr
    same_records(Leaderboard(tmp_path / "b.sqlite").records(with_units=True), original)

