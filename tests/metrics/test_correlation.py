"""Correlations against scipy.stats and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch

from brainbench.metrics import correlation
from brainbench.metrics.correlation import kendall_tau_a, pearson, rankdata, spearman

RNG = np.random.default_rng(0)


def brute_tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """(concordant − discordant) / (n(n−1)/2) by a double loop over pairs."""
    n = len(x)
    score = 0
    for i in range(n):
        for j in range(i + 1, n):
            score += np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
    return score / (n * (n - 1) / 2)


def test_pearson_matches_scipy_batched_and_broadcast():
    x = RNG.normal(size=(3, 1, 40))
    y = RNG.normal(size=(1, 4, 40)) + x[:1]
    got = pearson(torch.from_numpy(x), torch.from_numpy(y))
    assert got.shape == (3, 4) and got.dtype == torch.float64
    for i in range(3):
        for j in range(4):
            assert got[i, j].item() == pytest.approx(scipy.stats.pearsonr(x[i, 0], y[0, j])[0], abs=1e-12)


def test_pearson_along_first_dim():
    x, y = RNG.normal(size=(2, 30, 5))
    got = pearson(torch.from_numpy(x), torch.from_numpy(y), dim=0)
    want = [scipy.stats.pearsonr(x[:, k], y[:, k])[0] for k in range(5)]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


def test_rankdata_matches_scipy_with_many_ties():
    x = RNG.integers(0, 5, size=(6, 7, 50)).astype(float)
    for dim in (0, 1, -1):
        got = rankdata(torch.from_numpy(x), dim=dim)
        # Exact: average ranks are halves of integer sums, exactly representable.
        np.testing.assert_array_equal(got.numpy(), scipy.stats.rankdata(x, method="average", axis=dim))


def test_rankdata_all_tied_and_integer_input():
    got = rankdata(torch.tensor([[3, 3, 3, 3], [4, 1, 4, 2]]))
    assert got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), [[2.5, 2.5, 2.5, 2.5], [3.5, 1, 3.5, 2]])


def test_rankdata_nan_propagates_per_slice():
    got = rankdata(torch.tensor([[1.0, float("nan"), 2.0], [3.0, 1.0, 2.0]]))
    assert torch.isnan(got[0]).all()
    np.testing.assert_array_equal(got[1].numpy(), [3, 1, 2])


def test_spearman_matches_scipy_with_ties_batched():
    x = RNG.integers(0, 6, size=(5, 60)).astype(float)
    y = x + RNG.integers(0, 4, size=(5, 60))
    got = spearman(torch.from_numpy(x), torch.from_numpy(y))
    want = [scipy.stats.spearmanr(x[i], y[i])[0] for i in range(5)]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


def test_spearman_float32():
    x = RNG.normal(size=(4, 200)).astype(np.float32)
    y = (x + RNG.normal(size=(4, 200))).astype(np.float32)
    got = spearman(torch.from_numpy(x), torch.from_numpy(y))
    assert got.dtype == torch.float32
    want = [scipy.stats.spearmanr(x[i], y[i])[0] for i in range(4)]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


@pytest.mark.parametrize("chunk", [correlation._CHUNK_ELEMENTS, 7])
def test_kendall_tau_a_matches_brute_force_with_ties(monkeypatch, chunk):
    monkeypatch.setattr(correlation, "_CHUNK_ELEMENTS", chunk)
    x = RNG.integers(0, 4, size=(3, 25)).astype(float)
    y = RNG.integers(0, 4, size=(3, 25)).astype(float) + x
    got = kendall_tau_a(torch.from_numpy(x), torch.from_numpy(y))
    assert got.shape == (3,)
    np.testing.assert_allclose(got.numpy(), [brute_tau_a(x[i], y[i]) for i in range(3)], atol=1e-12)


def test_kendall_tau_a_broadcasts_leading_dims():
    x = RNG.normal(size=(30,))
    y = RNG.normal(size=(2, 30))
    got = kendall_tau_a(torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_allclose(got.numpy(), [brute_tau_a(x, y[i]) for i in range(2)], atol=1e-12)


def test_kendall_tau_a_equals_scipy_tau_b_without_ties():
    x = RNG.permutation(40).astype(float)
    y = x + RNG.normal(scale=10, size=40)
    got = kendall_tau_a(torch.from_numpy(x), torch.from_numpy(y)).item()
    assert got == pytest.approx(scipy.stats.kendalltau(x, y)[0], abs=1e-12)


def test_kendall_tau_a_long_vector_in_chunks():
    n = 3000
    assert n * n > correlation._CHUNK_ELEMENTS  # several blocks of rows
    x = RNG.normal(size=n)
    y = x + RNG.normal(size=n)
    got = kendall_tau_a(torch.from_numpy(x), torch.from_numpy(y)).item()
    assert got == pytest.approx(scipy.stats.kendalltau(x, y)[0], abs=1e-12)


def test_kendall_tau_a_float32():
    x = RNG.permutation(500).astype(np.float32)
    y = (x + RNG.normal(scale=100, size=500)).astype(np.float32)
    got = kendall_tau_a(torch.from_numpy(x), torch.from_numpy(y))
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(scipy.stats.kendalltau(x, y)[0], abs=1e-6)
