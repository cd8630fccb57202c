"""Datasets: manifests, fetching, stimuli and assemblies. Knows nothing of models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from brainbench.data.assemblies import Dataset
from brainbench.data.fetch import fetch_dataset, verify_dataset
from brainbench.data.loaders import get_loader
from brainbench.data.manifest import DataFile, Manifest, list_manifests, load_manifest
from brainbench.data.stimuli import StimulusSet

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
) -> Dataset:
    """Fetch (cache → mirror → download, verified) and load dataset ``name``."""
    manifest = load_manifest(name)
    fetched = fetch_dataset(manifest, mirrors, allow_download, progress)
    return get_loader(manifest.loader)(manifest, {path: f.path for path, f in fetched.items()})
