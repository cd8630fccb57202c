"""Stimulus sets: images with their metadata, keyed by ``stimulus_id``."""

from __future__ import annotations

import hashlib
import io
import weakref
import zipfile
from collections.abc import Callable, Iterator, Mapping
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
    row = {stimulus_id: i for i, stimulus_id in enumerate(metadata.index)}
    return StimulusSet(identifier, metadata, lambda stimulus_id: Image.fromarray(images[row[stimulus_id]]))


class _ZipImages:
    """``stimulus_id → RGB image`` read lazily from one zip file, kept open while the set is in use."""

    def __init__(self, zip_path: Path, members: Mapping[str, str]) -> None:
        self.zip_path = Path(zip_path)
        self.members = dict(members)
        self._archive: zipfile.ZipFile | None = None

    def __call__(self, stimulus_id: str) -> Image.Image:
        member = self.members[stimulus_id]  # an id not in the set is a KeyError, as for any StimulusSet
        try:
            if self._archive is None:
                self._archive = zipfile.ZipFile(self.zip_path)
                weakref.finalize(self, self._archive.close)
            with Image.open(io.BytesIO(self._archive.read(member))) as image:
                return image.convert("RGB")
        except (zipfile.BadZipFile, UnidentifiedImageError, OSError, KeyError, EOFError, ValueError) as exc:
            reason = " ".join(str(exc).split())
            raise DataError(
                f"Stimulus {stimulus_id} ({member} in {self.zip_path.name}) is not a readable image ({reason}); "
                "re-fetch the dataset."
            ) from exc


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
            raise DataError(f"Stimulus {stimulus_id} ({path.name}) is not a readable image "
                            f"({' '.join(str(exc).split())}); re-fetch the dataset.") from exc


def zip_stimuli(identifier: str, zip_path: Path, metadata: pd.DataFrame, members: Mapping[str, str]) -> StimulusSet:
    """A StimulusSet whose images are read lazily from ``zip_path``.

    ``members`` maps each stimulus id of ``metadata`` to its file name inside the zip.
    """
    return StimulusSet(identifier, metadata, _ZipImages(zip_path, members))


def content_digest(stimuli: StimulusSet) -> str:
    """SHA-256 over every stimulus id and image's pixels: identifies the exact input a model saw."""
    digest = hashlib.sha256()
    for stimulus_id, image in zip(stimuli.stimulus_ids, stimuli.images(), strict=True):
        digest.update(stimulus_id.encode())
        digest.update(np.asarray(image.convert("RGB")).tobytes())
    return digest.hexdigest()
