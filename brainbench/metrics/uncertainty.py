"""The error of a score: one rule for every benchmark kind, from its units (splits, halvings, observers)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def standard_error(per_unit: ArrayLike) -> float | None:
    """Standard error of the mean of `per_unit` (one value per unit): std with ddof=1 over √n.

    per_unit: (n,) values, e.g. each split's ceiled score; non-finite values are left out (a split whose median is
    undefined, as the score's NaN-skipping mean leaves it out). None when fewer than 2 finite values remain.
    """
    values = np.asarray(per_unit, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < 2:
        return None
    return float(values.std(ddof=1) / np.sqrt(values.size))


def halving_standard_error(fold_values: ArrayLike, n_halvings: int) -> float | None:
    """`standard_error` over halvings of per-fold values ordered (halving, direction): (2 · n_halvings,) values, the
    two directions of a halving (chosen on one half, scored on the other, and back) averaged first."""
    return standard_error(np.reshape(np.asarray(fold_values, dtype=np.float64), (n_halvings, 2)).mean(1))


def error_method(n: int, units: str, per: str, caveat: str = "") -> str:
    """How an error was computed, as records state it (`n`: the units with a finite value, as `standard_error` counts
    them): e.g. ``error_method(10, "cross-validation splits", "split")``
    → "SEM (ddof=1) over 10 cross-validation splits of the per-split ceiled score"; `caveat` says, e.g., which units
    are not independent."""
    return f"SEM (ddof=1) over {n} {units} of the per-{per} ceiled score" + (f"; {caveat}" if caveat else "")
