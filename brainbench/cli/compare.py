"""``brainbench compare``."""

from __future__ import annotations

import csv
import io

import click
from rich.text import Text

from brainbench.cli import options, render
from brainbench.comparison.estimate import Estimate
from brainbench.comparison.table import AVERAGE, BenchmarkRow, Comparison, RegionSummary

SIGNIFICANT_MARK = "*"
NOT_AVERAGED = "not averaged"  # the group of benchmarks that feed no leaderboard column


@click.command()
@click.argument("models", nargs=-1, required=True)
@click.option("-b", "--benchmark", "benchmarks", multiple=True, metavar="PATTERN",
              help="Only benchmarks matching this id or wildcard pattern (e.g. 'Kiani2007.*'); repeatable.")
@click.option("--region", metavar="REGION", help="Only benchmarks of this region or leaderboard column (e.g. IT).")
@options.as_json
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per benchmark (or summary) and model.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print Markdown tables (one per region).")
@click.option("--resamples", "n_resamples", type=click.IntRange(1), default=2000, show_default=True,
              help="Paired resamples of the per-unit tests.")
@click.option("--seed", type=options.SEED, default=0, show_default=True, help="Seed of the paired resamples.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also draw the comparison (per region, each model's scores with 95 % intervals) to FILE (.png, "
              ".pdf, .svg).")
@options.leaderboard_path
def compare(models: tuple[str, ...], benchmarks: tuple[str, ...], region: str | None, as_json: bool, as_csv: bool,
            as_markdown: bool, n_resamples: int, seed: int, plot_path: str | None,
            leaderboard_path: str | None) -> None:
    """Compare MODELS on their scored benchmarks: each one's difference to the first, with its 95 % interval and
    p-value.

    MODELS are named as the leaderboard shows them: the model id, or its full label where two entries share an id
    (quoted, e.g. 'timm:resnet18 (random-init)'). Each benchmark's newest record of its newest version is
    compared. Where both records keep per-unit results (stimuli, neuroids, subjects, trials), the same resamples of
    those units are applied to both models (a paired bootstrap); otherwise only the per-fold scores are compared
    (a t-test corrected for overlapping training sets), and the row says so. A difference is marked * when
    significant at 0.05 after Holm's correction across the benchmarks compared (per model). A benchmark missing for
    a model is listed with the command that would score it.

    Example: brainbench compare efficientnet_lite0 'timm:resnet18 (random-init)' -b 'Kiani2007.*'
    """
    from brainbench.comparison.compare import compare as compare_models

    formats = [flag for flag, given in (("--json", as_json), ("--csv", as_csv), ("--markdown", as_markdown)) if given]
    if len(formats) > 1:
        raise click.UsageError(f"{' and '.join(formats)} are output formats; choose one")
    if plot_path is not None:
        from brainbench.plots.style import check_path

        check_path(plot_path)  # before the work: a figure that cannot be written is refused at once
    comparison = compare_models(list(models), benchmarks, region, leaderboard_path, n_resamples, seed)
    if as_json:
        render.print_json(comparison.to_dict())
    elif as_csv:
        click.echo(to_csv(comparison), nl=False)
    elif as_markdown:
        click.echo(to_markdown(comparison), nl=False)
    else:
        _print_tables(comparison)
    if plot_path is not None:
        from brainbench.plots import plot_comparison  # matplotlib only when a figure is asked for

        click.echo(f"Wrote the comparison's figure {plot_comparison(comparison, plot_path)}", err=bool(formats))


def groups(comparison: Comparison) -> list[tuple[str, list[BenchmarkRow], RegionSummary | None]]:
    """The rows by leaderboard column (then the benchmarks that feed none), each with its column's summary."""
    out: list[tuple[str, list[BenchmarkRow], RegionSummary | None]] = []
    for row in comparison.rows:
        name = row.column or NOT_AVERAGED
        if not out or out[-1][0] != name:
            summary = next((s for s in comparison.summaries if s.region == row.column), None)
            out.append((name, [], summary))
        out[-1][1].append(row)
    return out


def score_cell(row: BenchmarkRow, i: int) -> str:
    """'0.512 ± 0.021', '0.512' without an error, or 'missing'."""
    score = row.scores[i]
    if score is None:
        return "missing"
    return render.number(score.ceiled) + ("" if score.error is None else f" ± {render.number(score.error)}")


def difference_cell(estimate: Estimate | None) -> str:
    """'+0.123 [+0.050, +0.190]', or '–' when there is no estimate."""
    if estimate is None:
        return "–"
    return f"{estimate.difference:+.3f} [{estimate.ci_low:+.3f}, {estimate.ci_high:+.3f}]"


def p_cell(p: float | None, significant: bool | None = None) -> str:
    """A p-value to 3 significant digits (< 0.001 as such), marked when significant."""
    if p is None:
        return "–"
    text = "<0.001" if p < 0.001 else f"{p:.3f}"
    return text + (f" {SIGNIFICANT_MARK}" if significant else "")


