"""``brainbench leaderboard`` queries: --benchmark, --model, --region, --errors and --markdown (tables parsed back and
checked against hand-computed means), shared ranks, and refused or unmatched selections."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord


def record(model: str, benchmark: str, ceiled: float, region: str = "V1", error: float | None = 0.01,
           ceiling: float | None = 0.8) -> ScoreRecord:
    return ScoreRecord(
        model=model, weights_digest="ab" * 32, random_init=False, benchmark=benchmark, benchmark_version=1,
        region=region, raw=ceiled * (ceiling or 1.0), ceiling=ceiling, ceiled=ceiled, error=error, layer="l3",
        brainbench_version="0.1.0", seed=0, device="cpu", started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:09+00:00",
    )


SCORES = {  # model -> benchmark -> ceiled score; every benchmark of region V1 unless named .IT
    "alexnet": {"Marques2020.V1-a": 0.52, "Marques2020.V1-b": 0.34, "Other.V1-c": 0.10, "Kiani2007.IT": 0.40},
    "resnet|18": {"Marques2020.V1-a": 0.30, "Marques2020.V1-b": 0.20, "Other.V1-c": 0.90, "Kiani2007.IT": 0.45},
    "vgg": {"Marques2020.V1-a": 0.20, "Kiani2007.IT": 0.61},
}


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([record(m, b, s, region="IT" if b.endswith(".IT") else "V1", error=0.01 + 0.01 * i)
                  for m, scores in SCORES.items() for i, (b, s) in enumerate(scores.items())])
    return board


def markdown_table(text: str) -> list[list[str]]:
    """The rows of the Markdown table in ``text`` as cells (escaped pipes unescaped), header first, rule dropped."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert re.fullmatch(r"\|(---:?\|)+", rows[1]), rows[1]
    return [[cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            for line in [rows[0], *rows[2:]]]


def test_benchmark_pattern_averages_only_the_matching_benchmarks_and_says_so(cli, board: Leaderboard) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, "--benchmark", "Marques2020.*", "--markdown")
    assert result.exit_code == 0, result.stderr
    assert "Only benchmarks matching 'Marques2020.*': the regions and the average are over these 2 benchmark(s)" \
        in result.stdout
    header, *rows = markdown_table(result.stdout)
    assert header == ["#", "model", "V1", "V2", "V4", "IT", "behavior", "average"]
    # Hand-computed: V1 = mean of the two Marques scores, IT not selected, average = V1 / 5.
    expected = {"alexnet": (0.52 + 0.34) / 2, "resnet|18": (0.30 + 0.20) / 2, "vgg": 0.20}
    assert [row[1] for row in rows] == ["alexnet", "resnet|18", "vgg"]  # the label's pipe escaped and back
    for row in rows:
        assert row[2] == f"{expected[row[1]]:.3f}" and row[5] == "–"
        assert row[7] == f"{expected[row[1]] / 5:.3f}"
    json_rows = json.loads(cli("leaderboard", "--leaderboard", board.path, "-b", "Marques2020.*", "--json").stdout)
    for row in json_rows:  # the exact means, not 3 decimals: two roundings at most
        assert row["regions"]["V1"] == pytest.approx(expected[row["label"]], abs=1e-15)
        assert row["average"] == pytest.approx(expected[row["label"]] / 5, abs=1e-15)
        assert set(row["benchmarks"]) <= {"Marques2020.V1-a", "Marques2020.V1-b"}


