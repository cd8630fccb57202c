"""A real Slurm cluster (in CI: the single node of .ci/slurm/setup): a plain submitit job array runs on it, and
``brainbench sweep --executor slurm`` of two small models lands the scores of the local executor.

Skips with the reason when no Slurm is up here; fails instead when BRAINBENCH_REQUIRE_SLURM is set (CI starts one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from brainbench.leaderboard import Leaderboard, ScoreRecord

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "my_plugin.py"
BENCHMARK = "Kiani2007.IT-rsa"
UP = {"idle", "mixed", "allocated", "completing"}  # sinfo %T of a node that runs jobs (a suffix such as * means not)
HANG_S = 600  # a guard against a job that never runs, far above the seconds these jobs take; not a timed assertion


def slurm_down() -> str | None:
    """Why no Slurm job can run here, or None when a controller answers and a node is up."""
    sinfo = shutil.which("sinfo")
    if sinfo is None:
        return "Slurm is not installed here (no sinfo on PATH); .ci/slurm/setup installs and starts a one-node cluster"
    try:
        found = subprocess.run([sinfo, "-h", "-N", "-o", "%N %T"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 60 s"
    if found.returncode != 0:
        said = found.stderr.strip().splitlines()
        return f"sinfo reaches no Slurm controller ({said[0] if said else f'exit status {found.returncode}'})"
    nodes = [line.split() for line in found.stdout.splitlines() if line.strip()]
    if not any(len(node) == 2 and node[1] in UP for node in nodes):
        return f"no Slurm node is up (sinfo: {'; '.join(' '.join(n) for n in nodes) or 'no nodes'})"
    return None


@pytest.fixture(scope="module")
def slurm() -> None:
    """A running Slurm cluster: skips without one, fails without one when BRAINBENCH_REQUIRE_SLURM is set."""
    reason = slurm_down()
    if reason is not None:
        if os.environ.get("BRAINBENCH_REQUIRE_SLURM"):  # CI started a cluster: its tests must run, not skip
            pytest.fail(f"BRAINBENCH_REQUIRE_SLURM is set but {reason}")
        pytest.skip(reason)


def test_a_submitit_job_array_runs_on_the_cluster(slurm, tmp_path: Path) -> None:
    """Each task reads the array id and its index from the environment only Slurm gives it. Without accounting
    (the CI cluster has none) submitit logs that sacct failed and still collects the results from the job folder."""
    import submitit

    executor = submitit.SlurmExecutor(folder=tmp_path / "jobs")
    executor.update_parameters(time=5, job_name="brainbench-test")
    jobs = executor.map_array(os.getenv, ["SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"])
    deadline = time.monotonic() + HANG_S
    while not all(job.done() for job in jobs) and time.monotonic() < deadline:
        time.sleep(1)
    logs = "\n".join(Path(job.paths.stderr).read_text() for job in jobs if Path(job.paths.stderr).exists())
    assert all(job.done() for job in jobs), f"the jobs did not end within {HANG_S} s; their logs:\n{logs}"
    array_id, task = (job.result() for job in jobs)
    assert array_id is not None and array_id.isdigit(), logs
    assert [job.job_id for job in jobs] == [f"{array_id}_0", f"{array_id}_1"]
    assert task == "1"


def _by_model(records: list[ScoreRecord]) -> dict[str, ScoreRecord]:
    by_label = {r.model_label: r for r in records}
    assert len(by_label) == len(records), [r.model_label for r in records]
    return by_label


@pytest.mark.mirror
def test_a_slurm_sweep_lands_the_scores_of_a_local_one(slurm, cli, home: Path, mirror: Path, tmp_path: Path) -> None:
    """The example plugin and a random-init timm:resnet18, one Slurm array task each, then the same sweep on local
    worker processes: the same records on both leaderboards."""
    assert cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn").exit_code == 0
    models = ("-m", "tinycnn --random-init --device cpu", "-m", "timm:resnet18 --random-init --device cpu")
    boards = {executor: tmp_path / f"{executor}.sqlite" for executor in ("slurm", "local")}
    runs = {
        "slurm": ("--executor", "slurm", "--time", "30", "--folder", tmp_path / "slurm-jobs"),
        "local": ("--executor", "local", "--jobs", "2", "--gpus", "none", "--folder", tmp_path / "local-jobs"),
    }
    for executor, options in runs.items():
        result = cli("sweep", *models, "-b", BENCHMARK, *options, "--data-mirror", mirror,
                     "--leaderboard", boards[executor], "--json")
        assert result.exit_code == 0, f"{executor}: {result.stderr}"
        statuses = json.loads(result.stdout)
        assert [s["status"] for s in statuses] == ["done", "done"], statuses
        if executor == "slurm":
            # Logs named by submitit after the array (%A_%a_%t), from sbatch scripts: the jobs went through Slurm.
            assert all(re.fullmatch(r"\d+_\d+_0_log\.err", Path(s["log"]).name) for s in statuses), statuses
            scripts = list((tmp_path / "slurm-jobs").rglob("*_submission.sh"))
            assert scripts and all("#SBATCH --array=" in s.read_text() for s in scripts), scripts

    on_slurm = _by_model(Leaderboard(boards["slurm"]).records(with_units=True))
    on_local = _by_model(Leaderboard(boards["local"]).records(with_units=True))
    assert sorted(on_slurm) == sorted(on_local) == ["timm:resnet18 (random-init)", "tinycnn (random-init)"]
    for label, local in on_local.items():
        remote = on_slurm[label]
        # Same seed: bit-identical random weights (the digest), so the same layer and benchmark version.
        assert (remote.weights_digest, remote.benchmark, remote.benchmark_version, remote.layer, remote.seed) == (
            local.weights_digest, local.benchmark, local.benchmark_version, local.layer, local.seed)
        assert remote.uid != local.uid
        # On CPU the scores differ at most by float32 summation order (another thread count in the Slurm job than
        # in a local worker): ~1e-7 relative in the activations, 1e-6 of a score in 0..1 allows for that and no more.
        assert remote.raw == pytest.approx(local.raw, abs=1e-6)
        assert remote.ceiled == pytest.approx(local.ceiled, abs=1e-6)
        assert (remote.error is None) == (local.error is None)
        if local.error is not None:
            assert remote.error == pytest.approx(local.error, abs=1e-6)
        assert sorted(remote.units) == sorted(local.units)
        for name, array in local.units.items():
            if np.issubdtype(array.dtype, np.number):  # as above: summation order, stored as float32 at most
                np.testing.assert_allclose(remote.units[name], array, rtol=0, atol=1e-5)
            else:
                np.testing.assert_array_equal(remote.units[name], array)


def _events(folder: Path) -> list[dict]:
    file = folder / "events.jsonl"
    return [json.loads(line) for line in file.read_text().splitlines() if line.endswith("}")] if file.exists() else []


def _queue(job_id: str) -> list[str]:
    """The states squeue gives the job (an array: each task's), [] once it has left the queue."""
    found = subprocess.run(["squeue", "-h", "-r", "-j", job_id, "-o", "%T"], capture_output=True, text=True,
                           timeout=60)
    return found.stdout.split() if found.returncode == 0 else []


def _brainbench(*args: str | Path) -> list[str]:
    """The command line of the installed ``brainbench`` (a process of its own: stdout is the real one)."""
    return [sys.executable, "-m", "brainbench", *(str(a) for a in args)]


@pytest.mark.mirror
def test_a_killed_slurm_sweep_resumes_without_running_a_finished_job_again(slurm, cli, home: Path, mirror: Path,
                                                                            tmp_path: Path) -> None:
    """The submitting process is killed while its array runs on the cluster; then one task is killed too (a node lost,
    say). ``--resume`` collects the task that finished from the job folder without running it again, and submits the
    killed one anew — which it can tell only from Slurm's queue, as without accounting submitit cannot. Its --json
    output is JSON alone, whatever submitit logs about the missing accounting."""
    assert cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn").exit_code == 0
    board, folder = tmp_path / "board.sqlite", tmp_path / "sweep"
    command = _brainbench("sweep", "-b", BENCHMARK, "--data-mirror", mirror, "--leaderboard", board,
                          "--executor", "slurm", "--time", "30", "--folder", folder)
    for seed in range(2):
        command += ["-m", f"tinycnn --random-init --seed {seed} --device cpu"]
    sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        deadline = time.monotonic() + HANG_S
        while len(ids := {e["job"]: e["id"] for e in _events(folder) if e["event"] == "submitted"}) < 2 \
                or _queue(ids[0].split("_")[0]) != ["RUNNING", "RUNNING"]:
            assert sweep.poll() is None, "the sweep ended before its jobs ran"
            assert time.monotonic() < deadline, f"the sweep's array was not running after {HANG_S} s"
            time.sleep(0.2)
    finally:
        sweep.kill()
        sweep.wait()
    assert not [e for e in _events(folder) if e["event"] == "collected"]
    # Task 1 killed outright (SIGKILL to its batch script and steps: submitit's job ignores SIGTERM to finish).
    subprocess.run(["scancel", "--full", "--signal=KILL", ids[1]], check=True, timeout=60)
    deadline = time.monotonic() + HANG_S
    while _queue(ids[0]) or _queue(ids[1]):
        assert time.monotonic() < deadline, f"the array's tasks were still queued after {HANG_S} s"
        time.sleep(0.5)
    assert (folder / "jobs" / f"{ids[0]}_0_result.pkl").exists(), "task 0 ended without its result"
    assert not (folder / "jobs" / f"{ids[1]}_0_result.pkl").exists(), "task 1 ended with a result before its kill"

    resumed = subprocess.run(_brainbench("sweep", "--resume", folder, "--json"), capture_output=True, text=True,
                             env=os.environ.copy(), timeout=HANG_S)
    assert resumed.returncode == 0, resumed.stderr
    statuses = json.loads(resumed.stdout)
    assert [(s["status"], s["collected_earlier"]) for s in statuses] == [("done", False), ("done", False)], statuses
    submitted = [(e["job"], e["id"]) for e in _events(folder) if e["event"] == "submitted"]
    assert submitted[:2] == [(0, ids[0]), (1, ids[1])] and [job for job, _ in submitted[2:]] == [1], submitted
    records = Leaderboard(board).records()
    assert sorted(r.seed for r in records) == [0, 1] and len({r.uid for r in records}) == 2
    again = subprocess.run(_brainbench("sweep", "--resume", folder, "--json"), capture_output=True, text=True,
                           env=os.environ.copy(), timeout=HANG_S)
    assert again.returncode == 0, again.stderr
    assert [s["collected_earlier"] for s in json.loads(again.stdout)] == [True, True]
    assert len(Leaderboard(board).records()) == 2
