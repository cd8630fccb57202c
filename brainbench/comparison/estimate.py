"""The estimate of a difference between two models' scores on one benchmark, and the tests that make it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    from brainbench.leaderboard.record import ScoreRecord


@dataclass(frozen=True)
class Estimate:
    """``other − first`` in ceiled-score units, with its 95 % interval and a two-sided p-value.

    method: one sentence a reader can check, e.g. "paired bootstrap over 168 neuroids and 3200 stimuli (same
    resamples for both models), 2000 resamples, percentile interval"; level: "units" when the per-unit results of
    both records were resampled, "folds" when only the per-fold scores were available.
    """

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    level: str
    n_resamples: int | None = None


class UnitsMismatch(BrainbenchError):
    """Two records' per-unit results do not line up (other stimuli, splits, data or options): a per-unit test raises
    it with one sentence saying why, and the comparison falls back to the fold level with that sentence."""


#: A paired test of ``other − first`` on one benchmark: (first, other, n_resamples, seed) → Estimate.
UnitTest = Callable[["ScoreRecord", "ScoreRecord", int, int], Estimate]

#: Per-unit tests by the name a record gives in ``details['unit_test']``, as "module:function" (imported when used,
#: so that light commands do not import NumPy through this registry).
UNIT_TESTS: dict[str, str] = {
    "rsa": "brainbench.comparison.rsa_test:rsa_paired_test",
    "neural": "brainbench.comparison.neural_test:neural_paired_test",
    "error_consistency": "brainbench.comparison.behavior_test:error_consistency_test",
    "shape_bias": "brainbench.comparison.behavior_test:shape_bias_test",
    "i2n": "brainbench.comparison.behavior_test:i2n_test",
}


def unit_test(name: str) -> UnitTest:
    """The registered per-unit test ``name``; BrainbenchError when no test has that name."""
    try:
        module, function = UNIT_TESTS[name].split(":")
    except KeyError:
        raise BrainbenchError(
            f"No paired test is registered for per-unit results of kind '{name}' (known: "
            f"{', '.join(sorted(UNIT_TESTS)) or 'none'})."
        ) from None
    return getattr(importlib.import_module(module), function)
