"""The result of comparing models: per benchmark and per region, each model's score and its difference to the first.

Light on purpose (no NumPy): figures, the HTML page and the CLI read it. Per-model fields are tuples aligned with
:attr:`Comparison.models`; index 0 is the first model, to which every other is compared, so its estimates are None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from brainbench.comparison.estimate import Estimate

#: The familywise error rate a comparison controls across its benchmarks, per other model.
ALPHA = 0.05
AVERAGE = "average"


@dataclass(frozen=True)
class ModelScore:
    """One model's record on one benchmark, as the leaderboard keeps it (scores unitless; error: SEM or None)."""

    ceiled: float
    error: float | None
    raw: float
    ceiling: float | None
    layer: str | None  # None for behavioural benchmarks
    benchmark_version: int
    seed: int
    uid: str  # the record's uid: `brainbench history` and the leaderboard's exports name it too


@dataclass(frozen=True)
class BenchmarkRow:
    """One benchmark of a comparison.

    scores: per model its record, or None when the model has no score on it (``missing_commands`` then holds the
    command that would score it); estimates: per model the estimate of ``model − first`` (None for the first, a
    missing score, or when no estimate could be made: ``notes`` says why); p_adjusted: Holm-adjusted p-values
    (across the comparison's benchmarks, per model); significant: p_adjusted ≤ alpha (None where no estimate).
    """

    benchmark: str
    version: int  # the newest benchmark version any compared model has a record of (the one compared)
    region: str  # the benchmark's brain region, free text (V4, IT, EVC, ...)
    column: str | None  # the leaderboard column it feeds (one of REGIONS), None = feeds none
    scores: tuple[ModelScore | None, ...]
    missing_commands: tuple[str | None, ...]
    estimates: tuple[Estimate | None, ...]
    p_adjusted: tuple[float | None, ...]
    significant: tuple[bool | None, ...]
    notes: tuple[str | None, ...]  # per model: how its estimate was made when not per unit, or why there is none


@dataclass(frozen=True)
class RegionSummary:
    """A leaderboard column (V1 … behavior) or the average, summarised per model.

    means: per model, the mean ceiled score over the region's benchmarks it shares with the first model (the
    first: over all of its own); benchmarks: per model, those benchmarks; estimates: per model ≠ first, the
    difference of those means to the first's on the same benchmarks, with an interval and p-value (``method``
    says how; not corrected for multiple comparisons); first_means: per model, the first model's mean over that
    model's benchmarks (the difference is means[i] − first_means[i]). For the average, means are over regions.
    """

    region: str
    means: tuple[float | None, ...]
    benchmarks: tuple[tuple[str, ...], ...]
    estimates: tuple[Estimate | None, ...]
    first_means: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """Models compared to the first on the benchmarks any of them has, with Holm's correction per model."""

    models: tuple[str, ...]  # labels as the leaderboard shows them; the first is the reference
    rows: tuple[BenchmarkRow, ...]
    summaries: tuple[RegionSummary, ...]  # the columns any compared benchmark feeds (REGIONS order), then the average
    alpha: float = ALPHA
    correction: str = "holm"
    notes: tuple[str, ...] = field(default_factory=tuple)  # sentences about the comparison as a whole

    def row(self, benchmark: str) -> BenchmarkRow:
        """The row of ``benchmark``; KeyError when it is not compared."""
        for row in self.rows:
            if row.benchmark == benchmark:
                return row
        raise KeyError(benchmark)

    def summary(self, region: str) -> RegionSummary:
        """The summary of a column (e.g. 'IT') or of 'average'; KeyError when there is none."""
        for summary in self.summaries:
            if summary.region == region:
                return summary
        raise KeyError(region)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data: per-model values keyed by model label."""
        return {
            "models": list(self.models),
            "reference": self.models[0],
            "alpha": self.alpha,
            "correction": self.correction,
            "notes": list(self.notes),
            "benchmarks": [_row_dict(row, self.models) for row in self.rows],
            "summaries": [_summary_dict(summary, self.models) for summary in self.summaries],
        }


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (Holm 1979), in the order given; None entries are not tests.

    With the m p-values sorted ascending, p_(i) becomes max over j ≤ i of min(1, (m − j + 1) · p_(j)); rejecting
    where the adjusted p ≤ α controls the familywise error rate at α under any dependence between the tests.
    """
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for j, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - j) * p))
        adjusted[i] = running
    return adjusted


def _estimate_dict(estimate: Estimate | None) -> dict[str, Any] | None:
    return None if estimate is None else asdict(estimate)


def _row_dict(row: BenchmarkRow, models: tuple[str, ...]) -> dict[str, Any]:
    per_model = {}
    for i, model in enumerate(models):
        score = row.scores[i]
        per_model[model] = {
            "score": None if score is None else asdict(score),
            "missing_command": row.missing_commands[i],
            "difference": _estimate_dict(row.estimates[i]),
            "p_adjusted": row.p_adjusted[i],
            "significant": row.significant[i],
            "note": row.notes[i],
        }
    return {"benchmark": row.benchmark, "version": row.version, "region": row.region, "column": row.column,
            "models": per_model}


def _summary_dict(summary: RegionSummary, models: tuple[str, ...]) -> dict[str, Any]:
    return {"region": summary.region, "models": {
        model: {"mean": summary.means[i], "over": list(summary.benchmarks[i]),
                "reference_mean": summary.first_means[i] if summary.first_means else None,
                "difference": _estimate_dict(summary.estimates[i])}
        for i, model in enumerate(models)}}
