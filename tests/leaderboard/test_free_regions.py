"""Free region names (EVC, FFA, hV4, ...) end to end: from a benchmark TOML's region and column to the record,
the store, `leaderboard import`, the ranking and every export (table, CSV, long CSV, JSON)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from brainbench.benchmarks.spec import BenchmarkSpec, list_benchmarks
from brainbench.leaderboard import Leaderboard, ScoreRecord, unsaved

#: (id, region, column line of the TOML, ceiling): user benchmarks beside a built-in-style IT one.
BENCHMARKS = [
    ("MyLab.EVC-rsa", "EVC", 'column = "V1"', 0.1589),  # a free region feeding a column it names: averaged
    ("MyLab.FFA-rsa", "FFA", "", 0.5),  # a free region naming no column: shown, not averaged, even ceiled
    ("MyLab.hV4-pls", "hV4", 'column = "V4"', None),  # no ceiling, but its TOML names the column: averaged, marked *
    ("MyLab.IT-rsa", "IT", 'column = "none"', 0.6),  # an IT benchmark kept out of the IT column by its TOML
    ("Lab2008.IT-rsa", "IT", "", 0.66),  # the default: its region, being a column, and ceiled
]
CEILED = {"MyLab.EVC-rsa": 0.25, "MyLab.FFA-rsa": 0.5, "MyLab.hV4-pls": 0.125, "MyLab.IT-rsa": 0.75,
          "Lab2008.IT-rsa": 0.375}  # binary fractions: their sums and means below are exact in floating point


def _specs(folder: Path) -> dict[str, BenchmarkSpec]:
    """The benchmarks as TOMLs in a --definitions folder, read by `list_benchmarks`."""
    (folder / "benchmarks").mkdir(parents=True)
    for benchmark, region, column, _ in BENCHMARKS:
        (folder / "benchmarks" / f"{benchmark}.toml").write_text(
            f'id = "{benchmark}"\nversion = 1\nkind = "rsa"\nregion = "{region}"\ndataset = "d"\nassembly = "a"\n'
            f"stimulus_degrees = 8\n{column}\n")
    return list_benchmarks([folder])


def _record(spec: BenchmarkSpec, ceiling: float | None) -> ScoreRecord:
    """A record as `score` writes it: the benchmark's region, and details['column'] by `BenchmarkSpec.feeds`."""
    ceiled = CEILED[spec.id]
    return ScoreRecord(
        model="tinycnn", weights_digest="7f" * 32, random_init=False, benchmark=spec.id, benchmark_version=1,
        region=spec.region, raw=ceiled if ceiling is None else ceiled * ceiling, ceiling=ceiling, ceiled=ceiled,
        error=None, layer="3", brainbench_version="0.1.0", seed=0, device="cpu",
        started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
        details={"column": spec.feeds(ceiling), "column_explicit": spec.column is not None,
                 "model": {"visual_degrees": 8.0}},
    )


@pytest.fixture
def board(home: Path, tmp_path: Path) -> Leaderboard:
    """A leaderboard holding the BENCHMARKS' records, brought in with `leaderboard import` (its validation)."""
    specs = _specs(tmp_path / "defs")
    path = tmp_path / "board.sqlite"
    kept = unsaved.keep([_record(specs[b], ceiling) for b, _, _, ceiling in BENCHMARKS], path)
    assert Leaderboard(path).import_records(unsaved.read(kept)) == len(BENCHMARKS)
    return Leaderboard(path)


def test_free_regions_are_kept_and_feed_only_the_columns_they_should(board: Leaderboard) -> None:
    assert {r.benchmark: r.region for r in board.records()} == {b: region for b, region, _, _ in BENCHMARKS}
    (row,) = board.ranking()
    # Means of one stored value each: exact.
    assert row.regions == {"V1": 0.25, "V2": None, "V4": 0.125, "IT": 0.375, "behavior": None}
    assert row.average == (0.25 + 0.125 + 0.375) / 5  # exact: binary fractions
    assert row.columns == {"V1": ["MyLab.EVC-rsa"], "V2": [], "V4": ["MyLab.hV4-pls"], "IT": ["Lab2008.IT-rsa"],
                           "behavior": []}
    assert row.not_averaged == ["MyLab.FFA-rsa", "MyLab.IT-rsa"]
    assert row.averaged_without_ceiling == ["MyLab.hV4-pls"]
    assert {b: s.region for b, s in row.scores.items()} == {b: region for b, region, _, _ in BENCHMARKS}


