"""``brainbench leaderboard`` and ``brainbench leaderboard import``."""

from __future__ import annotations

import click
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from brainbench.cli import options, render
from brainbench.errors import BrainbenchError
from brainbench.leaderboard import REGIONS, Leaderboard, RankedModel, ScoreRecord, export, records_file
from brainbench.leaderboard.export import LEGEND, UNCEILED_MARK
from brainbench.leaderboard.export import marks as _marks
from brainbench.leaderboard.ranking import (
    AVERAGE,
    RegionRanked,
    latest_of,
    rank,
    rank_region,
    rank_texts,
    select_benchmarks,
    select_models,
)

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
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print the ranking as a GitHub-flavoured Markdown table (with --benchmarks or --long too).")
@click.option("--benchmarks", "by_benchmark", is_flag=True,
              help="Also show each benchmark's score (table and CSV: a column each; JSON: each benchmark's record).")
@click.option("--long", "long_layout", is_flag=True,
              help="One row per model and benchmark (table, CSV and JSON); the table's layout when it is too wide.")
@click.option("--region", metavar="REGION",
              help="Rank by one region and show its benchmarks: V1, V2, V4, IT or behavior (the benchmarks feeding "
              "that column), or a free-text region that has scores (EVC, FFA...: its benchmarks with a ceiling or a "
              "named column are averaged).")
@click.option("-b", "--benchmark", "benchmark_patterns", multiple=True, metavar="PATTERN",
              help="Only benchmarks whose id matches this glob (e.g. 'Marques2020.*'; repeatable): only they are "
              "shown, and the regions and the average are over them alone.")
@click.option("-m", "--model", "model_patterns", multiple=True, metavar="PATTERN",
              help="Only models whose label or id matches this glob (repeatable); their ranks are those among all.")
@click.option("--errors", "with_errors", is_flag=True,
              help="Show each region's and the average's error: for a mean of n benchmarks, sqrt(Σ err²)/n of their "
              "errors (their SEMs; the SEM of the mean if the benchmarks are independent); the average (Σ/5) "
              "likewise over its regions; '–' where a benchmark has no error. JSON always carries them.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write what the table shows as one self-contained web page to FILE (sortable columns, error bars, "
              "each model's records with their provenance, the ranking's figure; it loads nothing from the network) "
              "and print its path.")
@click.option("--compare", "with_comparison", is_flag=True,
              help="With --html: also compare every shown entry with the first (the best) by `brainbench compare`'s "
              "paired tests, their differences, intervals, p-values and figure on the page (seconds to minutes).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also draw the ranking as a figure (PNG, PDF or SVG by FILE's suffix: per model each region's score "
              "and the average, or with --region each of its benchmarks and its mean; 95 % intervals from the errors) "
              "and print its path.")
