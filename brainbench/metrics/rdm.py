"""Representational dissimilarity matrices (RDMs): building, slicing and comparing them."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from brainbench.metrics.correlation import _as_float, kendall_tau_a, pearson, spearman

_COMPARISONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "spearman": spearman,
    "kendall_tau_a": kendall_tau_a,
    "pearson": pearson,
}
METHODS: tuple[str, ...] = tuple(_COMPARISONS)
"""Names accepted by `compare_rdms`, `compare_vectors` and the noise ceiling."""


def rdm(responses: Tensor) -> Tensor:
    """Correlation-distance RDM: 1 − Pearson r between the stimuli's response vectors.

    responses: (..., n_stimuli, n_features). Returns (..., n_stimuli, n_stimuli), symmetric,
    values in [0, 2], zero diagonal. Holds one centred copy of `responses` and no n_features² temporary.
    A stimulus with constant responses gets NaN distances (as scipy's pdist 'correlation').
    """
    x = _as_float(responses)
    centred = x - x.mean(-1, keepdim=True)
    centred /= torch.linalg.vector_norm(centred, dim=-1, keepdim=True)
    r = centred @ centred.mT
    distance = 1.0 - ((r + r.mT) / 2).clamp(-1.0, 1.0)
    distance.diagonal(dim1=-2, dim2=-1).zero_()
    return distance


def upper_triangle(rdm: Tensor) -> Tensor:
    """Strict upper triangle of square matrices, row by row (the order of scipy's squareform).

    rdm: (..., n, n). Returns (..., n(n−1)/2).
    """
    n = rdm.shape[-1]
    if rdm.ndim < 2 or rdm.shape[-2] != n:
        raise ValueError(f"expected square matrices (..., n, n), got shape {tuple(rdm.shape)}")
    rows, cols = torch.triu_indices(n, n, offset=1, device=rdm.device)
    # One gather over the flattened matrix is several times faster than 2-D advanced indexing.
    return rdm.flatten(-2).index_select(-1, rows * n + cols)


def compare_vectors(a: Tensor, b: Tensor, method: str = "spearman") -> Tensor:
    """Similarity of RDM vectors `a` and `b` (..., m) by `method` (one of METHODS), broadcast to (...)."""
    if method not in _COMPARISONS:
        raise ValueError(f"unknown RDM comparison method '{method}'; choose one of {', '.join(METHODS)}")
    return _COMPARISONS[method](a, b)


def compare_rdms(a: Tensor, b: Tensor, method: str = "spearman") -> Tensor:
    """Similarity of square RDMs by their upper triangles: Spearman ρ, Kendall τa or Pearson r.

    a, b: broadcastable (..., n, n), e.g. (s, n, n) against (n, n). Returns the broadcast shape (...).
    """
    return compare_vectors(upper_triangle(a), upper_triangle(b), method)


def subset(rdm: Tensor, index: Tensor) -> Tensor:
    """The sub-RDM over the stimuli `index` (1-D LongTensor on `rdm`'s device), in that order.

    rdm: (..., n, n). Returns (..., k, k) for k indices.
    """
    return rdm.index_select(-2, index).index_select(-1, index)
