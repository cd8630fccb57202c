"""The sweep as a library call: what ``brainbench sweep`` does, from a notebook or a script."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from brainbench import paths
from brainbench.leaderboard import Leaderboard
from brainbench.sweep.executors import Executor, LocalSettings, Settings, settings_from_dict, settings_to_dict
from brainbench.sweep.folder import SweepFolder, default_folder
from brainbench.sweep.job import DataSettings
from brainbench.sweep.plan import Plan, make_plan
from brainbench.sweep.requests import ModelRequest, parse_model
from brainbench.sweep.run import JobStatus, run_sweep

OnChange = Callable[[list[JobStatus]], None]


def sweep(models: Sequence[ModelRequest | str], benchmarks: Sequence[str], *, executor: Settings | None = None,
          folder: str | Path | None = None, leaderboard: str | Path | None = None, force: bool = False,
          data: DataSettings | None = None, on_plan: Callable[[Plan], None] | None = None,
          on_change: OnChange | None = None) -> list[JobStatus]:
    """Score each model (a :class:`ModelRequest`, or ``-m`` text such as ``'timm:resnet18 --random-init'``) on the
    benchmarks (ids or wildcard patterns); returns every job's status, in plan order.

    What ``leaderboard`` holds already is skipped (:func:`~brainbench.sweep.plan.make_plan`) unless ``force``;
    ``on_plan`` sees the plan before anything runs. With no job to run, nothing is created and ``[]`` is returned.
    ``executor``: :class:`LocalSettings` (default: one worker process, no GPU) or :class:`SlurmSettings`; ``folder``:
    the job folder (default ``<BRAINBENCH_HOME>/sweeps/<time>``), new or empty. Only this process writes the
    leaderboard. A failed job is a status, not an exception.
    """
    data = data or DataSettings()
    requests = [m if isinstance(m, ModelRequest) else parse_model(m) for m in models]
    board = Leaderboard(leaderboard)
    board.check_writable()
    plan = make_plan(requests, benchmarks, None if force else board, data.definitions)
    if on_plan is not None:
        on_plan(plan)
    if not plan.jobs:
        return []
    paths.mirror_dirs(list(data.data_mirrors))  # a mirror that is not a folder: refused before any job starts
    settings = executor or LocalSettings()
    job_folder = SweepFolder(Path(folder).expanduser() if folder is not None else default_folder())
    job_folder.create(plan.jobs, board.path, data, settings_to_dict(settings))
    return run_sweep(job_folder, plan.jobs, Executor(settings, job_folder.jobs, data), board, on_change)


def resume(folder: str | Path, on_change: OnChange | None = None) -> list[JobStatus]:
    """Continue the sweep of job ``folder`` with the jobs, executor, data settings and leaderboard it started with:
    finished jobs' records are collected without running them again, the rest run (see
    :func:`~brainbench.sweep.run.run_sweep`)."""
    job_folder = SweepFolder(Path(folder).expanduser())
    jobs, board_path, data, saved = job_folder.read_plan()
    settings = settings_from_dict(saved)
    board = Leaderboard(board_path)
    board.check_writable()
    return run_sweep(job_folder, jobs, Executor(settings, job_folder.jobs, data), board, on_change)
