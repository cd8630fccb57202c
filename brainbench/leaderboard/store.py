"""The local leaderboard: an append-only SQLite file of score records, and the ranking derived from it."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainbench import paths
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.record import REGIONS, ScoreRecord, details_json

SCHEMA_VERSION = 1
TIMEOUT_S = 60.0  # how long a writer waits for another process's transaction to finish

# Top-level columns, in ScoreRecord field order; `details` (JSON text) and `id` are handled separately.
COLUMNS: tuple[str, ...] = (
    "model",
    "weights_digest",
    "random_init",
    "benchmark",
    "benchmark_version",
    "region",
    "raw",
    "ceiling",
    "ceiled",
    "error",
    "layer",
    "brainbench_version",
    "seed",
    "device",
    "started_at",
    "finished_at",
)

SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    weights_digest TEXT NOT NULL,
    random_init INTEGER NOT NULL,
    benchmark TEXT NOT NULL,
    benchmark_version INTEGER NOT NULL,
    region TEXT NOT NULL,
    raw REAL NOT NULL,
    ceiling REAL,
    ceiled REAL NOT NULL,
    error REAL,
    layer TEXT,
    brainbench_version TEXT NOT NULL,
    seed INTEGER NOT NULL,
    device TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX records_by_model ON records (model, benchmark);
"""

INSERT = f"INSERT INTO records ({', '.join(COLUMNS)}, details) VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"


@dataclass
class RankedModel:
    """One leaderboard row: a model entry's region scores and their average (all ceiled, unitless)."""

    rank: int
    model: str
    label: str
    weights_digest: str
    random_init: bool
    regions: dict[str, float | None]  # every REGIONS key; None = no benchmark of that region scored
    average: float
    benchmarks: dict[str, float]  # benchmark -> ceiled score
    n_regions: int


