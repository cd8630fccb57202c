"""``brainbench history MODEL``: every record of a model, oldest first per benchmark, the ranking record marked."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord

HEAVY = ("torch", "torchvision", "timm", "xarray", "matplotlib", "scipy", "netCDF4", "sklearn", "h5py", "numpy")


def record(benchmark: str, ceiled: float, finished_at: str, version: int = 1, model: str = "alexnet",
           random_init: bool = False, brainbench_version: str = "0.1.0") -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest=("cd" if random_init else "ab") * 32, random_init=random_init,
        benchmark=benchmark, benchmark_version=version, region="V1", raw=ceiled * 0.8, ceiling=0.8, ceiled=ceiled,
        error=0.01, layer="features.3", brainbench_version=brainbench_version, seed=0, device="cpu",
        started_at=finished_at, finished_at=finished_at,
    )


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([
        record("B.V1", 0.30, "2025-03-01T10:00:00+00:00"),
        # Stored later but finished earlier: 10:30 at +02:00 is 08:30 UTC, before 09:00 UTC (not so as text).
        record("A.V1", 0.52, "2025-02-01T10:30:00+02:00", version=2, brainbench_version="0.2.0"),
        record("A.V1", 0.50, "2025-02-01T09:00:00+00:00"),
        # The newest record, but of the older version: the leaderboard ranks the version-2 record above.
        record("A.V1", 0.51, "2025-04-01T00:00:00+00:00"),
        record("A.V1", 0.05, "2025-01-01T00:00:00+00:00", random_init=True),
        record("A.V1", 0.70, "2025-01-01T00:00:00+00:00", model="vgg"),
    ])
    return board


def test_every_record_oldest_first_per_benchmark_and_the_ranking_one_marked(cli, board: Leaderboard) -> None:
    result = cli("history", "alexnet", "--leaderboard", board.path, "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["label"], r["benchmark"], r["ceiled"], r["ranks"]) for r in rows] == [
        ("alexnet", "A.V1", 0.52, True), ("alexnet", "A.V1", 0.50, False), ("alexnet", "A.V1", 0.51, False),
        ("alexnet", "B.V1", 0.30, True), ("alexnet (random-init)", "A.V1", 0.05, True)]
    ranked = {r.uid for r in board.latest()}
    assert {r["uid"] for r in rows if r["ranks"]} == ranked - {r.uid for r in board.records() if r.model == "vgg"}
    assert rows[0]["benchmark_version"] == 2 and rows[0]["brainbench_version"] == "0.2.0"
    assert rows[0]["finished_at"] == "2025-02-01T10:30:00+02:00" and rows[0]["layer"] == "features.3"


def test_the_table_shows_versions_dates_in_utc_and_uid_prefixes(cli, board: Leaderboard) -> None:
    uid = next(r.uid for r in board.records() if r.benchmark_version == 2)
    for columns in ("200", "60"):  # the table, and the blocks when it does not fit
        result = cli("history", "alexnet", "--leaderboard", board.path, env={"COLUMNS": columns})
        assert result.exit_code == 0, result.stderr
        line = next(line for line in result.stdout.splitlines() if uid[:8] in line)
        assert "2025-02-01 08:30" in line and "◀" in line, result.stdout
        assert "alexnet (random-init): 1 record(s)" in result.stdout
        assert "0.2.0" in result.stdout and uid not in result.stdout


def test_a_label_picks_one_entry_and_a_pattern_some_benchmarks(cli, board: Leaderboard) -> None:
    rows = json.loads(cli("history", "alexnet (random-init)", "--leaderboard", board.path, "--json").stdout)
    assert [(r["label"], r["ceiled"]) for r in rows] == [("alexnet (random-init)", 0.05)]
    text = cli("history", "alexnet", "-b", "B.*", "--leaderboard", board.path, "--csv").stdout
    assert [(r["benchmark"], r["ranks"]) for r in csv.DictReader(io.StringIO(text))] == [("B.V1", "True")]


def test_an_unknown_model_or_benchmark_is_one_sentence(cli, board: Leaderboard) -> None:
    result = cli("history", "resnet", "--leaderboard", board.path)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("error: No model 'resnet' on the leaderboard; its models: alexnet, alexnet (random-init), "
                             "vgg.\n")
    result = cli("history", "vgg", "-b", "B*", "--leaderboard", board.path)
    assert result.exit_code == 1
    assert result.stderr == "error: No benchmark of model 'vgg' matches 'B*'; scored benchmarks: A.V1.\n"
    assert cli("history", "vgg", "--json", "--csv", "--leaderboard", board.path).exit_code == 2


def test_history_imports_no_heavy_library(board: Leaderboard, tmp_path: Path) -> None:
    modules = tmp_path / "modules.json"
    code = ("import json, sys\nfrom brainbench.cli.main import main\nout = sys.argv.pop(1)\ntry:\n    main()\n"
            "finally:\n    json.dump(sorted(sys.modules), open(out, 'w'))\n")
    done = subprocess.run([sys.executable, "-c", code, str(modules), "history", "alexnet", "--leaderboard",
                           str(board.path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "alexnet: 4 record(s)" in done.stdout
    imported = {name.partition(".")[0] for name in json.loads(modules.read_text())}
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
