"""What one sweep job does where it runs (a worker process or a Slurm node): the same ``score()`` a user calls,
returning its records instead of writing them — the submitting process is the leaderboard's only writer."""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import ScoreRecord
from brainbench.sweep.plan import Job


@dataclass(frozen=True)
class DataSettings:
    """Where every job reads its data and definitions, as ``score`` takes them."""

    data_mirrors: tuple[str, ...] = ()
    allow_download: bool = True
    definitions: tuple[str, ...] = ()


def split_threads(jobs: int) -> int | None:
    """torch threads for each of ``jobs`` CPU jobs running at once on this machine: its usable CPUs shared out (at
    least 1); None for a single job, which measures what other processes leave free when it starts
    (:func:`brainbench.threads.configure`). Jobs started together would each measure all CPUs free."""
    from brainbench.threads import available_cpus

    return max(1, available_cpus() // jobs) if jobs > 1 else None


@dataclass
class JobResult:
    """What a job returns: the records it scored (``units`` included, NumPy arrays), each benchmark that failed with
    its one-sentence reason, where and how long it ran."""

    records: list[ScoreRecord] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    host: str = ""


def _reason(exc: Exception) -> str:
    if isinstance(exc, BrainbenchError):
        return str(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected {type(exc).__name__}: {first}"


def run_job(job: Job, data: DataSettings, threads: int | None = None) -> JobResult:
    """Score ``job``'s model on its benchmarks without saving; any failure is returned, per benchmark, never raised.

    ``threads``: torch's CPU threads (None: chosen as ``brainbench score`` chooses them, unless BRAINBENCH_THREADS
    or OMP_NUM_THREADS say). Progress and any traceback go to stderr: the job's log file.
    """
    from brainbench.benchmarks.scoring import ScoringFailures, score
    from brainbench.cli.render import progress_bars
    from brainbench.threads import configure

    start = time.perf_counter()
    chosen_by_user = any(os.environ.get(name) for name in ("BRAINBENCH_THREADS", "OMP_NUM_THREADS"))
    configure(None if chosen_by_user else threads)
    request = job.model
    print(f"brainbench sweep job {job.index}: {request.label} on {', '.join(job.benchmarks)}", file=sys.stderr)
    result = JobResult(host=socket.gethostname())
    try:
        with progress_bars() as progress:
            result.records = list(score(
                request.model, list(job.benchmarks), weights=request.weights, random_init=request.random_init,
                layers=list(request.layers) if request.layers else None, visual_degrees=request.visual_degrees,
                device=request.device, seed=request.seed, batch_size=request.batch_size,
                max_memory_gb=request.max_memory_gb, data_mirrors=data.data_mirrors,
                allow_download=data.allow_download, definitions=data.definitions, save=False, progress=progress,
            ))
    except ScoringFailures as exc:
        result.records = list(exc.records)
        result.failures = {f.benchmark: f.reason for f in exc.failures}
    except Exception as exc:  # the job's whole work failed (model, data, checks): every benchmark of it
        traceback.print_exc()
        result.failures = dict.fromkeys(job.benchmarks, _reason(exc))
    for benchmark, reason in result.failures.items():
        print(f"failed {benchmark}: {reason}", file=sys.stderr)
    result.seconds = time.perf_counter() - start
    return result
