"""Loader for the Marques et al. (2021) V1 property histograms (a JSON file shipped with brainbench)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from brainbench.data.assemblies import Dataset
from brainbench.data.gratings import grating_stimuli
from brainbench.data.manifest import Manifest
from brainbench.errors import DataError

SCALES = ("linear", "log2", "binary")


def histogram_assembly(name: str, entry: dict) -> xr.DataArray:
    """One property's published histogram: counts along ``bin`` with the bin edges as coordinates."""
    edges = np.asarray(entry["bins"], dtype=float)
    counts = np.asarray(entry["counts"], dtype=np.int64)
    if len(edges) != len(counts) + 1 or np.any(np.diff(edges) <= 0) or np.any(counts < 0):
        raise DataError(f"The histogram of {name} needs increasing edges, one more than its non-negative counts.")
    if entry["scale"] not in SCALES:
        raise DataError(f"The histogram of {name} has scale '{entry['scale']}', not one of {', '.join(SCALES)}.")
    return xr.DataArray(
        counts, dims=("bin",), coords={"bin_lower": ("bin", edges[:-1]), "bin_upper": ("bin", edges[1:])},
        name=name,
        attrs={"kind": "property_histogram", "property": name, "scale": entry["scale"], "unit": entry.get("unit", ""),
               "study": entry["study"], "citation": entry["citation"], "note": entry.get("note", "")},
    )


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """``{'<Study>.<property>': histogram}`` and the generated grating stimuli."""
    try:
        raw = json.loads(files["v1_properties.json"].read_text())
        assemblies = {f"{e['study']}.{name}": histogram_assembly(name, e) for name, e in raw["properties"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"v1_properties.json of {manifest.name} is malformed ({exc}); reinstall brainbench.") from exc
    return Dataset(manifest, grating_stimuli(), assemblies)
