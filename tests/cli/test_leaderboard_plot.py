"""``brainbench leaderboard --plot FILE``: the ranking's figure written, its path printed, stdout kept clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def record(model: str, benchmark: str, region: str, ceiled: float) -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest="ab" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region=region, raw=ceiled * 0.8, ceiling=0.8, ceiled=ceiled, error=0.02, layer="l3",
        brainbench_version="0.1.0", seed=0, device="cpu", started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:09+00:00",
    )


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([record("alexnet", "A.V1", "V1", 0.5), record("alexnet", "B.IT", "IT", 0.3),
                  record("resnet18", "A.V1", "V1", 0.4), record("resnet18", "C.V4", "V4", 0.6)])
    return board


def test_plot_writes_a_png_and_prints_its_path(cli, board: Leaderboard, tmp_path: Path) -> None:
    figure = tmp_path / "ranking.png"
    result = cli("leaderboard", "--leaderboard", board.path, "--plot", figure, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert figure.read_bytes().startswith(PNG_SIGNATURE)
    assert f"Wrote the ranking's figure {figure}" in result.stdout
    assert "alexnet" in result.stdout  # the table too


def test_with_json_the_path_goes_to_stderr(cli, board: Leaderboard, tmp_path: Path) -> None:
    figure = tmp_path / "ranking.png"
    result = cli("leaderboard", "--leaderboard", board.path, "--plot", figure, "--json", "-m", "alex*")
    assert result.exit_code == 0, result.stderr
    assert [row["label"] for row in json.loads(result.stdout)] == ["alexnet"]
    assert str(figure) in result.stderr and figure.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_of_a_ranking_by_region(cli, board: Leaderboard, tmp_path: Path) -> None:
    figure = tmp_path / "v1.png"
    result = cli("leaderboard", "--leaderboard", board.path, "--plot", figure, "--region", "V1", "--markdown")
    assert result.exit_code == 0, result.stderr
    assert figure.read_bytes().startswith(PNG_SIGNATURE) and str(figure) in result.stderr
    assert result.stdout.startswith("Ranked by V1")  # stdout: the Markdown alone


def test_an_empty_leaderboard_draws_nothing(cli, tmp_path: Path) -> None:
    result = cli("leaderboard", "--leaderboard", tmp_path / "none.sqlite", "--plot", tmp_path / "f.png")
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "f.png").exists()