def test_model_pattern_keeps_the_ranks_among_all(cli, board: Leaderboard) -> None:
    everyone = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json").stdout)
    ranks = {row["label"]: row["rank"] for row in everyone}
    result = cli("leaderboard", "--leaderboard", board.path, "--model", "vgg", "-m", "resnet*", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(row["label"] for row in rows) == ["resnet|18", "vgg"]
    assert all(int(row["rank"]) == ranks[row["label"]] for row in rows)
    table = cli("leaderboard", "--leaderboard", board.path, "-m", "vgg", env={"COLUMNS": "200"})
    assert "Models matching 'vgg': 1 of 3 entries; ranks are among all of them." in table.stdout


def test_region_ranks_by_that_region_and_shows_its_benchmarks(cli, board: Leaderboard) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, "--region", "V1", "--markdown", "--errors")
    assert result.exit_code == 0, result.stderr
    header, *rows = markdown_table(result.stdout)
    assert header == ["#", "model", "V1", "Marques2020.V1-a", "Marques2020.V1-b", "Other.V1-c"]
    means = {m: sum(s for b, s in scores.items() if ".V1" in b) / sum(".V1" in b for b in scores)
             for m, scores in SCORES.items()}  # resnet|18 0.4667 > alexnet 0.32 > vgg 0.2
    assert [row[1] for row in rows] == sorted(means, key=means.get, reverse=True)
    assert [row[0] for row in rows] == ["1", "2", "3"]
    alexnet = next(row for row in rows if row[1] == "alexnet")
    # Errors 0.01, 0.02, 0.03 of its three V1 benchmarks: sqrt(Σ err²) / 3.
    assert alexnet[2] == f"{means['alexnet']:.3f} ± {math.sqrt(0.01**2 + 0.02**2 + 0.03**2) / 3:.3f}"
    assert alexnet[3:] == ["0.520", "0.340", "0.100"]
    csv_rows = list(csv.DictReader(io.StringIO(cli("leaderboard", "--leaderboard", board.path, "--region", "v1",
                                                   "--csv").stdout)))
    assert [(row["label"], float(row["score"])) for row in csv_rows] == [
        (m, pytest.approx(means[m], abs=1e-15)) for m in sorted(means, key=means.get, reverse=True)]


def test_equal_averages_share_a_rank_shown_as_such(cli, tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    # 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ in the last bit: a tie all the same.
    board.append([record("a", f"B{i}", s) for i, s in enumerate([0.1, 0.2, 0.3])]
                 + [record("b", f"B{i}", s) for i, s in enumerate([0.3, 0.2, 0.1])] + [record("c", "B0", 0.1)])
    table = cli("leaderboard", "--leaderboard", board.path, env={"COLUMNS": "200"}).stdout
    assert re.search(r"^=1\s+a\s", table, re.M) and re.search(r"^=1\s+b\s", table, re.M)
    assert re.search(r"^ 3\s+c\s", table, re.M)
    rows = markdown_table(cli("leaderboard", "--leaderboard", board.path, "--markdown").stdout)
    assert [row[:2] for row in rows[1:]] == [["=1", "a"], ["=1", "b"], ["3", "c"]]
    assert "share a rank" in cli("leaderboard", "--help").stdout


def test_errors_in_the_table_and_csv(cli, board: Leaderboard) -> None:
    table = cli("leaderboard", "--leaderboard", board.path, "--errors", env={"COLUMNS": "200"}).stdout
    vgg = next(line for line in table.splitlines() if " vgg " in line)
    # vgg: V1 one benchmark (error 0.01), IT one (0.02); average error sqrt(0.01² + 0.02²) / 5 = 0.00447.
    assert "0.200±0.010" in vgg and "0.610±0.020" in vgg and f"±{math.hypot(0.01, 0.02) / 5:.3f}" in vgg
    rows = {row["label"]: row for row in csv.DictReader(io.StringIO(
        cli("leaderboard", "--leaderboard", board.path, "--csv", "--errors").stdout))}
    assert float(rows["vgg"]["average_error"]) == pytest.approx(math.hypot(0.01, 0.02) / 5, abs=1e-15)
    assert rows["vgg"]["V2_error"] == ""
    assert "average_error" not in cli("leaderboard", "--leaderboard", board.path, "--csv").stdout


@pytest.mark.parametrize("flags", [("--json", "--markdown"), ("--csv", "--markdown"),
                                   ("--json", "--csv", "--markdown")])
def test_two_output_formats_are_a_usage_error(cli, board: Leaderboard, flags: tuple[str, ...]) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, *flags)
    assert result.exit_code == 2 and result.stdout == ""
    assert re.fullmatch(r"error: .* output formats; choose one\. See '\S* ?leaderboard --help'\.\n", result.stderr)


def test_ranking_queries_before_import_are_a_usage_error(cli, board: Leaderboard, tmp_path: Path) -> None:
    result = cli("leaderboard", "--region", "V1", "-b", "X*", "import", tmp_path / "none.json")
    assert result.exit_code == 2
    assert "--region and --benchmark apply to the ranking, not to `leaderboard import`" in result.stderr


@pytest.mark.parametrize(("flags", "sentence"), [
    (("-b", "Nope*"), "error: No benchmark on the leaderboard matches 'Nope*'; scored benchmarks: Kiani2007.IT, "
                      "Marques2020.V1-a, Marques2020.V1-b, Other.V1-c.\n"),
    (("-m", "Nope*"), "error: No model on the leaderboard matches 'Nope*'; models: alexnet, resnet|18, vgg.\n"),
    (("--region", "V4"), "error: No score of region 'V4' is on the leaderboard; regions with scores: IT, V1.\n"),
    (("--region", "IT", "-b", "Marques*"), "error: No score of region 'IT' is among the benchmarks matching "
                                           "'Marques*'; regions with scores: V1.\n"),
])
def test_a_selection_that_matches_nothing_is_one_sentence(cli, board: Leaderboard, flags: tuple[str, ...],
                                                          sentence: str) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, *flags)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == sentence


