"""Neural predictivity as Brain-Score scores it: cross-validated regression → Pearson r → median → mean.

Brain-Score 2.4.2 references (paths under ``brainscore_vision/``):

- ``metrics/regression_correlation/metric.py`` ``CrossRegressedCorrelation``: per split, fit the
  regression on the train stimuli, predict the test stimuli, ``scipy.stats.pearsonr`` per neuroid
  (``metric_helpers/xarray_utils.py`` ``XarrayCorrelation``), ``aggregate`` = median over neuroids
  (xarray ``median``: NaN-skipping, the mean of the two middle values for an even count).
- ``metric_helpers/transformations.py`` ``Split.aggregate``: the score is the mean over splits
  (NaN-skipping) and its ``error`` is ``standard_error_of_the_mean`` = ``values.std('split') /
  sqrt(n_splits)`` — xarray's ``std`` has ddof=0, so the error is the population standard deviation of
  the split medians over √n_splits (not the ddof=1 SEM).
- ``metrics/internal_consistency/ceiling.py`` ``InternalConsistency``: split-half consistency over
  repetitions, Spearman–Brown corrected per neuroid, median over neuroids, mean over splits.
- ``benchmark_helpers/neural_common.py`` ``NeuralBenchmark.__call__`` → ``explained_variance``:
  ceiled = (aggregate raw r)² / ceiling; the aggregate (mean over splits of the median over neuroids)
  is squared, not each neuroid's r; the ceiled score keeps the raw score's ``error`` unchanged.
  brainbench applies its ceilings in `brainbench.metrics.ceiling.ceil` (keeping a negative r's sign).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from brainbench.metrics.correlation import pearson
from brainbench.metrics.regression import (
    _double_centre,
    _pls_core,
    _pls_core_features,
    gram,
    kernel_ridge_cv_predict,
)
from brainbench.metrics.splits import repetition_halves

REGRESSION_METHODS = ("pls", "ridge")
"""Regressions accepted by `cross_validated_predictivity`."""

# Budget for the float64 temporaries of one batch of splits × layers (bytes).
_MEMORY_BUDGET = 2**30


@dataclass(frozen=True)
class Predictivity:
    """Cross-validated neural predictivity of one or more layers (leading dims …).

    split_medians: (…, n_splits) median over neuroids of the held-out Pearson r, per split.
    per_neuroid: (…, n_splits, n_neuroids) held-out Pearson r (NaN where a neuroid or its prediction is
    constant over the split's test stimuli).
    raw: (…) mean over splits of the split medians (Brain-Score's raw score).
    error: (…) Brain-Score's error: std over splits (ddof=0) of the split medians / √n_splits.
    alphas: (…, n_splits, n_neuroids) ridge penalty chosen per split and neuroid (None for PLS).
    predictions: (…, n_splits, n_test, n_neuroids) held-out predictions, split i's test stimuli in its test order
    (NaN-padded to the largest test set); None unless asked for (``keep_predictions``).
    """

    split_medians: Tensor
    per_neuroid: Tensor
    raw: Tensor
    error: Tensor
    alphas: Tensor | None = None
    predictions: Tensor | None = None


@dataclass(frozen=True)
class Consistency:
    """Split-half internal consistency of repeated recordings (Brain-Score's ceiling).

    split_medians: (n_splits,) median over neuroids of the Spearman–Brown-corrected split-half r.
    per_neuroid: (n_splits, n_neuroids) corrected r per split (NaN for a neuroid constant in a half).
    ceiling: mean of split_medians over splits; error: std over splits (ddof=0) / √n_splits.
    """

    split_medians: Tensor
    per_neuroid: Tensor
    ceiling: float
    error: float


def nanmedian(x: Tensor, dim: int = -1) -> Tensor:
    """Median along `dim` ignoring NaNs, as numpy.nanmedian: the mean of the two middle values for an
    even count, NaN when a slice is all NaN (torch.nanmedian returns the lower middle value instead)."""
    x = x.movedim(dim, -1)
    valid = (~torch.isnan(x)).sum(-1, keepdim=True)
    ordered = torch.sort(torch.nan_to_num(x, nan=float("inf")), dim=-1).values
    lo = ((valid - 1).clamp_min(0)) // 2
    hi = valid // 2
    hi = torch.minimum(hi, (valid - 1).clamp_min(0))
    med = (ordered.gather(-1, lo) + ordered.gather(-1, hi)) / 2
    return med.squeeze(-1).masked_fill(valid.squeeze(-1) == 0, float("nan"))


def _split_error(split_medians: Tensor) -> Tensor:
    """Brain-Score's error over the last dim: NaN-skipping std with ddof=0, over √(number of splits)."""
    n = split_medians.shape[-1]
    valid = ~torch.isnan(split_medians)
    mean = torch.nanmean(split_medians, dim=-1, keepdim=True)
    dev = torch.where(valid, split_medians - mean, torch.zeros_like(split_medians))
    var = (dev * dev).sum(-1) / valid.sum(-1)
    return torch.sqrt(var) / np.sqrt(n)


def _is_centred(k: Tensor) -> bool:
    """Whether Gram matrices (L, n, n) are already centred over their n stimuli (row means ≈ 0)."""
    scale = k.diagonal(dim1=-2, dim2=-1).abs().mean(-1)
    return bool((k.mean(-1).abs().amax(-1) <= 1e-6 * scale).all())


def _as_index(split: Sequence[object], n: int) -> Tensor:
    index = torch.as_tensor(np.asarray(split, dtype=np.int64))
    if index.ndim != 1 or index.numel() == 0 or int(index.min()) < 0 or int(index.max()) >= n:
        raise ValueError(f"split indices must be a non-empty 1-D list of stimulus indices in [0, {n})")
    return index


def cross_validated_predictivity(
    gram: Tensor,
    responses: Tensor,
    splits: Sequence[tuple[Sequence[int], Sequence[int]]],
    method: str = "pls",
    n_components: int = 25,
    alphas: Sequence[float] | np.ndarray | Tensor | None = None,
    *,
    alpha_per_target: bool = True,
    n_targets_batch: int | None = None,
    keep_predictions: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Predictivity:
    """Brain-Score's cross-regressed correlation of model features with neural responses, from Gram matrices.

    gram: (…, n, n) Gram matrix of each layer's features over the n stimuli (`regression.gram`; leading
    dims, e.g. layers, are solved in one batch); responses: (n, q) repetition-averaged neural responses
    (stimuli in the same order); splits: [(train_idx, test_idx), …] (`splits.brainscore_splits`).
    method: 'pls' (scikit-learn ``PLSRegression(n_components, scale=False)``, Brain-Score's ``pls``) or
    'ridge' (`kernel_ridge_cv_predict`: LOO-chosen penalty from `alphas` per neuroid, or one per split
    with ``alpha_per_target=False`` as Brain-Score's ``ridgecv``).

    Per split: fit on train, predict test, Pearson r per neuroid over the test stimuli (a neuroid whose
    responses or predictions are constant over them gets NaN, as scipy's pearsonr), median over
    neuroids ignoring NaN (numpy.nanmedian). raw = NaN-skipping mean over splits; error = Brain-Score's
    std(ddof=0)/√n_splits. All arithmetic in float64 on the gram's device.
    PLS layers with fewer features than n_components are not detected here (scikit-learn raises): the
    caller must check. ``progress`` is advanced to `regression_steps` (layers × components or × splits).
    """
    if method not in REGRESSION_METHODS:
        raise ValueError(f"unknown regression '{method}'; choose one of {', '.join(REGRESSION_METHODS)}")
    n = gram.shape[-1]
    if gram.ndim < 2 or gram.shape[-2] != n:
        raise ValueError(f"expected gram matrices (…, n, n), got shape {tuple(gram.shape)}")
    dev, f64 = gram.device, torch.float64
    y, train, test = _checked_inputs(responses, splits, n, dev)
    lead = gram.shape[:-2]
    k_all = gram.reshape(-1, n, n)
    q = y.shape[1]

    r = torch.empty(k_all.shape[0], len(splits), q, dtype=f64, device=dev)
    chosen = torch.empty_like(r) if method == "ridge" else None
    kept = _prediction_store(k_all.shape[0], test, q, dev) if keep_predictions else None
    if method == "pls":
        for tr, te, members in _equal_size_groups(train, test, n_components, dev):
            per_layer = 8 * n * (n + len(members) * (2 * q + n_components))
            step = max(1, _MEMORY_BUDGET // max(per_layer, 1))
            for lo in range(0, k_all.shape[0], step):
                k = k_all[lo : lo + step].to(f64)
                if not _is_centred(k):  # centring is only for accuracy: the regression is invariant to it
                    k = _double_centre(k)
                pred = _pls_core(k, y.unsqueeze(0), tr, te, n_components, 500, 1e-06, progress)  # (L, S, n_te, q)
                if kept is not None:
                    kept[lo : lo + step, members, : te.shape[1]] = pred
                r[lo : lo + step, members] = pearson(pred, y[te], dim=-2)
    else:
        for i, (a, b) in enumerate(zip(train, test, strict=True)):
            a, b = a.to(dev), b.to(dev)
            step = max(1, _MEMORY_BUDGET // (8 * 4 * len(a) * len(a)))
            for lo in range(0, k_all.shape[0], step):
                k = k_all[lo : lo + step]
                k_tr = k[:, a][:, :, a]
                k_te = k[:, b][:, :, a]
                pred, alpha = kernel_ridge_cv_predict(
                    k_tr, k_te, y[a], alphas, n_targets_batch=n_targets_batch, alpha_per_target=alpha_per_target
                )
                if kept is not None:
                    kept[lo : lo + step, i, : len(b)] = pred
                r[lo : lo + step, i] = pearson(pred, y[b], dim=-2)
                chosen[lo : lo + step, i] = alpha  # type: ignore[index]
                if progress:
                    progress(k.shape[0])
    return _summary(r, lead, chosen, kept)


def _prediction_store(n_layers: int, test: list[Tensor], q: int, device: torch.device) -> Tensor:
    """NaN-filled (n_layers, n_splits, largest test set, q) float64 for the held-out predictions."""
    return torch.full((n_layers, len(test), max(len(b) for b in test), q), float("nan"), dtype=torch.float64,
                      device=device)


def feature_predictivity(
    features: Tensor,
    responses: Tensor,
    splits: Sequence[tuple[Sequence[int], Sequence[int]]],
    method: str = "pls",
    n_components: int = 25,
    alphas: Sequence[float] | np.ndarray | Tensor | None = None,
    *,
    alpha_per_target: bool = True,
    keep_predictions: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Predictivity:
    """`cross_validated_predictivity` of one layer given its features rather than its Gram matrix.

    features: (n, p) — or (n, …), flattened — on any device; the other arguments and the result are
    `cross_validated_predictivity`'s (result dims without a layer axis). PLS on a layer narrower than
    its stimuli (p < n) runs in feature space (`regression._pls_core_features`: no n×n Gram matrix,
    2np numbers read per component instead of n², and exact float64 products with the features);
    otherwise the centred Gram matrix is formed (`regression.gram`) and solved in kernel form.
    Raises ValueError for PLS with fewer features than components (as scikit-learn does).
    """
    x = features.reshape(features.shape[0], -1)
    n, p = x.shape
    if method == "pls" and p < n_components:
        raise ValueError(f"PLS with {n_components} components needs at least as many features; the layer has {p}")
    if method != "pls" or p >= n:
        return cross_validated_predictivity(
            gram(x, center=True), responses, splits, method, n_components, alphas, alpha_per_target=alpha_per_target,
            keep_predictions=keep_predictions, progress=progress,
        )
    dev, f64 = x.device, torch.float64
    y, train, test = _checked_inputs(responses, splits, n, dev)
    r = torch.empty(1, len(splits), y.shape[1], dtype=f64, device=dev)
    kept = _prediction_store(1, test, y.shape[1], dev) if keep_predictions else None
    for tr, te, members in _equal_size_groups(train, test, n_components, dev):
        pred = _pls_core_features(x, y, tr, te, n_components, 500, 1e-06, progress)  # (S, n_te, q)
        if kept is not None:
            kept[0, members, : te.shape[1]] = pred
        r[0, members] = pearson(pred, y[te], dim=-2)
    return _summary(r, (), None, kept)


def regression_input(features: Tensor) -> Tensor:
    """What the regressions need of a layer (n, …): its centred (n, n) float64 Gram matrix, or — when it
    has fewer features than stimuli — the (n, p) features themselves (smaller than the Gram matrix, and
    PLS then runs in feature space). See `layers_predictivity`."""
    x = features.reshape(features.shape[0], -1)
    return x if x.shape[1] < x.shape[0] else gram(x, center=True)


def layers_predictivity(
    layers: Sequence[Tensor],
    responses: Tensor,
    splits: Sequence[tuple[Sequence[int], Sequence[int]]],
    method: str = "pls",
    n_components: int = 25,
    alphas: Sequence[float] | np.ndarray | Tensor | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[int], None] | None = None,
    keep_predictions: bool = False,
) -> Predictivity:
    """`cross_validated_predictivity` of L layers, each given by `regression_input`: an (n, n) Gram
    matrix (solved together, batched) or (n, p < n) features (`feature_predictivity`, one by one), on
    ``device`` (default: where they are; the Grams are stacked first and moved once).
    Returns results with a leading layer dim (L, …), in the order given. ``progress`` is advanced to
    ``regression_steps(L, splits, method, n_components)``.
    """
    if not layers:
        raise ValueError("no layers given")
    square = [i for i, k in enumerate(layers) if k.shape[0] == k.shape[1]]
    per_layer: dict[int, Predictivity] = {}
    if square:
        stacked = torch.stack([layers[i] for i in square]).to(device)
        batch = cross_validated_predictivity(stacked, responses, splits, method, n_components, alphas,
                                             keep_predictions=keep_predictions, progress=progress)
        per_layer |= {i: _map_fields(lambda v, j=j: v[j], batch) for j, i in enumerate(square)}
    for i, k in enumerate(layers):
        if i not in per_layer:
            per_layer[i] = feature_predictivity(k.to(device), responses, splits, method, n_components, alphas,
                                                keep_predictions=keep_predictions, progress=progress)
    ordered = [per_layer[i] for i in range(len(layers))]
    return Predictivity(**{f.name: None if getattr(ordered[0], f.name) is None
                           else torch.stack([getattr(p, f.name) for p in ordered]) for f in fields(Predictivity)})


def regression_steps(n_layers: int, splits: Sequence[tuple[Sequence[int], Sequence[int]]], method: str = "pls",
                     n_components: int = 25) -> int:
    """The total a regression's ``progress`` reaches for ``n_layers`` layers: PLS reports one step per layer
    and component for each group of equally sized splits (solved together), ridge one per layer and split."""
    if method != "pls":
        return n_layers * len(splits)
    return n_layers * n_components * len({(len(a), len(b)) for a, b in splits})


def _map_fields(fn: Callable[[Tensor], Tensor], result: Predictivity) -> Predictivity:
    return Predictivity(**{f.name: None if getattr(result, f.name) is None else fn(getattr(result, f.name))
                           for f in fields(Predictivity)})


def _checked_inputs(
    responses: Tensor, splits: Sequence[tuple[Sequence[int], Sequence[int]]], n: int, device: torch.device
) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """(responses as (n, q) float64 on ``device``, train indices, test indices), or a ValueError."""
    y = responses if responses.ndim == 2 else responses.unsqueeze(-1)
    if y.ndim != 2 or y.shape[0] != n:
        raise ValueError(f"responses must be (n_stimuli={n}, n_neuroids), got shape {tuple(responses.shape)}")
    if len(splits) == 0:
        raise ValueError("no splits given")
    train, test = [_as_index(a, n) for a, _ in splits], [_as_index(b, n) for _, b in splits]
    return y.to(device=device, dtype=torch.float64), train, test


def _equal_size_groups(
    train: list[Tensor], test: list[Tensor], n_components: int, device: torch.device
) -> list[tuple[Tensor, Tensor, list[int]]]:
    """Splits of equal train and test sizes, stacked to be solved together (Brain-Score's always are):
    [(train (S, n_tr), test (S, n_te), split positions)]. Checks PLS's component count per size."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(zip(train, test, strict=True)):
        groups.setdefault((len(a), len(b)), []).append(i)
    out = []
    for (n_train, _), members in groups.items():
        if not 1 <= n_components <= n_train:
            raise ValueError(f"PLS needs 1 ≤ n_components ≤ n_train = {n_train}, got {n_components}")
        out.append((torch.stack([train[i] for i in members]).to(device),
                    torch.stack([test[i] for i in members]).to(device), members))
    return out


def _summary(r: Tensor, lead: tuple[int, ...], chosen: Tensor | None,
             predictions: Tensor | None = None) -> Predictivity:
    """`Predictivity` from per-neuroid r (L, S, q) of L = prod(lead) layers (and their (L, S, n_te, q) predictions)."""
    n_splits, q = r.shape[1:]
    split_medians = nanmedian(r, -1)
    return Predictivity(
        split_medians=split_medians.reshape(*lead, n_splits),
        per_neuroid=r.reshape(*lead, n_splits, q),
        raw=torch.nanmean(split_medians, -1).reshape(lead),
        error=_split_error(split_medians).reshape(lead),
        alphas=None if chosen is None else chosen.reshape(*lead, n_splits, q),
        predictions=None if predictions is None else predictions.reshape(*lead, *predictions.shape[1:]),
    )


def internal_consistency(
    responses: Tensor, repetitions: Sequence[object], n_splits: int = 10, random_state: int = 1,
    precision: torch.dtype | None = None,
) -> Consistency:
    """Brain-Score's internal-consistency ceiling: split-half reliability over repetitions.

    responses: (n_repetitions, n, q) — trial responses of n stimuli × q neuroids, one slice per
    repetition, NaN where a stimulus (or neuroid) lacks that repetition; repetitions: the repetition
    value of each slice (length n_repetitions). Halves of repetition values are drawn by
    `splits.repetition_halves` (ShuffleSplit(train_size=0.5) over the sorted unique values, seed
    ``random_state``). Per split: each half is averaged over its repetitions ignoring NaN; Pearson r per
    neuroid across stimuli; Spearman–Brown 2r/(1+r); median over neuroids (NaN-skipping).
    ceiling = mean over splits; error = std(ddof=0) over splits / √n_splits. Half means are summed in
    ``precision``, by default the responses' (float32 stays float32, as xarray's mean of a float32 assembly;
    float32 responses summed in float64 are converted a block at a time, never copied whole), the rest in float64.

    Deviation: a stimulus with no response in one half (all its trials there NaN) is left out of that
    neuroid's correlation for that split (pairwise-complete); Brain-Score has no NaN padding — a
    stimulus missing from a half makes its alignment assertion fail. With complete data the results
    are Brain-Score's. Raises ValueError for fewer than 2 distinct repetition values (no ceiling).
    """
    if responses.ndim != 3:
        raise ValueError(f"responses must be (n_repetitions, n_stimuli, n_neuroids), got {tuple(responses.shape)}")
    labels = np.asarray(repetitions)
    if labels.shape != (responses.shape[0],):
        raise ValueError(f"{labels.size} repetition values for {responses.shape[0]} repetition slices")
    halves = repetition_halves(labels, n_splits=n_splits, random_state=random_state)
    dev, f64 = responses.device, torch.float64
    n_rep, n, q = responses.shape
    dtype = precision or (responses.dtype if responses.dtype in (torch.float32, torch.float64) else torch.float32)
    flat = responses.reshape(n_rep, n * q)
    select = torch.as_tensor(
        np.stack([np.isin(labels, h[which]) for which in (0, 1) for h in halves]), dtype=dtype, device=dev
    )  # (2·splits, repetitions): the first halves, then the second halves
    # Half means from one (2·splits × repetitions) @ (repetitions × stimuli·neuroids) product, in ``dtype``
    # (``precision``, by default the responses'); a NaN anywhere sends the computation through the NaN-aware path.
    means = _weighted_sum(select, flat).div_(select.sum(-1, keepdim=True))
    missing = bool(torch.isnan(means.sum()))
    if missing:
        valid = ~torch.isnan(flat)
        means = _weighted_sum(select, torch.where(valid, flat, 0.0)).div_(_weighted_sum(select, valid))  # 0/0: NaN
    means = means.reshape(2, -1, n, q)
    r = torch.empty(len(halves), q, dtype=f64, device=dev)
    for split in range(len(halves)):  # one split at a time: pearson's temporaries stay (n, q), not (splits, n, q)
        # float64 means: views when summed in float64, overwritten by pearson (not used again)
        first, second = means[0, split].to(f64), means[1, split].to(f64)
        complete = None if not missing else ~(torch.isnan(first) | torch.isnan(second))
        if complete is None or bool(complete.all()):
            r[split] = pearson(first, second, dim=-2, overwrite=True)
        else:
            r[split] = pearson(first, second, dim=-2, valid=complete)
    corrected = 2 * r / (1 + r)
    split_medians = nanmedian(corrected, -1)
    return Consistency(
        split_medians=split_medians,
        per_neuroid=corrected,
        ceiling=float(torch.nanmean(split_medians, -1)),
        error=float(_split_error(split_medians)),
    )


def _weighted_sum(weights: Tensor, rows: Tensor, block_elements: int = 2**18) -> Tensor:
    """weights (k, r) @ rows (r, m) in the weights' dtype; rows of another dtype are converted about
    ``block_elements`` at a time (a float32 trial array is never copied whole into float64; 2 MiB blocks stay in
    cache between the conversion and the product)."""
    if rows.dtype == weights.dtype:
        return weights @ rows
    block = max(1, block_elements // max(rows.shape[0], 1))
    out = torch.empty(weights.shape[0], rows.shape[1], dtype=weights.dtype, device=weights.device)
    for lo in range(0, rows.shape[1], block):
        out[:, lo : lo + block] = weights @ rows[:, lo : lo + block].to(weights.dtype)
    return out
