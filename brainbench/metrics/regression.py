"""Exact linear regressions: scikit-learn's PLS (kernel and feature form) and ridge with leave-one-out penalties.

Both regressions depend on the features X only through inner products, so a layer with 800k features per
image needs nothing but its n×n Gram matrix K = X Xᵀ (`gram`). Every solver here is torch in, torch out,
on the tensors' device, computed in float64, and batched over any leading dims (splits × layers) so that
one call keeps a GPU busy.

- `kernel_pls_predict`: predictions equal to scikit-learn's ``PLSRegression(n_components, scale=False)``
  (NIPALS, regression deflation, power-method weights) — the regression of Brain-Score's ``pls``
  metrics — from Gram matrices. `pls_predict` gives the same from features, in feature space (the
  p×q cross-covariance instead of n×n products: the faster form when a layer has fewer features
  than stimuli; `predictivity.feature_predictivity` picks the form).
- `kernel_ridge_cv_predict`: ridge with an unpenalised intercept whose penalty is chosen by efficient
  leave-one-out CV on the training data, as scikit-learn's ``RidgeCV(alphas)`` (Rifkin & Lippert 2007):
  all penalties solved from one eigendecomposition of the centred training Gram matrix.

Every function is invariant to a shift of all features by a constant vector (intercepts are fitted), so
the Gram matrix of the features centred over all stimuli (``gram(x, center=True)``) gives the same
results with less rounding; prefer it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

_EPS = float(np.finfo(np.float64).eps)

BRAINSCORE_ALPHAS: tuple[float, ...] = tuple(
    float(a)
    for a in [
        *[0.01, 0.1, 0.5, 1.0],
        *np.linspace(1e1, 1e2, 4, endpoint=False),
        *np.linspace(1e2, 1e3, 18, endpoint=False),
        *np.linspace(1e3, 1e4, 18, endpoint=False),
        *np.linspace(1e4, 1e5, 18, endpoint=False),
        *np.linspace(1e5, 1e6, 18, endpoint=False),
        *np.linspace(1e6, 1e7, 19),
    ]
)
"""Brain-Score 2.4.2's ridge penalty grid (``metrics/regression_correlation/metric.py``, ``ALPHA_LIST``):
99 values from 0.01 to 1e7, dense per decade."""

DEFAULT_ALPHAS: tuple[float, ...] = BRAINSCORE_ALPHAS
"""The default ridge grid: Brain-Score's own (`BRAINSCORE_ALPHAS`), unscaled, so that a penalty chosen here
is one Brain-Score could have chosen. Its cost grows with its length (99 solves from one
eigendecomposition); pass e.g. ``10.0 ** np.arange(-2, 8)`` for a coarse, 10× cheaper grid."""


# ----------------------------------------------------------------------------------------------- Gram matrices


def gram(features: Tensor, chunk_features: int = 65536, center: bool = False) -> Tensor:
    """Gram matrix X Xᵀ of the stimuli's feature vectors, accumulated over chunks of features.

    features: (n, p) — or (n, …), flattened to (n, p) — of any float dtype, on any device.
    Each chunk of ``chunk_features`` columns is multiplied in float32 (float64 when the features are
    float64) on the features' device and accumulated in float64, so no p-sized float64 copy is made;
    only the blocks on and above the diagonal are multiplied (5/8 of the full product).
    center: subtract each feature's mean over the n stimuli first, i.e. return (X − 1x̄ᵀ)(X − 1x̄ᵀ)ᵀ.
    The regressions in this module give the same results either way (they fit intercepts) but the
    centred Gram matrix loses far less to rounding when features have large means (e.g. after a ReLU).
    Returns (n, n) float64 on the features' device, symmetric.
    """
    if chunk_features < 1:
        raise ValueError("chunk_features must be at least 1")
    x = features.reshape(features.shape[0], -1)
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    n, p = x.shape
    out = torch.zeros(n, n, dtype=torch.float64, device=x.device)
    edges = [n * i // _GRAM_BLOCKS for i in range(_GRAM_BLOCKS + 1)] if n >= 256 else [0, n]
    for start in range(0, p, chunk_features):
        chunk = x[:, start : start + chunk_features].to(dtype)
        if center:
            chunk = chunk - chunk.mean(0, keepdim=True)
        for lo, hi in itertools.pairwise(edges):
            out[lo:hi, lo:] += (chunk[lo:hi] @ chunk[lo:].T).to(torch.float64)
    for lo, hi in itertools.pairwise(edges):  # mirror the upper blocks; make the diagonal ones exactly symmetric
        out[hi:, lo:hi] = out[lo:hi, hi:].T
        out[lo:hi, lo:hi] = (out[lo:hi, lo:hi] + out[lo:hi, lo:hi].T) / 2
    return out


# Row blocks of `gram`: the blocks below the diagonal are copied, not multiplied.
_GRAM_BLOCKS = 4


def _double_centre(k: Tensor) -> Tensor:
    """C K C for C = I − 11ᵀ/n over the last two dims (a new float64 tensor)."""
    k = k.to(torch.float64)
    rows, cols, total = k.mean(-1), k.mean(-2), k.mean((-2, -1))
    return k - (rows.unsqueeze(-1) + (cols - total.unsqueeze(-1)).unsqueeze(-2))


# ----------------------------------------------------------------------------------------------------------- PLS


def _power_direction(m: Tensor, start: Tensor, max_iter: int, tol: float, chunk: int = 32) -> Tensor:
    """scikit-learn's NIPALS power method (``_get_first_singular_vectors_power_method``, mode A) in target space.

    With M = Yₖᵀ Kₖ Yₖ (…, q, q), the x-weights of iteration i are w_i ∝ Xₖᵀ Yₖ c_i with c_0 the first
    non-zero target column and c_i ∝ Mⁱ c_0 (scikit-learn's rescalings are positive, so they do not
    change the direction; its ``+ eps`` guards are negligible unless a norm is ~1e-16). Iteration i ≥ 1
    stops when ‖ŵ_i − ŵ_{i−1}‖² = 2 − 2 cos_M(c_i, c_{i−1}) < tol, as scikit-learn's check on unit
    x-weights (iteration 0 is compared with the constant 100 and never stops when q > 1); without a
    stop, the last iteration (max_iter − 1) is returned, as scikit-learn does (it also warns).
    With u_j = Mʲ c_0 (any common scale), cos_M(c_i, c_{i−1}) = u_i·u_i / √((u_i·u_{i+1}) (u_{i−1}·u_i)).
    start: (…,) index of c_0. Returns c of the stopping iteration (…, q), unnormalised.
    """
    shape, q = m.shape[:-1], m.shape[-1]
    m = m.reshape(-1, q, q)
    c = torch.nn.functional.one_hot(start.reshape(-1), q).to(m.dtype)
    if q == 1 or max_iter <= 1:
        return c.reshape(shape)
    return _power_iterations(m, c, max_iter, tol, chunk).reshape(shape)


# Squared norms of unnormalised iterates are trusted above this (float64 keeps full precision).
_SAFE_MIN = 2.0**-800


def _power_iterations(m: Tensor, c: Tensor, max_iter: int, tol: float, chunk: int) -> Tensor:
    """The iterations of `_power_direction` for m (B, q, q) from c (B, q) → (B, q).

    Runs ``chunk`` iterations (one batched product each) between stop checks; each row keeps its own
    first stop, and stopped rows leave the batch. Rescaling M or an iterate by a positive factor does
    not change any cosine, so M is scaled by a power of two to a trace in [1/2, 1) and the iterates are
    left unnormalised within a chunk (`_chunk_fast`); a row whose iterates fall towards float64's
    underflow there (a start column with a tiny share of M) repeats the chunk normalising every iterate
    (`_chunk_safe`). A row with M = 0 (no target left) returns c unchanged.
    """
    trace = m.diagonal(dim1=-2, dim2=-1).sum(-1)
    m = torch.ldexp(m, -torch.frexp(trace).exponent.to(m.dtype).view(-1, 1, 1))
    result = c.clone()
    active = torch.arange(m.shape[0], device=m.device)  # rows of the full batch still iterated
    cur = c.unsqueeze(-2)  # u_i (B, 1, q), with i = done
    live = trace != 0
    if not bool(live.all()):
        active, m, cur = active[live], m[live], cur[live]
    nxt = cur @ m  # u_{i+1}
    done = 0
    while len(active):
        steps = min(chunk, max_iter - 1 - done)
        u, cos, next_state, safe = _chunk_fast(cur, nxt, m, steps)
        if not bool(safe.all()):
            redo = ~safe
            u_safe, cos_safe, state_safe = _chunk_safe(cur[redo], m[redo], steps)
            u, cos, next_state = u.clone(), cos.clone(), (next_state[0].clone(), next_state[1].clone())
            u[redo], cos[redo] = u_safe, cos_safe
            next_state[0][redo], next_state[1][redo] = state_safe
        stop = 2 - 2 * cos < tol  # iterations done+1 … done+steps
        done += steps
        stopped = stop.any(-1)
        if done >= max_iter - 1:  # the last iteration answers for those that never stopped
            first = torch.where(stopped, stop.to(torch.int8).argmax(-1), steps - 1)
            result[active] = u[torch.arange(len(active), device=m.device), first + 1]
            break
        cur, nxt = next_state
        if bool(stopped.any()):
            first = stop[stopped].to(torch.int8).argmax(-1)
            result[active[stopped]] = u[stopped, first + 1]
            running = ~stopped
            active, m, cur, nxt = active[running], m[running], cur[running], nxt[running]
    return result


def _chunk_fast(
    cur: Tensor, nxt: Tensor, m: Tensor, steps: int
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor], Tensor]:
    """``steps`` power iterations from u_i = cur (B, 1, q), u_{i+1} = nxt = u_i M, without normalising.

    Returns the iterates u_i … u_{i+steps+1} (B, steps+2, q), the cosines of iterations i+1 … i+steps
    (B, steps): cos_j = u_j·u_j / √((u_j·u_{j+1}) (u_{j−1}·u_j)), the next state (u_{i+steps},
    u_{i+steps+1}) rescaled together to a unit first vector, and whether each row stayed above
    `_SAFE_MIN`. With M's trace below 1, ‖u_{j+1}‖ ≤ λ_max ‖u_j‖ < ‖u_j‖: norms only fall, so the last
    one decides (and none can overflow).
    """
    iterates = [cur, nxt]
    for _ in range(steps):
        iterates.append(torch.bmm(iterates[-1], m))
    u = torch.cat(iterates, -2)
    norms = (u * u).sum(-1)
    cross = (u[:, :-1] * u[:, 1:]).sum(-1)  # u_j·u_{j+1} = u_jᵀ M u_j
    cos = norms[:, 1:-1] / torch.sqrt(cross[:, 1:] * cross[:, :-1])
    safe = norms[:, -1] > _SAFE_MIN
    scale = torch.rsqrt(norms[:, -2]).view(-1, 1, 1)
    return u, cos, (u[:, -2:-1] * scale, u[:, -1:] * scale), safe


def _chunk_safe(cur: Tensor, m: Tensor, steps: int) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
    """`_chunk_fast` with every iterate normalised before the next product (one more small op per step).

    With unit c_j and v_j = M c_j: cos_j = ‖v_{j−1}‖ / √((c_j·v_j) (c_{j−1}·v_{j−1})). Returns unit
    iterates c_i … c_{i+steps+1}, the cosines, and the next state (c_{i+steps}, v_{i+steps}).
    """
    c = [cur / torch.linalg.vector_norm(cur, dim=-1, keepdim=True)]
    v = []
    for _ in range(steps + 1):
        v.append(torch.bmm(c[-1], m))
        c.append(v[-1] / torch.linalg.vector_norm(v[-1], dim=-1, keepdim=True))
    cs, vs = torch.cat(c[:-1], -2), torch.cat(v, -2)  # c_i … c_{i+steps}, v_i … v_{i+steps}
    quad = (cs * vs).sum(-1)
    cos = torch.linalg.vector_norm(vs[:, :-1], dim=-1) / torch.sqrt(quad[:, 1:] * quad[:, :-1])
    return torch.cat(c, -2), cos, (c[-2], v[-1])


def _ytmul(y: Tensor, v: Tensor) -> Tensor:
    """Yᵀ v for y (1 | L, n, q) and v (L, S, n) → (L, S, q), without copying a shared Y."""
    if y.shape[0] == 1:
        return (v.reshape(-1, v.shape[-1]) @ y[0]).reshape(*v.shape[:-1], y.shape[2])
    return v @ y


# Recompute M = Yₖᵀ Kc Yₖ from scratch once its trace falls below this fraction of its last exact value.
_REFRESH = 1e-4


# ------------------------------------------------------------------------ NIPALS steps shared by both PLS cores


def _kept_targets(y: Tensor, train: Tensor, y_mean: Tensor) -> Tensor:
    """1.0 for target columns that stay non-zero after centring on each split's train rows, else 0.0.

    y: (…, n, q); train: (S, n_tr); y_mean: (…, S, q) train means. scikit-learn zeroes a column whose
    centred values are all below 10 eps in magnitude; a column constant on the train rows is dropped
    here too, even where scikit-learn's centring leaves rounding residue above that (a constant like
    20.02: it then fits rounding noise). Returns (…, S, q) float64. Split by split, so that temporaries
    stay small.
    """
    keep = torch.empty(y_mean.shape, dtype=torch.float64, device=y.device)
    for split in range(train.shape[0]):
        low, high = torch.aminmax(y[..., train[split], :], dim=-2)
        centre = y_mean[..., split, :]
        varies = (high > low) & ((high - centre >= 10 * _EPS) | (centre - low >= 10 * _EPS))
        keep[..., split, :] = varies.to(torch.float64)
    return keep


def _unit_direction(m: Tensor, start: Tensor, keep: Tensor, max_iter: int, tol: float) -> Tensor:
    """Target-space direction a of the next component (…, q), scaled so that its x-weights are unit: aᵀMa = 1."""
    a = _power_direction(m, start, max_iter, tol) * keep
    quad = (a * (m @ a.unsqueeze(-1)).squeeze(-1)).sum(-1, keepdim=True)
    return a / torch.sqrt(quad.abs().clamp_min(torch.finfo(torch.float64).tiny))


def _x_score(z: Tensor, scores: Tensor, norms: Tensor, ptw: Tensor, comp: int) -> Tensor:
    """The x-score t = Πₖ z (…, n) of component ``comp`` from z = X wₖ on the train rows (zero elsewhere).

    scores: (…, K, n) earlier x-scores (rows); norms: (…, K) their tᵀt. Fills column ``comp`` of
    ptw (…, K, K) = PᵀW, whose entries are tⱼᵀ zₖ / tⱼᵀ tⱼ. Gram–Schmidt twice, for orthogonality to rounding.
    """
    t = z
    if comp:
        t_prev, tt_prev = scores[..., :comp, :], norms[..., :comp]
        g = (t_prev @ z.unsqueeze(-1)).squeeze(-1) / tt_prev
        ptw[..., :comp, comp] = g
        t = z - (g.unsqueeze(-2) @ t_prev).squeeze(-2)
        t = t - (((t_prev @ t.unsqueeze(-1)).squeeze(-1) / tt_prev).unsqueeze(-2) @ t_prev).squeeze(-2)
    ptw[..., comp, comp] = (t * z).sum(-1) / _norm_sq(t)
    return t


def _norm_sq(t: Tensor) -> Tensor:
    """tᵀt over the last dim, at least the smallest normal float64: a split without any target left
    (all constant on its train rows) has t = 0 and then gets zero loadings, hence the mean prediction,
    as scikit-learn (which stops adding components) gives it."""
    return (t * t).sum(-1).clamp_min(torch.finfo(torch.float64).tiny)


def _nipals_predict(test_proj: Tensor, ptw: Tensor, y_loadings: Tensor, y_mean: Tensor) -> Tensor:
    """scikit-learn's prediction X_te W (PᵀW)⁺ Cᵀ + ȳ from test_proj = X_te W (…, n_te, K), y_loadings C (…, q, K)."""
    return test_proj @ torch.linalg.pinv(ptw) @ y_loadings.mT + y_mean.unsqueeze(-2)


