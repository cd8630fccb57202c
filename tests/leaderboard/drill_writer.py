"""A leaderboard writer run as a child process by the drills in test_recovery.py (which may kill it).

``python drill_writer.py DB FIRST_BATCH N_BATCHES BATCH_SIZE [GO_FILE]`` waits for GO_FILE (if given), then
appends batches FIRST_BATCH, FIRST_BATCH + 1, ... of BATCH_SIZE records (see :func:`make`), one transaction
each, printing each batch's number once it is committed.

``python drill_writer.py DB --hot`` starts a write transaction that changes most of the file's pages (more
than SQLite's page cache holds, so the file itself is written), then kills itself with SIGKILL: it leaves a
hot journal that only a rollback can undo.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
import uuid
from pathlib import Path

from brainbench.leaderboard import Leaderboard, ScoreRecord

PADDING = 20_000  # characters of details per record: a batch of 150 (3 MB) spills SQLite's 2 MiB page cache


def make(batch: int, index: int) -> ScoreRecord:
    """Record ``index`` of ``batch``: every field follows from the two numbers, so a reader can check it."""
    return ScoreRecord(
        model=f"drill-{batch}",
        weights_digest=f"{batch:064x}",
        random_init=False,
        benchmark=f"Drill.IT-{index}",
        benchmark_version=1,
        region="IT",
        raw=index / 7,
        ceiling=0.5,
        ceiled=2 * index / 7,
        error=None,
        layer=f"layer{index % 5}",
        brainbench_version="drill",
        seed=batch,
        device="cpu",
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
        details={"batch": batch, "index": index, "padding": "x" * PADDING},
        uid=str(uuid.UUID(int=(batch << 32) | index)),
    )


def write_batches(db: str, first: int, count: int, size: int, go: str | None) -> None:
    while go is not None and not Path(go).exists():
        time.sleep(0.001)
    board = Leaderboard(db)
    for batch in range(first, first + count):
        board.append([make(batch, i) for i in range(size)])
        print(batch, flush=True)


def die_mid_transaction(db: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE junk (x BLOB)")
    conn.execute("UPDATE meta SET value = 'junk'")
    for _ in range(4000):
        conn.execute("INSERT INTO junk VALUES (randomblob(1000))")
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    if sys.argv[2] == "--hot":
        die_mid_transaction(sys.argv[1])
    else:
        db, first, count, size, *go = sys.argv[1:]
        write_batches(db, int(first), int(count), int(size), go[0] if go else None)
