"""Per-unit results (ScoreRecord.units): bytes round trip, the schema-3 side table, its migration, a killed writer,
imports and kept (unsaved) files."""

from __future__ import annotations

import base64
import io
import json
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from units_writer import with_units

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord, unsaved
from brainbench.leaderboard.units import decode_units, encode_units, units_from_text, units_to_text

# The schema-2 file as brainbench 0.x wrote it (schema 1 plus its uid column and index).
SCHEMA_2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema_version', '2');
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, weights_digest TEXT NOT NULL,
    random_init INTEGER NOT NULL, benchmark TEXT NOT NULL, benchmark_version INTEGER NOT NULL,
    region TEXT NOT NULL, raw REAL NOT NULL, ceiling REAL, ceiled REAL NOT NULL, error REAL, layer TEXT,
    brainbench_version TEXT NOT NULL, seed INTEGER NOT NULL, device TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL, details TEXT NOT NULL, uid TEXT
);
CREATE INDEX records_by_model ON records (model, benchmark);
CREATE UNIQUE INDEX records_by_uid ON records (uid);
"""
ROWS_2 = [
    ("tinycnn", "7f" * 32, 0, f"Old.IT-{i}", 1, "IT", 0.1 * i, 0.8, 0.0125 * i * i, None, "3", "0.1.0", 0, "cpu",
     "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:04+00:00", json.dumps({"i": i}),
     f"00000000-0000-4000-8000-{i:012d}")
    for i in range(5)
]
RNG = np.random.default_rng(0)
UNITS = {
    "predictions": RNG.standard_normal((10, 32, 7)).astype(np.float16),
    "responses": RNG.standard_normal((320, 7)).astype(np.float32),
    "test_index": RNG.permutation(320)[:32].astype(np.int32).reshape(1, 32),
    "decisions": RNG.integers(0, 2, 50).astype(bool),
    "stimulus_ids": np.array(["im-001", "im-002", "é"]),
    "ceiling": np.float64(0.61),
    "empty": np.zeros((0, 3)),
}


def record(benchmark: str = "A.IT-neural", units: dict | None = None, model: str = "tinycnn") -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest="7f" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region="IT", raw=0.2, ceiling=0.8, ceiled=0.05, error=0.01, layer="3", brainbench_version="0.2.0", seed=0,
        device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
        details={"unit_test": "neural"} if units else {}, units=units or {},
    )


def assert_same_units(got: dict, expected: dict) -> None:
    """Equal names, dtypes, shapes and bytes: the arrays come back bit for bit."""
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        value = np.asarray(value)
        assert got[name].dtype == value.dtype and got[name].shape == value.shape, name
        assert got[name].tobytes() == value.tobytes(), name


def test_units_round_trip_bit_for_bit() -> None:
    blob = encode_units(UNITS)
    assert blob[:2] == b"PK"  # a zip: an .npz readable by numpy.load itself
    assert_same_units(decode_units(blob), UNITS)
    assert_same_units(units_from_text(units_to_text(UNITS)), UNITS)
    assert units_to_text({}) is None and units_from_text(None) == {}


def test_units_compress() -> None:
    smooth = {"predictions": np.tile(np.linspace(0, 1, 1000, dtype=np.float32), (100, 1))}
    assert len(encode_units(smooth)) < smooth["predictions"].nbytes / 10


@pytest.mark.parametrize("units", [{"x": np.array([{"a": 1}], dtype=object)}, {"x": [1, "a", None]}, {"": [1.0]},
                                   {3: [1.0]}])
def test_units_that_are_not_plain_arrays_are_refused(units: dict) -> None:
    with pytest.raises(BrainbenchError, match=r"[Pp]er-unit result"):
        encode_units(units)


def _pickled_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([{"a": 1}], dtype=object))  # numpy itself pickles object arrays into an .npz
    return buffer.getvalue()


def _one_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3))
    return buffer.getvalue()


@pytest.mark.parametrize("blob", [b"", b"not an npz", encode_units(UNITS)[:-40], pickle.dumps({"x": 1}),
                                  _pickled_npz(), _one_npy(),
                                  encode_units(UNITS)[:200] + bytes(100) + encode_units(UNITS)[300:]])
def test_a_damaged_blob_is_one_sentence(blob: bytes) -> None:
    with pytest.raises(BrainbenchError, match=r"^A record's stored per-unit results are damaged .*score the model"):
        decode_units(blob)


def test_units_text_that_is_not_base64_is_refused() -> None:
    with pytest.raises(BrainbenchError, match="not base64"):
        units_from_text("**not base64**")
    with pytest.raises(BrainbenchError, match="damaged"):
        units_from_text(base64.b64encode(b"nonsense").decode())


def test_units_are_stored_apart_and_read_only_when_asked(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([record("A.IT-neural", UNITS), record("B.IT-rsa")])
    plain = board.records()
    assert [r.units for r in plain] == [{}, {}]  # the ranking's read: no blob decoded
    full = board.records(with_units=True)
    assert_same_units(full[0].units, UNITS)
    assert full[1].units == {}
    assert [r.uid for r in full] == [r.uid for r in plain]
    (only,) = board.records(benchmark="A.IT-neural", with_units=True)
    assert_same_units(only.units, UNITS)
    with sqlite3.connect(board.path) as conn:  # one row per record that has units, none for the other
        assert conn.execute("SELECT uid FROM units").fetchall() == [(full[0].uid,)]
    conn.close()


def test_a_stored_uid_keeps_its_first_units(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    first = record(units={"r": np.float32([1.0])})
    board.append([first])
    again = ScoreRecord.from_dict({**first.to_dict(), "units": {"r": np.float32([2.0])}})
    assert board.import_records([again]) == 0
    assert board.records(with_units=True)[0].units["r"].tolist() == [1.0]


def test_import_keeps_units(tmp_path: Path) -> None:
    source = Leaderboard(tmp_path / "a.sqlite")
    source.append([record("A.IT-neural", UNITS), record("B.IT-rsa")])
    target = Leaderboard(tmp_path / "b.sqlite")
    assert target.import_records(source.records(with_units=True)) == 2
    moved = target.records(with_units=True)
    assert_same_units(moved[0].units, UNITS)
    assert moved[1].units == {}


def test_a_bad_unit_array_writes_nothing(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([record("A.IT-neural")])
    with pytest.raises(BrainbenchError, match="array of Python objects"):
        board.append([record("B.IT-neural"), record("C.IT-neural", {"x": np.array([None, 1], dtype=object)})])
    assert [r.benchmark for r in board.records()] == ["A.IT-neural"]


@pytest.fixture
def schema_2_file(tmp_path: Path) -> Path:
    path = tmp_path / "v2.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_2)
        conn.executemany(f"INSERT INTO records VALUES (NULL, {', '.join('?' * 18)})", ROWS_2)
    conn.close()
    return path


def test_schema_2_is_read_as_is_and_migrated_on_first_write_keeping_every_record(schema_2_file: Path) -> None:
    board = Leaderboard(schema_2_file)
    before_bytes = schema_2_file.read_bytes()
    old = board.records(with_units=True)  # a schema-2 file has no units table: read as no units, unchanged
    assert [r.uid for r in old] == [row[-1] for row in ROWS_2] and all(r.units == {} for r in old)
    assert schema_2_file.read_bytes() == before_bytes
    board.append([record("New.IT-neural", UNITS)])
    with sqlite3.connect(schema_2_file) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert [row[1] for row in conn.execute("PRAGMA table_info(units)")] == ["uid", "npz"]
    conn.close()
    stored = board.records(with_units=True)
    assert stored[:5] == old
    assert_same_units(stored[5].units, UNITS)


def test_a_failed_migration_to_schema_3_leaves_the_file_as_it_was(schema_2_file: Path) -> None:
    with sqlite3.connect(schema_2_file) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'refused'); END")
    conn.close()
    before = schema_2_file.read_bytes()
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        Leaderboard(schema_2_file).append([record(units=UNITS)])
    assert schema_2_file.read_bytes() == before


def test_a_writer_killed_after_inserting_units_leaves_no_unit_row_without_its_record(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    committed = [with_units(i, 0) for i in range(3)]
    board.append(committed)
    child = subprocess.run([sys.executable, str(Path(__file__).with_name("units_writer.py")), str(board.path), "6"],
                           capture_output=True)
    assert child.returncode == -9, child.stderr.decode()
    assert Path(f"{board.path}-journal").exists()  # the killed transaction reached the file: a rollback is needed
    stored = board.records(with_units=True)
    assert [r.uid for r in stored] == [r.uid for r in committed]
    for got, expected in zip(stored, committed, strict=True):
        assert_same_units(got.units, expected.units)
    with sqlite3.connect(board.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        orphans = conn.execute("SELECT count(*) FROM units WHERE uid NOT IN (SELECT uid FROM records)").fetchone()
        assert orphans == (0,)
        assert conn.execute("SELECT count(*) FROM units").fetchone() == (3,)
    conn.close()


def test_kept_records_keep_their_units(home: Path, tmp_path: Path) -> None:
    kept = unsaved.keep([record("A.IT-neural", UNITS), record("B.IT-rsa")], tmp_path / "board.sqlite")
    first, second = unsaved.read(kept)
    assert_same_units(first.units, UNITS)
    assert second.units == {}
    assert isinstance(json.loads(kept.read_text())["records"][0]["units"], str)  # base64 of the .npz
