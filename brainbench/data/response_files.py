"""Neural response assemblies from a user's array (stimulus × neuroid [× repetition] [× time_bin], any axis order),
in Brain-Score's layout: one presentation row per recorded (stimulus, repetition), stimulus-major."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from brainbench.data.assemblies import check_neural_assembly
from brainbench.data.assembly_tables import AssemblyTable
from brainbench.data.rdm_files import check_dims
from brainbench.errors import DataError

REQUIRED = ("stimulus", "neuroid")
OPTIONAL = ("repetition", "time_bin")
TIME_BIN_COORDS = ("time_bin_start", "time_bin_end")
"""Coords keys along ``time_bin`` (ms); every other coords key labels the neuroids (neuroid_id, animal, …)."""


def _coords_along(table: AssemblyTable, keys: Sequence[str], size: int, dim: str) -> dict[str, tuple]:
    coords = {}
    for key in keys:
        values = table.coords[key]
        if len(values) != size:
            raise DataError(f"{table.where}: coords {key} has {len(values)} values for the {size} {dim}s.")
        coords[key] = (dim, np.asarray(values))
    return coords


def build_response_assembly(values: np.ndarray, table: AssemblyTable, stimulus_ids: Sequence[str]) -> xr.DataArray:
    """A ``presentation × neuroid [× time_bin]`` assembly with ``stimulus_id`` (and ``repetition``) coordinates.

    With a repetition axis, NaN marks a (stimulus, repetition) slot that was not recorded (every neuroid NaN there);
    a slot recorded for some neuroids only is refused. Without one, no value may be NaN. ``neuroid_id`` defaults to
    "0", "1", …; a time_bin axis needs coords ``time_bin_start`` and ``time_bin_end`` (ms); ``region`` along neuroid
    is the assembly's region attribute unless coords gives one.
    """
    allowed = f"{' and '.join(REQUIRED)} (required), {' and '.join(OPTIONAL)} (optional), in the array's axis order"
    check_dims(table, values.shape, allowed)
    dims = list(table.dims)
    if any(d not in REQUIRED + OPTIONAL for d in dims) or len(set(dims)) != len(dims) or \
            any(d not in dims for d in REQUIRED):
        raise DataError(f"{table.where}: dims ({', '.join(dims)}) must name {allowed}, each once.")
    if "repetition" in table.coords:
        raise DataError(f"{table.where}: repetitions are numbered 0, 1, … along their axis; drop coords repetition.")
    size = dict(zip(dims, values.shape, strict=True))
    if size["stimulus"] != len(stimulus_ids):
        raise DataError(f"{table.where} has {size['stimulus']} stimuli along its stimulus axis but stimulus source "
              f"'{table.stimuli}' has {len(stimulus_ids)}.")
    order = [d for d in ("stimulus", "repetition", "neuroid", "time_bin") if d in dims]
    array = np.asarray(np.transpose(values, [dims.index(d) for d in order]), dtype=np.float64)
    if "repetition" not in dims:
        array = array[:, None]  # one repetition, numbered by no coordinate
    missing = np.isnan(array).reshape((*array.shape[:2], -1))
    recorded = ~missing.all(axis=2)
    if (missing.any(axis=2) & recorded).any():
        stimulus, repetition = (int(i) for i in np.argwhere(missing.any(axis=2) & recorded)[0])
        slot = f"stimulus {stimulus_ids[stimulus]}" + (f", repetition {repetition}" if "repetition" in dims else "")
        raise DataError(f"{table.where}: {slot} has NaN for some neuroids only; NaN marks a presentation that was "
                        "not recorded (all neuroids NaN).")
    if "repetition" not in dims and not recorded.all():
        raise DataError(f"{table.where} has NaN responses but no repetition axis; give every stimulus a response.")
    stimuli, repetitions = np.nonzero(recorded)  # row-major: stimulus-major, repetitions in order
    presentation = {"stimulus_id": ("presentation", [stimulus_ids[i] for i in stimuli])}
    if "repetition" in dims:
        presentation["repetition"] = ("presentation", repetitions.astype(int))

    n_neuroids = size["neuroid"]
    neuroid_keys = [k for k in table.coords if k not in TIME_BIN_COORDS]
    neuroid = _coords_along(table, neuroid_keys, n_neuroids, "neuroid")
    neuroid.setdefault("neuroid_id", ("neuroid", np.asarray([str(i) for i in range(n_neuroids)])))
    if "region" in table.attrs:
        neuroid.setdefault("region", ("neuroid", np.asarray([str(table.attrs["region"])] * n_neuroids)))
    coords = {**presentation, **neuroid}
    out_dims = ("presentation", "neuroid")
    if "time_bin" in dims:
        out_dims += ("time_bin",)
        if any(k not in table.coords for k in TIME_BIN_COORDS):
            raise DataError(f"{table.where}: a time_bin axis needs coords time_bin_start and time_bin_end (ms), one "
                            "value per bin, so that a benchmark can name its bin.")
        coords |= _coords_along(table, TIME_BIN_COORDS, size["time_bin"], "time_bin")
    assembly = xr.DataArray(array[stimuli, repetitions], dims=out_dims, coords=coords, attrs=dict(table.attrs))
    check_neural_assembly(assembly, table.where)
    return assembly
