"""The ``brainbench`` command: a thin layer that parses, calls the library, and renders."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import Any

import click

import brainbench
from brainbench.cli.lazy import LazyGroup
from brainbench.errors import BrainbenchError, file_system_trouble

_PLACES = "BRAINBENCH_HOME or the command's path option, e.g. --leaderboard"
# score saves each record as soon as it is computed: an interruption keeps those, and no write is ever half done.
_KEPT = "what had finished (e.g. saved records) is kept and no file is half-written."
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2; older clicks exit 0 instead


#: Every command, imported only when run: name → (where it lives, its first docstring sentence for ``--help``).
COMMANDS = {
    "benchmarks": ("brainbench.cli.catalog:benchmarks", "Benchmarks brainbench can run."),
    "cache": ("brainbench.cli.cache:cache", "The caches kept between runs: per-layer reductions and decoded model "
              "inputs."),
    "compare": ("brainbench.cli.compare:compare", "Compare MODELS on their scored benchmarks: each one's difference "
                "to the first, with its 95 % interval and p-value."),
    "data": ("brainbench.cli.data:data",
             "Datasets: list them, fetch them into the cache, verify the cached copies."),
    "evaluate": ("brainbench.cli.evaluate:evaluate",
                 "Score precomputed model outputs against neural, RDM or behavioural data."),
    "extract": ("brainbench.cli.extract:extract",
                "Write a model's activations to a netCDF file (stimulus × neuroid)."),
    "history": ("brainbench.cli.history:history",
                "Every score record of MODEL: benchmark and brainbench versions, dates, layers and scores, oldest "
                "first."),
    "layers": ("brainbench.cli.layers:layers",
               "Score every candidate layer of MODEL on each benchmark (nothing is written to the leaderboard)."),
    "leaderboard": ("brainbench.cli.leaderboard:leaderboard",
                    "Rank the scored models: V1, V2, V4, IT, behavior and their average."),
    "models": ("brainbench.cli.catalog:models", "Models brainbench can score."),
    "rf": ("brainbench.cli.inspect:rf",
           "Theoretical receptive field of each layer: size (px and degrees), jump (stride) and centre offset."),
    "score": ("brainbench.cli.score:score",
              "Score MODEL on benchmarks and append each record to the leaderboard as soon as it is computed."),
    "sweep": ("brainbench.cli.sweep:sweep",
              "Score many models on many benchmarks: one job per model and dataset, on worker processes here or on "
              "Slurm."),
    "visualize": ("brainbench.cli.visualize:visualize",
                  "Show what LAYER of MODEL responds to, by gradient ascent on an image."),
}


class _Group(LazyGroup):
    """Turns errors into one line on stderr and a non-zero exit (``--debug`` shows the traceback).

    Exit codes: 1 for an error the user can fix, 2 for a usage error (click's and POSIX's convention: a bad
    option or argument, found before any work) and for an unexpected error, 130 when interrupted.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # a bare group: its help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"error: {_usage_sentence(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo(f"error: aborted; {_KEPT}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)  # an Exit's code (ctx.exit), else success

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(f"error: interrupted; {_KEPT}", err=True)
            ctx.exit(130)
        except Exception as exc:
            if ctx.find_root().params.get("debug"):
                traceback.print_exc()
            sentence, code = _explain(exc)
            click.echo(f"error: {sentence}", err=True)
            ctx.exit(code)


def _usage_sentence(exc: click.ClickException) -> str:
    """Click's message on one line, pointing at the command's help (never click's multi-line usage block)."""
    message = " ".join(exc.format_message().split())
    if not message.endswith((".", "?", "!")):
        message += "."
    ctx = getattr(exc, "ctx", None)
    return f"{message} See '{ctx.command_path} --help'." if ctx is not None else message


def _explain(exc: Exception) -> tuple[str, int]:
    """One sentence for ``exc`` and the exit code: 1 when the user can fix it, 2 when unexpected."""
    if isinstance(exc, BrainbenchError):
        return str(exc), 1
    trouble = file_system_trouble(exc)
    if trouble is not None:
        what_happened, remedy, other_place = trouble
        where = f"'{exc.filename}'" if getattr(exc, "filename", None) is not None else "a file"
        fix = f"{remedy} or use {other_place}" if remedy else f"use {other_place}"
        return f"Cannot use {where}: {what_happened}; {fix} ({_PLACES}).", 1
    torch = sys.modules.get("torch")  # only a run that loaded torch can have run out of GPU memory
    if torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError):
        return "the GPU ran out of memory; lower --batch-size or pass --device cpu.", 1
    if isinstance(exc, MemoryError):
        return "this machine ran out of memory; lower --batch-size or score fewer layers (--layers).", 1
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected {type(exc).__name__}: {first} (rerun with --debug for the traceback).", 2


@click.group(cls=_Group, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(brainbench.__version__, prog_name="brainbench")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def cli(debug: bool) -> None:
    """brainbench: how brain-like is this vision model?

    Scores vision models against primate visual cortex and behaviour, and ranks them in a local
    leaderboard.
    """


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """A library's warning as ``warning: <its first line>`` on stderr (not Python's two lines with a source path)."""
    text = str(message).strip().splitlines()
    click.echo(f"warning: {text[0] if text else category.__name__}", err=True)


def main() -> None:
    """Console-script entry point."""
    import warnings

    warnings.showwarning = _one_line_warning
    try:
        cli.main(prog_name="brainbench")
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code: object) -> None:
    """Exit with ``code`` without tearing the interpreter down when torch is loaded.

    Python's teardown of a process that imported torch (destroying every module's objects) takes 0.5–0.6 s here,
    longer than some whole commands. The exit handlers still run (atexit: logging, temporary files, worker
    processes) and stdout/stderr are flushed; every file brainbench writes is closed (and SQLite transactions
    committed) before a command returns. A run with other live threads, or an exit that is not a plain code, exits
    the usual way.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if "torch" not in sys.modules or others or not (code is None or isinstance(code, int)):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (e.g. `| head`): nothing more to write
            stream.flush()
    os._exit(code or 0)
