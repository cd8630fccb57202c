"""Getting a dataset's files: local files in place, else local cache, then mirror folders, then download — always
checksum-verified."""

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


def _looked(manifest: Manifest, file: DataFile, mirrors: Sequence[Path]) -> str:
    """Where a file was looked for before the network, and what to do when offline (a clause)."""
    if not mirrors:
        return ("it is not cached and no data mirror is set: if this machine is offline, set BRAINBENCH_DATA_MIRROR "
                "or pass --data-mirror DIR")
    tried = " or ".join(str(mirror / folder) for mirror in mirrors for folder in _mirror_folders(manifest, file))
    return (f"it is not cached and the data mirror(s) tried lack it (no {tried}): copy the dataset into a mirror, or "
            "fetch it with network access")


@dataclass(frozen=True)
class FetchedFile:
    """Where a verified file now lies, and where it came from ('embedded', 'local' (read in place), 'cache', 'mirror'
    or 'download')."""

    file: DataFile
    path: Path
    origin: str


def cache_path(manifest: Manifest, file: DataFile) -> Path:
    """Where ``file`` is kept on this machine: in the local cache; an embedded file inside the installed package; a
    local file at its own path."""
    if file.local is not None:
        return file.local
    if file.embedded:
        return EMBEDDED / manifest.name / file.path
    return paths.data_cache() / manifest.name / file.path


def _manifest_file(manifest: Manifest) -> str:
    """The manifest's file, for error sentences (a manifest built in code: its dataset name)."""
    return str(manifest.definition.path) if manifest.definition else f"of dataset {manifest.name}"


def _read_in_place(manifest: Manifest, file: DataFile, local: Path) -> FetchedFile:
    """``file``, a local file at ``local``, verified where it lies; its absence and a changed file are two different
    sentences."""
    entry = f"Data manifest {_manifest_file(manifest)}: file {file.path}"
    try:
        if not local.is_file():
            raise DataError(f"{entry}: its local file {local} does not exist; put it back or fix `local` in the "
                            "manifest.")
        matches = _matches(local, file)
    except OSError as exc:  # unreadable (permissions, a vanished network drive)
        raise DataError(f"{entry}: its local file {local} cannot be read ({exc.strerror or exc}).") from exc
    if not matches:
        raise DataError(f"{entry}: its local file {local} does not match the manifest's {file.algorithm}: it changed "
                        f"since the manifest was written; re-run `brainbench data add` or fix the {file.algorithm}.")
    return FetchedFile(file, local, "local")


def fetch_file(
    manifest: Manifest,
    file: DataFile,
    mirrors: Sequence[Path] = (),
    allow_download: bool = True,
    progress: Callable[[DataFile], object] | None = None,
) -> FetchedFile:
    """One verified local copy of ``file``: cache → mirrors → download, in that order; a local file (``local`` or a
    ``file://`` url) is only read in place and verified.

    Every mirror is tried in order: a copy with a wrong checksum is skipped with a one-line warning (logger
    ``brainbench.data.fetch``) when a later mirror has a good one; when none has, the error names every bad
    copy and nothing is downloaded. A cached copy with a wrong checksum is removed and an error; a downloaded
    one is never kept unless it verifies. An embedded file is read in place, verified.
    """
    if file.local is not None:
        return _read_in_place(manifest, file, file.local)
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
    if not (allow_download and _downloadable(file.url)):
        why = ("it has no download address" if not file.url else f"its url {file.url} is not http(s)"
               if not _downloadable(file.url) else "downloads are off")
        raise DataError(f"{what} cannot be fetched: {why}, and {_looked(manifest, file, mirrors)}.")
    _download(file, target, what, progress, _looked(manifest, file, mirrors))
    return FetchedFile(file, target, "download")


def _downloadable(url: str) -> bool:
    return urlsplit(url).scheme.lower() in DOWNLOAD_SCHEMES


def _mirror_copies(manifest: Manifest, file: DataFile, mirrors: Sequence[Path]) -> Iterator[Path]:
    """The copies of ``file`` in the mirrors, in the mirrors' order (see :func:`_mirror_folders`)."""
    for mirror in mirrors:
        for folder in _mirror_folders(manifest, file):
            candidate = mirror / folder / file.path
            if candidate.is_file():
                yield candidate


