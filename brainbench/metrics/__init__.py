"""Pure math for scoring: correlations, RDMs, regressions, splits, noise ceilings and errors (torch in, torch out,
any device; the behavioural metrics, ceilings and errors on numpy)."""

from brainbench.metrics.ceiling import CONVENTIONS, ceil, ceiling_details, mean_subject_similarity, nili_bounds
from brainbench.metrics.correlation import kendall_tau_a, pearson, rankdata, spearman
from brainbench.metrics.predictivity import (
    REGRESSION_METHODS,
    Consistency,
    Predictivity,
    cross_validated_predictivity,
    feature_predictivity,
    internal_consistency,
)
from brainbench.metrics.rdm import METHODS, compare_rdms, compare_vectors, rdm, subset, upper_triangle
from brainbench.metrics.regression import (
    BRAINSCORE_ALPHAS,
    DEFAULT_ALPHAS,
    gram,
    kernel_pls_predict,
    kernel_ridge_cv_predict,
    pls_predict,
)
from brainbench.metrics.splits import brainscore_splits, repetition_halves
from brainbench.metrics.uncertainty import error_method, standard_error

__all__ = [
    "BRAINSCORE_ALPHAS",
    "CONVENTIONS",
    "DEFAULT_ALPHAS",
    "METHODS",
    "REGRESSION_METHODS",
    "Consistency",
    "Predictivity",
    "brainscore_splits",
    "ceil",
    "ceiling_details",
    "compare_rdms",
    "compare_vectors",
    "cross_validated_predictivity",
    "error_method",
    "feature_predictivity",
    "gram",
    "internal_consistency",
    "kendall_tau_a",
    "kernel_pls_predict",
    "kernel_ridge_cv_predict",
    "mean_subject_similarity",
    "nili_bounds",
    "pearson",
    "pls_predict",
    "rankdata",
    "rdm",
    "repetition_halves",
    "spearman",
    "standard_error",
    "subset",
    "upper_triangle",
]
