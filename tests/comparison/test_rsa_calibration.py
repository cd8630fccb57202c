"""Calibration of the paired RSA bootstrap by simulation, with the real scoring (`rsa_score`) and per-unit results.

Each seed draws new stimuli (a latent representation), four subjects' noisy RDMs of it and two models whose features
are the same linear read-out of it plus independent noise. Equal noise: the models are exchangeable, so a test at
α = 0.05 may reject in at most ~5 % of seeds. Less noise for the second model: a real difference, to be detected.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import binom

from brainbench.benchmarks.rsa import layer_rdms, rsa_score, rsa_units
from brainbench.comparison.rsa_test import rsa_paired_test
from brainbench.leaderboard.record import ScoreRecord

N_STIMULI, N_FEATURES, N_SUBJECTS, N_UNITS = 30, 20, 4, 50
NOISE = 6.0  # model noise SD per feature; the signal's SD per unit is √20 ≈ 4.5
ALPHA, N_RESAMPLES = 0.05, 150


def _record(activations: np.ndarray, subjects: np.ndarray) -> ScoreRecord:
    layers, model = layer_rdms({"layer": torch.from_numpy(activations).float()}, torch.device("cpu"))
    data = torch.from_numpy(subjects)
    result = rsa_score(layers, model, data, [f"c{i % 3}" for i in range(N_STIMULI)], n_splits=3, seed=0,
                       ceiling="nili_upper" if len(subjects) > 1 else "none")
    return ScoreRecord(
        model="m", weights_digest="0" * 64, random_init=False, benchmark="Sim.IT-rsa", benchmark_version=1,
        region="IT", raw=result.raw, ceiling=result.ceiling, ceiled=result.ceiled, error=result.error, layer="layer",
        brainbench_version="0", seed=0, device="cpu", started_at="", finished_at="",
        details={"comparison": "spearman", "squared": False, "unit_test": "rsa"},
        units=rsa_units(layers, model, data, result, [str(i) for i in range(N_STIMULI)]),
    )


def _p_values(seeds: range, second_noise: float, n_subjects: int = N_SUBJECTS) -> tuple[np.ndarray, np.ndarray]:
    """Per seed the test's p-value and the observed difference (second − first ceiled score)."""
    p_values, differences = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        latent = rng.standard_normal((N_STIMULI, N_FEATURES))
        subjects = np.stack([squareform(pdist(latent + rng.standard_normal(latent.shape), "correlation"))
                             for _ in range(n_subjects)])
        readout = rng.standard_normal((N_FEATURES, N_UNITS))
        first = latent @ readout + NOISE * rng.standard_normal((N_STIMULI, N_UNITS))
        second = latent @ readout + second_noise * rng.standard_normal((N_STIMULI, N_UNITS))
        estimate = rsa_paired_test(_record(first, subjects), _record(second, subjects), N_RESAMPLES, seed)
        p_values.append(estimate.p_value)
        differences.append(estimate.difference)
    return np.asarray(p_values), np.asarray(differences)


@pytest.mark.parametrize("n_subjects", [N_SUBJECTS, 1])  # two-factor (corrected variance); stimuli only (percentile)
def test_equal_models_are_rejected_at_most_at_the_nominal_rate(n_subjects: int) -> None:
    n_seeds = 200
    p_values, differences = _p_values(range(n_seeds), NOISE, n_subjects)
    false_positives = int((p_values < ALPHA).sum())
    # Binomial(200, 0.05) puts 99.5 % of its mass at or below this count; more would mean an anti-conservative test.
    # The test is conservative (the stimulus bootstrap overcounts pair-level noise: a pair of stimuli drawn k_i and
    # k_j times counts k_i·k_j times), so a count below 10 is expected and allowed.
    assert false_positives <= binom.ppf(0.995, n_seeds, ALPHA), false_positives
    assert abs(differences.mean()) < 3 * differences.std() / np.sqrt(n_seeds)  # the simulation is a true null


def test_a_real_difference_is_detected() -> None:
    # A third of the noise: the second model's ceiled score is higher by ~0.2 (SD ~0.05 over seeds).
    p_values, differences = _p_values(range(1000, 1060), NOISE / 3)
    assert differences.mean() > 0.1
    assert (p_values < ALPHA).mean() >= 0.8, (p_values < ALPHA).mean()