# ------------------------------------------------------------------------------------------- kernel-form PLS


def _recompute_m(
    k: Tensor, y: Tensor, y_mean: Tensor, mask: Tensor, scores: Tensor, loadings: Tensor, keep: Tensor
) -> Tensor:
    """Yₖᵀ Kc Yₖ (L, S, q, q) with Yₖ = Ỹ − T Cᵀ formed explicitly, one layer at a time (scores (L, S, k, n))."""
    out = []
    for layer in range(k.shape[0]):
        yl = y[0] if y.shape[0] == 1 else y[layer]  # (n, q)
        yk = mask.unsqueeze(-1) * (yl - y_mean[layer].unsqueeze(-2)) - scores[layer].mT @ loadings[layer].mT
        yk = yk * keep[layer].unsqueeze(-2)  # (S, n, q)
        n_splits, n, q = yk.shape
        hk = (k[layer] @ yk.permute(1, 0, 2).reshape(n, -1)).reshape(n, n_splits, q).permute(1, 0, 2)
        out.append(yk.mT @ hk)  # yk is centred and zero on test rows, so Ỹᵀ K Ỹ = Ỹᵀ Kc Ỹ
    m = torch.stack(out)
    return (m + m.mT) / 2


def _pls_core(
    k: Tensor, y: Tensor, train: Tensor, test: Tensor, n_components: int, max_iter: int, tol: float,
    progress: Callable[[int], None] | None = None,
) -> Tensor:
    """Kernel NIPALS PLS2 over S splits sharing one n×n Gram matrix per layer.

    k: (L, n, n) float64 symmetric (centred over all n for accuracy); y: (1 | L, n, q) float64 targets;
    train: (S, n_tr), test: (S, n_te) long indices into n. Returns test predictions (L, S, n_te, q).
    ``progress`` is called with L after each component.

    With Ỹ the split's centred training targets (zero on its test rows) and Kc its centred training
    Gram matrix, scikit-learn's deflated Xₖ = Πₖ X (Πₖ: projection off the earlier x-scores) and
    Yₖ = Ỹ − T Cᵀ (C: y-loadings), so everything is a product of K with n-vectors: per component,
    - direction: the power method on M = Yₖᵀ Kc Yₖ (q×q), giving xₖ-weights w = Xᵀ Yₖ a;
    - z = Kc Yₖ a = H a − S Cᵀa with H = K Ỹ and S = K T held for all n rows, each centred by its
      train-row mean: its train rows give the x-score t = Πₖ z, its test rows X_te w;
    - one (L, n, n) @ (L, n, S) product s = K t (all splits at once) extends S and updates M by a
      rank-2 correction (recomputed from scratch when M has shrunk, to keep its relative accuracy).
    Predictions follow scikit-learn: X_te W (PᵀW)⁺ Cᵀ + ȳ with (PᵀW)_jk = t_jᵀ z_k / t_jᵀ t_j.
    """
    n_layers, n = k.shape[0], k.shape[-1]
    n_splits, n_train = train.shape
    n_test = test.shape[1]
    q = y.shape[-1]
    dev, f64 = k.device, torch.float64
    y_all = y.mean(-2, keepdim=True)  # products with Y below then carry rounding of its spread, not its mean
    y = y - y_all
    mask = torch.zeros(n_splits, n, dtype=f64, device=dev).scatter_(1, train, 1.0)  # (S, n)
    y_mean = torch.matmul(mask, y) / n_train  # (1 | L, S, q)
    keep = _kept_targets(y, train, y_mean)
    start = keep.argmax(-1).expand(n_layers, n_splits)  # first non-zero column

    def centre(full: Tensor) -> Tensor:
        """Subtract, in place, the train-row mean of each column of full (L, S, n, r)."""
        return full.sub_(torch.matmul(mask.unsqueeze(-2), full) / n_train)

    # H = K Ỹ for every split: K (Y − 1ȳᵀ) from one product per layer, minus the test rows' share
    # K[:, te] (Y − 1ȳᵀ)[te]; then centred over the train rows.
    ky = torch.matmul(k, y[0]) if y.shape[0] == 1 else k @ y  # (L, n, q)
    h = torch.empty(n_layers, n_splits, n, q, dtype=f64, device=dev)
    h.copy_(ky.unsqueeze(1))
    del ky
    h.addcmul_(k.sum(-1)[:, None, :, None], y_mean.unsqueeze(-2), value=-1.0)
    m = torch.empty(n_layers, n_splits, q, q, dtype=f64, device=dev)
    for split in range(n_splits):
        yc_test = y[:, test[split]] - y_mean[:, split].unsqueeze(-2)  # (1 | L, n_te, q)
        h[:, split] -= k[:, test[split]].mT @ yc_test  # K[:, te] = K[te, :]ᵀ
    centre(h)
    for split in range(n_splits):  # Ỹᵀ Kc Ỹ = (Y on train rows)ᵀ H: H's train rows sum to zero
        y_train = y[:, train[split]]  # (1 | L, n_tr, q)
        m[:, split] = y_train.mT @ h[:, split, train[split]]
    keep = keep.expand(n_layers, n_splits, q)
    m = ((m + m.mT) / 2 * keep.unsqueeze(-1) * keep.unsqueeze(-2)).contiguous()
    y_mean = y_mean.expand(n_layers, n_splits, q)

    scores = torch.zeros(n_layers, n_splits, n_components, n, dtype=f64, device=dev)  # T (train rows)
    products = torch.zeros_like(scores)  # S = K T, centred, all rows
    loadings = torch.zeros(n_layers, n_splits, q, n_components, dtype=f64, device=dev)  # C (y-loadings)
    test_proj = torch.zeros(n_layers, n_splits, n_test, n_components, dtype=f64, device=dev)
    ptw = torch.zeros(n_layers, n_splits, n_components, n_components, dtype=f64, device=dev)
    norms = torch.ones(n_layers, n_splits, n_components, dtype=f64, device=dev)  # tᵀt
    gather_test = test.expand(n_layers, n_splits, -1)
    reference = m.diagonal(dim1=-2, dim2=-1).sum(-1)  # trace of M when last computed from scratch
    for comp in range(n_components):
        if comp and bool((m.diagonal(dim1=-2, dim2=-1).sum(-1) < _REFRESH * reference).any()):
            # The rank-2 updates carry an absolute error ~eps·‖M0‖; once M has shrunk by _REFRESH,
            # recompute it from the deflated targets (one n×n by n×q product per split).
            m = _recompute_m(k, y, y_mean, mask, scores[..., :comp, :], loadings[..., :comp], keep)
            reference = m.diagonal(dim1=-2, dim2=-1).sum(-1)
        a = _unit_direction(m, start, keep, max_iter, tol)
        s_prev, c_prev, t_prev = products[..., :comp, :], loadings[..., :comp], scores[..., :comp, :]
        z_full = (a.unsqueeze(-2) @ h.mT).squeeze(-2)  # H a as a row product: (L, S, n)
        if comp:
            z_full = z_full - ((a.unsqueeze(-2) @ c_prev) @ s_prev).squeeze(-2)
        test_proj[..., comp] = torch.gather(z_full, -1, gather_test)
        t = _x_score(z_full * mask, scores, norms, ptw, comp)
        tt = _norm_sq(t)
        s_full = centre((k @ t.mT).mT.unsqueeze(-1)).squeeze(-1)  # K t for all splits: one product per layer
        s = s_full * mask
        c = _ytmul(y, t) / tt.unsqueeze(-1) * keep
        e = _ytmul(y, s)
        if comp:
            e = e - (c_prev @ (t_prev @ s.unsqueeze(-1))).squeeze(-1)
        e = e * keep
        # M ← M − e cᵀ − c eᵀ + (tᵀs) c cᵀ = M − d cᵀ − c dᵀ with d = e − (tᵀs/2) c, in place.
        d = e - (t * s).sum(-1, keepdim=True) / 2 * c
        left = torch.stack([d, c], -1).reshape(-1, q, 2)
        right = torch.stack([c, d], -2).reshape(-1, 2, q)
        m.view(-1, q, q).baddbmm_(left, right, alpha=-1.0)
        scores[..., comp, :], products[..., comp, :], loadings[..., comp], norms[..., comp] = t, s_full, c, tt
        if progress:
            progress(n_layers)
    return _nipals_predict(test_proj, ptw, loadings, y_mean + y_all)


