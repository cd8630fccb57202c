"""``brainbench leaderboard`` at 60, 80 and 200 columns and piped: rank and model whole, every benchmark's score
shown (long layout when the table does not fit), CSV/JSON with --benchmarks and --long, refused combinations."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord

MODELS = ["timm:efficientnet_lite0", "alexnet", "a-plugin-model-with-a-long-name", "tinycnn"]
LABELS = [*MODELS, "tinycnn [layers: 3,5]"]  # the ranking's entries
BENCHMARKS = [  # real ids, the longest included: names that cannot all be columns at 80 or even 200
    ("Cowley2023.V4-pls", "V4"), ("FreemanZiemba2013.V2-pls", "V2"), ("Kiani2007.IT-rsa", "IT"),
    ("MajajHong2015.IT-pls", "IT"), ("Marques2020.V1-surround_grating_summation_field_ratio", "V1"),
    ("Marques2020.V1-spatial_frequency_bandwidth", "V1"), ("Geirhos2019.cue_conflict-error_consistency", "behavior"),
    ("Geirhos2019.cue_conflict-shape_bias", "behavior"),
]
SHAPE_BIAS = {  # as benchmarks/behavior.py's run_shape_bias records them (texture accuracy only under "shape_bias")
    "model_shape_bias": 0.25, "human_shape_bias": 0.96, "model_shape_accuracy": 0.125, "n_images": 1280,
    "shape_bias": {"model": 0.25, "human": 0.96, "shape_accuracy": 0.125, "texture_accuracy": 0.375},
}
MEASURES = {"model_shape_bias": 0.25, "human_shape_bias": 0.96, "model_shape_accuracy": 0.125,
            "model_texture_accuracy": 0.375}


def record(model_index: int, benchmark_index: int) -> ScoreRecord:
    """Scores distinct at three decimals for every model × benchmark; every third benchmark has no ceiling."""
    benchmark, region = BENCHMARKS[benchmark_index]
    raw = 0.101 + 0.2 * model_index + 0.011 * benchmark_index
    ceiling = None if benchmark_index % 3 == 0 else 0.8
    return ScoreRecord(
        model=MODELS[model_index], weights_digest=f"{model_index:02x}" * 32, random_init=False, benchmark=benchmark,
        benchmark_version=1, region=region, raw=raw, ceiling=ceiling, ceiled=raw / (ceiling or 1.0), error=0.01,
        layer=None if region == "behavior" else "layer4.1.conv2", brainbench_version="0.1.0", seed=0, device="cpu",
        started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:04+00:00",
        details=SHAPE_BIAS if benchmark.endswith("shape_bias") else {},
    )


@pytest.fixture
def board(tmp_path: Path) -> Leaderboard:
    """Each model scored on a different number of the benchmarks (5 to 8), so rows have gaps; tinycnn also on
    layers of the user's choice, an entry of its own labelled 'tinycnn [layers: 3,5]' (brackets: rich markup)."""
    board = Leaderboard(tmp_path / "board.sqlite")
    chosen = record(len(MODELS) - 1, 0)
    chosen.raw = chosen.ceiled = 0.051
    chosen.details = {"model": {"layers_given": True, "candidate_layers": ["3", "5"]}}
    board.append([record(m, b) for m in range(len(MODELS)) for b in range(5 + m)] + [chosen])
    return board


def expected(board: Leaderboard) -> dict[tuple[str, str], ScoreRecord]:
    """Per (label, benchmark) its record."""
    return {(label_of(r), r.benchmark): r for r in board.records()}


def label_of(r: ScoreRecord) -> str:
    return f"{r.model} [layers: 3,5]" if "model" in r.details else r.model


def rank_lines(stdout: str, rank: int, label: str) -> list[str]:
    """The lines that start with the row's rank and then its whole label (a table row or a block's heading)."""
    return [line for line in stdout.splitlines() if re.match(rf"\s*{rank}\s+{re.escape(label)}(\s|$)", line)]


@pytest.mark.parametrize("columns", [60, 80, 200])
@pytest.mark.parametrize("flags", [(), ("--benchmarks",), ("--long",)])
def test_rank_and_model_are_whole_at_every_width(cli, board: Leaderboard, columns: int, flags: tuple[str, ...]) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, *flags, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    for row in board.ranking():
        assert len(rank_lines(result.stdout, row.rank, row.label)) == 1, (row.label, result.stdout)


