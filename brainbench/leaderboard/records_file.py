"""Score records as a JSON Lines file, to move them between leaderboards (`leaderboard export --records`, `import`).

One JSON object per line: every ScoreRecord field but the store-local ``id`` — uid, details, and the per-unit results
as base64 text of their .npz (``units``; null when none). Reading validates every line before any record is returned,
so a file with one bad line imports nothing.
"""

from __future__ import annotations

import fnmatch
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import unsaved
from brainbench.leaderboard.record import ScoreRecord, details_json, validated
from brainbench.leaderboard.units import units_from_text, units_to_text

#: The keys of a line: every ScoreRecord field but ``id`` (local to one leaderboard file).
KEYS = tuple(f.name for f in fields(ScoreRecord) if f.name != "id")
_OPTIONAL = {"units"}  # a line without per-unit results may leave the key out
_KEPT_MARKER = json.dumps({"format": unsaved.FORMAT})[1:-1].encode()  # how a file `score` kept starts


def to_line(record: ScoreRecord) -> str:
    """``record`` as one line of JSON (no newline); details as plain JSON values, units as base64 .npz text or null."""
    item: dict[str, Any] = {name: getattr(record, name) for name in KEYS}
    item["details"] = json.loads(details_json(record.details))
    item["units"] = units_to_text(record.units)
    return json.dumps(item, ensure_ascii=False)


def write(records: Sequence[ScoreRecord], path: str | Path) -> Path:
    """Write ``records`` to ``path``, one line each; the file appears whole or not at all (replacing one there).

    BrainbenchError in one sentence when the folder does not exist or cannot be written.
    """
    target = Path(path).expanduser()
    text = "".join(to_line(r) + "\n" for r in records)
    if not target.parent.is_dir():
        raise BrainbenchError(f"Cannot write {target}: its folder {target.parent} does not exist; create it or "
                              "name another file.")
    part: Path | None = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".part", delete=False) as f:
            part = Path(f.name)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, target)
    except OSError as exc:
        if part is not None:
            part.unlink(missing_ok=True)
        raise BrainbenchError(f"Cannot write {target} ({exc.strerror or exc}); nothing was written.") from exc
    return target


def from_line(text: str) -> ScoreRecord:
    """The record of one line; ValueError saying in a few words what is wrong with it."""
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not JSON ({exc.msg} at column {exc.colno}; a truncated line?)") from None
    if not isinstance(item, dict):
        raise ValueError(f"it is a JSON {type(item).__name__}, not an object")
    unknown = sorted(set(item) - set(KEYS) - {"id"})
    if unknown:
        raise ValueError(f"it has unknown key(s) {', '.join(unknown)}")
    missing = [k for k in KEYS if k not in item and k not in _OPTIONAL]
    if missing:
        raise ValueError(f"it lacks the key(s) {', '.join(missing)}")
    try:
        units = units_from_text(item.get("units"))
        record = ScoreRecord.from_dict({**item, "id": None, "units": units})
        validated(record)
    except BrainbenchError as exc:
        # The file's sentence says what was written; the record's own says what is wrong.
        raise ValueError(str(exc).removesuffix(".").removesuffix("; nothing was written to the leaderboard")) from None
    return record


def read(path: str | Path) -> list[ScoreRecord]:
    """Every record of a JSON Lines records file, each line validated before any is returned.

    Blank lines are skipped; a line repeating an earlier line's uid must be the same record. BrainbenchError naming
    the first bad line (its number, from 1) and what is wrong with it, or saying that the file holds no record.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # -sig: a BOM an editor added is no record
    except (OSError, UnicodeDecodeError) as exc:
        raise BrainbenchError(f"Cannot read {path} ({exc}); check the path.") from exc
    records: list[ScoreRecord] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = from_line(text)
            first = seen.setdefault(record.uid, (number, to_line(record)))
            if first[0] != number and first[1] != to_line(record):
                raise ValueError(f"it has the uid of line {first[0]} but other contents")
        except ValueError as exc:
            if not records:  # not even the first line: most likely another kind of file
                raise BrainbenchError(
                    f"{path} is not a file of brainbench score records (line {number}: {exc}); pass a file of "
                    "`leaderboard export --records` or the one `brainbench score` named."
                ) from None
            raise BrainbenchError(
                f"Line {number} of {path} is not a score record: {exc}; nothing of the file was imported."
            ) from None
        if first[0] == number:
            records.append(record)
    if not records:
        raise BrainbenchError(f"{path} holds no score records; pass a file of `leaderboard export --records`.")
    return records


def load(path: str | Path) -> list[ScoreRecord]:
    """The records of either kind of file ``leaderboard import`` takes, told apart by content: a JSON object marked
    as records that ``score`` kept (:mod:`unsaved`), else a JSON Lines records file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise BrainbenchError(f"Cannot read {path} ({exc}); check the path.") from exc
    if _KEPT_MARKER in head:  # a kept file starts with its format marker; a records line has no "format" key
        return unsaved.read(path)
    return read(path)


def select(records: Sequence[ScoreRecord], models: Sequence[str] = (), benchmarks: Sequence[str] = ()) \
        -> list[ScoreRecord]:
    """The records whose model (id or label) matches one of the glob ``models`` and whose benchmark id matches one
    of ``benchmarks`` (case-sensitive; no patterns: all); BrainbenchError when a pattern matches no record."""
    chosen = list(records)
    for patterns, name, key in ((models, "model", lambda r: (r.model, r.model_label)),
                                (benchmarks, "benchmark", lambda r: (r.benchmark,))):
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(text, pattern) for r in chosen for text in key(r)):
                raise BrainbenchError(f"No {name} among the score records matches '{pattern}'; nothing was written.")
        if patterns:
            chosen = [r for r in chosen if any(fnmatch.fnmatchcase(t, p) for p in patterns for t in key(r))]
    return chosen
