"""A linear behavioural readout: multinomial logistic regression on standardised features, cross-fitted."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from brainbench.errors import BrainbenchError


def cross_fitted_probabilities(
    features: ArrayLike, labels: ArrayLike, n_folds: int = 5, seed: int = 0, c: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Each image's class probabilities from a probe that never saw it.

    features: (n, d); labels: (n,) class of each image. The images are split into ``n_folds`` folds
    stratified by class (seeded); for each fold a logistic regression (L2, inverse strength ``c``) on
    features standardised over the other folds is fitted on those folds and predicts this one.
    Returns (classes sorted, (n, n_classes) probabilities).
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or counts.min() < n_folds:
        raise BrainbenchError(
            f"The probe needs at least 2 classes with {n_folds} images each to cross-fit; the smallest class "
            f"has {counts.min()}."
        )
    probabilities = np.zeros((len(y), len(classes)))
    for fit, held_out in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(x, y):
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        probe.fit(x[fit], y[fit])
        columns = np.searchsorted(classes, probe.classes_)
        probabilities[np.ix_(held_out, columns)] = probe.predict_proba(x[held_out])
    return classes, probabilities
