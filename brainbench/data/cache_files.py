"""Writing into brainbench's caches: whole files or nothing, with the umask's mode, and no lasting leftovers.

A file is written under a *partial* name beside its target and renamed into place, so a reader never sees
half a file. The partial name tags its writer (``.partial-<pid>@<host>-<name>``, or a ``.download-<pid>@<host>-…``
folder), so that a later writer can tell the leftovers of a killed run from the work of a live one: a
partial is stale when its writer ran on this host and is gone, or when nobody has written to it for
:data:`STALE_AFTER_S` (the only test for other hosts sharing the cache, and for untagged names from older
versions). Stale partials are removed whenever their folder is next written.

A write that fails because of the disk (full, quota, file-size limit, permissions, read-only) becomes a
:class:`~brainbench.errors.DataError` naming what could not be written, where, and the fix.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from brainbench.errors import DataError, file_system_trouble

PARTIAL_PREFIXES = (".partial-", ".download-")
STALE_AFTER_S = 24 * 3600  # a partial nobody has written to for a day is abandoned, whoever wrote it
_WRITER = re.compile(r"^\.(?:partial|download)-(?P<pid>\d+)(?:@(?P<host>[A-Za-z0-9._]+))?-")



def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost"


def partial_prefix(kind: str = "partial") -> str:
    """The start of this process's partial names: ``.<kind>-<pid>@<host>-`` (kind 'partial' or 'download')."""
    return f".{kind}-{os.getpid()}@{_host()}-"


def new_file_mode() -> int:
    """The permission bits ``open()`` gives a new file in this process: 0o666 less the umask."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the system tells it (Linux ≥ 4.7), since setting it
    races with other threads creating files; elsewhere set to the strictest and put back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o077)
    os.umask(umask)
    return umask


def _running_here(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


@dataclass(frozen=True)
class Partial:
    """A partial file or folder in a cache, and whether it is stale (with the reason, for a report)."""

    path: Path
    size: int  # bytes (a folder: of the files in it)
    stale: bool
    reason: str


def inspect_partial(path: Path) -> Partial:
    """Who left the partial ``path`` and whether it is stale (see the module docstring)."""
    info = path.lstat()
    files = [path] if not path.is_dir() else [p for p in path.rglob("*") if p.is_file()]
    size = sum(p.lstat().st_size for p in files)
    modified = max([info.st_mtime, *(p.lstat().st_mtime for p in files)])
    idle = time.time() - modified
    writer = _WRITER.match(path.name)
    if writer and writer["host"] in (None, _host()):
        pid = int(writer["pid"])
        if not _running_here(pid):
            return Partial(path, size, True, f"its writer, process {pid}, is gone")
        if idle <= STALE_AFTER_S:
            return Partial(path, size, False, f"process {pid} is writing it")
    elif idle <= STALE_AFTER_S:
        return Partial(path, size, False, f"last written {idle / 3600:.1f} h ago")
    return Partial(path, size, True, f"nobody has written to it for {idle / 3600:.0f} h")


def partials(folder: Path, recursive: bool = False) -> list[Partial]:
    """Every partial file or folder in ``folder`` (and its subfolders when ``recursive``), sorted by path."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob(".*") if recursive else folder.glob(".*")):
        if path.name.startswith(PARTIAL_PREFIXES):
            try:
                found.append(inspect_partial(path))
            except FileNotFoundError:  # its writer just finished or removed it
                continue
    return found


def remove(partial: Partial) -> None:
    """Delete a partial file or folder (already gone is fine)."""
    if partial.path.is_dir() and not partial.path.is_symlink():
        shutil.rmtree(partial.path, ignore_errors=True)
    else:
        partial.path.unlink(missing_ok=True)


def sweep(folder: Path) -> list[Partial]:
    """Remove the stale partials directly in ``folder``; returns them. Best effort: one that cannot be
    removed is left (the write that follows reports the folder's trouble)."""
    stale = [p for p in partials(folder) if p.stale]
    for partial in stale:
        try:
            remove(partial)
        except OSError:
            continue
    return stale


def write_error(exc: OSError, what: str, where: Path) -> DataError | None:
    """The sentence for a write of ``what`` into ``where`` that failed for a reason the user can fix, else None."""
    trouble = file_system_trouble(exc)
    if trouble is None:
        return None
    what_happened, remedy, other_place = trouble
    fix = f"{remedy}, or set BRAINBENCH_HOME to {other_place}" if remedy else f"set BRAINBENCH_HOME to {other_place}"
    return DataError(f"Cannot write {what} into {where}: {what_happened}; {fix}. Nothing of it was kept.")


@contextmanager
def _translated(what: str, where: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        error = write_error(exc, what, where)
        if error is None:
            raise
        raise error from exc


def _prepare(folder: Path, what: str) -> None:
    with _translated(what, folder):
        folder.mkdir(parents=True, exist_ok=True)
    sweep(folder)


@contextmanager
def replacing(target: Path, what: str) -> Iterator[Path]:
    """Write ``target`` whole or not at all: yields the partial path to write (create it with ``open``, so it
    gets the umask's mode); on leaving without an error it replaces ``target``, else it is removed.

    The folder is created and swept of stale partials first. ``what`` names the file in error sentences.
    """
    folder = target.parent
    _prepare(folder, what)
    partial = folder / f"{partial_prefix()}{target.name}"
    try:
        with _translated(what, folder):
            yield partial
            os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def scratch_folder(target: Path, what: str) -> Iterator[Path]:
    """A temporary ``.download-<pid>@<host>-…`` folder beside ``target`` for a writer that names its own files
    (e.g. pooch); removed on leaving. Disk errors inside become one sentence as in :func:`replacing`."""
    folder = target.parent
    _prepare(folder, what)
    with _translated(what, folder):
        scratch = Path(tempfile.mkdtemp(dir=folder, prefix=partial_prefix("download")))
    try:
        with _translated(what, folder):
            yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
