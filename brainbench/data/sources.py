"""Stimulus sources of a generic dataset: images in a zip or under a folder prefix of the dataset's files, with an
optional CSV (``stimulus_id``, ``filename``, metadata columns), read lazily; several sources make one StimulusSet."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from brainbench.data.stimuli import FileImages, StimulusSet, zip_stimuli
from brainbench.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
CSV_COLUMNS = ("stimulus_id", "filename")
DEFAULT_SOURCE = "main"


@dataclass(frozen=True)
class StimulusSource:
    """One ``[[stimuli]]`` table: ``images`` is a ``.zip`` file of the dataset or a folder prefix of its files;
    ``csv`` (optional) a file of the dataset; ``id_prefix`` is put before each stimulus_id."""

    name: str
    images: str
    csv: str = ""
    id_prefix: str = ""

    @classmethod
    def from_table(cls, table: Mapping[str, Any], origin: str) -> StimulusSource:
        """Parse one ``[[stimuli]]`` table (``origin`` names the manifest in error sentences)."""
        unknown = sorted(set(table) - {"name", "images", "csv", "id_prefix"})
        if unknown:
            raise DataError(f"{origin}: a [[stimuli]] table has unknown key(s) {', '.join(unknown)} (known: name, "
                            "images, csv, id_prefix).")
        if not isinstance(table.get("images"), str) or not table["images"]:
            raise DataError(f"{origin}: each [[stimuli]] table needs images = a .zip file or a folder of its files.")
        return cls(str(table.get("name", DEFAULT_SOURCE)), table["images"], str(table.get("csv", "")),
                   str(table.get("id_prefix", "")))


def _is_image(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


def _zip_members(path: Path, label: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [n for n in archive.namelist() if not n.endswith("/") and _is_image(n)]
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"Cannot read {label} as a zip of images ({' '.join(str(exc).split())}).") from exc


def _read_csv(path: Path, label: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype={c: str for c in CSV_COLUMNS}, keep_default_na=False)
    except (ValueError, OSError) as exc:  # pandas' parser and empty-file errors are ValueErrors
        raise DataError(f"Cannot read {label} as a CSV table ({' '.join(str(exc).split())}).") from exc
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{label} lacks the column(s) {', '.join(missing)}; a stimulus CSV needs "
                        f"{', '.join(CSV_COLUMNS)} (any other column is metadata).")
    twice = table["stimulus_id"][table["stimulus_id"].duplicated()]
    if len(twice):
        raise DataError(f"{label} lists the stimulus_id '{twice.iloc[0]}' twice.")
    return table


def _need(files: Mapping[str, Path], path: str, source: StimulusSource, dataset: str) -> Path:
    if path not in files:
        raise DataError(f"Dataset {dataset}: stimulus source '{source.name}' names {path}, which is not among the "
                        "dataset's [[files]].")
    return files[path]


def source_stimuli(source: StimulusSource, files: Mapping[str, Path], dataset: str) -> StimulusSet:
    """The StimulusSet of one source, in the CSV's row order (else file names sorted; stimulus_id = the stem)."""
    if source.images.lower().endswith(".zip"):
        archive = _need(files, source.images, source, dataset)
        names = _zip_members(archive, source.images)
        where = source.images
    else:
        prefix = source.images.rstrip("/") + "/"
        members = {p[len(prefix):]: files[p] for p in files if p.startswith(prefix) and _is_image(p)}
        names = list(members)
        where = f"the folder {prefix}"
    if not names:
        raise DataError(f"Dataset {dataset}: stimulus source '{source.name}' finds no images "
                        f"({', '.join(IMAGE_SUFFIXES)}) in {where}.")
    if source.csv:
        table = _read_csv(_need(files, source.csv, source, dataset), source.csv)
        absent = sorted(set(table["filename"]) - set(names))
        if absent:
            raise DataError(f"{source.csv} names {len(absent)} file(s) not in {where} (first: {absent[0]}).")
        table["stimulus_id"] = source.id_prefix + table["stimulus_id"]
    else:
        stems: dict[str, str] = {}
        for name in sorted(names):
            stem = PurePosixPath(name).stem
            if stem in stems:
                raise DataError(f"The images {stems[stem]} and {name} in {where} share the stimulus_id '{stem}'; "
                                "rename one, or give a stimulus CSV.")
            stems[stem] = name
        table = pd.DataFrame({"stimulus_id": [source.id_prefix + s for s in stems], "filename": list(stems.values())})
    metadata = table.set_index("stimulus_id")
    chosen = dict(zip(metadata.index, metadata["filename"], strict=True))
    identifier = f"{dataset}:{source.name}"
    if source.images.lower().endswith(".zip"):
        return zip_stimuli(identifier, archive, metadata, chosen)
    return StimulusSet(identifier, metadata, FileImages({s: members[f] for s, f in chosen.items()}))


def union(identifier: str, sets: Sequence[StimulusSet]) -> StimulusSet:
    """One StimulusSet over several (their rows in order); a stimulus_id in two of them is refused."""
    owner: dict[str, StimulusSet] = {}
    for stimuli in sets:
        for stimulus_id in stimuli.stimulus_ids:
            if stimulus_id in owner:
                first = owner[stimulus_id].identifier
                raise DataError(f"The stimulus_id '{stimulus_id}' is in the stimulus sources {first} and "
                                f"{stimuli.identifier}; give one of them an id_prefix.")
            owner[stimulus_id] = stimuli
    if len(sets) == 1:
        return StimulusSet(identifier, sets[0].metadata, sets[0].load)
    metadata = pd.concat([s.metadata for s in sets])
    return StimulusSet(identifier, metadata, lambda stimulus_id: owner[stimulus_id].load(stimulus_id))
