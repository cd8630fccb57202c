"""Pure tensor math for scoring: correlations, RDMs, regressions, splits and noise ceilings (torch in, torch out,
any device)."""

from brainbench.metrics.ceiling import mean_subject_similarity, nili_bounds
from brainbench.metrics.correlation import kendall_tau_a, pearson, rankdata, spearman
from brainbench.metrics.predictivity import (
    CEILED_FORMULA,
    REGRESSION_METHODS,
    Consistency,
    Predictivity,
    ceil_explained_variance,
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

__all__ = [
    "BRAINSCORE_ALPHAS",
    "CEILED_FORMULA",
    "DEFAULT_ALPHAS",
    "METHODS",
    "REGRESSION_METHODS",
    "Consistency",
    "Predictivity",
    "brainscore_splits",
    "ceil_explained_variance",
    "compare_rdms",
    "compare_vectors",
    "cross_validated_predictivity",
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
    "subset",
    "upper_triangle",
]