def _mirror_folders(manifest: Manifest, file: DataFile) -> tuple[str, ...]:
    """The folders of a mirror that may hold ``file``, in order: the file's own ``mirror_folder`` (a file shared
    between datasets), the dataset's ``mirror_folder``, a folder named after the dataset."""
    return tuple(dict.fromkeys(f for f in (file.mirror_folder, manifest.mirror_folder, manifest.name) if f))


def _listed(files: Sequence[Path]) -> str:
    return ", ".join(str(f) for f in files)


def _mismatch(files: Sequence[Path]) -> str:
    return "does not match" if len(files) == 1 else "do not match"


def fetch_dataset(
    dataset: str | Manifest,
    mirrors: Sequence[Path] | None = None,
    allow_download: bool = True,
    progress: Callable[[DataFile], object] | None = None,
    definitions: Sequence[str | Path] = (),
) -> dict[str, FetchedFile]:
    """All files of a dataset, verified: ``{relative path: FetchedFile}``.

    ``mirrors`` defaults to ``$BRAINBENCH_DATA_MIRROR``; ``definitions``: extra definition folders to find a dataset
    given by name (``--definitions``).
    """
    manifest = load_manifest(dataset, definitions) if isinstance(dataset, str) else dataset
    mirrors = paths.mirror_dirs() if mirrors is None else list(mirrors)
    return {f.path: fetch_file(manifest, f, mirrors, allow_download, progress) for f in manifest.files}


def verify_dataset(dataset: str | Manifest, definitions: Sequence[str | Path] = ()) -> dict[str, str]:
    """Status of each cached file: 'ok', 'missing' or 'corrupt' (corrupt copies are left for inspection); a local
    file's status is that of the file at its own path ('corrupt': it changed since the manifest was written)."""
    manifest = load_manifest(dataset, definitions) if isinstance(dataset, str) else dataset
    status = {}
    for f in manifest.files:
        path = cache_path(manifest, f)
        status[f.path] = "missing" if not path.exists() else ("ok" if _matches(path, f) else "corrupt")
    return status


#: A dataset's availability, best first: shipped inside brainbench, local files read in place, in the local cache,
#: in a mirror folder, to be downloaded, or not to be had at all.
STATUSES = ("embedded", "local", "cached", "mirror", "network", "unavailable")


@dataclass(frozen=True)
class Availability:
    """Where a dataset's files would come from now (local files, cache → mirrors → network), decided without reading
    them.

    ``status`` is the worst of its files' (see :data:`STATUSES`): a local file counts as ``local`` when it is there
    with the published size; any other file as cached or in a mirror when a copy of the published size is there (the
    checksum is verified when the file is fetched); as ``network`` when downloads are allowed and its URL is http(s).
    ``mirrors`` are those tried, ``in_mirrors`` those that supply a file, ``urls`` the addresses still to download
    (``network``) or that cannot be used (``unavailable``). ``local_files``: the local files there, read in place;
    ``local_trouble``: one clause per local file that is missing or not of its published size.
    """

    dataset: str
    status: str
    cache: Path
    mirrors: tuple[Path, ...]
    in_mirrors: tuple[Path, ...]
    urls: tuple[str, ...]
    not_local: int  # files (local ones aside) neither cached nor in a mirror
    files: int
    cached: int  # files in the cache (or shipped inside brainbench)
    allow_download: bool
    local_files: tuple[Path, ...] = ()
    local_trouble: tuple[str, ...] = ()
    unreachable: int = 0  # files (local ones aside) neither cached, nor in a mirror, nor to download

    @property
    def available(self) -> bool:
        return self.status != "unavailable"

    def where(self) -> str:
        """One line: where the data are, or (unavailable) every place looked in and why none serves."""
        if self.status == "embedded":
            return f"{self.dataset}: shipped inside brainbench"
        if self.status == "local":
            return f"{self.dataset}: local files, read in place ({_some([str(p) for p in self.local_files])})"
        if self.status == "cached":
            return f"{self.dataset}: cached in {self.cache}"
        if self.status == "mirror":
            return f"{self.dataset}: in the data mirror {', '.join(map(str, self.in_mirrors))}"
        urls = _some(self.urls)
        if self.status == "network":
            local = self.files - self.not_local
            return f"{self.dataset}: to download ({local} of {self.files} files local) from {urls}"
        reasons = list(self.local_trouble)
        if self.unreachable:
            mirrors = (f"not in the data mirror(s) {', '.join(map(str, self.mirrors))}" if self.mirrors
                       else "no data mirror set (--data-mirror or BRAINBENCH_DATA_MIRROR)")
            network = ("downloads are off" if not self.allow_download
                       else f"no http(s) address to download from ({urls})" if self.urls
                       else "no address to download from")
            reasons.append(f"{self.not_local} of {self.files} files not in the cache ({self.cache}), {mirrors}, "
                           f"{network}")
        return f"{self.dataset}: {'; '.join(reasons)}"


