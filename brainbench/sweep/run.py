"""Running a planned sweep: submit its jobs, collect each one's records as it ends, append them to the leaderboard
(this process is its only writer), and note every step in the job folder so that a killed run can be resumed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard
from brainbench.sweep.executors import Executor, Handle
from brainbench.sweep.folder import Collected, SweepFolder
from brainbench.sweep.job import JobResult
from brainbench.sweep.plan import Job

STATES = ("queued", "running", "done", "failed")


@dataclass
class JobStatus:
    """Where one job stands: ``state`` one of :data:`STATES`; once ended, its seconds, host and records (count), and
    for a failed job one sentence (the first failed benchmark's reason, or why the job gave no result)."""

    job: Job
    state: str = "queued"
    seconds: float | None = None
    records: int = 0
    error: str | None = None
    log: Path | None = None
    job_id: str | None = None
    collected_before: bool = False  # collected by an earlier run of this sweep (``--resume``)


def run_sweep(folder: SweepFolder, jobs: Sequence[Job], executor: Executor, board: Leaderboard,
              on_change: Callable[[list[JobStatus]], None] | None = None, poll_s: float = 1.0) -> list[JobStatus]:
    """Run ``jobs`` to their end and return each one's status, in plan order; a failing job never stops the others.

    What ``folder`` says happened already is honoured (``--resume``): a job whose result was collected is not run
    again (a failed one stays failed: rerun the sweep after fixing the cause, and only what is missing runs); one that
    was submitted is waited for and its result collected without running it again, unless it ended without one, and
    then it is submitted anew, as is every job never submitted. Records are appended with their uids, so a record
    collected twice (a run killed between appending and noting it) is stored once.
    """
    history = folder.history()
    statuses = {job.index: JobStatus(job) for job in jobs}
    active: dict[int, Handle] = {}
    for index, status in statuses.items():
        if index in history.collected:
            _show_collected(status, history.collected[index])
            status.collected_before = True
            if index in history.submitted:
                status.job_id = history.submitted[index][-1]
                status.log = executor.attach(status.job_id).log
        elif index in history.submitted:
            handle = executor.attach(history.submitted[index][-1])
            if handle.ended() and isinstance(handle.outcome(), str):
                continue  # ended without a result (e.g. killed with the submitting process): run it again
            active[index] = handle
            status.state, status.log, status.job_id = "running", handle.log, handle.job_id
    pending = [job for job in jobs if statuses[job.index].state == "queued"]
    _notify(on_change, statuses)
    while pending or active:
        room = executor.capacity(len(active))
        if room and pending:
            starting, pending = pending[:room], pending[room:]
            for job, handle in zip(starting, executor.submit(starting), strict=True):
                folder.record_submitted(job.index, handle.job_id)
                active[job.index] = handle
                status = statuses[job.index]
                status.state, status.log, status.job_id = "running", handle.log, handle.job_id
            _notify(on_change, statuses)
        ended = [index for index, handle in active.items() if handle.ended()]
        for index in ended:
            _collect(folder, board, statuses[index], active.pop(index))
        if ended:
            _notify(on_change, statuses)
        elif active:
            time.sleep(poll_s)
    return [statuses[job.index] for job in jobs]


def _collect(folder: SweepFolder, board: Leaderboard, status: JobStatus, handle: Handle) -> None:
    """Append a finished job's records and note it in the folder (in that order: a record is never noted as stored
    before it is)."""
    outcome = handle.outcome()
    if isinstance(outcome, JobResult):
        try:
            board.append(outcome.records)
        except BrainbenchError as exc:
            raise BrainbenchError(f"{str(exc).rstrip('.')}; the jobs' results are kept in {folder.path}: once "
                                  f"the leaderboard can be written, run `brainbench sweep --resume {folder.path}`."
                                  ) from exc
        collected = Collected("failed" if outcome.failures else "done", tuple(r.uid for r in outcome.records),
                              dict(outcome.failures), outcome.seconds, outcome.host)
    else:
        collected = Collected("failed", (), dict.fromkeys(status.job.benchmarks, outcome), 0.0, "")
    folder.record_collected(status.job.index, collected)
    _show_collected(status, collected)
    status.log = handle.log


def _show_collected(status: JobStatus, collected: Collected) -> None:
    status.state, status.records = collected.status, len(collected.records)
    status.seconds = collected.seconds or None
    if collected.failures:
        benchmark, reason = next(iter(collected.failures.items()))
        more = len(collected.failures) - 1
        status.error = f"{benchmark}: {reason}" + (f" (and {more} more benchmark(s))" if more else "")


def _notify(on_change: Callable[[list[JobStatus]], None] | None, statuses: dict[int, JobStatus]) -> None:
    if on_change is not None:
        on_change(list(statuses.values()))
