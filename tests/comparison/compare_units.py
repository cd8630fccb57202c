"""A per-unit test for the dispatcher's tests: the mean difference of a record's 'values' array, or a mismatch.

It stands in for the real per-unit tests (neural, rsa, ...) so that the dispatcher's choice between them and the
fold-level fallback can be checked without scoring a model; its numbers are not a statistic anyone should use.
"""

from __future__ import annotations

from brainbench.comparison.estimate import Estimate, UnitsMismatch
from brainbench.leaderboard.record import ScoreRecord

CALLS: list[tuple[str, str, int, int]] = []


def mean_difference(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> Estimate:
    CALLS.append((first.uid, other.uid, n_resamples, seed))
    a, b = first.units["values"], other.units["values"]
    if a.shape != b.shape:
        raise UnitsMismatch(f"The records of {first.benchmark} have {a.size} and {b.size} units")
    difference = float(b.mean() - a.mean())
    return Estimate(difference, difference - 0.01, difference + 0.01, 0.5, "the mean of per-unit differences",
                    "units", n_resamples)