@click.pass_context
def leaderboard(ctx: click.Context, leaderboard_path: str | None, as_json: bool, as_csv: bool, as_markdown: bool,
                by_benchmark: bool, long_layout: bool, region: str | None, benchmark_patterns: tuple[str, ...],
                model_patterns: tuple[str, ...], with_errors: bool, html_path: str | None, with_comparison: bool,
                plot_path: str | None) -> None:
    """Rank the scored models: V1, V2, V4, IT, behavior and their average.

    A region's score is the mean of the ceiled scores of the benchmarks that feed it (the newest record of
    each benchmark's newest version). A benchmark feeds the column its definition names (column = "V1", or
    "none"), else its region's when that is one of the five (a region such as EVC or FFA feeds none); a
    benchmark without a noise ceiling feeds a column only when its definition names one (marked *),
    otherwise it is shown under --benchmarks but not averaged (marked †).
    The average is the mean of the five regions, a missing region counting as 0. Models whose averages differ by
    at most 1e-9 (the same scores summed in another order) share a rank, shown "=2", and are listed by the
    number of regions scored (most first), then label. A model scored at other
    visual degrees, on layers chosen with --layers, or with other preprocessing is an entry of its own,
    labelled with what differs. A table wider than the terminal (COLUMNS, else the terminal's width, else 80)
    is printed in the long layout: one block per model (with --benchmarks, a row per benchmark in it).
    """
    ctx.obj = (leaderboard_path, as_json)
    if ctx.invoked_subcommand is not None:
        ranking_only = [flag for flag, given in (
            ("--csv", as_csv), ("--markdown", as_markdown), ("--benchmarks", by_benchmark), ("--long", long_layout),
            ("--region", region is not None), ("--benchmark", bool(benchmark_patterns)),
            ("--model", bool(model_patterns)), ("--errors", with_errors), ("--html", html_path is not None),
            ("--plot", plot_path is not None), ("--compare", with_comparison)) if given]
        if ranking_only:
            verb = "applies" if len(ranking_only) == 1 else "apply"
            raise click.UsageError(f"{' and '.join(ranking_only)} {verb} to the ranking, not to "
                                   f"`leaderboard {ctx.invoked_subcommand}`", ctx)
        return
    formats = [flag for flag, given in (("--json", as_json), ("--csv", as_csv), ("--markdown", as_markdown)) if given]
    if len(formats) > 1:
        count = "two" if len(formats) == 2 else "three"
        raise click.UsageError(f"{' and '.join(formats)} are {count} output formats; choose one", ctx)
    if with_comparison and html_path is None:
        raise click.UsageError("--compare puts a comparison on the page of --html FILE; give --html too", ctx)
    if html_path is not None and formats:
        raise click.UsageError(f"--html writes a web page; it cannot be combined with {formats[0]}", ctx)
    board = Leaderboard(leaderboard_path)
    everyone = board.records()
    latest = latest_of(everyone)
    if benchmark_patterns:
        latest = select_benchmarks(latest, benchmark_patterns)
    rows: list[RankedModel] | list[RegionRanked]
    scope = f"among the benchmarks matching {_patterns(benchmark_patterns)}" if benchmark_patterns else None
    rows = rank(latest, everyone) if region is None else rank_region(latest, region, everyone,
                                                                      scope or "on the leaderboard")
    every_row = len(rows)
    if model_patterns:
        rows = select_models(rows, model_patterns)
    if plot_path is not None:
        from brainbench.plots import plot_ranking  # matplotlib only when a figure is asked for

        # On stderr when stdout is JSON, CSV or Markdown, so that it stays one document.
        click.echo(f"Wrote the ranking's figure {plot_ranking(rows, plot_path)}", err=bool(formats))
    if as_json:
        render.print_json(export.long_rows(rows) if long_layout else export.region_to_json(rows)
                          if region is not None else export.ranking_to_json(rows, benchmarks=by_benchmark))
        return
    if as_csv:
        click.echo(export.to_long_csv(rows) if long_layout else export.region_to_csv(rows) if region is not None
                   else export.to_csv(rows, benchmarks=by_benchmark, errors=with_errors), nl=False)
        return
    notes = _selection_notes(rows, region, benchmark_patterns, model_patterns, every_row)
    if as_markdown:
        for note in notes:
            click.echo(f"{note}\n")
        click.echo(export.long_to_markdown(rows) if long_layout
                   else export.region_to_markdown(rows, errors=with_errors) if region is not None
                   else export.to_markdown(rows, benchmarks=by_benchmark, errors=with_errors), nl=False)
        return
    if not rows:
        render.stdout.print(f"No scores yet in {board.path}; run `brainbench score MODEL -b BENCHMARK`.")
        return
    if html_path is not None:
        _write_page(html_path, rows, latest, by_benchmark, notes, board,
                    (benchmark_patterns, region) if with_comparison else None)
        return
    # Made here, not at import: the width is read now (COLUMNS, else the terminal's, else 80).
    console = render.console_now()
    console.print(Text(f"brainbench leaderboard  ·  {board.path}"))
    for note in notes:
        console.print(Text(note))
    if region is not None:
        _print_region(console, rows, long_layout, with_errors)
        return
    _print_ranking(console, rows, by_benchmark, long_layout, with_errors)


def _print_ranking(console: Console, ranking: list[RankedModel], by_benchmark: bool, long_layout: bool,
                   with_errors: bool) -> None:
    """The ranking as a table that fits the console, else one block per model; then the legend of its marks."""
    table = None if long_layout else _wide_table(ranking, export.benchmark_ids(ranking) if by_benchmark else [],
                                                 with_errors)
    if table is not None and render.natural_width(console, table) <= console.width:
        console.print(table)
    else:
        _print_blocks(console, ranking, by_benchmark or long_layout, with_errors)
        if not long_layout:
            console.print(Text(f"(The table is wider than {console.width} columns, so one block per model; "
                               "COLUMNS sets the width, --long always gives this layout.)"))
    legend = [text for mark, text in LEGEND.items() if any(mark in _marks(row).values() for row in ranking)
              and (by_benchmark or long_layout or mark == UNCEILED_MARK)]
    if not (by_benchmark or long_layout) and any(row.not_averaged for row in ranking):
        legend.append("benchmarks without a noise ceiling or feeding no column are not averaged (--benchmarks shows "
                      "them)")
    if legend:
        console.print(Text("; ".join(legend) + "."))


