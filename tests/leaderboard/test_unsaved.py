"""Scores the leaderboard refused are kept whole in a JSON file, and read back with their uids."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import ScoreRecord, unsaved


def record(benchmark: str) -> ScoreRecord:
    return ScoreRecord(
        model="tinycnn", weights_digest="7f" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region="IT", raw=0.2, ceiling=0.8, ceiled=0.25, error=0.01, layer="3", brainbench_version="0.1.0", seed=0,
        device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
        details={"model": {"visual_degrees": 10.0, "layers_given": True}, "splits": [0.1, 0.2]},
    )


def test_kept_records_read_back_equal_with_their_uids(home: Path, tmp_path: Path) -> None:
    records = [record("A.IT-rsa"), record("B.IT-rsa")]
    kept = unsaved.keep(records, tmp_path / "board.sqlite")
    assert kept.parent == home / "unsaved" and kept.suffix == ".json"
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary file left beside it
    assert json.loads(kept.read_text())["leaderboard"] == str(tmp_path / "board.sqlite")
    assert unsaved.read(kept) == records


def test_kept_in_the_temporary_folder_when_home_cannot_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("BRAINBENCH_HOME", str(blocker / "home"))  # under a file: no folder can be made there
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "system-temp"))
    kept = unsaved.keep([record("A.IT-rsa")], tmp_path / "board.sqlite")
    assert kept.parent == tmp_path / "system-temp" / "brainbench-unsaved"
    assert [r.benchmark for r in unsaved.read(kept)] == ["A.IT-rsa"]


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"format": "brainbench score records", "records": [{"model": "x"}]}',
     '{"format": "something else", "records": []}'],
)
def test_a_file_that_is_not_kept_records_is_refused_in_one_sentence(tmp_path: Path, content: str) -> None:
    path = tmp_path / "scores.json"
    path.write_text(content)
    with pytest.raises(BrainbenchError, match=r"is not a file of brainbench score records .*`brainbench score`"):
        unsaved.read(path)
