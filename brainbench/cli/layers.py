"""``brainbench layers``: how every candidate layer scores on one or more benchmarks."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from brainbench.cli import options, render


def _plot_path(plot_path: str, benchmark: str, several: bool) -> str:
    """``plot_path`` itself for one benchmark; with several, the benchmark id before the suffix (v4.png →
    v4.Cowley2023.V4-pls.png)."""
    if not several:
        return plot_path
    path = Path(plot_path)
    return str(path.with_name(f"{path.stem}.{benchmark}{path.suffix or '.png'}"))


@click.command()
@click.argument("model")
@click.option("-b", "--benchmark", "benchmarks", multiple=True, required=True,
              help="Benchmark id or wildcard pattern; repeatable (one profile each, on one model session). "
              "RSA, neural and V1-property benchmarks only: behaviour benchmarks have no per-layer scores.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Also save each profile as a PNG figure; with several benchmarks the benchmark id is added "
              "before the suffix (v4.png → v4.Cowley2023.V4-pls.png).")
@options.model_options
@options.offline
@options.data_mirror
@options.definitions
@options.as_json
def layers(model: str, benchmarks: tuple[str, ...], plot_path: str | None, layers: tuple[str, ...],
           weights: str | None, random_init: bool, visual_degrees: float | None, device: str, seed: int,
           batch_size: int, max_memory: float | None, offline: bool, data_mirrors: tuple[str, ...],
           definitions: tuple[str, ...], as_json: bool) -> None:
    """Score every candidate layer of MODEL on each benchmark (nothing is written to the leaderboard).

    Every benchmark's data are located (cache, mirrors, network) before the model is built. --json prints a list
    with one object per benchmark.

    Example: brainbench layers efficientnet_lite0 -b Cowley2023.V4-pls --plot v4_layers.png
    """
    from brainbench.benchmarks.scoring import DataUnavailable, layer_profile
    from brainbench.plots import plot_layer_profile

    try:
        with render.progress_bars(enabled=not as_json) as progress:
            profiles = layer_profile(
                model, list(benchmarks), weights=weights, random_init=random_init,
                layers=options.split_layers(layers), visual_degrees=visual_degrees, device=device, seed=seed,
                data_mirrors=data_mirrors, batch_size=batch_size, max_memory_gb=max_memory, progress=progress,
                allow_download=not offline, definitions=definitions,
            )
    except DataUnavailable as exc:
        for found in exc.datasets:  # one line each, where it was looked for; then the error's one sentence
            click.echo(found.where(), err=True)
        raise
    figures = []
    for outcome, spec in profiles:
        if plot_path:
            figures.append(_plot_path(plot_path, spec.id, len(profiles) > 1))
            plot_layer_profile(outcome.profile, outcome.layer, f"{model} on {spec.id}", figures[-1])
    if as_json:
        render.print_json([{"benchmark": spec.id, "committed_layer": outcome.layer,
                            "layers": [{"layer": k, **v} for k, v in outcome.profile.items()]}
                           for outcome, spec in profiles])
        return
    for outcome, spec in profiles:
        keys = sorted({key for values in outcome.profile.values() for key in values})
        table = Table(title=f"{model} on {spec.id}  ·  committed layer: {outcome.layer}")
        table.add_column("layer", no_wrap=True)
        for key in keys:
            table.add_column(key, justify="right")
        for layer, values in outcome.profile.items():
            mark = " ◀" if layer == outcome.layer else ""
            table.add_row(layer + mark, *(render.number(values.get(key)) for key in keys))
        render.stdout.print(table)
    for figure in figures:
        render.stdout.print(f"figure saved to {figure}")
