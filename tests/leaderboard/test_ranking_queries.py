"""The ranking's queries: shared ranks for equal averages, errors of region means, ranking by one region, and
selecting benchmarks and models (hand-computed values; closed forms for the errors)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import ScoreRecord
from brainbench.leaderboard.ranking import (
    AVERAGE,
    TIE_TOLERANCE,
    rank,
    rank_region,
    rank_texts,
    select_benchmarks,
    select_models,
)


def record(model: str, benchmark: str, ceiled: float, region: str = "V1", error: float | None = 0.01,
           ceiling: float | None = 0.8, **details: Any) -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest="ab" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region=region, raw=ceiled * (ceiling or 1.0), ceiling=ceiling, ceiled=ceiled, error=error, layer="l3",
        brainbench_version="0.1.0", seed=0, device="cpu", started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:09+00:00", details=details,
    )


def test_averages_equal_up_to_rounding_share_a_rank_and_a_real_difference_does_not() -> None:
    # The same three V1 scores under other benchmark ids: summed in id order, 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1
    # differ in the last bit; a third model is 1e-6 lower, far above rounding, so ranked below.
    scores = [0.1, 0.2, 0.3]
    records = [record("first", f"B{i}", s) for i, s in enumerate(scores)]
    records += [record("second", f"B{i}", s) for i, s in enumerate(reversed(scores))]
    records += [record("third", f"B{i}", s - 3e-6 if i == 0 else s) for i, s in enumerate(scores)]
    rows = {row.model: row for row in rank(records)}
    assert rows["first"].average != rows["second"].average  # the precondition: not equal as floats
    assert abs(rows["first"].average - rows["second"].average) <= TIE_TOLERANCE
    assert (rows["first"].rank, rows["second"].rank, rows["third"].rank) == (1, 1, 3)  # competition ranking
    ranking = rank(records)
    assert [row.model for row in ranking] == ["first", "second", "third"]  # within the tie: by label
    assert rank_texts(ranking) == ["=1", "=1", "3"]


def test_within_a_tie_more_regions_come_first() -> None:
    records = [record("one-region", "IT-1", 0.5, region="IT"),
               record("two-regions", "IT-1", 0.25, region="IT"), record("two-regions", "V4-1", 0.25, region="V4")]
    ranking = rank(records)
    assert [(row.model, row.rank) for row in ranking] == [("two-regions", 1), ("one-region", 1)]


def test_region_and_average_errors_are_the_standard_error_of_a_mean_of_independent_scores() -> None:
    # V1: two benchmarks with SEMs 0.03 and 0.04 -> sqrt(0.03² + 0.04²) / 2 = 0.05 / 2 = 0.025 (a 3-4-5 triangle).
    # IT: one benchmark, SEM 0.02. average = (V1 + IT) / 5 (three regions missing, counted as exactly 0)
    # -> sqrt(0.025² + 0.02²) / 5.
    records = [record("m", "A.V1", 0.4, error=0.03), record("m", "B.V1", 0.6, error=0.04),
               record("m", "C.IT", 0.3, region="IT", error=0.02)]
    (row,) = rank(records)
    assert row.errors["V1"] == pytest.approx(0.025, abs=1e-15)  # a few roundings
    assert row.errors["IT"] == pytest.approx(0.02, abs=1e-15)
    assert row.errors["V4"] is None and row.errors["behavior"] is None
    assert row.errors[AVERAGE] == pytest.approx(math.hypot(0.025, 0.02) / 5, abs=1e-15)


def test_a_benchmark_without_an_error_leaves_its_region_and_the_average_without_one() -> None:
    (row,) = rank([record("m", "A.V1", 0.4, error=0.03), record("m", "B.V1", 0.6, error=None),
                   record("m", "C.IT", 0.3, region="IT", error=0.02)])
    assert row.errors["V1"] is None and row.errors[AVERAGE] is None
    assert row.errors["IT"] == pytest.approx(0.02, abs=1e-15)


def test_ranking_by_a_column_region_averages_the_benchmarks_feeding_it() -> None:
    records = [
        record("a", "X.V1-one", 0.5), record("a", "X.V1-two", 0.3), record("a", "Y.IT", 0.9, region="IT"),
        record("a", "Lab.EVC", 0.8, region="EVC", column="V1"),  # feeds V1 by its definition
        record("a", "Old.V1", 0.7, ceiling=None),  # no ceiling, no column: shown, not averaged
        record("b", "X.V1-one", 0.6), record("b", "X.V1-two", 0.6),
        record("c", "Y.IT", 0.2, region="IT"),  # no V1 score: not in the V1 ranking
    ]
    rows = rank_region(records, "v1")  # any case for the five columns
    assert [(row.label, row.rank) for row in rows] == [("b", 1), ("a", 2)]
    b, a = rows
    assert a.region == "V1"
    assert a.score == pytest.approx((0.5 + 0.3 + 0.8) / 3, abs=1e-15)
    assert b.score == pytest.approx(0.6, abs=1e-15)
    assert a.averaged == ["Lab.EVC", "X.V1-one", "X.V1-two"] and a.not_averaged == ["Old.V1"]
    assert set(a.benchmarks) == {"Lab.EVC", "Old.V1", "X.V1-one", "X.V1-two"}
    assert a.error == pytest.approx(math.sqrt(3 * 0.01**2) / 3, abs=1e-15)


def test_ranking_by_a_free_region_averages_its_ceiled_benchmarks() -> None:
    records = [record("a", "Lab.FFA-rsa", 0.4, region="FFA"), record("a", "Lab.FFA-pls", 0.2, region="FFA"),
               record("a", "Lab.FFA-raw", 0.9, region="FFA", ceiling=None),  # unceiled, no column: not averaged
               record("b", "Lab.FFA-rsa", 0.5, region="FFA")]
    rows = rank_region(records, "FFA")
    assert [(row.label, row.rank) for row in rows] == [("b", 1), ("a", 2)]
    assert rows[1].score == pytest.approx(0.3, abs=1e-15) and rows[1].not_averaged == ["Lab.FFA-raw"]


def test_a_region_without_scores_is_one_sentence_naming_the_regions_with_scores() -> None:
    records = [record("a", "X.V1", 0.5), record("a", "Lab.FFA", 0.4, region="FFA")]
    with pytest.raises(BrainbenchError, match=r"^No score of region 'V4' is on the leaderboard; regions with "
                                              r"scores: FFA, V1\.$"):
        rank_region(records, "V4")
    with pytest.raises(BrainbenchError, match="regions with scores"):
        rank_region(records, "ffa")  # a free region is matched exactly


def test_selecting_benchmarks_and_models() -> None:
    records = [record("alexnet", "Marques2020.V1-a", 0.1), record("alexnet", "Marques2020.V1-b", 0.2),
               record("resnet", "Kiani2007.IT-rsa", 0.1, region="IT")]  # 0.02 < 0.03
    assert [r.benchmark for r in select_benchmarks(records, ["Marques2020.*"])] == ["Marques2020.V1-a",
                                                                                    "Marques2020.V1-b"]
    assert len(select_benchmarks(records, ["*-a", "Kiani*"])) == 2
    with pytest.raises(BrainbenchError, match=r"^No benchmark on the leaderboard matches 'marques\*'; scored "
                                              r"benchmarks: Kiani2007.IT-rsa, Marques2020.V1-a, Marques2020.V1-b\.$"):
        select_benchmarks(records, ["Marques2020.*", "marques*"])  # case-sensitive, as `score -b`
    ranking = rank(records)
    chosen = select_models(ranking, ["res*"])
    assert [(row.label, row.rank) for row in chosen] == [("resnet", 2)]  # the rank among all
    with pytest.raises(BrainbenchError, match=r"^No model on the leaderboard matches 'vgg\*'; models: alexnet, "
                                              r"resnet\.$"):
        select_models(ranking, ["vgg*"])
