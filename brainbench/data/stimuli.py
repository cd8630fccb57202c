"""Stimulus sets: images with their metadata, keyed by ``stimulus_id``."""

from __future__ import annotations

import hashlib
import io
import weakref
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from brainbench.errors import DataError


@dataclass(frozen=True)
class StimulusSet:
    """Images and their metadata.

    ``metadata`` is indexed by ``stimulus_id`` (in presentation order) and holds one column per
    property (category, …). ``load`` returns the RGB image of one stimulus id; it may read lazily.
    """

    identifier: str
    metadata: pd.DataFrame
    load: Callable[[str], Image.Image] = field(repr=False)

    def __post_init__(self) -> None:
        if self.metadata.index.name != "stimulus_id" or not self.metadata.index.is_unique:
            raise ValueError("StimulusSet metadata must be indexed by unique 'stimulus_id' values.")

    @property
    def stimulus_ids(self) -> list[str]:
        return [str(s) for s in self.metadata.index]

    def __len__(self) -> int:
        return len(self.metadata)

    def images(self) -> Iterator[Image.Image]:
        """The RGB images in ``stimulus_ids`` order."""
        for stimulus_id in self.stimulus_ids:
            yield self.load(stimulus_id)

    def subset(self, stimulus_ids: list[str]) -> StimulusSet:
        """The same set restricted to (and ordered as) ``stimulus_ids``."""
        return StimulusSet(self.identifier, self.metadata.loc[stimulus_ids], self.load)


def in_memory_stimuli(identifier: str, images: np.ndarray, metadata: pd.DataFrame) -> StimulusSet:
    """A StimulusSet over an (n, H, W, 3) uint8 array whose rows follow ``metadata``'s order."""
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) != len(metadata):
        raise ValueError(f"expected ({len(metadata)}, H, W, 3) images, got {images.shape}")
    return StimulusSet(identifier, metadata, _ArrayImages(images, metadata.index))


class _ArrayImages:
    """``stimulus_id → RGB image`` from the rows of an (n, H, W, 3) uint8 array."""

    def __init__(self, images: np.ndarray, stimulus_ids: Iterable[object]) -> None:
        self.images = images
        self.rows = {stimulus_id: i for i, stimulus_id in enumerate(stimulus_ids)}

    def __call__(self, stimulus_id: str) -> Image.Image:
        return Image.fromarray(self.images[self.rows[stimulus_id]])

    def fingerprint(self, stimulus_id: str) -> bytes:
        pixels = np.ascontiguousarray(self.images[self.rows[stimulus_id]])
        return hashlib.sha256(repr(pixels.shape).encode() + pixels.tobytes()).digest()


class ZipImages:
    """``stimulus_id → RGB image`` read lazily from members of zip files (``{id: (zip path, member name)}``), each
    archive kept open while the set is in use."""

    def __init__(self, members: Mapping[str, tuple[Path, str]]) -> None:
        self.members = {stimulus_id: (Path(path), name) for stimulus_id, (path, name) in members.items()}
        self._archives: dict[Path, zipfile.ZipFile] = {}

    def _read(self, stimulus_id: str) -> bytes:
        zip_path, member = self.members[stimulus_id]  # an id not in the set is a KeyError, as for any StimulusSet
        try:
            if zip_path not in self._archives:
                self._archives[zip_path] = archive = zipfile.ZipFile(zip_path)
                weakref.finalize(self, archive.close)
            return self._archives[zip_path].read(member)
        except (zipfile.BadZipFile, OSError, KeyError, EOFError, ValueError) as exc:
            raise self._unreadable(stimulus_id, exc) from exc

    def _unreadable(self, stimulus_id: str, exc: Exception) -> DataError:
        zip_path, member = self.members[stimulus_id]
        return DataError(f"Stimulus {stimulus_id} ({member} in {zip_path.name}) is not a readable image "
                         f"({' '.join(str(exc).split())}); re-fetch the dataset.")

    def __call__(self, stimulus_id: str) -> Image.Image:
        data = self._read(stimulus_id)
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.convert("RGB")
        except (UnidentifiedImageError, OSError, EOFError, ValueError) as exc:
            raise self._unreadable(stimulus_id, exc) from exc

    def fingerprint(self, stimulus_id: str) -> bytes:
        """SHA-256 of the stimulus's encoded bytes (no decoding)."""
        return hashlib.sha256(self._read(stimulus_id)).digest()


