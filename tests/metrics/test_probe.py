"""The cross-fitted linear probe: no image is predicted by a probe fitted on it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from brainbench.errors import BrainbenchError
from brainbench.metrics.probe import cross_fitted_probabilities


def clusters(seed: int = 0, n_per_class: int = 12, d: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.array(["car", "dog", "face"]), n_per_class)
    centres = {c: rng.normal(0, 1, d) * 3 for c in ("car", "dog", "face")}
    return np.stack([centres[c] + rng.normal(0, 1, d) for c in labels]), labels


def test_separable_classes_are_read_out() -> None:
    features, labels = clusters()
    classes, p = cross_fitted_probabilities(features, labels, n_folds=4, seed=0)
    assert classes.tolist() == ["car", "dog", "face"]
    assert p.shape == (36, 3) and np.allclose(p.sum(axis=1), 1)
    assert np.mean(classes[p.argmax(axis=1)] == labels) > 0.95


def test_each_image_is_predicted_by_a_probe_that_never_saw_it() -> None:
    features, labels = clusters(seed=1)
    # Make image 0 an outlier labelled 'dog' far in a direction no other image has: a probe fitted on it
    # would be confident it is a dog; one that never saw it cannot know.
    features[0] = 0
    features[0, 0] = 1e3
    labels = labels.copy()
    labels[0] = "dog"
    _, held_out = cross_fitted_probabilities(features, labels, n_folds=3, seed=0)
    seen = LogisticRegression(max_iter=2000).fit(StandardScaler().fit_transform(features), labels)
    in_sample = seen.predict_proba(StandardScaler().fit(features).transform(features[:1]))[0]
    assert in_sample[1] > 0.9  # fitted on itself: 'dog'
    assert held_out[0, 1] < in_sample[1] - 0.3


def test_too_few_images_per_class() -> None:
    features, labels = clusters(n_per_class=3)
    with pytest.raises(BrainbenchError, match="at least 2 classes with 5 images each"):
        cross_fitted_probabilities(features, labels, n_folds=5)
