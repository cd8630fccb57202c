"""Correlation coefficients on torch tensors, batched along one dimension.

Inputs may be any dtype on any device; they are computed and returned in at least float32
(float64 stays float64). NaNs propagate: a slice containing a NaN gives NaN, and a constant slice
gives NaN for Pearson and Spearman, as in scipy.stats.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# Sign products held at once by kendall_tau_a (two float64 temporaries of this many elements ≈ 64 MB).
_CHUNK_ELEMENTS = 2**22


def _as_float(x: Tensor) -> Tensor:
    """`x` as float32 or float64 (half precision and integers are promoted to float32)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def pearson(x: Tensor, y: Tensor, dim: int = -1) -> Tensor:
    """Pearson r between `x` and `y` along `dim`, broadcasting over the other dims.

    x, y: broadcastable shapes with equal size n ≥ 2 along `dim`.
    Returns the broadcast shape without `dim`, values in [-1, 1].
    """
    dtype = torch.promote_types(_as_float(x).dtype, _as_float(y).dtype)
    # Centre and normalise each input at its own shape; only the final product broadcasts.
    xc = x.to(dtype) - x.to(dtype).mean(dim, keepdim=True)
    yc = y.to(dtype) - y.to(dtype).mean(dim, keepdim=True)
    xc = xc / torch.linalg.vector_norm(xc, dim=dim, keepdim=True)
    yc = yc / torch.linalg.vector_norm(yc, dim=dim, keepdim=True)
    return (xc * yc).sum(dim).clamp(-1.0, 1.0)


def rankdata(x: Tensor, dim: int = -1) -> Tensor:
    """Ranks 1..n of `x` along `dim`, ties given their average rank (scipy.stats.rankdata 'average').

    Returns the shape of `x`; a slice containing NaN is all NaN (scipy's nan_policy='propagate').
    """
    x = _as_float(x).movedim(dim, -1)
    n = x.shape[-1]
    sorted_x, order = torch.sort(x, dim=-1)
    position = torch.arange(n, device=x.device).expand_as(order)
    differs = sorted_x[..., 1:] != sorted_x[..., :-1]
    is_first = torch.cat([torch.ones_like(differs[..., :1]), differs], dim=-1)
    is_last = torch.cat([differs, torch.ones_like(differs[..., :1])], dim=-1)
    first = torch.where(is_first, position, 0).cummax(-1).values
    last = torch.where(is_last, position, n - 1).flip(-1).cummin(-1).values.flip(-1)
    average = (first + last).to(x.dtype) / 2 + 1
    ranks = torch.empty_like(x).scatter_(-1, order, average)
    ranks = ranks.masked_fill(torch.isnan(x).any(-1, keepdim=True), float("nan"))
    return ranks.movedim(-1, dim)


def spearman(x: Tensor, y: Tensor, dim: int = -1) -> Tensor:
    """Spearman ρ (Pearson r of average ranks) along `dim`, broadcasting over the other dims."""
    return pearson(rankdata(x, dim), rankdata(y, dim), dim)


def kendall_tau_a(x: Tensor, y: Tensor) -> Tensor:
    """Kendall's τa = (concordant − discordant) / (n(n−1)/2) along the last dim; tied pairs count as neither.

    x, y: broadcastable shapes (..., n). Returns the broadcast leading shape (...).
    Pairs are visited in blocks of rows, so temporaries stay near 64 MB whatever n (O(n²) time).
    """
    x, y = torch.broadcast_tensors(_as_float(x), _as_float(y))
    dtype = torch.promote_types(x.dtype, y.dtype)
    x, y = x.to(dtype), y.to(dtype)
    n = x.shape[-1]
    rows = max(1, _CHUNK_ELEMENTS // max(1, math.prod(x.shape[:-1]) * n))
    total = torch.zeros(x.shape[:-1], dtype=torch.float64, device=x.device)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        dx = (x[..., start:stop, None] - x[..., None, :]).sign_()
        dy = (y[..., start:stop, None] - y[..., None, :]).sign_()
        # Each block row sums at most n terms of ±1, exact in float32; rows are accumulated in float64.
        total += dx.mul_(dy).sum(-1).to(torch.float64).sum(-1)
    # Every unordered pair was visited twice, once from each end.
    return (total / (n * (n - 1))).to(dtype)
