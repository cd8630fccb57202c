"""Loaders: one function per file format, turning a dataset's verified files into a Dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from brainbench.data.assemblies import Dataset
from brainbench.data.loaders import (
    brainscore,
    brainscore_behavior,
    cowley2023,
    geirhos2019,
    kriegeskorte2008,
    marques2020,
)
from brainbench.data.manifest import Manifest
from brainbench.errors import BrainbenchError

Loader = Callable[[Manifest, dict[str, Path]], Dataset]

LOADERS: dict[str, Loader] = {
    "brainscore": brainscore.load,
    "brainscore_behavior": brainscore_behavior.load,
    "kriegeskorte2008": kriegeskorte2008.load,
    "cowley2023": cowley2023.load,
    "marques2020": marques2020.load,
    "geirhos2019": geirhos2019.load,
}


def get_loader(name: str) -> Loader:
    """The loader a manifest names."""
    if name not in LOADERS:
        raise BrainbenchError(f"No loader named '{name}'; known loaders: {', '.join(sorted(LOADERS))}.")
    return LOADERS[name]
