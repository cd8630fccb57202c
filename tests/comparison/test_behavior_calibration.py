"""Calibration of the paired behavioural bootstraps by simulation, scored by the real benchmark code (the kinds'
run_* for error consistency and shape bias, metrics.behavior.i2n for i2n) and its per-unit results.

Each seed draws new images, observers' (or 2AFC trials') responses and two models whose decisions follow the same
per-image signal the humans follow plus independent noise of equal size. Equal noise: the models are exchangeable,
so a test at α = 0.05 may reject in at most ~5 % of seeds. A real difference: to be detected in ≥ 80 % of seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
from behavior_data import CueConflict, TwoAfc
from scipy.stats import binom

from brainbench.comparison.behavior_test import error_consistency_test, i2n_test, shape_bias_test
from brainbench.leaderboard.record import ScoreRecord

ALPHA, N_RESAMPLES, N_NULL, N_POWER = 0.05, 200, 200, 60


def _pair(kind: str, seed: int, real_difference: bool) -> tuple[ScoreRecord, ScoreRecord]:
    rng = np.random.default_rng(seed)
    if kind == "i2n":  # 4 objects × 10 images, 30 trials per image × distractor
        experiment = TwoAfc(rng, images_per_object=10)
        return experiment.i2n(1.0), experiment.i2n(0.3 if real_difference else 1.0)
    experiment = CueConflict(rng, n_images=300, strength_sd=3.0)
    if kind == "error_consistency":  # the second model follows the humans' per-image signal with less noise
        return (experiment.error_consistency(experiment.decide(0.0, 6.0)),
                experiment.error_consistency(experiment.decide(0.0, 0.0 if real_difference else 6.0)))
    # shape bias: models texture-biased (offset −1.5; humans +1); the second one less so when the difference is real
    return (experiment.shape_bias(experiment.decide(-1.5, 1.0)),
            experiment.shape_bias(experiment.decide(0.0 if real_difference else -1.5, 1.0)))


TESTS = {"error_consistency": error_consistency_test, "shape_bias": shape_bias_test, "i2n": i2n_test}


def _p_values(kind: str, seeds: range, real_difference: bool) -> tuple[np.ndarray, np.ndarray]:
    estimates = [TESTS[kind](*_pair(kind, seed, real_difference), N_RESAMPLES, seed) for seed in seeds]
    return np.array([e.p_value for e in estimates]), np.array([e.difference for e in estimates])


@pytest.mark.parametrize("kind", list(TESTS))
def test_exchangeable_models_are_rejected_at_most_at_the_nominal_rate(kind: str) -> None:
    p_values, differences = _p_values(kind, range(N_NULL), real_difference=False)
    false_positives = int((p_values < ALPHA).sum())
    # Binomial(200, 0.05) puts 99 % of its mass between these counts (0.5 % on each side); below the lower one the
    # test is conservative, which is allowed; above the upper one it is anti-conservative, which is not.
    assert false_positives <= binom.ppf(0.995, N_NULL, ALPHA), false_positives
    assert abs(differences.mean()) < 3 * differences.std() / np.sqrt(N_NULL)  # the simulation is a true null


@pytest.mark.parametrize("kind", list(TESTS))
def test_a_real_difference_is_detected(kind: str) -> None:
    p_values, differences = _p_values(kind, range(1000, 1000 + N_POWER), real_difference=True)
    assert differences.mean() > 0
    assert (p_values < ALPHA).mean() >= 0.8, (p_values < ALPHA).mean()
