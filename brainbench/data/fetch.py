"""Getting a dataset's files: local cache, then mirror folders, then download — always checksum-verified."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests

from brainbench import paths
from brainbench.data.manifest import DataFile, Manifest, load_manifest
from brainbench.errors import DataError

_CHUNK = 1 << 20
EMBEDDED = Path(__file__).parent / "embedded"  # data files shipped inside brainbench


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes (``algorithm``: any hashlib name, e.g. 'sha256' or 'sha1')."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return file_digest(path, "sha256")


def _matches(path: Path, expected: DataFile) -> bool:
    """Whether ``path`` holds exactly ``expected``: its size (when published) and its strongest hash."""
    if not path.is_file() or (expected.size and path.stat().st_size != expected.size):
        return False
    return file_digest(path, expected.algorithm) == expected.digest


def _copy_atomically(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".partial-", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        shutil.copyfile(source, tmp_path)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _download(file: DataFile, target: Path, progress: Callable[[DataFile], object] | None) -> None:
    """Download ``file.url`` into ``target`` via a temporary name; pooch checks the hash before the move."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        bar = progress(file) if progress else False
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=60)
        logger = pooch.get_logger()
        level = logger.level
        logger.setLevel(logging.WARNING)  # pooch's "Downloading data from … to file <temporary>" line
        try:
            fetched = pooch.retrieve(
                file.url, known_hash=f"{file.algorithm}:{file.digest}", fname=Path(file.path).name, path=tmp,
                downloader=downloader,
            )
        except ValueError as exc:  # pooch: hash mismatch; its temporary copy is already gone
            raise DataError(
                f"Downloaded {file.path} from {file.url} does not match its {file.algorithm} checksum; it was not kept."
            ) from exc
        except (requests.RequestException, OSError) as exc:
            raise DataError(
                f"Cannot download {file.path} from {file.url} ({type(exc).__name__}); "
                "if this machine is offline, set BRAINBENCH_DATA_MIRROR or pass --data-mirror DIR."
            ) from exc
        finally:  # pooch closes the bar only after a complete download; a failure would leave it drawing
            logger.setLevel(level)
            if bar and hasattr(bar, "close"):
                bar.close()
        os.replace(fetched, target)


@dataclass(frozen=True)
class FetchedFile:
    """Where a verified file now lies, and where it came from ('embedded', 'cache', 'mirror' or 'download')."""

    file: DataFile
    path: Path
    origin: str


def cache_path(manifest: Manifest, file: DataFile) -> Path:
    """Where ``file`` lives in the local cache (an embedded file: inside the installed package)."""
    if file.embedded:
        return EMBEDDED / manifest.name / file.path
    return paths.data_cache() / manifest.name / file.path


def fetch_file(
    manifest: Manifest,
    file: DataFile,
    mirrors: Sequence[Path] = (),
    allow_download: bool = True,
    progress: Callable[[DataFile], object] | None = None,
) -> FetchedFile:
    """One verified local copy of ``file``: cache → mirrors → download, in that order.

    A cached or mirrored copy with a wrong checksum is a clear error (the cached one is removed);
    a downloaded one is never kept unless it verifies. An embedded file is read in place, verified.
    """
    target = cache_path(manifest, file)
    if file.embedded:
        if not _matches(target, file):
            raise DataError(
                f"The embedded file {manifest.name}/{file.path} is missing or altered in this installation; "
                "reinstall brainbench."
            )
        return FetchedFile(file, target, "embedded")
    if target.exists():
        if _matches(target, file):
            return FetchedFile(file, target, "cache")
        target.unlink()
        raise DataError(
            f"Cached {manifest.name}/{file.path} failed its {file.algorithm} check and was removed; "
            f"run `brainbench data fetch {manifest.name}` again."
        )
    for mirror in mirrors:
        for folder in dict.fromkeys((manifest.mirror_folder or manifest.name, manifest.name)):
            candidate = mirror / folder / file.path
            if not candidate.is_file():
                continue
            if not _matches(candidate, file):
                raise DataError(
                    f"Mirror file {candidate} does not match the {file.algorithm} of {manifest.name}/{file.path}; "
                    "replace it with the published file."
                )
            _copy_atomically(candidate, target)
            return FetchedFile(file, target, "mirror")
    if not (allow_download and file.url):
        raise DataError(
            f"{manifest.name}/{file.path} is not in the cache or any mirror; run `brainbench data fetch "
            f"{manifest.name}` with network access, or point BRAINBENCH_DATA_MIRROR (or --data-mirror) at a copy."
        )
    _download(file, target, progress)
    return FetchedFile(file, target, "download")


def fetch_dataset(
    dataset: str | Manifest,
    mirrors: Sequence[Path] | None = None,
    allow_download: bool = True,
    progress: Callable[[DataFile], object] | None = None,
) -> dict[str, FetchedFile]:
    """All files of a dataset, verified: ``{relative path: FetchedFile}``.

    ``mirrors`` defaults to ``$BRAINBENCH_DATA_MIRROR``.
    """
    manifest = load_manifest(dataset) if isinstance(dataset, str) else dataset
    mirrors = paths.mirror_dirs() if mirrors is None else list(mirrors)
    return {f.path: fetch_file(manifest, f, mirrors, allow_download, progress) for f in manifest.files}


def verify_dataset(dataset: str | Manifest) -> dict[str, str]:
    """Status of each cached file: 'ok', 'missing' or 'corrupt' (corrupt copies are left for inspection)."""
    manifest = load_manifest(dataset) if isinstance(dataset, str) else dataset
    status = {}
    for f in manifest.files:
        path = cache_path(manifest, f)
        status[f.path] = "missing" if not path.exists() else ("ok" if _matches(path, f) else "corrupt")
    return status
