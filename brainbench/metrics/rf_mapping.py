"""Receptive-field location from responses to small grating patches on a grid of positions (Marques et al. 2021)."""

from __future__ import annotations

import numpy as np


def rf_centroids(rf_map: np.ndarray, position_y: np.ndarray, position_x: np.ndarray,
                 threshold: float = 0.05) -> np.ndarray:
    """Each unit's receptive-field centre in degrees: (n_units, 2) as (y, x), NaN for a unit that never responds.

    ``rf_map``: (n_y, n_x, n_units) response above baseline at each patch position (negative values
    count as 0). The centre is the response-weighted mean position over the positions whose response
    exceeds ``threshold`` × the unit's peak; grid indices map linearly onto ``position_y``/``position_x``
    (which must be evenly spaced).
    """
    rf_map = np.clip(rf_map, 0, None)
    peak = rf_map.reshape(-1, rf_map.shape[-1]).max(axis=0)
    weights = np.where(rf_map > threshold * peak, rf_map, 0)
    total = weights.sum(axis=(0, 1), dtype=np.float64)
    iy = np.arange(rf_map.shape[0], dtype=weights.dtype)
    ix = np.arange(rf_map.shape[1], dtype=weights.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        cy = np.einsum("yxu,y->u", weights, iy).astype(np.float64) / total
        cx = np.einsum("yxu,x->u", weights, ix).astype(np.float64) / total
    centre = np.stack((_to_degrees(cy, position_y), _to_degrees(cx, position_x)), axis=1)
    centre[~(peak > 0)] = np.nan
    return centre


def _to_degrees(index: np.ndarray, positions: np.ndarray) -> np.ndarray:
    step = (positions[-1] - positions[0]) / (len(positions) - 1) if len(positions) > 1 else 0.0
    return positions[0] + index * step


def near(centres: np.ndarray, position: tuple[float, float], radius: float) -> np.ndarray:
    """Indices of the units whose centre lies within ``radius`` degrees of ``position`` (y, x)."""
    distance = np.hypot(centres[:, 0] - position[0], centres[:, 1] - position[1])
    return np.flatnonzero(distance <= radius)