def test_the_table_marks_what_is_averaged_without_a_ceiling_and_what_is_not_averaged(board: Leaderboard,
                                                                                   cli) -> None:
    wide = cli("leaderboard", "--leaderboard", board.path, "--benchmarks", env={"COLUMNS": "300"})
    assert wide.exit_code == 0, wide.stderr
    (line,) = [row for row in wide.stdout.splitlines() if "tinycnn" in row]
    cells = line.split()
    # rank, model, V1 V2 V4 IT behavior, average, then the benchmarks sorted by id
    assert cells[2:8] == ["0.250", "–", "0.125*", "0.375", "–", "0.150"]
    assert cells[8:] == ["0.375", "0.250", "0.500†", "0.750†", "0.125*"]
    assert "† shown, not averaged" in wide.stdout and "* no noise ceiling, averaged" in wide.stdout

    long = cli("leaderboard", "--leaderboard", board.path, "--long", env={"COLUMNS": "120"})
    assert long.exit_code == 0, long.stderr
    rows = {line.split()[0]: line.split()[1:] for line in long.stdout.splitlines()
            if line.strip().startswith(("MyLab.", "Lab2008."))}
    assert rows["MyLab.EVC-rsa"][:2] == ["V1", "0.250"] and rows["MyLab.FFA-rsa"][:2] == ["–", "0.500†"]
    assert rows["MyLab.hV4-pls"][:2] == ["V4", "0.125*"] and rows["MyLab.IT-rsa"][:2] == ["–", "0.750†"]


def test_csv_and_json_carry_regions_columns_and_marks(board: Leaderboard, cli) -> None:
    (line,) = csv.DictReader(io.StringIO(cli("leaderboard", "--leaderboard", board.path, "--csv").stdout))
    assert (line["V1_benchmarks"], line["V4_benchmarks"], line["IT_benchmarks"]) == (
        "MyLab.EVC-rsa", "MyLab.hV4-pls", "Lab2008.IT-rsa")
    assert line["not_averaged"] == "MyLab.FFA-rsa;MyLab.IT-rsa" and line["averaged_without_ceiling"] == "MyLab.hV4-pls"
    assert float(line["V4"]) == 0.125 and float(line["average"]) == 0.15  # shortest repr round-trips exactly

    long_csv = list(csv.DictReader(io.StringIO(cli("leaderboard", "--leaderboard", board.path, "--long",
                                                   "--csv").stdout)))
    assert {r["benchmark"]: (r["region"], r["column"], r["ceiling"]) for r in long_csv} == {
        "Lab2008.IT-rsa": ("IT", "IT", "0.66"), "MyLab.EVC-rsa": ("EVC", "V1", "0.1589"),
        "MyLab.FFA-rsa": ("FFA", "", "0.5"), "MyLab.IT-rsa": ("IT", "", "0.6"), "MyLab.hV4-pls": ("hV4", "V4", "")}

    long_json = json.loads(cli("leaderboard", "--leaderboard", board.path, "--long", "--json").stdout)
    assert {r["benchmark"]: (r["region"], r["column"]) for r in long_json}["MyLab.FFA-rsa"] == ("FFA", None)
    (entry,) = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json", "--benchmarks").stdout)
    assert entry["averaged_without_ceiling"] == ["MyLab.hV4-pls"]
    assert entry["scores"]["MyLab.EVC-rsa"]["region"] == "EVC" and entry["scores"]["MyLab.EVC-rsa"]["column"] == "V1"


@pytest.mark.parametrize(("change", "message"), [
    ({"region": ""}, "has region ''; name the benchmark's brain region"),
    ({"region": None}, "has region None; name the benchmark's brain region"),
    ({"details": {"column": "EVC"}}, "feeds column 'EVC', which is not one of V1, V2, V4, IT, behavior"),
])
def test_import_refuses_an_empty_region_or_a_column_that_is_not_one(home: Path, tmp_path: Path, cli, change: dict,
                                                                    message: str) -> None:
    specs = _specs(tmp_path / "defs")
    path = tmp_path / "board.sqlite"
    kept = unsaved.keep([_record(specs["MyLab.EVC-rsa"], 0.1589)], path)
    data = json.loads(kept.read_text())
    data["records"][0] |= change
    kept.write_text(json.dumps(data))
    result = cli("leaderboard", "import", kept, "--leaderboard", path)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line, line
    assert not path.exists() or Leaderboard(path).records() == []