# ------------------------------------------------------------------------------------------ feature-form PLS


def _pls_core_features(
    x: Tensor, y: Tensor, train: Tensor, test: Tensor, n_components: int, max_iter: int, tol: float,
    progress: Callable[[int], None] | None = None,
) -> Tensor:
    """Feature-space NIPALS PLS2 over S splits sharing one feature matrix: the fast form when p < n.

    x: (n, p) float64 features; y: (n, q) float64 targets; train: (S, n_tr), test: (S, n_te) long
    indices into n. Returns test predictions (S, n_te, q). ``progress`` is called with 1 after each component.

    The same algorithm as `_pls_core` with the p×q cross-covariance in place of n-vector products:
    with X̃, Ỹ the split's train rows centred by their means, Sₖ = Xₖᵀ Yₖ = X̃ᵀ Ỹ − P diag(tᵀt) Cᵀ
    (regression deflation: Xₖ₊₁ᵀ Yₖ₊₁ = Xₖᵀ Yₖ − (tᵀt) p cᵀ), M = Sₖᵀ Sₖ, the x-weights w = Sₖ a, and
    per component two (S, p) × (p, n) products with X: z = X̃ w on all rows and the x-loading
    p = X̃ᵀ t / tᵀt. X̃ᵀ Ỹ comes from one Xᵀ Y product minus each split's test rows. Per component this
    reads X twice (2np numbers) where the kernel form reads K once (n²), and it needs no Gram matrix.
    """
    n, p = x.shape
    n_splits, n_train = train.shape
    q = y.shape[-1]
    dev, f64 = x.device, torch.float64
    x = x.to(f64)
    x = x - x.mean(0)  # centred over all n for accuracy; each split's own centring is exact below
    x_rows = x.T.contiguous()  # (p, n): Xᵀ laid out for the row products t X
    y_all = y.mean(0)
    y = y - y_all
    mask = torch.zeros(n_splits, n, dtype=f64, device=dev).scatter_(1, train, 1.0)  # (S, n)
    y_mean = mask @ y / n_train  # (S, q)
    x_mean = mask @ x / n_train  # (S, p)
    keep = _kept_targets(y, train, y_mean)
    start = keep.argmax(-1)

    # X̃ᵀ Ỹ = Σ_train x yᵀ − n_tr x̄ ȳᵀ, with Σ_train = Σ_all − Σ_test.
    cross = x.T @ y  # (p, q)
    s0 = torch.empty(n_splits, p, q, dtype=f64, device=dev)
    for split in range(n_splits):
        s0[split] = cross - x[test[split]].T @ y[test[split]]
    s0.baddbmm_(x_mean.unsqueeze(-1), y_mean.unsqueeze(-2), alpha=-n_train)
    s0 *= keep.unsqueeze(-2)
    m = s0.mT @ s0
    m = (m + m.mT) / 2

    scores = torch.zeros(n_splits, n_components, n, dtype=f64, device=dev)  # T (train rows)
    x_loadings = torch.zeros(n_splits, p, n_components, dtype=f64, device=dev)  # P
    y_loadings = torch.zeros(n_splits, q, n_components, dtype=f64, device=dev)  # C
    norms = torch.ones(n_splits, n_components, dtype=f64, device=dev)  # tᵀt
    test_proj = torch.zeros(n_splits, test.shape[1], n_components, dtype=f64, device=dev)
    ptw = torch.zeros(n_splits, n_components, n_components, dtype=f64, device=dev)
    reference = m.diagonal(dim1=-2, dim2=-1).sum(-1)
    for comp in range(n_components):
        p_prev, c_prev = x_loadings[..., :comp], y_loadings[..., :comp] * norms[..., None, :comp]  # P, C diag(tᵀt)
        if comp and bool((m.diagonal(dim1=-2, dim2=-1).sum(-1) < _REFRESH * reference).any()):
            sk = s0 - p_prev @ c_prev.mT  # see _pls_core: keep M's relative accuracy
            m = sk.mT @ sk
            m = (m + m.mT) / 2
            reference = m.diagonal(dim1=-2, dim2=-1).sum(-1)
        a = _unit_direction(m, start, keep, max_iter, tol)
        w = (s0 @ a.unsqueeze(-1)).squeeze(-1)  # Sₖ a (S, p)
        if comp:
            w = w - (p_prev @ (a.unsqueeze(-2) @ c_prev).mT).squeeze(-1)
        z_full = w @ x.T - (x_mean * w).sum(-1, keepdim=True)  # X̃ w on all rows (S, n)
        test_proj[..., comp] = torch.gather(z_full, -1, test)
        t = _x_score(z_full * mask, scores, norms, ptw, comp)
        tt = _norm_sq(t).unsqueeze(-1)
        t_sum = t.sum(-1, keepdim=True)  # 0 up to rounding: t is centred over the train rows
        load = (t @ x_rows.T - t_sum * x_mean) / tt  # x-loading p = X̃ᵀ t / tᵀt (S, p)
        c = (t @ y - t_sum * y_mean) / tt * keep  # y-loading Ỹᵀ t / tᵀt (Tᵀt = 0)
        e = (load.unsqueeze(-2) @ s0).squeeze(-2)  # Sₖᵀ p
        if comp:
            e = e - (c_prev @ (load.unsqueeze(-2) @ p_prev).mT).squeeze(-1)
        # Sₖ₊₁ = Sₖ − (tᵀt) p cᵀ ⇒ M ← M − d cᵀ − c dᵀ with d = (tᵀt) e − (tᵀt)² (pᵀp)/2 c, in place.
        d = tt * e - tt * tt * (load * load).sum(-1, keepdim=True) / 2 * c  # e is zero on dropped columns
        m.baddbmm_(torch.stack([d, c], -1), torch.stack([c, d], -2), alpha=-1.0)
        scores[..., comp, :], x_loadings[..., comp], y_loadings[..., comp], norms[..., comp] = t, load, c, tt[..., 0]
        if progress:
            progress(1)
    return _nipals_predict(test_proj, ptw, y_loadings, y_mean + y_all)


