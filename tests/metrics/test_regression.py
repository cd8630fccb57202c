"""Kernel PLS and ridge against scikit-learn's PLSRegression and RidgeCV fitted on the features."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats
import torch
from sklearn.cross_decomposition import PLSRegression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV

from brainbench.metrics.regression import (
    BRAINSCORE_ALPHAS,
    DEFAULT_ALPHAS,
    gram,
    kernel_pls_predict,
    kernel_ridge_cv_predict,
    pls_predict,
)


def _data(n: int, p: int, q: int, seed: int, offset: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets sharing a 6-d latent, plus noise; features with a common offset."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 6))
    x = latent @ rng.standard_normal((6, p)) + rng.standard_normal((n, p)) + offset
    y = latent @ rng.standard_normal((6, q)) + rng.standard_normal((n, q))
    return x, y


def _sklearn_pls(x_tr, y_tr, x_te, n_components=25, **kwargs) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = PLSRegression(n_components=n_components, scale=False, **kwargs).fit(x_tr, y_tr)
    return model.predict(x_te)


def _grams(x: np.ndarray, n_train: int) -> tuple[torch.Tensor, torch.Tensor]:
    k = gram(torch.from_numpy(x))
    return k[:n_train, :n_train], k[n_train:, :n_train]


def _median_r(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.nanmedian([scipy.stats.pearsonr(y[:, j], pred[:, j])[0] for j in range(y.shape[1])]))


def assert_penalties_minimise_loo(chosen: np.ndarray, model: RidgeCV, per_target: bool = True) -> None:
    """Each chosen penalty minimises `model`'s mean squared leave-one-out error (fitted with store_cv_results=True).

    Two decompositions give these errors to ~1e-11 relative (measured between scikit-learn's own 'svd' and 'eigen'
    modes), so a pick may differ from scikit-learn's only where its best two penalties are within rounding; 1e-9
    allows that and nothing more (neighbouring penalties of these grids differ by ≥ 8e-6 here). Elsewhere the
    picks must be the same grid value.
    """
    errors = model.cv_results_.reshape(model.cv_results_.shape[0], -1, len(model.alphas)).mean(0)  # (q, alphas)
    chosen = np.asarray(chosen, dtype=np.float64).reshape(-1)
    if not per_target:
        assert len(set(chosen.tolist())) == 1  # one penalty for all targets
        errors, chosen = errors.mean(0, keepdims=True), chosen[:1]
    index = [int(np.flatnonzero(np.asarray(model.alphas) == a)[0]) for a in chosen]  # grid values, copied exactly
    picked = errors[np.arange(len(index)), index]
    np.testing.assert_array_less(picked, errors.min(-1) * (1 + 1e-9) + np.finfo(np.float64).tiny)


def test_gram_matches_xxt_in_chunks_centred_or_not():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 3, 5, 4)) + 2  # (n, …) is flattened
    flat = x.reshape(7, -1)
    got = gram(torch.from_numpy(x), chunk_features=7)
    assert got.dtype == torch.float64 and got.shape == (7, 7)
    np.testing.assert_allclose(got.numpy(), flat @ flat.T, rtol=1e-12)
    centred = flat - flat.mean(0)
    np.testing.assert_allclose(gram(torch.from_numpy(x), 11, center=True).numpy(), centred @ centred.T, atol=1e-10)
    got32 = gram(torch.from_numpy(x.astype(np.float32)), chunk_features=16)
    np.testing.assert_allclose(got32.numpy(), flat @ flat.T, rtol=1e-5)
    # Enough stimuli for the block-triangular product (blocks below the diagonal are mirrored).
    wide = rng.standard_normal((301, 40))
    blocked = gram(torch.from_numpy(wide), chunk_features=15)
    np.testing.assert_allclose(blocked.numpy(), wide @ wide.T, rtol=1e-12, atol=1e-12)
    assert torch.equal(blocked, blocked.T)  # exact by construction: mirrored blocks, (B + Bᵀ)/2 on the diagonal


@pytest.mark.parametrize(("n", "p", "q"), [(150, 40, 9), (90, 400, 9), (80, 300, 1), (60, 2000, 30)])
def test_kernel_pls_equals_sklearn_plsregression(n, p, q):
    x, y = _data(n, p, q, seed=n + p)
    n_train = int(0.85 * n)
    want = _sklearn_pls(x[:n_train], y[:n_train], x[n_train:])
    got = kernel_pls_predict(*_grams(x, n_train), torch.from_numpy(y[:n_train]))
    assert got.dtype == torch.float64 and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-7, atol=1e-7 * np.abs(want).max())
    assert abs(_median_r(got.numpy(), y[n_train:]) - _median_r(want, y[n_train:])) < 1e-9


def test_kernel_pls_follows_the_power_method_iteration_by_iteration():
    # A loose tolerance and an iteration cap stop scikit-learn's power method early: the answer then
    # depends on exactly which iterate it returns, not only on the dominant singular vector.
    x, y = _data(100, 60, 12, seed=3)
    for kwargs in ({"max_iter": 2}, {"max_iter": 3}, {"tol": 1e-2}):
        want = _sklearn_pls(x[:85], y[:85], x[85:], n_components=6, **kwargs)
        got = kernel_pls_predict(*_grams(x, 85), torch.from_numpy(y[:85]), n_components=6, **kwargs)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-8, atol=1e-8)
    converged = _sklearn_pls(x[:85], y[:85], x[85:], n_components=6)
    capped = kernel_pls_predict(*_grams(x, 85), torch.from_numpy(y[:85]), n_components=6, max_iter=2)
    assert np.abs(capped.numpy() - converged).max() > 1e-4  # the check above could tell the iterates apart


def test_kernel_pls_zeroes_a_constant_target_like_sklearn():
    x, y = _data(120, 50, 6, seed=4)
    y[:, 0] = 2.5  # constant: zero after centring; scikit-learn starts its power method on column 1
    want = _sklearn_pls(x[:100], y[:100], x[100:], n_components=10)
    got = kernel_pls_predict(*_grams(x, 100), torch.from_numpy(y[:100]), n_components=10)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-8, atol=1e-8)


def test_pls_predict_from_features_and_float32_input():
    x, y = _data(140, 300, 8, seed=5)
    want = _sklearn_pls(x[:120], y[:120], x[120:])
    got = pls_predict(torch.from_numpy(x[:120]), torch.from_numpy(y[:120]), torch.from_numpy(x[120:]))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-7, atol=1e-7)
    # float32 features and targets, Gram accumulated from float32 chunks: close, not identical.
    x32 = torch.from_numpy(x.astype(np.float32))
    k = gram(x32, chunk_features=128, center=True)
    got32 = kernel_pls_predict(k[:120, :120], k[120:, :120], torch.from_numpy(y[:120].astype(np.float32)))
    assert got32.dtype == torch.float64
    assert abs(_median_r(got32.numpy(), y[120:]) - _median_r(want, y[120:])) < 1e-3
    np.testing.assert_allclose(got32.numpy(), want, atol=1e-2 * np.abs(want).max())


@pytest.mark.parametrize(("n", "p", "q"), [(150, 40, 9), (90, 400, 9), (80, 300, 1), (200, 25, 30)])
def test_feature_space_pls_equals_sklearn_plsregression(n, p, q):
    x, y = _data(n, p, q, seed=20 + n + p)
    n_train = int(0.85 * n)
    want = _sklearn_pls(x[:n_train], y[:n_train], x[n_train:])
    y_train = torch.from_numpy(y[:n_train] if q > 1 else y[:n_train, 0])
    got = pls_predict(torch.from_numpy(x[:n_train]), y_train, torch.from_numpy(x[n_train:]))
    assert got.dtype == torch.float64 and got.shape == (want.shape if q > 1 else want.shape[:1])
    np.testing.assert_allclose(got.numpy().reshape(want.shape), want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_feature_space_pls_early_stops_constant_targets_and_near_fits():
    x, y = _data(100, 60, 12, seed=3)
    for kwargs in ({"max_iter": 2}, {"max_iter": 3}, {"tol": 1e-2}):
        want = _sklearn_pls(x[:85], y[:85], x[85:], n_components=6, **kwargs)
        got = pls_predict(torch.from_numpy(x[:85]), torch.from_numpy(y[:85]), torch.from_numpy(x[85:]), 6, **kwargs)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
    y[:, 0] = 2.5  # zero after centring: dropped, the power method starts on column 1
    want = _sklearn_pls(x[:85], y[:85], x[85:], n_components=10)
    got = pls_predict(torch.from_numpy(x[:85]), torch.from_numpy(y[:85]), torch.from_numpy(x[85:]), 10)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
    # p ≫ n, 20 components on 50 stimuli: M shrinks by ~1e-14 and is recomputed from Sₖ.
    # (Without the recomputation the error here is ~3e-10 of the largest prediction.)
    x, y = _data(60, 3000, 2, seed=16, offset=0.0)
    want = _sklearn_pls(x[:50], y[:50], x[50:], n_components=20)
    got = pls_predict(torch.from_numpy(x[:50]), torch.from_numpy(y[:50]), torch.from_numpy(x[50:]), 20)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-11, atol=1e-11 * np.abs(want).max())


def test_power_method_fallback_normalising_every_iterate_gives_the_same_stops(monkeypatch):
    # Every chunk is redone on the normalised path when no squared norm counts as safe.
    import brainbench.metrics.regression as regression

    monkeypatch.setattr(regression, "_SAFE_MIN", 2.0)
    x, y = _data(100, 60, 12, seed=3)
    for kwargs in ({}, {"max_iter": 3}, {"tol": 1e-2}):
        want = _sklearn_pls(x[:85], y[:85], x[85:], n_components=6, **kwargs)
        got = pls_predict(torch.from_numpy(x[:85]), torch.from_numpy(y[:85]), torch.from_numpy(x[85:]), 6, **kwargs)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)
        got = kernel_pls_predict(*_grams(x, 85), torch.from_numpy(y[:85]), n_components=6, **kwargs)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-8, atol=1e-8)


def test_pls_with_every_target_constant_predicts_the_training_mean_like_sklearn():
    x, _ = _data(60, 20, 3, seed=17)
    # Exact constants: scikit-learn finds no target left and stops. Inexact ones (20.02, 0.1): it
    # iterates on rounding residue, then predicts the mean all the same.
    for constants in ([2.5, -3.0, 0.0], [20.02, -3.0, 0.1]):
        y = np.tile(constants, (60, 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            want = _sklearn_pls(x[:50], y[:50], x[50:], n_components=5)
        got = pls_predict(torch.from_numpy(x[:50]), torch.from_numpy(y[:50]), torch.from_numpy(x[50:]), 5)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
        got = kernel_pls_predict(*_grams(x, 50), torch.from_numpy(y[:50]), n_components=5)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_kernel_pls_batches_leading_dims_and_shared_targets():
    x1, y = _data(100, 80, 5, seed=6)
    x2, _ = _data(100, 200, 5, seed=7)
    splits = [np.arange(85), np.random.default_rng(0).permutation(100)[:85]]
    k_tr, k_te, y_tr, want = [], [], [], []
    for x in (x1, x2):
        rows_tr, rows_te = [], []
        for train in splits:
            test = np.setdiff1d(np.arange(100), train)
            k = gram(torch.from_numpy(x))
            rows_tr.append(k[train][:, train])
            rows_te.append(k[test][:, train])
            want.append(_sklearn_pls(x[train], y[train], x[test], n_components=12))
        k_tr.append(torch.stack(rows_tr))
        k_te.append(torch.stack(rows_te))
    y_tr = torch.stack([torch.from_numpy(y[train]) for train in splits])  # (splits, n_tr, q) broadcast over layers
    got = kernel_pls_predict(torch.stack(k_tr), torch.stack(k_te), y_tr, n_components=12)
    assert got.shape == (2, 2, 15, 5)
    np.testing.assert_allclose(got.reshape(4, 15, 5).numpy(), np.stack(want), rtol=1e-7, atol=1e-7)
    # One target vector, shared by a batch of grams.
    shared = kernel_pls_predict(torch.stack(k_tr)[:, 0], torch.stack(k_te)[:, 0], torch.from_numpy(y[:85, 2]), 12)
    assert shared.shape == (2, 15)
    np.testing.assert_allclose(shared[0].numpy(), _sklearn_pls(x1[:85], y[:85, 2], x1[85:], 12), rtol=1e-7, atol=1e-7)


def test_pls_component_bounds():
    x, y = _data(30, 10, 2, seed=8)
    with pytest.raises(ValueError, match="n_components"):
        pls_predict(torch.from_numpy(x[:20]), torch.from_numpy(y[:20]), torch.from_numpy(x[20:]), n_components=11)
    k_tr, k_te = _grams(x, 20)
    with pytest.raises(ValueError, match="n_components"):
        kernel_pls_predict(k_tr, k_te, torch.from_numpy(y[:20]), n_components=21)


ALPHAS = np.logspace(-2, 6, 17)


@pytest.mark.parametrize(("n", "p", "q"), [(120, 30, 7), (90, 500, 7), (70, 200, 1)])
def test_kernel_ridge_equals_sklearn_ridgecv_per_target(n, p, q):
    x, y = _data(n, p, q, seed=10 + n)
    n_train = n - 15
    model = RidgeCV(alphas=ALPHAS, alpha_per_target=True, store_cv_results=True).fit(x[:n_train], y[:n_train])
    y_tr = torch.from_numpy(y[:n_train] if q > 1 else y[:n_train, 0])
    pred, alpha = kernel_ridge_cv_predict(*_grams(x, n_train), y_tr, ALPHAS)
    assert alpha.shape == ((q,) if q > 1 else ())
    assert_penalties_minimise_loo(alpha.numpy(), model)
    want = model.predict(x[n_train:])
    np.testing.assert_allclose(pred.numpy(), want if q > 1 else want.ravel(), rtol=1e-7, atol=1e-8)


def test_kernel_ridge_one_alpha_for_all_targets():
    x, y = _data(100, 150, 11, seed=11)
    model = RidgeCV(alphas=ALPHAS, store_cv_results=True).fit(x[:85], y[:85])  # Brain-Score's ridgecv: one alpha
    pred, alpha = kernel_ridge_cv_predict(*_grams(x, 85), torch.from_numpy(y[:85]), ALPHAS, alpha_per_target=False)
    assert_penalties_minimise_loo(alpha.numpy(), model, per_target=False)
    np.testing.assert_allclose(pred.numpy(), model.predict(x[85:]), rtol=1e-7, atol=1e-8)


def test_kernel_ridge_is_invariant_to_the_target_batch_size():
    """A determinism check: batches of targets give what one batch gives. The solver itself is checked against
    scikit-learn's RidgeCV in test_kernel_ridge_equals_sklearn_ridgecv_per_target (and the chosen penalties below)."""
    x, y = _data(100, 150, 11, seed=11)
    whole = kernel_ridge_cv_predict(*_grams(x, 85), torch.from_numpy(y[:85]), ALPHAS)
    batched = kernel_ridge_cv_predict(*_grams(x, 85), torch.from_numpy(y[:85]), ALPHAS, n_targets_batch=3)
    # The same arithmetic per target on other matrix shapes (BLAS may block the products differently): rounding.
    torch.testing.assert_close(whole[0], batched[0], rtol=1e-12, atol=1e-12 * whole[0].abs().max().item())
    per_target = RidgeCV(alphas=ALPHAS, alpha_per_target=True, store_cv_results=True).fit(x[:85], y[:85])
    assert_penalties_minimise_loo(whole[1].numpy(), per_target)
    assert_penalties_minimise_loo(batched[1].numpy(), per_target)


