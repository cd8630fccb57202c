"""Calibration of the fold-level test by simulation: cross-validated predictivity of two equally good models.

Each simulated dataset draws new stimuli: a neuroid's response is a signal plus noise, and each model's features are
that signal plus the model's own independent noise, at the same level (no real difference), or the second model's
features are the signal itself (a real difference). Both are scored by ridge regression on the same 10 shuffle
splits (train 90 %), as neural benchmarks do. The corrected test (Nadeau & Bengio 2003) must reject about 5 % of the
null datasets at α = 0.05 (within a binomial interval), where the plain paired t-test over splits rejects far more
(its splits share training stimuli), and must detect the real difference.
"""

from __future__ import annotations

import numpy as np
from compare_records import neural_details, record
from scipy import stats

from brainbench.comparison.folds import fold_test

N_STIMULI, N_FEATURES, N_SPLITS, TRAIN = 200, 10, 10, 0.9
N_DATASETS = 400


def _split_scores(features: np.ndarray, response: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]) -> list:
    """Per split: Pearson r between the held-out responses and a ridge regression's predictions (λ = 1)."""
    scores = []
    for train, test in splits:
        x, y = features[train], response[train]
        mean_x, mean_y = x.mean(0), y.mean()
        weights = np.linalg.solve((x - mean_x).T @ (x - mean_x) + np.eye(x.shape[1]), (x - mean_x).T @ (y - mean_y))
        predicted = (features[test] - mean_x) @ weights + mean_y
        scores.append(float(np.corrcoef(predicted, response[test])[0, 1]))
    return scores


def _p_values(seed: int, second_noise: float) -> tuple[float, float]:
    """The corrected test's and the plain paired t-test's p for one simulated dataset."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((N_STIMULI, N_FEATURES))
    response = signal @ rng.standard_normal(N_FEATURES) / np.sqrt(N_FEATURES) + rng.standard_normal(N_STIMULI)
    first = signal + 1.0 * rng.standard_normal(signal.shape)
    second = signal + second_noise * rng.standard_normal(signal.shape)
    order = [rng.permutation(N_STIMULI) for _ in range(N_SPLITS)]
    n_train = int(TRAIN * N_STIMULI)
    splits = [(o[:n_train], o[n_train:]) for o in order]
    a, b = (np.asarray(_split_scores(f, response, splits)) for f in (first, second))
    records = [record(model, "Sim.V4-ridge", float(s.mean()), neural_details(s.tolist()), region="V4", ceiling=None)
               for model, s in (("first", a), ("second", b))]
    return fold_test(*records).p_value, float(stats.ttest_rel(b, a).pvalue)


def test_equally_good_models_are_rejected_at_most_about_five_percent_of_the_time() -> None:
    corrected, plain = np.array([_p_values(seed, 1.0) for seed in range(N_DATASETS)]).T
    # 99 % binomial interval of the rejection rate of a calibrated test over 400 datasets: ≈ [0.023, 0.08].
    lower, upper = stats.binom.ppf([0.005, 0.995], N_DATASETS, 0.05) / N_DATASETS
    assert lower <= np.mean(corrected < 0.05) <= upper
    assert np.mean(plain < 0.05) > upper  # the uncorrected test is anti-conservative: the correction is needed


def test_a_real_difference_is_detected() -> None:
    corrected = np.array([_p_values(1000 + seed, 0.0)[0] for seed in range(50)])
    assert np.mean(corrected < 0.05) > 0.75  # 0.88 in this simulation