def _check_components(n_components: int, n_train: int, n_features: int | None = None) -> None:
    bound = n_train if n_features is None else min(n_train, n_features)
    if not 1 <= n_components <= bound:
        raise ValueError(
            f"PLS needs 1 ≤ n_components ≤ min(n_train, n_features) = {bound}, got {n_components}; "
            "reduce n_components"
        )


def kernel_pls_predict(
    gram_train: Tensor,
    gram_test_train: Tensor,
    y_train: Tensor,
    n_components: int = 25,
    max_iter: int = 500,
    tol: float = 1e-06,
) -> Tensor:
    """Predictions of scikit-learn's ``PLSRegression(n_components, scale=False)`` from Gram matrices.

    gram_train: (…, n_tr, n_tr) = X_tr X_trᵀ; gram_test_train: (…, n_te, n_tr) = X_te X_trᵀ (both
    uncentred, or centred with any common feature offset); y_train: (…, n_tr, q) or (n_tr, q) shared.
    Leading dims broadcast and are solved in one batch. Returns (…, n_te, q) float64 predictions equal
    (to rounding) to ``PLSRegression(n_components, scale=False).fit(X_tr, Y_tr).predict(X_te)``:
    X and Y centred with the training means, NIPALS with scikit-learn's power method (``max_iter``,
    ``tol``, start on the first non-zero target column), regression deflation, and
    ``X_te W (PᵀW)⁺ Qᵀ + ȳ``.

    Not reproduced: scikit-learn's check ``n_components ≤ n_features`` (no feature count here — the
    caller must reject layers with fewer features than components); its zeroing of target columns that
    become all-zero only after deflation, and its early stop when all residual targets are zero (both
    need Y to be fully explained by fewer components than asked for); its ConvergenceWarning. A target
    column constant on the training rows is always dropped (scikit-learn keeps one whose centring leaves
    rounding residue, e.g. a constant 20.02, and fits that noise); with every column dropped the
    prediction is the training mean, as scikit-learn's.
    Agreement is to ~1e-12 relative in ordinary fits; it degrades as the components fit the training
    targets to rounding level (n_train close to n_components, p ≫ n), where both computations follow
    rounding noise.
    """
    n_train = gram_train.shape[-1]
    n_test = gram_test_train.shape[-2]
    if gram_train.shape[-2] != n_train or gram_test_train.shape[-1] != n_train:
        raise ValueError(
            f"expected gram_train (…, n_tr, n_tr) and gram_test_train (…, n_te, n_tr), got "
            f"{tuple(gram_train.shape)} and {tuple(gram_test_train.shape)}"
        )
    _check_components(n_components, n_train)
    squeeze = y_train.ndim == 1
    y = y_train.unsqueeze(-1) if squeeze else y_train
    batch = torch.broadcast_shapes(gram_train.shape[:-2], gram_test_train.shape[:-2], y.shape[:-2])
    dev, f64 = gram_train.device, torch.float64
    n_all = n_train + n_test
    k = torch.zeros(*batch, n_all, n_all, dtype=f64, device=dev)
    k[..., :n_train, :n_train] = gram_train.to(f64)
    k[..., n_train:, :n_train] = gram_test_train.to(f64)
    k[..., :n_train, n_train:] = gram_test_train.to(f64).mT
    k = k.reshape(-1, n_all, n_all)
    n_batch = k.shape[0]
    y_full = torch.zeros(*y.shape[:-2], n_all, y.shape[-1], dtype=f64, device=dev)
    y_full[..., :n_train, :] = y.to(f64)
    if y.ndim == 2:
        y_full = y_full.unsqueeze(0)
    else:
        y_full = y_full.expand(*batch, n_all, y.shape[-1]).reshape(n_batch, n_all, y.shape[-1])
    # Centre over the training rows only (the test-test block is zero and never used).
    k = k - k[..., :n_train].mean(-1, keepdim=True)
    k = k - k[..., :n_train, :].mean(-2, keepdim=True)
    k = (k + k.mT) / 2
    train = torch.arange(n_train, device=dev).unsqueeze(0)
    test = torch.arange(n_train, n_all, device=dev).unsqueeze(0)
    out = _pls_core(k, y_full, train, test, n_components, max_iter, tol)[:, 0]
    out = out.reshape(*batch, n_test, y.shape[-1])
    return out.squeeze(-1) if squeeze else out


