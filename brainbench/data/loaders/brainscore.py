"""Loader for datasets published in Brain-Score's format: one netCDF assembly plus one stimulus set (CSV + ZIP)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from brainbench.data.assemblies import Dataset
from brainbench.data.brainscore_format import read_assembly, read_stimulus_set
from brainbench.data.manifest import Manifest
from brainbench.errors import DataError


def _one(files: dict[str, Path], suffix: str, manifest: Manifest) -> Path:
    found = [path for name, path in files.items() if name.lower().endswith(suffix)]
    if len(found) != 1:
        raise DataError(
            f"The brainscore loader needs exactly one {suffix} file in dataset {manifest.name}, found {len(found)}; "
            "fix its manifest (one .nc assembly, one .csv and one .zip stimulus set)."
        )
    return found[0]


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """The stimulus set and the one neural assembly of a Brain-Score-format dataset.

    The assembly (``presentation × neuroid [× time_bin]``, plain coordinates) is keyed by the
    manifest's ``assembly`` (default: the .nc file's stem); the stimulus set is named by its
    ``stimulus_set`` (default: the .csv file's stem). As Brain-Score's loader does, stimulus
    metadata the assembly lacks are added as ``presentation`` coordinates (matched on
    ``stimulus_id``), and ``attrs['stimulus_set_identifier']`` names the set. Every stimulus the
    assembly presents must be in the stimulus set.
    """
    nc, csv, archive = (_one(files, suffix, manifest) for suffix in (".nc", ".csv", ".zip"))
    stimuli = read_stimulus_set(csv, archive, manifest.stimulus_set or csv.stem)
    name = manifest.assembly or nc.stem
    assembly = read_assembly(nc, name=name)

    presented = pd.Index(assembly["stimulus_id"].values.astype(str))
    unknown = presented.difference(stimuli.metadata.index)
    if len(unknown):
        raise DataError(
            f"{len(unknown)} stimulus ids of {nc.name} (first: {unknown[0]!r}) are not in stimulus set "
            f"{stimuli.identifier}; the assembly and stimulus files are not from the same dataset."
        )
    rows = stimuli.metadata.index.get_indexer(presented)
    new = [c for c in stimuli.metadata.columns if c not in assembly.coords and c not in assembly.dims]
    assembly = assembly.assign_coords(
        {str(c): ("presentation", stimuli.metadata[c].to_numpy()[rows]) for c in new}
    )
    assembly.attrs["stimulus_set_identifier"] = stimuli.identifier
    return Dataset(manifest=manifest, stimuli=stimuli, assemblies={name: assembly})
