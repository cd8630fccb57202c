"""`score`'s summary never folds a benchmark id or cuts a score, at any width or in a pipe."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import brainbench.cli.score
from brainbench.benchmarks.scoring import Scores
from brainbench.cli.main import cli
from tests.cli.test_leaderboard_narrow import BENCHMARKS, record


@pytest.mark.parametrize("columns", (60, 80, 200))
def test_every_id_and_score_is_whole(monkeypatch: pytest.MonkeyPatch, columns: int, tmp_path) -> None:
    records = Scores([record(0, i) for i in range(len(BENCHMARKS))])
    monkeypatch.setattr(brainbench.cli.score, "score_model", lambda *args, **kwargs: records)
    result = CliRunner().invoke(cli, ["score", "m", "-b", "*", "--no-save"],
                                env={"COLUMNS": str(columns), "BRAINBENCH_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for r in records:
        (at,) = [i for i, line in enumerate(lines) if r.benchmark in line.split()]  # whole, on one line
        shown = " ".join(lines[at:at + 2])  # its row, or its block of two lines
        for value in (r.raw, r.ceiled):
            assert f"{value:.3f}" in shown, (r.benchmark, shown)