def pls_predict(
    x_train: Tensor, y_train: Tensor, x_test: Tensor, n_components: int = 25, max_iter: int = 500, tol: float = 1e-06
) -> Tensor:
    """scikit-learn's ``PLSRegression(n_components, scale=False)`` predictions from features, in feature space.

    x_train (n_tr, p), y_train (n_tr, q) or (n_tr,), x_test (n_te, p) → (n_te, q) or (n_te,) float64, by
    `_pls_core_features` (exact float64 products with the features; the p×q cross-covariance per
    component). Checks ``n_components ≤ min(n_tr, p)`` as scikit-learn does; otherwise it reproduces and
    departs from scikit-learn exactly where `kernel_pls_predict` does (see there). For many wide layers
    or splits, `gram` + `kernel_pls_predict` (or `predictivity.feature_predictivity`) is the faster route.
    """
    n_train = x_train.shape[0]
    _check_components(n_components, n_train, x_train[0].numel())
    x = torch.cat([x_train.reshape(n_train, -1), x_test.reshape(x_test.shape[0], -1)]).to(torch.float64)
    squeeze = y_train.ndim == 1
    y = (y_train.unsqueeze(-1) if squeeze else y_train).to(device=x.device, dtype=torch.float64)
    # The test rows' targets are never read as targets: zeros only shift the all-row mean, which cancels.
    y = torch.cat([y, y.new_zeros(x.shape[0] - n_train, y.shape[1])])
    train = torch.arange(n_train, device=x.device).unsqueeze(0)
    test = torch.arange(n_train, x.shape[0], device=x.device).unsqueeze(0)
    out = _pls_core_features(x, y, train, test, n_components, max_iter, tol)[0]
    return out.squeeze(-1) if squeeze else out


