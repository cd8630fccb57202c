"""Getting a dataset's files: local cache, then mirror folders, then download — always checksum-verified."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from brainbench import paths
from brainbench.data import cache_files
from brainbench.data.manifest import DataFile, Manifest, load_manifest
from brainbench.errors import DataError

logger = logging.getLogger(__name__)
_CHUNK = 1 << 20
EMBEDDED = Path(__file__).parent / "embedded"  # data files shipped inside brainbench
DOWNLOAD_SCHEMES = ("http", "https")  # what `_download` (pooch's HTTPDownloader) can fetch


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


def _download(file: DataFile, target: Path, what: str, progress: Callable[[DataFile], object] | None,
              looked: str) -> None:
    """Download ``file.url`` into ``target`` via a scratch folder beside it; pooch checks the hash before the move.

    ``looked``: where the file was looked for first, for the error when the download fails.
    """
    import pooch  # imported here: listing and checking data needs no HTTP stack
    import requests

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
            raise _download_error(file, exc, looked) from exc
        except OSError as exc:
            raise (cache_files.write_error(exc, what, target.parent) or _download_error(file, exc, looked)) from exc
        finally:  # pooch closes the bar only after a complete download; a failure would leave it drawing
            pooch_logger.setLevel(level)
            if bar and hasattr(bar, "close"):
                bar.close()
        os.chmod(fetched, cache_files.new_file_mode())  # pooch's temporary file was private (0600)
        os.replace(fetched, target)


def _download_error(file: DataFile, exc: OSError, looked: str) -> DataError:
    return DataError(f"Cannot download {file.path} from {file.url} ({type(exc).__name__}), and {looked}.")


def _looked(manifest: Manifest, mirrors: Sequence[Path]) -> str:
    """Where a dataset's files were looked for before the network, and what to do when offline (a clause)."""
    if not mirrors:
        return ("it is not cached and no data mirror is set: if this machine is offline, set BRAINBENCH_DATA_MIRROR "
                "or pass --data-mirror DIR")
    tried = " or ".join(str(mirror / folder) for mirror in mirrors for folder in _mirror_folders(manifest))
    return (f"it is not cached and the data mirror(s) tried lack it (no {tried}): copy the dataset into a mirror, or "
            "fetch it with network access")


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
        why = "downloads are off" if file.url else "it has no download address"
        raise DataError(f"{what} cannot be fetched: {why}, and {_looked(manifest, mirrors)}.")
    _download(file, target, what, progress, _looked(manifest, mirrors))
    return FetchedFile(file, target, "download")


def _mirror_copies(manifest: Manifest, file: DataFile, mirrors: Sequence[Path]) -> Iterator[Path]:
    """The copies of ``file`` in the mirrors, in the mirrors' order (a mirror holds the dataset in its
    ``mirror_folder`` or in a folder named after it)."""
    for mirror in mirrors:
        for folder in _mirror_folders(manifest):
            candidate = mirror / folder / file.path
            if candidate.is_file():
                yield candidate


def _mirror_folders(manifest: Manifest) -> tuple[str, ...]:
    return tuple(dict.fromkeys((manifest.mirror_folder or manifest.name, manifest.name)))


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


#: A dataset's availability, best first: shipped inside brainbench, in the local cache, in a mirror folder,
#: to be downloaded, or not to be had at all.
STATUSES = ("embedded", "cached", "mirror", "network", "unavailable")


@dataclass(frozen=True)
class Availability:
    """Where a dataset's files would come from now (cache → mirrors → network), decided without reading them.

    ``status`` is the worst of its files' (see :data:`STATUSES`): a file counts as cached or in a mirror when a
    copy of the published size is there (the checksum is verified when the file is fetched); as ``network`` when
    downloads are allowed and its URL is http(s). ``mirrors`` are those tried, ``in_mirrors`` those that supply a
    file, ``urls`` the addresses still to download (``network``) or that cannot be used (``unavailable``).
    """

    dataset: str
    status: str
    cache: Path
    mirrors: tuple[Path, ...]
    in_mirrors: tuple[Path, ...]
    urls: tuple[str, ...]
    not_local: int  # files neither cached nor in a mirror
    files: int
    cached: int  # files in the cache (or shipped inside brainbench)
    allow_download: bool

    @property
    def available(self) -> bool:
        return self.status != "unavailable"

    def where(self) -> str:
        """One line: where the data are, or (unavailable) every place looked in and why none serves."""
        if self.status == "embedded":
            return f"{self.dataset}: shipped inside brainbench"
        if self.status == "cached":
            return f"{self.dataset}: cached in {self.cache}"
        if self.status == "mirror":
            return f"{self.dataset}: in the data mirror {', '.join(map(str, self.in_mirrors))}"
        urls = _some(self.urls)
        if self.status == "network":
            local = self.files - self.not_local
            return f"{self.dataset}: to download ({local} of {self.files} files local) from {urls}"
        mirrors = (f"not in the data mirror(s) {', '.join(map(str, self.mirrors))}" if self.mirrors
                   else "no data mirror set (--data-mirror or BRAINBENCH_DATA_MIRROR)")
        network = ("downloads are off" if not self.allow_download
                   else f"no http(s) address to download from ({urls})" if self.urls else "no address to download from")
        return (f"{self.dataset}: {self.not_local} of {self.files} files not in the cache ({self.cache}), {mirrors}, "
                f"{network}")


def _some(urls: Sequence[str], shown: int = 1) -> str:
    more = len(urls) - shown
    return ", ".join(urls[:shown]) + (f" and {more} more" if more > 0 else "")


def _present(path: Path, file: DataFile) -> bool:
    """A copy of the published size (any size when none is published); its checksum is checked on fetch."""
    try:
        return path.is_file() and (not file.size or path.stat().st_size == file.size)
    except OSError:
        return False


def availability(dataset: str | Manifest, mirrors: Sequence[Path] | None = None,
                 allow_download: bool = True) -> Availability:
    """Where each file of ``dataset`` would come from, without reading or downloading anything.

    ``mirrors`` defaults to ``$BRAINBENCH_DATA_MIRROR``.
    """
    manifest = load_manifest(dataset) if isinstance(dataset, str) else dataset
    mirrors = paths.mirror_dirs() if mirrors is None else list(mirrors)
    statuses, in_mirrors, urls = [], [], []
    for file in manifest.files:
        if file.embedded:
            statuses.append("embedded" if _present(cache_path(manifest, file), file) else "unavailable")
            continue
        if _present(cache_path(manifest, file), file):
            statuses.append("cached")
            continue
        source = next((m for m in mirrors for folder in _mirror_folders(manifest)
                       if _present(m / folder / file.path, file)), None)
        if source is not None:
            statuses.append("mirror")
            in_mirrors.append(source)
            continue
        if file.url:
            urls.append(file.url)
        downloadable = allow_download and urlsplit(file.url).scheme.lower() in DOWNLOAD_SCHEMES
        statuses.append("network" if downloadable else "unavailable")
    return Availability(
        dataset=manifest.name, status=max(statuses, key=STATUSES.index, default="cached"),
        cache=paths.data_cache() / manifest.name, mirrors=tuple(mirrors), in_mirrors=tuple(dict.fromkeys(in_mirrors)),
        urls=tuple(urls), not_local=statuses.count("unavailable") + statuses.count("network"),
        files=len(manifest.files), cached=statuses.count("cached") + statuses.count("embedded"),
        allow_download=allow_download,
    )
