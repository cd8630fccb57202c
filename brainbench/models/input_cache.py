"""A stimulus set decoded and preprocessed once per geometry: the model's input pixels, kept on disk.

What a model sees of a stimulus depends only on the image and the geometry — the stimulus's visual degrees, the
model's field and its input size (:func:`preprocessing.place_on_screen`, :func:`preprocessing.input_pixels`) —,
so every model of one geometry shares one file: ``<cache>/inputs/<key>.npy``, (n, size, size, 3) uint8 in
``stimulus_ids`` order, with its sha256 in ``<key>.npy.json`` beside it. The normalisation (mean, std) is applied
after reading, as the uncached path applies it, so the numbers are identical bit for bit. The key is a digest of the
stimuli's content (ids and encoded bytes, :func:`stimuli.source_digest`; decoded pixels when the set cannot say) and
the geometry, so a changed image or geometry never meets an old file. Files are written whole under a partial name
(data/cache_files.py), verified against their checksum on the first read in a process, and drawn again, with one
warning, when they fail.

The files count against ``BRAINBENCH_CACHE_SIZE`` with the reduction cache of the same home (reductions/store.py): a
hit touches the file's modification time, and after a file is written the least recently used files of both caches
are removed until they fit (never the file just written; a reader keeps the file it has mapped, and one that finds
its file gone decodes again). A set larger than the bound alone (or any set, with the cache off: ``0``) is decoded
into memory and not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from brainbench.data import cache_files
from brainbench.data.fetch import sha256_of
from brainbench.data.stimuli import StimulusSet, stimulus_digest
from brainbench.models.preprocessing import input_pixels, place_on_screen
from brainbench.reductions import store

logger = logging.getLogger(__name__)

#: Part of every key: bump it whenever placement or resizing changes what a model sees.
VERSION = 1
_verified: dict[tuple[str, int, int, int], None] = {}  # (path, inode, size, mtime) of files checked in this process


def input_key(stimuli: StimulusSet, stimulus_degrees: float, model_degrees: float, input_size: int) -> str:
    """The cache key of ``stimuli`` shown at ``stimulus_degrees`` in a field of ``model_degrees`` at ``input_size``
    px: a sha256 (hex) of the content and the geometry."""
    content = stimulus_digest(stimuli)
    geometry = {"version": VERSION, "content": content, "stimulus_degrees": float(stimulus_degrees),
                "model_degrees": float(model_degrees), "input_size": int(input_size)}
    return hashlib.sha256(json.dumps(geometry, sort_keys=True).encode()).hexdigest()


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _identity(path: Path) -> tuple[str, int, int, int]:
    info = path.stat()
    return str(path), info.st_ino, info.st_size, info.st_mtime_ns


def _read(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str]:
    """The file memory-mapped if it matches its checksum (checked once per process and file) and ``shape``, its
    modification time touched (last use, for eviction); else (None, what is wrong with it), or (None, '') when it
    was removed meanwhile (evicted by another process)."""
    try:
        identity = _identity(path)
        if identity not in _verified:
            record = json.loads(_checksum_file(path).read_text())
            size, digest = int(record["bytes"]), str(record["sha256"])
            if identity[2] != size or sha256_of(path) != digest:
                return None, "failed its sha256 check"
        pixels = np.load(path, mmap_mode="r")
    except FileNotFoundError:
        return None, "" if not path.exists() else "has no checksum beside it (interrupted)"
    except (OSError, ValueError, KeyError, TypeError):
        return None, "is unreadable or has an unreadable checksum file"
    if pixels.shape != shape or pixels.dtype != np.uint8:
        return None, f"holds {pixels.dtype} of shape {pixels.shape} instead of uint8 of shape {shape}"
    _verified[identity] = None
    with contextlib.suppress(OSError):  # touched, then still the file verified: the mapping holds its inode
        os.utime(path)
        touched = _identity(path)
        if touched[1:3] == identity[1:3]:
            _verified[touched] = None
    return pixels, ""


def model_inputs(
    stimuli: StimulusSet, stimulus_degrees: float, model_degrees: float, input_size: int, cache_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(n, input_size, input_size, 3) uint8: each stimulus placed and resized as the model sees it (before
    normalisation), read from ``cache_dir`` or decoded once into it (``progress`` gets the images decoded).

    Raises DataError when the cache cannot be written (disk full, …).
    """
    key = input_key(stimuli, stimulus_degrees, model_degrees, input_size)
    folder = Path(cache_dir) / "inputs"
    path = folder / f"{key}.npy"
    shape = (len(stimuli), input_size, input_size, 3)
    if path.exists():
        pixels, trouble = _read(path, shape)
        if pixels is not None:
            return pixels
        if trouble:
            logger.warning("Cached model inputs %s %s; decoding the stimuli again.", path, trouble)
    limit = store.cache_limit()
    if int(np.prod(shape)) > limit:  # not kept: larger than the bound alone, or the cache is off
        return _decode(stimuli, stimulus_degrees, model_degrees, np.empty(shape, dtype=np.uint8), progress)
    what = f"the preprocessed {stimuli.identifier} stimuli ({stimulus_degrees:g} deg in {model_degrees:g} deg, " \
           f"{input_size} px)"
    # As for the gratings (data/gratings.py): replaced whole, the checksum renamed into place first.
    with cache_files.replacing(path, what) as partial:
        _decode(stimuli, stimulus_degrees, model_degrees,
                np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape), progress)
        record = {"sha256": sha256_of(partial), "bytes": partial.stat().st_size, "shape": list(shape),
                  "dtype": "uint8", "version": VERSION, "stimuli": stimuli.identifier,
                  "stimulus_degrees": stimulus_degrees, "model_degrees": model_degrees, "input_size": input_size}
        with cache_files.replacing(_checksum_file(path), f"the checksum of {what}") as written:
            written.write_text(json.dumps(record, indent=1) + "\n")
        ours = partial.stat()
        # Mapped before it is renamed into place: ours whatever another process replaces or evicts after.
        pixels = np.load(partial, mmap_mode="r")
    identity = _identity(path) if path.exists() else None
    if identity is not None and identity[1:] == (ours.st_ino, ours.st_size, ours.st_mtime_ns):
        _verified[identity] = None  # the file just hashed and renamed into place, unchanged since
    store.evict_lru(limit, _shared_folders(folder), keep=path)
    return pixels


def _decode(stimuli: StimulusSet, stimulus_degrees: float, model_degrees: float, pixels: np.ndarray,
            progress: Callable[[int], None] | None) -> np.ndarray:
    """Fill ``pixels`` (n, size, size, 3) uint8 with each stimulus placed and resized; flushed when a memmap."""
    for row, stimulus_id in enumerate(stimuli.stimulus_ids):
        placed = place_on_screen(stimuli.load(stimulus_id), stimulus_degrees, model_degrees)
        pixels[row] = input_pixels(placed, pixels.shape[1])
        if progress:
            progress(1)
    if isinstance(pixels, np.memmap):
        pixels.flush()
    return pixels


def _shared_folders(folder: Path) -> list[Path]:
    """The folders bounded together with ``folder``: the home's reductions too when it is the home's input folder
    (a folder given elsewhere, e.g. by a test, is bounded alone)."""
    if folder.resolve() == store.input_dir().resolve():
        return [folder, store.cache_dir()]
    return [folder]
