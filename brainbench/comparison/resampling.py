"""The paired bootstrap: resamples of units drawn once and applied to both models, an interval and a p-value.

Efron & Tibshirani (1993), An Introduction to the Bootstrap, Chapman & Hall: bootstrap replicates of a statistic and
their standard error (ch. 6), intervals from it (ch. 12–13), tests (ch. 15–16). A paired comparison draws the
resamples once and computes both models' statistics on them, so that what the models share (the stimuli, the neuroids,
the data) cancels in their difference.

Two factors (e.g. stimuli and neuroids) are resampled independently of each other in each resample (the two-factor
bootstrap of Schütt et al. 2023, eLife 12:e82566). Alone, that counts the residual (stimulus × neuroid) variance three
times, so its intervals are too wide (conservative); :func:`two_factor_variance` is the correction Schütt et al. give,
from the same draws applied to one factor at a time, and :func:`two_factor_estimate` the interval and p built on it.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from brainbench.comparison.estimate import Estimate

LEVEL = 0.95  # of every interval


def resample_counts(rng: np.random.Generator, n: int, n_resamples: int) -> np.ndarray:
    """(n_resamples, n) int64: how often each of ``n`` units is drawn in each resample of n draws with replacement."""
    draws = rng.integers(0, n, size=(n_resamples, n)) + n * np.arange(n_resamples)[:, None]
    return np.bincount(draws.ravel(), minlength=n_resamples * n).reshape(n_resamples, n)


def resample_indices(rng: np.random.Generator, n: int, n_resamples: int) -> np.ndarray:
    """(n_resamples, n) int64: the units drawn (with replacement) in each resample, as indices into the n units."""
    return rng.integers(0, n, size=(n_resamples, n))


def two_factor_variance(both: float, first_only: float, second_only: float) -> float:
    """Schütt et al. (2023)'s corrected variance of a statistic of a crossed two-factor sample (e.g. stimuli ×
    neuroids) from its bootstrap variances: resampling both factors (``both``), or only the first or the second.

    With y_ij = a_i + b_j + e_ij, n first and m second units, the statistic's variance is σa²/n + σb²/m + σe²/nm;
    one-factor bootstraps give σa²/n + σe²/nm and σb²/m + σe²/nm, the two-factor one σa²/n + σb²/m + 3σe²/nm, so
    2·first_only + 2·second_only − both is unbiased where the plain two-factor variance is not. Floored at 0.
    """
    return max(0.0, 2 * first_only + 2 * second_only - both)


def two_factor_estimate(observed: float, both: np.ndarray, first_only: np.ndarray, second_only: np.ndarray,
                        method: str, level: float = LEVEL) -> Estimate:
    """An Estimate of a difference from its observed value and its paired bootstrap replicates (B,) with both factors
    resampled, only the first, only the second (the same draws): the standard error from :func:`two_factor_variance`,
    a normal interval observed ± z·se and the two-sided p = P(|Z| ≥ |observed| / se) of a normal Z.

    Non-finite replicates (a resample with too few distinct units for a correlation) are left out of their
    variance and counted in ``method``; ValueError when fewer than 2 are finite in any of the three.
    """
    variances = []
    for replicates in (both, first_only, second_only):
        finite = replicates[np.isfinite(replicates)]
        if finite.size < 2:
            raise ValueError("fewer than 2 bootstrap resamples gave a finite difference")
        variances.append(float(np.var(finite, ddof=1)))
    se = math.sqrt(two_factor_variance(*variances))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    # se = 0: no resample moved the difference, which is then exactly the same on every resample of these units
    p = math.erfc(abs(observed) / (se * math.sqrt(2))) if se > 0 else float(observed == 0)
    dropped = both.size - int(np.isfinite(both).sum())
    note = f" ({dropped} without a finite score left out)" if dropped else ""
    return Estimate(difference=float(observed), ci_low=float(observed - z * se), ci_high=float(observed + z * se),
                    p_value=p, method=f"{method}, {both.size} resamples{note}, normal {level:.0%} interval",
                    level="units", n_resamples=int(both.size))