class FileImages:
    """``stimulus_id → RGB image`` read lazily, one image file per stimulus."""

    def __init__(self, paths: Mapping[str, Path]) -> None:
        self.paths = dict(paths)

    def __call__(self, stimulus_id: str) -> Image.Image:
        path = self.paths[stimulus_id]  # an id not in the set is a KeyError, as for any StimulusSet
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except (UnidentifiedImageError, OSError, EOFError, ValueError) as exc:
            raise self._unreadable(stimulus_id, exc) from exc

    def _unreadable(self, stimulus_id: str, exc: Exception) -> DataError:
        return DataError(f"Stimulus {stimulus_id} ({self.paths[stimulus_id].name}) is not a readable image "
                         f"({' '.join(str(exc).split())}); re-fetch the dataset.")

    def fingerprint(self, stimulus_id: str) -> bytes:
        """SHA-256 of the stimulus file's bytes (no decoding)."""
        try:
            return hashlib.sha256(Path(self.paths[stimulus_id]).read_bytes()).digest()
        except OSError as exc:
            raise self._unreadable(stimulus_id, exc) from exc


def zip_stimuli(identifier: str, zip_path: Path, metadata: pd.DataFrame, members: Mapping[str, str]) -> StimulusSet:
    """A StimulusSet whose images are read lazily from ``zip_path``.

    ``members`` maps each stimulus id of ``metadata`` to its file name inside the zip.
    """
    return StimulusSet(identifier, metadata, ZipImages({s: (zip_path, member) for s, member in members.items()}))


def source_digest(stimuli: StimulusSet) -> str | None:
    """SHA-256 over every stimulus id and its image's encoded bytes (file or zip member, or pixels held in memory),
    read without decoding; None when the set's ``load`` cannot say (then only :func:`content_digest` can)."""
    fingerprint = getattr(stimuli.load, "fingerprint", None)
    if fingerprint is None:
        return None
    digest = hashlib.sha256(b"source-v1")
    for stimulus_id in stimuli.stimulus_ids:
        digest.update(stimulus_id.encode() + b"\0")
        digest.update(fingerprint(stimulus_id))
    return digest.hexdigest()


_digests: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # load → {stimulus ids: stimulus_digest}


def stimulus_digest(stimuli: StimulusSet) -> str:
    """SHA-256 of the stimulus ids, in order, and their content: their encoded bytes where the set's ``load`` can
    fingerprint them (:func:`source_digest`: no decoding), else their decoded pixels (:func:`content_digest`).
    Memoised per ``load`` and ids (the reduction cache and the input cache of one session both ask)."""
    ids = tuple(stimuli.stimulus_ids)
    try:
        known = _digests.setdefault(stimuli.load, {})
    except TypeError:  # a load that takes no weak reference: computed each time
        known = {}
    if ids not in known:
        source = source_digest(stimuli)
        known[ids] = f"source:{source}" if source is not None else f"pixels:{content_digest(stimuli)}"
    return known[ids]


def content_digest(stimuli: StimulusSet) -> str:
    """SHA-256 over every stimulus id and image's pixels: identifies the exact input a model saw."""
    digest = hashlib.sha256()
    for stimulus_id, image in zip(stimuli.stimulus_ids, stimuli.images(), strict=True):
        digest.update(stimulus_id.encode())
        digest.update(np.asarray(image.convert("RGB")).tobytes())
    return digest.hexdigest()
