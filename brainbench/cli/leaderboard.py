"""``brainbench leaderboard`` and ``brainbench leaderboard import``."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench.cli import options, render
from brainbench.leaderboard import REGIONS, Leaderboard, unsaved
from brainbench.leaderboard.export import ranking_to_json, to_csv

NOT_AVERAGED_MARK = "†"  # a benchmark shown under --benchmarks but averaged into no column
UNCEILED_MARK = "*"  # a score without a ceiling, averaged into a column because its definition says so
LEGEND = {
    NOT_AVERAGED_MARK: f'{NOT_AVERAGED_MARK} shown, not averaged into a column (no noise ceiling, or column = "none")',
    UNCEILED_MARK: f"{UNCEILED_MARK} no noise ceiling, averaged because its benchmark's definition names the column",
}


@click.group(invoke_without_command=True)
@options.leaderboard_path
@options.as_json
@click.option("--csv", "as_csv", is_flag=True, help="Print the ranking as CSV.")
@click.option("--benchmarks", "by_benchmark", is_flag=True, help="Also show each benchmark's ceiled score.")
@click.pass_context
def leaderboard(ctx: click.Context, leaderboard_path: str | None, as_json: bool, as_csv: bool,
                by_benchmark: bool) -> None:
    """Rank the scored models: V1, V2, V4, IT, behavior and their average.

    A region's score is the mean of the ceiled scores of the benchmarks that feed it (the newest record of
    each benchmark's newest version); a benchmark without a noise ceiling feeds a column only when its
    definition names one (marked *), otherwise it is shown under --benchmarks but not averaged (marked †).
    The average is the mean of the five regions, a missing region counting as 0. A model scored at other
    visual degrees, on layers chosen with --layers, or with other preprocessing is an entry of its own,
    labelled with what differs.
    """
    ctx.obj = leaderboard_path
    if ctx.invoked_subcommand is not None:
        return
    board = Leaderboard(leaderboard_path)
    ranking = board.ranking()
    if as_json:
        render.print_json(ranking_to_json(ranking))
        return
    if as_csv:
        click.echo(to_csv(ranking), nl=False)
        return
    if not ranking:
        render.stdout.print(f"No scores yet in {board.path}; run `brainbench score MODEL -b BENCHMARK`.")
        return
    benchmark_ids = sorted({b for row in ranking for b in row.benchmarks}) if by_benchmark else []
    table = Table(title=f"brainbench leaderboard  ·  {board.path}")
    table.add_column("#", justify="right")
    table.add_column("model", min_width=18, overflow="fold")
    for column in (*REGIONS, "average"):  # scores are never truncated; names may fold
        table.add_column(column, justify="right", no_wrap=True, min_width=5)
    for column in benchmark_ids:  # room for a score and its mark
        table.add_column(column, justify="right", min_width=6, overflow="fold")
    marks: set[str] = set()
    for row in ranking:
        unceiled = set(row.averaged_without_ceiling)
        region_marks = {r: UNCEILED_MARK if unceiled & set(row.columns.get(r, [])) else "" for r in REGIONS}
        benchmark_marks = {b: UNCEILED_MARK if b in unceiled else NOT_AVERAGED_MARK if b in row.not_averaged else ""
                           for b in benchmark_ids}
        marks |= set(region_marks.values()) | set(benchmark_marks.values())
        table.add_row(
            str(row.rank), row.label,
            *(render.number(row.regions[r]) + region_marks[r] for r in REGIONS), render.number(row.average),
            *(render.number(row.benchmarks.get(b)) + benchmark_marks[b] for b in benchmark_ids),
        )
    render.stdout.print(table)
    legend = [text for mark, text in LEGEND.items() if mark in marks]
    if not by_benchmark and any(row.not_averaged for row in ranking):
        legend.append("benchmarks without a noise ceiling are not averaged (--benchmarks shows them)")
    if legend:
        render.stdout.print("; ".join(legend) + ".")


@leaderboard.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@options.leaderboard_path
@options.as_json
@click.pass_obj
def import_(parent_path: str | None, file: str, leaderboard_path: str | None, as_json: bool) -> None:
    """Add the score records kept in FILE (named by a `brainbench score` that could not write them).

    Records already on the leaderboard (the same uid) are skipped, so importing twice adds nothing.
    """
    board = Leaderboard(leaderboard_path or parent_path)
    records = unsaved.read(file)
    new = board.import_records(records)
    if as_json:
        render.print_json({"leaderboard": str(board.path), "records": len(records), "imported": new,
                           "already_present": len(records) - new})
        return
    render.stdout.print(f"Imported {new} of {len(records)} score record(s) into {board.path}"
                        f" ({len(records) - new} already there).")