def test_long_markdown_has_a_row_per_model_and_benchmark(cli, board: Leaderboard) -> None:
    header, *rows = markdown_table(cli("leaderboard", "--leaderboard", board.path, "--long", "--markdown").stdout)
    assert header == ["#", "model", "benchmark", "column", "ceiled", "raw", "ceiling", "error", "layer"]
    assert {(row[1], row[2]): row[4] for row in rows} == {
        (m, b): f"{s:.3f}" for m, scores in SCORES.items() for b, s in scores.items()}


@pytest.mark.parametrize("columns", ["60", "200"])
def test_region_table_or_blocks_show_every_score_of_the_region(cli, board: Leaderboard, columns: str) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, "--region", "V1", env={"COLUMNS": columns})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    # The table or blocks fit; the header and the note are sentences that the terminal wraps.
    assert all(len(line.rstrip()) <= int(columns) for line in lines[2:]), result.stdout
    assert lines[1] == "Ranked by V1: the mean ceiled score of the benchmarks feeding the V1 column."
    for rank, label in ((1, "resnet|18"), (2, "alexnet"), (3, "vgg")):
        assert any(re.match(rf"\s*{rank}\s+{re.escape(label)}\s", line) for line in lines), result.stdout
    for scores in SCORES.values():
        for benchmark, score in scores.items():
            if ".V1" in benchmark:
                assert f"{score:.3f}" in result.stdout
    assert "Kiani2007.IT" not in result.stdout


def test_markdown_marks_benchmarks_not_averaged_and_explains_the_mark(cli, tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([record("m", "Kiani2007.IT-rsa", 0.45, region="IT", ceiling=None),
                  record("m", "Kriegeskorte2008.IT-rsa", 0.32, region="IT")])
    text = cli("leaderboard", "--leaderboard", board.path, "--region", "IT", "--markdown").stdout
    header, row = markdown_table(text)
    assert header[2:] == ["IT", "Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"]
    assert row[2:] == ["0.320", "0.450†", "0.320"]  # IT is Kriegeskorte2008's alone
    assert text.endswith('\n\n† shown, not averaged into a column (no noise ceiling, or column = "none").\n')
    assert "†" not in cli("leaderboard", "--leaderboard", board.path, "--markdown").stdout  # no benchmark column


LAYOUTS = [(), ("--benchmarks",), ("--long",), ("--benchmarks", "--long")]


@pytest.mark.parametrize("output", [(), ("--json",), ("--csv",), ("--markdown",)], ids=lambda f: "".join(f) or "table")
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda f: "".join(f) or "wide")
@pytest.mark.parametrize("query", [(), ("--region", "IT"), ("--errors",), ("-b", "Marques*", "-m", "vgg")],
                         ids=lambda f: " ".join(f) or "all")
def test_queries_combine_with_every_output_and_layout(cli, board: Leaderboard, output: tuple[str, ...],
                                                      layout: tuple[str, ...], query: tuple[str, ...]) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, *query, *layout, *output, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    labels = ["vgg"] if "vgg" in query else list(SCORES)
    benchmarks = {m: [b for b in SCORES[m] if ("Marques" in b if "-b" in query else ".IT" in b if "--region" in query
                                               else True)] for m in labels}
    pairs = {(m, b) for m in labels for b in benchmarks[m]}
    if "--json" in output:
        rows = json.loads(result.stdout)
        if "--long" in layout:
            assert {(row["label"], row["benchmark"]) for row in rows} == pairs
        else:
            assert sorted(row["label"] for row in rows) == sorted(labels)
    elif "--csv" in output:
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        key = "benchmark" if "--long" in layout else None
        assert ({(row["label"], row[key]) for row in rows} == pairs if key
                else sorted(row["label"] for row in rows) == sorted(labels))
    elif "--markdown" in output:
        _, *rows = markdown_table(result.stdout)
        assert ({(row[1], row[2]) for row in rows} == pairs if "--long" in layout
                else sorted(row[1] for row in rows) == sorted(labels))
    else:
        assert all(label in result.stdout for label in labels)
        assert ("±" in result.stdout) == ("--errors" in query)
