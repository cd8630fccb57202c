"""Record uids: schema 1 files read as they are and migrated in place in one transaction; no duplicate uids."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord

# The schema of brainbench's first leaderboard files, as that version created them.
OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, weights_digest TEXT NOT NULL,
    random_init INTEGER NOT NULL, benchmark TEXT NOT NULL, benchmark_version INTEGER NOT NULL,
    region TEXT NOT NULL, raw REAL NOT NULL, ceiling REAL, ceiled REAL NOT NULL, error REAL, layer TEXT,
    brainbench_version TEXT NOT NULL, seed INTEGER NOT NULL, device TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL, details TEXT NOT NULL
);
CREATE INDEX records_by_model ON records (model, benchmark);
"""
OLD_ROWS = [
    ("tinycnn", "7f" * 32, 0, "Kiani2007.IT-rsa", 1, "IT", 0.239, None, 0.239, 0.004, "3", "0.1.0", 0, "cpu",
     "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:04+00:00", '{"model": {"visual_degrees": 8.0}}'),
    ("tinycnn", "7f" * 32, 0, "Kiani2007.IT-rsa", 1, "IT", 0.050, None, 0.050, 0.004, "3", "0.1.0", 0, "cpu",
     "2025-01-01T00:01:00+00:00", "2025-01-01T00:01:04+00:00", '{"model": {"visual_degrees": -5.0}}'),
]


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.executemany(f"INSERT INTO records VALUES (NULL, {', '.join('?' * 17)})", OLD_ROWS)
    conn.close()
    return path


def schema(path: Path) -> tuple[str, list[str]]:
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        columns = [row[1] for row in conn.execute("PRAGMA table_info(records)")]
    conn.close()
    return version, columns


def new_record(ceiled: float = 0.3) -> ScoreRecord:
    return ScoreRecord(
        model="tinycnn", weights_digest="7f" * 32, random_init=False, benchmark="Kiani2007.IT-rsa",
        benchmark_version=1, region="IT", raw=ceiled, ceiling=None, ceiled=ceiled, error=None, layer="3",
        brainbench_version="0.2.0", seed=0, device="cpu", started_at="2025-02-01T00:00:00+00:00",
        finished_at="2025-02-01T00:00:04+00:00", details={"model": {"visual_degrees": 8.0}},
    )


def test_old_file_is_read_without_being_changed(old_file: Path) -> None:
    before = old_file.read_bytes()
    board = Leaderboard(old_file)
    first, second = board.records()
    assert (first.id, first.raw, second.id, second.raw) == (1, 0.239, 2, 0.050)
    assert len({uuid.UUID(first.uid), uuid.UUID(second.uid)}) == 2
    assert [r.uid for r in board.records()] == [first.uid, second.uid]  # the same on every read
    assert {row.visual_degrees for row in board.ranking()} == {8.0, -5.0}
    assert old_file.read_bytes() == before


def test_first_write_migrates_in_place_and_keeps_every_record_and_uid(old_file: Path) -> None:
    board = Leaderboard(old_file)
    old = board.records()
    old_columns = schema(old_file)[1]
    (new_id,) = board.append([new_record()])
    assert schema(old_file) == ("3", [*old_columns, "uid"])
    stored = board.records()
    assert stored[:2] == old and new_id == 3 and stored[2].id == 3
    with sqlite3.connect(old_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # the database itself refuses a second uid
            conn.execute("INSERT INTO records SELECT NULL, model, weights_digest, random_init, benchmark, "
                         "benchmark_version, region, raw, ceiling, ceiled, error, layer, brainbench_version, seed, "
                         "device, started_at, finished_at, details, uid FROM records WHERE id = 1")
    conn.close()


def test_a_migration_that_fails_leaves_the_old_file_as_it_was(old_file: Path) -> None:
    with sqlite3.connect(old_file) as conn:  # makes the insert after the migration fail, inside its transaction
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'refused'); END")
    conn.close()
    before = old_file.read_bytes()
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        Leaderboard(old_file).append([new_record()])
    assert old_file.read_bytes() == before
    assert schema(old_file)[0] == "1" and "uid" not in schema(old_file)[1]


def test_appending_a_stored_uid_again_is_a_no_op(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    record = new_record()
    (first,) = board.append([record])
    assert board.append([record, record]) == [first, first]
    changed = ScoreRecord.from_dict({**record.to_dict(), "ceiled": 0.9})  # same uid: still the same record
    assert board.import_records([changed, new_record(0.4)]) == 1
    assert [(r.uid == record.uid, r.ceiled) for r in board.records()] == [(True, 0.3), (False, 0.4)]


def test_every_record_gets_its_own_uid_when_made() -> None:
    uids = {new_record().uid for _ in range(100)}
    assert len(uids) == 100 and all(uuid.UUID(u).version == 4 for u in uids)


def test_a_record_with_a_bad_uid_is_refused(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    bad = ScoreRecord.from_dict({**new_record().to_dict(), "uid": "not-a-uuid"})
    with pytest.raises(BrainbenchError, match="not a UUID"):
        board.append([bad])
    assert not board.path.exists()
