"""The reduction cache's folder: exact round trips, checks on read, the size bound, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from brainbench.errors import BrainbenchError
from brainbench.reductions.store import DEFAULT_LIMIT, ReductionStore, cache_limit

FIELDS = {"kind": "rdm", "layer": "3", "model": {"identifier": "m", "weights_digest": "ab"}}


def _store(tmp_path: Path, limit: int = 2**30) -> ReductionStore:
    return ReductionStore(tmp_path / "reductions", limit)


def test_key_is_the_sha256_of_canonical_json_whatever_the_order() -> None:
    reordered = {"model": {"weights_digest": "ab", "identifier": "m"}, "layer": "3", "kind": "rdm"}
    canonical = '{"kind":"rdm","layer":"3","model":{"identifier":"m","weights_digest":"ab"}}'
    assert ReductionStore.key(reordered) == ReductionStore.key(FIELDS) == hashlib.sha256(canonical.encode()).hexdigest()
    assert ReductionStore.key({**FIELDS, "layer": "5"}) != ReductionStore.key(FIELDS)


def test_round_trip_is_exact_and_counts_hits_and_misses(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.get(FIELDS) is None
    value = np.random.default_rng(0).standard_normal((17, 17))  # float64 as a Gram is kept
    store.put(FIELDS, {"value": value, "ids": np.arange(5, dtype=np.int32)})
    read = store.get(FIELDS)
    assert read is not None and read["value"].dtype == np.float64 and read["ids"].dtype == np.int32
    assert np.array_equal(read["value"], value) and np.array_equal(read["ids"], np.arange(5))
    assert (store.hits, store.misses) == (1, 1)
    sidecar = json.loads((store.folder / f"{store.key(FIELDS)}.json").read_text())
    entry = (store.folder / f"{store.key(FIELDS)}.npz").read_bytes()
    assert sidecar["sha256"] == hashlib.sha256(entry).hexdigest() and sidecar["fields"] == FIELDS
    assert [e.fields for e in store.entries()] == [FIELDS]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "no checksum"])
def test_a_damaged_entry_is_a_miss_with_one_warning_and_is_replaced(tmp_path: Path, damage: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    store = _store(tmp_path)
    value = np.arange(1000, dtype=np.float64)
    store.put(FIELDS, {"value": value})
    data = store.folder / f"{store.key(FIELDS)}.npz"
    content = bytearray(data.read_bytes())
    if damage == "flipped byte":
        content[-100] ^= 0xFF  # inside the array's bytes: np.load alone would not notice
        data.write_bytes(bytes(content))
    elif damage == "truncated":
        data.write_bytes(bytes(content[: len(content) // 2]))
    else:
        data.with_suffix(".json").unlink()
    with caplog.at_level(logging.WARNING, logger="brainbench.reductions"):
        assert store.get(FIELDS) is None
    (warning,) = [r for r in caplog.records if r.name == "brainbench.reductions"]
    assert str(data) in warning.getMessage() and "computing it again" in warning.getMessage()
    store.put(FIELDS, {"value": value})  # what the caller does after a miss
    read = store.get(FIELDS)
    assert read is not None and np.array_equal(read["value"], value)


def test_eviction_keeps_the_most_recently_used_within_the_bound(tmp_path: Path) -> None:
    one_entry = len(_npz_bytes()) + 400  # the array file plus its json sidecar, roughly
    store = _store(tmp_path, limit=3 * one_entry)
    for i, name in enumerate("abc"):
        store.put({"layer": name}, {"value": np.full(1000, i, dtype=np.float64)})
        os.utime(store.folder / f"{store.key({'layer': name})}.npz", (1000.0 + i, 1000.0 + i))  # a, then b, then c
    assert store.get({"layer": "a"}) is not None  # a read makes 'a' the most recently used
    store.put({"layer": "d"}, {"value": np.full(1000, 3, dtype=np.float64)})
    kept = {entry.fields["layer"] for entry in store.entries()}
    assert kept == {"a", "c", "d"}, "the least recently used entry, b, goes first"
    assert sum(entry.size for entry in store.entries()) <= store.limit


def _npz_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, value=np.zeros(1000))
    return buffer.getvalue()


def test_an_entry_larger_than_the_bound_is_not_kept(tmp_path: Path) -> None:
    store = _store(tmp_path, limit=1000)
    store.put(FIELDS, {"value": np.zeros(1000)})
    assert store.entries() == [] and store.get(FIELDS) is None


@pytest.mark.parametrize(("text", "expected"), [("", DEFAULT_LIMIT), ("0", 0), ("5GB", 5 * 2**30),
                                                ("500M", 500 * 2**20), ("1.5 GiB", int(1.5 * 2**30)), ("2048", 2048)])
def test_cache_size_from_the_environment(monkeypatch: pytest.MonkeyPatch, text: str, expected: int) -> None:
    monkeypatch.setenv("BRAINBENCH_CACHE_SIZE", text)
    assert cache_limit() == expected


def test_a_bad_cache_size_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAINBENCH_CACHE_SIZE", "lots")
    with pytest.raises(BrainbenchError, match="BRAINBENCH_CACHE_SIZE must be a size such as 5GB"):
        cache_limit()


_WRITER = """
import sys, time
from pathlib import Path
import numpy as np
from brainbench.reductions.store import ReductionStore
folder, go = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
store = ReductionStore(folder, 2**30)
value = np.arange(4_000_000, dtype=np.float64)  # 32 MB: long enough to write for the two writers to overlap
for _ in range(3):
    store.put({"kind": "rdm", "layer": "shared"}, {"value": value})
"""


def test_two_processes_writing_one_key_leave_one_verified_copy(tmp_path: Path) -> None:
    folder, go = tmp_path / "reductions", tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(folder), str(go)]) for _ in range(2)]
    time.sleep(0.5)  # both started (importing NumPy) before either may write; the writes then interleave
    go.touch()
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    store = ReductionStore(folder, 2**30)
    fields = {"kind": "rdm", "layer": "shared"}
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{store.key(fields)}.npz", f"{store.key(fields)}.json"])
    read = store.get(fields)
    assert read is not None and np.array_equal(read["value"], np.arange(4_000_000, dtype=np.float64))
