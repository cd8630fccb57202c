"""A file of kept records is user-editable: `leaderboard import` refuses a record the store or the ranking cannot
take, in one sentence, before anything is written (the file is append-only: a bad record would stay for good)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord, unsaved


def record(benchmark: str = "A.IT-rsa") -> ScoreRecord:
    return ScoreRecord(
        model="tinycnn", weights_digest="7f" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region="IT", raw=0.2, ceiling=0.8, ceiled=0.25, error=0.01, layer="3", brainbench_version="0.1.0", seed=0,
        device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
        details={"model": {"visual_degrees": 8.0}},
    )


BAD_FIELDS = [
    ({"details": []}, r"details = \[\], which is not a JSON object"),  # stored, then every ranking failed on it
    ({"benchmark_version": "2"}, "benchmark_version = '2', which is not a whole number"),
    ({"seed": None}, "seed = None, which is not a whole number"),
    ({"weights_digest": None}, "weights_digest = None, which is not text"),
    ({"layer": 3}, "layer = 3, which is not text or null"),
    ({"random_init": "no"}, "random_init = 'no', which is not true or false"),
    ({"ceiling": -0.2, "ceiled": -0.25}, r"a ceiling of -0.2 \(≤ 0\), from which no ceiled score is defined"),
    ({"ceiling": 0.0}, r"a ceiling of 0.0 \(≤ 0\)"),
]


@pytest.mark.parametrize(("change", "match"), BAD_FIELDS)
def test_import_refuses_a_mistyped_record_in_one_line_and_writes_nothing(cli, tmp_path: Path, change: dict,
                                                                         match: str) -> None:
    board = tmp_path / "board.sqlite"
    Leaderboard(board).append([record("Stored.IT-rsa")])
    kept = unsaved.keep([record("Good.IT-rsa"), record()], board)
    data = json.loads(kept.read_text())
    data["records"][1] |= change
    kept.write_text(json.dumps(data))

    result = cli("leaderboard", "import", kept, "--leaderboard", board)
    assert result.exit_code == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and "unexpected" not in line
    assert re.search(match, line), line
    assert [r.benchmark for r in Leaderboard(board).records()] == ["Stored.IT-rsa"]  # not even the good one
    shown = cli("leaderboard", "--leaderboard", board, "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)[0]["model"] == "tinycnn"


def test_numpy_integers_and_booleans_from_the_python_api_are_taken(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    given = ScoreRecord.from_dict({**record().to_dict(), "seed": np.int64(3), "benchmark_version": np.int32(2),
                                   "random_init": np.bool_(False)})
    (record_id,) = board.append([given])
    (stored,) = board.records()
    assert (stored.id, stored.seed, stored.benchmark_version, stored.random_init) == (record_id, 3, 2, False)


def test_a_ceiling_at_or_below_zero_is_refused_through_the_python_api_too(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    with pytest.raises(BrainbenchError, match=r"ceiling of -0\.01 \(≤ 0\)"):
        board.append([ScoreRecord.from_dict({**record().to_dict(), "ceiling": -0.01})])
    assert not board.path.exists()
