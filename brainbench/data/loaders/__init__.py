"""Loaders: one function per file format, turning a dataset's verified files into a Dataset.

Each loader's module is imported when first asked for, so naming or checking a loader needs no xarray or scipy.
Besides the built-in loaders, an installed Python package may offer loaders through the ``brainbench.loaders``
entry-point group (``name = "package.module:function"``, a function ``(manifest, files) -> Dataset`` like the
built-ins' ``load``); a built-in loader's name cannot be taken over.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    from brainbench.data.assemblies import Dataset
    from brainbench.data.manifest import Manifest

Loader = Callable[["Manifest", dict[str, Path]], "Dataset"]

#: The entry-point group through which installed packages offer loaders.
ENTRY_POINT_GROUP = "brainbench.loaders"

#: Loader name → the module (in this package) whose ``load`` it is.
LOADERS: dict[str, str] = {
    "brainscore": "brainscore",
    "brainscore_behavior": "brainscore_behavior",
    "kriegeskorte2008": "kriegeskorte2008",
    "cowley2023": "cowley2023",
    "marques2020": "marques2020",
    "geirhos2019": "geirhos2019",
    "generic": "generic",
}


def _described(entry: importlib.metadata.EntryPoint) -> str:
    """An entry point as a user finds it in a package's metadata: ``name = value`` (of distribution D)."""
    dist = getattr(entry, "dist", None)
    owner = f" of the package {dist.name}" if dist is not None else ""
    return f"'{entry.name} = {entry.value}'{owner}"


def _offered(name: str) -> importlib.metadata.EntryPoint | None:
    """The entry point offering loader ``name`` (not imported), or None; a name offered twice is refused."""
    entries = {e.value: e for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)}
    if len(entries) > 1:
        first, second = list(entries.values())[:2]
        raise BrainbenchError(f"The loader '{name}' is offered twice, by the entry points {_described(first)} and "
                              f"{_described(second)}; uninstall or rename one of them.")
    return next(iter(entries.values()), None)


def check_loader(name: str) -> None:
    """Refuse a loader name brainbench does not have (one sentence), without importing any loader."""
    offered = _offered(name)
    if name in LOADERS:
        if offered is not None:
            raise BrainbenchError(f"The loader '{name}' is built into brainbench; the entry point "
                                  f"{_described(offered)} cannot replace it: rename that loader in its package.")
        return
    if offered is None:
        names = {e.name for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        raise BrainbenchError(f"No loader named '{name}'; known loaders: {', '.join(sorted({*LOADERS, *names}))} "
                              f"(installed packages add loaders through '{ENTRY_POINT_GROUP}' entry points).")


def get_loader(name: str) -> Loader:
    """The loader a manifest names: a built-in one, else one an installed package offers."""
    check_loader(name)
    if name in LOADERS:
        return importlib.import_module(f"{__name__}.{LOADERS[name]}").load
    entry = _offered(name)
    assert entry is not None  # check_loader refused the name otherwise
    try:
        loader = entry.load()
    except Exception as exc:  # any error of a third-party import: say whose, in one sentence
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise BrainbenchError(f"Cannot import the loader '{name}' from the entry point {_described(entry)} "
                              f"({type(exc).__name__}: {reason}).") from exc
    if not callable(loader):
        raise BrainbenchError(f"The loader '{name}' from the entry point {_described(entry)} is not a function.")
    return loader
