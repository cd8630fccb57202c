"""Data manifests: which files a dataset has, where each is published, and its checksum."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from brainbench.definitions import definition_files, read_toml
from brainbench.errors import BrainbenchError, unknown


@dataclass(frozen=True)
class DataFile:
    """One published file of a dataset.

    ``path`` is relative to the dataset folder; ``url`` is the public address of exactly this
    file (a fixed commit, never a moving branch), or empty for files shipped inside brainbench.
    """

    path: str
    sha256: str
    size: int
    url: str = ""


@dataclass(frozen=True)
class Manifest:
    """A dataset: its files, how to load them, and whom to cite."""

    name: str
    title: str
    loader: str
    files: tuple[DataFile, ...]
    citations: tuple[str, ...] = ()
    licence: str = ""
    source: str = ""
    mirror_folder: str = ""

    @property
    def checksums(self) -> dict[str, str]:
        """``{relative path: sha256}`` of every file, as recorded in score provenance."""
        return {f.path: f.sha256 for f in self.files}


def parse_manifest(raw: dict, origin: Path | str = "<manifest>") -> Manifest:
    """Build a Manifest from parsed TOML, checking the fields a fetch relies on."""
    try:
        files = tuple(
            DataFile(
                path=str(f["path"]), sha256=str(f["sha256"]).lower(), size=int(f["size"]), url=str(f.get("url", ""))
            )
            for f in raw["files"]
        )
        manifest = Manifest(
            name=str(raw["name"]),
            title=str(raw["title"]),
            loader=str(raw["loader"]),
            files=files,
            citations=tuple(raw.get("citations", ())),
            licence=str(raw.get("licence", "")),
            source=str(raw.get("source", "")),
            mirror_folder=str(raw.get("mirror_folder", raw["name"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrainbenchError(f"Data manifest {origin} is malformed (missing or bad field {exc}).") from exc
    for f in manifest.files:
        if len(f.sha256) != 64 or any(c not in "0123456789abcdef" for c in f.sha256):
            raise BrainbenchError(f"Data manifest {origin}: file {f.path} has no valid sha256.")
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
