"""Writing a user data manifest from a lab's own files (``brainbench data add``).

The manifest follows the generic format (``loader = "generic"``): one ``[[files]]`` entry per file with its sha256
and size (``local`` = the file's absolute path, or, with ``copy``, no source at all: the files are copied into the
cache), one ``[[stimuli]]`` table and one ``[[assemblies]]`` table per assembly. Before anything is written, the
dataset is loaded through the generic loader, so every check it makes (shapes, symmetry, stimulus counts) runs first.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brainbench import paths
from brainbench.data import cache_files
from brainbench.data.manifest import parse_manifest
from brainbench.data.sources import IMAGE_SUFFIXES
from brainbench.definitions import DefinitionFile, definition_files, read_toml
from brainbench.errors import BrainbenchError, DataError
from brainbench.toml_writer import toml_text

if TYPE_CHECKING:
    from brainbench.data.assemblies import Dataset

GENERIC = "generic"
FORMATS = ("rdm", "responses", "trials")
STIMULUS_SOURCE = "main"
IMAGES_PREFIX = "images/"  # where a folder's images live inside the dataset
#: Axis names assumed when --dims is not given, by format and number of axes.
DEFAULT_DIMS: dict[str, dict[int, tuple[str, ...]]] = {
    "rdm": {2: ("stimulus", "stimulus"), 3: ("subject", "stimulus", "stimulus"),
            4: ("subject", "session", "stimulus", "stimulus")},
    "responses": {2: ("stimulus", "neuroid"), 3: ("stimulus", "neuroid", "repetition")},
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class AssemblySource:
    """One assembly to add: a file (and the variable in it), its format and axis order, its name and region.

    ``dims``: one name per array axis (see the generic format); None: :data:`DEFAULT_DIMS` for the array's number
    of axes. ``name``: '' gives ``<dataset>.<file stem>``.
    """

    format: str
    file: Path
    variable: str = ""
    dims: tuple[str, ...] | None = None
    name: str = ""
    region: str = ""


@dataclass(frozen=True)
class AddedDataset:
    """What :func:`add_dataset` wrote: the manifest's path and the dataset as the generic loader read it."""

    path: Path
    dataset: Dataset
    copied: tuple[Path, ...] = ()  # cache copies (with ``copy``)


def check_name(name: str, what: str) -> str:
    """A dataset or benchmark name that can be a file name: letters, digits, '_', '-', '.'."""
    if not _NAME.match(name):
        raise BrainbenchError(f"The {what} name '{name}' is not allowed; use letters, digits, '_', '-' and '.', "
                              "starting with a letter or digit.")
    return name


def target_folder(folder: str | Path | None) -> tuple[Path, str]:
    """The user definitions folder to write into (``folder``, else ``<BRAINBENCH_HOME>``) and its origin label."""
    return (Path(folder).expanduser(), "--definitions") if folder else (paths.home(), "home")


def refuse_clash(kind: str, key: str, value: str, target: Path, folder: Path, force: bool) -> None:
    """Refuse to write ``target`` (a ``kind`` definition whose ``key`` is ``value``) when another definition file
    already uses that name, or when ``target`` exists and ``force`` is off."""
    what = "dataset" if kind == "data_manifests" else "benchmark"
    extra = [folder] if folder.is_dir() else []
    for file in definition_files(kind, extra):
        if file.path.resolve() == target.resolve():
            continue
        try:
            other = read_toml(file.path).get(key)
        except BrainbenchError:
            continue  # a broken file of another name is reported by the commands that read it
        if str(other) == value:
            where = "a built-in " + what if file.built_in else f"the {what} in {file.path} ({file.origin})"
            raise BrainbenchError(f"The {what} name '{value}' is taken by {where}; choose another name.")
    if target.exists() and not force:
        raise BrainbenchError(f"{target} already exists; pass --force to replace it.")


