"""The leaderboard file: an append-only SQLite store of score records that survives writers killed mid-commit."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from brainbench import paths
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.ranking import RankedModel, latest_of, rank
from brainbench.leaderboard.record import ScoreRecord, details_json, validated
from brainbench.leaderboard.units import decode_units, encode_units

SCHEMA_VERSION = 3
TIMEOUT_S = 60.0  # how long a reader or writer waits for another process's transaction to finish

# Top-level columns of schema 1, in ScoreRecord field order; `details` (JSON text), `uid` and `id` are apart.
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

# A new file is made as schema 1 and brought up to date by the same migrations as an old one, so that
# new and migrated files are alike by construction.
SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
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

_STORED = f"id, {', '.join(COLUMNS)}, details"
INSERT = (
    f"INSERT INTO records ({', '.join(COLUMNS)}, details, uid) VALUES ({', '.join('?' * (len(COLUMNS) + 2))}) "
    "ON CONFLICT (uid) DO NOTHING"
)
_LEGACY_UIDS = uuid.UUID("6f1c1b52-52a4-4bd4-8a4e-0f6b0c2c3d61")  # namespace of the uids of schema-1 records
_T = TypeVar("_T")


def legacy_uid(stored: Sequence[Any]) -> str:
    """The uid of a record stored before records had one: a UUID derived from its ``SELECT {_STORED}`` row.

    Readers of a schema-1 file and its migration compute the same value, so a record keeps its uid when
    its file is migrated; two records share it only if every stored value, id included, is the same.
    """
    return str(uuid.uuid5(_LEGACY_UIDS, json.dumps(list(stored))))


def _add_uids(conn: sqlite3.Connection) -> None:
    """Schema 1 → 2: a ``uid`` column, unique, filled for the records already there."""
    conn.execute("ALTER TABLE records ADD COLUMN uid TEXT")
    rows = conn.execute(f"SELECT {_STORED} FROM records").fetchall()
    conn.executemany("UPDATE records SET uid = ? WHERE id = ?", [(legacy_uid(row), row[0]) for row in rows])
    conn.execute("CREATE UNIQUE INDEX records_by_uid ON records (uid)")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def _add_units(conn: sqlite3.Connection) -> None:
    """Schema 2 → 3: a side table of per-unit results (ScoreRecord.units, one .npz blob per record that has them),
    apart from ``records`` so that reading the ranking never reads the blobs."""
    conn.execute("CREATE TABLE units (uid TEXT PRIMARY KEY REFERENCES records (uid), npz BLOB NOT NULL)")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


#: Schema version k → the step that brings a file to version k + 1, run inside the writer's transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _add_uids, 2: _add_units}


class _HotJournal(BrainbenchError):
    """The file has a hot journal (a writer died mid-transaction) that this connection could not roll back."""


class Leaderboard:
    """An append-only SQLite leaderboard file; records are only ever added, never changed or removed.

    Writers take turns (SQLite's rollback journal and a busy timeout); a writer killed at any moment leaves
    a journal that the next reader or writer rolls back, so no committed record is ever lost. The rollback
    journal rather than WAL: WAL needs shared memory, which network file systems (a lab's shared folder)
    do not give, and -wal/-shm files that a reader of a read-only folder cannot create.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else paths.default_leaderboard()

    def append(self, records: Sequence[ScoreRecord]) -> list[int]:
        """Write ``records`` in one transaction (all or none) and return their ids, in order.

        Every record is validated first; an invalid one raises BrainbenchError and nothing is written.
        A record whose uid is already stored is not written again: its stored id is returned.
        """
        return [record_id for record_id, _ in self._write(records)]

    def import_records(self, records: Sequence[ScoreRecord]) -> int:
        """:meth:`append` ``records`` and return how many were new; importing the same records again adds none."""
        return sum(new for _, new in self._write(records))

    def check(self) -> None:
        """Raise BrainbenchError now if the file exists but is not a leaderboard this brainbench can read."""
        if self.path.exists():
            self._read(self._version)

    def check_writable(self) -> None:
        """Raise BrainbenchError now unless :meth:`append` can write here; creates nothing.

        An existing file must be a readable leaderboard that this user can open for writing; the nearest
        existing folder on its path must take new files (the file itself, its journal, missing folders).
        """
        path = self.path
        if path.exists() and not path.is_file():
            raise BrainbenchError(f"The leaderboard {path} is a folder, not a file; pass another --leaderboard PATH.")
        if path.exists():
            self.check()
            try:
                with open(path, "r+b"):  # opened for writing, nothing written
                    pass
            except OSError as exc:
                raise self._unwritable(path, exc) from exc
        folder = next(p for p in path.parents if p.exists())
        try:
            with tempfile.TemporaryFile(dir=folder):  # unnamed where the OS allows (O_TMPFILE), removed at once
                pass
        except OSError as exc:
            raise self._unwritable(folder, exc) from exc

    def records(self, model: str | None = None, benchmark: str | None = None, *,
                with_units: bool = False) -> list[ScoreRecord]:
        """All stored records, oldest first, optionally only those of ``model`` and/or ``benchmark``.

        ``with_units``: also read each record's per-unit results (ScoreRecord.units, for paired comparisons);
        without it their ``units`` are empty and no blob is read, which keeps the ranking fast.
        """
        if not self.path.exists():
            return []
        filters = {"model": model, "benchmark": benchmark}
        where = [f"{name} = ?" for name, value in filters.items() if value is not None]

        def read(conn: sqlite3.Connection) -> list[ScoreRecord]:
            version = self._version(conn)
            if version is None:
                return []
            joined = with_units and version >= 3
            sql = f"SELECT {_STORED}, {'records.uid' if version >= 2 else 'NULL'}, {'npz' if joined else 'NULL'} " \
                  f"FROM records{' LEFT JOIN units ON units.uid = records.uid' if joined else ''}"
            sql += f" WHERE {' AND '.join(where)}" if where else ""
            rows = conn.execute(sql + " ORDER BY id", [v for v in filters.values() if v is not None])
            return [_record(row[:-1], row[-1]) for row in rows]

        return self._read(read)

    def latest(self) -> list[ScoreRecord]:
        """The records that rank: per model entry and benchmark, the newest of the highest version."""
        return latest_of(self.records())

    def ranking(self) -> list[RankedModel]:
        """The leaderboard, best first; see :func:`brainbench.leaderboard.ranking.rank`."""
        return rank(self.latest())

    def _write(self, records: Sequence[ScoreRecord]) -> list[tuple[int, bool]]:
        """Insert ``records`` in one transaction; per record its id and whether it was new (not a known uid)."""
        rows = [_row(validated(r)) for r in records]
        if not rows:
            return []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unwritable(Path(exc.filename or self.path.parent), exc) from exc
        with self._connect("rwc") as conn:
            conn.execute("BEGIN IMMEDIATE")  # take the write lock now: waits for other writers
            try:
                version = self._version(conn)
                if version is None:  # a new (or empty) file
                    for statement in SCHEMA_1.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    version = 1
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](conn)
                written = [_insert(conn, row) for row in rows]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return written

    def _read(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """``work`` on a read-only connection, in one read transaction (a consistent snapshot).

        A hot journal (a writer killed mid-transaction) is rolled back first, as SQLite does on any
        read-write open; that is the one time a read writes, and it needs write access to file and folder.
        """
        try:
            return self._snapshot(work)
        except _HotJournal:
            self._roll_back()
            return self._snapshot(work)

    def _snapshot(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._connect("ro") as conn:
            conn.execute("BEGIN")  # deferred: a read transaction, ended when the connection closes
            return work(conn)

    def _roll_back(self) -> None:
        """Let SQLite roll back the hot journal, opening the file read-write without creating it."""
        with self._connect("rw") as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    @contextmanager
    def _connect(self, mode: str) -> Iterator[sqlite3.Connection]:
        """An autocommit connection (transactions are explicit); ``mode`` ro, rw or rwc as in SQLite URIs."""
        target = f"{self.path.resolve().as_uri()}?mode={mode}"
        try:
            with closing(sqlite3.connect(target, uri=True, timeout=TIMEOUT_S, isolation_level=None)) as conn:
                yield conn
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # bugs in the caller, not problems with the file
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc, mode) from exc

    def _explain(self, exc: sqlite3.DatabaseError, mode: str) -> BrainbenchError:
        """One sentence for an SQLite error on this file, naming its cause and the fix."""
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_NOTADB":
            return self._not_ours()
        # A hot journal that this process may not roll back (read-only file) or remove (read-only folder);
        # `rw` connections exist only to roll one back.
        rolling_back = mode == "rw" and name.startswith(("SQLITE_READONLY", "SQLITE_IOERR"))
        if rolling_back or name in ("SQLITE_READONLY_ROLLBACK", "SQLITE_IOERR_DELETE"):
            return _HotJournal(
                f"The leaderboard {self.path} holds an unfinished write of a process that was stopped (the journal "
                f"{self.path.name}-journal beside it), which only write access to the file and its folder can roll "
                f"back; run `brainbench leaderboard --leaderboard {self.path}` once as a user who may write there "
                "(committed scores are kept), or pass another --leaderboard PATH."
            )
        if name.startswith("SQLITE_READONLY") or (mode == "rwc" and name.startswith("SQLITE_CANTOPEN")):
            return BrainbenchError(
                f"The leaderboard {self.path} cannot be written ({exc}); make the file and its folder writable, "
                "pass another --leaderboard PATH, or score with --no-save."
            )
        if name == "SQLITE_BUSY":
            return BrainbenchError(
                f"The leaderboard {self.path} stayed locked by another process for {TIMEOUT_S:.0f} s; let that "
                "process finish and try again, or pass another --leaderboard PATH."
            )
        return BrainbenchError(
            f"Cannot use the leaderboard {self.path} ({exc}); check that it is a readable, writable file "
            "or pass another --leaderboard PATH."
        )

    def _version(self, conn: sqlite3.Connection) -> int | None:
        """The schema version of the leaderboard in ``conn`` (None for an empty file); BrainbenchError unless
        it is a leaderboard this version of brainbench can read."""
        tables = _tables(conn)
        if not tables:
            return None
        if not {"meta", "records"} <= tables:
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
        if version < 1:
            raise self._not_ours()
        return version

    def _not_ours(self) -> BrainbenchError:
        return BrainbenchError(
            f"{self.path} is not a brainbench leaderboard (it was left unchanged); "
            "pass another --leaderboard PATH."
        )

    def _unwritable(self, place: Path, exc: OSError) -> BrainbenchError:
        return BrainbenchError(
            f"The leaderboard {self.path} cannot be written ({place}: {exc.strerror or exc}); make it writable, "
            "pass another --leaderboard PATH, or score with --no-save."
        )


def _insert(conn: sqlite3.Connection, row: tuple[Any, ...]) -> tuple[int, bool]:
    """Insert one ``_row`` and its units blob (last item, None for none); its id and True, or the id already stored
    under its uid and False (then nothing is written: a stored record is never changed, its units included)."""
    *values, npz = row
    cursor = conn.execute(INSERT, values)
    if cursor.rowcount == 1:
        if npz is not None:
            conn.execute("INSERT INTO units (uid, npz) VALUES (?, ?)", (values[-1], npz))
        return int(cursor.lastrowid or 0), True
    (stored,) = conn.execute("SELECT id FROM records WHERE uid = ?", (values[-1],)).fetchone()
    return int(stored), False


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _row(r: ScoreRecord) -> tuple[Any, ...]:
    """SQL parameters for INSERT, coerced to plain Python types (NumPy scalars are not bound by sqlite3), then the
    record's units as an .npz blob (None when it has none)."""
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
    npz = encode_units(r.units) if r.units else None
    return (*(values[name] for name in COLUMNS), details_json(r.details), r.uid, npz)


def _record(row: Sequence[Any], npz: bytes | None = None) -> ScoreRecord:
    """A ScoreRecord from a ``SELECT {_STORED}, uid`` row (uid NULL in a schema-1 file) and its units blob, if any."""
    values = dict(zip(COLUMNS, row[1:-2], strict=True))
    values["random_init"] = bool(values["random_init"])
    uid = row[-1] if row[-1] is not None else legacy_uid(row[:-1])
    units = decode_units(npz) if npz is not None else {}
    return ScoreRecord(**values, details=json.loads(row[-2]), units=units, uid=uid, id=row[0])
