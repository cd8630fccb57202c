"""A folder of images as a StimulusSet: stimulus_id = the file's stem, sorted; images read lazily."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from PIL import Image, UnidentifiedImageError

from brainbench.data.stimuli import StimulusSet
from brainbench.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def folder_stimuli(folder: Path | str) -> StimulusSet:
    """The images (.jpg, .jpeg, .png, any case) directly inside ``folder``, ordered by stimulus_id (file stem).

    Metadata: ``filename`` (the file's name). Raises DataError for a missing folder, a folder without images, two
    files with one stem (e.g. a.jpg and a.png), or a file whose header is not an image's (checked here, before any
    work; pixels that fail to decode later are a DataError when loaded).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"The stimuli folder {folder} does not exist or is not a folder.")
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DataError(f"The folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    by_stem: dict[str, Path] = {}
    for path in sorted(files):
        if path.stem in by_stem:
            raise DataError(f"The images {by_stem[path.stem].name} and {path.name} in {folder} share the stimulus_id "
                            f"'{path.stem}'; rename one of them.")
        by_stem[path.stem] = path
    ids = sorted(by_stem)
    for stimulus_id in ids:
        _open(by_stem[stimulus_id]).close()
    metadata = pd.DataFrame({"stimulus_id": ids, "filename": [by_stem[i].name for i in ids]}).set_index("stimulus_id")

    def load(stimulus_id: str) -> Image.Image:
        path = by_stem[stimulus_id]
        with _open(path) as image:
            try:
                return image.convert("RGB")
            except (OSError, ValueError) as exc:
                raise DataError(f"Stimulus {path} is not a readable image ({' '.join(str(exc).split())}).") from exc

    return StimulusSet(f"folder:{folder.resolve()}", metadata, load)


def _open(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"Stimulus {path} is not a readable image ({' '.join(str(exc).split())}).") from exc
