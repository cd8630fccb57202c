"""The ranking: per model entry, the records that count and their average over the regions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brainbench.leaderboard.identity import ModelEntry, labels
from brainbench.leaderboard.record import REGIONS, ScoreRecord


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
    regions: dict[str, float | None]  # every REGIONS key; None = no benchmark of that region scored
    average: float
    benchmarks: dict[str, float]  # benchmark -> ceiled score
    n_regions: int


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


def rank(latest: Sequence[ScoreRecord]) -> list[RankedModel]:
    """Rank model entries (:class:`ModelEntry`) by their ranking records ``latest``.

    A region's score is the mean ceiled score of the entry's benchmarks in that region (None if it has
    none). The average is the unweighted mean over all five REGIONS, a missing region counting as 0 — as on
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
    by_region: dict[str, list[float]] = defaultdict(list)
    for r in records:
        by_region[r.region].append(r.ceiled)
    regions = {region: _mean(by_region[region]) if by_region[region] else None for region in REGIONS}
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
        benchmarks={r.benchmark: r.ceiled for r in sorted(records, key=lambda r: r.benchmark)},
        n_regions=len(scored),
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
