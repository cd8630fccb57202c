"""``brainbench leaderboard``."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench.cli import options, render
from brainbench.leaderboard import REGIONS, Leaderboard
from brainbench.leaderboard.export import ranking_to_json, to_csv


@click.command()
@options.leaderboard_path
@options.as_json
@click.option("--csv", "as_csv", is_flag=True, help="Print the ranking as CSV.")
@click.option("--benchmarks", "by_benchmark", is_flag=True, help="Also show each benchmark's ceiled score.")
def leaderboard(leaderboard_path: str | None, as_json: bool, as_csv: bool, by_benchmark: bool) -> None:
    """Rank the scored models: V1, V2, V4, IT, behavior and their average.

    A region's score is the mean of its benchmarks' ceiled scores (the newest record of each
    benchmark's newest version); the average is the mean of the five regions, a missing region
    counting as 0.
    """
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
    for column in benchmark_ids:
        table.add_column(column, justify="right", min_width=5, overflow="fold")
    for row in ranking:
        table.add_row(
            str(row.rank), row.label,
            *(render.number(row.regions[r]) for r in REGIONS), render.number(row.average),
            *(render.number(row.benchmarks.get(b)) for b in benchmark_ids),
        )
    render.stdout.print(table)
