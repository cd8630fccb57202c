"""Data manifests: which files a dataset has, where each is published, and its checksum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brainbench.definitions import DefinitionFile, definition_files, read_toml, unique_by
from brainbench.errors import BrainbenchError, unknown

HASH_LENGTHS = {"sha256": 64, "sha1": 40}  # hex digits; strongest first
LAYOUT_TABLES = ("stimuli", "assemblies")  # kept verbatim in Manifest.layout for the loader


@dataclass(frozen=True)
class DataFile:
    """One published file of a dataset.

    ``path`` is relative to the dataset folder; ``url`` is the public address of exactly this
    file (a fixed commit or object version, never a moving branch). ``embedded`` files ship inside
    brainbench (``brainbench/data/embedded/<dataset>/<path>``) and need no url. A file carries a
    ``sha256`` and/or a ``sha1`` (hex; Brain-Score publishes
    SHA-1 only); every check uses the strongest one present. ``size`` is in bytes, or 0 when the
    publisher gives none (then only the hash is checked).
    """

    path: str
    sha256: str = ""
    size: int = 0
    url: str = ""
    sha1: str = ""
    embedded: bool = False

    @property
    def algorithm(self) -> str:
        """The strongest hash this file carries: ``'sha256'`` or ``'sha1'``."""
        return "sha256" if self.sha256 else "sha1"

    @property
    def digest(self) -> str:
        """The hex digest of :attr:`algorithm`."""
        return self.sha256 or self.sha1

    @property
    def checksum(self) -> str:
        """As recorded in score provenance: the bare sha256 hex, else ``'sha1:<hex>'``."""
        return self.sha256 if self.sha256 else f"sha1:{self.sha1}"

    def __post_init__(self) -> None:
        if not (self.sha256 or self.sha1):
            raise ValueError(f"DataFile {self.path} needs a sha256 or a sha1")


@dataclass(frozen=True)
class Manifest:
    """A dataset: its files, how to load them, and whom to cite.

    ``assembly`` and ``stimulus_set`` optionally name what a loader builds from the files (for the
    ``brainscore`` loader: the assembly's key in ``Dataset.assemblies`` and the stimulus set identifier).
    ``layout`` holds the manifest's ``stimuli`` and ``assemblies`` tables verbatim, for loaders that read
    their layout from the manifest (the generic loader); ``definition`` is the file the manifest was read from.
    """

    name: str
    title: str
    loader: str
    files: tuple[DataFile, ...]
    citations: tuple[str, ...] = ()
    licence: str = ""
    source: str = ""
    mirror_folder: str = ""
    assembly: str = ""
    stimulus_set: str = ""
    layout: dict[str, Any] = field(default_factory=dict, compare=False)
    definition: DefinitionFile | None = field(default=None, compare=False)

    @property
    def checksums(self) -> dict[str, str]:
        """``{relative path: checksum}`` of every file, as recorded in score provenance (see DataFile.checksum)."""
        return {f.path: f.checksum for f in self.files}


def _data_file(raw: dict, origin: Path | str) -> DataFile:
    path = str(raw["path"])
    hashes = {}
    for algorithm, length in HASH_LENGTHS.items():
        if algorithm not in raw:
            continue
        value = str(raw[algorithm]).lower()
        if len(value) != length or any(c not in "0123456789abcdef" for c in value):
            raise BrainbenchError(f"Data manifest {origin}: file {path} has no valid {algorithm}.")
        hashes[algorithm] = value
    if not hashes:
        raise BrainbenchError(f"Data manifest {origin} is malformed (file {path} has neither a sha256 nor a sha1).")
    size = int(raw.get("size", 0))
    if size < 0:
        raise ValueError(f"size {size} of {path}")
    embedded = raw.get("embedded", False)
    if not isinstance(embedded, bool):
        raise ValueError(f"embedded of {path} must be true or false")
    return DataFile(path=path, size=size, url=str(raw.get("url", "")), embedded=embedded, **hashes)


def parse_manifest(raw: dict, origin: Path | str = "<manifest>", definition: DefinitionFile | None = None) -> Manifest:
    """Build a Manifest from parsed TOML, checking the fields a fetch relies on."""
    try:
        files = tuple(_data_file(f, origin) for f in raw["files"])
        manifest = Manifest(
            name=str(raw["name"]),
            title=str(raw["title"]),
            loader=str(raw["loader"]),
            files=files,
            citations=tuple(raw.get("citations", ())),
            licence=str(raw.get("licence", "")),
            source=str(raw.get("source", "")),
            mirror_folder=str(raw.get("mirror_folder", raw["name"])),
            assembly=str(raw.get("assembly", "")),
            stimulus_set=str(raw.get("stimulus_set", "")),
            layout={key: raw[key] for key in LAYOUT_TABLES if key in raw},
            definition=definition,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrainbenchError(f"Data manifest {origin} is malformed (missing or bad field {exc}).") from exc
    for f in manifest.files:
        if Path(f.path).is_absolute() or ".." in Path(f.path).parts:
            raise BrainbenchError(f"Data manifest {origin}: file path {f.path} must stay inside the dataset.")
    return manifest


def list_manifests(definitions: Sequence[str | Path] = ()) -> list[Manifest]:
    """Every dataset brainbench knows, sorted by name: built-in and user manifests (``definitions``: the
    ``--definitions`` folders; see :mod:`brainbench.definitions`). A name defined twice is refused, naming both
    files."""
    manifests = [parse_manifest(read_toml(f.path), f.path, f) for f in definition_files("data_manifests", definitions)]
    known = unique_by(((m.name, m.definition, m) for m in manifests), "dataset")
    return [known[name] for name in sorted(known)]


def load_manifest(name: str, definitions: Sequence[str | Path] = ()) -> Manifest:
    """The manifest of dataset ``name``; an unknown name suggests close ones."""
    manifests = {m.name: m for m in list_manifests(definitions)}
    if name not in manifests:
        raise unknown("dataset", name, manifests, "See `brainbench data list`.")
    return manifests[name]