def blocks(stdout: str, board: Leaderboard) -> dict[str, str]:
    """The long layout's text per model label: from its heading line to the next one."""
    headings = {}
    lines = stdout.splitlines()
    for row in board.ranking():
        (heading,) = rank_lines(stdout, row.rank, row.label)
        headings[lines.index(heading)] = row.label
    starts = sorted(headings)
    return {headings[s]: "\n".join(lines[s:end]) for s, end in zip(starts, [*starts[1:], len(lines)], strict=True)}


@pytest.mark.parametrize("columns", [60, 80, 200])
@pytest.mark.parametrize("flag", ["--benchmarks", "--long"])
def test_every_score_is_shown_in_its_models_block(cli, board: Leaderboard, columns: int, flag: str) -> None:
    """Eight benchmark columns do not fit even 200 columns: --benchmarks switches to the long layout."""
    result = cli("leaderboard", "--leaderboard", board.path, flag, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    text = blocks(result.stdout, board)
    assert set(text) == set(LABELS)
    scores = expected(board)
    for (model, benchmark), r in scores.items():
        # ceiled, raw and ceiling on one line of the model's own block (scores are distinct per model × benchmark)
        cells = rf"{r.ceiled:.3f}[†*]?\s+{r.raw:.3f}\s+{'–' if r.ceiling is None else f'{r.ceiling:.3f}'}"
        assert re.search(cells, text[model]), (model, benchmark, text[model])
        if columns >= 80 and len(benchmark) <= 32:  # names fold only when the terminal is narrower
            assert benchmark in text[model]
        if benchmark.endswith("shape_bias"):
            assert (f"{benchmark}: model's shape bias 0.250, humans' shape bias 0.960, model's shape accuracy 0.125, "
                    "model's texture accuracy 0.375" in text[model])
    # The blocks' indented lines (region scores, tables) fit; only headings, measures and notes may be longer.
    indented = [line for line in result.stdout.splitlines() if line.startswith("   ") and ":" not in line]
    assert len(indented) > len(scores) and all(len(line) <= columns for line in indented)


def test_a_table_that_fits_keeps_one_row_per_model(cli, tmp_path: Path) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([record(m, b) for m in range(2) for b in range(2)])
    result = cli("leaderboard", "--leaderboard", board.path, "--benchmarks", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    for row in board.ranking():
        (line,) = rank_lines(result.stdout, row.rank, row.label)
        for b, ceiled in row.benchmarks.items():
            assert f"{ceiled:.3f}" in line, (b, line)
    assert "one block per model" not in result.stdout
    narrow = cli("leaderboard", "--leaderboard", board.path, "--benchmarks", env={"COLUMNS": "80"})
    assert "(The table is wider than 80 columns, so one block per model;" in narrow.stdout


def test_csv_with_benchmarks_has_a_column_per_benchmark(cli, board: Leaderboard) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, "--csv", "--benchmarks")
    assert result.exit_code == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout))
    rows = {row["label"]: row for row in reader}
    assert [name for name in reader.fieldnames if "." in name] == sorted(b for b, _ in BENCHMARKS)
    scores = expected(board)
    for model, row in rows.items():
        for benchmark, _ in BENCHMARKS:
            if (model, benchmark) in scores:  # written with repr and read back: equal up to float rounding at most
                assert float(row[benchmark]) == pytest.approx(scores[model, benchmark].ceiled, rel=1e-15)
            else:
                assert row[benchmark] == ""
    assert len(rows) == len(LABELS)


def test_long_csv_has_one_row_per_model_and_benchmark(cli, board: Leaderboard) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, "--csv", "--long")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    scores = expected(board)
    assert {(row["label"], row["benchmark"]) for row in rows} == set(scores) and len(rows) == len(scores)
    ranks = {row.label: row.rank for row in board.ranking()}
    for row in rows:
        r = scores[row["label"], row["benchmark"]]
        assert int(float(row["rank"])) == ranks[row["label"]]
        # repr round trip through the CSV text: equal up to float rounding at most
        assert float(row["ceiled"]) == pytest.approx(r.ceiled, rel=1e-15)
        assert float(row["raw"]) == pytest.approx(r.raw, rel=1e-15)
        assert row["ceiling"] == ("" if r.ceiling is None else repr(r.ceiling))
        assert row["column"] == ("" if r.ceiling is None else r.region)  # no ceiling: not averaged
        assert row["layer"] == (r.layer or "")
        assert json.loads(row["measures"] or "{}") == (MEASURES if "shape_bias" in r.details else {})


