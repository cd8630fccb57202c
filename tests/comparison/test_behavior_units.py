"""Behavioural per-unit results and their paired bootstraps: un-resampled they reproduce the recorded scores, and on a
resample they equal the metrics (scikit-learn's κ, counting, scipy's r) on the explicitly repeated images."""

from __future__ import annotations

import numpy as np
import pytest
from behavior_data import CueConflict, TwoAfc
from scipy.stats import pearsonr
from sklearn.metrics import cohen_kappa_score

from brainbench.comparison.behavior_test import (
    _weighted_r,
    error_consistency_scores,
    error_consistency_test,
    i2n_scores,
    i2n_test,
    shape_bias_scores,
    shape_bias_test,
)
from brainbench.comparison.estimate import UnitsMismatch, unit_test
from brainbench.metrics.behavior import shape_bias


def _ones(*sizes: int) -> tuple[np.ndarray, ...]:
    return tuple(np.ones((1, n), dtype=np.int64) for n in sizes)


def test_error_consistency_units_reproduce_the_score_and_equal_sklearn_on_a_resample() -> None:
    experiment = CueConflict(np.random.default_rng(0))
    scored = experiment.error_consistency(experiment.decide(0.0, 0.5))
    units = scored.units
    assert scored.details["unit_test"] == "error_consistency" and units["observers_correct"].dtype == bool
    # Counts-based κ here and in the metric: rounding only.
    assert error_consistency_scores(units, scored.ceiling, *_ones(48, 5))[0] == pytest.approx(scored.ceiled, abs=1e-12)
    draw = np.random.default_rng(1).integers(0, 48, 48)
    observer_draw = np.array([1, 1, 2, 4, 4])
    expected = [cohen_kappa_score(units["model_correct"][draw], units["observers_correct"][o][draw])
                for o in observer_draw]
    got = error_consistency_scores(units, scored.ceiling, np.bincount(draw, minlength=48)[None],
                                   np.bincount(observer_draw, minlength=5)[None])
    assert got[0] == pytest.approx(np.mean(expected) / scored.ceiling, abs=1e-12)  # sklearn's confusion matrix


def test_shape_bias_units_reproduce_the_score_and_count_a_resample() -> None:
    experiment = CueConflict(np.random.default_rng(2))
    decisions = experiment.decide(-1.0, 0.5)
    scored = experiment.shape_bias(decisions)
    units = scored.units
    n = len(units["stimulus_ids"])
    assert scored.details["unit_test"] == "shape_bias" and n == 48 - 4  # the cue-conflict images only
    assert shape_bias_scores(units, *_ones(n, 5))[0] == pytest.approx(scored.ceiled, abs=1e-12)  # count ratios
    same = shape_bias_test(scored, scored, 50, 0)  # a record against itself: every resample's difference is 0
    assert (same.difference, same.ci_low, same.ci_high, same.p_value) == (0, 0, 0, 1)

    draw = np.random.default_rng(3).integers(0, n, n)
    observer_draw = np.array([0, 0, 3, 4, 4])
    conflict = np.flatnonzero(experiment.shapes != experiment.textures)[draw]  # the drawn images among all
    shapes, textures = experiment.shapes[conflict], experiment.textures[conflict]
    model_bias = shape_bias(decisions[conflict], shapes, textures)["shape_bias"]
    human_bias = shape_bias(experiment.humans[np.ix_(observer_draw, conflict)].ravel(), np.tile(shapes, 5),
                            np.tile(textures, 5))["shape_bias"]
    got = shape_bias_scores(units, np.bincount(draw, minlength=n)[None], np.bincount(observer_draw, minlength=5)[None])
    assert got[0] == pytest.approx(1 - abs(model_bias - human_bias), abs=1e-12)  # ratios of counts: rounding only


def test_i2n_units_reproduce_the_score_and_equal_scipy_on_a_resample() -> None:
    experiment = TwoAfc(np.random.default_rng(0))
    scored, other = experiment.i2n(0.5), experiment.i2n(1.0)
    u = scored.units
    assert u["model_dprime"].shape == (16, 4) and u["human_dprime"].shape == (2, 16, 4)
    # float32 d′ (|d′| ≤ 5, ~5e-7 absolute) moves r by far less than 1e-5.
    assert i2n_scores(u, *_ones(16))[0] == pytest.approx(scored.ceiled, abs=1e-5)
    estimate = i2n_test(scored, other, 100, 0)
    assert estimate.difference == pytest.approx(other.ceiled - scored.ceiled, abs=1e-5)
    draw = np.random.default_rng(4).integers(0, 16, 16)
    counts = np.bincount(draw, minlength=16)[None]
    for split in range(2):
        human, model = u["human_dprime"][split][draw], u["model_dprime"][draw]
        keep = ~np.isnan(human)
        expected = pearsonr(model[keep].astype(np.float64), human[keep].astype(np.float64))[0]
        got = _weighted_r(u["model_dprime"].astype(np.float64), u["human_dprime"][split].astype(np.float64), counts)
        assert got[0] == pytest.approx(expected, abs=1e-9)  # the same float32 inputs: rounding only


def test_registered_tests_and_misaligned_records() -> None:
    experiment = CueConflict(np.random.default_rng(5))
    first = experiment.error_consistency(experiment.decide(0.0, 0.5))
    other = experiment.error_consistency(experiment.decide(0.0, 0.5))
    estimate = unit_test("error_consistency")(first, other, 300, 0)
    assert estimate.level == "units" and "48 images and 5 observers" in estimate.method
    assert estimate.difference == pytest.approx(other.ceiled - first.ceiled, abs=1e-12)
    assert estimate.ci_low <= estimate.difference <= estimate.ci_high and 0 < estimate.p_value <= 1
    assert unit_test("shape_bias") is shape_bias_test and unit_test("i2n") is i2n_test
    experiment.humans = experiment.humans[:4]
    fewer = experiment.error_consistency(experiment.decide(0.0, 0.5))
    with pytest.raises(UnitsMismatch, match="observers_correct"):
        error_consistency_test(first, fewer, 10, 0)
