"""Brain-Score's published file formats: netCDF assemblies and CSV + ZIP stimulus sets (pure I/O).

An assembly is one netCDF file holding one data variable (``data`` as Brain-Score writes it today,
``__xarray_dataarray_variable__`` in older files) over ``presentation × neuroid [× time_bin]``. Its
MultiIndex levels (``stimulus_id``, ``repetition``, ``neuroid_id``, ``region``, ``time_bin_start`` …)
are stored as plain 1-D coordinates along their dimension, because netCDF cannot hold a MultiIndex;
brainio rebuilds the MultiIndex on reading, brainbench keeps them as plain coordinates.

A stimulus set is a CSV (one row per stimulus: ``stimulus_id`` — ``image_id`` in older sets —, the
member name inside the zip in ``filename``, and metadata columns) plus a ZIP of the image files.

File names on Brain-Score's S3 storage: ``assy_<identifier, '.' → '_'>.nc`` and
``stimulus_<identifier, '.' → '_'>.csv`` / ``.zip`` (see :func:`assembly_filename`).
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import xarray as xr
from PIL import Image

from brainbench.data.assemblies import RDM_DIMS, check_neural_assembly
from brainbench.data.cache_files import new_file_mode
from brainbench.data.stimuli import StimulusSet, zip_stimuli
from brainbench.errors import DataError

__all__ = [
    "FILENAME_COLUMNS",
    "assembly_filename",
    "read_assembly",
    "read_rdm",
    "read_stimulus_set",
    "s3_url",
    "stimulus_set_filenames",
    "write_assembly",
    "write_stimulus_set",
]

DATA_VARIABLES = ("data", "__xarray_dataarray_variable__")  # Brain-Score's today, xarray's default (older files)
FILENAME_COLUMNS = ("filename", "image_file_name", "stimulus_path_within_store")  # first present is used
_ID_COLUMNS = ("stimulus_id", "image_id")
_TEXT_COLUMNS = (*_ID_COLUMNS, *FILENAME_COLUMNS)  # read as text: ids such as '0001' keep their zeros


def assembly_filename(identifier: str) -> str:
    """Brain-Score's storage name of an assembly.

    ``'dicarlo.MajajHong2015.public'`` → ``'assy_dicarlo_MajajHong2015_public.nc'``.
    """
    return f"assy_{identifier.replace('.', '_')}.nc"


def stimulus_set_filenames(identifier: str) -> tuple[str, str]:
    """Brain-Score's storage names (CSV, ZIP) of a stimulus set.

    ``'hvm-public'`` → ``('stimulus_hvm-public.csv', 'stimulus_hvm-public.zip')``.
    """
    stem = f"stimulus_{identifier.replace('.', '_')}"
    return f"{stem}.csv", f"{stem}.zip"


def s3_url(bucket: str, filename: str, version_id: str | None = None) -> str:
    """The plain-HTTPS address of one object on Brain-Score's S3 storage.

    ``bucket`` is as Brain-Score's data plugins write it, optionally with a folder
    (``'brainscore-storage/brainio-brainscore'``). Brain-Score's fetcher (boto3) asks for
    ``VersionId=version_id`` whenever one is given — ``'null'`` included, which S3 reads as the
    object's null version — so the URL carries ``?versionId=…`` in the same cases, and fetches
    exactly that object rather than whatever was uploaded last.
    """
    name, _, folder = bucket.partition("/")
    key = f"{folder.strip('/')}/{filename}" if folder.strip("/") else filename
    url = f"https://{name}.s3.amazonaws.com/{key}"
    return f"{url}?versionId={quote(version_id, safe='')}" if version_id else url


def _brief(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


# --- assemblies ------------------------------------------------------------------------------------------------------


def _main_variable(ds: xr.Dataset, path: Path) -> str:
    names = [str(n) for n in ds.data_vars]
    if len(names) == 1:
        return names[0]
    for name in DATA_VARIABLES:
        if name in names:
            return name
    listed = ", ".join(names) if names else "none"
    raise DataError(
        f"{path.name} holds {len(names)} data variables ({listed}); a Brain-Score assembly has exactly one "
        f"(named {' or '.join(DATA_VARIABLES)})."
    )


def open_assembly(path: Path | str, fix: str = "re-fetch the dataset") -> tuple[xr.DataArray, str]:
    """A Brain-Score netCDF assembly of any dimensions, fully loaded, and its variable's name in the file.

    Metadata become plain 1-D coordinates along their dimension (no MultiIndex); coordinates along no
    dimension of the data are dropped; a legacy ``image_id`` is copied to ``stimulus_id``. Raises DataError
    (ending with ``fix``) for an unreadable file or more than one candidate data variable.
    """
    path = Path(path)
    if not path.exists():  # a path given by the user, not a damaged download: re-fetching would not help
        raise DataError(f"Cannot read {path.name}: there is no file {path}; check the path.")
    try:
        with xr.open_dataset(path) as opened:
            ds = opened.load()
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise DataError(f"Cannot read {path.name} as a netCDF assembly ({_brief(exc)}); {fix}.") from exc
    variable = _main_variable(ds, path)
    # Variables that are really per-dimension metadata (1-D along a dimension of the data) become coordinates.
    dims = set(ds[variable].dims)
    promote = [str(n) for n, v in ds.data_vars.items() if n != variable and len(v.dims) == 1 and v.dims[0] in dims]
    assembly = ds.set_coords(promote)[variable]
    extra_coords = [c for c in assembly.coords if not set(assembly[c].dims) <= dims]
    assembly = assembly.drop_vars(extra_coords)
    assembly.attrs = {**ds.attrs, **assembly.attrs}
    if "stimulus_id" not in assembly.coords and "image_id" in assembly.coords:
        assembly = assembly.assign_coords(stimulus_id=assembly["image_id"])
    return assembly, variable


def read_assembly(path: Path | str, name: str | None = None) -> xr.DataArray:
    """Open a Brain-Score netCDF neural assembly, fully loaded into memory.

    Returns a ``presentation × neuroid [× time_bin]`` DataArray as :func:`open_assembly` reads it. NaNs
    are kept. ``name`` (default: the file's variable name, unless generic) becomes the DataArray's name.
    Raises DataError for an unreadable file or a wrong layout.
    """
    assembly, variable = open_assembly(path)
    check_neural_assembly(assembly, Path(path).name)
    assembly.name = name if name is not None else (None if variable in DATA_VARIABLES else variable)
    return assembly


def read_rdm(path: Path | str, what: str = "The RDM file") -> xr.DataArray:
    """Open a netCDF RDM assembly: ``[leading dims (e.g. subject, session) ×] stimulus_a × stimulus_b``, fully loaded.

    Both stimulus dimensions must carry the stimulus ids as a coordinate of the same name (as
    `brainbench.data.assemblies.rdm_assembly` labels them). Raises DataError naming ``what`` otherwise.
    """
    rdm, _ = open_assembly(path, fix="check the file")
    if tuple(rdm.dims[-2:]) != RDM_DIMS:
        raise DataError(f"{what} {Path(path).name} has dimensions ({', '.join(map(str, rdm.dims))}); an RDM needs "
                        f"{' × '.join(RDM_DIMS)} last.")
    for dim in RDM_DIMS:
        if dim not in rdm.coords or rdm[dim].dims != (dim,):
            raise DataError(f"{what} {Path(path).name} has no {dim} coordinate holding the stimulus ids.")
    return rdm


def _netcdf_attr(value: object) -> object | None:
    """``value`` as a netCDF attribute, or None when it cannot be one (dicts, None, objects)."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float | np.integer | np.floating):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        array = np.asarray(value)
        if array.ndim == 1 and array.dtype.kind in "iufU":
            return array
    return None


def write_assembly(assembly: xr.DataArray, path: Path | str) -> None:
    """Write ``assembly`` as Brain-Score does: one variable ``data``, every MultiIndex level a plain 1-D coordinate.

    ``assembly`` must be ``presentation × neuroid [× time_bin]`` with ``stimulus_id`` along
    ``presentation`` (e.g. model features). Attributes netCDF cannot hold (dicts, None, objects)
    are left out; booleans become 0/1. The file is written under a temporary name and moved into
    place, so a failure leaves nothing half-written. :func:`read_assembly` and brainio's reader
    (``xr.open_dataarray`` then MultiIndex rebuild) open it unchanged.
    """
    path = Path(path)
    check_neural_assembly(assembly, "The assembly to write")
    plain = assembly.copy(deep=False)  # the caller's assembly and its attributes stay as they are
    plain = plain.reset_index(list(plain.indexes)) if plain.indexes else plain
    attrs = {k: v for k, v in ((k, _netcdf_attr(v)) for k, v in assembly.attrs.items()) if v is not None}
    ds = plain.to_dataset(name="data")
    ds.attrs = attrs
    for variable in ds.variables.values():
        variable.attrs = {k: v for k, v in ((k, _netcdf_attr(v)) for k, v in variable.attrs.items()) if v is not None}
    encoding = {"data": {"zlib": True, "complevel": 4}}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".partial-", suffix=".nc", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        ds.to_netcdf(tmp_path, encoding=encoding, engine="netcdf4")
        os.chmod(tmp_path, new_file_mode())  # the temporary file was private (0600); a written file follows the umask
        os.replace(tmp_path, path)
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        raise DataError(f"Cannot write the assembly to {path} ({_brief(exc)}).") from exc
    finally:
        tmp_path.unlink(missing_ok=True)


# --- stimulus sets ---------------------------------------------------------------------------------------------------


def _read_csv(csv_path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(csv_path)
        text = [c for c in _TEXT_COLUMNS if c in table.columns]
        if text:  # ids and file names verbatim: '0001' keeps its zeros, 'NA' stays a name
            table[text] = pd.read_csv(csv_path, usecols=text, dtype=str, keep_default_na=False)[text]
        return table
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(
            f"Cannot read {csv_path.name} as a stimulus-set CSV ({_brief(exc)}); re-fetch the dataset."
        ) from exc


def _zip_members(zip_path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(
            f"Cannot read {zip_path.name} as a zip of stimuli ({_brief(exc)}); re-fetch the dataset."
        ) from exc


def _resolve_members(names: pd.Series, members: list[str], column: str) -> list[str | None]:
    """The zip member of each CSV name: exact, else (for extension-less names) the one member with that stem."""
    exact = set(members)
    by_stem: dict[str, list[str]] = {}
    for member in members:
        by_stem.setdefault(os.path.splitext(member)[0], []).append(member)
    resolved: list[str | None] = []
    for name in names:
        name = str(name)
        if name in exact:
            resolved.append(name)
        elif column == "stimulus_path_within_store" and len(by_stem.get(name, [])) == 1:
            resolved.append(by_stem[name][0])
        else:
            resolved.append(None)
    return resolved


def read_stimulus_set(csv_path: Path | str, zip_path: Path | str, identifier: str) -> StimulusSet:
    """A Brain-Score stimulus set (CSV + ZIP) as a StimulusSet whose images load lazily from the zip.

    The metadata are the CSV's rows in file order, indexed by ``stimulus_id`` (legacy ``image_id``
    when there is none), with every other column except ``filename`` as metadata. The zip member of
    each stimulus is named by the first of :data:`FILENAME_COLUMNS` the CSV has. Raises DataError
    when either file is unreadable or they do not match (missing column, duplicate id, a listed
    image absent from the zip).
    """
    csv_path, zip_path = Path(csv_path), Path(zip_path)
    table = _read_csv(csv_path)
    id_column = next((c for c in _ID_COLUMNS if c in table.columns), None)
    if id_column is None:
        raise DataError(f"{csv_path.name} has no stimulus_id (or legacy image_id) column; it is not a stimulus set.")
    file_column = next((c for c in FILENAME_COLUMNS if c in table.columns), None)
    if file_column is None:
        raise DataError(
            f"{csv_path.name} has no column naming the image files ({' / '.join(FILENAME_COLUMNS)}); "
            "it is not a Brain-Score stimulus set."
        )
    ids = table[id_column].astype(str)
    if ids.duplicated().any():
        raise DataError(f"{csv_path.name} lists stimulus_id {ids[ids.duplicated()].iloc[0]!r} more than once.")
    resolved = _resolve_members(table[file_column], _zip_members(zip_path), file_column)
    absent = [str(n) for n, m in zip(table[file_column], resolved, strict=True) if m is None]
    if absent:
        raise DataError(
            f"{len(absent)} of {len(table)} images listed in {csv_path.name} are not in {zip_path.name} "
            f"(first: {absent[0]!r}); the CSV and ZIP are not from the same stimulus set."
        )
    metadata = table.drop(columns=[c for c in ("stimulus_id", "filename") if c in table.columns])
    metadata.index = pd.Index(ids.to_list(), name="stimulus_id")
    return zip_stimuli(identifier, zip_path, metadata, dict(zip(metadata.index, resolved, strict=True)))


def write_stimulus_set(
    stimuli: StimulusSet, csv_path: Path | str, zip_path: Path | str, image_format: str = "png"
) -> None:
    """Write ``stimuli`` as a Brain-Score stimulus set: a ZIP of ``<stimulus_id>.<image_format>`` files and a CSV with
    ``stimulus_id``, the metadata columns and ``filename`` (the zip member). Both are written under temporary names
    and moved into place only when complete."""
    csv_path, zip_path = Path(csv_path), Path(zip_path)
    table = stimuli.metadata.drop(columns=[c for c in ("stimulus_id", "filename") if c in stimuli.metadata.columns])
    table = table.reset_index()
    table["filename"] = [f"{s}.{image_format}" for s in stimuli.stimulus_ids]
    written: list[tuple[Path, Path]] = []
    try:
        for target, write in ((zip_path, _zip_writer(stimuli, table["filename"], image_format)),
                              (csv_path, lambda p: table.to_csv(p, index=False))):
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".partial-", delete=False) as tmp:
                written.append((Path(tmp.name), target))
            write(written[-1][0])
            os.chmod(written[-1][0], new_file_mode())  # as open() would make it, not the temporary file's 0600
        for tmp_path, target in written:
            os.replace(tmp_path, target)
    finally:
        for tmp_path, _ in written:
            tmp_path.unlink(missing_ok=True)


def _zip_writer(stimuli: StimulusSet, names: pd.Series, image_format: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
            for stimulus_id, name in zip(stimuli.stimulus_ids, names, strict=True):
                image: Image.Image = stimuli.load(stimulus_id)
                encoded = io.BytesIO()
                image.save(encoded, format=image_format.upper().replace("JPG", "JPEG"))
                archive.writestr(name, encoded.getvalue())

    return write

