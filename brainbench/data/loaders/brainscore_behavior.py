"""Loader and readers for behavioural data in Brain-Score's format (its ``BehavioralAssembly`` netCDF files).

Two layouts, both one data variable in one netCDF file, metadata as plain 1-D coordinates (netCDF holds no
MultiIndex; brainio rebuilds it on reading, brainbench keeps plain coordinates):

* **trials** — one row per trial along ``presentation``, the chosen object as the values (Brain-Score's
  objectome assembly, ``data/rajalingham2018/rajalingham2018objectome.py``), with coordinates ``stimulus_id``
  (legacy ``image_id``), ``sample_obj`` (the object shown), ``dist_obj`` (the other option offered),
  ``choice`` (the object chosen; taken from the values when the coordinate is absent, and equal to label values
  when both are given — Brain-Score scores the values), optionally ``truth``
  (= ``sample_obj``), ``worker_id`` …
* **probabilities** — a model's choice probabilities, ``presentation × choice``, with ``stimulus_id`` (legacy
  ``image_id``) along ``presentation`` and the object labels as the ``choice`` coordinate (``choice_`` in files
  whose index xarray's ``reset_index`` renamed).

:func:`load` turns a Brain-Score behavioural dataset (trials ``.nc`` + stimulus set ``.csv``/``.zip``) into a
Dataset, as Brain-Score's ``load_assembly_from_s3`` with a ``StimulusMergeAssemblyLoader`` does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from brainbench.data.assemblies import Dataset
from brainbench.data.brainscore_format import open_assembly, read_stimulus_set
from brainbench.data.manifest import Manifest
from brainbench.errors import DataError

__all__ = ["TRIAL_COORDS", "load", "read_behavioral_assembly", "read_probabilities", "read_trials"]

TRIAL_COORDS = ("stimulus_id", "sample_obj", "dist_obj", "choice")
"""Coordinates every trial needs along ``presentation`` (``choice`` may instead be the values)."""


def read_behavioral_assembly(path: Path | str, name: str | None = None) -> xr.DataArray:
    """Open a Brain-Score behavioural netCDF file, fully loaded, without checking its dimensions
    (read as :func:`brainbench.data.brainscore_format.open_assembly` reads any assembly)."""
    assembly, _variable = open_assembly(path, fix="check the file")
    assembly.name = name
    return assembly


def _along_presentation(assembly: xr.DataArray, coord: str) -> bool:
    return coord in assembly.coords and assembly[coord].dims == ("presentation",)


def _text(values: np.ndarray) -> np.ndarray:
    """Labels as a str array (netCDF strings come back as objects; numbers as their text)."""
    return np.asarray([str(v) for v in np.asarray(values).ravel()], dtype=object)


def check_trials(assembly: xr.DataArray, origin: str) -> xr.DataArray:
    """``assembly`` as 2AFC trials with a ``choice`` coordinate; DataError (one sentence) for a wrong layout."""
    if assembly.dims != ("presentation",):
        raise DataError(
            f"{origin} has dimensions ({', '.join(map(str, assembly.dims))}); behavioural trials are a 1-D "
            f"assembly over presentation, one row per trial."
        )
    if "choice" not in assembly.coords:
        if assembly.dtype.kind not in "OUS":
            raise DataError(f"{origin} has no choice coordinate and its values are not object labels; each trial "
                            f"needs the object chosen.")
        assembly = assembly.assign_coords(choice=("presentation", assembly.values))
    elif assembly.dtype.kind in "OUS" and assembly["choice"].dims == ("presentation",):
        differ = _text(assembly.values) != _text(assembly["choice"].values)
        if differ.any():  # Brain-Score scores the values; brainbench the coordinate: they must agree
            raise DataError(f"{origin} has {int(differ.sum())} trials whose value (the chosen object) differs from "
                            f"their choice coordinate; both must name the object chosen.")
    missing = [c for c in TRIAL_COORDS if not _along_presentation(assembly, c)]
    if missing:
        raise DataError(
            f"{origin} lacks the trial coordinate(s) {', '.join(missing)} along presentation"
            f"{' (or legacy image_id)' if 'stimulus_id' in missing else ''}; behavioural trials need "
            f"{', '.join(TRIAL_COORDS)}."
        )
    if assembly.sizes["presentation"] == 0:
        raise DataError(f"{origin} holds no trials.")
    if _along_presentation(assembly, "truth"):
        differ = _text(assembly["truth"].values) != _text(assembly["sample_obj"].values)
        if differ.any():
            raise DataError(f"{origin} has {int(differ.sum())} trials whose truth differs from their sample_obj; in "
                            f"a 2AFC match-to-sample trial both name the object shown.")
    return assembly


def read_trials(path: Path | str, name: str | None = None) -> xr.DataArray:
    """Human 2AFC trials from a Brain-Score behavioural netCDF file (see the module docstring).

    Returns the 1-D ``presentation`` assembly with every coordinate of the file plus ``stimulus_id`` and
    ``choice`` (copied from ``image_id`` / the values when absent), in the file's trial order.
    """
    path = Path(path)
    return check_trials(read_behavioral_assembly(path, name), path.name)


def read_probabilities(path: Path | str, name: str | None = None) -> xr.DataArray:
    """A model's choice probabilities, ``presentation × choice`` with ``stimulus_id`` and ``choice`` coordinates.

    Raises DataError for other dimensions, missing labels, or values that are not finite and non-negative.
    """
    path = Path(path)
    assembly = read_behavioral_assembly(path, name)
    if set(assembly.dims) != {"presentation", "choice"} or assembly.ndim != 2:
        raise DataError(
            f"{path.name} has dimensions ({', '.join(map(str, assembly.dims))}); choice probabilities are "
            f"presentation × choice."
        )
    assembly = assembly.transpose("presentation", "choice")
    if not _along_presentation(assembly, "stimulus_id"):
        raise DataError(f"{path.name} has no stimulus_id (or legacy image_id) coordinate along presentation.")
    if "choice" not in assembly.coords and "choice_" in assembly.coords and assembly["choice_"].dims == ("choice",):
        assembly = assembly.assign_coords(choice=("choice", assembly["choice_"].values)).drop_vars("choice_")
    if "choice" not in assembly.coords:
        raise DataError(f"{path.name} has no choice coordinate naming the object of each probability column.")
    values = np.asarray(assembly.values)
    if values.dtype.kind not in "iuf" or not np.isfinite(values).all() or (values < 0).any():
        raise DataError(f"{path.name} holds probabilities that are not finite non-negative numbers.")
    return assembly


def _one(files: dict[str, Path], suffix: str, manifest: Manifest) -> Path:
    found = [path for name, path in files.items() if name.lower().endswith(suffix)]
    if len(found) != 1:
        raise DataError(
            f"The brainscore_behavior loader needs exactly one {suffix} file in dataset {manifest.name}, found "
            f"{len(found)}; fix its manifest (one .nc trials assembly, one .csv and one .zip stimulus set)."
        )
    return found[0]


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """The stimulus set and the human trials of a Brain-Score behavioural dataset (e.g. Rajalingham2018).

    The trials (see :func:`read_trials`) are keyed by the manifest's ``assembly`` (default: the .nc file's
    stem); the stimulus set is named by its ``stimulus_set`` (default: the .csv file's stem). As Brain-Score's
    loader does, stimulus metadata the trials lack (``image_label`` …) are added as ``presentation``
    coordinates, matched on ``stimulus_id``, and ``attrs['stimulus_set_identifier']`` names the set. Every
    image shown in a trial must be in the stimulus set.
    """
    nc, csv, archive = (_one(files, suffix, manifest) for suffix in (".nc", ".csv", ".zip"))
    stimuli = read_stimulus_set(csv, archive, manifest.stimulus_set or csv.stem)
    name = manifest.assembly or nc.stem
    trials = read_trials(nc, name=name)

    shown = pd.Index(_text(trials["stimulus_id"].values))
    rows = stimuli.metadata.index.get_indexer(shown)
    if (rows < 0).any():
        unknown = shown[rows < 0].unique()
        raise DataError(
            f"{len(unknown)} images of the trials in {nc.name} (first: {unknown[0]!r}) are not in stimulus set "
            f"{stimuli.identifier}; the trials and stimulus files are not from the same dataset."
        )
    new = [c for c in stimuli.metadata.columns if c not in trials.coords and c not in trials.dims]
    trials = trials.assign_coords({str(c): ("presentation", stimuli.metadata[c].to_numpy()[rows]) for c in new})
    trials.attrs["stimulus_set_identifier"] = stimuli.identifier
    return Dataset(manifest=manifest, stimuli=stimuli, assemblies={name: trials})
