"""``brainbench history``: every record of a model, so that a score's change over time can be traced."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, fields
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from brainbench.cli import options, render
from brainbench.leaderboard import Leaderboard
from brainbench.leaderboard.export import escape_cell
from brainbench.leaderboard.history import HistoryRow
from brainbench.leaderboard.history import history as history_of

RANKS_MARK = "◀"  # the record the leaderboard ranks
UID_DIGITS = 8  # a uid's prefix shown in the table; --json and --csv give it whole


@click.command()
@click.argument("model")
@click.option("-b", "--benchmark", "benchmark_patterns", multiple=True, metavar="PATTERN",
              help="Only benchmarks whose id matches this glob (e.g. 'Marques2020.*'; repeatable).")
@options.leaderboard_path
@options.as_json
@click.option("--csv", "as_csv", is_flag=True, help="Print the records as CSV (one row each, the uid whole).")
def history(model: str, benchmark_patterns: tuple[str, ...], leaderboard_path: str | None, as_json: bool,
            as_csv: bool) -> None:
    """Every score record of MODEL: benchmark and brainbench versions, dates, layers and scores, oldest first.

    MODEL is a model id (every entry of it: trained and random-init, other visual degrees, layers or preprocessing,
    each under its leaderboard label) or one entry's label as the leaderboard prints it. Records are listed per entry
    and benchmark, oldest first (by the time the score finished); the one the leaderboard ranks (the newest of the
    newest benchmark version) is marked ◀ (JSON and CSV: ranks = true). Dates are UTC.
    """
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are two output formats; choose one")
    board = Leaderboard(leaderboard_path)
    rows = history_of(board.records(), model, benchmark_patterns)
    if as_json:
        render.print_json([asdict(row) for row in rows])
        return
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow([f.name for f in fields(HistoryRow)])
        for row in rows:
            writer.writerow([escape_cell(v) if isinstance(v, str) else v for v in asdict(row).values()])
        click.echo(out.getvalue(), nl=False)
        return
    console = render.console_now()
    console.print(Text(f"brainbench history of {model}  ·  {board.path}"))
    for label in dict.fromkeys(row.label for row in rows):
        own = [row for row in rows if row.label == label]
        console.print()
        console.print(Text(f"{label}: {len(own)} record(s)"))
        table = _table(own)
        if render.natural_width(console, table) <= console.width:
            console.print(table)
        else:
            for row in own:
                _print_block(console, row)
    console.print(Text(f"{RANKS_MARK} the record the leaderboard ranks; dates UTC; uid: its first {UID_DIGITS} "
                       "digits (--json gives it whole)."))


def _table(rows: list[HistoryRow]) -> Table:
    table = render.compact_table()
    for name in ("benchmark", "v", "finished (UTC)", "layer", "ceiled", "error", "raw", "ceiling", "seed", "device",
                 "brainbench", "uid", ""):
        numeric = name in ("v", "ceiled", "error", "raw", "ceiling", "seed")
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(Text(row.benchmark), str(row.benchmark_version), _date(row.finished_at), Text(row.layer or "–"),
                      render.number(row.ceiled), render.number(row.error), render.number(row.raw),
                      render.number(row.ceiling), str(row.seed), Text(row.device), Text(row.brainbench_version),
                      row.uid[:UID_DIGITS], RANKS_MARK if row.ranks else "")
    return table


def _print_block(console: Console, row: HistoryRow) -> None:
    """One record on two lines, for a console too narrow for the table; nothing is cut."""
    mark = f"  {RANKS_MARK}" if row.ranks else ""
    console.print(Text(f"  {row.benchmark} v{row.benchmark_version}  {_date(row.finished_at)}  "
                       f"uid {row.uid[:UID_DIGITS]}{mark}"))
    console.print(Text(f"    ceiled {render.number(row.ceiled)} ± {render.number(row.error)}  raw "
                       f"{render.number(row.raw)}  ceiling {render.number(row.ceiling)}  layer {row.layer or '–'}  "
                       f"seed {row.seed}  {row.device}  brainbench {row.brainbench_version}"))


def _date(stamp: str) -> str:
    """An ISO-8601 time as 'YYYY-MM-DD HH:MM' in UTC; as recorded when it is not ISO-8601."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")
