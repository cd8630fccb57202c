"""Calibration of the paired neural test by simulation, through the real 'neural' kind (`run_neural_kind`: PLS on
10 shuffle splits, internal-consistency ceiling) and the units it stores.

Each seed draws a new world (`neural_world`): 200 stimuli × 40 neuroids driven by an 8-dimensional latent signal
with trial noise, and two one-layer models whose features are the same read-out of that signal plus independent noise.
Equal noise: the models are exchangeable, so a test at α = 0.05 may reject in at most ~5 % of seeds. More noise for
the second model: a real difference, to be detected.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
import torch
from neural_world import score, world
from scipy.stats import binom

from brainbench.comparison.neural_test import neural_paired_test

ALPHA, N_RESAMPLES = 0.05, 200


@pytest.fixture(autouse=True)
def one_thread():
    """Small regressions: more threads only contend on a shared machine (results do not depend on it)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tests(seeds: range, second_noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed: the test's p-value, its standard error (from the 95 % interval) and the observed difference."""
    p, se, difference = [], [], []
    z = NormalDist().inv_cdf(0.975)
    for seed in seeds:
        dataset, features, ids = world(seed, {"first": 1.0, "second": second_noise})
        first, second = (score(dataset, features[name], ids, name) for name in ("first", "second"))
        estimate = neural_paired_test(first, second, N_RESAMPLES, seed)
        p.append(estimate.p_value)
        se.append((estimate.ci_high - estimate.ci_low) / (2 * z))
        difference.append(estimate.difference)
    return np.array(p), np.array(se), np.array(difference)


def test_equally_good_models_are_rejected_at_most_at_the_nominal_rate() -> None:
    seeds = 200
    p, se, difference = _tests(range(seeds), 1.0)
    rejections = int((p < ALPHA).sum())
    _, high = binom.interval(0.99, seeds, ALPHA)  # 99 % of rejection counts of an exact test: 3..19 of 200
    # Conservative, not exact: the neuroid bootstrap of a median over 40 neuroids overstates its variance, so the
    # interval is ~1.4× the spread of the differences over worlds (measured: 1/100 seeds rejected). Bounded here so
    # that the test stays useful: its standard error is at most twice the true spread, and at least 0.8 of it.
    assert rejections <= high, f"{rejections}/{seeds} false positives"
    assert 0.8 < se.mean() / difference.std() < 2.0


def test_a_noisier_model_is_detected() -> None:
    seeds = 50
    p, _, difference = _tests(range(1000, 1000 + seeds), 2.5)  # 2.5× the noise: ~0.10 lower ceiled score
    assert (difference < 0).mean() > 0.95
    assert (p < ALPHA).mean() >= 0.8, f"detected in {(p < ALPHA).sum()}/{seeds} seeds"
