"""Drills: writers killed mid-commit, many writers at once, and leaderboards that may not be written."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from drill_writer import make

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord

WRITER = Path(__file__).with_name("drill_writer.py")
BASE = 40  # records on the leaderboard before a drill (batch 0)


def writer(db: Path, *args: object) -> list[str]:
    return [sys.executable, str(WRITER), str(db), *(str(a) for a in args)]


def journal(db: Path) -> Path:
    return db.with_name(db.name + "-journal")


def is_hot(db: Path) -> bool:
    """A journal SQLite would roll back: present, and not zeroed in its first byte (SQLite's own test)."""
    try:
        return journal(db).read_bytes()[:1] not in (b"", b"\0")
    except FileNotFoundError:
        return False


def integrity(db: Path) -> str:
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def same(stored: ScoreRecord, expected: ScoreRecord) -> bool:
    return ScoreRecord.from_dict({**stored.to_dict(), "id": None}) == expected


def batches_of(records: list[ScoreRecord]) -> dict[int, list[ScoreRecord]]:
    by_batch: dict[int, list[ScoreRecord]] = defaultdict(list)
    for r in records:
        by_batch[r.details["batch"]].append(r)
    return by_batch


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    folder = tmp_path / "lab"
    folder.mkdir()
    board = Leaderboard(folder / "leaderboard.sqlite")
    board.append([make(0, i) for i in range(BASE)])
    return board


def kill_mid_transaction(board: Leaderboard) -> None:
    """A writer child that changes most pages of the file and is killed (SIGKILL) before it commits."""
    died = subprocess.run(writer(board.path, "--hot"), capture_output=True)
    assert died.returncode == -9, died.stderr.decode()
    assert is_hot(board.path)


def test_reads_roll_back_the_hot_journal_of_a_killed_writer(board: Leaderboard, cli) -> None:
    before = board.records()
    kill_mid_transaction(board)
    # Without the rollback the file is unreadable here (its first page is the killed writer's).
    ranking = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json").stdout)
    assert len(ranking) == 1 and ranking[0]["model"] == "drill-0"
    assert not journal(board.path).exists()
    assert board.records() == before
    assert integrity(board.path) == "ok"
    with sqlite3.connect(board.path) as conn:
        assert "junk" not in {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}


def test_score_precheck_rolls_back_a_hot_journal_too(board: Leaderboard) -> None:
    kill_mid_transaction(board)
    board.check_writable()
    assert not journal(board.path).exists()
    assert len(board.records()) == BASE


@pytest.mark.parametrize("protected", ["file", "folder"])
def test_hot_journal_that_cannot_be_rolled_back_names_cause_and_fix(board: Leaderboard, read_only, protected) -> None:
    before = board.records()
    kill_mid_transaction(board)
    with read_only(board.path if protected == "file" else board.path.parent):
        for action in (board.records, board.check_writable, lambda: board.append([make(1, 0)])):
            with pytest.raises(BrainbenchError, match=r"unfinished write of a process that was stopped") as caught:
                action()
            message = str(caught.value)
            assert "leaderboard.sqlite-journal" in message and "write access to the file and its folder" in message
            assert f"brainbench leaderboard --leaderboard {board.path}" in message
        assert journal(board.path).exists()  # never deleted: that would lose the rollback
    assert board.records() == before  # once writable, the first read recovers
    assert not journal(board.path).exists()


def test_read_only_leaderboard_in_a_read_only_folder_is_read_and_refused_before_work(
    board: Leaderboard, read_only, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lab's shared leaderboard, 0444 in a 0555 folder: reading works; scoring into it fails before any work."""
    from brainbench.benchmarks import scoring  # torch: imported only by the test that scores

    before = board.records()

    def no_model_work(*args, **kwargs):
        raise AssertionError("model work started before the leaderboard was checked")

    monkeypatch.setattr(scoring, "_session", no_model_work)
    with read_only(board.path, board.path.parent):
        assert board.records() == before
        shown = cli("leaderboard", "--leaderboard", board.path, "--csv")
        assert shown.exit_code == 0 and shown.stdout.count("\n") == 2, shown.stderr
        scored = cli("score", "timm:resnet18", "--random-init", "-b", "Kiani2007.IT-rsa", "--leaderboard", board.path)
        assert scored.exit_code == 1
        assert scored.stderr.startswith(f"error: The leaderboard {board.path} cannot be written (")
        assert scored.stderr.rstrip().endswith("or score with --no-save.")
    assert sorted(p.name for p in board.path.parent.iterdir()) == ["leaderboard.sqlite"]


def test_new_leaderboard_in_a_read_only_folder_is_refused_before_work(tmp_path: Path, read_only) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    board = Leaderboard(folder / "not-yet" / "leaderboard.sqlite")
    with read_only(folder), pytest.raises(BrainbenchError, match=rf"cannot be written \({folder}: "):
        board.check_writable()
    assert list(folder.iterdir()) == []


def journal_state(db: Path) -> tuple[int, int, int] | None:
    try:
        stat = journal(db).stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def test_writer_killed_at_random_moments_loses_no_committed_record(board: Leaderboard) -> None:
    """kill -9 of a writer of 3 MB transactions at a random moment after its journal appears (mid-transaction
    or mid-commit), until 6 kills have left a hot journal; after each, a read works and every committed batch
    is there in full and unchanged, and no other batch is there at all."""
    rng = random.Random(0)
    committed = {0}  # batches a writer reported committed
    hot = kills = 0
    while hot < 6:
        kills += 1
        assert kills <= 40, f"only {hot} of {kills - 1} kills left a hot journal"
        stale = journal_state(board.path)  # a journal killed before its first sync stays behind, not hot
        child = subprocess.Popen(writer(board.path, 1000 * kills, 100, 150), stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while journal_state(board.path) in (None, stale):
            assert child.poll() is None and time.monotonic() < deadline, "the writer never started a transaction"
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.08))  # within about one transaction, from its first write to its commit
        child.kill()
        committed |= {int(line) for line in child.communicate()[0].split()}
        hot += is_hot(board.path)

        stored = batches_of(board.records())  # a read-only connection: must roll back a hot journal first
        assert committed <= set(stored)
        for batch, records in stored.items():  # each transaction all or nothing, and intact
            size = BASE if batch == 0 else 150
            assert len(records) == size and all(same(r, make(batch, i)) for i, r in enumerate(records))
        assert integrity(board.path) == "ok"
        assert not is_hot(board.path)  # a journal killed before its header was written is left as SQLite leaves it


def test_eight_concurrent_writers_all_land(tmp_path: Path) -> None:
    db = tmp_path / "leaderboard.sqlite"
    go = tmp_path / "go"
    children = [subprocess.Popen(writer(db, 100 * k, 5, 4, go), stdout=subprocess.PIPE, text=True)
                for k in range(1, 9)]
    go.touch()  # all start writing at once
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0] * 8
    assert all(len(out.split()) == 5 for out in outputs)
    stored = Leaderboard(db).records()
    assert len(stored) == 8 * 5 * 4
    assert len({r.id for r in stored}) == len({r.uid for r in stored}) == 160
    batches = [b for k in range(1, 9) for b in range(100 * k, 100 * k + 5)]
    expected = {r.uid: r for b in batches for r in map(make, [b] * 4, range(4))}
    assert all(same(r, expected[r.uid]) for r in stored)
    assert integrity(db) == "ok"