def split_variable(given: str) -> tuple[Path, str]:
    """``FILE[:VARIABLE]`` → (file, variable); a path that exists as given is taken whole (it may hold ':')."""
    if Path(given).expanduser().exists() or ":" not in given:
        return Path(given).expanduser(), ""
    file, _, variable = given.rpartition(":")
    return Path(file).expanduser(), variable


def file_entry(path: str, source: Path) -> dict[str, Any]:
    """A ``[[files]]`` entry for ``source`` (absolute ``local``, sha256, size); a missing file is one sentence."""
    if not source.is_file():
        raise DataError(f"{source} is not a file; check the path.")
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return {"path": path, "local": str(source.resolve()), "sha256": digest.hexdigest(), "size": source.stat().st_size}


class _Files:
    """The dataset's ``[[files]]``: each source file once, under a dataset path unique in the dataset."""

    def __init__(self) -> None:
        self.entries: dict[Path, dict[str, Any]] = {}

    def add(self, source: Path, wanted: str | None = None) -> str:
        source = source.expanduser()
        key = source.resolve()
        if key in self.entries:
            return self.entries[key]["path"]
        taken = {entry["path"] for entry in self.entries.values()}
        candidates = [wanted] if wanted else [source.name, f"{source.parent.name}/{source.name}"]
        path = next((c for c in candidates if c not in taken), None)
        if path is None:
            raise BrainbenchError(f"Two different files would both be '{candidates[-1]}' in the dataset; rename one "
                                  f"of them ({source}).")
        self.entries[key] = file_entry(path, source)
        return path


