"""Rendering for the terminal: rich tables, progress bars, number formats."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

stdout = Console(highlight=False, soft_wrap=True)  # messages keep long paths on one line; tables still fit
stderr = Console(stderr=True, highlight=False)
_UNBOUNDED = 1_000_000  # a width no table reaches: measures a table's natural width


def console_now() -> Console:
    """A stdout console whose width is read now: COLUMNS, else the terminal's, else 80 (a pipe)."""
    return Console(highlight=False, soft_wrap=True)


def compact_table(**kwargs: Any) -> Table:
    """A table without vertical rules or edges: the fewest columns of the terminal spent on lines."""
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, **kwargs)


def natural_width(console: Console, table: Table) -> int:
    """Columns ``table`` takes with no cell wrapped or cut."""
    return Measurement.get(console, console.options.update_width(_UNBOUNDED), table).maximum


def number(value: float | None, digits: int = 3) -> str:
    """A score for a table: fixed digits, '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else."""
    click.echo(json.dumps(data, indent=2, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A factory of progress tasks on stderr: ``factory(description, total)`` → ``advance(n)``.

    On a terminal: rich bars. Otherwise (piped, a file): one plain line when a task starts and one when it
    reaches its total, with elapsed seconds — never one per item. ``enabled=False``: nothing at all.
    """
    if not enabled:
        yield lambda description, total: lambda n: None
        return
    if not stderr.is_terminal:
        yield _plain_line
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # Started with the first task: an empty display would still print a blank line on a non-terminal
    # stderr when it stops, in front of an error that must be one line.
    bars = Progress(*columns, console=stderr, transient=False)

    def factory(description: str, total: int) -> Callable[[int], None]:
        if not bars.live.is_started:
            bars.start()
        task = bars.add_task(description, total=total)
        return lambda n: bars.advance(task, n)

    try:
        yield factory
    finally:
        if bars.live.is_started:
            bars.stop()


def _plain_line(description: str, total: int) -> Callable[[int], None]:
    """A progress task as plain stderr lines: '<task> …' at its start, '<task>: done in 1.2 s' once it reaches
    its total; a task left unfinished (an error) prints nothing more, so the error stays the last line."""
    click.echo(f"{description} …", err=True)
    start, done = time.perf_counter(), 0

    def finish() -> None:
        click.echo(f"{description}: done in {time.perf_counter() - start:.1f} s", err=True)

    def advance(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if before < total <= done:
            finish()

    if total <= 0:
        finish()
    return advance


class DownloadBar:
    """pooch's progress-bar protocol (``total``, ``update``, ``reset``, ``close``) drawn with rich."""

    def __init__(self, description: str) -> None:
        # Transient: gone once closed (the caller reports the outcome), so a failed download leaves only its error.
        self._progress = Progress(TextColumn(description), BarColumn(), DownloadColumn(), console=stderr,
                                  transient=True)
        self._progress.start()
        self._task = self._progress.add_task(description, total=None)

    @property
    def total(self) -> float | None:
        return self._progress.tasks[0].total

    @total.setter
    def total(self, value: float | None) -> None:
        self._progress.update(self._task, total=value)

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def reset(self) -> None:
        self._progress.reset(self._task, total=self.total)

    def close(self) -> None:
        self._progress.stop()
