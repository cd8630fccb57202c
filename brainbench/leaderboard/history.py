"""A model's history: every record of it, oldest first per benchmark, and which of them the leaderboard ranks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from brainbench.leaderboard.identity import ModelEntry, entries_of, labels
from brainbench.leaderboard.ranking import latest_of, select_benchmarks
from brainbench.leaderboard.record import ScoreRecord


@dataclass(frozen=True)
class HistoryRow:
    """One record of a model, as ``brainbench history`` shows it (scores unitless, as stored; times ISO-8601)."""

    label: str  # the entry's leaderboard label
    benchmark: str
    benchmark_version: int
    brainbench_version: str
    finished_at: str
    layer: str | None
    raw: float
    ceiling: float | None
    ceiled: float
    error: float | None
    seed: int
    device: str
    uid: str
    ranks: bool  # the leaderboard ranks this record: the newest of its entry's newest benchmark version


def history(records: Sequence[ScoreRecord], model: str, patterns: Sequence[str] = ()) -> list[HistoryRow]:
    """Every record in ``records`` (a whole leaderboard) of ``model``, a model id or an entry's label.

    Ordered by entry label, benchmark id, then oldest first (finished_at, then the order stored). ``patterns``: only
    benchmarks whose id matches one of these globs (BrainbenchError naming the model's benchmarks when one matches
    none); BrainbenchError listing the models when ``model`` is none of them.
    """
    names = labels(list({ModelEntry.of(r): None for r in records}))
    chosen = set(entries_of(model, list(names)))
    own = [r for r in records if ModelEntry.of(r) in chosen]
    if patterns:
        own = select_benchmarks(own, patterns, f"of model '{model}'")
    ranked = {r.uid for r in latest_of(records)}
    order = {r.uid: i for i, r in enumerate(records)}
    own.sort(key=lambda r: (names[ModelEntry.of(r)], ModelEntry.of(r).weights_digest, r.benchmark,
                            *_moment(r.finished_at), order[r.uid]))
    return [HistoryRow(label=names[ModelEntry.of(r)], benchmark=r.benchmark, benchmark_version=r.benchmark_version,
                       brainbench_version=r.brainbench_version, finished_at=r.finished_at, layer=r.layer, raw=r.raw,
                       ceiling=r.ceiling, ceiled=r.ceiled, error=r.error, seed=r.seed, device=r.device, uid=r.uid,
                       ranks=r.uid in ranked) for r in own]


def _moment(stamp: str) -> tuple[bool, datetime]:
    """A sort key for an ISO-8601 time: its instant (a time without offset read as UTC); one that is not ISO-8601
    sorts after all others (then by the order stored)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return True, datetime.min.replace(tzinfo=UTC)
    return False, moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
