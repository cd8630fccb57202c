"""Datasets: manifests, fetching, stimuli and assemblies. Knows nothing of models.

Manifests are imported at once; the rest (xarray, pooch, PIL) on first use, so listing datasets stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brainbench.data.manifest import DataFile, Manifest, list_manifests, load_manifest

if TYPE_CHECKING:
    from brainbench.data.assemblies import Dataset
    from brainbench.data.fetch import fetch_dataset, verify_dataset
    from brainbench.data.stimuli import StimulusSet

_LAZY = {
    "Dataset": "brainbench.data.assemblies",
    "fetch_dataset": "brainbench.data.fetch",
    "verify_dataset": "brainbench.data.fetch",
    "StimulusSet": "brainbench.data.stimuli",
}

__all__ = [
    "DataFile",
    "Dataset",
    "Manifest",
    "StimulusSet",
    "fetch_dataset",
    "list_manifests",
    "load_dataset",
    "load_manifest",
    "verify_dataset",
]


def load_dataset(
    name: str,
    mirrors: Sequence[Path] | None = None,
    allow_download: bool = True,
    progress: Callable[[DataFile], object] | None = None,
    definitions: Sequence[str | Path] = (),
) -> Dataset:
    """Fetch (cache → mirror → download, verified) and load dataset ``name`` (``definitions``: extra definition
    folders, as ``--definitions``)."""
    from brainbench.data.fetch import fetch_dataset
    from brainbench.data.loaders import get_loader

    manifest = load_manifest(name, definitions)
    fetched = fetch_dataset(manifest, mirrors, allow_download, progress)
    return get_loader(manifest.loader)(manifest, {path: f.path for path, f in fetched.items()})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'brainbench.data' has no attribute '{name}'")
