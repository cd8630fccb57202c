"""Where the TOML definitions (benchmarks, model registry, data manifests) are found.

In a checkout they are the top-level folders; in an installed wheel they are carried inside the
package as ``brainbench/_definitions/<folder>``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from brainbench.errors import BrainbenchError

_PACKAGE_DIR = Path(__file__).resolve().parent


def definitions_dir(kind: str) -> Path:
    """The folder holding the TOML files of ``kind`` ('benchmarks', 'model_registry', 'data_manifests')."""
    for candidate in (_PACKAGE_DIR / "_definitions" / kind, _PACKAGE_DIR.parent / kind):
        if candidate.is_dir():
            return candidate
    raise BrainbenchError(f"brainbench's '{kind}' definitions are missing; reinstall brainbench.")


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file; a syntax error becomes one clear sentence naming the file."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BrainbenchError(f"Cannot read definition file {path}: {exc}.") from exc


def definition_files(kind: str) -> list[Path]:
    """All ``*.toml`` files of ``kind``, sorted by name."""
    return sorted(definitions_dir(kind).glob("*.toml"))
