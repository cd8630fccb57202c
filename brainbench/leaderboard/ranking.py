"""The ranking: per model entry, the records that count and their average over the regions."""

from __future__ import annotations

import fnmatch
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from brainbench.errors import BrainbenchError
from brainbench.leaderboard.identity import ModelEntry, labels
from brainbench.leaderboard.record import REGIONS, ScoreRecord, default_column

#: Scores closer than this are equal for ranking: means of the same scores summed in another order differ by
#: rounding (~1e-16), while scores are printed to 3 decimals; such rows share a rank.
TIE_TOLERANCE = 1e-9
AVERAGE = "average"  # the key of the average's error in :attr:`RankedModel.errors`

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
    # Every REGIONS key and AVERAGE -> the error of that mean (:func:`error_of_mean`); None: not computable.
    errors: dict[str, float | None] = field(default_factory=dict)
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


def rank(latest: Sequence[ScoreRecord], everyone: Iterable[ScoreRecord] | None = None) -> list[RankedModel]:
    """Rank model entries (:class:`ModelEntry`) by their ranking records ``latest``.

    A region column's score is the mean ceiled score of the entry's benchmarks that feed it (:func:`column_of`;
    None if none does); a benchmark without a ceiling feeds a column only when its definition names the column.
    The average is the unweighted mean over all five REGIONS, a missing region counting as 0 — as on
    the original Brain-Score leaderboard, a model gains nothing from being scored on fewer regions. Rows
    whose averages differ by at most TIE_TOLERANCE share a rank (competition ranking: 1, 2, 2, 4); rows are
    sorted by average (descending), within a tie by number of scored regions (descending), then label.

    ``everyone``: the records whose entries the labels tell apart (default ``latest``); pass the whole board when
    ``latest`` is a selection, so that an entry keeps its leaderboard label.
    """
    entries = _by_entry(latest)
    names = _labels(latest if everyone is None else everyone)
    rows = [_row_of(entry, records, names[entry]) for entry, records in entries.items()]
    return rank_rows(rows, lambda m: m.average, lambda m: (-m.n_regions, m.label, m.weights_digest))


class _Ranked(Protocol):
    rank: int


_R = TypeVar("_R", bound=_Ranked)


def rank_rows(rows: list[_R], score: Callable[[_R], float | None], order: Callable[[_R], Any]) -> list[_R]:
    """``rows`` best first, each given its rank: by ``score`` (descending; None last), rows within TIE_TOLERANCE of
    their tie's best sharing its rank, ordered within a tie by ``order``."""
    rows = sorted(rows, key=lambda m: (score(m) is None, -(score(m) or 0.0)))
    ties: list[list[_R]] = []
    for row in rows:
        if ties and _tied(score(ties[-1][0]), score(row)):
            ties[-1].append(row)
        else:
            ties.append([row])
    ranked: list[_R] = []
    for tie in ties:
        place = len(ranked) + 1
        for row in sorted(tie, key=order):
            row.rank = place
            ranked.append(row)
    return ranked


def _tied(best: float | None, value: float | None) -> bool:
    if best is None or value is None:
        return best is None and value is None
    return best - value <= TIE_TOLERANCE


def rank_texts(rows: Sequence[_Ranked]) -> list[str]:
    """Each row's rank as shown: '2', or '=2' when another row shares it."""
    counts = defaultdict(int)
    for row in rows:
        counts[row.rank] += 1
    return [f"={row.rank}" if counts[row.rank] > 1 else str(row.rank) for row in rows]


def error_of_mean(errors: Sequence[float | None]) -> float | None:
    """The standard error of a mean of independent scores with standard errors ``errors``: sqrt(Σ err²) / n.

    None when a score has no error (it cannot be left out without understating the mean's) or there is none.
    """
    if not errors or any(e is None for e in errors):
        return None
    return math.sqrt(sum(e * e for e in errors if e is not None)) / len(errors)


def _by_entry(records: Iterable[ScoreRecord]) -> dict[ModelEntry, list[ScoreRecord]]:
    entries: dict[ModelEntry, list[ScoreRecord]] = defaultdict(list)
    for r in records:
        entries[ModelEntry.of(r)].append(r)
    return entries


def _labels(records: Iterable[ScoreRecord]) -> dict[ModelEntry, str]:
    return labels(list(_by_entry(records)))


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
    errors = {region: error_of_mean([r.error for r in fed]) for region, fed in columns.items()}
    # The average is Σ regions / 5 with a missing region a fixed 0 (no error): sqrt(Σ err²) / 5 over scored ones.
    scored_errors = [errors[region] for region, fed in columns.items() if fed]
    errors[AVERAGE] = (None if not scored or any(e is None for e in scored_errors)
                       else math.sqrt(sum(e * e for e in scored_errors if e is not None)) / len(REGIONS))
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
        errors=errors,
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


