"""The ranking: per model entry, the records that count and their average over the regions."""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from brainbench.leaderboard.identity import ModelEntry, labels
from brainbench.leaderboard.record import REGIONS, ScoreRecord, default_column

#: Numbers a benchmark records beside its score about what the model (and the humans) did, in display order:
#: shown with the score under ``--benchmarks``/``--long`` (the score of Geirhos2019's shape bias is a distance).
MEASURES: tuple[str, ...] = (
    "model_shape_bias", "human_shape_bias", "model_shape_accuracy", "model_texture_accuracy", "model_accuracy",
    "human_accuracy",
)

_SHAPE_BIAS_NAMES = {"model": "model_shape_bias", "human": "human_shape_bias", "shape_accuracy": "model_shape_accuracy",
                     "texture_accuracy": "model_texture_accuracy"}


@dataclass
class BenchmarkScore:
    """One benchmark's ranking record of a model entry (scores unitless, as stored)."""

    benchmark: str
    benchmark_version: int
    region: str  # the benchmark's brain region, free text (V4, EVC, FFA, ...)
    column: str | None  # the REGIONS column its ceiled score is averaged into; None = shown, not averaged
    ceiled: float
    raw: float
    ceiling: float | None  # None: the benchmark has no noise ceiling
    error: float | None
    layer: str | None  # the model layer scored; None for behavioural benchmarks
    measures: dict[str, float] = field(default_factory=dict)  # the record's MEASURES, in that order


@dataclass
class RankedModel:
    """One leaderboard row: a model entry's region scores and their average (all ceiled, unitless)."""

    rank: int
    model: str
    label: str  # distinct per row: the model id plus what sets this entry apart from others of that id
    weights_digest: str
    random_init: bool
    visual_degrees: float  # the model's field of view, degrees
    layers: list[str] | None  # candidate layers the user chose (--layers); None = the model's default set
    preprocessing: dict[str, Any] | None  # input preprocessing (input_size, mean, std); None = not recorded
    regions: dict[str, float | None]  # every REGIONS key: mean of the scores that feed it; None = none does
    average: float
    benchmarks: dict[str, float]  # every ranking benchmark -> its ceiled score, averaged into a column or not
    n_regions: int
    columns: dict[str, list[str]] = field(default_factory=dict)  # every REGIONS key -> the benchmarks averaged in
    not_averaged: list[str] = field(default_factory=list)  # benchmarks shown but feeding no column
    averaged_without_ceiling: list[str] = field(default_factory=list)  # fed in by their definition, not ceiled
    # Every ranking benchmark -> its record's view; left out of ``==`` (as of the default JSON, which omits it), so a
    # row read back from that JSON equals the row; ``benchmarks`` holds the same ceiled scores.
    scores: dict[str, BenchmarkScore] = field(default_factory=dict, compare=False)


def latest_of(records: Sequence[ScoreRecord]) -> list[ScoreRecord]:
    """Per model entry (:class:`ModelEntry`) and benchmark: the record of highest benchmark_version, then id.

    Keeps the order of ``records`` (oldest first when they come from the store); of equals, the later wins.
    """
    best: dict[tuple[ModelEntry, str], tuple[int, ScoreRecord]] = {}
    for index, r in enumerate(records):
        key = (ModelEntry.of(r), r.benchmark)
        if key not in best or _newness(r) >= _newness(best[key][1]):
            best[key] = (index, r)
    return [r for _, r in sorted(best.values(), key=lambda pair: pair[0])]


def _newness(r: ScoreRecord) -> tuple[int, int]:
    return (r.benchmark_version, r.id if r.id is not None else -1)


def column_of(record: ScoreRecord) -> str | None:
    """The leaderboard column (one of REGIONS) a record is averaged into, or None: it is shown, not averaged.

    As recorded (``details["column"]``, from the benchmark's definition: `BenchmarkSpec.feeds`); records written
    before that was recorded feed their region when they have a ceiling and no column when they do not, so that
    a column averages ceiled scores only.
    """
    if "column" in record.details:
        column = record.details["column"]
        return column if column in REGIONS else None
    return default_column(record.region, record.ceiling)


def rank(latest: Sequence[ScoreRecord]) -> list[RankedModel]:
    """Rank model entries (:class:`ModelEntry`) by their ranking records ``latest``.

    A region column's score is the mean ceiled score of the entry's benchmarks that feed it (:func:`column_of`;
    None if none does); a benchmark without a ceiling feeds a column only when its definition names the column.
    The average is the unweighted mean over all five REGIONS, a missing region counting as 0 — as on
    the original Brain-Score leaderboard, a model gains nothing from being scored on fewer regions. Rows
    are sorted by average (descending), then number of scored regions (descending), then label; ranks run
    1..n without shared places.
    """
    entries: dict[ModelEntry, list[ScoreRecord]] = defaultdict(list)
    for r in latest:
        entries[ModelEntry.of(r)].append(r)
    names = labels(list(entries))
    rows = [_row_of(entry, records, names[entry]) for entry, records in entries.items()]
    rows.sort(key=lambda m: (-m.average, -m.n_regions, m.label, m.weights_digest))
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return rows


def _row_of(entry: ModelEntry, records: list[ScoreRecord], label: str) -> RankedModel:
    """An unranked leaderboard row for one model entry's ranking records."""
    ordered = sorted(records, key=lambda r: r.benchmark)
    columns: dict[str, list[ScoreRecord]] = {region: [] for region in REGIONS}
    for r in ordered:
        column = column_of(r)
        if column is not None:
            columns[column].append(r)
    regions = {region: _mean([r.ceiled for r in fed]) if fed else None for region, fed in columns.items()}
    scored = [v for v in regions.values() if v is not None]
    return RankedModel(
        rank=0,
        model=entry.model,
        label=label,
        weights_digest=entry.weights_digest,
        random_init=entry.random_init,
        visual_degrees=entry.visual_degrees,
        layers=None if entry.layers is None else list(entry.layers),
        preprocessing=entry.preprocessing,
        regions=regions,
        average=sum(scored) / len(REGIONS),
        benchmarks={r.benchmark: r.ceiled for r in ordered},
        n_regions=len(scored),
        columns={region: [r.benchmark for r in fed] for region, fed in columns.items()},
        not_averaged=[r.benchmark for r in ordered if column_of(r) is None],
        averaged_without_ceiling=[r.benchmark for r in ordered if r.ceiling is None and column_of(r) is not None],
        scores={r.benchmark: benchmark_score(r) for r in ordered},
    )


def benchmark_score(record: ScoreRecord) -> BenchmarkScore:
    """The ranking's view of one record: its scores, column and MEASURES (those recorded as finite numbers)."""
    found = _recorded_measures(record.details)
    measures = {name: float(found[name]) for name in MEASURES if _is_number(found.get(name))}
    return BenchmarkScore(
        benchmark=record.benchmark, benchmark_version=record.benchmark_version, region=record.region,
        column=column_of(record), ceiled=record.ceiled, raw=record.raw, ceiling=record.ceiling, error=record.error,
        layer=record.layer, measures=measures,
    )


def _recorded_measures(details: dict[str, Any]) -> dict[str, Any]:
    """MEASURES named in ``details``: at its top level, or in the shape-bias record's ``details["shape_bias"]``
    ({model, human, shape_accuracy, texture_accuracy}); a top-level value wins."""
    inner = details.get("shape_bias")
    nested = {_SHAPE_BIAS_NAMES[k]: v for k, v in inner.items() if k in _SHAPE_BIAS_NAMES} if isinstance(
        inner, dict) else {}
    return {**nested, **{k: v for k, v in details.items() if k in MEASURES}}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
