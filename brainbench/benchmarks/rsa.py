"""Benchmark kind 'rsa': representational similarity of a model layer's RDM with the data's RDMs.

The layer is chosen on one half of the stimuli and scored on the other (both ways, over repeated
stratified halvings), so the score never sees the stimuli its layer was chosen on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr

from brainbench.benchmarks.spec import CEILING_METHODS as KIND_CEILING_METHODS
from brainbench.benchmarks.spec import PUBLISHED, RSA_COMPARISONS
from brainbench.data.assemblies import RDM_DIMS
from brainbench.errors import BrainbenchError
from brainbench.metrics import compare_rdms, nili_bounds, rdm, subset, upper_triangle
from brainbench.metrics.ceiling import ceil
from brainbench.metrics.splits import stratified_halves
from brainbench.metrics.uncertainty import error_method, halving_standard_error

CEILING_METHODS = KIND_CEILING_METHODS["rsa"]


@dataclass(frozen=True)
class RSAResult:
    """What an RSA benchmark measured. Per-fold lists have one entry per (split, direction).

    ceiled: raw / ceiling (`metrics.ceiling.ceil`, "ratio"; raw without a ceiling); error: SEM (ddof=1) over the
    halvings of the per-fold ceiled score (raw score / that fold's ceiling), the two directions of a halving
    averaged first; raw_error: the same of the raw fold scores.
    """

    raw: float
    raw_error: float | None
    ceiling: float | None
    ceiled: float
    error: float | None
    layer: str
    fold_scores: list[float]
    fold_layers: list[str]
    fold_ceilings: list[dict[str, float]] = field(default_factory=list)
    fold_ceiled: list[float] = field(default_factory=list)
    layer_profile: dict[str, float] = field(default_factory=dict)
    convention: str = "none"
    error_method: str = ""
    fold_scored: list[np.ndarray] = field(default_factory=list)  # per fold, the indices of the stimuli scored


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


def layer_rdms(activations: dict[str, torch.Tensor], device: torch.device,
               progress: Callable[[int], None] | None = None) -> tuple[list[str], torch.Tensor]:
    """Layer names and their (n_layers, n, n) correlation-distance RDMs, computed on ``device``
    (``progress`` is called with 1 after each layer).

    The Gram products run in float32 (distances within ~1e-7 of float64, ten times faster on a CPU);
    the small RDMs are then held in float64 for ranking and comparison.
    """
    names = list(activations)
    rdms = []
    for name in names:
        rdms.append(rdm(activations[name].to(device, torch.float32)).double())
        if progress:
            progress(1)
    stacked = torch.stack(rdms)
    if not torch.isfinite(stacked).all():
        bad = next(n for n, r in zip(names, rdms, strict=True) if not torch.isfinite(r).all())
        raise BrainbenchError(
            f"Layer {bad} gives constant responses to some stimuli, so its RDM is undefined; drop it with --layers."
        )
    return names, stacked


def check_options(ceiling: str, comparison: str, published: float | None, squared: bool, n_subjects: int,
                  scored: str = "The RSA score") -> None:
    """BrainbenchError, one sentence, unless `rsa_score` can run with these options on ``n_subjects`` RDMs."""
    if ceiling not in CEILING_METHODS:
        raise BrainbenchError(f"{scored}: unknown ceiling method '{ceiling}'; choose one of "
                              f"{', '.join(CEILING_METHODS)}.")
    if comparison not in RSA_COMPARISONS:
        raise BrainbenchError(f"{scored}: unknown RDM comparison '{comparison}'; choose one of "
                              f"{', '.join(RSA_COMPARISONS)}.")
    if (ceiling == PUBLISHED) != (published is not None):
        raise BrainbenchError(f"{scored}: a published ceiling and its value go together (ceiling '{ceiling}', value "
                              f"{published}).")
    if squared and ceiling != PUBLISHED:
        raise BrainbenchError(f"{scored}: the squared-correlation score needs a published R² ceiling; the Nili bounds "
                              "are correlations, not squared correlations.")
    if ceiling.startswith("nili") and n_subjects < 2:
        raise BrainbenchError(f"{scored}: a Nili noise ceiling needs RDMs of at least 2 subjects; this data has one.")


def rsa_score(
    layers: Sequence[str],
    model_rdms: torch.Tensor,
    data_rdms: torch.Tensor,
    strata: Sequence[object],
    comparison: str = "spearman",
    n_splits: int = 10,
    seed: int = 0,
    ceiling: str = "none",
    scored: str = "The RSA score",
    data: str = "the data RDMs",
    progress: Callable[[int], None] | None = None,
    published: float | None = None,
    squared: bool = False,
) -> RSAResult:
    """Cross-validated RSA score.

    model_rdms: (n_layers, n, n); data_rdms: (n_subjects, n, n) on the same device. A layer's
    similarity is the mean over subjects of ``comparison`` (Spearman ρ, Kendall τa, Pearson r)
    between upper triangles. For each split and direction the best layer on the selection half is
    scored on the other half. raw = mean over folds. Ceiling 'nili_upper'/'nili_lower' (needs ≥ 2
    subjects) is the mean over folds of that Nili bound on the scoring halves; 'published' is ``published`` (a value
    from the literature, in the score's units); 'none' gives no ceiling.
    ``squared``: a fold's score is the mean over subjects of the squared comparison (R²), as the Algonauts 2019
    challenge scored fMRI RDMs (Cichy et al. 2019, arXiv:1905.05675; its evaluation squares each subject's ρ, then
    averages: a negative ρ counts as its square) — only with a published R² ceiling; layers are still chosen by the
    signed mean comparison, so an anti-correlated layer is never chosen for its square.
    ceiled and the errors as `RSAResult` says; a ceiling ≤ 0 (overall or in a fold) is a BrainbenchError naming
    `scored` and `data`. ``progress`` is called with 1 after each of the 2 × n_splits folds.
    """
    check_options(ceiling, comparison, published, squared, data_rdms.shape[0], scored)
    data_rdms = data_rdms.to(model_rdms.device, model_rdms.dtype)

    def per_subject(models: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # (..., n_subjects)
        return compare_rdms(subset(models, idx)[..., None, :, :], subset(data_rdms, idx), comparison)

    def score_of(values: torch.Tensor) -> torch.Tensor:  # (..., n_subjects) → (...): the scored statistic
        return (values.square() if squared else values).mean(-1)

    fold_scores, fold_layers, fold_ceilings, fold_scored = [], [], [], []
    for half_a, half_b in stratified_halves(strata, n_splits, seed):
        for select, score in ((half_a, half_b), (half_b, half_a)):
            fold_scored.append(score)
            select_idx = torch.as_tensor(select, device=model_rdms.device)
            score_idx = torch.as_tensor(score, device=model_rdms.device)
            best = int(torch.argmax(per_subject(model_rdms, select_idx).mean(-1)))
            fold_layers.append(layers[best])
            fold_scores.append(float(score_of(per_subject(model_rdms[best], score_idx))))
            if ceiling.startswith("nili"):
                lower, upper = nili_bounds(subset(data_rdms, score_idx), comparison)
                fold_ceilings.append({"lower": float(lower), "upper": float(upper)})
            if progress:
                progress(1)

    bound = {"nili_upper": "upper", "nili_lower": "lower"}.get(ceiling)
    raw = float(np.mean(fold_scores))
    fold_bounds = [c[bound] for c in fold_ceilings] if bound else [published] * len(fold_scores)
    overall = float(np.mean(fold_bounds)) if bound else published
    convention = "none" if overall is None else "ratio"
    about = {"scored": scored, "disagreeing": "its subjects' RDMs",
             "raw_error": halving_standard_error(fold_scores, n_splits)}
    ceiled = ceil(raw, overall, convention, data=data, **about)  # the overall ceiling is checked first
    fold_ceiled = [ceil(value, fold_bounds[i], convention, data=f"{data} (halving {i // 2}, direction {i % 2})",
                        **about)
                   for i, value in enumerate(fold_scores)]
    everything = torch.arange(model_rdms.shape[-1], device=model_rdms.device)
    profile = dict(zip(layers, (float(v) for v in score_of(per_subject(model_rdms, everything))), strict=True))
    return RSAResult(
        raw=raw,
        raw_error=about["raw_error"],
        ceiling=overall,
        ceiled=ceiled,
        error=halving_standard_error(fold_ceiled, n_splits),
        layer=Counter(fold_layers).most_common(1)[0][0],
        fold_scores=fold_scores,
        fold_layers=fold_layers,
        fold_ceilings=fold_ceilings,
        fold_ceiled=fold_ceiled,
        layer_profile=profile,
        convention=convention,
        error_method=error_method(n_splits, "stratified halvings of the stimuli", "halving",
                                  "per halving, the ceiled scores of its two directions (layer chosen on one half, "
                                  "scored on the other) averaged; the halvings reuse the same stimuli, so they are not "
                                  "independent"),
        fold_scored=fold_scored,
    )


def rsa_units(layers: Sequence[str], model_rdms: torch.Tensor, data_rdms: torch.Tensor, result: RSAResult,
              stimulus_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """The per-unit results a paired stimulus (and subject) bootstrap of `result` needs (comparison/rsa_test.py).

    model_rdms: (n_layers, n, n) as scored; data_rdms: (n_subjects, n, n). Returns ``model_rdms`` (k, n(n−1)/2)
    float32, the condensed RDMs (scipy's squareform order) of the k layers some fold scored; ``fold_layer``
    (n_folds,) int16, each fold's row of it; ``fold_scored`` (n_folds, n) bool, the stimuli each fold scored;
    ``data_rdms`` (n_subjects, n(n−1)/2) float32, so that no dataset is needed to compare; ``stimulus_ids`` (n,).
    float32 keeps ~7 significant digits of a distance in [0, 2], far finer than any RDM's measurement noise.
    """
    used = list(dict.fromkeys(result.fold_layers))
    rows = torch.as_tensor([list(layers).index(name) for name in used], device=model_rdms.device)
    scored = np.zeros((len(result.fold_scored), len(stimulus_ids)), dtype=bool)
    for fold, indices in enumerate(result.fold_scored):
        scored[fold, indices] = True
    return {
        "model_rdms": upper_triangle(model_rdms.index_select(0, rows)).cpu().numpy().astype(np.float32),
        "fold_layer": np.asarray([used.index(name) for name in result.fold_layers], dtype=np.int16),
        "fold_scored": scored,
        "data_rdms": upper_triangle(data_rdms).cpu().numpy().astype(np.float32),
        "stimulus_ids": np.asarray([str(s) for s in stimulus_ids]),
    }
