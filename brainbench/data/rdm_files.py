"""RDM assemblies from a user's array: checked (axis names, size, symmetry, diagonal), then labelled."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from brainbench.data.assemblies import rdm_assembly
from brainbench.data.assembly_tables import AssemblyTable
from brainbench.errors import DataError

STIMULUS = "stimulus"
RELATIVE_TOLERANCE = 1e-6
"""Asymmetry and a non-zero diagonal are tolerated up to this fraction of the largest |dissimilarity|: float32
storage or a text round trip moves values by ~1e-7 of their size, while a real asymmetry is far larger."""


def check_dims(table: AssemblyTable, shape: tuple[int, ...], allowed: str) -> None:
    """Refuse ``dims`` that do not name each axis of an array of ``shape`` (``allowed``: what they may be)."""
    if len(table.dims) != len(shape):
        raise DataError(f"{table.where} has {len(shape)} axes (shape {shape}) but dims names {len(table.dims)} "
                        f"({', '.join(table.dims)}); name each axis: {allowed}.")


def _labels(table: AssemblyTable, dim: str, size: int) -> list[str]:
    if dim not in table.coords:
        return [str(i + 1) for i in range(size)]
    labels = [str(v) for v in table.coords[dim]]
    if len(labels) != size:
        raise DataError(f"{table.where}: coords {dim} has {len(labels)} labels for an axis of length {size}.")
    return labels


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def check_rdms(rdms: np.ndarray, where: str) -> None:
    """Refuse (n_rdms, n, n) RDMs that are not symmetric or whose diagonal is neither zero nor NaN."""
    scale = float(np.nanmax(np.abs(rdms))) if np.isfinite(rdms).any() else 0.0
    tolerance = RELATIVE_TOLERANCE * scale
    flipped = np.swapaxes(rdms, -1, -2)
    asymmetric = ~((np.abs(rdms - flipped) <= tolerance) | (np.isnan(rdms) & np.isnan(flipped)))
    if asymmetric.any():
        k, i, j = _first(asymmetric)
        raise DataError(f"{where}: RDM {k} is not symmetric (row {i}, column {j}: {float(rdms[k, i, j])!r} vs "
                        f"{float(rdms[k, j, i])!r}; tolerance {RELATIVE_TOLERANCE:g} of the largest value).")
    diagonal = np.diagonal(rdms, axis1=-2, axis2=-1)
    bad = ~(np.isnan(diagonal) | (np.abs(diagonal) <= tolerance))
    if bad.any():
        k, i = _first(bad)
        raise DataError(f"{where}: RDM {k} has {float(diagonal[k, i])!r} on its diagonal (row {i}); a dissimilarity "
                        "matrix has zero (or NaN) there.")


def build_rdm_assembly(values: np.ndarray, table: AssemblyTable, stimulus_ids: Sequence[str]) -> xr.DataArray:
    """``stimulus_a × stimulus_b`` RDMs after the leading unit dims of ``table.dims`` (subject, session, …).

    A leading axis of length 1 without coords is dropped (MATLAB keeps at least two axes, so its 1 is no unit);
    unlabelled axes are labelled "1", "2", …; a NaN diagonal is stored as 0 (dissimilarity of a stimulus to itself).
    """
    leading_names = "leading unit dims (subject, session, ...) then stimulus, stimulus"
    check_dims(table, values.shape, leading_names)
    leading, last_two = list(table.dims[:-2]), tuple(table.dims[-2:])
    if last_two != (STIMULUS, STIMULUS) or STIMULUS in leading or len(set(leading)) != len(leading):
        raise DataError(f"{table.where}: dims ({', '.join(table.dims)}) must be {leading_names}, each name once.")
    unknown = sorted(set(table.coords) - set(leading))
    if unknown:
        raise DataError(f"{table.where}: coords {', '.join(unknown)} name no leading axis of dims.")
    n = values.shape[-1]
    if values.shape[-2] != n or n != len(stimulus_ids):
        raise DataError(f"{table.where} holds {values.shape[-2]}×{n} RDMs but stimulus source '{table.stimuli}' has "
                        f"{len(stimulus_ids)} stimuli.")
    rdms = np.array(values, dtype=np.float64)  # a copy: the diagonal is written below
    check_rdms(rdms.reshape(-1, n, n), table.where)
    kept = [axis for axis, dim in enumerate(leading) if values.shape[axis] != 1 or dim in table.coords]
    rdms = rdms.reshape((*(values.shape[a] for a in kept), n, n))
    on_diagonal = np.arange(n)
    rdms[..., on_diagonal, on_diagonal] = np.nan_to_num(rdms[..., on_diagonal, on_diagonal], nan=0.0)
    coords = {leading[a]: _labels(table, leading[a], values.shape[a]) for a in kept}
    return rdm_assembly(rdms, stimulus_ids, coords, **table.attrs)