def _some(urls: Sequence[str], shown: int = 1) -> str:
    more = len(urls) - shown
    return ", ".join(urls[:shown]) + (f" and {more} more" if more > 0 else "")


def _present(path: Path, file: DataFile) -> bool:
    """A copy of the published size (any size when none is published); its checksum is checked on fetch."""
    try:
        return path.is_file() and (not file.size or path.stat().st_size == file.size)
    except OSError:
        return False


def _local_trouble(file: DataFile, local: Path) -> str:
    """Why a local file cannot serve (a clause), from a stat alone; "" when it is there with the published size."""
    try:
        if not local.is_file():
            return f"the local file {local} ({file.path}) does not exist"
        size = local.stat().st_size
    except OSError as exc:
        return f"the local file {local} ({file.path}) cannot be read ({exc.strerror or exc})"
    if file.size and size != file.size:
        return (f"the local file {local} ({file.path}) has {size} bytes, not the {file.size} of the manifest: it "
                "changed since the manifest was written")
    return ""


def availability(dataset: str | Manifest, mirrors: Sequence[Path] | None = None,
                 allow_download: bool = True, definitions: Sequence[str | Path] = ()) -> Availability:
    """Where each file of ``dataset`` would come from, without reading or downloading anything.

    ``mirrors`` defaults to ``$BRAINBENCH_DATA_MIRROR``; ``definitions``: extra definition folders to find a dataset
    given by name (``--definitions``).
    """
    manifest = load_manifest(dataset, definitions) if isinstance(dataset, str) else dataset
    mirrors = paths.mirror_dirs() if mirrors is None else list(mirrors)
    # One status per file: STATUSES, or 'unreachable' (counted apart, reported as 'unavailable'): a file other than
    # a local one that is neither cached, nor in a mirror, nor to download.
    statuses, in_mirrors, urls, local_files, local_trouble = [], [], [], [], []
    for file in manifest.files:
        if file.local is not None:
            trouble = _local_trouble(file, file.local)
            if trouble:
                local_trouble.append(trouble)
            else:
                local_files.append(file.local)
            statuses.append("unavailable" if trouble else "local")
            continue
        if file.embedded:
            statuses.append("embedded" if _present(cache_path(manifest, file), file) else "unreachable")
            continue
        if _present(cache_path(manifest, file), file):
            statuses.append("cached")
            continue
        source = next((m for m in mirrors for folder in _mirror_folders(manifest, file)
                       if _present(m / folder / file.path, file)), None)
        if source is not None:
            statuses.append("mirror")
            in_mirrors.append(source)
            continue
        if file.url:
            urls.append(file.url)
        statuses.append("network" if allow_download and _downloadable(file.url) else "unreachable")
    return Availability(
        dataset=manifest.name,
        status=max(("unavailable" if s == "unreachable" else s for s in statuses), key=STATUSES.index,
                   default="cached"),
        cache=paths.data_cache() / manifest.name, mirrors=tuple(mirrors), in_mirrors=tuple(dict.fromkeys(in_mirrors)),
        urls=tuple(urls), not_local=statuses.count("unreachable") + statuses.count("network"),
        files=len(manifest.files), cached=statuses.count("cached") + statuses.count("embedded"),
        allow_download=allow_download, local_files=tuple(local_files), local_trouble=tuple(local_trouble),
        unreachable=statuses.count("unreachable"),
    )
