"""Region columns average ceiled scores only: which benchmarks feed which column, in the ranking and its exports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord
from brainbench.leaderboard.export import to_csv
from brainbench.leaderboard.ranking import column_of


def record(benchmark: str, ceiled: float, ceiling: float | None, region: str = "IT",
           **column: Any) -> ScoreRecord:
    """A record as `score` writes it (``column``: details['column'] and ['column_explicit']) or, without
    ``column``, as records were written before the column was recorded."""
    details = {"column": column["column"], "column_explicit": column["explicit"]} if column else {}
    return ScoreRecord(
        model="m", weights_digest="ab" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region=region, raw=ceiled, ceiling=ceiling, ceiled=ceiled, error=None, layer="3", brainbench_version="0.1.0",
        seed=0, device="cpu", started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:09+00:00",
        details=details,
    )


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    return Leaderboard(tmp_path / "board.sqlite")


def test_a_column_averages_only_ceiled_scores(board: Leaderboard) -> None:
    """The issue's case: Kiani2007 (one group RDM, no ceiling) was averaged into IT with Kriegeskorte2008's
    ceiled value; now IT is Kriegeskorte2008's alone and Kiani2007 is shown beside it."""
    board.append([record("Kiani2007.IT-rsa", 0.45, None, column=None, explicit=False),
                  record("Kriegeskorte2008.IT-rsa", 0.32, 0.66, column="IT", explicit=False),
                  record("Geirhos2019.cue_conflict-shape_bias", 0.7, None, region="behavior", column=None,
                         explicit=False)])
    (row,) = board.ranking()
    assert row.regions["IT"] == 0.32 and row.regions["behavior"] is None  # a stored value itself: exact
    assert row.average == pytest.approx(0.32 / 5, abs=1e-16)  # one division
    assert row.benchmarks == {"Geirhos2019.cue_conflict-shape_bias": 0.7, "Kiani2007.IT-rsa": 0.45,
                              "Kriegeskorte2008.IT-rsa": 0.32}
    assert row.columns["IT"] == ["Kriegeskorte2008.IT-rsa"] and row.columns["behavior"] == []
    assert row.not_averaged == ["Geirhos2019.cue_conflict-shape_bias", "Kiani2007.IT-rsa"]
    assert row.averaged_without_ceiling == [] and row.n_regions == 1


def test_records_written_before_the_column_was_recorded_feed_their_region_only_when_ceiled() -> None:
    assert column_of(record("Old.IT-rsa", 0.4, 0.7)) == "IT"
    assert column_of(record("Old.IT-rsa", 0.4, None)) is None


def test_a_definition_can_name_the_column_of_an_unceiled_benchmark_and_the_table_marks_it(board: Leaderboard,
                                                                                         cli) -> None:
    board.append([record("Lab.V1-rsa", 0.2, None, region="V1", column="V1", explicit=True),
                  record("Kiani2007.IT-rsa", 0.45, None, column=None, explicit=False),
                  record("Skipped.V4-pls", 0.9, 0.8, region="V4", column=None, explicit=True)])
    (row,) = board.ranking()
    assert row.regions == {"V1": 0.2, "V2": None, "V4": None, "IT": None, "behavior": None}  # stored values: exact
    assert row.averaged_without_ceiling == ["Lab.V1-rsa"]
    assert row.not_averaged == ["Kiani2007.IT-rsa", "Skipped.V4-pls"]  # column = "none" leaves even a ceiled one out

    table = cli("leaderboard", "--leaderboard", board.path, "--benchmarks")
    assert table.exit_code == 0, table.stderr
    assert "0.200*" in table.stdout and "0.450†" in table.stdout and "0.900†" in table.stdout
    legend = [line for line in table.stdout.splitlines() if line.startswith("† ")]
    assert legend == ['† shown, not averaged into a column (no noise ceiling, or column = "none"); * no noise '
                      "ceiling, averaged because its benchmark's definition names the column."]
    plain = cli("leaderboard", "--leaderboard", board.path)
    assert "0.200*" in plain.stdout and "--benchmarks shows them" in plain.stdout

    (entry,) = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json").stdout)
    assert entry["columns"]["V1"] == ["Lab.V1-rsa"] and entry["not_averaged"] == ["Kiani2007.IT-rsa",
                                                                                  "Skipped.V4-pls"]
    (line,) = csv.DictReader(io.StringIO(to_csv(board.ranking())))
    assert (line["V1_benchmarks"], line["IT_benchmarks"], line["not_averaged"], line["averaged_without_ceiling"]) == (
        "Lab.V1-rsa", "", "Kiani2007.IT-rsa;Skipped.V4-pls", "Lab.V1-rsa")
