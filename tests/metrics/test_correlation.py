"""Correlations against scipy.stats and brute force."""

from __future__ import annotations

import warnings

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


# ------------------------------------------------------------------------------ pearson's rule for undefined values


def _scipy_r(a: np.ndarray, b: np.ndarray) -> float:
    """scipy.stats.pearsonr's r, NaN where scipy returns NaN (constant input, with a warning) or refuses (n < 2)."""
    if len(a) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConstantInputWarning / NearConstantInputWarning
        return float(scipy.stats.pearsonr(a, b)[0])


def _columns_with_edge_cases() -> tuple[np.ndarray, np.ndarray]:
    """(50, 9) x and y: ordinary, offset, exactly constant, one value one ulp off a constant, 1 ± 1e-14, constants
    that centring does not bring to exactly zero (0.1, 1/3, 1e3 + 0.1), and a y column of zeros."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 9)) * [1, 1, 0, 1e-14, 1, 0, 0, 0, 0] + [0, 5, 7, 1.0, 1e3, 0.1, 1 / 3, 1e3 + 0.1, 0]
    x[:, 4] = 7.0
    x[3, 4] = np.nextafter(7.0, 8.0)  # one value one ulp off a constant: not constant for scipy
    y = rng.standard_normal((50, 9))
    y[:, 0] = 0.0
    return x, y


def test_pearson_undefined_values_are_scipys_for_constant_and_nearly_constant_columns():
    x, y = _columns_with_edge_cases()
    want = np.array([_scipy_r(x[:, j], y[:, j]) for j in range(x.shape[1])])
    # NaN exactly where scipy's constant-input rule says so, including constants whose computed mean is off by an ulp.
    assert np.isnan(want).tolist() == [True, False, True, False, False, True, True, True, True]
    for overwrite in (False, True):
        got = pearson(torch.from_numpy(x.copy()), torch.from_numpy(y.copy()), dim=-2, overwrite=overwrite).numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        # Ordinary columns: float64 rounding of sums over 50 values.
        np.testing.assert_allclose(got[[1, 3]], want[[1, 3]], rtol=1e-12, atol=1e-15)
        # The ulp-off column: one value 8.9e-16 from 49 equal ones; its r depends only on that value and is fixed by
        # the data (the centring is exact there): scipy's to rounding.
        np.testing.assert_allclose(got[4], want[4], rtol=1e-12)
        # Column 3 is 1 ± 1e-14: its mean is known to an ulp (1.1e-16, 1% of the spread) depending on the order of
        # summation, and an ulp of the mean moves r by ~(1%)² = 1e-4 relative (measured 1.1e-4).
        np.testing.assert_allclose(got[3], want[3], rtol=1e-3)


def test_pearson_float32_constants_are_undefined_too():
    x, y = _columns_with_edge_cases()
    got = pearson(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32)), dim=0)
    want = [_scipy_r(x[:, j].astype(np.float32), y[:, j].astype(np.float32)) for j in range(x.shape[1])]
    assert got.dtype == torch.float32
    np.testing.assert_array_equal(np.isnan(got.numpy()), np.isnan(want))
    np.testing.assert_allclose(got.numpy()[1], want[1], atol=1e-6)  # float32 sums of 50 values vs scipy's float32


def test_pearson_nan_among_the_values_gives_nan_as_scipy():
    x, y = RNG.normal(size=(2, 3, 20))
    x[0, 4] = np.nan
    y[2, 7] = np.nan
    got = pearson(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    want = [_scipy_r(x[i], y[i]) for i in range(3)]
    assert np.isnan(got[0]) and np.isnan(got[2]) and np.isnan(want[0]) and np.isnan(want[2])
    assert got[1] == pytest.approx(want[1], abs=1e-12)  # float64 rounding of sums over 20 values


def test_pearson_mask_counts_only_valid_positions_pairwise_complete():
    x, y = RNG.normal(size=(2, 40, 6))
    valid = RNG.random((40, 6)) < 0.7
    valid[:, 3] = False
    valid[[5, 9], 3] = True  # exactly 2 counted values: r = ±1
    valid[:, 4] = False
    valid[8, 4] = True  # 1 counted value: undefined
    x[~valid] = np.nan  # whatever lies outside the mask is ignored, NaN included
    x[:, 5] = np.where(valid[:, 5], 2.5, x[:, 5])  # constant over the counted values only
    y[0, 2] = np.nan
    valid[0, 2] = True  # a NaN inside the mask propagates
    got = pearson(torch.from_numpy(x), torch.from_numpy(y), dim=0, valid=torch.from_numpy(valid)).numpy()
    want = np.array([_scipy_r(x[valid[:, j], j], y[valid[:, j], j]) for j in range(6)])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[[2, 4, 5]]).all() and abs(got[3]) == pytest.approx(1.0, abs=1e-15)
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=1e-12)  # float64 rounding of sums over ≤ 40 values


def test_pearson_of_fewer_than_two_values_is_nan():
    assert torch.isnan(pearson(torch.tensor([1.0]), torch.tensor([2.0])))
    got = pearson(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 1.0]))
    assert got.item() == pytest.approx(_scipy_r(np.array([1.0, 2.0]), np.array([3.0, 1.0])), abs=1e-7)  # float32