def test_json_with_benchmarks_and_long(cli, board: Leaderboard) -> None:
    plain = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json").stdout)
    assert all("scores" not in row and row["benchmarks"] for row in plain)
    detailed = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json", "--benchmarks").stdout)
    scores = expected(board)
    for row in detailed:
        assert set(row["scores"]) == {b for m, b in scores if m == row["label"]}
        for benchmark, s in row["scores"].items():
            r = scores[row["label"], benchmark]
            # exact: the stored values themselves, through SQLite and JSON's repr round trip, no arithmetic
            assert (s["raw"], s["ceiling"], s["layer"], s["error"]) == (r.raw, r.ceiling, r.layer, r.error)
            assert s["measures"] == (MEASURES if "shape_bias" in r.details else {})  # shape bias only
    long = json.loads(cli("leaderboard", "--leaderboard", board.path, "--json", "--long").stdout)
    assert {(row["label"], row["benchmark"]) for row in long} == set(scores) and len(long) == len(scores)


FLAGS = ["--json", "--csv", "--benchmarks", "--long"]


@pytest.mark.parametrize("flags", [c for n in range(len(FLAGS) + 1) for c in itertools.combinations(FLAGS, n)])
def test_every_combination_is_honoured_or_refused(cli, board: Leaderboard, flags: tuple[str, ...]) -> None:
    result = cli("leaderboard", "--leaderboard", board.path, *flags, env={"COLUMNS": "80"})
    if "--json" in flags and "--csv" in flags:
        assert result.exit_code == 2 and result.stdout == ""
        assert re.fullmatch(r"error: --json and --csv are two output formats; choose one\. "
                            r"See '\S* ?leaderboard --help'\.\n", result.stderr), result.stderr
        return
    assert result.exit_code == 0, result.stderr
    n_scores = len(expected(board))
    if "--json" in flags:
        rows = json.loads(result.stdout)
        assert len(rows) == (n_scores if "--long" in flags else len(LABELS))
        assert ("scores" in rows[0]) == ("--benchmarks" in flags and "--long" not in flags)
    elif "--csv" in flags:
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert len(rows) == (n_scores if "--long" in flags else len(LABELS))
        assert ("Kiani2007.IT-rsa" in rows[0]) == ("--benchmarks" in flags and "--long" not in flags)
    else:
        shows_benchmarks = "--benchmarks" in flags or "--long" in flags
        assert ("Kiani2007.IT-rsa" in result.stdout) == shows_benchmarks


@pytest.mark.parametrize("flag", ["--csv", "--benchmarks", "--long"])
def test_ranking_flags_before_import_are_refused(cli, board: Leaderboard, tmp_path: Path, flag: str) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("[]")
    result = cli("leaderboard", flag, "import", kept, "--leaderboard", board.path)
    assert result.exit_code == 2 and result.stdout == ""
    assert re.fullmatch(rf"error: {flag} applies to the ranking, not to `leaderboard import`\. "
                        r"See '\S* ?leaderboard --help'\.\n", result.stderr), result.stderr


def test_json_before_import_is_honoured(cli, board: Leaderboard, tmp_path: Path) -> None:
    from brainbench.leaderboard import unsaved

    kept = unsaved.keep([record(0, 0)], board.path)
    result = cli("leaderboard", "--json", "import", kept, "--leaderboard", board.path)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"leaderboard": str(board.path), "records": 1, "imported": 1,
                                         "already_present": 0}


def test_piped_output_is_80_columns_wide_unless_columns_says_otherwise(board: Leaderboard) -> None:
    """A real pipe (no stream a terminal): the same text as at COLUMNS=80, and COLUMNS respected."""
    command = [sys.executable, "-m", "brainbench", "leaderboard", "--leaderboard", str(board.path)]
    outputs = {}
    for columns in (None, "80", "60"):
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        if columns:
            env["COLUMNS"] = columns
        piped = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True)
        assert piped.stderr == ""
        for row in board.ranking():
            assert len(rank_lines(piped.stdout, row.rank, row.label)) == 1, piped.stdout
        outputs[columns] = piped.stdout
    assert outputs[None] == outputs["80"] and "one block per model" not in outputs["80"]
    assert "(The table is wider than 60 columns, so one block per model;" in outputs["60"]
