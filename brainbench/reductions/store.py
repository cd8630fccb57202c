"""The on-disk reduction cache: content-keyed entries of NumPy arrays, verified on read, bounded in size.

An entry is ``<key>.npz`` (uncompressed, no pickles) with ``<key>.json`` beside it: the npz's sha256 and size and the
fields its key was made of (what ``cache info`` and ``cache clear --model`` read). Both are written under partial names
and renamed (data/cache_files.py); the json goes first, so no reader finds an entry without its checksum. A reader
reads the npz's bytes once, checks them against the json and decodes those same bytes, so an entry replaced or
evicted meanwhile is either read whole or missed. A hit touches the entry's modification time; after each write the
least recently used entries are removed until the folder fits its bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
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


@dataclass(frozen=True)
class Entry:
    """One cached reduction: its key, bytes on disk (npz + json), last use (seconds since the epoch) and key fields."""

    key: str
    size: int
    used: float
    fields: dict[str, Any]


class ReductionStore:
    """A folder of cached reductions bounded to ``limit`` bytes. ``hits``/``misses`` count this object's lookups."""

    def __init__(self, folder: Path | None = None, limit: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir()
        self.limit = cache_limit() if limit is None else int(limit)
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

    def entries(self, with_fields: bool = True) -> list[Entry]:
        """Every entry, least recently used first (partials left out); ``with_fields=False`` reads no sidecar (sizes
        and times only, from the file system)."""
        found = []
        for data in self.folder.glob("*.npz") if self.folder.is_dir() else ():
            if data.name.startswith("."):
                continue
            sidecar = data.with_suffix(".json")
            fields: Any = {}
            if with_fields:
                try:
                    fields = json.loads(sidecar.read_text()).get("fields", {})
                except (OSError, ValueError, AttributeError):
                    fields = {}
            found.append(Entry(data.stem, _size(data) + _size(sidecar), _mtime(data),
                               fields if isinstance(fields, dict) else {}))
        return sorted(found, key=lambda entry: (entry.used, entry.key))

    def evict(self, keep: str | None = None) -> list[Entry]:
        """Remove least recently used entries (never ``keep``) until the total fits :attr:`limit`; returns them."""
        entries = self.entries(with_fields=False)
        total = sum(entry.size for entry in entries)
        removed = []
        for entry in entries:
            if total <= self.limit:
                break
            if entry.key == keep:
                continue
            self.remove(entry.key)
            total -= entry.size
            removed.append(entry)
        return removed

    def remove(self, key: str) -> None:
        """Delete one entry (the array first, so no reader finds an array without its checksum)."""
        data, sidecar = self._paths(key)
        data.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)


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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
