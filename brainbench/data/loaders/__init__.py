"""Loaders: one function per file format, turning a dataset's verified files into a Dataset.

Each loader's module is imported when first asked for, so naming or checking a loader needs no xarray or scipy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    from brainbench.data.assemblies import Dataset
    from brainbench.data.manifest import Manifest

Loader = Callable[["Manifest", dict[str, Path]], "Dataset"]

#: Loader name → the module (in this package) whose ``load`` it is.
LOADERS: dict[str, str] = {
    "brainscore": "brainscore",
    "brainscore_behavior": "brainscore_behavior",
    "kriegeskorte2008": "kriegeskorte2008",
    "cowley2023": "cowley2023",
    "marques2020": "marques2020",
    "geirhos2019": "geirhos2019",
}


def check_loader(name: str) -> None:
    """Refuse a loader name brainbench does not have (one sentence), without importing any loader."""
    if name not in LOADERS:
        raise BrainbenchError(f"No loader named '{name}'; known loaders: {', '.join(sorted(LOADERS))}.")


def get_loader(name: str) -> Loader:
    """The loader a manifest names."""
    check_loader(name)
    return importlib.import_module(f"{__name__}.{LOADERS[name]}").load
