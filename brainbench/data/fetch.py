"""Getting a dataset's files: local cache, then mirror folders, then download — always checksum-verified."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests

from brainbench import paths
from brainbench.data import cache_files
from brainbench.data.manifest import DataFile, Manifest, load_manifest
from brainbench.errors import DataError

logger = logging.getLogger(__name__)
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


def _copy_into_cache(source: Path, target: Path, what: str) -> None:
    with cache_files.replacing(target, what) as partial:
        shutil.copyfile(source, partial)


def _download(file: DataFile, target: Path, what: str, progress: Callable[[DataFile], object] | None) -> None:
    """Download ``file.url`` into ``target`` via a scratch folder beside it; pooch checks the hash before the move."""
    with cache_files.scratch_folder(target, what) as scratch:
        bar = progress(file) if progress else False
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=60)
        pooch_logger = pooch.get_logger()
        level = pooch_logger.level
        pooch_logger.setLevel(logging.WARNING)  # pooch's "Downloading data from … to file <temporary>" line
        try:
            fetched = pooch.retrieve(
                file.url, known_hash=f"{file.algorithm}:{file.digest}", fname=Path(file.path).name, path=scratch,
                downloader=downloader,
            )
        except ValueError as exc:  # pooch: hash mismatch; its temporary copy is already gone
            raise DataError(
                f"Downloaded {file.path} from {file.url} does not match its {file.algorithm} checksum; it was not kept."
            ) from exc
        except requests.RequestException as exc:  # before OSError: requests' errors are OSErrors too
            raise _download_error(file, exc) from exc
        except OSError as exc:
            raise (cache_files.write_error(exc, what, target.parent) or _download_error(file, exc)) from exc
        finally:  # pooch closes the bar only after a complete download; a failure would leave it drawing
            pooch_logger.setLevel(level)
            if bar and hasattr(bar, "close"):
                bar.close()
        os.chmod(fetched, cache_files.new_file_mode())  # pooch's temporary file was private (0600)
        os.replace(fetched, target)


def _download_error(file: DataFile, exc: OSError) -> DataError:
    return DataError(
        f"Cannot download {file.path} from {file.url} ({type(exc).__name__}); "
        "if this machine is offline, set BRAINBENCH_DATA_MIRROR or pass --data-mirror DIR."
    )


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

    Every mirror is tried in order: a copy with a wrong checksum is skipped with a one-line warning (logger
    ``brainbench.data.fetch``) when a later mirror has a good one; when none has, the error names every bad
    copy and nothing is downloaded. A cached copy with a wrong checksum is removed and an error; a downloaded
    one is never kept unless it verifies. An embedded file is read in place, verified.
    """
    target = cache_path(manifest, file)
    what = f"{manifest.name}/{file.path}"
    if file.embedded:
        if not _matches(target, file):
            raise DataError(
                f"The embedded file {what} is missing or altered in this installation; reinstall brainbench."
            )
        return FetchedFile(file, target, "embedded")
    if target.exists():
        if _matches(target, file):
            return FetchedFile(file, target, "cache")
        target.unlink()
        raise DataError(
            f"Cached {what} failed its {file.algorithm} check and was removed; "
            f"run `brainbench data fetch {manifest.name}` again."
        )
    bad = []
    for candidate in _mirror_copies(manifest, file, mirrors):
        if not _matches(candidate, file):
            bad.append(candidate)
            continue
        if bad:
            logger.warning("Skipped %s: %s the %s of %s; copied %s instead.", _listed(bad), _mismatch(bad),
                           file.algorithm, what, candidate)
        _copy_into_cache(candidate, target, what)
        return FetchedFile(file, target, "mirror")
    if bad:  # a bad copy is a mirror to repair, not a reason to download
        raise DataError(
            f"Mirror {'file' if len(bad) == 1 else 'files'} {_listed(bad)} {_mismatch(bad)} the {file.algorithm} "
            f"of {what}; replace {'it' if len(bad) == 1 else 'them'} with the published file."
        )
    if not (allow_download and file.url):
        raise DataError(
            f"{what} is not in the cache or any mirror; run `brainbench data fetch "
            f"{manifest.name}` with network access, or point BRAINBENCH_DATA_MIRROR (or --data-mirror) at a copy."
        )
    _download(file, target, what, progress)
    return FetchedFile(file, target, "download")


def _mirror_copies(manifest: Manifest, file: DataFile, mirrors: Sequence[Path]) -> Iterator[Path]:
    """The copies of ``file`` in the mirrors, in the mirrors' order (a mirror holds the dataset in its
    ``mirror_folder`` or in a folder named after it)."""
    for mirror in mirrors:
        for folder in dict.fromkeys((manifest.mirror_folder or manifest.name, manifest.name)):
            candidate = mirror / folder / file.path
            if candidate.is_file():
                yield candidate


def _listed(files: Sequence[Path]) -> str:
    return ", ".join(str(f) for f in files)


def _mismatch(files: Sequence[Path]) -> str:
    return "does not match" if len(files) == 1 else "do not match"


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
