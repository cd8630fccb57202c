"""A comparison of models as a figure: per region a panel of each benchmark's ceiled score per model, and under it
each model's difference to the first with the paired test's interval and significance."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brainbench.comparison.table import BenchmarkRow, Comparison
from brainbench.plots import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIGNIFICANT = "*"
HEIGHT = 4.6  # inches, with room for tick labels of up to TICK_ROOM inches (three upright lines)
TICK_ROOM = 0.5
#: How the benchmarks' tick labels are drawn, tried in turn until no two overlap: (rotation in degrees, characters a
#: line); upright labels of 3 lines fit one or two benchmarks a region, turned ones 12 in 7 in.
TICK_LAYOUTS: tuple[tuple[int, int], ...] = ((0, 16), (90, 24), (90, 60))


def comparison_width(n_benchmarks: int) -> float:
    """The figure's width in inches for ``n_benchmarks``: 1.3 in each plus 1.2 for the axis, from one column
    (3.5 in) to two (7 in)."""
    return min(style.TWO_COLUMNS, max(style.ONE_COLUMN, 1.2 + 1.3 * n_benchmarks))


def plot_comparison(comparison: Comparison, path: str | Path) -> Path:
    """A column of panels per region (as the benchmarks record it), benchmarks along x, a colour and marker per model
    the same in every panel; written to ``path``.

    Top: each model's ceiled score with ± 1.96 × its record's error (no bar where the record has none); 'n/a' where a
    model has no score. Bottom: each other model's difference to the first (other − first) with the paired test's
    95 % interval; '*' where it is significant (Holm-adjusted p ≤ the comparison's alpha). A start all benchmarks of a
    panel share (:func:`shared_prefix`) is said once in its title; the tick labels are upright, else turned (the first
    of :data:`TICK_LAYOUTS` in which none overlaps). Size: :func:`comparison_width` wide, :data:`HEIGHT` high plus what
    turned labels need beyond :data:`TICK_ROOM`.
    """
    regions: dict[str, list[BenchmarkRow]] = {}
    for row in comparison.rows:
        regions.setdefault(row.region, []).append(row)
    models = comparison.models
    offsets = style.spread(len(models), span=0.5)
    width = comparison_width(len(comparison.rows))
    with style.pyplot() as plt:
        fig, axes = plt.subplots(
            2, max(1, len(regions)), figsize=(width, 4.6), sharey="row", sharex="col", squeeze=False,
            gridspec_kw={"width_ratios": [len(rows) for rows in regions.values()] or [1], "height_ratios": [3, 2]},
            constrained_layout=True,
        )
        missing, stars = [], []
        for (top, bottom), rows in zip(axes.T, regions.values(), strict=False):
            for b, row in enumerate(rows):
                for m, score in enumerate(row.scores):
                    x = b + offsets[m]
                    if score is None:
                        missing.append((top, x))
                        continue
                    half = 0.0 if score.error is None else style.Z95 * score.error
                    top.errorbar([x], [score.ceiled], yerr=[half], linestyle="none", marker=style.marker(m),
                                 markersize=4.5, color=style.colour(m), elinewidth=0.9, capsize=2)
                    estimate = row.estimates[m]
                    if estimate is None:
                        continue
                    d = estimate.difference
                    bottom.errorbar([x], [d], yerr=[[d - estimate.ci_low], [estimate.ci_high - d]],
                                    linestyle="none", marker=style.marker(m), markersize=4.5, color=style.colour(m),
                                    elinewidth=0.9, capsize=2)
                    if row.significant[m]:
                        stars.append((bottom, x, estimate.ci_high))
            bottom.set_xlim(-0.6, len(rows) - 0.4)
            for ax in (top, bottom):
                ax.axhline(0, color="0.55" if ax is bottom else "0.8", linewidth=0.7, zorder=0)
                ax.grid(axis="y", color="0.92", linewidth=0.6)
        axes[0][0].set_ylabel("ceiled score")
        axes[1][0].set_ylabel("difference to the first\nmodel (ceiled score)")
        fig.align_ylabels(axes[:, 0])
        _annotate(axes[0][0], missing, "n/a", above=False)
        _annotate(axes[1][0], stars, SIGNIFICANT, above=True)
        handles = [plt.Line2D([], [], linestyle="none", marker=style.marker(m), markersize=4.5, color=style.colour(m),
                              label=style.wrap(label, 40)) for m, label in enumerate(models)]
        note = (f"Top: score ± 1.96 × its record's error (95 %). Bottom: each model − {models[0]}, with the paired "
                f"test's 95 % interval; {SIGNIFICANT} Holm-adjusted p ≤ {comparison.alpha:g} over "
                f"{len(comparison.rows)} benchmarks" + ("; n/a: not scored." if missing else "."))
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(models), 3 if width > 5 else 1),
                   frameon=False, title=style.wrap(note, round(16 * width)))
        _label_panels(fig, axes, regions)
        return style.save(fig, path)


def shared_prefix(benchmarks: Sequence[str]) -> str:
    """The longest start that all of two or more ``benchmarks`` share, ending at a '.' or '-' and leaving each some
    rest (e.g. 'Marques2020.V1-'); '' when there is none or only one benchmark."""
    if len(benchmarks) < 2:
        return ""
    columns = zip(*benchmarks, strict=False)  # the characters at each position, to the shortest id's end
    common = "".join(chars[0] for chars in itertools.takewhile(lambda chars: len(set(chars)) == 1, columns))
    prefix = common[:max(common.rfind("."), common.rfind("-")) + 1]
    return prefix if all(len(benchmark) > len(prefix) for benchmark in benchmarks) else ""


def _label_panels(fig: Figure, axes: object, regions: dict[str, list[BenchmarkRow]]) -> None:
    """Title each column with its region (and its benchmarks' shared prefix), and label its benchmarks in the first
    of :data:`TICK_LAYOUTS` in which no two tick labels overlap; then grow the figure's height for turned labels."""
    columns = zip(axes.T, regions.values(), strict=False)
    panels = [(top, bottom, [row.benchmark for row in rows]) for (top, bottom), rows in columns]
    prefixes = [shared_prefix(benchmarks) for _, _, benchmarks in panels]
    for (top, _, _), region, prefix in zip(panels, regions, prefixes, strict=True):
        top.set_title(f"{region} — {prefix}" if prefix else region)
    for rotation, chars in TICK_LAYOUTS:
        for (_, bottom, benchmarks), prefix in zip(panels, prefixes, strict=True):
            labels = [style.wrap(b[len(prefix):], chars) if prefix or rotation else style.benchmark_label(b, chars)
                      for b in benchmarks]
            bottom.set_xticks(range(len(benchmarks)), labels, rotation=rotation)
        fig.canvas.draw()
        if not _overlap([label for _, bottom, _ in panels for label in bottom.get_xticklabels()], fig.dpi):
            break
    for (top, _, _), region, prefix in zip(panels, regions, prefixes, strict=True):
        if prefix and top.title.get_window_extent().width > top.get_window_extent().width:
            top.set_title(f"{region}\n{prefix}")  # a narrow panel: the prefix under the region
    tallest = max(label.get_window_extent().height for _, bottom, _ in panels for label in bottom.get_xticklabels())
    fig.set_size_inches(fig.get_figwidth(), HEIGHT + max(0.0, tallest / fig.dpi - TICK_ROOM))


def _overlap(labels: list, dpi: float) -> bool:
    """Whether two of the drawn ``labels`` (on one row) come closer than 2 pt side by side."""
    gap = 2 * dpi / 72
    spans = sorted((box.x0, box.x1) for box in (label.get_window_extent() for label in labels if label.get_text()))
    return any(x1 + gap > next_x0 for (_, x1), (next_x0, _) in itertools.pairwise(spans))


def _annotate(first: object, marks: list[tuple], text: str, above: bool) -> None:
    """Write ``text`` at each mark (axes, x[, y]): above y, or at the bottom of the axes when ``above`` is False;
    the row's shared y-limits are widened (from its first axes) to keep the marks inside."""
    low, high = first.get_ylim()
    pad = 0.05 * (high - low)
    for ax, x, *y in marks:
        if above:
            ax.text(x, y[0] + 0.2 * pad, text, ha="center", va="bottom", fontsize=9, fontweight="bold")
        else:
            ax.text(x, low + pad, text, ha="center", va="bottom", fontsize=6, color="0.4", rotation=90)
    if above and marks:
        first.set_ylim(low, max(high, max(y for _, _, y in marks) + 3 * pad))
