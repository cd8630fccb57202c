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


@pytest.mark.parametrize(("cpus", "busy", "online", "expected"), [
    (2, 0.1, 2, 2),     # idle machine: every usable CPU
    (2, 0.6, 2, 1),     # 1.4 idle CPUs round to 1
    (2, 2.0, 2, 1),     # every CPU busy elsewhere: one thread, never zero
    (8, 9.5, 8, 1),     # oversubscribed (a load average can exceed the CPU count)
    (8, 3.0, 8, 5),
    (2, 40.0, 64, 2),   # a 2-CPU quota on a busy 64-CPU host: 24 CPUs idle there, the quota caps
])
def test_free_cpus_leaves_the_cpus_others_use(cpus: int, busy: float, online: int, expected: int) -> None:
    assert threads.free_cpus(cpus, busy, online) == expected


# /proc/stat as Linux writes it: the aggregate line (user nice system idle iowait irq softirq steal guest guest_nice),
# then one line per online CPU, then other counters
STAT_BEFORE = """cpu  1000 50 200 8000 100 0 10 5 0 0
cpu0 500 25 100 4000 50 0 5 3 0 0
cpu1 500 25 100 4000 50 0 5 2 0 0
intr 12345 0 0
ctxt 999
"""


def _stat(user: int, idle: int) -> str:
    return STAT_BEFORE.replace("cpu  1000 50 200 8000", f"cpu  {user} 50 200 {idle}")


def test_parse_proc_stat_sums_busy_and_idle_ticks_and_counts_cpus() -> None:
    times = threads.parse_proc_stat(STAT_BEFORE)
    assert times.busy == 1000 + 50 + 200 + 0 + 10 + 5  # user nice system irq softirq steal; guest is inside user
    assert times.idle == 8000 + 100                    # idle iowait
    assert times.online == 2
    old_kernel = threads.parse_proc_stat("cpu  10 0 5 80\ncpu0 10 0 5 80\n")  # before iowait existed (2.4)
    assert (old_kernel.busy, old_kernel.idle, old_kernel.online) == (15, 80, 1)


@pytest.mark.parametrize(("busy_ticks", "idle_ticks", "expected"), [
    (0, 30, 0.0),       # nothing ran: no CPU busy
    (30, 0, 2.0),       # both CPUs busy the whole interval
    (15, 15, 1.0),      # half the CPU time busy on 2 CPUs: one CPU's worth
    (6, 24, 0.4),       # 20 % of 2 CPUs
])
def test_busy_cpus_is_online_times_the_busy_fraction(busy_ticks: int, idle_ticks: int, expected: float) -> None:
    before = threads.parse_proc_stat(STAT_BEFORE)
    after = threads.parse_proc_stat(_stat(1000 + busy_ticks, 8000 + idle_ticks))
    # the closed form is a ratio of small integers times 2; 1e-12 allows only the float rounding of that division
    assert threads.busy_cpus(before, after) == pytest.approx(expected, abs=1e-12)


def test_busy_cpus_of_an_empty_interval_is_zero() -> None:
    same = threads.parse_proc_stat(STAT_BEFORE)
    assert threads.busy_cpus(same, same) == 0.0


def test_automatic_threads_measures_busy_cpus_now_not_the_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    # the bug: right after our own 2-thread run the 1-minute load average is still ~2 on an idle 2-CPU machine
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 1.0, 0.5))
    samples = iter([STAT_BEFORE, _stat(1001, 8029)])  # 1 busy tick of 30: 0.07 CPUs busy
    monkeypatch.setattr(threads, "PROC_STAT", type("Stat", (), {"read_text": lambda self: next(samples)})())
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: None)
    assert threads.automatic_threads() == 2


