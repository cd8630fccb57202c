"""The leaderboard as one self-contained HTML page: the sortable ranking with error bars, a section per model entry
with every record's scores and provenance, and figures as data: URIs. The page loads nothing from anywhere."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path

from brainbench.comparison.table import BenchmarkRow, Comparison, ModelScore, RegionSummary
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.export import LEGEND, UNCEILED_MARK, marks
from brainbench.leaderboard.identity import ModelEntry
from brainbench.leaderboard.ranking import AVERAGE, RankedModel, RegionRanked, rank_texts
from brainbench.leaderboard.record import REGIONS, ScoreRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Figure:
    """A figure for the page: a PNG image's bytes and the sentence under it."""

    png: bytes
    caption: str


def ranking_figure(ranking: Sequence[RankedModel]) -> Figure:
    """The ranking drawn by :func:`brainbench.plots.plot_ranking`, as a figure for the page."""
    from brainbench.plots.ranking import plot_ranking  # matplotlib: only when a page is written

    with tempfile.TemporaryDirectory(prefix="brainbench-page-") as folder:
        png = plot_ranking(ranking, Path(folder) / "ranking.png").read_bytes()
    return Figure(png, "The ranking: each model's region scores (dots) and average (bar), with 95 % intervals "
                       "(± 1.96 standard errors).")


def comparison_figure(comparison: Comparison) -> Figure:
    """The comparison drawn by :func:`brainbench.plots.plot_comparison`, as a figure for the page."""
    from brainbench.plots.comparison import plot_comparison  # matplotlib: only when a page is written

    with tempfile.TemporaryDirectory(prefix="brainbench-page-") as folder:
        png = plot_comparison(comparison, Path(folder) / "comparison.png").read_bytes()
    return Figure(png, f"Each model against {comparison.models[0]}: per benchmark, each model's ceiled score with its "
                       "95 % interval; * marks a difference to the first model that is significant after Holm's "
                       "correction.")


@dataclass(frozen=True)
class _Cell:
    value: float | None  # a unitless score; None = missing
    error: float | None  # its standard error; None = not computable
    mark: str = ""


def write_board(ranking: Sequence[RankedModel] | Sequence[RegionRanked], records: Sequence[ScoreRecord],
                path: str | os.PathLike[str], *, figures: Sequence[Figure] = (), benchmarks: bool = False,
                notes: Sequence[str] = (), source: str = "", comparison: Comparison | None = None) -> Path:
    """Write the page of ``ranking`` to ``path`` atomically (a temporary file beside it, then a rename); return it.

    ``records``: the records the rows were ranked from (their provenance fills each entry's section);
    ``benchmarks``: a column per benchmark in the ranking table too (a ranking by region always has them);
    ``notes``: sentences saying what the selection shows; ``source``: the leaderboard file, named in the header;
    ``comparison``: a paired comparison of the models (:func:`brainbench.compare`), shown as a table per model.
    BrainbenchError (one sentence) when ``path`` cannot be written; nothing is left behind then.
    """
    page = render_board(ranking, records, figures=figures, benchmarks=benchmarks, notes=notes, source=source,
                        comparison=comparison)
    target = Path(path)
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".part", delete=False) as f:
            part = Path(f.name)
            f.write(page)
    except OSError as exc:
        raise BrainbenchError(f"Cannot write the leaderboard page {target}: {_reason(exc)}.") from None
    try:
        os.chmod(part, 0o666 & ~_umask())  # as any new file (the temporary one is private): a page is for sharing
        os.replace(part, target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise BrainbenchError(f"Cannot write the leaderboard page {target}: {_reason(exc)}.") from None
    return target


def _umask() -> int:
    mask = os.umask(0o022)  # reading the mask means setting it: put it straight back
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".").lower()


def render_board(ranking: Sequence[RankedModel] | Sequence[RegionRanked], records: Sequence[ScoreRecord], *,
                 figures: Sequence[Figure] = (), benchmarks: bool = False, notes: Sequence[str] = (),
                 source: str = "", comparison: Comparison | None = None) -> str:
    """The page's HTML text (see :func:`write_board`); every user-given string is escaped."""
    from brainbench import __version__

    script = _asset("board.js")
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    # No source but the page itself: inline styles, this one script (by its hash, so that no injected script could
    # run) and data: images.
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:"
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = f" from <code>{escape(source)}</code>" if source else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>brainbench leaderboard</title>",
        f"<style>\n{_asset('board.css')}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>brainbench leaderboard</h1>",
        f'<p class="meta">{len(ranking)} model entr{"y" if len(ranking) == 1 else "ies"}{where}; written {written} '
        f"by brainbench {escape(__version__)}.</p>",
        *(f"<p>{escape(note)}</p>" for note in notes),
        "</header>",
        "<main>",
        _ranking_section(ranking, benchmarks),
        *([_comparison_section(comparison)] if comparison is not None else []),
        *([_figures_section(figures)] if figures else []),
        _models_section(ranking, records),
        "</main>",
        f"<script>{script}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _asset(name: str) -> str:
    return resources.files("brainbench.leaderboard").joinpath("page", name).read_text(encoding="utf-8")