def _selection_notes(rows: list[RankedModel] | list[RegionRanked], region: str | None,
                     benchmark_patterns: tuple[str, ...], model_patterns: tuple[str, ...], every_row: int) -> list[str]:
    """Sentences saying what a selection shows, for the table's and Markdown's header."""
    notes = []
    if region is not None and rows:
        name = rows[0].region
        fed = (f"the benchmarks feeding the {name} column" if name in REGIONS
               else "its benchmarks with a noise ceiling or a named column")
        notes.append(f"Ranked by {name}: the mean ceiled score of {fed}.")
    if benchmark_patterns:
        shown = len(export.benchmark_ids(rows))
        what = "the scores" if region is not None else "the regions and the average"
        notes.append(f"Only benchmarks matching {_patterns(benchmark_patterns)}: {what} are over "
                     f"these {shown} benchmark(s) alone.")
    if model_patterns:
        notes.append(f"Models matching {_patterns(model_patterns)}: {len(rows)} of {every_row} "
                     "entries; ranks are among all of them.")
    return notes


def _write_page(path: str, rows: list[RankedModel] | list[RegionRanked], latest: list[ScoreRecord],
                by_benchmark: bool, notes: list[str], board: Leaderboard,
                compared: tuple[tuple[str, ...], str | None] | None) -> None:
    """``leaderboard --html``: the page of ``rows`` (the ranking's figure too, unless ranked by a region); with
    ``compared`` (the benchmark patterns and region of the selection), every row compared with the first."""
    from brainbench.leaderboard import html  # imported when a page is asked for, as matplotlib is for its figure

    figures = [] if rows and isinstance(rows[0], RegionRanked) else [html.ranking_figure(rows)]
    comparison = None
    if compared is not None:
        from brainbench.comparison.compare import compare

        comparison = compare([row.label for row in rows], compared[0], compared[1], board)
        figures.append(html.comparison_figure(comparison))
    written = html.write_board(rows, latest, path, figures=figures, benchmarks=by_benchmark, notes=notes,
                               source=str(board.path), comparison=comparison)
    click.echo(f"Wrote the leaderboard page {written}")


def _patterns(patterns: tuple[str, ...]) -> str:
    return ", ".join(f"'{p}'" for p in patterns)


def _with_error(value: float | None, error: float | None, with_errors: bool) -> str:
    """A score cell, followed by '±error' (or '±–' when not computable) ``with_errors``."""
    if not with_errors or value is None:
        return render.number(value)
    return f"{render.number(value)}±{render.number(error)}"


def _region_cells(row: RankedModel, with_errors: bool = False) -> list[str]:
    """The row's region scores, each marked * when an unceiled benchmark feeds it (and its error ``with_errors``)."""
    unceiled = set(row.averaged_without_ceiling)
    return [_with_error(row.regions[r], row.errors.get(r), with_errors)
            + (UNCEILED_MARK if unceiled & set(row.columns.get(r, [])) else "") for r in REGIONS]


def _wide_table(ranking: list[RankedModel], benchmark_ids: list[str], with_errors: bool = False) -> Table:
    """One row per model entry: rank, label, the region scores, the average, then one column per benchmark."""
    table = render.compact_table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for column in (*REGIONS, "average", *benchmark_ids):  # nothing wraps: the table fits whole or is not used
        table.add_column(Text(column), justify="right", no_wrap=True)
    for shown, row in zip(rank_texts(ranking), ranking, strict=True):
        marks = _marks(row)
        table.add_row(shown, Text(row.label), *_region_cells(row, with_errors),
                      _with_error(row.average, row.errors.get(AVERAGE), with_errors),
                      *(render.number(row.benchmarks.get(b)) + marks.get(b, "") for b in benchmark_ids))
    return table


def _print_blocks(console: Console, ranking: list[RankedModel], with_benchmarks: bool,
                  with_errors: bool = False) -> None:
    """The long layout: per model a line with its rank, label and average, a line of its region scores and,
    ``with_benchmarks``, a table of one row per benchmark (its MEASURES on a line below); these lines are never
    cut, only the benchmark and layer names fold when the terminal is narrow."""
    shown = rank_texts(ranking)
    rank_width = max(len(text) for text in shown)
    indent = " " * (rank_width + 2)
    for i, row in enumerate(ranking):
        if i:
            console.print()
        average = _with_error(row.average, row.errors.get(AVERAGE), with_errors)
        console.print(Text(f"{shown[i]:>{rank_width}}  {row.label}  average {average}"))
        console.print(Text(indent + "  ".join(f"{r} {cell}" for r, cell in zip(REGIONS, _region_cells(
            row, with_errors), strict=True))))
        if with_benchmarks:
            _print_benchmarks(console, row, indent)


