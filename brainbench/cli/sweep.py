"""``brainbench sweep``: many models × benchmarks, on worker processes here or a Slurm cluster, resumable."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from brainbench.cli import options, render
from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    from brainbench.sweep.executors import Settings
    from brainbench.sweep.plan import Plan
    from brainbench.sweep.run import JobStatus

#: Options that start a sweep; ``--resume`` continues one with the settings it started with and takes none of them.
_NEW_SWEEP_ONLY = ("models", "benchmarks", "sweep_file", "force", "dry_run", "folder", "executor", "jobs", "gpus",
                   "partition", "time_limit", "gpus_per_job", "cpus_per_job", "mem", "slurm_options", "offline",
                   "data_mirrors", "definitions", "leaderboard_path")


class TimeLimit(click.ParamType):
    """A Slurm time limit: minutes, or [D-]HH:MM[:SS]; converted to whole minutes (at least 1)."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        found = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d\d)(?::(\d\d))?", text)
        if text.isdigit() and int(text) > 0:
            return int(text)
        if found:
            days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
            total = days * 1440 + hours * 60 + minutes + (1 if seconds else 0)
            if total > 0:
                return total
        self.fail(f"{value!r} is not a time limit; give minutes (e.g. 90) or [D-]HH:MM[:SS] (e.g. 2:00:00).",
                  param, ctx)


def _gpus(text: str | None) -> tuple[int, ...] | None:
    """``--gpus``: None when not given (this machine's GPUs), () for 'none', else the listed indices."""
    if text is None:
        return None
    if text.strip().lower() == "none":
        return ()
    try:
        listed = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        listed = ()
    if not listed or min(listed) < 0:
        raise BrainbenchError(f"--gpus takes GPU indices separated by commas (e.g. 0,1) or 'none' (got {text!r}).")
    return tuple(dict.fromkeys(listed))


