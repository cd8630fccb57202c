"""Loader for Cowley et al. 2023 V4 data (numpy spike counts + JPEG zips, as published)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import StimulusSet, ZipImages
from brainbench.errors import DataError

SESSIONS = ("210225", "210325")


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return sorted(n for n in archive.namelist() if n.lower().endswith(".jpg"))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"Cannot read {path.name} as a zip of images ({exc}); re-fetch the dataset.") from exc


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"Cannot read {path.name} as a numpy array ({exc}); re-fetch the dataset.") from exc


def neural_assembly(
    responses: np.ndarray, stimulus_ids: list[str], session: str, repetitions: bool
) -> xr.DataArray:
    """A ``presentation × neuroid`` assembly in Brain-Score's layout.

    ``responses`` is (neurons, images) for repeat-averaged counts, or (neurons, images, slots) with
    NaN in unused slots when ``repetitions``; then each recorded (image, repetition) is one
    presentation row with coordinates ``stimulus_id`` and ``repetition``.
    """
    n_neurons = responses.shape[0]
    neuroid = {"neuroid_id": ("neuroid", [f"{session}_n{i:03d}" for i in range(n_neurons)]),
               "region": ("neuroid", ["V4"] * n_neurons), "animal": ("neuroid", ["PE"] * n_neurons)}
    if repetitions:
        neuron0 = responses[0]
        images, slots = np.nonzero(~np.isnan(neuron0))
        values = responses[:, images, slots].T
        presentation = {"stimulus_id": ("presentation", [stimulus_ids[i] for i in images]),
                        "repetition": ("presentation", slots.astype(int))}
    else:
        values = responses.T
        presentation = {"stimulus_id": ("presentation", list(stimulus_ids))}
    if not np.isfinite(values).all():
        raise DataError(f"Session {session} responses have missing values outside the padding.")
    return xr.DataArray(
        values.astype(np.float64), dims=("presentation", "neuroid"), coords={**presentation, **neuroid},
        attrs={"region": "V4", "species": "macaque", "units": "spike count per 100 ms bin", "session": session},
    )


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """Stimuli of both sessions (``<session>_imageNNNN``, 112×112 RGB) and the assemblies.

    - ``Cowley2023.210325.V4``: 50 neurons × 640 images, single repetitions (6–10 per image);
    - ``Cowley2023.210225.V4``: 55 neurons × 1200 natural images, repeat-averaged only.
    """
    zips = {s: files[f"images/images_{s}.zip"] for s in SESSIONS}
    names = {s: _zip_names(zips[s]) for s in SESSIONS}
    rows, members = [], {}
    for session in SESSIONS:
        for name in names[session]:
            stimulus_id = f"{session}_{Path(name).stem}"
            rows.append({"stimulus_id": stimulus_id, "session": session, "filename": name})
            members[stimulus_id] = (zips[session], name)
    metadata = pd.DataFrame(rows).set_index("stimulus_id")

    raw = _load_npy(files["responses_raw/responses_210325.npy"])
    natural = _load_npy(files["responses_repeat_averaged/responses_210225.npy"])
    ids = {s: [f"{s}_{Path(n).stem}" for n in names[s]] for s in SESSIONS}
    if raw.shape[1] != len(ids["210325"]) or natural.shape[1] != len(ids["210225"]):
        raise DataError("Cowley2023 responses and images do not have the same number of images.")
    assemblies = {
        "Cowley2023.210325.V4": neural_assembly(raw, ids["210325"], "210325", repetitions=True),
        "Cowley2023.210225.V4": neural_assembly(natural, ids["210225"], "210225", repetitions=False),
    }
    return Dataset(manifest, StimulusSet("Cowley2023", metadata, ZipImages(members)), assemblies)
