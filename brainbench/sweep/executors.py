"""Where sweep jobs run, through submitit in both cases: worker processes on this machine (submitit's
LocalExecutor, at most ``jobs`` at once, each on one GPU of ``gpus`` via CUDA_VISIBLE_DEVICES) or a Slurm cluster
(submitit's SlurmExecutor, one job array)."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import submitit

from brainbench.errors import BrainbenchError
from brainbench.sweep.job import DataSettings, JobResult, run_job, split_threads
from brainbench.sweep.plan import Job

NO_LIMIT_MIN = 60 * 24 * 365  # a local job's time limit when none is given: none in practice
# submitit logs to stdout as well as stderr (e.g. "Bypassing sacct error" on a cluster without accounting); stdout is
# the sweep's output (--json), so its log goes to stderr alone.
logging.getLogger("submitit").handlers = [
    handler for handler in logging.getLogger("submitit").handlers if handler.get_name() != "submitit_out"]
SQUEUE_EVERY_S = 30.0


@dataclass(frozen=True)
class LocalSettings:
    """Worker processes on this machine: at most ``jobs`` at once; with ``gpus``, each job sees one of them only
    (CUDA_VISIBLE_DEVICES), jobs spread over them in turn; without, jobs see no GPU."""

    jobs: int = 1
    gpus: tuple[int, ...] = ()
    timeout_min: int = NO_LIMIT_MIN

    kind = "local"


@dataclass(frozen=True)
class SlurmSettings:
    """A Slurm job array: one array task per sweep job, ``jobs`` of them at once at most (None: as Slurm allows)."""

    partition: str | None = None
    timeout_min: int = 60
    gpus_per_job: int = 0
    cpus_per_job: int | None = None
    mem: str | None = None
    options: dict[str, str] = field(default_factory=dict)  # further sbatch options, KEY=VALUE
    jobs: int | None = None

    kind = "slurm"


Settings = LocalSettings | SlurmSettings


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    return {"kind": settings.kind, **asdict(settings)}


def settings_from_dict(data: dict[str, Any]) -> Settings:
    values = {k: v for k, v in data.items() if k != "kind"}
    if data.get("kind") == "local":
        return LocalSettings(**{**values, "gpus": tuple(values.get("gpus", ()))})
    if data.get("kind") == "slurm":
        return SlurmSettings(**values)
    raise BrainbenchError(f"Unknown executor {data.get('kind')!r} in a sweep plan; it was not written by this "
                          "brainbench.")


class Handle:
    """A submitted job: whether it has ended, and its result or the one sentence why there is none."""

    def __init__(self, job: submitit.Job, controller_pid: int | None = None) -> None:
        self.job = job
        self._pid = controller_pid  # a local job reattached after the submitting process died: its controller
        self._asked = -SQUEUE_EVERY_S  # when squeue was last asked about this job (time.monotonic())

    @property
    def job_id(self) -> str:
        return str(self.job.job_id)

    @property
    def log(self) -> Path:
        return Path(self.job.paths.stderr)

    def ended(self) -> bool:
        """Whether the job's process has ended (with or without a result)."""
        if self._pid is not None:
            return not _alive(self._pid)
        if self.job.done():
            return True
        return isinstance(self.job, submitit.SlurmJob) and self._left_slurm_queue()

    def _left_slurm_queue(self) -> bool:
        """Whether Slurm's queue no longer holds the job, asked at most every :data:`SQUEUE_EVERY_S`: without
        accounting (no sacct) submitit cannot tell a job that died without a result from one still running."""
        now = time.monotonic()
        if now - self._asked < SQUEUE_EVERY_S or self.job.state.upper() != "UNKNOWN":
            return False
        self._asked = now
        try:
            found = subprocess.run(["squeue", "-h", "-j", self.job_id, "-o", "%T"], capture_output=True, text=True,
                                   timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return found.returncode == 0 and not found.stdout.strip()

    def outcome(self) -> JobResult | str:
        """The job's result, or why it has none (one sentence); call once :meth:`ended`."""
        result = Path(self.job.paths.result_pickle)
        if not result.exists():
            return (f"the job ended without a result (state {self.job.state}: killed, out of memory or out of time?); "
                    f"see {self.log}")
        try:
            with open(result, "rb") as handle:
                status, value = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
            return f"its result file {result} cannot be read ({type(exc).__name__}); see {self.log}"
        if status != "success" or not isinstance(value, JobResult):
            last = str(value).strip().splitlines()[-1] if str(value).strip() else "no message"
            return f"the job failed ({last}); see {self.log}"
        return value


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Executor:
    """Submits sweep jobs with submitit into ``folder``; ``capacity`` says how many more may start now."""

    def __init__(self, settings: Settings, folder: Path, data: DataSettings) -> None:
        self.settings, self.folder, self.data = settings, folder, data
        self._placed: list[tuple[int, Handle]] = []  # local jobs on GPUs: which GPU each was given
        if isinstance(settings, LocalSettings):
            self._submitit: submitit.Executor = submitit.LocalExecutor(folder=folder)
            self._submitit.update_parameters(timeout_min=settings.timeout_min)
        else:
            # Without accounting (no sacct) submitit warns at every status poll that the status may be inaccurate;
            # Handle.ended asks squeue instead, so those warnings say nothing to act on.
            logging.getLogger("submitit").setLevel(logging.ERROR)
            self._submitit = submitit.SlurmExecutor(folder=folder)
            extra: dict[str, Any] = {"time": settings.timeout_min, "job_name": "brainbench-sweep",
                                     "additional_parameters": dict(settings.options)}
            if settings.partition:
                extra["partition"] = settings.partition
            if settings.gpus_per_job:
                extra["gpus_per_node"] = settings.gpus_per_job
            if settings.cpus_per_job:
                extra["cpus_per_task"] = settings.cpus_per_job
            if settings.mem:
                extra["mem"] = settings.mem
            if settings.jobs:
                extra["array_parallelism"] = settings.jobs
            self._submitit.update_parameters(**extra)

    def capacity(self, running: int) -> int:
        """How many jobs may be submitted now, ``running`` being in flight: local, up to ``jobs`` at once; Slurm,
        all (the array's parallelism is Slurm's to keep)."""
        if isinstance(self.settings, LocalSettings):
            return max(0, self.settings.jobs - running)
        return 1 << 30

    def submit(self, jobs: Sequence[Job]) -> list[Handle]:
        """Submit ``jobs``: local, one process each (on the next GPU in turn); Slurm, one job array."""
        if not jobs:
            return []
        if isinstance(self.settings, SlurmSettings):
            try:
                submitted = self._submitit.map_array(run_job, list(jobs), [self.data] * len(jobs),
                                                     [None] * len(jobs))
            except Exception as exc:  # sbatch missing or refusing (partition, limits): its own words
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise BrainbenchError(f"Slurm refused the sweep's jobs ({first}); check --partition, --time, "
                                      "--slurm-option and that sbatch works here.") from exc
            return [Handle(job) for job in submitted]
        handles = []
        for job in jobs:
            gpus = self.settings.gpus
            if gpus:  # the GPU with the fewest jobs running, the first of those
                self._placed = [(gpu, handle) for gpu, handle in self._placed if not handle.ended()]
                gpu = min(gpus, key=lambda g: sum(placed == g for placed, _ in self._placed))
                self._submitit.update_parameters(gpus_per_node=1, visible_gpus=[gpu])
            threads = None if gpus else split_threads(self.settings.jobs)
            handle = Handle(self._submitit.submit(run_job, job, self.data, threads))
            if gpus:
                self._placed.append((gpu, handle))
            handles.append(handle)
        return handles

    def attach(self, job_id: str) -> Handle:
        """A job submitted by an earlier (perhaps killed) submitting process, found by its submitit id."""
        if isinstance(self.settings, LocalSettings):
            return Handle(submitit.LocalJob(self.folder, job_id), controller_pid=int(job_id))
        return Handle(submitit.SlurmJob(self.folder, job_id))