def _slurm_options(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BrainbenchError(f"--slurm-option takes KEY=VALUE (an sbatch option without its dashes, e.g. "
                                  f"account=mylab or constraint=a100; got {pair!r}).")
        found[key.strip().lstrip("-").replace("-", "_")] = value.strip()
    return found


def _machine_gpus() -> tuple[int, ...]:
    import torch

    return tuple(range(torch.cuda.device_count())) if torch.cuda.is_available() else ()


@click.command()
@click.argument("sweep_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("-m", "--model", "models", multiple=True, metavar="'MODEL [OPTIONS]'",
              help="A model and score's model options in one quoted argument, e.g. -m 'timm:resnet18 --random-init' "
              "or -m 'tinycnn --layers 3,5 --seed 1'; repeatable.")
@click.option("-b", "--benchmark", "benchmarks", multiple=True,
              help="Benchmark id or wildcard pattern (e.g. 'Kiani2007.*'); repeatable.")
@click.option("--force", is_flag=True, help="Score everything again, even what the leaderboard already holds.")
@click.option("--dry-run", is_flag=True, help="Print the plan (jobs, and what is skipped and why) and stop.")
@click.option("--executor", type=click.Choice(["local", "slurm"]), default="local", show_default=True,
              help="local: worker processes on this machine; slurm: a Slurm job array (submitit).")
@click.option("--jobs", type=click.IntRange(min=1),
              help="Jobs at once: local, worker processes (default: one per GPU, else 1); slurm, the array's limit.")
@click.option("--gpus", metavar="LIST",
              help="local: GPUs to use, one job at a time on each (e.g. 0,1; 'none': CPU only); default: all.")
@click.option("--partition", help="slurm: the partition.")
@click.option("--time", "time_limit", type=TimeLimit(), help="Time limit per job: minutes or [D-]HH:MM[:SS] "
              "(slurm default: 60 min; local: none).")
@click.option("--gpus-per-job", type=click.IntRange(min=0), default=0, show_default=True, help="slurm: GPUs per job.")
@click.option("--cpus-per-job", type=click.IntRange(min=1), help="slurm: CPUs per job.")
@click.option("--mem", help="slurm: memory per job, as sbatch takes it (e.g. 16G).")
@click.option("--slurm-option", "slurm_options", multiple=True, metavar="KEY=VALUE",
              help="slurm: any other sbatch option (e.g. account=mylab); repeatable.")
@click.option("--folder", type=click.Path(file_okay=False),
              help="The job folder: plan, logs, results (default: <BRAINBENCH_HOME>/sweeps/<time>); on a cluster, "
              "on a file system the nodes share.")
@click.option("--resume", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="Continue the sweep of job folder DIR: collect finished jobs' records, run the rest.")
@options.offline
@options.data_mirror
@options.definitions
@options.leaderboard_path
@options.as_json
@click.pass_context
def sweep(ctx: click.Context, sweep_file: str | None, models: tuple[str, ...], benchmarks: tuple[str, ...],
          force: bool, dry_run: bool, executor: str, jobs: int | None, gpus: str | None, partition: str | None,
          time_limit: int | None, gpus_per_job: int, cpus_per_job: int | None, mem: str | None,
          slurm_options: tuple[str, ...], folder: str | None, resume: str | None, offline: bool,
          data_mirrors: tuple[str, ...], definitions: tuple[str, ...], leaderboard_path: str | None,
          as_json: bool) -> None:
    """Score many models on many benchmarks: one job per model and dataset, on worker processes here or on Slurm.

    Models come from SWEEP_FILE (TOML: benchmarks = [...] and [[models]] tables with id, weights, random_init,
    layers, visual_degrees, seed, device, batch_size, max_memory) and from -m. What the leaderboard already holds
    (same model key and seed, the benchmark's current version) is skipped unless --force. Only this process writes the
    leaderboard; a failing job does not stop the others, and the exit status is 1 when any failed.

    \b
    Example:
      brainbench sweep -m efficientnet_lite0 -m 'timm:resnet18 --random-init' -b 'Kiani2007.*' --jobs 2
    """
    from brainbench.leaderboard import Leaderboard
    from brainbench.sweep import api
    from brainbench.sweep.executors import LocalSettings, SlurmSettings
    from brainbench.sweep.folder import SweepFolder, default_folder
    from brainbench.sweep.job import DataSettings
    from brainbench.sweep.plan import make_plan
    from brainbench.sweep.requests import model_requests, read_sweep_file

    if resume is not None:
        given = [name for name in _NEW_SWEEP_ONLY
                 if ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)]
        if given:
            flags = ", ".join(p.opts[0] if p.opts else p.name for p in ctx.command.params if p.name in given)
            raise BrainbenchError(f"--resume continues a sweep with the models, benchmarks, executor and leaderboard "
                                  f"it started with; drop {flags}.")
        board_path = SweepFolder(Path(resume)).read_plan()[1]  # not a job folder: one sentence, before anything
        if not as_json:
            _announce(Path(resume))
        _run(lambda on_change: api.resume(resume, on_change), Path(resume), board_path, as_json)
        return

    file = read_sweep_file(sweep_file) if sweep_file else None
    requests = model_requests(models, file)
    patterns = list(dict.fromkeys([*(file.benchmarks if file else ()), *benchmarks]))
    if dry_run:
        board = Leaderboard(leaderboard_path)
        board.check()
        plan = make_plan(requests, patterns, None if force else board, definitions)
        render.print_json(_plan_json(plan)) if as_json else _print_plan(plan, dry_run=True)
        return
    if executor == "local":
        chosen = _gpus(gpus)
        machine = _machine_gpus() if chosen is None else chosen
        settings: Settings = LocalSettings(jobs or max(1, len(machine)), machine,
                                           **({"timeout_min": time_limit} if time_limit else {}))
    else:
        settings = SlurmSettings(partition, time_limit or 60, gpus_per_job, cpus_per_job, mem,
                                 _slurm_options(slurm_options), jobs)
    data = DataSettings(tuple(str(Path(m).resolve()) for m in data_mirrors), not offline,
                        tuple(str(Path(d).resolve()) for d in definitions))
    job_folder = Path(folder).expanduser() if folder else default_folder()

    def on_plan(plan: Plan) -> None:
        if not as_json:
            _print_plan(plan, dry_run=False)
            if plan.jobs:
                _announce(job_folder)

    _run(lambda on_change: api.sweep(requests, patterns, executor=settings, folder=job_folder,
                                     leaderboard=leaderboard_path, force=force, data=data, on_plan=on_plan,
                                     on_change=on_change), job_folder, Leaderboard(leaderboard_path).path, as_json)


def _announce(folder: Path) -> None:
    render.stderr.print(f"job folder {folder} (continue a stopped sweep with `brainbench sweep --resume {folder}`)",
                        markup=False, highlight=False)


def _run(start: Callable[[Callable[[list[JobStatus]], None]], list[JobStatus]], folder: Path, board: Path,
         as_json: bool) -> None:
    """Run the sweep ``start`` begins with live progress, print the summary, and end with an error when any job
    failed."""
    try:
        with _Progress(enabled=not as_json) as progress:
            statuses = start(progress.update)
    except KeyboardInterrupt:
        raise BrainbenchError(f"Interrupted; the records of the jobs that had finished are saved: continue with "
                              f"`brainbench sweep --resume {folder}`.") from None
    if as_json:
        render.print_json([_status_json(s) for s in statuses])
    elif statuses:
        _print_summary(statuses, board, folder)
    failed = [s for s in statuses if s.state == "failed"]
    if failed:
        named = ", ".join(str(s.job.index) for s in failed)
        raise BrainbenchError(f"{len(failed)} of {len(statuses)} job(s) failed (job {named}; see the summary and "
                              "their logs); the other jobs' records are saved. Fix the cause and run the sweep again: "
                              "only what the leaderboard lacks is run.")


