"""A user's behaviour data for the generic loader: trial assemblies from a CSV (one row per trial: stimulus_id,
choice, truth, subject, and optionally distractor) and category mappings from a JSON (category → ImageNet classes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from brainbench.data.assembly_tables import AssemblyTable
from brainbench.errors import DataError

IMAGENET_CLASSES = 1000
COLUMNS = ("stimulus_id", "choice", "truth", "subject")
DISTRACTOR = "distractor"
"""Optional: the other object offered in a two-alternative trial (then the trials are 2AFC, as i2n needs)."""


def build_trial_assembly(path: Path, table: AssemblyTable, id_prefix: str, stimulus_ids: Sequence[str]) -> xr.DataArray:
    """A 1-D ``presentation`` assembly, one row per trial in the CSV's order; values 1.0 where choice == truth.

    Coordinates: ``stimulus_id`` (the source's ``id_prefix`` put before the CSV's), ``subject``, ``choice``,
    ``truth``, and the names the behaviour kinds read: ``response`` (= choice), ``category`` and ``sample_obj``
    (= truth), ``dist_obj`` (= distractor, when given; the trials are then checked as 2AFC trials); every other
    column of the CSV as it is. ``table.columns`` maps these names to the CSV's own (``choice = "response"``).
    """
    unknown = sorted(set(table.columns) - {*COLUMNS, DISTRACTOR})
    if unknown:
        raise DataError(f"{table.where}: columns {', '.join(unknown)} are not trial fields (they are "
                        f"{', '.join((*COLUMNS, DISTRACTOR))}).")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:  # pandas' parser and empty-file errors are ValueErrors
        raise DataError(f"Cannot read {table.file} as a CSV table of trials ({' '.join(str(exc).split())}).") from exc
    names = {field: table.columns.get(field, field) for field in (*COLUMNS, DISTRACTOR)}
    missing = [names[f] for f in COLUMNS if names[f] not in raw.columns]
    if missing:
        raise DataError(f"{table.file} lacks the column(s) {', '.join(missing)}; a trials CSV needs "
                        f"{', '.join(COLUMNS)} (other names via columns = {{choice = \"...\"}}).")
    if raw.empty:
        raise DataError(f"{table.file} holds no trials.")
    fields = {f: raw[names[f]].to_numpy(dtype=object) for f in (*COLUMNS, DISTRACTOR) if names[f] in raw.columns}
    shown = np.asarray([id_prefix + s for s in fields["stimulus_id"]], dtype=object)
    absent = sorted(set(shown) - set(stimulus_ids))
    if absent:
        raise DataError(f"{table.file} has trials on {len(absent)} stimuli not in stimulus source '{table.stimuli}' "
                        f"(first: {absent[0]}).")
    coords = {
        "stimulus_id": shown, "subject": fields["subject"], "choice": fields["choice"], "truth": fields["truth"],
        "response": fields["choice"], "category": fields["truth"], "sample_obj": fields["truth"],
    }
    if DISTRACTOR in fields:
        coords["dist_obj"] = fields[DISTRACTOR]
    used = {names[f] for f in fields}
    coords |= {str(c): raw[c].to_numpy(dtype=object) for c in raw.columns if c not in used and c not in coords}
    assembly = xr.DataArray(
        (fields["choice"] == fields["truth"]).astype(np.float64), dims=("presentation",),
        coords={name: ("presentation", values) for name, values in coords.items()},
        attrs={"kind": "behavioral_trials", **table.attrs},
    )
    if DISTRACTOR in fields:
        from brainbench.data.loaders.brainscore_behavior import check_trials

        check_trials(assembly, table.file)
    return assembly


def _json_mapping(path: Path, table: AssemblyTable) -> Any:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"Cannot read {table.file} as JSON ({' '.join(str(exc).split())}).") from exc
    for key in table.variable.split(".") if table.variable else ():
        if not isinstance(value, dict) or key not in value:
            keys = ", ".join(map(str, value)) if isinstance(value, dict) else "none"
            raise DataError(f"{table.where}: the JSON has no key {key!r} there (its keys: {keys}).")
        value = value[key]
    return value


def build_category_mapping(path: Path, table: AssemblyTable) -> xr.DataArray:
    """The ImageNet-1k classes of each category of a forced-choice task, as the Geirhos behaviour kinds read them.

    The JSON (or its ``table.variable`` key, ``"a.b"`` for a nested one) maps each category to a list of 0-based
    ImageNet-1k class indices; an index belongs to one category at most. The assembly runs along ``imagenet_index``
    (sorted) with a ``category`` coordinate; values 1/(indices of the category), so a weighted sum of softmax
    probabilities is the category's mean probability (the model's decision is the most probable category).
    """
    raw = _json_mapping(path, table)
    shape = "an object of category → list of ImageNet-1k class indices"
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{table.where} is not {shape}; name the key that holds it with variable = \"...\".")
    pairs = []
    for category, indices in raw.items():
        if (not isinstance(indices, list) or not indices
                or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices)):
            raise DataError(f"{table.where}: category {category!r} maps to {indices!r}, not a list of class indices "
                            f"({shape}).")
        pairs += [(i, str(category)) for i in indices]
    indices = [i for i, _ in pairs]
    if outside := [i for i in indices if not 0 <= i < IMAGENET_CLASSES]:
        raise DataError(f"{table.where}: the class index {outside[0]} is outside ImageNet-1k's "
                        f"0-{IMAGENET_CLASSES - 1}.")
    if len(set(indices)) != len(indices):
        twice = next(i for i in indices if indices.count(i) > 1)
        raise DataError(f"{table.where}: the class index {twice} is listed twice; each class belongs to one category.")
    pairs.sort()
    sizes = {str(c): len(v) for c, v in raw.items()}
    return xr.DataArray(
        np.array([1.0 / sizes[c] for _, c in pairs]), dims=("imagenet_index",),
        coords={"imagenet_index": [i for i, _ in pairs],
                "category": ("imagenet_index", np.array([c for _, c in pairs], dtype=object))},
        attrs={"kind": "category_mapping", "aggregation": "mean", **table.attrs},
    )
