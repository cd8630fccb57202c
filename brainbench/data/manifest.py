"""Data manifests: which files a dataset has, where each is published, and its checksum."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brainbench.definitions import definition_files, read_toml
from brainbench.errors import BrainbenchError, unknown

HASH_LENGTHS = {"sha256": 64, "sha1": 40}  # hex digits; strongest first


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


def parse_manifest(raw: dict, origin: Path | str = "<manifest>") -> Manifest:
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrainbenchError(f"Data manifest {origin} is malformed (missing or bad field {exc}).") from exc
    for f in manifest.files:
        if Path(f.path).is_absolute() or ".." in Path(f.path).parts:
            raise BrainbenchError(f"Data manifest {origin}: file path {f.path} must stay inside the dataset.")
    return manifest


def list_manifests() -> list[Manifest]:
    """Every dataset brainbench knows, sorted by name."""
    return [parse_manifest(read_toml(p), p) for p in definition_files("data_manifests")]


def load_manifest(name: str) -> Manifest:
    """The manifest of dataset ``name``; an unknown name suggests close ones."""
    manifests = {m.name: m for m in list_manifests()}
    if name not in manifests:
        raise unknown("dataset", name, manifests, "See `brainbench data list`.")
    return manifests[name]
