"""``brainbench sweep`` with the local executor: real jobs (submitit worker processes) scoring the example plugin on
Kiani2007.IT-rsa; plan, skip, force, a failing job, and resume after the submitting process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from brainbench.benchmarks.scoring import score
from brainbench.leaderboard import Leaderboard
from brainbench.threads import available_cpus

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "my_plugin.py"
BENCHMARK = "Kiani2007.IT-rsa"

pytestmark = pytest.mark.mirror


@pytest.fixture
def tinycnn(cli, home):
    """The README's example plugin, registered in the test's home (the jobs inherit BRAINBENCH_HOME)."""
    assert cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn").exit_code == 0
    return "tinycnn"


def _sweep(cli, mirror, board, *args):
    return cli("sweep", *args, "-b", BENCHMARK, "--data-mirror", mirror, "--leaderboard", board, "--json")


def test_sweep_scores_skips_what_is_done_and_force_redoes_it(cli, home, mirror, tinycnn, tmp_path):
    board = tmp_path / "board.sqlite"
    models = ("-m", "tinycnn --random-init --device cpu", "-m", "tinycnn --random-init --seed 1 --device cpu")
    first = _sweep(cli, mirror, board, *models, "--jobs", "2", "--gpus", "none", "--folder", tmp_path / "first")
    assert first.exit_code == 0, first.stderr
    assert [job["status"] for job in json.loads(first.stdout)] == ["done", "done"]
    records = Leaderboard(board).records(with_units=True)
    assert sorted(r.seed for r in records) == [0, 1] and {r.benchmark for r in records} == {BENCHMARK}
    if not any(os.environ.get(name) for name in ("BRAINBENCH_THREADS", "OMP_NUM_THREADS")):
        # Two CPU jobs at once share this machine's CPUs instead of each taking all of them.
        assert {r.details["torch_threads"] for r in records} == {max(1, available_cpus() // 2)}

    # The jobs' records are those of the same score() a user calls, run here in this process: same weights, layer,
    # and scores up to float32 summation order (other thread counts in the workers: 1e-6 of a score in 0..1).
    for record in records:
        reference = score("tinycnn", [BENCHMARK], random_init=True, seed=record.seed, device="cpu",
                          data_mirrors=[mirror], save=False)[0]
        assert record.weights_digest == reference.weights_digest and record.layer == reference.layer
        assert record.raw == pytest.approx(reference.raw, abs=1e-6)
        assert record.ceiled == pytest.approx(reference.ceiled, abs=1e-6)
        # The per-unit results a paired comparison resamples came back from the worker too (NumPy arrays).
        assert sorted(record.units) == sorted(reference.units) and record.units
        for name, values in reference.units.items():
            if np.asarray(values).dtype.kind in "fc":
                np.testing.assert_allclose(record.units[name], values, atol=1e-6)
            else:
                np.testing.assert_array_equal(record.units[name], values)

    # Done: same model key (weights digest included), seed and benchmark version → nothing to run.
    again = _sweep(cli, mirror, board, *models, "--dry-run")
    plan = json.loads(again.stdout)
    assert plan["jobs"] == [] and len(plan["skipped"]) == 2, again.stdout
    assert {s["reason"] for s in plan["skipped"]} == {f"record {r.id} holds v{r.benchmark_version} for the same "
                                                      "model key and seed" for r in records}
    assert _sweep(cli, mirror, board, *models).exit_code == 0
    assert len(Leaderboard(board).records()) == 2

    # Another key: chosen layers, another seed or --force are each run.
    other = _sweep(cli, mirror, board, "-m", "tinycnn --random-init --layers 3,5", "-m",
                   "tinycnn --random-init --seed 2", "--dry-run")
    assert [job["model"] for job in json.loads(other.stdout)["jobs"]] == [
        "tinycnn --random-init --layers 3,5", "tinycnn --random-init --seed 2"]
    forced = _sweep(cli, mirror, board, *models, "--force", "--jobs", "2", "--gpus", "none")
    assert forced.exit_code == 0, forced.stderr
    after = Leaderboard(board).records()
    assert len(after) == 4 and len({r.uid for r in after}) == 4


def test_a_failing_job_does_not_stop_the_others_and_the_exit_status_says_so(cli, home, mirror, tinycnn, tmp_path):
    # Weights of another network: the model cannot be built, which only the job finds out.
    wrong = tmp_path / "wrong.pth"
    torch.save({"weight": torch.zeros(3, 3)}, wrong)
    board = tmp_path / "board.sqlite"
    result = _sweep(cli, mirror, board, "-m", f"tinycnn --weights {wrong}", "-m", "tinycnn --random-init",
                    "--jobs", "2", "--gpus", "none", "--folder", tmp_path / "sweep")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: 1 of 2 job(s) failed (job 0;"), result.stderr
    jobs = json.loads(result.stdout)
    assert [job["status"] for job in jobs] == ["failed", "done"]
    assert f"{BENCHMARK}: The weights in {wrong} do not fit tinycnn" in jobs[0]["error"]
    log = Path(jobs[0]["log"])
    assert log.is_file() and "do not fit tinycnn" in log.read_text()
    assert [r.model_label for r in Leaderboard(board).records()] == ["tinycnn (random-init)"]


def _events(folder: Path) -> list[dict]:
    file = folder / "events.jsonl"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.endswith("}")]


def test_resume_after_the_submitting_process_is_killed_adds_every_record_once(home, mirror, tinycnn, tmp_path):
    board, folder = tmp_path / "board.sqlite", tmp_path / "sweep"
    command = [sys.executable, "-m", "brainbench", "sweep", "-b", BENCHMARK, "--data-mirror", str(mirror),
               "--leaderboard", str(board), "--jobs", "1", "--gpus", "none", "--folder", str(folder)]
    for seed in range(3):
        command += ["-m", f"tinycnn --random-init --seed {seed} --device cpu"]
    sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 300
        # Killed once job 0 is collected and job 1 submitted: job 1's worker goes on alone, job 2 was never started.
        while not any(e["event"] == "submitted" and e["job"] == 1 for e in _events(folder)):
            assert sweep.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep did not get to its second job"
            time.sleep(0.2)
    finally:
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
    before = _events(folder)
    assert [e["job"] for e in before if e["event"] == "collected"] == [0]
    assert len(Leaderboard(board).records()) == 1

    resumed = subprocess.run([sys.executable, "-m", "brainbench", "sweep", "--resume", str(folder), "--json"],
                             capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    jobs = json.loads(resumed.stdout)
    assert [(j["status"], j["collected_earlier"]) for j in jobs] == [("done", True), ("done", False), ("done", False)]
    records = Leaderboard(board).records()
    assert sorted(r.seed for r in records) == [0, 1, 2] and len({r.uid for r in records}) == 3
    submitted = [e["job"] for e in _events(folder) if e["event"] == "submitted"]
    # Jobs 0 and 1 ran once: 0 was collected before the kill, 1's result was collected from its worker; 2 ran now.
    assert sorted(submitted) == [0, 1, 2]

    # Resuming a finished sweep runs nothing and adds nothing.
    again = subprocess.run([sys.executable, "-m", "brainbench", "sweep", "--resume", str(folder), "--json"],
                           capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(Leaderboard(board).records()) == 3
