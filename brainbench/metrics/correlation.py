"""Correlation coefficients on torch tensors, batched along one dimension.

Inputs may be any dtype on any device; they are computed and returned in at least float32
(float64 stays float64). One rule for undefined values, scipy.stats' (`pearson`, and through it `spearman`):
a slice in which either input is constant gives NaN, and so does a NaN among the values counted.
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


def pearson(x: Tensor, y: Tensor, dim: int = -1, *, valid: Tensor | None = None, overwrite: bool = False) -> Tensor:
    """Pearson r between `x` and `y` along `dim`, broadcasting over the other dims (scipy.stats.pearsonr's r).

    x, y: broadcastable shapes of equal size n along `dim`. Returns the broadcast shape without `dim`, in [-1, 1],
    float64 when either input is float64, else float32.
    Undefined values, as scipy.stats.pearsonr: NaN where x or y is constant over the values counted (all exactly
    equal — also when rounding leaves a tiny residue after centring) or where fewer than 2 values are counted; a
    NaN among the values counted gives NaN (scipy's default, nan_policy='propagate').
    valid: optional boolean mask broadcastable to the inputs; only positions where it is True are counted
    (pairwise-complete), whatever the others hold, NaN included.
    overwrite: `x` and `y` are scratch tensors of the result's dtype that may be centred in place (saves two
    copies on large batches).
    """
    dtype = torch.promote_types(_as_float(x).dtype, _as_float(y).dtype)
    x, y = x.to(dtype), y.to(dtype)
    if valid is not None:
        return _masked_pearson(x, y, dim, valid)
    n = max(x.shape[dim], y.shape[dim])  # the broadcast size (torch.broadcast_shapes imports torch._refs: 0.3 s)
    # Centre each input at its own shape; only the cross product broadcasts.
    mean_x, mean_y = x.mean(dim, keepdim=True), y.mean(dim, keepdim=True)
    xc, yc = (x.sub_(mean_x), y.sub_(mean_y)) if overwrite else (x - mean_x, y - mean_y)
    ss_x, ss_y = (xc * xc).sum(dim), (yc * yc).sum(dim)
    r = (xc * yc).sum(dim) / (ss_x.sqrt() * ss_y.sqrt())
    undefined = _constant(xc, ss_x, mean_x, dim) | _constant(yc, ss_y, mean_y, dim)
    if n < 2:
        undefined = torch.ones_like(undefined)
    return r.clamp(-1.0, 1.0).masked_fill(undefined, float("nan"))


def _constant(centred: Tensor, sum_sq: Tensor, mean: Tensor, dim: int) -> Tensor:
    """Slices whose values are all equal (scipy's constant input), from the values centred by their means, their
    sums of squares and their means (keepdim) along `dim`.

    A constant slice's centred values are equal and, its mean being exact to ~n·eps, tiny; only slices that small
    are compared value by value. For them centring keeps equal values equal and distinct values distinct (the
    subtraction is exact near the mean), so the test is scipy's on the values themselves.
    """
    n = centred.shape[dim]
    eps = torch.finfo(centred.dtype).eps
    maybe = sum_sq <= n * (n * eps * mean.squeeze(dim).abs()) ** 2
    if not bool(maybe.any()):
        return maybe
    return maybe & (centred == centred.narrow(dim, 0, 1)).all(dim)


def _masked_pearson(x: Tensor, y: Tensor, dim: int, valid: Tensor) -> Tensor:
    """`pearson` over the positions where `valid` is True (see there); x, y already of the result's dtype."""
    x, y = torch.broadcast_tensors(x, y)
    valid = valid.to(torch.bool).expand_as(x)
    w = valid.to(x.dtype)
    x0, y0 = torch.where(valid, x, 0.0), torch.where(valid, y, 0.0)
    count = w.sum(dim, keepdim=True)
    xc = (x0 - x0.sum(dim, keepdim=True) / count) * w
    yc = (y0 - y0.sum(dim, keepdim=True) / count) * w
    r = (xc * yc).sum(dim) / ((xc * xc).sum(dim).sqrt() * (yc * yc).sum(dim).sqrt())

    def constant(v: Tensor) -> Tensor:  # exact, as scipy: the largest counted value equals the smallest
        return torch.where(valid, v, -math.inf).amax(dim) == torch.where(valid, v, math.inf).amin(dim)

    undefined = constant(x) | constant(y) | (count.squeeze(dim) < 2)
    return r.clamp(-1.0, 1.0).masked_fill(undefined, float("nan"))


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