def summary_line(comparison: Comparison, summary: RegionSummary) -> str:
    """'IT mean: A 0.412; B 0.301 (Δ -0.111 [-0.150, -0.072], p <0.001)', each model over the benchmarks (regions,
    for the average) it shares with the first; the first's mean on those is named where it is another."""
    unit = "region" if summary.region == AVERAGE else "benchmark"
    parts = []
    for i, model in enumerate(comparison.models):
        mean = summary.means[i]
        part = f"{model} {render.number(mean)}"
        details = []
        first = summary.first_means[i] if summary.first_means else None
        if i and mean is not None and first is not None and first != summary.means[0]:
            details.append(f"{comparison.models[0]} {render.number(first)} on the same "
                           f"{len(summary.benchmarks[i])} {unit}(s)")
        estimate = summary.estimates[i]
        if i and estimate is not None:
            details.append(f"Δ {difference_cell(estimate)}, p {p_cell(estimate.p_value)}")
        elif i and mean is not None:
            details.append(f"no interval: a {unit} has no estimate")
        parts.append(part + (f" ({'; '.join(details)})" if details else ""))
    what = "average over regions" if summary.region == AVERAGE else f"{summary.region} mean"
    return f"{what}: " + "; ".join(parts)


def _header(comparison: Comparison) -> list[str]:
    return ["benchmark", *comparison.models,
            *(h for model in comparison.models[1:] for h in (f"Δ {model} [95% CI]", "p (Holm)"))]


def _cells(comparison: Comparison, row: BenchmarkRow) -> list[str]:
    return [row.benchmark, *(score_cell(row, i) for i in range(len(comparison.models))),
            *(c for i in range(1, len(comparison.models))
              for c in (difference_cell(row.estimates[i]), p_cell(row.p_adjusted[i], row.significant[i])))]


def _footnotes(comparison: Comparison) -> list[str]:
    """Missing scores with their commands, then how each model's estimates were made (and why at fold level or not
    at all), one line per text shared by several benchmarks."""
    lines = []
    for row in comparison.rows:
        for i, model in enumerate(comparison.models):
            if row.missing_commands[i] is not None:
                lines.append(f"{row.benchmark}, {model}: missing: {row.missing_commands[i]}")
    for i, model in enumerate(comparison.models[1:], start=1):
        said: dict[str, list[str]] = {}
        for row in comparison.rows:
            estimate = row.estimates[i]
            text = " ".join(_sentence(t) for t in (row.notes[i], estimate and estimate.method) if t)
            if text:
                said.setdefault(text, []).append(row.benchmark)
        lines += [f"{', '.join(benchmarks)} ({model}): {text}" for text, benchmarks in said.items()]
    return lines


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:]) + ("" if text.endswith((".", "?", "!")) else ".")


def _print_tables(comparison: Comparison) -> None:
    console = render.console_now()
    for index, (name, rows, summary) in enumerate(groups(comparison)):
        if index:
            console.print()
        console.print(Text(name, style="bold"))
        table = render.compact_table()
        for j, heading in enumerate(_header(comparison)):
            table.add_column(Text(heading), justify="left" if j == 0 else "right", overflow="fold", no_wrap=j == 0)
        for row in rows:
            table.add_row(*(Text(c) for c in _cells(comparison, row)))
        console.print(table)
        if summary is not None:
            console.print(Text(summary_line(comparison, summary)))
    average = next((s for s in comparison.summaries if s.region == AVERAGE), None)
    if average is not None:
        console.print()
        console.print(Text(summary_line(comparison, average)))
    console.print()
    for line in (*comparison.notes, *_footnotes(comparison)):
        console.print(Text(line))


def to_markdown(comparison: Comparison) -> str:
    """A Markdown table per region, its summary line under it, then the average, notes and footnotes."""
    out = []
    header = _header(comparison)
    for name, rows, summary in groups(comparison):
        out += [f"### {name}", "", _md_row(header), _md_row(["---", *["---:"] * (len(header) - 1)])]
        out += [_md_row(_cells(comparison, row)) for row in rows]
        out += [""] + ([summary_line(comparison, summary), ""] if summary is not None else [])
    average = next((s for s in comparison.summaries if s.region == AVERAGE), None)
    if average is not None:
        out += [f"**{summary_line(comparison, average)}**", ""]
    out += [f"- {line}" for line in (*comparison.notes, *_footnotes(comparison))]
    return "\n".join(out) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


CSV_FIELDS = ("kind", "name", "version", "region", "column", "model", "ceiled", "error", "raw", "ceiling", "layer",
              "difference", "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "level", "method", "note",
              "missing_command")


def to_csv(comparison: Comparison) -> str:
    """One row per benchmark and model (kind 'benchmark'), then per summary and model (kind 'region'/'average')."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in comparison.rows:
        for i, model in enumerate(comparison.models):
            score = row.scores[i]
            writer.writerow({
                "kind": "benchmark", "name": row.benchmark, "version": row.version, "region": row.region,
                "column": row.column or "", "model": model,
                **({} if score is None else {"ceiled": score.ceiled, "error": _blank(score.error), "raw": score.raw,
                                             "ceiling": _blank(score.ceiling), "layer": _blank(score.layer)}),
                **_estimate_fields(row.estimates[i]), "p_adjusted": _blank(row.p_adjusted[i]),
                "significant": _blank(row.significant[i]), "note": _blank(row.notes[i]),
                "missing_command": _blank(row.missing_commands[i]),
            })
    for summary in comparison.summaries:
        for i, model in enumerate(comparison.models):
            writer.writerow({"kind": "average" if summary.region == AVERAGE else "region", "name": summary.region,
                             "model": model, "ceiled": _blank(summary.means[i]),
                             **_estimate_fields(summary.estimates[i])})
    return buffer.getvalue()


def _estimate_fields(estimate: Estimate | None) -> dict[str, object]:
    if estimate is None:
        return {}
    return {"difference": estimate.difference, "ci_low": estimate.ci_low, "ci_high": estimate.ci_high,
            "p_value": estimate.p_value, "level": estimate.level, "method": estimate.method}


def _blank(value: object) -> object:
    return "" if value is None else value