@dataclass
class RegionRanked:
    """One row of the ranking by one region (``leaderboard --region``): a model entry's mean ceiled score over
    that region's benchmarks (unitless)."""

    rank: int
    model: str
    label: str  # the entry's leaderboard label
    weights_digest: str
    random_init: bool
    visual_degrees: float
    layers: list[str] | None
    preprocessing: dict[str, Any] | None
    region: str  # a REGIONS column or a recorded free-text region (EVC, FFA, ...)
    score: float | None  # mean ceiled score of ``averaged``; None when none of its benchmarks is averaged
    error: float | None  # :func:`error_of_mean` of the averaged benchmarks' errors
    benchmarks: dict[str, float]  # every shown benchmark -> its ceiled score
    averaged: list[str]
    not_averaged: list[str]  # shown, not averaged (no ceiling and no column named)
    scores: dict[str, BenchmarkScore] = field(default_factory=dict, compare=False)


def rank_region(latest: Sequence[ScoreRecord], region: str, everyone: Iterable[ScoreRecord] | None = None,
                scope: str = "on the leaderboard") -> list[RegionRanked]:
    """Rank the entries of ``latest`` that have a score of ``region`` by their mean ceiled score over it.

    ``region``: one of REGIONS (any case), whose benchmarks are those feeding that column (:func:`column_of`) plus
    those of that region feeding none (shown, not averaged); else a recorded free-text region (exact), whose
    benchmarks are its records, averaged when they have a ceiling or feed a column. Ties as in :func:`rank`, then
    by number of averaged benchmarks (descending) and label. BrainbenchError when no record is of ``region``, saying
    where none was found (``scope``, e.g. "among the benchmarks matching 'X*'").
    """
    name, averaged_here = _region_rule(latest, region, scope)
    shown = [r for r in latest if averaged_here(r) or r.region == name]
    names = _labels(latest if everyone is None else everyone)
    rows = []
    for entry, records in _by_entry(shown).items():
        ordered = sorted(records, key=lambda r: r.benchmark)
        averaged = [r for r in ordered if averaged_here(r)]
        rows.append(RegionRanked(
            rank=0, model=entry.model, label=names[entry], weights_digest=entry.weights_digest,
            random_init=entry.random_init, visual_degrees=entry.visual_degrees,
            layers=None if entry.layers is None else list(entry.layers), preprocessing=entry.preprocessing,
            region=name, score=_mean([r.ceiled for r in averaged]) if averaged else None,
            error=error_of_mean([r.error for r in averaged]), benchmarks={r.benchmark: r.ceiled for r in ordered},
            averaged=[r.benchmark for r in averaged],
            not_averaged=[r.benchmark for r in ordered if not averaged_here(r)],
            scores={r.benchmark: benchmark_score(r) for r in ordered},
        ))
    return rank_rows(rows, lambda m: m.score, lambda m: (-len(m.averaged), m.label, m.weights_digest))


def _region_rule(latest: Sequence[ScoreRecord], region: str,
                 scope: str) -> tuple[str, Callable[[ScoreRecord], bool]]:
    """The region's name and which of its records it averages; BrainbenchError naming the regions with scores."""
    column = next((c for c in REGIONS if c.lower() == region.strip().lower()), None)
    if column is not None and any(column_of(r) == column or r.region == column for r in latest):
        return column, lambda r: column_of(r) == column
    if column is None and any(r.region == region for r in latest):
        return region, lambda r: r.region == region and (r.ceiling is not None or column_of(r) is not None)
    known = sorted({r.region for r in latest} | {c for r in latest if (c := column_of(r)) is not None})
    raise BrainbenchError(f"No score of region '{region}' is {scope}; "
                          + (f"regions with scores: {', '.join(known)}." if known else "there are no scores."))


def select_benchmarks(records: Sequence[ScoreRecord], patterns: Sequence[str],
                      scope: str = "on the leaderboard") -> list[ScoreRecord]:
    """The records of ``records`` whose benchmark id matches one of the glob ``patterns`` (case-sensitive, as in
    ``score -b``); BrainbenchError naming the scored benchmarks when a pattern matches none (``scope``: where the
    records are from, for that sentence)."""
    known = sorted({r.benchmark for r in records})
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(b, pattern) for b in known):
            raise BrainbenchError(f"No benchmark {scope} matches '{pattern}'; "
                                  + (f"scored benchmarks: {', '.join(known)}." if known else "it holds no scores."))
    return [r for r in records if any(fnmatch.fnmatchcase(r.benchmark, p) for p in patterns)]


class _Labelled(Protocol):
    model: str
    label: str


_L = TypeVar("_L", bound=_Labelled)


def select_models(rows: Sequence[_L], patterns: Sequence[str]) -> list[_L]:
    """The rows whose label or model id matches one of the glob ``patterns`` (case-sensitive), ranks unchanged;
    BrainbenchError naming the ranked models when a pattern matches none."""
    def matches(row: _L, pattern: str) -> bool:
        return fnmatch.fnmatchcase(row.label, pattern) or fnmatch.fnmatchcase(row.model, pattern)

    for pattern in patterns:
        if not any(matches(row, pattern) for row in rows):
            shown = ", ".join(sorted(row.label for row in rows))
            raise BrainbenchError(f"No model on the leaderboard matches '{pattern}'; "
                                  + (f"models: {shown}." if shown else "it holds no scores."))
    return [row for row in rows if any(matches(row, p) for p in patterns)]