def _print_region(console: Console, rows: list[RegionRanked], long_layout: bool, with_errors: bool) -> None:
    """The ranking by a region: a table of rank, label, the region's score and each of its benchmarks when it fits
    (and not ``long_layout``), else one block per model with a row per benchmark; then the legend."""
    ids = export.benchmark_ids(rows)
    shown = rank_texts(rows)
    table = render.compact_table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for column in (rows[0].region, *ids):
        table.add_column(Text(column), justify="right", no_wrap=True)
    for text, row in zip(shown, rows, strict=True):
        marks = _marks(row)
        table.add_row(text, Text(row.label), _with_error(row.score, row.error, with_errors),
                      *(render.number(row.benchmarks.get(b)) + marks.get(b, "") for b in ids))
    if not long_layout and render.natural_width(console, table) <= console.width:
        console.print(table)
    else:
        rank_width = max(len(text) for text in shown)
        indent = " " * (rank_width + 2)
        for i, row in enumerate(rows):
            if i:
                console.print()
            score = _with_error(row.score, row.error, with_errors)
            console.print(Text(f"{shown[i]:>{rank_width}}  {row.label}  {row.region} {score}"))
            _print_benchmarks(console, row, indent)
    legend = [text for mark, text in LEGEND.items() if any(mark in _marks(row).values() for row in rows)]
    if legend:
        console.print(Text("; ".join(legend) + "."))


def _print_benchmarks(console: Console, row: RankedModel | RegionRanked, indent: str) -> None:
    """A block's table of one row per benchmark of ``row`` (column, ceiled, raw, ceiling, layer), its MEASURES on a
    line below; the benchmark's and layer's names fold when the console is narrow."""
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
    """Add the score records of FILE to the leaderboard.

    FILE is a JSON Lines file of `leaderboard export --records`, or the file a `brainbench score` that could not
    write its scores named (told apart by content).

    Every record is checked first: a bad line is named by its number and nothing of the file is imported.
    Records already on the leaderboard (the same uid) are skipped, so importing twice adds nothing.
    """
    parent_path, parent_json = parent
    as_json = as_json or parent_json  # `leaderboard --json import FILE` asks for JSON too
    board = Leaderboard(leaderboard_path or parent_path)
    records = records_file.load(file)
    new = board.import_records(records)
    if as_json:
        render.print_json({"leaderboard": str(board.path), "records": len(records), "imported": new,
                           "already_present": len(records) - new})
        return
    render.stdout.print(f"Imported {new} of {len(records)} score record(s) into {board.path}"
                        f" ({len(records) - new} already there).")


@leaderboard.command("export")
@click.option("--records", "records_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the score records to FILE as JSON Lines (one record a line, per-unit results included), "
              "for `leaderboard import` on another machine.")
@click.option("-m", "--model", "model_patterns", multiple=True, metavar="PATTERN",
              help="Only records whose model id or label matches this glob (repeatable).")
@click.option("-b", "--benchmark", "benchmark_patterns", multiple=True, metavar="PATTERN",
              help="Only records whose benchmark id matches this glob (repeatable).")
@options.leaderboard_path
@options.as_json
@click.pass_obj
def export_(parent: tuple[str | None, bool], records_path: str, model_patterns: tuple[str, ...],
            benchmark_patterns: tuple[str, ...], leaderboard_path: str | None, as_json: bool) -> None:
    """Write score records to a file for `leaderboard import`.

    Every record (all versions and repeats, with their uids and per-unit results), or those of the models and
    benchmarks chosen; the file appears whole or not at all.
    """
    parent_path, parent_json = parent
    board = Leaderboard(leaderboard_path or parent_path)
    records = records_file.select(board.records(with_units=True), model_patterns, benchmark_patterns)
    if not records:
        raise BrainbenchError(f"{board.path} holds no score records; nothing was written.")
    target = records_file.write(records, records_path)
    if as_json or parent_json:
        render.print_json({"leaderboard": str(board.path), "file": str(target), "records": len(records)})
        return
    render.stdout.print(f"Wrote {len(records)} score record(s) from {board.path} to {target}.")
