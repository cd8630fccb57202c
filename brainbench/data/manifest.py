"""Data manifests: which files a dataset has, where each is published, and its checksum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from brainbench.definitions import DefinitionFile, definition_files, read_toml, unique_by
from brainbench.errors import BrainbenchError, unknown

HASH_LENGTHS = {"sha256": 64, "sha1": 40}  # hex digits; strongest first
LAYOUT_TABLES = ("stimuli", "assemblies")  # kept verbatim in Manifest.layout for the loader
URL_SCHEMES = ("http", "https", "file")  # what a file's url may use (file: a file on this machine, read in place)
NO_ORIGIN = "<manifest>"  # parse_manifest's origin when the manifest was not read from a file


@dataclass(frozen=True)
class DataFile:
    """One published file of a dataset.

    ``path`` is relative to the dataset folder; ``url`` is the public address of exactly this
    file (a fixed commit or object version, never a moving branch). ``embedded`` files ship inside
    brainbench (``brainbench/data/embedded/<dataset>/<path>``) and need no url. ``local`` is the absolute
    path of a file on this machine (the manifest's ``local = ...`` or ``file://`` url), read in place, never
    copied into the cache. ``mirror_folder`` is the mirror folder this file lives in when it is not the
    dataset's (a file shared between datasets; "" = the dataset's). A file carries a ``sha256`` and/or a
    ``sha1`` (hex; Brain-Score publishes SHA-1 only); every check uses the strongest one present. ``size`` is
    in bytes, or 0 when the publisher gives none (then only the hash is checked).
    """

    path: str
    sha256: str = ""
    size: int = 0
    url: str = ""
    sha1: str = ""
    embedded: bool = False
    local: Path | None = None
    mirror_folder: str = ""

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
        if self.local is not None and not self.local.is_absolute():
            raise ValueError(f"DataFile {self.path}: local path {self.local} must be absolute")


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


def _data_file(raw: dict, origin: Path | str, folder: Path | None) -> DataFile:
    """One ``[[files]]`` entry; ``folder``: where relative ``local`` paths start (None: the manifest has no file)."""
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
    url = str(raw.get("url", ""))
    given = [key for key in ("url", "local") if raw.get(key)] + (["embedded"] if embedded else [])
    if len(given) > 1:
        raise BrainbenchError(f"Data manifest {origin}: file {path} gives {' and '.join(given)}; give only one.")
    mirror_folder = str(raw.get("mirror_folder", ""))
    if mirror_folder and not _stays_inside(mirror_folder):
        raise BrainbenchError(f"Data manifest {origin}: file {path} has mirror_folder {mirror_folder}, which must be a "
                              "folder inside the data mirror (a relative path without '..').")
    return DataFile(path=path, size=size, url=url, embedded=embedded, local=_local_path(raw, path, url, origin, folder),
                    mirror_folder=mirror_folder, **hashes)


def _local_path(raw: dict, path: str, url: str, origin: Path | str, folder: Path | None) -> Path | None:
    """The absolute path of a file on this machine (``local = ...`` or a ``file://`` url), else None; a url of
    another scheme than http, https or file is refused here, at parse time."""
    entry = f"Data manifest {origin}: file {path}"
    if "local" in raw:
        if not isinstance(raw["local"], str) or not raw["local"].strip():
            raise BrainbenchError(f"{entry} has an empty or non-text local path; write local = \"PATH\".")
        written = Path(raw["local"]).expanduser()
    elif url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in URL_SCHEMES:
            which = f"scheme {scheme}://" if scheme else "lack of a scheme"
            raise BrainbenchError(f"{entry} has the url {url}, whose {which} is not supported: use an http://, "
                                  "https:// or file:// URL, or local = \"PATH\" for a file on this machine.")
        if scheme != "file":
            return None
        if parts.netloc not in ("", "localhost"):
            raise BrainbenchError(f"{entry} has the url {url}, which names another host ({parts.netloc}); a file:// "
                                  "URL names a file on this machine: file:///ABSOLUTE/PATH.")
        written = Path(unquote(parts.path))
        if not written.is_absolute():
            raise BrainbenchError(f"{entry} has the url {url}, whose path is not absolute: write "
                                  "file:///ABSOLUTE/PATH, or local = \"PATH\" for a path relative to the manifest.")
    else:
        return None
    if written.is_absolute():
        return written.resolve()
    if folder is None:
        raise BrainbenchError(f"{entry} has the relative local path {written}, but the manifest was not read from a "
                              "file to start it from; give an absolute path.")
    return (folder / written).resolve()


def _stays_inside(relative: str) -> bool:
    return not (Path(relative).is_absolute() or ".." in Path(relative).parts)


def parse_manifest(raw: dict, origin: Path | str = NO_ORIGIN, definition: DefinitionFile | None = None) -> Manifest:
    """Build a Manifest from parsed TOML, checking the fields a fetch relies on.

    ``origin``: the manifest file (relative ``local`` paths start from its folder; the default, no file, allows only
    absolute ones); ``definition``: where it was found, recorded in :attr:`Manifest.definition`.
    """
    manifest_file = definition.path if definition else None if origin == NO_ORIGIN else Path(origin)
    folder = manifest_file.parent.absolute() if manifest_file else None
    try:
        files = tuple(_data_file(f, origin, folder) for f in raw["files"])
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
        if not _stays_inside(f.path):
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
