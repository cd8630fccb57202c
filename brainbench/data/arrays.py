"""Reading one numeric array out of a user's file: .npy, .npz, .nc, and MATLAB .mat (v5 via scipy, v7.3 via h5py).

A variable is named as the manifest names it: the ``.npz`` key, the netCDF variable, or the MATLAB variable with
struct fields after dots (``"RDMs.RDM"``). A field of a struct array (or the cells of a cell array) is stacked into
one array whose leading axes are the struct array's own (a scalar struct adds none): ``RDMs.RDM`` of a 1×4×2 struct
of 92×92 matrices is a (1, 4, 2, 92, 92) array. Every failure is a DataError naming the file and the variable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from brainbench.errors import DataError

SUFFIXES = (".npy", ".npz", ".nc", ".mat")


def read_array(path: Path, variable: str = "", label: str = "") -> np.ndarray:
    """The numeric array ``variable`` of the file at ``path`` (``label``: the file's name in error sentences)."""
    path = Path(path)
    label = label or path.name
    suffix = Path(label).suffix.lower() or path.suffix.lower()
    readers: dict[str, Callable[[Path, str, str], np.ndarray]] = {
        ".npy": _npy, ".npz": _npz, ".nc": _netcdf, ".mat": _mat,
    }
    if suffix not in readers:
        raise DataError(f"{label} is not a file brainbench reads arrays from (one of {', '.join(SUFFIXES)}).")
    values = readers[suffix](path, variable, label)
    if values.dtype.kind not in "biuf":
        where = f"{label}:{variable}" if variable else label
        raise DataError(f"{where} holds {values.dtype} values, not numbers.")
    return values


def _missing(label: str, variable: str, there: list[str]) -> DataError:
    names = ", ".join(there) if there else "none"
    return DataError(f"{label} has no variable '{variable}' (its variables: {names}).")


def _npy(path: Path, variable: str, label: str) -> np.ndarray:
    if variable:
        raise DataError(f"{label} is a .npy file holding one array; drop variable = '{variable}' from its assembly.")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"Cannot read {label} as a numpy array ({' '.join(str(exc).split())}).") from exc


def _npz(path: Path, variable: str, label: str) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if not variable and len(keys) == 1:
                variable = keys[0]
            if variable not in keys:
                if not variable:
                    raise DataError(f"{label} holds several arrays ({', '.join(keys)}); name one as variable.")
                raise _missing(label, variable, keys)
            return archive[variable]
    except (ValueError, OSError) as exc:
        raise DataError(f"Cannot read {label} as a numpy .npz archive ({' '.join(str(exc).split())}).") from exc


def _netcdf(path: Path, variable: str, label: str) -> np.ndarray:
    import xarray as xr

    try:
        with xr.open_dataset(path, cache=False) as dataset:
            names = [str(n) for n in dataset.data_vars]
            if not variable and len(names) == 1:
                variable = names[0]
            if variable not in names:
                if not variable:
                    raise DataError(f"{label} holds several variables ({', '.join(names)}); name one as variable.")
                raise _missing(label, variable, names)
            return np.asarray(dataset[variable].values)
    except (ValueError, OSError) as exc:
        raise DataError(f"Cannot read {label} as a netCDF file ({' '.join(str(exc).split())}).") from exc


def _mat(path: Path, variable: str, label: str) -> np.ndarray:
    if not variable:
        raise DataError(f"{label} is a MATLAB file: name the variable to read (e.g. variable = \"RDMs.RDM\").")
    import h5py

    if h5py.is_hdf5(path):
        return _mat_v73(path, variable, label)
    return _mat_v5(path, variable, label)


def _mat_v5(path: Path, variable: str, label: str) -> np.ndarray:
    import scipy.io

    try:
        contents = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises several types for a damaged or unsupported file
        raise DataError(f"Cannot read {label} as a MATLAB file ({' '.join(str(exc).split())}).") from exc
    name, *fields = variable.split(".")
    if name not in contents:
        raise _missing(label, name, [k for k in contents if not k.startswith("__")])
    value = contents[name]
    for depth, field in enumerate(fields):
        reached = ".".join([name, *fields[:depth]])
        there = list(value.dtype.names or ())
        if field not in there:
            what = f"its fields: {', '.join(there)}" if there else "it is not a struct"
            raise DataError(f"{label}: {reached} has no field '{field}' ({what}).")
        value = _stack(value[field], f"{label}:{reached}.{field}")
    value = _stack(value, f"{label}:{variable}")
    if value.dtype.names:
        raise DataError(f"{label}: {variable} is a struct, not an array; name one of its fields "
                        f"({', '.join(value.dtype.names)}).")
    return value


def _stack(value: np.ndarray, where: str) -> np.ndarray:
    """A cell or struct-field array of arrays as one array (the elements' axes after the container's); a scalar
    container is its element."""
    if value.dtype != object:
        return value
    elements = [np.asarray(e) for e in value.ravel()]
    if elements and all(e.dtype == object for e in elements):
        elements = [_stack(e, where) for e in elements]
    shapes = {e.shape for e in elements}
    if len(shapes) != 1:
        raise DataError(f"{where} holds arrays of different shapes ({', '.join(map(str, sorted(shapes)))}).")
    stacked = np.stack(elements)
    return stacked[0] if value.size == 1 else stacked.reshape(value.shape + stacked.shape[1:])


def _mat_v73(path: Path, variable: str, label: str) -> np.ndarray:
    """MATLAB v7.3 (HDF5): arrays are stored with their axes reversed (column-major), so each is transposed back;
    a struct is a group, and a struct array's field holds object references (in the struct array's reversed shape)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            name, *fields = variable.split(".")
            there = [k for k in handle if not k.startswith("#")]
            if name not in there:
                raise _missing(label, name, there)
            return _h5_value(handle, handle[name], fields, name, label)
    except OSError as exc:
        raise DataError(f"Cannot read {label} as a MATLAB v7.3 (HDF5) file ({' '.join(str(exc).split())}).") from exc


def _h5_value(handle, node, fields: list[str], reached: str, label: str) -> np.ndarray:
    import h5py

    if isinstance(node, h5py.Dataset) and node.dtype == h5py.ref_dtype:  # a cell or struct array
        refs = node[()].T
        elements = [_h5_value(handle, handle[ref], fields, reached, label) for ref in refs.ravel()]
        container = np.empty(refs.shape, dtype=object)
        for index, element in zip(np.ndindex(refs.shape), elements, strict=True):
            container[index] = element
        return _stack(container, f"{label}:{reached}")
    if not fields:
        if not isinstance(node, h5py.Dataset):
            raise DataError(f"{label}: {reached} is a struct, not an array; name one of its fields "
                            f"({', '.join(node)}).")
        return np.asarray(node[()]).T
    field, rest = fields[0], fields[1:]
    if not isinstance(node, h5py.Group) or field not in node:
        what = f"its fields: {', '.join(node)}" if isinstance(node, h5py.Group) else "it is not a struct"
        raise DataError(f"{label}: {reached} has no field '{field}' ({what}).")
    return _h5_value(handle, node[field], rest, f"{reached}.{field}", label)
