"""``score`` checks every benchmark's data before building the model, keeps each record as soon as it is computed,
and goes on past a failing benchmark (issue 15, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pooch
import pytest
import requests

import brainbench
from brainbench.benchmarks.kinds import KINDS
from brainbench.leaderboard import Leaderboard

pytestmark = pytest.mark.mirror
PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"
TINY = ["--layers", "3,5", "--device", "cpu"]  # the example plugin's network, two layers: seconds on a CPU


@pytest.fixture
def tinycnn(monkeypatch: pytest.MonkeyPatch) -> str:
    """The example plugin registered for this test only (in-process, as the CLI runner runs)."""
    import importlib.util

    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})

    def build() -> dict:
        spec = importlib.util.spec_from_file_location("my_plugin", PLUGIN)
        plugin = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(plugin)
        return plugin.build_tinycnn()

    brainbench.register_model("tinycnn")(build)
    return "tinycnn"


@pytest.fixture
def partial_mirror(mirror: Path, tmp_path: Path) -> Path:
    """A mirror holding the 92-images dataset only (no Cowley2023)."""
    folder = tmp_path / "partial-mirror"
    folder.mkdir()
    (folder / "kriegeskorte2008_92images").symlink_to(mirror / "kriegeskorte2008_92images")
    return folder


def test_a_failing_benchmark_keeps_earlier_records_and_does_not_stop_later_ones(
    cli, tinycnn: str, mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = tmp_path / "board.sqlite"
    run_rsa = KINDS["rsa"]
    seen_when_failing: list[list[str]] = []

    def failing_for_mur(spec, *args, **kwargs):
        if spec.id == "Mur2013.behavior-rsa":
            seen_when_failing.append([r.benchmark for r in Leaderboard(board).records()])
            raise RuntimeError("a defect in this benchmark")
        return run_rsa(spec, *args, **kwargs)

    monkeypatch.setitem(KINDS, "rsa", failing_for_mur)
    result = cli("score", tinycnn, "-b", "Kiani2007.IT-rsa", "-b", "Mur2013.behavior-rsa",
                 "-b", "Kriegeskorte2008.IT-rsa", *TINY, "--data-mirror", mirror, "--leaderboard", board)
    assert result.exit_code == 1, result.output
    # The first record was in the leaderboard before the second benchmark ran (written as soon as computed).
    assert seen_when_failing == [["Kiani2007.IT-rsa"]]
    assert sorted(r.benchmark for r in Leaderboard(board).records()) == ["Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"]
    assert "failed  Mur2013.behavior-rsa: unexpected RuntimeError: a defect in this benchmark" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]  # the rest: progress
    assert errors == ["error: 1 of 3 benchmark(s) failed (Mur2013.behavior-rsa); the 2 finished score(s) are kept."]
    assert "Traceback" not in result.output


def test_json_lists_the_failure_and_prints_nothing_else(
    cli, tinycnn: str, mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(spec, *args, **kwargs):
        raise brainbench.errors.BrainbenchError("This benchmark cannot run.")

    run_rsa = KINDS["rsa"]
    monkeypatch.setitem(KINDS, "rsa", lambda spec, *a, **k: (broken if spec.id.startswith("Mur") else run_rsa)(
        spec, *a, **k))
    result = cli("score", tinycnn, "-b", "Mur2013.behavior-rsa", "-b", "Kiani2007.IT-rsa", *TINY,
                 "--data-mirror", mirror, "--no-save", "--json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)  # JSON only on stdout, no progress anywhere
    assert [(r["benchmark"], r["status"]) for r in rows] == [("Kiani2007.IT-rsa", "scored"),
                                                            ("Mur2013.behavior-rsa", "failed")]
    assert rows[0]["id"] is None and rows[1]["reason"] == "This benchmark cannot run."
    assert result.stderr.splitlines() == ["error: 1 of 2 benchmark(s) failed (Mur2013.behavior-rsa); the 1 finished "
                                          "score(s) are kept."]
    assert not (Path(brainbench.paths.default_leaderboard())).exists()  # --no-save wrote nothing


def test_unavailable_data_is_refused_before_the_model_is_built(
    cli, partial_mirror: Path, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", pytest.fail)  # never reached
    board = tmp_path / "board.sqlite"
    result = cli("score", "timm:resnet18", "--random-init", "-b", "Kiani2007.IT-rsa", "-b", "Cowley2023.V4-pls",
                 "--offline", "--data-mirror", partial_mirror, "--leaderboard", board)
    assert result.exit_code == 1
    where, error = result.stderr.splitlines()
    assert where == (f"cowley2023: 5 of 5 files not in the cache ({home / 'data' / 'cowley2023'}), not in the data "
                     f"mirror(s) {partial_mirror}, downloads are off")
    assert error.startswith("error: 1 dataset(s) the benchmarks need are not available (cowley2023); nothing was "
                            "computed") and "--skip-unavailable" in error
    assert not board.exists() and result.stdout == ""


def test_skip_unavailable_scores_the_rest_and_names_the_skipped(
    cli, tinycnn: str, partial_mirror: Path, tmp_path: Path
) -> None:
    board = tmp_path / "board.sqlite"
    result = cli("score", tinycnn, "-b", "Cowley2023.V4-pls", "-b", "Kiani2007.IT-rsa", *TINY, "--offline",
                 "--skip-unavailable", "--data-mirror", partial_mirror, "--leaderboard", board, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --json: no progress
    rows = json.loads(result.stdout)
    assert [(r["benchmark"], r["status"]) for r in rows] == [("Kiani2007.IT-rsa", "scored"),
                                                            ("Cowley2023.V4-pls", "skipped")]
    assert "downloads are off" in rows[1]["reason"]
    assert [r.benchmark for r in Leaderboard(board).records()] == ["Kiani2007.IT-rsa"]


def test_offline_download_failure_names_the_mirror_that_lacks_the_data(
    cli, tinycnn: str, partial_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: BRAINBENCH_DATA_MIRROR is set but lacks a dataset, and the machine is offline."""
    def offline(url: str, *args: object, **kwargs: object) -> str:
        raise requests.ConnectionError("network is unreachable")

    monkeypatch.setattr(pooch, "retrieve", offline)
    monkeypatch.setenv("BRAINBENCH_DATA_MIRROR", str(partial_mirror))
    board = tmp_path / "board.sqlite"
    result = cli("score", tinycnn, "-b", "Cowley2023.V4-pls", "-b", "Kiani2007.IT-rsa", *TINY, "--leaderboard", board)
    assert result.exit_code == 1
    failed = next(line for line in result.stdout.splitlines() if line.startswith("failed"))
    assert failed.startswith("failed  Cowley2023.V4-pls: Cannot download ")
    assert f"the data mirror(s) tried lack it (no {partial_mirror / 'cowley2023_v4'}" in failed
    assert "set BRAINBENCH_DATA_MIRROR" not in failed
    assert [r.benchmark for r in Leaderboard(board).records()] == ["Kiani2007.IT-rsa"]


def test_interrupt_after_a_saved_record_keeps_it_and_does_not_claim_nothing_was_written(
    cli, tinycnn: str, mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = tmp_path / "board.sqlite"
    run_rsa = KINDS["rsa"]

    def interrupted_at_kriegeskorte(spec, *args, **kwargs):
        if spec.id == "Kriegeskorte2008.IT-rsa":
            raise KeyboardInterrupt
        return run_rsa(spec, *args, **kwargs)

    monkeypatch.setitem(KINDS, "rsa", interrupted_at_kriegeskorte)
    result = cli("score", tinycnn, "-b", "Kiani2007.IT-rsa", "-b", "Kriegeskorte2008.IT-rsa", "--layers", "3,5",
                 "--device", "cpu", "--data-mirror", mirror, "--leaderboard", board, "--json")
    assert result.exit_code == 130
    assert [r.benchmark for r in Leaderboard(board).records()] == ["Kiani2007.IT-rsa"]
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: interrupted; ") and "kept" in line and "nothing was written" not in line