def _columns(row: RankedModel | RegionRanked, benchmark_ids: Sequence[str]) -> list[_Cell]:
    """The numeric cells of a ranking row: the regions and the average (or the region), then each benchmark."""
    if isinstance(row, RankedModel):
        unceiled = set(row.averaged_without_ceiling)
        cells = [_Cell(row.regions[r], row.errors.get(r), UNCEILED_MARK if unceiled & set(row.columns.get(r, ()))
                       else "") for r in REGIONS]
        cells.append(_Cell(row.average, row.errors.get(AVERAGE)))
    else:
        cells = [_Cell(row.score, row.error)]
    shown = marks(row)
    for b in benchmark_ids:
        score = row.scores.get(b)
        cells.append(_Cell(None, None) if score is None else _Cell(score.ceiled, score.error, shown[b]))
    return cells


def _ranking_section(ranking: Sequence[RankedModel] | Sequence[RegionRanked], benchmarks: bool) -> str:
    by_region = bool(ranking) and isinstance(ranking[0], RegionRanked)
    benchmark_ids = sorted({b for row in ranking for b in row.scores}) if benchmarks or by_region else []
    if by_region:
        region = ranking[0].region
        names = [region, *benchmark_ids]
        explained = (f"The {escape(region)} column is each model's mean ceiled score over the region's averaged "
                     "benchmarks; each benchmark's own ceiled score follows.")
    else:
        names = [*REGIONS, "average", *benchmark_ids]
        explained = ("Each region's score is the mean ceiled score of the benchmarks feeding it; the average is "
                     "the mean of the five regions, a missing region counting as 0.")
    cells = [_columns(row, benchmark_ids) for row in ranking]
    low, high = _scale(cells)
    head = ['<th class="number" data-type="number" aria-sort="ascending"><button type="button">#</button></th>',
            '<th class="text" data-type="text"><button type="button">model</button></th>',
            *(f'<th class="number{" benchmark" if n in benchmark_ids else ""}" data-type="number" '
              f'data-first="descending"><button type="button">{_breakable(n)}</button></th>' for n in names)]
    body = []
    for index, (shown, row, row_cells) in enumerate(zip(rank_texts(ranking), ranking, cells, strict=True)):
        tied = ' title="tied: another entry has the same score"' if shown.startswith("=") else ""
        body.append(
            f'<tr><td class="rank" data-value="{row.rank}"{tied}>{escape(shown)}</td>'
            f'<td class="label text" data-value="{escape(row.label)}"><a href="#entry-{index + 1}">'
            f"{escape(row.label)}</a></td>" + "".join(_score_cell(c, low, high) for c in row_cells) + "</tr>")
    used = {c.mark for row_cells in cells for c in row_cells if c.mark}
    legend = "; ".join(LEGEND[mark] for mark in LEGEND if mark in used)
    return "\n".join([
        '<section id="ranking">',
        "<h2>Ranking</h2>",
        f"<p>{explained} Scores are unitless (1 = as good as the noise ceiling allows); ± is the standard error "
        f"(SEM). Bars run from 0 to the score on one scale from {low:g} to {high:g}, whiskers span ± one "
        "standard error. Click a column's header to sort by it, again to reverse; “=2” marks a tie.</p>",
        '<div class="scroll">',
        '<table id="ranking-table" class="ranking">',
        f"<thead><tr>{''.join(head)}</tr></thead>",
        "<tbody>",
        *body,
        "</tbody>",
        "</table>",
        "</div>",
        *([f'<p class="legend">{escape(legend)}.</p>'] if legend else []),
        "</section>",
    ])


def _breakable(name: str) -> str:
    """``name`` escaped, with a line-break opportunity after each '.' (long benchmark ids in a header)."""
    return "<wbr>".join(escape(part) for part in name.replace(".", ".\0").split("\0"))


