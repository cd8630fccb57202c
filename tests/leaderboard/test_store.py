"""The append-only leaderboard store, its ranking and exports."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import REGIONS, Leaderboard, RankedModel, ScoreRecord
from brainbench.leaderboard.export import ranking_to_json, to_csv

DIGEST = "ab" * 32
RANDOM_DIGEST = "cd" * 32


def record(
    benchmark: str = "Kiani2007.IT-rsa",
    ceiled: float = 0.5,
    *,
    model: str = "A",
    region: str = "IT",
    version: int = 1,
    random_init: bool = False,
    digest: str = DIGEST,
    raw: float | None = None,
) -> ScoreRecord:
    return ScoreRecord(
        model=model,
        weights_digest=digest,
        random_init=random_init,
        benchmark=benchmark,
        benchmark_version=version,
        region=region,
        raw=ceiled * 0.8 if raw is None else raw,
        ceiling=0.8,
        ceiled=ceiled,
        error=0.01,
        layer="features.7",
        brainbench_version="0.1.0",
        seed=0,
        device="cpu",
        started_at="2024-05-01T12:00:00+00:00",
        finished_at="2024-05-01T12:01:30+00:00",
        details={"splits": [0.1, 0.2], "data": {"sha256": "ef" * 32}, "layers": {"IT": "features.7"}},
    )


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    return Leaderboard(tmp_path / "nested" / "dir" / "leaderboard.sqlite")


def test_record_round_trips_through_dict_json_and_store(board: Leaderboard) -> None:
    original = record()
    original.details["nested"] = {"per_split": [{"split": 0, "r": 0.3}], "none": None, "flag": True}
    as_json = json.loads(json.dumps(original.to_dict()))
    assert ScoreRecord.from_dict(as_json) == original

    (new_id,) = board.append([original])
    (stored,) = board.records()
    assert stored.id == new_id
    assert ScoreRecord.from_dict({**stored.to_dict(), "id": None}) == original
    assert stored.random_init is False
    assert stored.model_label == "A"
    assert record(random_init=True).model_label == "A (random-init)"


def test_rerun_appends_and_latest_picks_the_newest(board: Leaderboard) -> None:
    first = board.append([record(ceiled=0.4)])
    second = board.append([record(ceiled=0.6)])
    assert second[0] > first[0]
    assert [r.ceiled for r in board.records()] == [0.4, 0.6]
    assert [r.ceiled for r in board.latest()] == [0.6]


def test_newer_benchmark_version_outranks_later_run_of_older_version(board: Leaderboard) -> None:
    board.append([record(ceiled=0.7, version=2)])
    board.append([record(ceiled=0.2, version=1)])  # an old version run afterwards does not rank
    assert [(r.benchmark_version, r.ceiled) for r in board.latest()] == [(2, 0.7)]
    assert len(board.records()) == 2


def test_records_filters_by_model_and_benchmark(board: Leaderboard) -> None:
    board.append(
        [record("X.IT", model="A"), record("Y.V4", model="A", region="V4"), record("X.IT", model="B")]
    )
    assert [(r.model, r.benchmark) for r in board.records(model="A")] == [("A", "X.IT"), ("A", "Y.V4")]
    assert [r.model for r in board.records(benchmark="X.IT")] == ["A", "B"]
    assert [r.model for r in board.records(model="B", benchmark="X.IT")] == ["B"]


def test_ranking_matches_hand_computation(board: Leaderboard) -> None:
    board.append(
        [
            record("IT-1", 0.4),
            record("IT-2", 0.6),
            record("V4-1", 0.3, region="V4"),
            record("V1-1", 0.9, model="B", region="V1"),
            record("IT-1", 0.2, model="C"),
            record("V4-1", 0.3, model="C", region="V4"),
            record("behavior-1", 0.3, model="C", region="behavior"),
        ]
    )
    ranking = board.ranking()
    # C and A both average 0.8 / 5 (up to rounding): a tie, listed by regions scored (C has 3, A 2).
    assert [(m.rank, m.model) for m in ranking] == [(1, "B"), (2, "C"), (2, "A")]
    b, c, a = ranking
    # Means of stored values, summed in the store's order: an ulp or two. Stored values come back exactly.
    assert a.regions == {
        "V1": None,
        "V2": None,
        "V4": pytest.approx(0.3, abs=1e-15),
        "IT": pytest.approx(0.5, abs=1e-15),
        "behavior": None,
    }
    assert a.average == pytest.approx((0.5 + 0.3) / 5, abs=1e-15)  # 0.16: missing regions count as 0
    assert a.n_regions == 2
    assert a.benchmarks == {"IT-1": 0.4, "IT-2": 0.6, "V4-1": 0.3}
    assert b.average == pytest.approx(0.9 / 5, abs=1e-15)
    assert c.average == pytest.approx(0.8 / 5, abs=1e-15)
    assert list(a.regions) == list(REGIONS)


def test_ties_broken_by_region_count_then_label(board: Leaderboard) -> None:
    board.append(
        [
            record("IT-1", 0.5, model="one-region"),
            record("IT-1", 0.25, model="two-regions"),
            record("V4-1", 0.25, model="two-regions", region="V4"),
            record("IT-1", 0.5, model="also-one"),
        ]
    )
    assert [m.model for m in board.ranking()] == ["two-regions", "also-one", "one-region"]
    assert [m.rank for m in board.ranking()] == [1, 1, 1]  # all average 0.1: one shared rank


def test_random_init_model_ranks_separately(board: Leaderboard) -> None:
    board.append([record(ceiled=0.6), record(ceiled=0.1, random_init=True, digest=RANDOM_DIGEST)])
    trained, random = board.ranking()
    assert (trained.label, trained.random_init, trained.regions["IT"]) == ("A", False, 0.6)
    assert (random.label, random.random_init, random.regions["IT"]) == ("A (random-init)", True, 0.1)
    assert random.model == trained.model == "A"


def test_same_model_with_other_weights_gets_a_distinct_label(board: Leaderboard) -> None:
    board.append([record(ceiled=0.6), record(ceiled=0.5, digest="12" * 32)])
    labels = [m.label for m in board.ranking()]
    assert labels == [f"A [{DIGEST[:12]}]", f"A [{'12' * 6}]"]


def test_csv_and_json_export(board: Leaderboard) -> None:
    board.append([record("IT-1", 0.4), record("V4-1", 0.3, region="V4")])
    ranking = board.ranking()

    rows = list(csv.DictReader(io.StringIO(to_csv(ranking))))
    assert list(rows[0]) == [
        "rank",
        "model",
        "label",
        "weights_digest",
        "random_init",
        "visual_degrees",
        "layers",
        "preprocessing",
        *REGIONS,
        "average",
        "n_regions",
        *(f"{region}_benchmarks" for region in REGIONS),
        "not_averaged",
        "averaged_without_ceiling",
    ]
    (row,) = rows
    assert (row["rank"], row["model"], row["weights_digest"], row["n_regions"]) == ("1", "A", DIGEST, "2")
    assert (row["label"], float(row["visual_degrees"]), row["layers"], row["preprocessing"]) == ("A", 8.0, "", "")
    assert (row["V1"], row["V2"], row["behavior"]) == ("", "", "")
    assert float(row["IT"]) == 0.4 and float(row["V4"]) == 0.3  # exact: stored values, repr round trip
    assert float(row["average"]) == pytest.approx(0.7 / 5, abs=1e-15)
    assert (row["IT_benchmarks"], row["V4_benchmarks"], row["V1_benchmarks"], row["not_averaged"]) == (
        "IT-1", "V4-1", "", "")

    (entry,) = json.loads(json.dumps(ranking_to_json(ranking)))
    assert entry["regions"] == {"V1": None, "V2": None, "V4": 0.3, "IT": 0.4, "behavior": None}
    assert entry["benchmarks"] == {"IT-1": 0.4, "V4-1": 0.3}
    assert RankedModel(**entry) == ranking[0]


@pytest.mark.parametrize("field", ["raw", "ceiled", "ceiling", "error"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_score_refused_and_nothing_written(board: Leaderboard, field: str, bad: float) -> None:
    board.append([record("IT-1")])
    broken = record("Broken.IT-rsa")
    setattr(broken, field, bad)
    with pytest.raises(BrainbenchError, match=r"Broken\.IT-rsa"):
        board.append([record("IT-2"), broken])  # the valid one in the same batch is not written either
    assert [r.benchmark for r in board.records()] == ["IT-1"]


@pytest.mark.parametrize(
    ("changes", "match"),
    [({"model": " "}, "empty model"), ({"benchmark": ""}, "empty benchmark"), ({"region": ""}, "has region ''"),
     ({"details": {"column": "V3"}}, "feeds column 'V3'")],  # a region is free text; a column is one of REGIONS
)
def test_invalid_record_refused_without_creating_the_file(
    board: Leaderboard, changes: dict, match: str
) -> None:
    with pytest.raises(BrainbenchError, match=match):
        board.append([ScoreRecord.from_dict({**record().to_dict(), **changes})])
    assert not board.path.parent.exists()


def test_failed_transaction_writes_nothing(board: Leaderboard) -> None:
    board.append([record("IT-1")])
    unserialisable = record("IT-2")
    unserialisable.details["oops"] = object()
    with pytest.raises(TypeError):
        board.append([record("IT-3"), unserialisable])
    assert [r.benchmark for r in board.records()] == ["IT-1"]


def test_garbage_file_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "scores.sqlite"
    path.write_bytes(b"not a database")
    board = Leaderboard(path)
    for action in (board.records, board.ranking, lambda: board.append([record()])):
        with pytest.raises(BrainbenchError, match=r"is not a brainbench leaderboard.*--leaderboard PATH"):
            action()
    assert path.read_bytes() == b"not a database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.sqlite"]


def test_foreign_sqlite_file_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE records (x INTEGER)")
    before = path.read_bytes()
    board = Leaderboard(path)
    for action in (board.records, lambda: board.append([record()])):
        with pytest.raises(BrainbenchError, match="is not a brainbench leaderboard"):
            action()
    assert path.read_bytes() == before


def test_newer_schema_refused(board: Leaderboard) -> None:
    board.append([record()])
    with sqlite3.connect(board.path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    before = board.path.read_bytes()
    with pytest.raises(BrainbenchError, match=r"newer brainbench.*upgrade brainbench"):
        board.records()
    with pytest.raises(BrainbenchError, match="newer brainbench"):
        board.append([record()])
    assert board.path.read_bytes() == before


def test_reading_a_missing_leaderboard_creates_nothing(board: Leaderboard) -> None:
    assert board.records() == []
    assert board.latest() == []
    assert board.ranking() == []
    assert board.append([]) == []
    assert not board.path.parent.parent.exists()


def test_default_path_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAINBENCH_LEADERBOARD", str(tmp_path / "env.sqlite"))
    assert Leaderboard().path == tmp_path / "env.sqlite"
