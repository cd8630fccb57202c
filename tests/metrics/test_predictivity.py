"""Cross-validated predictivity and internal consistency against loops over scikit-learn, scipy and numpy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats
import torch
from sklearn.cross_decomposition import PLSRegression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from brainbench.metrics.predictivity import (
    cross_validated_predictivity,
    feature_predictivity,
    internal_consistency,
    layers_predictivity,
    nanmedian,
    regression_input,
)
from brainbench.metrics.regression import gram
from tests.metrics.test_regression import assert_penalties_minimise_loo


def _neural_data(n: int, p: int, q: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 6))
    x = latent @ rng.standard_normal((6, p)) + 2 * rng.standard_normal((n, p)) + 1
    y = latent @ rng.standard_normal((6, q)) + 2 * rng.standard_normal((n, q))
    return x, y


def _pearson_or_nan(a: np.ndarray, b: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns and returns NaN for constant input
        return float(scipy.stats.pearsonr(a, b)[0])


def _reference(x: np.ndarray, y: np.ndarray, splits, fit_predict) -> tuple[np.ndarray, np.ndarray]:
    """Brain-Score's loop: fit, predict, pearsonr per neuroid, median over neuroids (NaN-skipping)."""
    per_neuroid = []
    for train, test in splits:
        pred = fit_predict(x[train], y[train], x[test])
        per_neuroid.append([_pearson_or_nan(y[test][:, j], pred[:, j]) for j in range(y.shape[1])])
    per_neuroid = np.array(per_neuroid)
    return per_neuroid, np.nanmedian(per_neuroid, axis=1)


def _pls(x_tr, y_tr, x_te):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return PLSRegression(n_components=25, scale=False).fit(x_tr, y_tr).predict(x_te)


def test_pls_predictivity_matches_sklearn_scipy_numpy_loop_for_each_layer():
    x1, y = _neural_data(240, 120, 10, seed=0)
    x2, _ = _neural_data(240, 700, 10, seed=1)
    y[:, 4] = 3.0  # a silent neuroid: NaN r in every split, ignored by the median
    objects = np.repeat(np.arange(12), 20)
    splits = list(StratifiedShuffleSplit(10, train_size=0.9, random_state=1).split(np.zeros(240), objects))
    grams = torch.stack([gram(torch.from_numpy(x1)), gram(torch.from_numpy(x2), center=True)])
    got = cross_validated_predictivity(grams, torch.from_numpy(y), splits, method="pls")
    assert got.split_medians.shape == (2, 10) and got.per_neuroid.shape == (2, 10, 10) and got.raw.shape == (2,)
    assert got.alphas is None
    for layer, x in enumerate((x1, x2)):
        per_neuroid, medians = _reference(x, y, splits, _pls)
        np.testing.assert_allclose(got.per_neuroid[layer].numpy(), per_neuroid, atol=1e-9)
        assert torch.isnan(got.per_neuroid[layer, :, 4]).all()
        np.testing.assert_allclose(got.split_medians[layer].numpy(), medians, atol=1e-9)
        assert got.raw[layer].item() == pytest.approx(medians.mean(), abs=1e-9)
        # Brain-Score's error: xarray std over splits (ddof=0) / sqrt(n_splits).
        assert got.error[layer].item() == pytest.approx(medians.std(ddof=0) / np.sqrt(10), abs=1e-9)


def test_feature_predictivity_matches_sklearn_loop_in_feature_space_and_in_kernel_form():
    # p < n: solved in feature space; p ≥ n: through the Gram matrix. Both against the scikit-learn loop.
    objects = np.repeat(np.arange(12), 20)
    splits = list(StratifiedShuffleSplit(10, train_size=0.9, random_state=1).split(np.zeros(240), objects))
    for p in (60, 400):
        x, y = _neural_data(240, p, 10, seed=10 + p)
        y[:, 7] = -1.5  # silent in every split: NaN r, dropped by the median (and zeroed by the regression)
        got = feature_predictivity(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y), splits)
        assert got.split_medians.shape == (10,) and got.per_neuroid.shape == (10, 10) and got.raw.shape == ()
        per_neuroid, medians = _reference(x.astype(np.float32).astype(np.float64), y, splits, _pls)
        np.testing.assert_allclose(got.per_neuroid.numpy(), per_neuroid, atol=1e-9 if p < 240 else 1e-6)
        assert torch.isnan(got.per_neuroid[:, 7]).all()
        np.testing.assert_allclose(got.split_medians.numpy(), medians, atol=1e-9 if p < 240 else 1e-6)
        assert got.error.item() == pytest.approx(medians.std(ddof=0) / np.sqrt(10), abs=1e-6)
    with pytest.raises(ValueError, match="at least as many features"):
        feature_predictivity(torch.from_numpy(x[:, :20]), torch.from_numpy(y), splits)