def _scale(cells: Sequence[Sequence[_Cell]]) -> tuple[float, float]:
    """The bars' common axis: from min(0, lowest score − error) to max(1, highest score + error)."""
    low, high = 0.0, 1.0
    for row_cells in cells:
        for c in row_cells:
            if c.value is not None:
                spread = c.error or 0.0
                low, high = min(low, c.value - spread), max(high, c.value + spread)
    return low, high


def _score_cell(cell: _Cell, low: float, high: float) -> str:
    if cell.value is None:
        return '<td class="missing" data-value="">–</td>'

    def at(value: float) -> float:  # percent of the bar's width
        return 100 * (min(max(value, low), high) - low) / (high - low)

    zero, end = at(0.0), at(cell.value)
    bar = [f'<span class="fill" style="left:{min(zero, end):.2f}%;width:{abs(end - zero):.2f}%"></span>']
    if low < 0:
        bar.append(f'<span class="zero" style="left:{zero:.2f}%"></span>')
    error = "–" if cell.error is None else f"{cell.error:.3f}"
    if cell.error is not None:
        left, right = at(cell.value - cell.error), at(cell.value + cell.error)
        bar.append(f'<span class="whisker" style="left:{left:.2f}%;width:{right - left:.2f}%"></span>')
    return (f'<td data-value="{float(cell.value)!r}"><span class="num">{cell.value:.3f}{escape(cell.mark)}</span>'
            f'<span class="err">±{error}</span><span class="bar" aria-hidden="true">{"".join(bar)}</span></td>')


def _comparison_section(comparison: Comparison) -> str:
    """Per model after the first, a table of the benchmarks both have: the two scores, the difference with its 95 %
    interval, the Holm-adjusted p-value (significant ones marked), how it was tested; then the region summaries."""
    first = comparison.models[0]
    parts = ['<section id="comparison">', f"<h2>Compared with {escape(first)}</h2>",
             "<p>The paired tests resample the units each score aggregates (stimuli, neuroids, subjects, trials), "
             "the same resamples for both models; where a record lacks them, its folds (“tested on”: units or "
             f"folds). * marks a difference significant at p ≤ {comparison.alpha:g} after Holm's correction.</p>",
             *(f"<p>{escape(note)}</p>" for note in comparison.notes)]
    for index, model in enumerate(comparison.models[1:], start=1):
        rows = [_comparison_row(row, index) for row in comparison.rows]
        rows += [_summary_row(summary, index) for summary in comparison.summaries]
        parts.append(_table(f"comparison-{index}", ("benchmark", first, model, "difference [95 % CI]", "p (Holm)",
                                                     "tested on"), [r for r in rows if r is not None],
                            caption=f"{model} − {first}"))
        methods = [(row.benchmark, estimate.method) for row in comparison.rows
                   if (estimate := row.estimates[index]) is not None]
        if methods:
            parts.append("<details><summary>How each difference was tested</summary><ul>"
                         + "".join(f"<li>{escape(b)}: {escape(m)}</li>" for b, m in methods) + "</ul></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _comparison_row(row: BenchmarkRow, index: int) -> tuple[str, ...] | None:
    """A benchmark's line for model ``index``, or None when neither it nor the first has a score."""
    first, other = row.scores[0], row.scores[index]
    if first is None and other is None:
        return None
    estimate, p = row.estimates[index], row.p_adjusted[index]
    missing = next((c for c in (row.missing_commands[0], row.missing_commands[index]) if c), None)
    if estimate is None:
        why = row.notes[index] or (f"not scored: {missing}" if missing else "no estimate")
        return (row.benchmark, _score(first), _score(other), "–", "–", why)
    mark = " *" if row.significant[index] else ""
    return (row.benchmark, _score(first), _score(other), _difference(estimate.difference, estimate.ci_low,
            estimate.ci_high), ("–" if p is None else f"{p:.3g}") + mark, estimate.level)


def _summary_row(summary: RegionSummary, index: int) -> tuple[str, ...] | None:
    estimate = summary.estimates[index]
    if estimate is None:
        return None
    first = summary.first_means[index] if summary.first_means else summary.means[0]
    return (f"{summary.region} (mean)", _number(first), _number(summary.means[index]),
            _difference(estimate.difference, estimate.ci_low, estimate.ci_high),
            f"{estimate.p_value:.3g} (uncorrected)", estimate.level)


def _score(score: ModelScore | None) -> str:
    return "–" if score is None else f"{score.ceiled:.3f} ± {_number(score.error)}"


def _difference(value: float, low: float, high: float) -> str:
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]"


