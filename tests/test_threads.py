"""brainbench.threads: cgroup quota parsing, affinity, the precedence of --threads / BRAINBENCH_THREADS, the option."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from brainbench import threads
from brainbench.errors import BrainbenchError


@pytest.mark.parametrize(("text", "cpus"), [
    ("max 100000\n", None),             # no limit (the kernel's default)
    ("200000 100000\n", 2.0),           # docker --cpus=2
    ("150000 100000\n", 1.5),
    ("50000 100000\n", 0.5),
    ("400000\n", 4.0),                  # period omitted: the kernel's default 100 ms
])
def test_cgroup_v2_cpu_max(text: str, cpus: float | None) -> None:
    assert threads.cgroup_v2_cpus(text) == cpus


@pytest.mark.parametrize(("quota", "period", "cpus"), [
    ("-1\n", "100000\n", None),         # no limit
    ("300000\n", "100000\n", 3.0),
    ("25000\n", "50000\n", 0.5),
])
def test_cgroup_v1_cfs_quota(quota: str, period: str, cpus: float | None) -> None:
    assert threads.cgroup_v1_cpus(quota, period) == cpus


def test_proc_self_cgroup_lists_each_controller() -> None:
    text = "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/init.scope\n0::/user.slice/u.scope\n"
    paths = threads.cgroup_paths(text)
    assert paths["cpu"] == paths["cpuacct"] == "/docker/abc"
    assert paths[""] == "/user.slice/u.scope"


def _write(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, content in (line.split("=") for line in text.split(";")):
        (path / name).write_text(content)


def test_quota_is_the_tightest_of_the_group_and_its_ancestors_v2(tmp_path: Path) -> None:
    _write(tmp_path, "cpu.max=max 100000")
    _write(tmp_path / "outer", "cpu.max=300000 100000")
    _write(tmp_path / "outer" / "inner", "cpu.max=max 100000")
    assert threads.quota_cpus(tmp_path, "0::/outer/inner\n") == 3.0
    assert threads.quota_cpus(tmp_path, "0::/\n") is None


def test_quota_v1_in_a_hybrid_layout(tmp_path: Path) -> None:
    # this machine's layout: v1 controllers under <root>/cpu, a v2 'unified' hierarchy without cpu.max
    _write(tmp_path / "cpu", "cpu.cfs_quota_us=-1;cpu.cfs_period_us=100000")
    _write(tmp_path / "cpu" / "job", "cpu.cfs_quota_us=150000;cpu.cfs_period_us=100000")
    assert threads.quota_cpus(tmp_path, "2:cpuacct:/\n1:cpu:/job\n0::/\n") == 1.5
    assert threads.quota_cpus(tmp_path, "1:cpu:/\n0::/\n") is None
    assert threads.quota_cpus(tmp_path / "missing", "") is None


@pytest.mark.parametrize(("quota", "expected"), [(None, 4), (8.0, 4), (2.5, 2), (0.5, 1)])
def test_available_cpus_is_affinity_capped_by_the_quota_rounded_down(
        monkeypatch: pytest.MonkeyPatch, quota: float | None, expected: int) -> None:
    monkeypatch.setattr(threads, "affinity_cpus", lambda: 4)
    monkeypatch.setattr(threads, "quota_cpus", lambda: quota)
    assert threads.available_cpus() == expected


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_affinity_is_read_from_the_process_mask() -> None:
    mask = os.sched_getaffinity(0)
    one = {min(mask)}
    os.sched_setaffinity(0, one)
    try:
        assert threads.affinity_cpus() == 1
    finally:
        os.sched_setaffinity(0, mask)
    assert threads.affinity_cpus() == len(mask)


@pytest.mark.parametrize(("cpus", "load", "online", "expected"), [
    (2, 0.1, 2, 2),     # idle machine: every usable CPU
    (2, 0.6, 2, 1),     # 1.4 idle CPUs round to 1
    (2, 2.0, 2, 1),     # every CPU busy elsewhere: one thread, never zero
    (8, 9.5, 8, 1),     # oversubscribed
    (8, 3.0, 8, 5),
    (2, 40.0, 64, 2),   # a 2-CPU quota on a busy 64-CPU host: 24 CPUs idle there, the quota caps
])
def test_free_cpus_leaves_the_cpus_others_use(cpus: int, load: float, online: int, expected: int) -> None:
    assert threads.free_cpus(cpus, load, online) == expected


def test_automatic_threads_reads_the_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "available_cpus", lambda: 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    assert threads.automatic_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 5.0, 5.0))  # only the last minute counts
    assert threads.automatic_threads() == 4


def test_precedence_option_then_env_then_omp_then_automatic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "automatic_threads", lambda: 6)
    assert threads.choose(3, {"BRAINBENCH_THREADS": "5", "OMP_NUM_THREADS": "4"}) == 3
    assert threads.choose(None, {"BRAINBENCH_THREADS": "5", "OMP_NUM_THREADS": "4"}) == 5
    assert threads.choose(None, {"OMP_NUM_THREADS": "4"}) is None  # torch has read OMP_NUM_THREADS itself
    assert threads.choose(None, {"BRAINBENCH_THREADS": " "}) == 6
    assert threads.choose(None, {}) == 6


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_env_value_is_one_sentence(value: str) -> None:
    with pytest.raises(BrainbenchError, match=f"BRAINBENCH_THREADS must be a whole number .* not '{value}'"):
        threads.choose(None, {"BRAINBENCH_THREADS": value})


def test_configure_sets_torch_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("BRAINBENCH_THREADS", "1")
    try:
        assert threads.configure(None) == 1 == torch.get_num_threads()
        assert threads.configure(2) == 2 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _command() -> click.Command:
    from brainbench.cli import options

    @click.command()
    @options.threads
    def run() -> None:
        import torch

        click.echo(torch.get_num_threads())

    return run


def test_threads_option_sets_torch_and_refuses_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("BRAINBENCH_THREADS", raising=False)
    monkeypatch.setattr(threads, "automatic_threads", lambda: 1)
    runner = CliRunner()
    try:
        assert runner.invoke(_command(), ["--threads", "2"]).output == "2\n"
        assert runner.invoke(_command(), []).output == "1\n"  # the callback also runs for the default
        refused = runner.invoke(_command(), ["--threads", "0"])
        assert refused.exit_code == 2 and "--threads" in refused.output
    finally:
        torch.set_num_threads(before)
