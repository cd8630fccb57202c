"""Figures (matplotlib, drawn off-screen)."""

from __future__ import annotations

from pathlib import Path

from brainbench.errors import BrainbenchError


def plot_layer_profile(
    profile: dict[str, dict[str, float]], committed: str | None, title: str, path: str | Path
) -> Path:
    """Per-layer scores (every value series in ``profile``) against layer depth; the committed layer marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = list(profile)
    series = sorted({key for values in profile.values() for key in values})
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(layers)), 4.0), constrained_layout=True)
    for key in series:
        ax.plot(range(len(layers)), [profile[layer].get(key, float("nan")) for layer in layers], marker="o", label=key)
    if committed in layers:
        ax.axvline(layers.index(committed), color="0.5", linestyle="--", label=f"committed: {committed}")
    ax.set_xticks(range(len(layers)), layers, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(fontsize=8)
    out = Path(path)
    try:
        fig.savefig(out, dpi=120)
    except OSError as exc:
        raise BrainbenchError(f"Cannot write the figure to {out} ({exc.strerror or exc}).") from exc
    finally:
        plt.close(fig)
    return out
