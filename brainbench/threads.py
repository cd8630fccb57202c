"""How many CPU threads torch may use: the CPUs this process may run on (affinity, cgroup quota), or the user's choice.

Precedence in :func:`configure`: the ``threads`` argument (``--threads``), then ``BRAINBENCH_THREADS``, then
``OMP_NUM_THREADS`` (left to torch, which reads it), then :func:`automatic_threads`: the CPUs this process may use
that other processes leave free, measured now from ``/proc/stat`` (not from the load average, which lags a minute
and so would still count our own previous run).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import NamedTuple

from brainbench.errors import BrainbenchError

ENV = "BRAINBENCH_THREADS"
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_STAT = Path("/proc/stat")
SAMPLE_SECONDS = 0.15  # long enough for ~15 scheduler ticks per CPU at 100 Hz, short beside a model's start-up


def cgroup_v2_cpus(cpu_max: str) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` ("QUOTA PERIOD" in µs, or "max PERIOD"); None when unlimited."""
    fields = cpu_max.split()
    if not fields or fields[0] == "max":
        return None
    period = int(fields[1]) if len(fields) > 1 else 100_000  # the kernel's default period
    return int(fields[0]) / period if period > 0 else None


def cgroup_v1_cpus(cfs_quota_us: str, cfs_period_us: str) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; None when unlimited (quota -1)."""
    quota, period = int(cfs_quota_us), int(cfs_period_us)
    return quota / period if quota > 0 and period > 0 else None


def cgroup_paths(proc_self_cgroup: str) -> dict[str, str]:
    """The process's cgroup per controller from ``/proc/self/cgroup`` ("ID:CONTROLLERS:PATH" lines); "" is v2."""
    paths = {}
    for line in proc_self_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def quota_cpus(root: Path = CGROUP_ROOT, proc_self_cgroup: str | None = None) -> float | None:
    """The tightest CPU quota on the process's cgroup and its ancestors (v2, else v1); None when there is none.

    A quota caps the CPU time of all the group's threads together: more busy threads than the quota only get
    throttled. ``proc_self_cgroup`` defaults to the file's contents (read here).
    """
    if proc_self_cgroup is None:
        try:
            proc_self_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            proc_self_cgroup = ""
    paths = cgroup_paths(proc_self_cgroup)
    folders_v2 = _with_ancestors(root, paths.get("", "/"))
    folders_v1 = [f for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu")
                  for f in _with_ancestors(root / mount, paths.get("cpu", "/"))]
    quotas = [_v2_quota(f) for f in folders_v2] + [_v1_quota(f) for f in folders_v1]
    found = [q for q in quotas if q is not None]
    return min(found) if found else None


