"""``brainbench leaderboard`` and ``brainbench leaderboard import``."""

from __future__ import annotations

import click
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from brainbench.cli import options, render
from brainbench.leaderboard import REGIONS, Leaderboard, RankedModel, export, unsaved

NOT_AVERAGED_MARK = "†"  # a benchmark shown under --benchmarks but averaged into no column
UNCEILED_MARK = "*"  # a score without a ceiling, averaged into a column because its definition says so
LEGEND = {
    NOT_AVERAGED_MARK: f'{NOT_AVERAGED_MARK} shown, not averaged into a column (no noise ceiling, or column = "none")',
    UNCEILED_MARK: f"{UNCEILED_MARK} no noise ceiling, averaged because its benchmark's definition names the column",
}
#: How the long layout names a record's MEASURES.
MEASURE_NAMES = {
    "model_shape_bias": "model's shape bias", "human_shape_bias": "humans' shape bias",
    "model_shape_accuracy": "model's shape accuracy", "model_texture_accuracy": "model's texture accuracy",
    "model_accuracy": "model's accuracy", "human_accuracy": "humans' accuracy",
}
_FIXED_BLOCK_COLUMNS = 45  # a block's column, ceiled, raw, ceiling, the gaps and 8 for the layer


@click.group(invoke_without_command=True)
@options.leaderboard_path
@options.as_json
@click.option("--csv", "as_csv", is_flag=True, help="Print the ranking as CSV.")
@click.option("--benchmarks", "by_benchmark", is_flag=True,
              help="Also show each benchmark's score (table and CSV: a column each; JSON: each benchmark's record).")
@click.option("--long", "long_layout", is_flag=True,
              help="One row per model and benchmark (table, CSV and JSON); the table's layout when it is too wide.")
@click.pass_context
def leaderboard(ctx: click.Context, leaderboard_path: str | None, as_json: bool, as_csv: bool,
                by_benchmark: bool, long_layout: bool) -> None:
    """Rank the scored models: V1, V2, V4, IT, behavior and their average.

    A region's score is the mean of the ceiled scores of the benchmarks that feed it (the newest record of
    each benchmark's newest version). A benchmark feeds the column its definition names (column = "V1", or
    "none"), else its region's when that is one of the five (a region such as EVC or FFA feeds none); a
    benchmark without a noise ceiling feeds a column only when its definition names one (marked *),
    otherwise it is shown under --benchmarks but not averaged (marked †).
    The average is the mean of the five regions, a missing region counting as 0. A model scored at other
    visual degrees, on layers chosen with --layers, or with other preprocessing is an entry of its own,
    labelled with what differs. A table wider than the terminal (COLUMNS, else the terminal's width, else 80)
    is printed in the long layout: one block per model (with --benchmarks, a row per benchmark in it).
    """
    ctx.obj = (leaderboard_path, as_json)
    if ctx.invoked_subcommand is not None:
        ranking_only = [flag for flag, given in (("--csv", as_csv), ("--benchmarks", by_benchmark),
                                                 ("--long", long_layout)) if given]
        if ranking_only:
            verb = "applies" if len(ranking_only) == 1 else "apply"
            raise click.UsageError(f"{' and '.join(ranking_only)} {verb} to the ranking, not to "
                                   f"`leaderboard {ctx.invoked_subcommand}`", ctx)
        return
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are two output formats; choose one", ctx)
    board = Leaderboard(leaderboard_path)
    ranking = board.ranking()
    if as_json:
        render.print_json(export.long_rows(ranking) if long_layout
                          else export.ranking_to_json(ranking, benchmarks=by_benchmark))
        return
    if as_csv:
        text = export.to_long_csv(ranking) if long_layout else export.to_csv(ranking, benchmarks=by_benchmark)
        click.echo(text, nl=False)
        return
    if not ranking:
        render.stdout.print(f"No scores yet in {board.path}; run `brainbench score MODEL -b BENCHMARK`.")
        return
    # Made here, not at import: the width is read now (COLUMNS, else the terminal's, else 80).
    console = render.console_now()
    console.print(Text(f"brainbench leaderboard  ·  {board.path}"))
    table = None if long_layout else _wide_table(ranking, export.benchmark_ids(ranking) if by_benchmark else [])
    if table is not None and render.natural_width(console, table) <= console.width:
        console.print(table)
    else:
        _print_blocks(console, ranking, by_benchmark or long_layout)
        if not long_layout:
            console.print(Text(f"(The table is wider than {console.width} columns, so one block per model; "
                               "COLUMNS sets the width, --long always gives this layout.)"))
    legend = [text for mark, text in LEGEND.items() if any(mark in _marks(row).values() for row in ranking)
              and (by_benchmark or long_layout or mark == UNCEILED_MARK)]
    if not (by_benchmark or long_layout) and any(row.not_averaged for row in ranking):
        legend.append("benchmarks without a noise ceiling are not averaged (--benchmarks shows them)")
    if legend:
        console.print(Text("; ".join(legend) + "."))


