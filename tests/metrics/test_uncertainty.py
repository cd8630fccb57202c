"""The one error rule: the standard error of the mean, against scipy.stats.sem."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from brainbench.metrics.uncertainty import error_method, standard_error


def test_standard_error_is_scipys_sem_with_ddof_1():
    values = np.random.default_rng(0).normal(0.4, 0.1, size=10)
    # The same formula summed in another order: rounding only.
    assert standard_error(values) == pytest.approx(scipy.stats.sem(values, ddof=1), rel=1e-12)
    assert standard_error([0.25, 0.75]) == pytest.approx(0.25, rel=1e-15)  # |a − b| / 2 for two units, by hand


def test_non_finite_units_are_left_out_and_one_unit_has_no_error():
    values = np.array([0.1, np.nan, 0.3, 0.2, np.inf])
    assert standard_error(values) == pytest.approx(scipy.stats.sem([0.1, 0.3, 0.2], ddof=1), rel=1e-12)
    assert standard_error([0.5]) is None and standard_error([0.5, np.nan]) is None and standard_error([]) is None


def test_error_method_names_units_and_caveat():
    text = error_method(10, "cross-validation splits", "split", "the splits overlap")
    assert text == "SEM (ddof=1) over 10 cross-validation splits of the per-split ceiled score; the splits overlap"
