"""The ranking's figure: the leaderboard's ranking and a ranking by one region, each a print-sized PNG with a colour
per region (or per benchmark) that has a score, and an empty ranking refused in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import ScoreRecord
from brainbench.leaderboard.ranking import rank, rank_region
from brainbench.plots import plot_ranking
from brainbench.plots.style import DPI, PALETTE, TWO_COLUMNS
from tests.plots.test_figures import has_colour, pixels


def record(model: str, benchmark: str, region: str, ceiled: float, error: float | None = 0.02) -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest=model[:1] * 64, random_init=False, benchmark=benchmark, benchmark_version=1,
        region=region, raw=ceiled * 0.8, ceiling=0.8, ceiled=ceiled, error=error, layer="layer3",
        brainbench_version="0.1.0", seed=0, device="cpu", started_at="2026-12-06T00:00:00+00:00",
        finished_at="2026-12-06T00:01:00+00:00", details={},
    )


RECORDS = [record("alexnet", "A.V1-pls", "V1", 0.61), record("alexnet", "B.IT-rsa", "IT", 0.42, error=None),
           record("resnet", "A.V1-pls", "V1", 0.55), record("resnet", "C.V4-pls", "V4", 0.70),
           record("resnet", "B.IT-rsa", "IT", 0.48), record("resnet", "D.IT-pls", "IT", 0.52)]


def test_ranking_figure_is_a_print_sized_png_with_a_colour_per_scored_region(tmp_path: Path) -> None:
    out = plot_ranking(rank(RECORDS), tmp_path / "ranking.png")
    assert out == tmp_path / "ranking.png"
    image = pixels(out)
    assert image.shape[1] == round(TWO_COLUMNS * DPI)
    # V1, V4, IT are drawn in the palette's 1st, 3rd and 4th colours; no V2 (2nd) or behavior (5th) score exists
    assert [has_colour(image, PALETTE[i]) for i in range(5)] == [True, False, True, True, False]


def test_ranking_by_one_region_draws_a_colour_per_benchmark_of_it(tmp_path: Path) -> None:
    image = pixels(plot_ranking(rank_region(RECORDS, "IT"), tmp_path / "it.png"))
    assert image.shape[1] == round(TWO_COLUMNS * DPI)
    # the two IT benchmarks in the 1st and 2nd colours, nothing in the 3rd
    assert [has_colour(image, PALETTE[i]) for i in range(3)] == [True, True, False]


def test_an_empty_ranking_is_refused_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(BrainbenchError, match=r"^There is no model to draw: the ranking is empty\.$"):
        plot_ranking([], tmp_path / "empty.png")
    assert list(tmp_path.iterdir()) == []