def _figures_section(figures: Sequence[Figure]) -> str:
    shown = []
    for figure in figures:
        if not figure.png.startswith(PNG_SIGNATURE):
            raise ValueError(f"figure {figure.caption!r} is not a PNG image")
        data = base64.b64encode(figure.png).decode("ascii")
        shown.append(f'<figure><img src="data:image/png;base64,{data}" alt="{escape(figure.caption)}">'
                     f"<figcaption>{escape(figure.caption)}</figcaption></figure>")
    return "\n".join(['<section id="figures">', "<h2>Figures</h2>", *shown, "</section>"])


def _entry_of(row: RankedModel | RegionRanked) -> ModelEntry:
    """The model entry a ranking row stands for (as :meth:`ModelEntry.of` reads it from its records)."""
    return ModelEntry(
        model=row.model, weights_digest=row.weights_digest, random_init=row.random_init,
        visual_degrees=row.visual_degrees, layers=None if row.layers is None else tuple(row.layers),
        preprocessing_json=None if row.preprocessing is None else json.dumps(row.preprocessing, sort_keys=True))


def _models_section(ranking: Sequence[RankedModel] | Sequence[RegionRanked], records: Sequence[ScoreRecord]) -> str:
    by_entry = {(ModelEntry.of(r), r.benchmark, r.benchmark_version): r for r in records}
    parts = ['<section id="entries">', "<h2>Models</h2>",
             "<p>Every benchmark's record of each model entry: raw is the metric's value, ceiled = raw normalised by "
             "the noise ceiling (the score that ranks), error its standard error; then where the score came from.</p>"]
    for index, row in enumerate(ranking):
        entry = _entry_of(row)
        facts = [
            ("model id", row.model), ("weights (sha256)", row.weights_digest),
            ("weights", "randomly initialised" if row.random_init else "trained"),
            ("visual degrees", f"{row.visual_degrees:g}°"),
            ("candidate layers", "the model's default set" if row.layers is None else ", ".join(row.layers)),
            ("preprocessing", "not recorded" if row.preprocessing is None
             else json.dumps(row.preprocessing, sort_keys=True)),
        ]
        parts += [f'<section id="entry-{index + 1}" class="entry">', f"<h3>{escape(row.label)}</h3>",
                  '<dl class="entry">' + "".join(f"<dt>{escape(k)}</dt><dd><code>{escape(v)}</code></dd>"
                                                for k, v in facts) + "</dl>",
                  _records_tables([by_entry.get((entry, b, s.benchmark_version)) for b, s in row.scores.items()],
                                  row), "</section>"]
    parts.append("</section>")
    return "\n".join(parts)


_SCORE_COLUMNS = ("benchmark", "region", "column", "raw", "ceiling", "ceiled", "error", "layer")
_PROVENANCE_COLUMNS = ("benchmark", "version", "brainbench", "scored at", "device", "seed", "uid")
_TEXT_COLUMNS = frozenset({"benchmark", "region", "column", "layer", "brainbench", "scored at", "device", "uid",
                           "tested on"})
_CODE_COLUMNS = frozenset({"layer", "scored at", "uid"})


def _records_tables(found: Sequence[ScoreRecord | None], row: RankedModel | RegionRanked) -> str:
    """Two tables of one row per benchmark of ``row``: its scores, then where they came from (``found``: each
    benchmark's record, None when not given)."""
    scores, provenance = [], []
    for score, record in zip(row.scores.values(), found, strict=True):
        scores.append((score.benchmark, score.region, score.column or "–", _number(score.raw), _number(score.ceiling),
                       _number(score.ceiled), _number(score.error), score.layer or "–"))
        provenance.append((score.benchmark, str(score.benchmark_version), *(("–",) * 5 if record is None else (
            record.brainbench_version, record.finished_at, record.device, str(record.seed), record.uid))))
    return _table("scores", _SCORE_COLUMNS, scores) + "\n" + _table("provenance", _PROVENANCE_COLUMNS, provenance)


def _table(kind: str, columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None = None) -> str:
    def cell(tag: str, name: str, text: str) -> str:
        shown = f"<code>{escape(text)}</code>" if tag == "td" and name in _CODE_COLUMNS else escape(text)
        return f'<{tag} class="{"text" if name in _TEXT_COLUMNS else "number"}">{shown}</{tag}>'

    head = "".join(cell("th", name, name) for name in columns)
    body = ["<tr>" + "".join(cell("td", name, text) for name, text in zip(columns, values, strict=True)) + "</tr>"
            for values in rows]
    title = escape(caption or kind.capitalize())
    return "\n".join([f'<div class="scroll"><table class="records {kind}"><caption>{title}</caption>'
                      f"<thead><tr>{head}</tr></thead><tbody>",
                      *body, "</tbody></table></div>"])


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