def test_feature_predictivity_solves_unequal_split_sizes_in_groups():
    x, y = _neural_data(90, 40, 4, seed=5)
    rng = np.random.default_rng(0)
    splits = [(order[:70], order[70:]) for order in (rng.permutation(90) for _ in range(2))]
    splits += [(order[:80], order[80:]) for order in (rng.permutation(90) for _ in range(2))]
    got = feature_predictivity(torch.from_numpy(x), torch.from_numpy(y), splits, n_components=8)

    def fit_predict(x_tr, y_tr, x_te):
        return PLSRegression(n_components=8, scale=False).fit(x_tr, y_tr).predict(x_te)

    np.testing.assert_allclose(got.split_medians.numpy(), _reference(x, y, splits, fit_predict)[1], atol=1e-10)


def test_layers_predictivity_keeps_the_order_of_grams_and_narrow_layers():
    splits = list(ShuffleSplit(4, train_size=0.9, random_state=1).split(np.zeros(120)))
    xs = [_neural_data(120, p, 5, seed=p)[0] for p in (300, 40, 200)]
    y = torch.from_numpy(_neural_data(120, 1, 5, seed=0)[1])
    kernels = [regression_input(torch.from_numpy(x)) for x in xs]
    assert [tuple(k.shape) for k in kernels] == [(120, 120), (120, 40), (120, 120)]
    got = layers_predictivity(kernels, y, splits, n_components=10)
    assert got.split_medians.shape == (3, 4) and got.raw.shape == (3,) and got.alphas is None
    for i, x in enumerate(xs):
        alone = feature_predictivity(torch.from_numpy(x), y, splits, n_components=10)
        torch.testing.assert_close(got.per_neuroid[i], alone.per_neuroid, rtol=0, atol=1e-9)
        assert got.raw[i].item() == pytest.approx(alone.raw.item(), abs=1e-9)


def test_a_neuroid_constant_at_an_inexact_value_is_dropped_in_both_pls_forms():
    # 20.02 has no exact binary form: scikit-learn's centring leaves ~1e-13 residue above its 10-eps
    # threshold and fits that noise; brainbench drops the column, which equals scikit-learn with the
    # neuroid at 0.0 (and that neuroid's r is NaN either way).
    x, y = _neural_data(300, 100, 10, seed=7)
    splits = list(ShuffleSplit(10, train_size=0.9, random_state=1).split(np.zeros(300)))
    y[:, 0] = 20.02
    silent = y.copy()
    silent[:, 0] = 0.0
    per_neuroid, medians = _reference(x, silent, splits, _pls)
    for got in (feature_predictivity(torch.from_numpy(x), torch.from_numpy(y), splits),
                cross_validated_predictivity(gram(torch.from_numpy(x), center=True), torch.from_numpy(y), splits)):
        np.testing.assert_allclose(got.per_neuroid.numpy(), per_neuroid, atol=1e-9)
        np.testing.assert_allclose(got.split_medians.numpy(), medians, atol=1e-9)
    one = feature_predictivity(torch.from_numpy(x), torch.from_numpy(y[:, :1]), splits)  # nothing left to fit
    assert torch.isnan(one.per_neuroid).all() and torch.isnan(one.raw)


def test_ridge_predictivity_matches_ridgecv_loop_with_chosen_alphas():
    x, y = _neural_data(150, 300, 6, seed=2)
    splits = list(ShuffleSplit(5, train_size=0.9, random_state=1).split(np.zeros(150)))
    alphas = np.logspace(-1, 6, 15)
    got = cross_validated_predictivity(gram(torch.from_numpy(x)), torch.from_numpy(y), splits, "ridge", alphas=alphas)
    models = []

    def fit_predict(x_tr, y_tr, x_te):
        models.append(RidgeCV(alphas=alphas, alpha_per_target=True, store_cv_results=True).fit(x_tr, y_tr))
        return models[-1].predict(x_te)

    per_neuroid, medians = _reference(x, y, splits, fit_predict)
    np.testing.assert_allclose(got.per_neuroid.numpy(), per_neuroid, atol=1e-9)
    np.testing.assert_allclose(got.split_medians.numpy(), medians, atol=1e-9)
    assert got.alphas.shape == (len(splits), y.shape[1])
    for chosen, model in zip(got.alphas.numpy(), models, strict=True):
        assert_penalties_minimise_loo(chosen, model)
    one = cross_validated_predictivity(
        gram(torch.from_numpy(x)), torch.from_numpy(y), splits, "ridge", alphas=alphas, alpha_per_target=False
    )
    assert all(len(set(row.tolist())) == 1 for row in one.alphas)