@pytest.mark.parametrize(("own_seconds", "expected"), [
    (0.0, 1.0),   # 15 busy ticks of 30 on 2 CPUs, none ours: one CPU busy with other work
    (0.15, 0.0),  # all 15 busy ticks were ours (0.15 s at 100 ticks/s): nothing else ran
    (0.05, 2 / 3),  # 5 of the 15 were ours: 10 of 30 ticks, a third of 2 CPUs
    (0.30, 0.0),  # more own time than busy ticks (tick rounding): never below 0
])
def test_others_busy_cpus_takes_out_our_own_cpu_time(own_seconds: float, expected: float) -> None:
    before = threads.Sample(threads.parse_proc_stat(STAT_BEFORE), 2.0)
    after = threads.Sample(threads.parse_proc_stat(_stat(1015, 8015)), 2.0 + own_seconds)
    # closed forms of small integer ratios; 1e-12 allows only their float rounding
    assert threads.others_busy_cpus(before, after, ticks_per_second=100) == pytest.approx(expected, abs=1e-12)
    assert threads.interval_seconds(before, after, ticks_per_second=100) == pytest.approx(0.15, abs=1e-12)


def test_a_long_enough_interval_since_an_earlier_sample_needs_no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # The earlier sample covers our own start-up (imports): our CPU time is taken out, and nothing sleeps.
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.setattr(threads.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: pytest.fail("slept despite a long interval"))
    since = threads.Sample(threads.parse_proc_stat(STAT_BEFORE), 1.0)
    # 200 ticks on 2 CPUs = 1 s; 100 busy ticks, of which our own 1 s of importing = 100 ticks: the other CPU is free
    monkeypatch.setattr(threads, "sample", lambda: threads.Sample(threads.parse_proc_stat(_stat(1100, 8100)), 2.0))
    assert threads.automatic_threads(since) == 2
    # the same interval with only 0.2 s of our own: 80 ticks of others' work, 0.8 CPUs busy -> 1 thread
    monkeypatch.setattr(threads, "sample", lambda: threads.Sample(threads.parse_proc_stat(_stat(1100, 8100)), 1.2))
    assert threads.automatic_threads(since) == 1


def test_a_short_interval_since_an_earlier_sample_is_measured_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = []
    monkeypatch.setattr(threads.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    readings = iter([_stat(1001, 8001), _stat(1001, 8031)])  # 2 ticks since: 0.01 s, too short; then 30 idle ticks
    monkeypatch.setattr(threads, "sample", lambda: threads.Sample(threads.parse_proc_stat(next(readings)), 0.0))
    since = threads.Sample(threads.parse_proc_stat(STAT_BEFORE), 0.0)
    assert threads.measured_busy_cpus(since=since) == (0.0, 2)
    assert slept == [threads.SAMPLE_SECONDS]


def test_automatic_threads_falls_back_to_the_load_average_then_to_all_cpus(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(threads, "PROC_STAT", tmp_path / "no-proc-stat")  # as on macOS
    monkeypatch.setattr(threads, "available_cpus", lambda: 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    assert threads.automatic_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 5.0, 5.0))  # only the last minute counts
    assert threads.automatic_threads() == 4

    def no_load_average() -> tuple[float, float, float]:
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", no_load_average)
    assert threads.automatic_threads() == 4


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="no /proc/stat on this OS")
def test_live_reading_is_a_thread_count_in_range() -> None:
    measured = threads.measured_busy_cpus(0.05)
    assert measured is not None
    busy, online = measured
    assert 0.0 <= busy <= online and online >= 1
    chosen = threads.automatic_threads()
    assert isinstance(chosen, int) and 1 <= chosen <= threads.available_cpus()


def test_precedence_option_then_env_then_omp_then_automatic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "automatic_threads", lambda since=None: 6)
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
    monkeypatch.setattr(threads, "automatic_threads", lambda since=None: 1)
    runner = CliRunner()
    try:
        assert runner.invoke(_command(), ["--threads", "2"]).output == "2\n"
        assert runner.invoke(_command(), []).output == "1\n"  # the callback also runs for the default
        refused = runner.invoke(_command(), ["--threads", "0"])
        assert refused.exit_code == 2 and "--threads" in refused.output
    finally:
        torch.set_num_threads(before)
