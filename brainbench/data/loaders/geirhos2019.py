"""Loader for Geirhos et al. 2019 shape-vs-texture data: PNG stimuli, human trial CSVs, the 16-class mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import xarray as xr

from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import FileImages, StimulusSet
from brainbench.errors import DataError

CATEGORIES = (
    "airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat",
    "chair", "clock", "dog", "elephant", "keyboard", "knife", "oven", "truck",
)
# experiment → (stimulus folder, human-data folder, assembly name)
EXPERIMENTS = {
    "cue-conflict": ("stimuli/cue-conflict", "human_raw_data/cue-conflict", "Geirhos2019.cue_conflict"),
    "edge": ("stimuli/edges", "human_raw_data/edge", "Geirhos2019.edge"),
    "silhouette": ("stimuli/filled-silhouettes", "human_raw_data/silhouette", "Geirhos2019.silhouette"),
}
MAPPING = "imagenet_16class_indices.json"
MAPPING_ASSEMBLY = "imagenet_16class"
N_IMAGENET_CLASSES = 1000
CSV_COLUMNS = ("subj", "session", "trial", "rt", "object_response", "category", "condition", "imagename")
_CUE_CONFLICT_NAME = re.compile(r"^(?P<shape>[a-z]+)\d+-(?P<texture>[a-z]+)\d+$")  # bird3-clock3
_SINGLE_CUE_NAME = re.compile(r"^(?P<shape>[a-z]+)\d+$")  # oven10


def _labels(experiment: str, relative: str) -> tuple[str, str]:
    """``(shape, texture)`` of one stimulus file ``<folder>/<shape>/<name>.png`` of ``experiment``."""
    path = PurePosixPath(relative)
    folder_shape = path.parent.name
    pattern = _CUE_CONFLICT_NAME if experiment == "cue-conflict" else _SINGLE_CUE_NAME
    match = pattern.match(path.stem)
    expected = "<shape>N-<texture>M.png" if experiment == "cue-conflict" else "<shape>N.png"
    if (
        path.suffix != ".png" or match is None or match["shape"] != folder_shape or folder_shape not in CATEGORIES
        or match.groupdict().get("texture", folder_shape) not in CATEGORIES
    ):
        raise DataError(
            f"Stimulus file {relative} is not named as published "
            f"({expected} in a <shape>/ folder, shape and texture among the 16 categories)."
        )
    return match["shape"], match.groupdict().get("texture", match["shape"])


def _stimuli(files: Mapping[str, Path]) -> StimulusSet:
    rows, paths = [], {}
    for experiment, (folder, _, _) in EXPERIMENTS.items():
        for relative in sorted(p for p in files if p.startswith(f"{folder}/") and p.endswith(".png")):
            shape, texture = _labels(experiment, relative)
            stimulus_id = f"{experiment}/{PurePosixPath(relative).stem}"
            rows.append({"stimulus_id": stimulus_id, "experiment": experiment, "shape": shape, "texture": texture,
                         "file": relative})
            paths[stimulus_id] = files[relative]
    if not rows:
        raise DataError("The geirhos2019 files hold no stimulus PNG; re-fetch the dataset.")
    metadata = pd.DataFrame(rows).set_index("stimulus_id")
    if not metadata.index.is_unique:
        duplicated = metadata.index[metadata.index.duplicated()][0]
        raise DataError(f"Two stimulus files share the id {duplicated}; the dataset's files are not as published.")
    return StimulusSet("Geirhos2019", metadata, FileImages(paths))


def _read_trials(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:  # pandas' parser and empty-file errors are ValueErrors
        reason = " ".join(str(exc).split())
        raise DataError(f"Cannot read {path.name} as a CSV table of trials ({reason}); re-fetch the dataset.") from exc
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path.name} lacks the column(s) {', '.join(missing)} of the published trial tables.")
    try:
        table = table.astype({"session": int, "trial": int, "rt": float})
    except ValueError as exc:
        raise DataError(f"{path.name} has a session, trial or rt value that is not a number ({exc}).") from exc
    names = table["imagename"].str.rsplit("_", n=1).str[-1]
    bad = ~names.str.endswith(".png") | names.str.contains("/")
    if bad.any():
        example = table["imagename"][bad].iloc[0]
        raise DataError(f"{path.name} names the image {example!r}, which does not end in a PNG file name.")
    unknown = sorted(set(table["category"]) - set(CATEGORIES))
    if unknown:
        raise DataError(f"{path.name} has categories outside the 16 of the experiment: {', '.join(unknown)}.")
    return table.assign(file_stem=names.str.removesuffix(".png"))


def _trials(experiment: str, folder: str, files: Mapping[str, Path], stimuli: StimulusSet) -> xr.DataArray:
    """One experiment's human trials: 1.0 where the response is the image's category, else 0.0."""
    csvs = sorted(p for p in files if p.startswith(f"{folder}/") and p.endswith(".csv"))
    if not csvs:
        raise DataError(f"The geirhos2019 files hold no human trial table under {folder}/; re-fetch the dataset.")
    table = pd.concat([_read_trials(files[p]) for p in csvs], ignore_index=True)
    stimulus_ids = experiment + "/" + table["file_stem"]
    present = stimulus_ids.isin(stimuli.metadata.index)
    kept, ids = table[present], stimulus_ids[present]
    if kept.empty:
        raise DataError(f"No {experiment} trial shows a stimulus of this dataset; its files are not as published.")
    shapes = stimuli.metadata.loc[ids, "shape"].to_numpy()
    if (shapes != kept["category"].to_numpy()).any():
        raise DataError(f"Some {experiment} trials name a category other than their image's shape; re-fetch them.")

    def column(name: str) -> np.ndarray:
        values = kept[name].to_numpy()
        return values.astype(object) if values.dtype.kind not in "if" else values

    response, category = column("object_response"), column("category")
    return xr.DataArray(
        (response == category).astype(np.float64),
        dims=("presentation",),
        coords={
            "subject": ("presentation", column("subj")),
            "session": ("presentation", column("session")),
            "trial": ("presentation", column("trial")),
            "stimulus_id": ("presentation", ids.to_numpy().astype(object)),
            "response": ("presentation", response),
            "category": ("presentation", category),
            "condition": ("presentation", column("condition")),
            "rt": ("presentation", column("rt")),
        },
        attrs={
            "kind": "behavioral_trials",
            "experiment": experiment,
            "species": "human",
            "measurement": "16-way forced-choice object categorisation; value 1.0 = correct (response == category)",
            "n_trials_dropped_absent_stimulus": int((~present).sum()),
        },
    )


def _category_mapping(path: Path) -> xr.DataArray:
    """ImageNet-1k indices of the 16 categories; values weight each index 1/(indices of its category)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        categories = raw["categories"]
        pairs = [(int(i), str(c)) for c, indices in categories.items() for i in indices]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"Cannot read {path.name} as JSON ({exc}); re-fetch the dataset.") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path.name} is not a 'categories' → ImageNet index lists mapping ({exc}).") from exc
    if sorted(categories) != sorted(CATEGORIES):
        raise DataError(f"{path.name} does not map exactly the 16 categories {', '.join(CATEGORIES)}.")
    indices = [i for i, _ in pairs]
    if len(set(indices)) != len(indices) or not all(0 <= i < N_IMAGENET_CLASSES for i in indices):
        raise DataError(f"{path.name} has an ImageNet index repeated or outside 0-{N_IMAGENET_CLASSES - 1}.")
    pairs.sort()
    sizes = {c: len(v) for c, v in categories.items()}
    return xr.DataArray(
        np.array([1.0 / sizes[c] for _, c in pairs]),
        dims=("imagenet_index",),
        coords={"imagenet_index": [i for i, _ in pairs],
                "category": ("imagenet_index", np.array([c for _, c in pairs], dtype=object))},
        attrs={"kind": "category_mapping", "aggregation": str(raw.get("aggregation", "mean")),
               "description": "a category's probability is the mean softmax probability over its ImageNet indices "
                              "(= the sum weighted by these values)"},
    )


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """Stimuli (224×224 PNGs) and the human trials of the three experiments, plus the 16-class mapping.

    Stimulus ids are ``<experiment>/<file stem>`` (``cue-conflict/bird3-clock3``, ``edge/oven10``,
    ``silhouette/oven10``); metadata: ``experiment``, ``shape``, ``texture`` (= shape but for cue-conflict),
    ``file`` (path in the dataset). Assemblies:

    - ``Geirhos2019.cue_conflict`` / ``.edge`` / ``.silhouette``: one value per human trial over
      ``presentation`` (1.0 correct, 0.0 not; a response ``'na'`` — no answer — is not correct) with
      coordinates ``subject``, ``session``, ``trial``, ``stimulus_id``, ``response``, ``category`` (the shape),
      ``condition``, ``rt``; trials on images absent from the files (the mirror's cue-conflict subset)
      are dropped and counted in ``attrs['n_trials_dropped_absent_stimulus']``;
    - ``imagenet_16class``: over ``imagenet_index`` (ImageNet-1k, 0-based), coordinate ``category``,
      values 1/(number of indices of the category), so a weighted sum of softmax outputs is the mean.
    """
    if MAPPING not in files:
        raise DataError(f"The geirhos2019 files lack {MAPPING}; re-fetch the dataset.")
    stimuli = _stimuli(files)
    assemblies = {name: _trials(experiment, folder, files, stimuli)
                  for experiment, (_, folder, name) in EXPERIMENTS.items()}
    assemblies[MAPPING_ASSEMBLY] = _category_mapping(files[MAPPING])
    return Dataset(manifest=manifest, stimuli=stimuli, assemblies=assemblies)
