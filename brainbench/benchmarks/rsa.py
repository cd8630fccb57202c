"""Benchmark kind 'rsa': representational similarity of a model layer's RDM with the data's RDMs.

The layer is chosen on one half of the stimuli and scored on the other (both ways, over repeated
stratified halvings), so the score never sees the stimuli its layer was chosen on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr

from brainbench.data.assemblies import RDM_DIMS
from brainbench.errors import BrainbenchError
from brainbench.metrics import compare_rdms, nili_bounds, rdm, subset
from brainbench.metrics.splits import stratified_halves

CEILING_METHODS = ("none", "nili_upper", "nili_lower")


@dataclass(frozen=True)
class RSAResult:
    """What an RSA benchmark measured. Per-fold lists have one entry per (split, direction)."""

    raw: float
    error: float
    ceiling: float | None
    layer: str
    fold_scores: list[float]
    fold_layers: list[str]
    fold_ceilings: list[dict[str, float]] = field(default_factory=list)
    layer_profile: dict[str, float] = field(default_factory=dict)

    @property
    def ceiled(self) -> float:
        return self.raw / self.ceiling if self.ceiling else self.raw


def subject_rdms(assembly: xr.DataArray) -> torch.Tensor:
    """(n_subjects, n, n) float64 RDMs from an RDM assembly: sessions averaged, other leading dims stacked."""
    if tuple(assembly.dims[-2:]) != RDM_DIMS:
        raise BrainbenchError(f"Assembly '{assembly.name}' is not an RDM assembly ({assembly.dims}).")
    if "session" in assembly.dims:
        assembly = assembly.mean("session")
    values = np.asarray(assembly.values, dtype=np.float64)
    n = values.shape[-1]
    values = values.reshape(-1, n, n)
    if not np.isfinite(values).all():
        raise BrainbenchError(f"Assembly '{assembly.name}' holds NaN or infinite dissimilarities.")
    return torch.from_numpy(values)


def layer_rdms(activations: dict[str, torch.Tensor], device: torch.device) -> tuple[list[str], torch.Tensor]:
    """Layer names and their (n_layers, n, n) correlation-distance RDMs, computed on ``device``.

    The Gram products run in float32 (distances within ~1e-7 of float64, ten times faster on a CPU);
    the small RDMs are then held in float64 for ranking and comparison.
    """
    names = list(activations)
    rdms = [rdm(activations[name].to(device, torch.float32)).double() for name in names]
    stacked = torch.stack(rdms)
    if not torch.isfinite(stacked).all():
        bad = next(n for n, r in zip(names, rdms, strict=True) if not torch.isfinite(r).all())
        raise BrainbenchError(
            f"Layer {bad} gives constant responses to some stimuli, so its RDM is undefined; drop it with --layers."
        )
    return names, stacked


def rsa_score(
    layers: Sequence[str],
    model_rdms: torch.Tensor,
    data_rdms: torch.Tensor,
    strata: Sequence[object],
    comparison: str = "spearman",
    n_splits: int = 10,
    seed: int = 0,
    ceiling: str = "none",
) -> RSAResult:
    """Cross-validated RSA score.

    model_rdms: (n_layers, n, n); data_rdms: (n_subjects, n, n) on the same device. A layer's
    similarity is the mean over subjects of ``comparison`` (Spearman ρ, Kendall τa, Pearson r)
    between upper triangles. For each split and direction the best layer on the selection half is
    scored on the other half. raw = mean over folds; error = SEM over splits (the two directions of a
    split averaged first). Ceiling 'nili_upper'/'nili_lower' (needs ≥ 2 subjects) is the mean over
    folds of that Nili bound on the scoring halves; 'none' gives no ceiling.
    """
    if ceiling not in CEILING_METHODS:
        raise BrainbenchError(f"Unknown ceiling method '{ceiling}'; choose one of {', '.join(CEILING_METHODS)}.")
    if ceiling != "none" and data_rdms.shape[0] < 2:
        raise BrainbenchError("A Nili noise ceiling needs RDMs of at least 2 subjects; this data has one.")
    data_rdms = data_rdms.to(model_rdms.device, model_rdms.dtype)

    def similarity(idx: torch.Tensor) -> torch.Tensor:  # (n_layers,)
        return compare_rdms(subset(model_rdms, idx)[:, None], subset(data_rdms, idx)[None], comparison).mean(-1)

    fold_scores, fold_layers, fold_ceilings = [], [], []
    for half_a, half_b in stratified_halves(strata, n_splits, seed):
        for select, score in ((half_a, half_b), (half_b, half_a)):
            select_idx = torch.as_tensor(select, device=model_rdms.device)
            score_idx = torch.as_tensor(score, device=model_rdms.device)
            best = int(torch.argmax(similarity(select_idx)))
            fold_layers.append(layers[best])
            held_out = subset(model_rdms[best], score_idx)
            fold_scores.append(float(compare_rdms(held_out, subset(data_rdms, score_idx), comparison).mean()))
            if ceiling != "none":
                lower, upper = nili_bounds(subset(data_rdms, score_idx), comparison)
                fold_ceilings.append({"lower": float(lower), "upper": float(upper)})

    per_split = np.asarray(fold_scores).reshape(n_splits, 2).mean(1)
    error = float(per_split.std(ddof=1) / np.sqrt(n_splits)) if n_splits > 1 else float("nan")
    bound = {"nili_upper": "upper", "nili_lower": "lower"}.get(ceiling)
    everything = torch.arange(model_rdms.shape[-1], device=model_rdms.device)
    profile = dict(zip(layers, (float(v) for v in similarity(everything)), strict=True))
    return RSAResult(
        raw=float(np.mean(fold_scores)),
        error=error,
        ceiling=float(np.mean([c[bound] for c in fold_ceilings])) if bound else None,
        layer=Counter(fold_layers).most_common(1)[0][0],
        fold_scores=fold_scores,
        fold_layers=fold_layers,
        fold_ceilings=fold_ceilings,
        layer_profile=profile,
    )