def test_predictivity_rejects_bad_inputs():
    x, y = _neural_data(40, 30, 3, seed=3)
    k = gram(torch.from_numpy(x))
    splits = [(np.arange(30), np.arange(30, 40))]
    with pytest.raises(ValueError, match="unknown regression"):
        cross_validated_predictivity(k, torch.from_numpy(y), splits, method="lasso")
    with pytest.raises(ValueError, match="responses"):
        cross_validated_predictivity(k, torch.from_numpy(y[:20]), splits)
    with pytest.raises(ValueError, match="n_components"):
        cross_validated_predictivity(k, torch.from_numpy(y), splits, n_components=31)


def _numpy_consistency(trials: np.ndarray, repetitions: np.ndarray) -> np.ndarray:
    """Split-half consistency by hand: halves of sorted unique repetition values (ShuffleSplit, seed 1),
    nanmean per half, pearsonr per neuroid over stimuli present in both, Spearman–Brown, nanmedian."""
    values = np.unique(repetitions)
    medians = []
    for a, b in ShuffleSplit(10, train_size=0.5, random_state=1).split(np.zeros(len(values))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # mean of an all-NaN slice
            half1 = np.nanmean(trials[np.isin(repetitions, values[a])], axis=0)
            half2 = np.nanmean(trials[np.isin(repetitions, values[b])], axis=0)
        corrected = []
        for j in range(trials.shape[2]):
            ok = ~(np.isnan(half1[:, j]) | np.isnan(half2[:, j]))
            r = _pearson_or_nan(half1[ok, j], half2[ok, j])
            corrected.append(2 * r / (1 + r))
        medians.append(np.nanmedian(corrected))
    return np.array(medians)


def test_internal_consistency_matches_numpy_by_hand():
    rng = np.random.default_rng(4)
    signal = rng.standard_normal((80, 11))
    trials = signal[None] + 1.5 * rng.standard_normal((9, 80, 11))
    trials[:, :, 7] = 1.0  # a constant neuroid: NaN, skipped by the median
    repetitions = np.array([8, 0, 3, 1, 2, 6, 4, 5, 7])  # labels in any order
    got = internal_consistency(torch.from_numpy(trials), repetitions)
    want = _numpy_consistency(trials, repetitions)
    np.testing.assert_allclose(got.split_medians.numpy(), want, atol=1e-12)
    assert got.ceiling == pytest.approx(want.mean(), abs=1e-12)
    assert got.error == pytest.approx(want.std(ddof=0) / np.sqrt(10), abs=1e-12)
    assert got.per_neuroid.shape == (10, 11) and torch.isnan(got.per_neuroid[:, 7]).all()


def test_internal_consistency_with_nan_padded_repetitions():
    rng = np.random.default_rng(5)
    signal = rng.standard_normal((60, 8))
    trials = (signal[None] + rng.standard_normal((6, 60, 8))).astype(np.float32)
    trials[3:, :10] = np.nan  # stimuli 0-9 have only 3 repetitions
    trials[[0, 2, 4], 10:14] = np.nan  # stimuli 10-13 lack repetitions 0, 2 and 4
    trials[1, 20, 2] = np.nan  # one missing trial of one neuroid
    repetitions = np.arange(6)
    got = internal_consistency(torch.from_numpy(trials), repetitions)
    want = _numpy_consistency(trials.astype(np.float64), repetitions)
    np.testing.assert_allclose(got.split_medians.numpy(), want, atol=1e-6)
    assert np.isfinite(got.ceiling)


def test_internal_consistency_needs_two_repetitions():
    trials = torch.randn(3, 20, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="a single repetition: no ceiling"):
        internal_consistency(trials, [1, 1, 1])
    with pytest.raises(ValueError, match="repetition values"):
        internal_consistency(trials, [0, 1])


def test_nanmedian_is_numpys():
    x = np.array([[3.0, np.nan, 1.0, 2.0, 10.0], [np.nan] * 5, [4.0, 1.0, np.nan, np.nan, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmedian(x, axis=1)
    # Exact: every median here is one of the values or the mean of two small integers.
    np.testing.assert_array_equal(nanmedian(torch.from_numpy(x)).numpy(), want)
    np.testing.assert_array_equal(nanmedian(torch.from_numpy(x.T), dim=0).numpy(), want)
