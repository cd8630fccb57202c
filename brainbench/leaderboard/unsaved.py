"""Score records that could not be written to the leaderboard, kept in a JSON file to import later."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from brainbench import paths
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.record import ScoreRecord, details_json
from brainbench.leaderboard.units import units_from_text, units_to_text

FORMAT = "brainbench score records"  # the file's "format" field
_FIELDS = {f.name for f in fields(ScoreRecord)}


def keep(records: Sequence[ScoreRecord], leaderboard: Path) -> Path:
    """Write ``records`` (with their uids, and their units as base64 text of an .npz) to a new JSON file and return
    its path.

    The file goes to ``<home>/unsaved/``, or to the system's temporary folder if that cannot be written;
    it appears whole or not at all. Raises OSError if neither place takes it.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"scores-{stamp}-{records[0].uid[:8] if records else 'none'}.json"
    text = json.dumps({"format": FORMAT, "leaderboard": str(leaderboard),
                       "records": [{**r.to_dict(), "id": None, "details": json.loads(details_json(r.details)),
                                    "units": units_to_text(r.units)} for r in records]}, indent=1)
    failure: OSError | None = None
    for folder in (paths.home() / "unsaved", Path(tempfile.gettempdir()) / "brainbench-unsaved"):
        try:
            return _write_whole(folder / name, text)
        except OSError as exc:
            failure = exc
    assert failure is not None
    raise failure


def _write_whole(target: Path, text: str) -> Path:
    """``text`` into ``target`` through a temporary file beside it, so that no reader sees it half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=target.parent, prefix=".part-", suffix=".json", delete=False) as f:
        part = Path(f.name)
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target


def read(path: str | Path) -> list[ScoreRecord]:
    """The records of a file written by :func:`keep`; BrainbenchError if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("records"), list):
            raise ValueError("no list of records under the format marker")
        records = []
        for item in data["records"]:
            if not isinstance(item, dict) or not {"uid", "details"} <= set(item) <= _FIELDS:
                raise ValueError("a record with missing or unknown fields")
            records.append(ScoreRecord.from_dict({**item, "units": units_from_text(item.get("units"))}))
    except (OSError, UnicodeDecodeError) as exc:
        raise BrainbenchError(f"Cannot read {path} ({exc}); check the path.") from exc
    except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise BrainbenchError(
            f"{path} is not a file of brainbench score records ({exc}); pass the file that `brainbench score` named."
        ) from exc
    return records
