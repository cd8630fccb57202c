"""RDMs against scipy.spatial.distance and scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.spatial.distance import pdist, squareform

from brainbench.metrics import compare_rdms, kendall_tau_a, rdm, subset, upper_triangle

RNG = np.random.default_rng(1)


def random_rdms(*batch: int, n: int = 12) -> np.ndarray:
    """Correlation-distance RDMs of random responses, shaped (*batch, n, n)."""
    responses = RNG.normal(size=(int(np.prod(batch)), n, 30))
    return np.stack([squareform(pdist(r, "correlation")) for r in responses]).reshape(*batch, n, n)


def test_rdm_matches_pdist_correlation():
    x = RNG.normal(size=(15, 80))
    got = rdm(torch.from_numpy(x))
    np.testing.assert_allclose(got.numpy(), squareform(pdist(x, "correlation")), atol=1e-12)
    assert torch.equal(got, got.mT) and torch.all(got.diagonal() == 0)  # exact: (r + rᵀ)/2, diagonal set to 0


def test_rdm_batched():
    x = RNG.normal(size=(2, 3, 10, 20))
    got = rdm(torch.from_numpy(x))
    assert got.shape == (2, 3, 10, 10)
    np.testing.assert_allclose(got[1, 2].numpy(), squareform(pdist(x[1, 2], "correlation")), atol=1e-12)


def test_rdm_float32_many_features():
    x = (RNG.normal(size=(8, 100_000)) + 5 * RNG.normal(size=(1, 100_000))).astype(np.float32)
    got = rdm(torch.from_numpy(x))
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), squareform(pdist(x.astype(np.float64), "correlation")), atol=1e-5)


def test_upper_triangle_order_is_squareform():
    square = squareform(RNG.random(10 * 9 // 2))
    got = upper_triangle(torch.from_numpy(np.stack([square, 2 * square])))  # a gather: exact
    np.testing.assert_array_equal(got.numpy(), [squareform(square), squareform(2 * square)])


def test_upper_triangle_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        upper_triangle(torch.zeros(3, 4))


def test_subset_selects_rows_and_columns_in_order():
    square = random_rdms(2)
    index = torch.tensor([7, 2, 5])
    got = subset(torch.from_numpy(square), index)
    np.testing.assert_array_equal(got.numpy(), square[:, [7, 2, 5]][:, :, [7, 2, 5]])


@pytest.mark.parametrize(
    ("method", "reference"),
    [
        ("spearman", lambda a, b: scipy.stats.spearmanr(a, b)[0]),
        ("pearson", lambda a, b: scipy.stats.pearsonr(a, b)[0]),
        ("kendall_tau_a", lambda a, b: scipy.stats.kendalltau(a, b)[0]),  # no ties: τa == τb
    ],
)
def test_compare_rdms_broadcasts_batch_against_single(method, reference):
    subjects, model = random_rdms(4), random_rdms()
    got = compare_rdms(torch.from_numpy(subjects), torch.from_numpy(model), method)
    assert got.shape == (4,)
    want = [reference(squareform(s, checks=False), squareform(model, checks=False)) for s in subjects]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


def test_compare_rdms_batch_against_batch_shapes():
    a, b = torch.from_numpy(random_rdms(3, 1)), torch.from_numpy(random_rdms(1, 5))
    assert compare_rdms(a, b).shape == (3, 5)
    assert compare_rdms(a, b, "pearson").shape == (3, 5)
    assert compare_rdms(a, b, "kendall_tau_a").shape == (3, 5)


def test_compare_rdms_kendall_counts_ties_as_neither():
    a = torch.tensor([[0.0, 1, 1], [1, 0, 2], [1, 2, 0]])  # triangle (1, 1, 2)
    b = torch.tensor([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]])  # triangle (1, 2, 3)
    # float32 (these are float32 tensors): a few of its ulps.
    assert compare_rdms(a, b, "kendall_tau_a").item() == pytest.approx(2 / 3, abs=1e-6)
    assert kendall_tau_a(upper_triangle(a), upper_triangle(b)).item() == pytest.approx(2 / 3, abs=1e-6)


def test_compare_rdms_unknown_method_lists_methods():
    with pytest.raises(ValueError, match="spearman, kendall_tau_a, pearson"):
        compare_rdms(torch.zeros(3, 3), torch.zeros(3, 3), "cosine")
