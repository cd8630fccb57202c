"""A comparison of models as a figure: per region a panel, each benchmark's ceiled score ± 95 % interval per model."""

from __future__ import annotations

from pathlib import Path

from brainbench.comparison.table import BenchmarkRow, Comparison
from brainbench.plots import style

SIGNIFICANT = "*"


def plot_comparison(comparison: Comparison, path: str | Path) -> Path:
    """Per region (as the benchmarks record it) a panel; in it, per benchmark, each model's ceiled score as a dot with
    its 95 % normal interval (± 1.96 × the record's error; no bar where the record has none), a colour and marker per
    model the same in every panel. A '*' over a model's dot: its difference to the first model is significant
    (Holm-adjusted p ≤ the comparison's alpha); 'n/a' where a model has no score. Size: two columns (7 in) wide;
    panels share the score axis and are as wide as their number of benchmarks.
    """
    regions: dict[str, list[BenchmarkRow]] = {}
    for row in comparison.rows:
        regions.setdefault(row.region, []).append(row)
    models = comparison.models
    offsets = style.spread(len(models), span=0.6)
    label_width = 12 if sum(len(rows) for rows in regions.values()) > 6 else 18
    with style.pyplot() as plt:
        fig, axes = plt.subplots(
            1, max(1, len(regions)), figsize=(style.TWO_COLUMNS, 3.4), sharey=True, squeeze=False,
            gridspec_kw={"width_ratios": [len(rows) for rows in regions.values()] or [1]}, constrained_layout=True,
        )
        axes = axes[0]
        marks: list[tuple[object, float, float]] = []  # (axes, x, top of the interval) of each significant dot
        for ax, (region, rows) in zip(axes, regions.items(), strict=False):
            for m in range(len(models)):
                for b, row in enumerate(rows):
                    score = row.scores[m]
                    x = b + offsets[m]
                    if score is None:
                        marks.append((ax, x, None))
                        continue
                    half = 0.0 if score.error is None else style.Z95 * score.error
                    ax.errorbar([x], [score.ceiled], yerr=[half], linestyle="none", marker=style.marker(m),
                                markersize=4.5, color=style.colour(m), elinewidth=0.9, capsize=2)
                    if row.significant[m]:
                        marks.append((ax, x, score.ceiled + half))
            ax.set_xticks(range(len(rows)), [style.wrap(row.benchmark, label_width) for row in rows])
            ax.set_xlim(-0.6, len(rows) - 0.4)
            ax.set_title(region)
            ax.axhline(0, color="0.8", linewidth=0.6, zorder=0)
            ax.grid(axis="y", color="0.92", linewidth=0.6)
        axes[0].set_ylabel("ceiled score (dot; line: 95 % interval)")
        low, high = axes[0].get_ylim()
        pad = 0.04 * (high - low)
        for ax, x, top in marks:
            if top is None:
                ax.text(x, low + pad, "n/a", ha="center", va="bottom", fontsize=6, color="0.4", rotation=90)
            else:
                ax.text(x, top + 0.3 * pad, SIGNIFICANT, ha="center", va="bottom", fontsize=9, fontweight="bold")
        axes[0].set_ylim(low, high + 2 * pad)
        handles = [plt.Line2D([], [], linestyle="none", marker=style.marker(m), markersize=4.5, color=style.colour(m),
                              label=style.wrap(label, 40)) for m, label in enumerate(models)]
        reference = models[0]
        note = (f"{SIGNIFICANT} differs from {reference} (Holm-adjusted p ≤ {comparison.alpha:g} over the "
                f"{len(comparison.rows)} benchmarks); n/a: not scored")
        fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(models)), frameon=False,
                   title=style.wrap(note, 120))
        return style.save(fig, path)

