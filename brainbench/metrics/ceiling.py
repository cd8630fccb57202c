"""Noise ceiling of a group of subject RDMs (Nili et al. 2014) and the model score it bounds.

Nili, Wingfield, Walther, Su, Marslen-Wilson & Kriegeskorte (2014), "A toolbox for representational
similarity analysis", PLoS Comput Biol 10(4): e1003553.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

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
