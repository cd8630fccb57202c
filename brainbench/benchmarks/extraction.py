"""``extract``: a model's activations on a folder of images or a dataset's stimuli, written as a Brain-Score netCDF
assembly (``presentation × neuroid``) that `evaluate` and xarray read."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import xarray as xr

from brainbench import paths
from brainbench.benchmarks.spec import list_benchmarks
from brainbench.data import StimulusSet, list_manifests, load_dataset
from brainbench.data.brainscore_format import write_assembly
from brainbench.data.image_folder import folder_stimuli
from brainbench.errors import BrainbenchError, suggest
from brainbench.models.activations import DEFAULT_MEMORY_BUDGET, ProgressFactory
from brainbench.models.allocator import retain_freed_memory
from brainbench.models.device import resolve_device
from brainbench.models.features import POOLINGS, extract_features
from brainbench.models.registry import resolve_model


def _check_output(output: Path) -> None:
    """Refuse, before any work, an output path that cannot be written."""
    if output.is_dir():
        raise BrainbenchError(f"The output {output} is a folder; give a file name, e.g. {output / 'features.nc'}.")
    folder = next((p for p in (output.parent, *output.parent.parents) if p.exists()), Path("."))
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise BrainbenchError(f"Cannot write {output}: {folder} is not a writable folder; choose another -o path.")


def _dataset_degrees(name: str, definitions: Sequence[str | Path] = ()) -> float:
    """The degrees a dataset's stimuli span in its benchmarks, when they all agree."""
    shown: dict[float, list[str]] = {}
    for spec in list_benchmarks(definitions).values():
        if spec.dataset == name:
            shown.setdefault(spec.stimulus_degrees, []).append(spec.id)
    if len(shown) == 1:
        return next(iter(shown))
    if not shown:
        raise BrainbenchError(f"No benchmark says how large dataset {name}'s stimuli were shown; give "
                              "--stimulus-degrees.")
    choices = " or ".join(f"{degrees:g} ({', '.join(ids)})" for degrees, ids in sorted(shown.items()))
    raise BrainbenchError(f"Dataset {name}'s benchmarks show its stimuli at different sizes: {choices} degrees; "
                          "give --stimulus-degrees.")


def resolve_stimuli(stimuli: str | Path, data_mirrors: Sequence[str | Path] = (),
                    definitions: Sequence[str | Path] = ()) -> tuple[StimulusSet, float | None]:
    """A folder of images (degrees: None, i.e. the model's field) or a dataset's stimuli with their benchmarks'
    degrees (None when they disagree: the caller must be given them). ``definitions``: extra definition folders
    (``--definitions``), where user datasets and benchmarks are also looked up."""
    path = Path(stimuli)
    if path.is_dir():
        return folder_stimuli(path), None
    names = [m.name for m in list_manifests(definitions)]
    if str(stimuli) not in names:
        raise BrainbenchError(f"--stimuli {stimuli} is neither a folder nor a dataset brainbench knows."
                              f"{suggest(str(stimuli), names)} See `brainbench data list`.")
    dataset = load_dataset(str(stimuli), mirrors=paths.mirror_dirs(list(data_mirrors)), definitions=definitions)
    if len(dataset.stimuli) == 0:
        raise BrainbenchError(f"Dataset {stimuli} has no stimulus images (its stimuli are generated).")
    try:
        degrees = _dataset_degrees(str(stimuli), definitions)
    except BrainbenchError:
        degrees = None
    return dataset.stimuli, degrees


def extract(
    model: str,
    stimuli: str | Path,
    output: str | Path,
    *,
    layers: Sequence[str] | None = None,
    pooling: str = "none",
    stimulus_degrees: float | None = None,
    weights: str | Path | None = None,
    random_init: bool = False,
    visual_degrees: float | None = None,
    device: str | None = None,
    seed: int = 0,
    data_mirrors: Sequence[str | Path] = (),
    batch_size: int = 32,
    max_memory_gb: float | None = None,
    progress: ProgressFactory | None = None,
    definitions: Sequence[str | Path] = (),
) -> xr.DataArray:
    """Write ``model``'s activations on ``stimuli`` (a folder of images, or a dataset name) to the netCDF ``output``.

    Folder images fill the model's field unless ``stimulus_degrees`` is given; a dataset's stimuli span the degrees
    its benchmarks show them at (``stimulus_degrees`` is needed when those differ). The file is written whole or
    not at all; features larger than ``max_memory_gb`` (default 4 GiB) are refused before the forward passes.
    ``definitions``: extra definition folders (``--definitions``) for a user dataset. Returns the assembly written
    (`models.features.extract_features`).
    """
    if pooling not in POOLINGS:
        raise BrainbenchError(f"Unknown pooling '{pooling}'; choose one of {', '.join(POOLINGS)}.")
    output = Path(output)
    _check_output(output)
    if (stimulus_degrees is None and not Path(stimuli).is_dir()
            and str(stimuli) in {m.name for m in list_manifests(definitions)}):
        # before the dataset is loaded (or downloaded): names the sizes to choose from
        _dataset_degrees(str(stimuli), definitions)
    stimulus_set, dataset_degrees = resolve_stimuli(stimuli, data_mirrors, definitions)
    target = resolve_device(device)
    retain_freed_memory()
    resolved = resolve_model(model, weights=weights, random_init=random_init, layers=layers,
                             visual_degrees=visual_degrees, seed=seed)
    degrees = stimulus_degrees or dataset_degrees or resolved.visual_degrees
    budget = int(max_memory_gb * 2**30) if max_memory_gb is not None else DEFAULT_MEMORY_BUDGET
    features = extract_features(resolved, stimulus_set, degrees, pooling=pooling, device=target,
                                batch_size=batch_size, memory_budget=budget, progress=progress)
    features.attrs["stimuli"] = str(stimuli)
    write_assembly(features, output)
    return features