class Leaderboard:
    """An append-only SQLite leaderboard file; records are only ever added, never changed or removed."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else paths.default_leaderboard()

    def append(self, records: Sequence[ScoreRecord]) -> list[int]:
        """Write ``records`` in one transaction (all or none) and return their ids, in order.

        Every record is validated first; an invalid one raises BrainbenchError and nothing is written.
        """
        rows = [_row(validated(r)) for r in records]
        if not rows:
            return []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(readonly=False) as conn:
            conn.execute("BEGIN IMMEDIATE")  # take the write lock now: waits for other writers
            try:
                if _tables(conn):
                    self._check(conn)
                else:  # a new (or empty) file
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                ids = [int(conn.execute(INSERT, row).lastrowid or 0) for row in rows]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return ids

    def check(self) -> None:
        """Raise BrainbenchError now if the file exists but is not a leaderboard this brainbench can use."""
        if self.path.exists():
            with self._connect(readonly=True) as conn:
                if _tables(conn):
                    self._check(conn)

    def records(self, model: str | None = None, benchmark: str | None = None) -> list[ScoreRecord]:
        """All stored records, oldest first, optionally only those of ``model`` and/or ``benchmark``."""
        if not self.path.exists():
            return []
        filters = {"model": model, "benchmark": benchmark}
        where = [f"{name} = ?" for name, value in filters.items() if value is not None]
        sql = f"SELECT id, {', '.join(COLUMNS)}, details FROM records"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
        with self._connect(readonly=True) as conn:
            if not _tables(conn):
                return []
            self._check(conn)
            rows = conn.execute(sql + " ORDER BY id", [v for v in filters.values() if v is not None])
            return [_record(row) for row in rows]

    def latest(self) -> list[ScoreRecord]:
        """The records that rank: per model entry and benchmark, the newest of the highest version."""
        return latest_of(self.records())

    def ranking(self) -> list[RankedModel]:
        """The leaderboard, best first; see :func:`rank` for how the average is computed."""
        return rank(self.latest())

    @contextmanager
    def _connect(self, readonly: bool) -> Iterator[sqlite3.Connection]:
        """An autocommit connection (transactions are explicit); read-only ones never touch the file."""
        target = f"{self.path.resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
        try:
            with closing(sqlite3.connect(target, uri=True, timeout=TIMEOUT_S, isolation_level=None)) as conn:
                yield conn
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # bugs in the caller, not problems with the file
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorname == "SQLITE_NOTADB":
                raise self._not_ours() from exc
            raise BrainbenchError(
                f"Cannot use the leaderboard {self.path} ({exc}); check that it is a readable, writable file "
                "or pass another --leaderboard PATH."
            ) from exc

    def _check(self, conn: sqlite3.Connection) -> None:
        """Raise BrainbenchError unless ``conn`` holds a leaderboard this version of brainbench can read."""
        if not {"meta", "records"} <= _tables(conn):
            raise self._not_ours()
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(row[0])
        except (TypeError, ValueError):
            raise self._not_ours() from None
        if version > SCHEMA_VERSION:
            raise BrainbenchError(
                f"The leaderboard {self.path} was written by a newer brainbench (schema {version}, this one "
                f"reads up to {SCHEMA_VERSION}); upgrade brainbench or pass another --leaderboard PATH."
            )

    def _not_ours(self) -> BrainbenchError:
        return BrainbenchError(
            f"{self.path} is not a brainbench leaderboard (it was left unchanged); "
            "pass another --leaderboard PATH."
        )


def validated(record: ScoreRecord) -> ScoreRecord:
    """``record`` itself, or BrainbenchError naming the benchmark if it cannot go on the leaderboard."""
    if not record.model.strip():
        raise BrainbenchError(
            f"A score of benchmark '{record.benchmark}' has an empty model name; name the model."
        )
    if not record.benchmark.strip():
        raise BrainbenchError(
            f"A score of model '{record.model}' has an empty benchmark name; name the benchmark."
        )
    if record.region not in REGIONS:
        raise BrainbenchError(
            f"Benchmark '{record.benchmark}' has region '{record.region}', "
            f"which is not one of {', '.join(REGIONS)}."
        )
    for name in ("raw", "ceiled", "ceiling", "error"):
        value = getattr(record, name)
        if (value is not None or name in ("raw", "ceiled")) and not _finite(value):
            raise BrainbenchError(
                f"Benchmark '{record.benchmark}' gave model '{record.model}' a non-finite {name} "
                f"score ({value}); nothing was written to the leaderboard."
            )
    return record


def latest_of(records: Sequence[ScoreRecord]) -> list[ScoreRecord]:
    """Per (model, weights_digest, random_init, benchmark): the record of highest benchmark_version, then id.

    Keeps the order of ``records`` (oldest first when they come from the store); of equals, the later wins.
    """
    best: dict[tuple[str, str, bool, str], tuple[int, ScoreRecord]] = {}
    for index, r in enumerate(records):
        key = (r.model, r.weights_digest, r.random_init, r.benchmark)
        if key not in best or _newness(r) >= _newness(best[key][1]):
            best[key] = (index, r)
    return [r for _, r in sorted(best.values(), key=lambda pair: pair[0])]


def _newness(r: ScoreRecord) -> tuple[int, int]:
    return (r.benchmark_version, r.id if r.id is not None else -1)


def rank(latest: Sequence[ScoreRecord]) -> list[RankedModel]:
    """Rank model entries (model, weights_digest, random_init) by their ranking records ``latest``.

    A region's score is the mean ceiled score of the entry's benchmarks in that region (None if it has
    none). The average is the unweighted mean over all five REGIONS, a missing region counting as 0 — as on
    the original Brain-Score leaderboard, a model gains nothing from being scored on fewer regions. Rows
    are sorted by average (descending), then number of scored regions (descending), then label; ranks run
    1..n without shared places.
    """
    entries: dict[tuple[str, str, bool], list[ScoreRecord]] = defaultdict(list)
    for r in latest:
        entries[(r.model, r.weights_digest, r.random_init)].append(r)
    labels = _labels(list(entries))
    rows = [_row_of(entry, labels[key]) for key, entry in entries.items()]
    rows.sort(key=lambda m: (-m.average, -m.n_regions, m.label, m.weights_digest))
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return rows


def _row_of(entry: list[ScoreRecord], label: str) -> RankedModel:
    """An unranked leaderboard row for one model entry's ranking records."""
    by_region: dict[str, list[float]] = defaultdict(list)
    for r in entry:
        by_region[r.region].append(r.ceiled)
    regions = {region: _mean(by_region[region]) if by_region[region] else None for region in REGIONS}
    scored = [v for v in regions.values() if v is not None]
    first = entry[0]
    return RankedModel(
        rank=0,
        model=first.model,
        label=label,
        weights_digest=first.weights_digest,
        random_init=first.random_init,
        regions=regions,
        average=sum(scored) / len(REGIONS),
        benchmarks={r.benchmark: r.ceiled for r in sorted(entry, key=lambda r: r.benchmark)},
        n_regions=len(scored),
    )


def _labels(keys: list[tuple[str, str, bool]]) -> dict[tuple[str, str, bool], str]:
    """Display labels; entries of the same model and init that differ in weights get a digest suffix."""
    label = {key: f"{key[0]} (random-init)" if key[2] else key[0] for key in keys}
    counts: dict[str, int] = defaultdict(int)
    for text in label.values():
        counts[text] += 1
    return {key: f"{text} [{key[1][:12]}]" if counts[text] > 1 else text for key, text in label.items()}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except TypeError:
        return False


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _row(r: ScoreRecord) -> tuple[Any, ...]:
    """SQL parameters for INSERT, coerced to plain Python types (NumPy scalars are not bound by sqlite3)."""
    values = {
        **{name: getattr(r, name) for name in COLUMNS},
        "random_init": int(bool(r.random_init)),
        "benchmark_version": int(r.benchmark_version),
        "raw": float(r.raw),
        "ceiled": float(r.ceiled),
        "ceiling": None if r.ceiling is None else float(r.ceiling),
        "error": None if r.error is None else float(r.error),
        "seed": int(r.seed),
    }
    return (*(values[name] for name in COLUMNS), details_json(r.details))


def _record(row: sqlite3.Row | tuple[Any, ...]) -> ScoreRecord:
    """A ScoreRecord from a ``SELECT id, COLUMNS, details`` row."""
    values = dict(zip(COLUMNS, row[1:-1], strict=True))
    values["random_init"] = bool(values["random_init"])
    return ScoreRecord(**values, details=json.loads(row[-1]), id=row[0])
