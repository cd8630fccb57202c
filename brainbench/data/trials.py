"""Behavioural trial assemblies from a user's CSV: one row per trial (stimulus_id, choice, truth, subject, and
optionally distractor)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from brainbench.data.assembly_tables import AssemblyTable
from brainbench.errors import DataError

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
