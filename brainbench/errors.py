"""Errors a user can cause: each carries one sentence that names the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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