class _Progress:
    """Live counts of queued / running / done / failed jobs on stderr: a rich bar on a terminal; otherwise one plain
    line as each job ends (``enabled=False``: nothing)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.terminal = enabled and render.stderr.is_terminal
        self._ended: set[int] = set()
        self._bar: Any = None

    def __enter__(self) -> _Progress:
        if self.terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=render.stderr)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()

    def update(self, statuses: list[JobStatus]) -> None:
        if not self.enabled:
            return
        counts = {state: sum(s.state == state for s in statuses) for state in ("queued", "running", "done", "failed")}
        if self._bar is not None:
            if not self._bar.live.is_started:  # started with the first job: an empty bar would print a blank line
                self._bar.start()
                self._task = self._bar.add_task("jobs", total=len(statuses))
            text = " · ".join(f"{n} {state}" for state, n in counts.items())
            self._bar.update(self._task, completed=counts["done"] + counts["failed"], description=f"jobs: {text}")
        for status in statuses:
            if status.state in ("done", "failed") and status.job.index not in self._ended:
                self._ended.add(status.job.index)
                if not self.terminal and not status.collected_before:
                    seconds = f" in {status.seconds:.1f} s" if status.seconds else ""
                    render.stderr.print(f"job {status.job.index} ({status.job.model.label}, {status.job.dataset}): "
                                        f"{status.state}{seconds}", markup=False, highlight=False)


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {"jobs": [{"job": j.index, "model": j.model.label, "benchmarks": list(j.benchmarks), "dataset": j.dataset}
                     for j in plan.jobs],
            "skipped": [{"model": s.model.label, "benchmark": s.benchmark, "reason": s.reason} for s in plan.skipped]}


def _print_plan(plan: Plan, dry_run: bool) -> None:
    console = render.console_now()
    if plan.jobs:
        table = render.compact_table(title=None)
        for column in ("job", "model", "benchmarks"):
            table.add_column(column, no_wrap=column != "benchmarks", justify="right" if column == "job" else "left")
        for job in plan.jobs:
            table.add_row(str(job.index), Text(job.model.label), Text(", ".join(job.benchmarks)))
        console.print(table)
    for skip in plan.skipped:
        render.stdout.print(f"skipped {skip.model.label}  {skip.benchmark}: {skip.reason}", markup=False)
    to_score = sum(len(job.benchmarks) for job in plan.jobs)
    verb = "would run" if dry_run else "to run"
    render.stdout.print(f"{len(plan.jobs)} job(s) {verb}, {to_score} score(s); {len(plan.skipped)} skipped "
                        f"(on the leaderboard already{'' if dry_run else '; --force redoes them'}).", markup=False)


def _status_json(status: JobStatus) -> dict[str, Any]:
    return {"job": status.job.index, "model": status.job.model.label, "benchmarks": list(status.job.benchmarks),
            "status": status.state, "seconds": status.seconds, "records": status.records, "error": status.error,
            "log": str(status.log) if status.log else None, "collected_earlier": status.collected_before}


def _print_summary(statuses: list[JobStatus], board: Path, folder: Path) -> None:
    """One row per job when the table fits the terminal, else one block per job; nothing is cut."""
    console = render.console_now()
    columns = ("job", "model", "benchmarks", "status", "seconds", "error", "log")
    rows = [(str(s.job.index), s.job.model.label, ", ".join(s.job.benchmarks),
             s.state + (" (earlier)" if s.collected_before else ""), f"{s.seconds:.1f}" if s.seconds else "–",
             s.error or "", str(s.log) if s.log else "–") for s in statuses]
    table = render.compact_table()
    for column in columns:
        table.add_column(column, no_wrap=True, justify="right" if column in ("job", "seconds") else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    if render.natural_width(console, table) <= console.width:
        console.print(table)
    else:
        for job, model, benchmarks, state, seconds, error, log in rows:
            console.print(Text(f"job {job}  {model}  {state}" + (f"  {seconds} s" if seconds != "–" else "")))
            console.print(Text(f"    benchmarks {benchmarks}"))
            if error:
                console.print(Text(f"    error {error}"))
            console.print(Text(f"    log {log}"))
    done = sum(s.state == "done" for s in statuses)
    records = sum(s.records for s in statuses if not s.collected_before)
    render.stdout.print(f"{len(statuses)} job(s): {done} done, {len(statuses) - done} failed; {records} record(s) "
                        f"added to {board}; job folder {folder}.", markup=False)