def _with_ancestors(mount: Path, path: str) -> list[Path]:
    """The cgroup folder for ``path`` under ``mount``, then each parent up to the mount (quotas nest)."""
    parts = [p for p in path.split("/") if p]
    return [mount.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def _v2_quota(folder: Path) -> float | None:
    try:
        return cgroup_v2_cpus((folder / "cpu.max").read_text())
    except (OSError, ValueError):  # no such group or controller here, or a file we cannot read
        return None


def _v1_quota(folder: Path) -> float | None:
    try:
        return cgroup_v1_cpus((folder / "cpu.cfs_quota_us").read_text(), (folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None


def affinity_cpus() -> int:
    """CPUs this process may be scheduled on (its affinity mask; all CPUs where the OS has no such call)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_cpus() -> int:
    """Whole CPUs this process may use: its affinity, capped by the cgroup quota rounded down (at least 1).

    Rounded down because threads beyond the quota are throttled together, stalling every thread that waits on them.
    """
    quota = quota_cpus()
    cpus = affinity_cpus()
    return max(1, min(cpus, math.floor(quota))) if quota is not None else cpus


class CpuTimes(NamedTuple):
    """The aggregate ``cpu`` line of ``/proc/stat``: CPU time of all online CPUs together, in clock ticks."""

    busy: int  # user nice system irq softirq steal
    idle: int  # idle iowait
    online: int  # number of online CPUs (the ``cpuN`` lines)


def parse_proc_stat(text: str) -> CpuTimes:
    """:class:`CpuTimes` from the text of ``/proc/stat`` (guest time is already inside user and nice)."""
    lines = text.splitlines()
    aggregate = next(line for line in lines if line.startswith("cpu "))
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in (aggregate.split()[1:] + ["0"] * 8)[:8])
    online = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return CpuTimes(user + nice + system + irq + softirq + steal, idle + iowait, max(1, online))


def busy_cpus(before: CpuTimes, after: CpuTimes) -> float:
    """How many CPUs were busy between two samples: online CPUs × the busy fraction of the CPU time in between."""
    busy, idle = after.busy - before.busy, after.idle - before.idle
    total = busy + idle
    return after.online * busy / total if total > 0 else 0.0


def free_cpus(cpus: int, busy: float, online_cpus: int) -> int:
    """Of ``cpus`` usable CPUs, how many other work leaves free: the machine's idle CPUs (``online_cpus`` minus the
    ``busy`` CPUs, rounded), at most ``cpus`` and at least 1.

    ``busy`` counts the whole machine (the host's, inside most containers), so it is compared with the machine's CPU
    count, not with a quota.
    """
    idle = math.floor(online_cpus - busy + 0.5)
    return max(1, min(cpus, idle))


class Sample(NamedTuple):
    """The machine's CPU times and this process's own CPU time at one moment (:func:`sample`)."""

    cpu: CpuTimes
    own: float  # user + system seconds of this process (all its threads)


def sample() -> Sample | None:
    """The machine's CPU times (``/proc/stat``) and this process's CPU seconds now; None where there is no such file."""
    try:
        cpu = parse_proc_stat(PROC_STAT.read_text())
    except (OSError, StopIteration, ValueError):
        return None
    own = os.times()
    return Sample(cpu, own.user + own.system)


def interval_seconds(before: Sample, after: Sample, ticks_per_second: float | None = None) -> float:
    """Wall seconds between two samples, from the CPU ticks that passed (all CPUs together / online CPUs)."""
    ticks = ticks_per_second if ticks_per_second is not None else os.sysconf("SC_CLK_TCK")
    total = (after.cpu.busy + after.cpu.idle) - (before.cpu.busy + before.cpu.idle)
    return total / after.cpu.online / ticks


def others_busy_cpus(before: Sample, after: Sample, ticks_per_second: float | None = None) -> float:
    """How many CPUs other processes kept busy between two samples: the machine's busy CPUs (:func:`busy_cpus`)
    minus this process's own CPU use over the same interval (so that the interval may cover our own work)."""
    seconds = interval_seconds(before, after, ticks_per_second)
    if seconds <= 0:
        return 0.0
    return max(0.0, busy_cpus(before.cpu, after.cpu) - (after.own - before.own) / seconds)


def measured_busy_cpus(seconds: float = SAMPLE_SECONDS, since: Sample | None = None) -> tuple[float, int] | None:
    """(CPUs other processes keep busy, online CPUs) from ``/proc/stat``; None where there is no such file.

    Over the interval from ``since`` to now when it lasted at least ``seconds`` (the caller worked in between: its
    own CPU time is taken out), else over the next ``seconds`` (this process sleeps in between).
    """
    now = sample()
    if now is None:
        return None
    if since is None or interval_seconds(since, now) < seconds:
        time.sleep(seconds)
        since, now = now, sample()
        if now is None:
            return None
    return others_busy_cpus(since, now), now.cpu.online


def automatic_threads(since: Sample | None = None) -> int:
    """The CPUs this process may use (:func:`available_cpus`) that other processes leave free (:func:`free_cpus`).

    Busy CPUs are measured now (:func:`measured_busy_cpus`; from ``since`` when given: no wait); where there is no
    ``/proc/stat`` (macOS), the 1-minute load average stands in; with neither, all usable CPUs. An OpenMP thread that
    shares its CPU with another busy process stalls every other thread at each barrier: under load, fewer threads
    finish sooner (``bench/threads_under_load.py``).
    """
    cpus = available_cpus()
    measured = measured_busy_cpus(since=since)
    if measured is not None:
        return free_cpus(cpus, *measured)
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this OS
        return cpus
    return free_cpus(cpus, load, os.cpu_count() or cpus)


def threads_from_env(environ: dict[str, str] | None = None) -> int | None:
    """``BRAINBENCH_THREADS`` as a whole number ≥ 1; None when unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise BrainbenchError(f"{ENV} must be a whole number of threads, 1 or more, not '{value}'.")
    return int(value)


def choose(threads: int | None = None, environ: dict[str, str] | None = None,
           since: Sample | None = None) -> int | None:
    """The thread count :func:`configure` sets; None leaves torch's own (only when ``OMP_NUM_THREADS`` is set).
    ``since``: a :func:`sample` taken earlier, from which the automatic choice measures the others' load."""
    environ = dict(os.environ) if environ is None else environ
    if threads is not None:
        if threads < 1:
            raise BrainbenchError(f"the number of threads must be 1 or more, not {threads}.")
        return threads
    from_env = threads_from_env(environ)
    if from_env is not None:
        return from_env
    if environ.get("OMP_NUM_THREADS", "").strip():
        return None  # the user's OpenMP setting, which torch has read at import
    return automatic_threads(since)


def configure(threads: int | None = None, since: Sample | None = None) -> int:
    """Set torch's intra-op threads (see :func:`choose`); returns the count torch now uses."""
    import torch

    chosen = choose(threads, since=since)
    if chosen is not None and chosen != torch.get_num_threads():
        torch.set_num_threads(chosen)
    return torch.get_num_threads()
