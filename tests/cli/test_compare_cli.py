"""`brainbench compare` and `brainbench.compare` on a leaderboard of hand-built records with realistic details."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import brainbench
from brainbench.comparison import estimate
from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "comparison"))
from compare_records import (
    error_consistency_details,
    neural_details,
    record,
    rsa_details,
)

# Tolerance for the same formula computed two ways (here by hand with scipy, there in brainbench): rounding only;
# values printed with 3 decimals are compared at half a unit of the last digit.
CLOSE = {"rel": 1e-9, "abs": 1e-12}


def _folds(seed: int, n: int, level: float, shift: float) -> np.ndarray:
    return level + shift + 0.02 * np.random.default_rng(seed).standard_normal(n)


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """alexnet (trained), resnet (trained, +0.1 on both IT benchmarks and V4), resnet random-init (near alexnet on
    Kiani2007), and an error-consistency score of alexnet only."""
    path = tmp_path / "board.sqlite"
    records = []
    for k, (model, random_init, shifts) in enumerate((("alexnet", False, (0, 0, 0)), ("resnet", False, (0.1, 0.1, 0.1)),
                                                      ("resnet", True, (0.005, -0.3, -0.3)))):
        kiani = _folds(10 + k, 20, 0.5, shifts[0])
        kriegeskorte = _folds(20 + k, 20, 0.4, shifts[1])
        cowley = _folds(30 + k, 10, 0.3, shifts[2])
        common = {"random_init": random_init, "digest": ("c" * 64) if random_init else None}
        records += [
            record(model, "Kiani2007.IT-rsa", float(kiani.mean()), rsa_details(kiani), **common),
            record(model, "Kriegeskorte2008.IT-rsa", float(kriegeskorte.mean()), rsa_details(kriegeskorte), **common),
            record(model, "Cowley2023.V4-pls", float(cowley.mean()), neural_details(cowley), region="V4", **common),
        ]
    records.append(record("alexnet", "Geirhos2019.error_consistency", 0.3, region="behavior", ceiling=0.4,
                          details=error_consistency_details({"s1": 0.1, "s2": 0.12, "s3": 0.14})))
    Leaderboard(path).append(records)
    return path


def _fold_reference(first: np.ndarray, other: np.ndarray, overlap: float) -> float:
    """Nadeau & Bengio's corrected p from scipy's paired t statistic."""
    t = stats.ttest_rel(other, first).statistic / math.sqrt(1 + len(first) * overlap)
    return float(2 * stats.t.sf(abs(t), len(first) - 1))


def test_json_gives_each_benchmarks_difference_interval_and_holm_adjusted_p(cli, board: Path) -> None:
    result = cli("compare", "alexnet", "resnet", "--leaderboard", board, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["models"] == ["alexnet", "resnet"] and data["correction"] == "holm"
    rows = {row["benchmark"]: row for row in data["benchmarks"]}
    assert list(rows) == ["Cowley2023.V4-pls", "Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa",
                          "Geirhos2019.error_consistency"]  # V4, IT, behavior: the leaderboard's column order
    p = {
        "Cowley2023.V4-pls": _fold_reference(_folds(30, 10, 0.3, 0), _folds(31, 10, 0.3, 0.1), 0.1 / 0.9),
        "Kiani2007.IT-rsa": _fold_reference(_folds(10, 20, 0.5, 0), _folds(11, 20, 0.5, 0.1), 1.0),
        "Kriegeskorte2008.IT-rsa": _fold_reference(_folds(20, 20, 0.4, 0), _folds(21, 20, 0.4, 0.1), 1.0),
    }
    ranked = sorted(p, key=p.get)  # Holm by hand: m = 3 tests
    holm = {ranked[0]: 3 * p[ranked[0]]}
    holm[ranked[1]] = max(holm[ranked[0]], 2 * p[ranked[1]])
    holm[ranked[2]] = max(holm[ranked[1]], p[ranked[2]])
    for benchmark, expected in p.items():
        resnet = rows[benchmark]["models"]["resnet"]
        alexnet = rows[benchmark]["models"]["alexnet"]
        assert resnet["difference"]["difference"] == pytest.approx(
            resnet["score"]["ceiled"] - alexnet["score"]["ceiled"], **CLOSE)
        assert resnet["difference"]["p_value"] == pytest.approx(expected, **CLOSE)
        assert resnet["p_adjusted"] == pytest.approx(min(1.0, holm[benchmark]), **CLOSE)
        assert resnet["significant"] is (holm[benchmark] <= 0.05)
        assert resnet["difference"]["level"] == "folds"
        assert "No per-unit results are stored" in resnet["note"]
    missing = rows["Geirhos2019.error_consistency"]["models"]["resnet"]
    assert missing["score"] is None and missing["difference"] is None
    assert missing["missing_command"] == "brainbench score resnet -b Geirhos2019.error_consistency"


def test_region_summary_combines_its_benchmarks_as_independent(cli, board: Path) -> None:
    data = json.loads(cli("compare", "alexnet", "resnet", "--leaderboard", board, "--json").stdout)
    rows = {row["benchmark"]: row["models"]["resnet"]["difference"] for row in data["benchmarks"]}
    it = next(s for s in data["summaries"] if s["region"] == "IT")["models"]["resnet"]
    parts = [rows["Kiani2007.IT-rsa"], rows["Kriegeskorte2008.IT-rsa"]]
    se = math.hypot(*((d["ci_high"] - d["ci_low"]) / (2 * stats.norm.ppf(0.975)) for d in parts)) / 2
    difference = (parts[0]["difference"] + parts[1]["difference"]) / 2
    assert it["difference"]["difference"] == pytest.approx(difference, **CLOSE)
    assert it["difference"]["ci_high"] - difference == pytest.approx(stats.norm.ppf(0.975) * se, **CLOSE)
    assert it["difference"]["p_value"] == pytest.approx(2 * stats.norm.sf(abs(difference) / se), rel=1e-7)
    assert it["over"] == ["Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"]
    v4 = next(s for s in data["summaries"] if s["region"] == "V4")["models"]["resnet"]
    assert v4["difference"] == rows["Cowley2023.V4-pls"]  # one benchmark: its own estimate
    average = next(s for s in data["summaries"] if s["region"] == "average")["models"]
    assert average["resnet"]["over"] == ["V4", "IT"]  # behavior: resnet has no score there
    assert average["alexnet"]["over"] == ["V4", "IT", "behavior"]
    assert average["resnet"]["reference_mean"] == pytest.approx(
        (average["alexnet"]["mean"] * 3 - 0.3) / 2, **CLOSE)  # alexnet's mean over V4 and IT only


def test_table_marks_significant_differences_and_lists_missing_scores(cli, board: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    result = cli("compare", "alexnet", "resnet (random-init)", "--leaderboard", board)
    assert result.exit_code == 0, result.stderr
    data = json.loads(cli("compare", "alexnet", "resnet (random-init)", "--leaderboard", board, "--json").stdout)
    lines = result.stdout.splitlines()
    for row in data["benchmarks"]:
        line = next(line for line in lines if line.startswith(row["benchmark"] + " "))
        other = row["models"]["resnet (random-init)"]
        if other["score"] is None:
            assert "missing" in line
            continue
        assert f"{other['difference']['difference']:+.3f}" in line
        assert line.rstrip().endswith("*") is other["significant"]
    kiani = data["benchmarks"][1]["models"]["resnet (random-init)"]
    assert data["benchmarks"][1]["benchmark"] == "Kiani2007.IT-rsa" and kiani["significant"] is False
    assert "missing: brainbench score resnet --random-init -b Geirhos2019.error_consistency" in result.stdout
    assert "Holm" in result.stdout and "IT mean:" in result.stdout and "average over regions:" in result.stdout


def test_csv_has_a_row_per_benchmark_and_model_then_the_summaries(cli, board: Path) -> None:
    result = cli("compare", "alexnet", "resnet", "--leaderboard", board, "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    data = json.loads(cli("compare", "alexnet", "resnet", "--leaderboard", board, "--json").stdout)
    benchmark_rows = [r for r in rows if r["kind"] == "benchmark"]
    assert len(benchmark_rows) == 4 * 2
    for r in benchmark_rows:
        expected = next(b for b in data["benchmarks"] if b["benchmark"] == r["name"])["models"][r["model"]]
        if expected["difference"] is not None:
            assert float(r["p_value"]) == pytest.approx(expected["difference"]["p_value"], **CLOSE)
        assert r["missing_command"] == (expected["missing_command"] or "")
    assert [(r["kind"], r["name"]) for r in rows if r["kind"] != "benchmark"][::2] == [
        ("region", "V4"), ("region", "IT"), ("region", "behavior"), ("average", "average")]


def test_markdown_has_a_table_per_region(cli, board: Path) -> None:
    result = cli("compare", "alexnet", "resnet", "--leaderboard", board, "--markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "### V4" in text and "### IT" in text and "### behavior" in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len({line.count(" | ") for line in table}) == 1  # every row has the header's columns
    assert "| Kiani2007.IT-rsa |" in text


def test_benchmark_patterns_and_region_choose_the_rows(cli, board: Path) -> None:
    by_pattern = json.loads(cli("compare", "alexnet", "resnet", "-b", "Kiani2007.*", "--leaderboard", board,
                                "--json").stdout)
    assert [b["benchmark"] for b in by_pattern["benchmarks"]] == ["Kiani2007.IT-rsa"]
    by_region = json.loads(cli("compare", "alexnet", "resnet", "--region", "it", "--leaderboard", board,
                               "--json").stdout)
    assert [b["benchmark"] for b in by_region["benchmarks"]] == ["Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"]


@pytest.mark.parametrize(("args", "said"), [
    (("alexnet",), "at least two models"),
    (("alexnet", "resnt"), "No model 'resnt' on the leaderboard"),
    (("alexnet", "alexnet"), "names the same leaderboard entry"),
    (("alexnet", "resnet", "-b", "Nothing.*"), "no scored benchmark matching Nothing.* in common"),
])
def test_bad_requests_are_one_sentence(cli, board: Path, args: tuple[str, ...], said: str) -> None:
    result = cli("compare", *args, "--leaderboard", board)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_id_shared_by_two_entries_is_ambiguous_and_lists_their_labels(cli, tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite"
    values = _folds(0, 20, 0.5, 0)
    Leaderboard(path).append([
        record("tinycnn", "Kiani2007.IT-rsa", 0.5, {**rsa_details(values), "model": {"visual_degrees": degrees}})
        for degrees in (8.0, 10.0)] + [record("alexnet", "Kiani2007.IT-rsa", 0.5, rsa_details(values))])
    result = cli("compare", "alexnet", "tinycnn", "--leaderboard", path)
    assert result.exit_code == 1
    assert "'tinycnn' names 2 leaderboard entries ('tinycnn (10°)', 'tinycnn (8°)')" in result.stderr
    assert cli("compare", "alexnet", "tinycnn (10°)", "--leaderboard", path).exit_code == 0


def test_only_the_newest_version_is_compared_and_an_older_one_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite"
    values = _folds(0, 20, 0.5, 0)
    Leaderboard(path).append([
        record("alexnet", "Kiani2007.IT-rsa", 0.5, rsa_details(values), version=2),
        record("resnet", "Kiani2007.IT-rsa", 0.5, rsa_details(values), version=1),
        record("alexnet", "Kriegeskorte2008.IT-rsa", 0.5, rsa_details(values)),
        record("resnet", "Kriegeskorte2008.IT-rsa", 0.6, rsa_details(values + 0.1)),
    ])
    row = brainbench.compare(["alexnet", "resnet"], leaderboard=path).row("Kiani2007.IT-rsa")
    assert row.version == 2 and row.scores[1] is None and row.estimates[1] is None
    assert "only version 1" in row.notes[1]
    assert row.missing_commands[1] == "brainbench score resnet -b Kiani2007.IT-rsa"


@pytest.fixture
def mean_difference_test(monkeypatch: pytest.MonkeyPatch) -> list:
    import compare_units

    monkeypatch.setitem(estimate.UNIT_TESTS, "mean_difference", "compare_units:mean_difference")
    compare_units.CALLS.clear()
    return compare_units.CALLS


def test_records_with_units_of_the_same_test_are_compared_per_unit(tmp_path: Path, mean_difference_test) -> None:
    path = tmp_path / "board.sqlite"
    values = _folds(0, 20, 0.5, 0)
    made = [record(model, "Kiani2007.IT-rsa", 0.5, {**rsa_details(values), "unit_test": "mean_difference"})
            for model in ("alexnet", "resnet")]
    made[0].units, made[1].units = {"values": np.zeros(5)}, {"values": np.full(5, 0.25)}
    Leaderboard(path).append(made)
    comparison = brainbench.compare(["alexnet", "resnet"], leaderboard=path, n_resamples=77, seed=3)
    found = comparison.row("Kiani2007.IT-rsa").estimates[1]
    assert found.level == "units" and found.difference == pytest.approx(0.25, **CLOSE)
    assert comparison.row("Kiani2007.IT-rsa").notes[1] is None
    assert mean_difference_test == [(made[0].uid, made[1].uid, 77, 3)]


def test_units_that_do_not_line_up_fall_back_to_folds_and_say_why(tmp_path: Path, mean_difference_test) -> None:
    path = tmp_path / "board.sqlite"
    values = _folds(0, 20, 0.5, 0)
    made = [record(model, "Kiani2007.IT-rsa", 0.5, {**rsa_details(values), "unit_test": "mean_difference"})
            for model in ("alexnet", "resnet")]
    made[0].units, made[1].units = {"values": np.zeros(5)}, {"values": np.zeros(6)}
    Leaderboard(path).append(made)
    row = brainbench.compare(["alexnet", "resnet"], leaderboard=path).row("Kiani2007.IT-rsa")
    assert row.estimates[1].level == "folds"
    assert row.notes[1] == "The records of Kiani2007.IT-rsa have 5 and 6 units. Compared at fold level instead."


def test_the_python_api_needs_two_known_models(board: Path) -> None:
    with pytest.raises(BrainbenchError, match="at least two models"):
        brainbench.compare(["alexnet"], leaderboard=board)
    comparison = brainbench.compare(["alexnet", "resnet"], leaderboard=str(board))
    assert comparison.models == ("alexnet", "resnet")
    assert json.loads(json.dumps(comparison.to_dict()))["reference"] == "alexnet"


def test_random_init_twins_are_told_apart_by_their_digests(cli, tmp_path: Path) -> None:
    path = tmp_path / "board.sqlite"
    values = _folds(0, 20, 0.5, 0)
    Leaderboard(path).append([
        record("resnet", "Kiani2007.IT-rsa", 0.5, rsa_details(values), random_init=True, digest=digit * 64, seed=seed)
        for digit, seed in (("1", 0), ("2", 1))] + [record("alexnet", "Kiani2007.IT-rsa", 0.5, rsa_details(values))])
    result = cli("compare", "alexnet", "resnet (random-init)", "--leaderboard", path)
    assert result.exit_code == 1
    assert (f"'resnet (random-init)' names 2 leaderboard entries ('resnet (random-init) [{'1' * 12}]', "
            f"'resnet (random-init) [{'2' * 12}]')") in result.stderr
    twins = json.loads(cli("compare", f"resnet (random-init) [{'1' * 12}]", f"resnet (random-init) [{'2' * 12}]",
                           "--leaderboard", path, "--json").stdout)
    assert twins["benchmarks"][0]["models"][f"resnet (random-init) [{'2' * 12}]"]["difference"]["p_value"] == 1.0


def test_plot_writes_the_figure_and_keeps_json_clean(cli, board: Path, tmp_path: Path) -> None:
    figure = tmp_path / "comparison.png"
    result = cli("compare", "alexnet", "resnet", "--leaderboard", board, "--json", "--plot", figure)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["models"] == ["alexnet", "resnet"]  # the path went to stderr
    assert str(figure) in result.stderr
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_figure_that_cannot_be_written_is_refused_before_the_work(cli, board: Path, tmp_path: Path) -> None:
    result = cli("compare", "alexnet", "resnet", "--leaderboard", board, "--plot", tmp_path / "no" / "c.png")
    assert result.exit_code == 1 and result.stdout == ""
    assert "does not exist" in result.stderr
