"""A model entry on the leaderboard is the model as scored: visual degrees, chosen layers and preprocessing count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from brainbench.leaderboard import Leaderboard, RankedModel, ScoreRecord
from brainbench.leaderboard.export import ranking_to_json

DIGEST = "7f" * 32
DEFAULT_LAYERS = ["1", "3", "5", "6"]
PREPROCESSING = {"input_size": 96, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def scored(ceiled: float, *, degrees: float | None = 8.0, layers: list[str] | None = None,
           preprocessing: dict[str, Any] | None = PREPROCESSING, digest: str = DIGEST,
           benchmark: str = "Kiani2007.IT-rsa", region: str = "IT", model: str = "tinycnn") -> ScoreRecord:
    """A record as `score` writes it: details['model'] says how the model was set up (keys left out if None)."""
    about: dict[str, Any] = {"candidate_layers": layers or DEFAULT_LAYERS, "layers_given": layers is not None}
    if degrees is not None:
        about["visual_degrees"] = degrees
    if preprocessing is not None:
        about["preprocessing"] = preprocessing
    return ScoreRecord(
        model=model, weights_digest=digest, random_init=False, benchmark=benchmark, benchmark_version=1,
        region=region, raw=ceiled, ceiling=1.0, ceiled=ceiled, error=None, layer="3", brainbench_version="0.1.0",
        seed=0, device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:09+00:00",
        details={"model": about},  # ceiled (ceiling 1), so it feeds its region's column
    )


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    return Leaderboard(tmp_path / "leaderboard.sqlite")


def by_label(board: Leaderboard) -> dict[str, RankedModel]:
    return {row.label: row for row in board.ranking()}


def test_a_score_at_other_visual_degrees_never_replaces_the_8_degree_score(board: Leaderboard) -> None:
    """The issue's case: a later score at -5° (raw 0.050) had replaced tinycnn's 8° score (0.239)."""
    board.append([scored(0.239)])
    board.append([scored(0.050, degrees=-5.0)])
    rows = by_label(board)
    assert set(rows) == {"tinycnn (8°)", "tinycnn (-5°)"}
    assert rows["tinycnn (8°)"].regions["IT"] == 0.239  # the stored value itself, not a computation
    assert rows["tinycnn (8°)"].visual_degrees == 8.0 and rows["tinycnn (-5°)"].visual_degrees == -5.0
    assert [r.ceiled for r in board.latest()] == [0.239, 0.050]


def test_each_entry_still_ranks_its_newest_record(board: Leaderboard) -> None:
    board.append([scored(0.2, degrees=10.0), scored(0.3)])
    board.append([scored(0.25, degrees=10.0)])
    rows = by_label(board)
    assert (rows["tinycnn (10°)"].regions["IT"], rows["tinycnn (8°)"].regions["IT"]) == (0.25, 0.3)
    assert rows["tinycnn (10°)"].rank == 2


def test_chosen_layers_are_an_entry_of_their_own(board: Leaderboard) -> None:
    board.append([scored(0.3), scored(0.2, layers=["3", "5"])])
    rows = by_label(board)
    assert set(rows) == {"tinycnn", "tinycnn [layers: 3,5]"}
    assert rows["tinycnn"].layers is None and rows["tinycnn [layers: 3,5]"].layers == ["3", "5"]


def test_other_preprocessing_is_an_entry_of_its_own(board: Leaderboard) -> None:
    board.append([scored(0.3), scored(0.2, preprocessing={**PREPROCESSING, "input_size": 160})])
    rows = by_label(board)
    assert set(rows) == {"tinycnn [input_size 96]", "tinycnn [input_size 160]"}
    assert rows["tinycnn [input_size 160]"].preprocessing == {**PREPROCESSING, "input_size": 160}


def test_labels_name_every_difference_and_stay_distinct(board: Leaderboard) -> None:
    board.append([
        scored(0.1), scored(0.2, degrees=10.5), scored(0.3, degrees=10.5, layers=["5"]),
        scored(0.4, digest="12" * 32), scored(0.5, model="other"),
    ])
    labels = [row.label for row in board.ranking()]
    assert labels == [
        "other",
        f"tinycnn (8°) [{'12' * 6}]",
        f"tinycnn (10.5°) [layers: 5] [{DIGEST[:12]}]",
        f"tinycnn (10.5°) [{DIGEST[:12]}]",
        f"tinycnn (8°) [{DIGEST[:12]}]",
    ]


def test_records_without_the_new_fields_rank_as_default_layers_at_8_degrees(board: Leaderboard) -> None:
    """Records written before layers_given was recorded join the default-layers entry; without degrees, 8°."""
    old = scored(0.2)
    del old.details["model"]["layers_given"]
    no_degrees = scored(0.4, degrees=None, benchmark="Other.V4-pls", region="V4")
    board.append([old, no_degrees])
    board.append([scored(0.3)])  # a new record of the same entry replaces the old one of its benchmark
    (row,) = board.ranking()
    assert (row.label, row.visual_degrees, row.layers) == ("tinycnn", 8.0, None)
    assert row.benchmarks == {"Kiani2007.IT-rsa": 0.3, "Other.V4-pls": 0.4}


def test_json_ranking_exposes_the_entry_fields(board: Leaderboard) -> None:
    board.append([scored(0.3), scored(0.2, degrees=10.0, layers=["3", "5"])])
    entries = json.loads(json.dumps(ranking_to_json(board.ranking())))
    assert [(e["label"], e["visual_degrees"], e["layers"], e["preprocessing"]) for e in entries] == [
        ("tinycnn (8°)", 8.0, None, PREPROCESSING),
        ("tinycnn (10°) [layers: 3,5]", 10.0, ["3", "5"], PREPROCESSING),
    ]
    assert [RankedModel(**e) for e in entries] == board.ranking()
