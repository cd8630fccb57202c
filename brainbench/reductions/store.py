"""The on-disk reduction cache: content-keyed entries of NumPy arrays, verified on read, bounded in size.

An entry is ``<key>.npz`` (uncompressed, no pickles) with ``<key>.json`` beside it: the npz's sha256 and size and the
fields its key was made of (what ``cache info`` and ``cache clear --model`` read). Both are written under partial names
and renamed (data/cache_files.py); the json goes first, so no reader finds an entry without its checksum. A reader
reads the npz's bytes once, checks them against the json and decodes those same bytes, so an entry replaced or
evicted meanwhile is either read whole or missed. A hit touches the entry's modification time; after each write the
least recently used entries are removed until the cache fits its bound.

One bound, ``BRAINBENCH_CACHE_SIZE``, covers this folder and the decoded model inputs of the same home
(``<BRAINBENCH_HOME>/stimuli/inputs``, models/input_cache.py: ``<key>.npy`` with ``<key>.npy.json``) together:
:func:`evict_lru` ranks the array files of both by last use. A removed file stays readable to a process that has it
open or memory-mapped (POSIX); where the system refuses to remove such a file (Windows), it is left for a later pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from brainbench import paths
from brainbench.data import cache_files
from brainbench.errors import BrainbenchError

logger = logging.getLogger("brainbench.reductions")

#: Default bound of the cache (bytes); ``BRAINBENCH_CACHE_SIZE`` overrides it (0 turns the cache off).
DEFAULT_LIMIT = 5 * 2**30
_SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def cache_limit() -> int:
    """The cache's bound in bytes: ``$BRAINBENCH_CACHE_SIZE`` (e.g. ``5GB``, ``500M``, ``0`` = off), else 5 GiB.

    Units are binary (k = 1024); a value that does not read as a size is refused in one sentence.
    """
    text = os.environ.get("BRAINBENCH_CACHE_SIZE", "").strip()
    if not text:
        return DEFAULT_LIMIT
    match = _SIZE.match(text)
    if match is None:
        raise BrainbenchError(f"BRAINBENCH_CACHE_SIZE must be a size such as 5GB, 500MB or 0 (off), not {text!r}.")
    return int(float(match["number"]) * _UNITS[match["unit"][:1].lower()])


def cache_dir() -> Path:
    """Where the reductions are kept: ``<BRAINBENCH_HOME>/reductions``."""
    return paths.home() / "reductions"


def input_dir() -> Path:
    """Where the decoded model inputs are kept (models/input_cache.py): ``<BRAINBENCH_HOME>/stimuli/inputs``."""
    return paths.stimulus_cache() / "inputs"


@dataclass(frozen=True)
class Entry:
    """One cached array file: its key, bytes on disk (array + json sidecar), last use (seconds since the epoch), the
    fields its sidecar names (a reduction's key fields; a decoded input's stimulus set and geometry) and its path."""

    key: str
    size: int
    used: float
    fields: dict[str, Any]
    path: Path | None = None


def input_entries(folder: Path | None = None) -> list[Entry]:
    """Every decoded-input file of ``folder`` (default :func:`input_dir`), least recently used first: ``fields`` is
    its sidecar's record (``stimuli``, ``stimulus_degrees``, ``model_degrees``, ``input_size``, ...; {} when unreadable,
    and without the names in files older than them)."""
    return _listing(Path(folder) if folder is not None else input_dir(), ".npy", True)


def evict_lru(limit: int, folders: Sequence[Path], keep: Path | None = None) -> list[Entry]:
    """Remove the least recently used array files of ``folders`` (reductions and decoded inputs, counted together,
    sidecars included) until they total at most ``limit`` bytes; never ``keep`` (the file just written). Returns the
    entries removed."""
    found = [entry for folder in folders for suffix in (".npz", ".npy") for entry in _listing(folder, suffix, False)]
    entries = sorted(found, key=lambda entry: (entry.used, entry.key))
    total = sum(entry.size for entry in entries)
    removed = []
    for entry in entries:
        if total <= limit:
            break
        if entry.path == keep or entry.path is None or not remove_entry(entry.path):
            continue
        total -= entry.size
        removed.append(entry)
    return removed


def remove_entry(data: Path) -> bool:
    """Delete an array file and its sidecar (the array first, so no reader finds an array without its checksum);
    already gone counts as removed. False when the system refuses (a file mapped by a reader on Windows, …)."""
    try:
        data.unlink(missing_ok=True)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        _sidecar(data).unlink(missing_ok=True)
    return True


class ReductionStore:
    """A folder of cached reductions bounded to ``limit`` bytes, together with the home's decoded-input folder when
    ``folder`` is the home's too (:attr:`inputs`, else None). ``hits``/``misses`` count this object's lookups."""

    def __init__(self, folder: Path | None = None, limit: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir()
        self.limit = cache_limit() if limit is None else int(limit)
        self.inputs = input_dir() if folder is None else None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(fields: dict[str, Any]) -> str:
        """The sha256 of ``fields`` as canonical JSON (sorted keys, no spaces): an entry's name."""
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.npz", self.folder / f"{key}.json"

    def get(self, fields: dict[str, Any]) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``fields``, or None (missing, or failing its check: one warning, then a miss)."""
        data, sidecar = self._paths(self.key(fields))
        try:
            content = data.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        trouble = _trouble(content, sidecar)
        arrays = None
        if not trouble:
            try:
                with np.load(io.BytesIO(content), allow_pickle=False) as npz:
                    arrays = {name: npz[name] for name in npz.files}
            except (OSError, ValueError) as exc:
                trouble = f"is not a readable array file ({exc})"
        if arrays is None:
            logger.warning("Cached reduction %s %s; computing it again.", data, trouble)
            self.misses += 1
            return None
        with contextlib.suppress(OSError):  # an entry evicted meanwhile was still read whole
            os.utime(data)  # least recently used is what eviction removes first
        self.hits += 1
        return arrays

    def put(self, fields: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Store ``arrays`` under ``fields`` (whole or not at all), then evict down to the bound. Does nothing when
        the entry alone exceeds the bound (or the cache is off)."""
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        content = buffer.getvalue()
        if len(content) > self.limit:
            return
        data, sidecar = self._paths(self.key(fields))
        record = {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content), "fields": fields}
        what = f"a cached reduction ({fields.get('kind')}, {fields.get('model', {}).get('identifier')})"
        with cache_files.replacing(data, what) as partial:
            partial.write_bytes(content)
            with cache_files.replacing(sidecar, f"the checksum of {what}") as written:
                written.write_text(json.dumps(record, sort_keys=True) + "\n")
        self.evict(keep=data.stem)

    def entries(self) -> list[Entry]:
        """Every entry, least recently used first (partials left out), with its sidecar's fields."""
        return _listing(self.folder, ".npz", True)

    def evict(self, keep: str | None = None) -> list[Entry]:
        """Remove least recently used entries of this folder and :attr:`inputs` (never the entry ``keep``) until
        both together fit :attr:`limit`; returns them."""
        folders = [self.folder] if self.inputs is None else [self.folder, self.inputs]
        return evict_lru(self.limit, folders, None if keep is None else self._paths(keep)[0])


