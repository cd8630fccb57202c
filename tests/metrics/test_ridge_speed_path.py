"""Ridge's blocked leave-one-out path (all penalties × targets per matrix product) against independent references.

`kernel_ridge_cv_predict` forms the leave-one-out residuals of many (penalty, target) pairs in one product per
block of ``_LOO_BLOCK_BYTES``; the blocks are shrunk here so that the grid is cut into several uneven blocks, and
the results are checked against scikit-learn's RidgeCV and against a closed form solved per penalty with numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import ShuffleSplit

from brainbench.metrics import regression
from brainbench.metrics.predictivity import layers_predictivity, regression_input
from brainbench.metrics.regression import BRAINSCORE_ALPHAS, gram, kernel_ridge_cv_predict
from tests.metrics.test_predictivity import _neural_data, _reference
from tests.metrics.test_regression import assert_penalties_minimise_loo

GRID = np.asarray(BRAINSCORE_ALPHAS)


def _loo_errors_by_solves(k_train: np.ndarray, y_train: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Mean squared LOO errors (q, alphas) of scikit-learn's ``_RidgeGCV`` scoring, by one dense solve per penalty.

    No eigendecomposition: with Kc the centred training Gram, G = Kc + αI, c = G⁻¹ yc, and
    d = diag(G⁻¹) − (G⁻¹1) / n (the intercept correction), the LOO error is c / d.
    """
    n = k_train.shape[0]
    centre = np.eye(n) - 1.0 / n
    kc = centre @ k_train @ centre
    yc = y_train - y_train.mean(0)
    errors = []
    for alpha in alphas:
        inverse = np.linalg.inv(kc + alpha * np.eye(n))
        d = np.diag(inverse) - inverse.sum(1) / n
        errors.append((((inverse @ yc) / d[:, None]) ** 2).mean(0))
    return np.array(errors).T


@pytest.mark.parametrize("block_bytes", [1, 8 * 3 * 60 * 4 * 7])  # one penalty per block; 7 (99 = 14·7 + 1)
def test_blocked_penalties_match_ridgecv_and_dense_solves(monkeypatch, block_bytes):
    monkeypatch.setattr(regression, "_LOO_BLOCK_BYTES", block_bytes)
    n, n_train, q = 75, 60, 4
    rng = np.random.default_rng(21)
    latent = rng.standard_normal((n, 5))
    y = latent @ rng.standard_normal((5, q)) + rng.standard_normal((n, q))
    y[:, 0] = 3.0  # a silent neuroid: every penalty's LOO error is 0, and ties go to the grid's first
    # Three layers batched: narrower than the training set (rank 20 < 60), wider, and much larger features (big λ,
    # so the best penalties sit high in the grid).
    xs = [latent @ rng.standard_normal((5, p)) * s + rng.standard_normal((n, p)) * s + 2 * s
          for p, s in ((20, 1.0), (200, 1.0), (150, 40.0))]
    grams = [gram(torch.from_numpy(x)) for x in xs]  # uncentred: the solver centres them
    pred, alpha = kernel_ridge_cv_predict(
        torch.stack([k[:n_train, :n_train] for k in grams]), torch.stack([k[n_train:, :n_train] for k in grams]),
        torch.from_numpy(y[:n_train]), GRID,
    )
    assert pred.shape == (3, n - n_train, q) and alpha.shape == (3, q)
    for i, x in enumerate(xs):
        model = RidgeCV(alphas=GRID, alpha_per_target=True, store_cv_results=True).fit(x[:n_train], y[:n_train])
        assert_penalties_minimise_loo(alpha[i].numpy(), model)
        assert np.searchsorted(GRID, alpha[i, 0].item()) == np.searchsorted(GRID, model.alpha_[0]) == 0
        # Same model, two float64 routes (eigendecomposition of X Xᵀ here, scikit-learn's of its own products):
        # 1e-7 relative allows their rounding on these condition numbers and nothing like another penalty.
        np.testing.assert_allclose(pred[i].numpy(), model.predict(x[n_train:]), rtol=1e-7, atol=1e-8)
        errors = _loo_errors_by_solves(grams[i][:n_train, :n_train].numpy(), y[:n_train], GRID)
        picked = errors[np.arange(q), np.searchsorted(GRID, alpha[i].numpy())]
        # A pick may differ from the dense solves' only where two penalties' errors agree to rounding (1e-9, as
        # assert_penalties_minimise_loo); neighbouring penalties of this grid differ far more here.
        np.testing.assert_array_less(picked, errors.min(1) * (1 + 1e-9) + np.finfo(np.float64).tiny)


def test_blocks_and_target_batches_give_one_penalty_for_all(monkeypatch):
    monkeypatch.setattr(regression, "_LOO_BLOCK_BYTES", 8 * 85 * 2 * 5)  # 5 penalties per block of 2 targets
    x, y = _neural_data(100, 150, 11, seed=22)
    k = gram(torch.from_numpy(x), center=True)
    pred, alpha = kernel_ridge_cv_predict(k[:85, :85], k[85:, :85], torch.from_numpy(y[:85]), GRID,
                                          n_targets_batch=2, alpha_per_target=False)
    model = RidgeCV(alphas=GRID, store_cv_results=True).fit(x[:85], y[:85])  # Brain-Score's ridgecv: one alpha
    assert_penalties_minimise_loo(alpha.numpy(), model, per_target=False)
    np.testing.assert_allclose(pred.numpy(), model.predict(x[85:]), rtol=1e-7, atol=1e-8)


def test_layer_selection_path_matches_ridgecv_loop(monkeypatch):
    """What a ridge benchmark's layer selection runs: `regression_input` per layer (a Gram for a layer wider than
    its stimuli, features for a narrower one), `layers_predictivity` over shuffle splits, Brain-Score's grid."""
    monkeypatch.setattr(regression, "_LOO_BLOCK_BYTES", 8 * 2 * 108 * 6 * 9)  # 9 of 99 penalties per block
    x_wide, y = _neural_data(120, 400, 6, seed=23)
    x_narrow, _ = _neural_data(120, 30, 6, seed=24)
    splits = list(ShuffleSplit(4, train_size=0.9, random_state=1).split(np.zeros(120)))
    layers = [regression_input(torch.from_numpy(x)) for x in (x_wide, x_narrow * 20, x_wide[:, ::2])]
    assert [tuple(k.shape) for k in layers] == [(120, 120), (120, 30), (120, 120)]
    got = layers_predictivity(layers, torch.from_numpy(y), splits, method="ridge", alphas=GRID)
    for i, x in enumerate((x_wide, x_narrow * 20, x_wide[:, ::2])):
        models = [RidgeCV(alphas=GRID, alpha_per_target=True, store_cv_results=True).fit(x[a], y[a]) for a, _ in splits]
        fitted = iter(models)  # _reference calls back once per split, in order
        per_neuroid, medians = _reference(x, y, splits, lambda _x, _y, x_te, it=fitted: next(it).predict(x_te))
        # Pearson r of predictions that agree to ~1e-9 relative (see above): 1e-9 absolute.
        np.testing.assert_allclose(got.per_neuroid[i].numpy(), per_neuroid, atol=1e-9)
        np.testing.assert_allclose(got.split_medians[i].numpy(), medians, atol=1e-9)
        for chosen, model in zip(got.alphas[i].numpy(), models, strict=True):
            assert_penalties_minimise_loo(chosen, model)