# --------------------------------------------------------------------------------------------------------- ridge

# Bytes of one block of leave-one-out residuals (…, n_tr, penalties, targets) in `kernel_ridge_cv_predict`.
_LOO_BLOCK_BYTES = 2**27


def kernel_ridge_cv_predict(
    gram_train: Tensor,
    gram_test_train: Tensor,
    y_train: Tensor,
    alphas: Tensor | np.ndarray | list[float] | tuple[float, ...] | None = None,
    n_targets_batch: int | None = None,
    alpha_per_target: bool = True,
) -> tuple[Tensor, Tensor]:
    """Ridge predictions with the penalty chosen by efficient leave-one-out CV on the training stimuli.

    gram_train: (…, n_tr, n_tr) = X_tr X_trᵀ; gram_test_train: (…, n_te, n_tr) = X_te X_trᵀ;
    y_train: (…, n_tr, q) or (n_tr, q) shared; alphas: 1-D grid (default `DEFAULT_ALPHAS`, Brain-Score's).
    Returns (predictions (…, n_te, q) float64, chosen alpha (…, q) float64).

    Equals scikit-learn's ``RidgeCV(alphas, alpha_per_target=alpha_per_target).fit(X_tr, Y_tr)``
    (fit_intercept=True, default scoring, its ``_RidgeGCV``): X and Y centred with the training means,
    K = eigendecomposition of the centred training Gram matrix (one per batch element), and for each
    alpha the LOO errors c / d with c = (K + αI)⁻¹ y and d = diag((K + αI)⁻¹) − ((K + αI)⁻¹ 1) / n_tr —
    scikit-learn's intercept correction, which scores each left-out stimulus against the intercept
    fitted with it. The score is the mean squared LOO error per target (``alpha_per_target=True``) or
    over all targets (``False``: one alpha for all, as Brain-Score's ``ridgecv`` metrics use); ties go
    to the first alpha of the grid. Eigenvalues below n_tr·eps·λ_max are treated as exact zeros (the
    null space is solved in closed form), which changes results only at rounding level.
    Cost per batch element: one eigendecomposition, then the LOO residuals of all penalties and targets as
    matrix products of Q (n_tr × r) with blocks of (penalty, target) columns of ~128 MiB of results each
    (2·n_tr·r·A·q flops in all; no loop over penalties or targets). Targets are processed ``n_targets_batch``
    at a time (default: all), which bounds memory further.
    """
    n_train = gram_train.shape[-1]
    if gram_train.shape[-2] != n_train or gram_test_train.shape[-1] != n_train:
        raise ValueError(
            f"expected gram_train (…, n_tr, n_tr) and gram_test_train (…, n_te, n_tr), got "
            f"{tuple(gram_train.shape)} and {tuple(gram_test_train.shape)}"
        )
    if n_train < 2:
        raise ValueError("ridge leave-one-out needs at least 2 training stimuli")
    dev, f64 = gram_train.device, torch.float64
    grid = torch.as_tensor(np.asarray(DEFAULT_ALPHAS if alphas is None else alphas, dtype=np.float64)).to(dev)
    if grid.ndim != 1 or grid.numel() == 0 or bool((grid <= 0).any()):
        raise ValueError("alphas must be a non-empty 1-D grid of positive penalties")
    squeeze = y_train.ndim == 1
    y = (y_train.unsqueeze(-1) if squeeze else y_train).to(f64)

    k = gram_train.to(f64)
    col_mean = k.mean(-2, keepdim=True)  # (…, 1, n_tr): x̄ᵀ X_trᵀ
    kc = _double_centre(k)
    g = gram_test_train.to(f64)
    gc = g - col_mean - g.mean(-1, keepdim=True) + k.mean((-2, -1), keepdim=True)
    y_mean = y.mean(-2, keepdim=True)
    yc = y - y_mean
    eigvals, eigvecs = torch.linalg.eigh(kc)
    del kc
    # Keep the numerically non-zero spectrum (the same count for the whole batch).
    tol = eigvals[..., -1:].clamp_min(0) * n_train * _EPS
    rank = int((eigvals > tol).sum(-1).max().clamp_min(1))
    lam, vec = eigvals[..., -rank:], eigvecs[..., -rank:]
    # Everything scaled by α: α G⁻¹ = (I − Q_r Q_rᵀ) + Q_r diag(α / (λ + α)) Q_rᵀ for G = K + αI, whose
    # entries lie in [0, 1] for every α (no 1/α − 1/(λ+α) cancellation at small α); the LOO error c / d
    # is unchanged by the common factor.
    frac = grid / (lam.unsqueeze(-1) + grid)  # (…, r, A)
    vec_sq = vec * vec
    vt1 = vec.sum(-2)  # (…, r): Qᵀ1
    # α d for every α (…, n_tr, A): α diag(G⁻¹) − α (G⁻¹1) / n_tr.
    d = ((1.0 - vec_sq.sum(-1)).unsqueeze(-1) + vec_sq @ frac
         - ((1.0 - vec @ vt1.unsqueeze(-1)) + vec @ (frac * vt1.unsqueeze(-1))) / n_train)
    del vec_sq

    q = y.shape[-1]
    batch = torch.broadcast_shapes(eigvecs.shape[:-2], gc.shape[:-2], y.shape[:-2])
    vty = vec.mT @ yc  # (…, r, q)
    null = yc - vec @ vty  # (…, n_tr, q): the targets' part outside the Gram's range, α c = null + Q_r (frac ⊙ Qᵀy)
    step = q if n_targets_batch is None else max(1, int(n_targets_batch))
    mse = gc.new_empty(*batch, grid.numel(), q)  # mean squared LOO errors
    for lo in range(0, q, step):
        width = min(step, q - lo)
        # Penalties in blocks of one product each: Q_r (r, n_tr) times all (α, target) columns at once.
        block = max(1, _LOO_BLOCK_BYTES // (8 * max(1, batch.numel()) * n_train * width))
        w, nb = vty[..., lo : lo + width].unsqueeze(-2), null[..., lo : lo + width].unsqueeze(-2)
        for a0 in range(0, grid.numel(), block):
            f = frac[..., a0 : a0 + block]  # (…, r, a)
            c = (vec @ (f.unsqueeze(-1) * w).flatten(-2)).unflatten(-1, (f.shape[-1], width))  # (…, n_tr, a, q_b)
            c += nb
            c /= d[..., a0 : a0 + block].unsqueeze(-1)
            mse[..., a0 : a0 + block, lo : lo + width] = c.square_().mean(-3)
    if alpha_per_target:
        best = torch.argmin(mse, dim=-2)  # first minimum = first maximal score
    else:
        best = torch.argmin(mse.mean(-1), dim=-1).unsqueeze(-1).expand(*batch, q)
    chosen = grid[best]  # (…, q)
    # Dual coefficients at each target's alpha, c = Q_r (Qᵀy / (λ + α)) + null / α, then predictions.
    ab = chosen.unsqueeze(-2)  # (…, 1, q)
    pred = gc @ (vec @ (vty / (lam.unsqueeze(-1) + ab)) + null / ab) + y_mean
    if squeeze:
        return pred.squeeze(-1), chosen.squeeze(-1)
    return pred, chosen