def _csv_filenames(csv_file: Path) -> list[str]:
    try:
        with open(csv_file, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "filename" not in reader.fieldnames:
                raise DataError(f"The stimulus CSV {csv_file} has no 'filename' column (its columns: "
                                f"{', '.join(reader.fieldnames or ())}).")
            return [row["filename"] for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"Cannot read the stimulus CSV {csv_file} ({exc}).") from exc


@dataclass(frozen=True)
class ImageSource:
    """One source of stimuli: a folder of images or a .zip file, with an optional CSV (``stimulus_id``,
    ``filename``, metadata columns)."""

    images: Path
    csv: Path | None = None


def _source_names(sources: Sequence[ImageSource]) -> list[str]:
    """``main`` for one source; with several, each the stem of its zip or folder (their stimulus_ids prefixed)."""
    if len(sources) == 1:
        return [STIMULUS_SOURCE]
    names = [source.images.expanduser().resolve().stem for source in sources]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice:
        raise BrainbenchError(f"Two stimulus sources are both named '{twice}' (after their zip or folder); rename "
                              "one of them.")
    return names


def _stimulus_table(source: ImageSource, name: str, several: bool, files: _Files) -> dict[str, Any]:
    """The ``[[stimuli]]`` table for a zip or a folder of images (adding their ``[[files]]``)."""
    stimuli, stimulus_csv = source.images.expanduser(), source.csv
    table: dict[str, Any] = {"name": name}
    if stimulus_csv is not None and not stimulus_csv.expanduser().is_file():
        raise DataError(f"The stimulus CSV {stimulus_csv} is not a file; check the path given to --stimulus-csv.")
    if stimuli.is_file() and stimuli.suffix.lower() == ".zip":
        table["images"] = files.add(stimuli)
    elif stimuli.is_dir():
        if stimulus_csv is not None:
            names = _csv_filenames(stimulus_csv.expanduser())
            missing = [n for n in names if not (stimuli / n).is_file()]
            if missing:
                raise DataError(f"{len(missing)} image(s) named in {stimulus_csv} are not in {stimuli}, e.g. "
                                f"'{missing[0]}'.")
        else:
            names = sorted(p.relative_to(stimuli).as_posix() for p in stimuli.rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           and not any(part.startswith(".") for part in p.relative_to(stimuli).parts))
            if not names:
                raise DataError(f"The folder {stimuli} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
        prefix = f"{name}/" if several else IMAGES_PREFIX
        for image in names:
            files.add(stimuli / image, prefix + image)
        table["images"] = prefix
    else:
        raise DataError(f"The stimuli {stimuli} are neither a folder of images nor a .zip file; check --stimuli.")
    if stimulus_csv is not None:
        table["csv"] = files.add(stimulus_csv)
    if several:
        table["id_prefix"] = f"{name}_"
    return table


def _array_axes(source: AssemblySource) -> int:
    """The number of axes of an assembly's array, read without loading its values where the format allows."""
    from brainbench.data.arrays import read_array  # the generic loader's reader: .npy, .npz, .nc, .mat v5/v7.3

    return read_array(source.file, source.variable).ndim


def _dims(source: AssemblySource) -> tuple[str, ...] | None:
    if source.format == "trials":
        if source.dims:
            raise BrainbenchError(f"--dims does not apply to the trials file {source.file} (a CSV of trials).")
        return None
    if source.dims:
        return source.dims
    axes = _array_axes(source)
    defaults = DEFAULT_DIMS[source.format]
    if axes not in defaults:
        names = ("leading unit dims (subject, session, ...) then stimulus,stimulus" if source.format == "rdm"
                 else "stimulus and neuroid, and repetition or time_bin if present, in the file's order")
        raise BrainbenchError(f"{source.file}{':' + source.variable if source.variable else ''} has {axes} axes; name "
                              f"each with --dims: {names}.")
    return defaults[axes]


def _assembly_table(dataset: str, source: AssemblySource, stimuli: str, files: _Files) -> dict[str, Any]:
    if source.format not in FORMATS:
        raise BrainbenchError(f"Unknown assembly format '{source.format}'; use one of {', '.join(FORMATS)}.")
    path = files.add(source.file)
    name = source.name or f"{dataset}.{source.file.stem}"
    table: dict[str, Any] = {"name": name, "format": source.format, "file": path}
    if source.variable:
        table["variable"] = source.variable
    dims = _dims(source)
    if dims is not None:
        table["dims"] = list(dims)
    table["stimuli"] = stimuli
    if source.region:
        table["region"] = source.region
    return table


def manifest_fields(
    name: str,
    stimuli: Sequence[ImageSource],
    assemblies: Sequence[AssemblySource],
    title: str = "",
    citations: Sequence[str] = (),
    licence: str = "",
) -> dict[str, Any]:
    """The generic manifest of dataset ``name`` as TOML-ready fields (files hashed; nothing written).

    With one stimulus source every assembly follows it; with several, assembly i follows source i.
    """
    if not assemblies:
        raise BrainbenchError("Give at least one assembly: --rdms, --responses or --trials.")
    if len(stimuli) not in (1, len(assemblies)):
        raise BrainbenchError(f"Give the stimuli once, or once per assembly in order ({len(assemblies)}); "
                              f"{len(stimuli)} were given.")
    files = _Files()
    sources = _source_names(stimuli)
    stimulus_tables = [_stimulus_table(s, n, len(stimuli) > 1, files) for s, n in zip(stimuli, sources, strict=True)]
    assembly_tables = [_assembly_table(name, source, sources[i if len(sources) > 1 else 0], files)
                       for i, source in enumerate(assemblies)]
    names = [t["name"] for t in assembly_tables]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise BrainbenchError(f"Two assemblies would both be named '{twice}'; name them with --assembly.")
    fields: dict[str, Any] = {"name": name, "title": title or f"{name} (added with brainbench data add)",
                              "loader": GENERIC, "citations": list(citations)}
    if licence:
        fields["licence"] = licence
    return {**fields, "files": list(files.entries.values()), "stimuli": stimulus_tables,
            "assemblies": assembly_tables}


def write_definition(target: Path, text: str) -> None:
    """Write a definition file whole or not at all (a partial name beside it, then a rename)."""
    with cache_files.replacing(target, f"the definition {target.name}") as partial:
        partial.write_text(text, encoding="utf-8")


def _copy_verified(entry: dict[str, Any], target: Path) -> None:
    """Copy ``entry``'s local file into the cache at ``target``, checking the copy's sha256 as it is written."""
    source = Path(entry["local"])
    digest = hashlib.sha256()
    with cache_files.replacing(target, f"{entry['path']}") as partial:
        with open(source, "rb") as reader, open(partial, "wb") as writer:
            while block := reader.read(_CHUNK):
                digest.update(block)
                writer.write(block)
        if digest.hexdigest() != entry["sha256"]:
            raise DataError(f"{source} changed while it was being added; run the command again.")


def add_dataset(
    name: str,
    stimuli: Sequence[ImageSource],
    assemblies: Sequence[AssemblySource],
    category: str | None = None,
    title: str = "",
    citations: Sequence[str] = (),
    licence: str = "",
    copy: bool = False,
    folder: str | Path | None = None,
    force: bool = False,
) -> AddedDataset:
    """Write ``<folder>/data_manifests/<name>.toml`` (``folder``: default ``<BRAINBENCH_HOME>``) for a lab's files.

    The files stay where they are (``local`` = absolute path, sha256-verified on every fetch), or with ``copy`` are
    copied into ``<cache>/<name>/`` and the entries name no source. The dataset is loaded through the generic loader
    first: a bad input is one sentence and nothing is written. ``category``: a stimulus-CSV column that must exist
    (for stratified splits). A name taken by another definition is refused; an existing manifest needs ``force``.
    """
    check_name(name, "dataset")
    root, origin = target_folder(folder)
    target = root / "data_manifests" / f"{name}.toml"
    refuse_clash("data_manifests", "name", name, target, root, force)
    if category and all(source.csv is None for source in stimuli):
        raise BrainbenchError("--category names a column of the stimulus CSV; give the CSV with --stimulus-csv.")
    fields = manifest_fields(name, stimuli, assemblies, title, citations, licence)
    text = toml_text(fields, "Written by `brainbench data add`: the generic format (see the README, "
                             "'Add your own dataset').")
    dataset = _load(text, target, origin)
    if category and category not in dataset.stimuli.metadata.columns:
        raise BrainbenchError(f"The stimulus CSV has no column '{category}' (its columns: "
                              f"{', '.join(map(str, dataset.stimuli.metadata.columns))}).")
    copied = []
    if copy:
        for entry in fields["files"]:
            copied.append(paths.data_cache() / name / entry["path"])
            _copy_verified(entry, copied[-1])
            del entry["local"]
        text = toml_text(fields, "Written by `brainbench data add --copy`: the files are in brainbench's data "
                                 "cache (the generic format; see the README, 'Add your own dataset').")
    write_definition(target, text)
    return AddedDataset(target, dataset, tuple(copied))


def _load(text: str, target: Path, origin: str) -> Dataset:
    """Parse the manifest text as the commands will, and load it through its loader from the local files."""
    import tomllib

    from brainbench.data.loaders import get_loader

    manifest = parse_manifest(tomllib.loads(text), target, DefinitionFile(target, origin))
    local = {entry["path"]: Path(entry["local"]) for entry in tomllib.loads(text)["files"]}
    return get_loader(manifest.loader)(manifest, local)


def summary(added: AddedDataset) -> str:
    """One line: the stimulus count and each assembly with its shape."""
    shapes = []
    for assembly_name, assembly in added.dataset.assemblies.items():
        shape = " × ".join(f"{size} {dim}" for dim, size in assembly.sizes.items())
        shapes.append(f"{assembly_name} ({shape})")
    return f"{added.dataset.manifest.name}: {len(added.dataset.stimuli)} stimuli; {'; '.join(shapes)}"
