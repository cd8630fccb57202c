"""The leaderboard's ranking as a figure: per model its region scores and their average, best model on top."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from brainbench.errors import BrainbenchError
from brainbench.leaderboard.ranking import AVERAGE, BenchmarkScore, RankedModel, RegionRanked, rank_texts
from brainbench.leaderboard.record import REGIONS
from brainbench.plots import style


def plot_ranking(ranking: Sequence[RankedModel] | Sequence[RegionRanked], path: str | Path,
                 regions: Sequence[str] | None = None) -> Path:
    """The ranking as rows of dots, best first, with ± 1.96 · error bars (95 % normal intervals) where the error is
    known; written to ``path``.

    The leaderboard's ranking (:class:`RankedModel`): per model each region's ceiled score (a colour and marker per
    region; ``regions``: those shown, default the five) and the average as a grey bar (over all five regions, a
    region without a score counting as 0). A ranking by one region (:class:`RegionRanked`): per model each of the
    region's benchmarks (a colour per benchmark; those the mean leaves out say so) and the region's mean as the bar.
    Size: two columns (7 in) wide, 0.2 in per line of model label.
    """
    rows = list(ranking)
    if not rows:
        raise BrainbenchError("There is no model to draw: the ranking is empty.")
    if isinstance(rows[0], RegionRanked):
        region = rows[0].region
        benchmarks = list(dict.fromkeys(b for row in rows for b in row.benchmarks))
        bars = [(row.score, row.error) for row in rows]
        shown_only = {b for row in rows for b in row.not_averaged}
        series = {style.wrap(b + (" (not averaged)" if b in shown_only else ""), 44):
                  [(row.benchmarks.get(b), _error(row.scores.get(b))) for row in rows] for b in benchmarks}
        return _draw(rows, bars, f"mean over the averaged {region} benchmarks", series,
                     f"Ranking by {region} (best first)", path)
    shown = list(REGIONS if regions is None else regions)
    bars = [(row.average, row.errors.get(AVERAGE)) for row in rows]
    series = {region: [(row.regions.get(region), row.errors.get(region)) for row in rows] for region in shown}
    return _draw(rows, bars, "average of the 5 regions (missing = 0)", series, "Leaderboard ranking (best first)",
                 path)


def _draw(rows: Sequence[RankedModel | RegionRanked], bars: list[tuple[float | None, float | None]], bar_label: str,
          series: dict[str, list[tuple[float | None, float | None]]], title: str, path: str | Path) -> Path:
    """Rows best first: a bar (value, error) per row and a dot (value, error) per row of each series; None: none."""
    names = [f"{place}. {style.wrap(row.label, 44)}" for place, row in zip(rank_texts(rows), rows, strict=True)]
    positions, y = [], 0.0
    for name in names:  # a row as tall as its label's lines
        n = name.count("\n") + 1
        positions.append(y + 0.5 * n)
        y += n
    with style.pyplot() as plt:
        fig, ax = plt.subplots(figsize=(style.TWO_COLUMNS, 1.3 + 0.2 * y), constrained_layout=True)
        ax.barh(positions, [value or 0.0 for value, _ in bars], height=0.6, color="0.85", edgecolor="0.6",
                linewidth=0.5, xerr=[_interval(error) for _, error in bars], error_kw={"ecolor": "0.4", "lw": 0.8},
                label=bar_label)
        offsets = style.spread(len(series), span=0.5)
        for s, (label, points) in enumerate(series.items()):
            kept = [(value, position + offsets[s], _interval(error))
                    for (value, error), position in zip(points, positions, strict=True) if value is not None]
            if kept:
                ax.errorbar([k[0] for k in kept], [k[1] for k in kept], xerr=[k[2] for k in kept], linestyle="none",
                            marker=style.marker(s), markersize=4, color=style.colour(s), elinewidth=0.8, capsize=1.5,
                            label=label)
        ax.set_yticks(positions, names)
        ax.set_ylim(y, 0)
        ax.axvline(0, color="0.5", linewidth=0.6)
        ax.grid(axis="x", color="0.92", linewidth=0.6)
        ax.set_xlabel("ceiled score (bars and dots; lines: 95 % interval, ± 1.96 × error)")
        ax.set_title(title)
        fig.legend(loc="outside lower center", ncols=min(6, len(series) + 1), frameon=False)
        return style.save(fig, path)


def _error(score: BenchmarkScore | None) -> float | None:
    return None if score is None else score.error


def _interval(error: float | None) -> float:
    """Half the 95 % normal interval of a score with standard error ``error`` (0: no bar)."""
    return 0.0 if error is None else style.Z95 * error

