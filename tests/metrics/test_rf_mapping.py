"""Receptive-field centres from position maps: weighted centroids above 5% of the peak."""

from __future__ import annotations

import numpy as np
import pytest

from brainbench.metrics.rf_mapping import near, rf_centroids

POSITIONS = np.linspace(-2.5, 2.5, 21)


def test_centroid_of_gaussian_maps_is_their_centre() -> None:
    centres = np.array([[0.5, 0.5], [-1.3, 0.8], [1.5, -1.6]])  # away from the grid edge, which truncates
    yy, xx = np.meshgrid(POSITIONS, POSITIONS, indexing="ij")
    maps = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 0.4**2)) for cy, cx in centres], axis=-1)
    found = rf_centroids(maps, POSITIONS, POSITIONS)
    assert found == pytest.approx(centres, abs=0.02)


def test_threshold_and_silent_units() -> None:
    maps = np.zeros((21, 21, 3))
    maps[10, 10, 0], maps[10, 14, 0] = 1.0, 0.04  # the weak response is below 5% of the peak: ignored
    maps[4, 6, 1], maps[4, 8, 1] = 1.0, 3.0  # both count: weighted mean index (4, 7.5)
    maps[:, :, 2] = -1.0  # never above baseline
    found = rf_centroids(maps, POSITIONS, POSITIONS)
    # Weighted means of grid positions (linspace values): rounding only.
    assert found[0] == pytest.approx([0.0, 0.0], abs=1e-12)
    assert found[1] == pytest.approx([-2.5 + 4 * 0.25, -2.5 + 7.5 * 0.25], abs=1e-12)
    assert np.isnan(found[2]).all()
    assert near(found, (0.0, 0.0), 0.15).tolist() == [0]
    assert near(found, (-1.5, -0.6), 0.15).tolist() == [1]
