"""The generic loader: a dataset described entirely by its manifest's ``[[stimuli]]`` and ``[[assemblies]]`` tables
(RDMs, neural responses, behavioural trials, category mappings in common file formats), so a lab adds its data
without Python."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from brainbench.data.arrays import read_array
from brainbench.data.assemblies import Dataset
from brainbench.data.assembly_tables import AssemblyTable, parse_assembly_table
from brainbench.data.manifest import Manifest
from brainbench.data.rdm_files import build_rdm_assembly
from brainbench.data.response_files import build_response_assembly
from brainbench.data.sources import StimulusSource, source_stimuli, union
from brainbench.data.stimuli import StimulusSet
from brainbench.data.trials import build_category_mapping, build_trial_assembly
from brainbench.errors import DataError


def _tables(manifest: Manifest, key: str, origin: str) -> list[dict]:
    tables = manifest.layout.get(key, [])
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise DataError(f"{origin} uses the generic loader but has no [[{key}]] table; add at least one.")
    return tables


def _assembly(table: AssemblyTable, files: dict[str, Path], source: StimulusSource | None,
              stimuli: StimulusSet | None) -> xr.DataArray:
    if table.file not in files:
        raise DataError(f"{table.where}: assembly {table.name} names {table.file}, which is not among the dataset's "
                        "[[files]].")
    if table.format == "category_mapping":
        return build_category_mapping(files[table.file], table)
    assert source is not None and stimuli is not None  # every other format has a stimulus source (parsed so)
    if table.format == "trials":
        return build_trial_assembly(files[table.file], table, source.id_prefix, stimuli.stimulus_ids)
    values = read_array(files[table.file], table.variable, table.file)
    if table.format == "rdm":
        return build_rdm_assembly(values, table, stimuli.stimulus_ids)
    return build_response_assembly(values, table, stimuli.stimulus_ids)


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """The stimuli (the union of the ``[[stimuli]]`` sources, in manifest order) and the ``[[assemblies]]`` by name.

    ``files`` maps each ``[[files]]`` path to its verified local copy. Every problem with the tables or the files
    (a missing variable, wrong dims, an RDM that is not symmetric …) is one DataError sentence naming the file.
    """
    origin = f"Data manifest {manifest.definition.path if manifest.definition else manifest.name}"
    sources = [StimulusSource.from_table(t, origin) for t in _tables(manifest, "stimuli", origin)]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise DataError(f"{origin}: two [[stimuli]] tables share a name; name each source once.")
    per_source = {s.name: source_stimuli(s, files, manifest.name) for s in sources}
    stimuli = union(manifest.name, list(per_source.values()))
    assemblies: dict[str, xr.DataArray] = {}
    for raw in _tables(manifest, "assemblies", origin):
        table = parse_assembly_table(raw, names, origin)
        if table.name in assemblies:
            raise DataError(f"{origin}: two [[assemblies]] tables are named {table.name}.")
        source = sources[names.index(table.stimuli)] if table.stimuli else None
        assemblies[table.name] = _assembly(table, files, source, per_source.get(table.stimuli))
    return Dataset(manifest=manifest, stimuli=stimuli, assemblies=assemblies)
