"""Layer profiles: how a model's candidate layers score on a benchmark, for one model or several on one axis."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brainbench.plots import style

if TYPE_CHECKING:
    from brainbench.benchmarks.kinds import Outcome
    from brainbench.benchmarks.spec import BenchmarkSpec

DEPTH_LABEL = "normalised layer depth (0 = first candidate layer, 1 = last)"
SCORE_LABEL = "ceiled score"


def normalised_depth(n_layers: int) -> list[float]:
    """The hierarchy position of each of ``n_layers`` candidate layers, in their order: i / (n − 1), so the first
    is 0 and the last 1 (a single layer: 0)."""
    if n_layers == 1:
        return [0.0]
    return [i / (n_layers - 1) for i in range(n_layers)]


def plot_layer_profile(
    profile: dict[str, dict[str, float]], committed: str | None, title: str, path: str | Path
) -> Path:
    """One model's per-layer scores (every value series in ``profile``: raw, ceiled, selection values, unitless)
    against its candidate layers in order, the committed layer marked; written to ``path``."""
    layers = list(profile)
    series = sorted({key for values in profile.values() for key in values})
    with style.pyplot() as plt:
        width = min(style.TWO_COLUMNS, max(style.ONE_COLUMN, 0.3 * len(layers) + 1.5))
        fig, ax = plt.subplots(figsize=(width, 2.8), constrained_layout=True)
        for i, key in enumerate(series):
            ax.plot(range(len(layers)), [profile[layer].get(key, math.nan) for layer in layers],
                    color=style.colour(i), marker=style.marker(i), markersize=4, linewidth=1.2, label=key)
        if committed in layers:
            ax.axvline(layers.index(committed), color="0.4", linestyle="--", linewidth=0.8,
                       label=f"committed layer: {committed}")
        ax.set_xticks(range(len(layers)), [style.wrap(layer, 24) for layer in layers], rotation=60, ha="right")
        ax.set_xlabel("candidate layer (input → output)")
        ax.set_ylabel("score (unitless)")
        ax.set_title(title)
        fig.legend(loc="outside lower center", ncols=min(3, len(series) + 1), frameon=False)
        return style.save(fig, path)


def plot_layer_profiles(profiles: Mapping[str, Sequence[tuple[Outcome, BenchmarkSpec]]], path: str | Path) -> Path:
    """Several models' layer profiles, a panel per benchmark: each model's ceiled score per candidate layer against
    :func:`normalised_depth`, its committed layer drawn large with a black edge; written to ``path``.

    ``profiles``: model label → what :func:`brainbench.benchmarks.scoring.layer_profile` returned for it (the same
    benchmarks for every model; a benchmark one model lacks is left out of that model's line). Size: two columns
    (7 in) wide, three panels a row.
    """
    benchmarks = list(dict.fromkeys(spec.id for results in profiles.values() for _, spec in results))
    columns = min(3, len(benchmarks))
    rows = math.ceil(len(benchmarks) / columns)
    with style.pyplot() as plt:
        fig, axes = plt.subplots(rows, columns, figsize=(style.TWO_COLUMNS if columns > 1 else 4.0, 0.6 + 2.4 * rows),
                                 squeeze=False, sharey=True, constrained_layout=True)
        for m, results in enumerate(profiles.values()):
            by_benchmark = {spec.id: outcome for outcome, spec in results}
            for b, benchmark in enumerate(benchmarks):
                if benchmark not in by_benchmark:
                    continue
                outcome = by_benchmark[benchmark]
                ax = axes[b // columns][b % columns]
                layers = list(outcome.profile)
                depth = normalised_depth(len(layers))
                scores = [outcome.profile[layer].get("ceiled", math.nan) for layer in layers]
                ax.plot(depth, scores, color=style.colour(m), marker=style.marker(m), markersize=3.5, linewidth=1.2)
                if outcome.layer in layers:
                    at = layers.index(outcome.layer)
                    ax.plot([depth[at]], [scores[at]], linestyle="none", marker=style.marker(m), markersize=8,
                            color=style.colour(m), markeredgecolor="black", markeredgewidth=1.0, zorder=3,
                            clip_on=False)  # a committed first or last layer sits on the panel's edge
        for b, ax in enumerate(axes.flat):
            if b >= len(benchmarks):
                ax.set_visible(False)
                continue
            ax.set_title(style.wrap(benchmarks[b], 36))
            ax.set_xlim(-0.05, 1.05)
            ax.axhline(0, color="0.8", linewidth=0.6, zorder=0)
            ax.grid(axis="y", color="0.92", linewidth=0.6)
            if b % columns == 0:
                ax.set_ylabel(SCORE_LABEL)
        fig.supxlabel(DEPTH_LABEL, fontsize=style.RC["axes.labelsize"])
        handles = [plt.Line2D([], [], color=style.colour(m), marker=style.marker(m), markersize=3.5, linewidth=1.2,
                              label=style.wrap(label, 40)) for m, label in enumerate(profiles)]
        handles.append(plt.Line2D([], [], linestyle="none", marker="o", markersize=8, markerfacecolor="white",
                                  markeredgecolor="black", label="committed layer (the one scored)"))
        fig.legend(handles=handles, loc="outside upper center", ncols=min(3, len(handles)), frameon=False)
        return style.save(fig, path)
