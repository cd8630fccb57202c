"""Errors a user can cause: each carries one sentence that names the fix."""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable

#: File-system trouble a user can fix, by errno: (what happened, what to do in place — or "" —, where else to work).
#: One table for the cache writers (data/cache_files.py) and the CLI's last line of defence (cli/main.py).
FILE_SYSTEM_TROUBLE: dict[int, tuple[str, str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space", "a folder on another disk"),
    errno.EDQUOT: ("the disk quota is used up", "free some space", "a folder on another disk"),
    errno.EFBIG: ("the file would exceed the file-size limit", "raise the limit (ulimit -f)",
                  "a folder on another file system"),
    errno.EACCES: ("permission denied", "make it writable", "a writable folder"),
    errno.EPERM: ("operation not permitted", "make it writable", "a writable folder"),
    errno.EROFS: ("the file system is read-only", "", "a writable folder"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "", "a folder"),
    errno.EEXIST: ("a file of that name is in the way", "move it", "another place"),
}


def file_system_trouble(exc: BaseException) -> tuple[str, str, str] | None:
    """``FILE_SYSTEM_TROUBLE``'s entry for an OSError a user can fix, else None."""
    return FILE_SYSTEM_TROUBLE.get(exc.errno) if isinstance(exc, OSError) and exc.errno is not None else None


class BrainbenchError(Exception):
    """A failure the user can fix; the CLI prints its message as one line, without a traceback."""


class UnknownNameError(BrainbenchError, KeyError):
    """A model, benchmark, dataset or layer name that is not known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(BrainbenchError):
    """Data missing, unreadable, or failing its checksum."""


class ModelError(BrainbenchError):
    """A model that cannot be built, loaded or run as asked."""


def suggest(name: str, known: Iterable[str], n: int = 3) -> str:
    """' Did you mean a, b?' for the closest known names, or '' when none is close."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if not close:
        lowered = name.lower()
        close = [k for k in known if lowered in k.lower()][:n]
    return f" Did you mean {', '.join(close)}?" if close else ""


def unknown(kind: str, name: str, known: Iterable[str], hint: str = "") -> UnknownNameError:
    """Build the standard 'unknown X' error with close-name suggestions."""
    return UnknownNameError(f"Unknown {kind} '{name}'.{suggest(name, known)}{(' ' + hint) if hint else ''}")