def _marks(row: RankedModel) -> dict[str, str]:
    """Per benchmark of ``row``: UNCEILED_MARK, NOT_AVERAGED_MARK or ''."""
    unceiled = set(row.averaged_without_ceiling)
    return {b: UNCEILED_MARK if b in unceiled else NOT_AVERAGED_MARK if b in row.not_averaged else ""
            for b in row.benchmarks}


def _region_cells(row: RankedModel) -> list[str]:
    """The row's region scores, each marked * when an unceiled benchmark feeds it."""
    unceiled = set(row.averaged_without_ceiling)
    return [render.number(row.regions[r]) + (UNCEILED_MARK if unceiled & set(row.columns.get(r, [])) else "")
            for r in REGIONS]


def _wide_table(ranking: list[RankedModel], benchmark_ids: list[str]) -> Table:
    """One row per model entry: rank, label, the region scores, the average, then one column per benchmark."""
    table = render.compact_table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for column in (*REGIONS, "average", *benchmark_ids):  # nothing wraps: the table fits whole or is not used
        table.add_column(Text(column), justify="right", no_wrap=True)
    for row in ranking:
        marks = _marks(row)
        table.add_row(str(row.rank), Text(row.label), *_region_cells(row), render.number(row.average),
                      *(render.number(row.benchmarks.get(b)) + marks.get(b, "") for b in benchmark_ids))
    return table


def _print_blocks(console: Console, ranking: list[RankedModel], with_benchmarks: bool) -> None:
    """The long layout: per model a line with its rank, label and average, a line of its region scores and,
    ``with_benchmarks``, a table of one row per benchmark (its MEASURES on a line below); these lines are never
    cut, only the benchmark and layer names fold when the terminal is narrow."""
    rank_width = len(str(len(ranking)))
    indent = " " * (rank_width + 2)
    for i, row in enumerate(ranking):
        if i:
            console.print()
        console.print(Text(f"{row.rank:>{rank_width}}  {row.label}  average {render.number(row.average)}"))
        console.print(Text(indent + "  ".join(f"{r} {cell}" for r, cell in zip(REGIONS, _region_cells(row),
                                                                              strict=True))))
        if not with_benchmarks:
            continue
        marks = _marks(row)
        table = render.compact_table()
        # The benchmark's name before the layer's: the layer folds first when the terminal is narrow.
        longest = max(len(b) for b in row.scores)
        table.add_column("benchmark", overflow="fold",
                         min_width=max(10, min(longest, console.width - len(indent) - _FIXED_BLOCK_COLUMNS)))
        table.add_column("column", no_wrap=True)
        for column in ("ceiled", "raw", "ceiling"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("layer", overflow="fold")
        for score in row.scores.values():
            table.add_row(Text(score.benchmark), score.column or "–",
                          render.number(score.ceiled) + marks[score.benchmark], render.number(score.raw),
                          render.number(score.ceiling), Text(score.layer or "–"))
        console.print(Padding(table, (0, 0, 0, len(indent))))
        for score in row.scores.values():
            if score.measures:
                shown = ", ".join(f"{MEASURE_NAMES.get(k, k)} {render.number(v)}" for k, v in score.measures.items())
                console.print(Text(f"{indent}{score.benchmark}: {shown}"))


@leaderboard.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@options.leaderboard_path
@options.as_json
@click.pass_obj
def import_(parent: tuple[str | None, bool], file: str, leaderboard_path: str | None, as_json: bool) -> None:
    """Add the score records kept in FILE (named by a `brainbench score` that could not write them).

    Records already on the leaderboard (the same uid) are skipped, so importing twice adds nothing.
    """
    parent_path, parent_json = parent
    as_json = as_json or parent_json  # `leaderboard --json import FILE` asks for JSON too
    board = Leaderboard(leaderboard_path or parent_path)
    records = unsaved.read(file)
    new = board.import_records(records)
    if as_json:
        render.print_json({"leaderboard": str(board.path), "records": len(records), "imported": new,
                           "already_present": len(records) - new})
        return
    render.stdout.print(f"Imported {new} of {len(records)} score record(s) into {board.path}"
                        f" ({len(records) - new} already there).")
