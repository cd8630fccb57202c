"""Where the TOML definitions (benchmarks, model registry, data manifests) are found.

Built-in definitions are the checkout's top-level folders, or, in an installed wheel,
``brainbench/_definitions/<kind>``. User definitions are read, in this order, from ``<BRAINBENCH_HOME>/<kind>``,
from ``<folder>/<kind>`` for every folder of ``$BRAINBENCH_DEFINITIONS`` (path-separated), and from
``<folder>/<kind>`` for every ``--definitions`` folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from brainbench import paths
from brainbench.errors import BrainbenchError

_PACKAGE_DIR = Path(__file__).resolve().parent
BUILT_IN = "built-in"
#: The variable naming extra definition folders (each holding ``benchmarks/`` and/or ``data_manifests/``).
DEFINITIONS_VARIABLE = "BRAINBENCH_DEFINITIONS"

T = TypeVar("T")


@dataclass(frozen=True)
class DefinitionFile:
    """One TOML definition file and where it was found.

    ``origin``: ``'built-in'``, ``'home'`` (``<BRAINBENCH_HOME>/<kind>``), ``'BRAINBENCH_DEFINITIONS'`` or
    ``'--definitions'``.
    """

    path: Path
    origin: str

    @property
    def built_in(self) -> bool:
        return self.origin == BUILT_IN


def where(definition: DefinitionFile | None) -> str:
    """Where a definition comes from, as the lists show it: ``'built-in'``, or the path of a user definition's file."""
    return BUILT_IN if definition is None or definition.built_in else str(definition.path)


def definition_fields(definition: DefinitionFile | None) -> dict[str, str | None]:
    """Where a definition comes from, for JSON: ``origin`` (see :class:`DefinitionFile`) and ``file`` (its path)."""
    if definition is None:
        return {"origin": BUILT_IN, "file": None}
    return {"origin": definition.origin, "file": str(definition.path)}


def definitions_dir(kind: str) -> Path:
    """The folder holding brainbench's own TOML files of ``kind`` ('benchmarks', 'model_registry', 'data_manifests')."""
    for candidate in (_PACKAGE_DIR / "_definitions" / kind, _PACKAGE_DIR.parent / kind):
        if candidate.is_dir():
            return candidate
    raise BrainbenchError(f"brainbench's '{kind}' definitions are missing; reinstall brainbench.")


def user_folders(definitions: Sequence[str | Path] = ()) -> list[tuple[Path, str]]:
    """The user definition folders, in search order, each with its origin label.

    ``definitions``: folders given on the command line (``--definitions``); each must exist (a typo should not
    quietly mean "no definitions"). Entries of ``$BRAINBENCH_DEFINITIONS`` that do not exist on this machine are
    skipped, as one variable may serve several machines.
    """
    folders = [(paths.home(), "home")]
    env = os.environ.get(DEFINITIONS_VARIABLE, "")
    folders += [(Path(p).expanduser(), DEFINITIONS_VARIABLE) for p in env.split(os.pathsep) if p]
    for given in definitions:
        folder = Path(given).expanduser()
        if not folder.is_dir():
            raise BrainbenchError(f"The definitions folder {folder} is not a folder on this machine; check the path "
                                  "given to --definitions.")
        folders.append((folder, "--definitions"))
    seen: set[Path] = set()
    unique = []
    for folder, origin in folders:
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((folder, origin))
    return unique


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file; a syntax error becomes one clear sentence naming the file."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BrainbenchError(f"Cannot read definition file {path}: {exc}.") from exc


def definition_files(kind: str, definitions: Sequence[str | Path] = ()) -> list[DefinitionFile]:
    """All ``*.toml`` files of ``kind``: the built-in ones (sorted by name), then each user folder's (see
    :func:`user_folders`; ``definitions`` are the ``--definitions`` folders)."""
    found = [DefinitionFile(p, BUILT_IN) for p in sorted(definitions_dir(kind).glob("*.toml"))]
    for folder, origin in user_folders(definitions):
        found += [DefinitionFile(p, origin) for p in sorted((folder / kind).glob("*.toml")) if p.is_file()]
    return found


def unique_by(items: Iterable[tuple[Hashable, DefinitionFile, T]], what: str) -> dict[Hashable, T]:
    """``{key: item}`` for ``(key, file, item)`` triples; a key defined twice is refused with one sentence naming both
    files (a user definition never shadows a built-in one, nor another user definition)."""
    chosen: dict[Hashable, tuple[DefinitionFile, T]] = {}
    for key, file, item in items:
        if key in chosen:
            first = chosen[key][0]
            raise BrainbenchError(
                f"The {what} '{key}' is defined twice: in {first.path} ({first.origin}) and in {file.path} "
                f"({file.origin}); rename or remove one of them."
            )
        chosen[key] = (file, item)
    return {key: item for key, (_, item) in chosen.items()}