def _trouble(content: bytes, sidecar: Path) -> str:
    """Why ``content`` does not match the checksum in ``sidecar``, or '' when it does."""
    try:
        record = json.loads(sidecar.read_text())
        size, digest = int(record["bytes"]), str(record["sha256"])
    except FileNotFoundError:
        return "has no checksum beside it"
    except (OSError, ValueError, KeyError, TypeError):
        return "has an unreadable checksum file"
    if len(content) != size:
        return f"holds {len(content)} bytes instead of {size}"
    if hashlib.sha256(content).hexdigest() != digest:
        return "failed its sha256 check"
    return ""


def _sidecar(data: Path) -> Path:
    """``<key>.json`` beside a reduction's ``<key>.npz``; ``<key>.npy.json`` beside a decoded input's ``<key>.npy``."""
    return data.with_suffix(".json") if data.suffix == ".npz" else data.with_name(data.name + ".json")


def _listing(folder: Path, suffix: str, with_fields: bool) -> list[Entry]:
    """The ``*<suffix>`` array files of ``folder`` with their sidecars, least recently used first; partials and files
    removed while listing are left out."""
    found = []
    for data in folder.glob(f"*{suffix}") if folder.is_dir() else ():
        if data.name.startswith("."):
            continue
        sidecar = _sidecar(data)
        try:
            info = data.stat()
        except OSError:  # evicted or replaced by another process meanwhile
            continue
        fields: Any = {}
        if with_fields:
            try:
                record = json.loads(sidecar.read_text())
                fields = record.get("fields", {}) if suffix == ".npz" else record  # an input's record is its fields
            except (OSError, ValueError, AttributeError):
                fields = {}
        found.append(Entry(data.stem, info.st_size + _size(sidecar), info.st_mtime,
                           fields if isinstance(fields, dict) else {}, data))
    return sorted(found, key=lambda entry: (entry.used, entry.key))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
