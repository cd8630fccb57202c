"""A leaderboard writer run as a child process by test_units.py, killed (SIGKILL) inside its transaction.

``python units_writer.py DB N`` appends N records with large per-unit results (see :func:`with_units`) and kills
itself right after the last record's units row is inserted, before COMMIT: the records and units rows of the
transaction reach the file (more than SQLite's page cache) but never a commit.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid

import numpy as np

from brainbench.leaderboard import Leaderboard, ScoreRecord, store

UNIT_VALUES = 200_000  # float32 random values per record: ~0.8 MB blobs, so a few records spill the page cache


def with_units(index: int, batch: int) -> ScoreRecord:
    """Record ``index`` of ``batch`` with units that follow from the two numbers, so that a reader can check them."""
    rng = np.random.default_rng([batch, index])
    return ScoreRecord(
        model=f"units-{batch}", weights_digest=f"{batch:064x}", random_init=False, benchmark=f"Units.IT-{index}",
        benchmark_version=1, region="IT", raw=0.1, ceiling=0.5, ceiled=0.02, error=None, layer="l",
        brainbench_version="drill", seed=batch, device="cpu", started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00", details={"batch": batch, "index": index, "unit_test": "neural"},
        units={"values": rng.standard_normal(UNIT_VALUES).astype(np.float32), "index": np.int32([index])},
        uid=str(uuid.UUID(int=(batch << 32) | index)),
    )


def die_after_last_units_row(db: str, n: int) -> None:
    insert = store._insert
    done = []

    def insert_then_maybe_die(conn, row):
        result = insert(conn, row)
        done.append(row)
        if len(done) == n:
            assert conn.execute("SELECT count(*) FROM units").fetchone()[0] >= n  # the rows are in, uncommitted
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    store._insert = insert_then_maybe_die
    Leaderboard(db).append([with_units(i, 1) for i in range(n)])


if __name__ == "__main__":
    die_after_last_units_row(sys.argv[1], int(sys.argv[2]))
