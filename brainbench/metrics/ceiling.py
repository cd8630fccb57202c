"""Noise ceilings: the one rule that turns a raw score and its ceiling into a ceiled score (`ceil`), and the
noise ceiling of a group of subject RDMs (Nili et al. 2014) with the model score it bounds.

Nili, Wingfield, Walther, Su, Marslen-Wilson & Kriegeskorte (2014), "A toolbox for representational
similarity analysis", PLoS Comput Biol 10(4): e1003553.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from torch import Tensor

from brainbench.errors import BrainbenchError
from brainbench.metrics.correlation import rankdata
from brainbench.metrics.rdm import METHODS, compare_rdms, compare_vectors, upper_triangle


def _zscore(v: Tensor) -> Tensor:
    """(..., m) → each vector minus its mean, over its population standard deviation."""
    centred = v - v.mean(-1, keepdim=True)
    return centred / centred.std(-1, correction=0, keepdim=True)


# How subject RDM vectors are made commensurable before averaging, per comparison method (as in the
# rsatoolbox's pool_rdm): ranks for the rank-based methods, z-scores for Pearson, so that each subject
# weighs equally whatever its distance scale. Both leave the subject's own comparison unchanged.
_POOLING: dict[str, Callable[[Tensor], Tensor]] = {
    "spearman": rankdata,
    "kendall_tau_a": rankdata,
    "pearson": _zscore,
}


def nili_bounds(subject_rdms: Tensor, method: str = "spearman") -> tuple[Tensor, Tensor]:
    """Lower and upper bound of the noise ceiling for `method` (one of METHODS).

    subject_rdms: (n_subjects, n, n) with n_subjects ≥ 2 (leading batch dims are allowed too).
    upper = mean over subjects of compare(subject, average of all subjects, itself included);
    lower = mean over subjects of compare(subject, average of the other subjects).
    Subjects' upper triangles are ranked (spearman, kendall_tau_a) or z-scored (pearson) before averaging.
    Returns two 0-dim tensors (or the batch shape), in the comparison's units (ρ, τa or r).
    """
    if method not in _POOLING:
        raise ValueError(f"unknown RDM comparison method '{method}'; choose one of {', '.join(METHODS)}")
    if subject_rdms.ndim < 3 or subject_rdms.shape[-3] < 2:
        raise ValueError(
            f"the noise ceiling needs RDMs of at least 2 subjects shaped (n_subjects, n, n), "
            f"got shape {tuple(subject_rdms.shape)}"
        )
    vectors = _POOLING[method](upper_triangle(subject_rdms))
    n_subjects = vectors.shape[-2]
    total = vectors.sum(-2, keepdim=True)
    upper = compare_vectors(vectors, total / n_subjects, method).mean(-1)
    lower = compare_vectors(vectors, (total - vectors) / (n_subjects - 1), method).mean(-1)
    return lower, upper


def mean_subject_similarity(
    model_rdm: Tensor, subject_rdms: Tensor, method: str = "spearman"
) -> tuple[Tensor, Tensor]:
    """The model score comparable with `nili_bounds`: its mean similarity to the individual subjects.

    model_rdm: (n, n); subject_rdms: (n_subjects, n, n) (leading batch dims broadcast).
    Returns (mean over subjects: 0-dim, per-subject similarities: (n_subjects,)).
    """
    per_subject = compare_rdms(model_rdm, subject_rdms, method)
    return per_subject.mean(-1), per_subject


#: Ceiling conventions and the formula each applies (recorded with every score as ``ceiled_formula``).
CONVENTIONS: dict[str, str] = {
    "explained_variance": "sign(raw) * raw**2 / ceiling",
    "ratio": "raw / ceiling",
    "sqrt_ratio": "raw / sqrt(ceiling)",
    "none": "raw (no ceiling)",
}


def ceil(
    raw: ArrayLike,
    ceiling: float | None,
    convention: str,
    *,
    scored: str = "The score",
    data: str = "the data",
    disagreeing: str = "its repeated measurements",
    raw_error: float | None = None,
) -> float | np.ndarray:
    """The ceiled score of `raw` under `convention` (a key of CONVENTIONS); the one rule for every benchmark kind.

    raw: one score, or an array of scores sharing `ceiling` (e.g. one per split); ceiling: the data's noise ceiling,
    None only with "none" (then raw is returned unchanged). Returns a float for a scalar `raw`, else an array.

    - "explained_variance": sign(raw)·raw²/ceiling — Brain-Score's neural r²/ceiling (its ceiling is a split-half
      reliability r, which bounds explained variance), except that a negative r stays negative: Brain-Score squares
      the sign away, so r = −0.1 and r = +0.1 score alike.
    - "ratio": raw/ceiling (RSA, V1 properties, error consistency).
    - "sqrt_ratio": raw/√ceiling (i2n: the ceiling is the humans' split-half r, which bounds a model's r by its root).

    Nothing is clipped. A ceiling ≤ 0 or not finite means the data do not agree with themselves, so no ceiled score
    is defined: BrainbenchError, one sentence naming `scored` (e.g. "Benchmark X"), `data`, what disagrees
    (`disagreeing`) and the raw score (± `raw_error`).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown ceiling convention '{convention}'; choose one of {', '.join(CONVENTIONS)}")
    if (ceiling is None) != (convention == "none"):
        raise ValueError(f"convention '{convention}' with ceiling {ceiling}: a ceiling needs a convention other than "
                         "'none', and 'none' takes no ceiling")
    values = np.asarray(raw, dtype=np.float64)
    if ceiling is None:
        out = values
    else:
        c = float(ceiling)
        if not (math.isfinite(c) and c > 0):
            spread = f" ± {raw_error:.2g}" if raw_error is not None and math.isfinite(raw_error) else ""
            counted = values[~np.isnan(values)]  # np.nanmean of nothing but NaN warns on stderr: a second line
            shown = float(counted.mean()) if counted.size else math.nan
            why = f"{disagreeing} do not agree, so the data are too noisy to ceil" if c <= 0 else \
                "it could not be computed, so no ceiled score is defined"
            raise BrainbenchError(
                f"{scored}: the noise ceiling of {data} is {c:.2g}{' (≤ 0)' if c <= 0 else ''}: {why}; raw = "
                f"{shown:.3g}{spread}. No score was recorded."
            )
        if convention == "explained_variance":
            out = np.sign(values) * values**2 / c
        elif convention == "ratio":
            out = values / c
        else:
            out = values / math.sqrt(c)
    return float(out) if out.ndim == 0 else out


def ceiling_details(convention: str, error_method: str) -> dict[str, str]:
    """What a score record says about how its ceiled value and its error were computed."""
    return {"ceiling_convention": convention, "ceiled_formula": CONVENTIONS[convention], "error_method": error_method}


def published_details(published: tuple[float, str] | None) -> dict[str, dict[str, float | str]]:
    """What a score record says about a ceiling taken from the literature: ``{"ceiling_published": {value,
    citation}}`` for a (value, citation), {} for a computed ceiling (None)."""
    return {} if published is None else {"ceiling_published": {"value": published[0], "citation": published[1]}}
