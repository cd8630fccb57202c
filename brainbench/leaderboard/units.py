"""A record's per-unit arrays (ScoreRecord.units) as bytes: one compressed .npz, and its base64 text for JSON files.

The .npz is NumPy's own format (a zip of .npy files), read back with ``allow_pickle=False``: a blob can hold
numbers and fixed-width text only, never Python objects, so reading a leaderboard never runs code from it.
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
import zlib
from typing import Any

from brainbench.errors import BrainbenchError


def encode_units(units: dict[str, Any]) -> bytes:
    """``units`` (name → array-like of numbers or fixed-width text) as a compressed .npz; dtypes and shapes are kept.

    BrainbenchError, naming the entry, for a name that is not text or an array of Python objects (no pickles).
    """
    import numpy as np

    arrays = {}
    for name, value in units.items():
        if not isinstance(name, str) or not name:
            raise BrainbenchError(f"Per-unit results are named {name!r}; each needs a non-empty text name.")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise BrainbenchError(
                f"The per-unit result '{name}' is an array of Python objects, which a leaderboard does not store; "
                "give it numbers or fixed-width text."
            )
        arrays[name] = array
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def decode_units(blob: bytes) -> dict[str, Any]:
    """The arrays of :func:`encode_units`'s bytes, by name; BrainbenchError in one sentence if they are not such."""
    import numpy as np

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:  # every member's CRC first: damage is found, not parsed
            bad = archive.testzip()
        if bad is not None:
            raise ValueError(f"member {bad} fails its CRC check")
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, KeyError, SyntaxError, zipfile.BadZipFile, zipfile.LargeZipFile,
            zlib.error) as exc:
        raise BrainbenchError(
            f"A record's stored per-unit results are damaged ({type(exc).__name__}: {exc}); compare it at fold "
            "level or score the model again."
        ) from exc


def units_to_text(units: dict[str, Any]) -> str | None:
    """``units`` as base64 text of their .npz for a JSON file; None when there are none."""
    return base64.b64encode(encode_units(units)).decode("ascii") if units else None


def units_from_text(text: str | None) -> dict[str, Any]:
    """Inverse of :func:`units_to_text` (None → no units); BrainbenchError for text that is not such."""
    if text is None:
        return {}
    if not isinstance(text, str):
        raise BrainbenchError(f"A record's per-unit results are a {type(text).__name__}, not base64 text of a .npz.")
    try:
        blob = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BrainbenchError(f"A record's per-unit results are not base64 text ({exc}).") from exc
    return decode_units(blob)
