"""Pure tensor math for scoring: correlations, RDMs and noise ceilings (torch in, torch out, any device)."""

from brainbench.metrics.ceiling import mean_subject_similarity, nili_bounds
from brainbench.metrics.correlation import kendall_tau_a, pearson, rankdata, spearman
from brainbench.metrics.rdm import METHODS, compare_rdms, compare_vectors, rdm, subset, upper_triangle

__all__ = [
    "METHODS",
    "compare_rdms",
    "compare_vectors",
    "kendall_tau_a",
    "mean_subject_similarity",
    "nili_bounds",
    "pearson",
    "rankdata",
    "rdm",
    "spearman",
    "subset",
    "upper_triangle",
]
