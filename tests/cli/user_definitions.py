"""Helpers for tests of user definitions: a user dataset over the 92-images mirror files, and a user RSA benchmark
copied from Kiani2007.IT-rsa, written as a user would write them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KIANI = REPO / "benchmarks" / "Kiani2007.IT-rsa.toml"
KRIEGESKORTE = REPO / "data_manifests" / "kriegeskorte2008.toml"
MIRROR_FOLDER = "kriegeskorte2008_92images"


def write_manifest(folder: Path, name: str, loader: str = "kriegeskorte2008") -> Path:
    """``<folder>/data_manifests/<name>.toml``: the built-in 92-images files (sizes, sha256s; no URL: cache or
    mirror only) under another dataset name, read by ``loader``."""
    with KRIEGESKORTE.open("rb") as handle:
        files = tomllib.load(handle)["files"]
    lines = [f"name = {json.dumps(name)}", f'title = "My lab\'s copy of the 92 images ({name})"',
             f"loader = {json.dumps(loader)}", f'mirror_folder = "{MIRROR_FOLDER}"', 'licence = "CC-BY-4.0"']
    for f in files:
        lines += ["", "[[files]]", f"path = {json.dumps(f['path'])}", f'sha256 = "{f["sha256"]}"',
                  f"size = {f['size']}"]
    path = folder / "data_manifests" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_benchmark(folder: Path, identifier: str, dataset: str, assembly: str = "Kiani2007.IT") -> Path:
    """``<folder>/benchmarks/<identifier>.toml``: Kiani2007.IT-rsa with another id, dataset and assembly."""
    text = KIANI.read_text()
    for key, old, new in (("id", "Kiani2007.IT-rsa", identifier), ("dataset", "kriegeskorte2008", dataset),
                          ("assembly", "Kiani2007.IT", assembly)):
        line = f'{key} = "{old}"\n'
        assert text.count(line) == 1, f"{KIANI} no longer has {line!r}"
        text = text.replace(line, f'{key} = "{new}"\n')
    path = folder / "benchmarks" / f"{identifier}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