# Brain-Score 2.4.2's ridge grid (brainscore_vision/metrics/regression_correlation/metric.py, ALPHA_LIST), its
# linspace calls written out: 0.01, 0.1, 0.5, 1; 10 to 100 in steps of 22.5; then per decade 18 steps of half the
# decade's start (100, 150, …, 950; 1000, 1500, …); 1e6 to 1e7 in 19 values (steps of 5e5, 1e7 included).
PUBLISHED_ALPHAS = (
    0.01, 0.1, 0.5, 1.0, 10.0, 32.5, 55.0, 77.5,
    *(float(a) for decade in (100, 1_000, 10_000, 100_000) for a in range(decade, 10 * decade, decade // 2)),
    *(float(a) for a in range(1_000_000, 10_000_001, 500_000)),
)


def test_kernel_ridge_batched_and_default_grid():
    # Exact: every value is an integer or a short binary fraction (x.5, x.25), which linspace's start + i·step hits
    # exactly, so the grid equals the published values bit for bit.
    assert len(PUBLISHED_ALPHAS) == 99
    assert BRAINSCORE_ALPHAS == PUBLISHED_ALPHAS and DEFAULT_ALPHAS == PUBLISHED_ALPHAS
    x1, y = _data(80, 60, 4, seed=12)
    x2, _ = _data(80, 300, 4, seed=13)
    (a1, b1), (a2, b2) = _grams(x1 * 30, 70), _grams(x2 * 30, 70)  # large features: big alphas matter
    pred, alpha = kernel_ridge_cv_predict(torch.stack([a1, a2]), torch.stack([b1, b2]), torch.from_numpy(y[:70]))
    for i, x in enumerate((x1 * 30, x2 * 30)):
        model = RidgeCV(alphas=BRAINSCORE_ALPHAS, alpha_per_target=True, store_cv_results=True).fit(x[:70], y[:70])
        assert_penalties_minimise_loo(alpha[i].numpy(), model)
        np.testing.assert_allclose(pred[i].numpy(), model.predict(x[70:]), rtol=1e-7, atol=1e-8)


def test_kernel_ridge_rejects_bad_grids():
    x, y = _data(20, 5, 2, seed=14)
    with pytest.raises(ValueError, match="positive"):
        kernel_ridge_cv_predict(*_grams(x, 15), torch.from_numpy(y[:15]), [1.0, 0.0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    x, y = _data(200, 700, 20, seed=15)
    k_tr, k_te = _grams(x, 170)
    y_tr = torch.from_numpy(y[:170])
    cpu = kernel_pls_predict(k_tr, k_te, y_tr)
    gpu = kernel_pls_predict(k_tr.cuda(), k_te.cuda(), y_tr.cuda())
    assert gpu.is_cuda
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-7, atol=1e-7)
    x_tr, x_te = torch.from_numpy(x[:170]), torch.from_numpy(x[170:])
    features_gpu = pls_predict(x_tr.cuda(), y_tr.cuda(), x_te.cuda())
    assert features_gpu.is_cuda
    torch.testing.assert_close(features_gpu.cpu(), pls_predict(x_tr, y_tr, x_te), rtol=1e-7, atol=1e-7)
    pred_cpu, alpha_cpu = kernel_ridge_cv_predict(k_tr, k_te, y_tr, ALPHAS)
    pred_gpu, alpha_gpu = kernel_ridge_cv_predict(k_tr.cuda(), k_te.cuda(), y_tr.cuda(), ALPHAS)
    torch.testing.assert_close(pred_gpu.cpu(), pred_cpu, rtol=1e-7, atol=1e-7)
    reference = RidgeCV(alphas=ALPHAS, alpha_per_target=True, store_cv_results=True).fit(x[:170], y[:170])
    assert_penalties_minimise_loo(alpha_gpu.cpu().numpy(), reference)
    assert_penalties_minimise_loo(alpha_cpu.numpy(), reference)
    torch.testing.assert_close(gram(torch.from_numpy(x).float().cuda()).cpu(), gram(torch.from_numpy(x).float()),
                               rtol=1e-5, atol=1e-3)


def test_kernel_pls_stays_exact_when_the_targets_are_nearly_fitted(monkeypatch):
    # p ≫ n: 20 components fit the 50 training targets to ~1e-7, so Yₖᵀ K Yₖ shrinks by ~1e-14 and is
    # recomputed rather than updated. (Pushed further, to a fit at rounding level, both scikit-learn and
    # this code follow rounding noise and no longer agree.)
    import brainbench.metrics.regression as regression

    calls = []
    original = regression._recompute_m
    monkeypatch.setattr(regression, "_recompute_m", lambda *args: calls.append(1) or original(*args))
    x, y = _data(60, 3000, 2, seed=16, offset=0.0)
    want = _sklearn_pls(x[:50], y[:50], x[50:], n_components=20)
    got = kernel_pls_predict(*_grams(x, 50), torch.from_numpy(y[:50]), n_components=20)
    assert calls  # the recomputation was needed
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-8, atol=1e-8 * np.abs(want).max())
