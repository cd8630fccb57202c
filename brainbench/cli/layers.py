"""``brainbench layers``: how every candidate layer scores on a benchmark."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench.benchmarks.scoring import layer_profile
from brainbench.cli import options, render
from brainbench.cli.score import model_options, split_layers
from brainbench.plots import plot_layer_profile


@click.command()
@click.argument("model")
@click.option("-b", "--benchmark", required=True, help="One benchmark id.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also save the profile as a PNG figure.")
@model_options
@options.data_mirror
@options.as_json
def layers(model: str, benchmark: str, plot_path: str | None, layers: tuple[str, ...], weights: str | None,
           random_init: bool, visual_degrees: float | None, device: str, seed: int, batch_size: int,
           max_memory: float | None, data_mirrors: tuple[str, ...], as_json: bool) -> None:
    """Score every candidate layer of MODEL on BENCHMARK (nothing is written to the leaderboard).

    Example: brainbench layers efficientnet_lite0 -b Cowley2023.V4-pls --plot v4_layers.png
    """
    with render.progress_bars() as progress:
        outcome, spec = layer_profile(
            model, benchmark, weights=weights, random_init=random_init, layers=split_layers(layers),
            visual_degrees=visual_degrees, device=device, seed=seed, data_mirrors=data_mirrors,
            batch_size=batch_size, max_memory_gb=max_memory, progress=progress,
        )
    if plot_path:
        plot_layer_profile(outcome.profile, outcome.layer, f"{model} on {spec.id}", plot_path)
    if as_json:
        render.print_json({"benchmark": spec.id, "committed_layer": outcome.layer,
                           "layers": [{"layer": k, **v} for k, v in outcome.profile.items()]})
        return
    keys = sorted({key for values in outcome.profile.values() for key in values})
    table = Table(title=f"{model} on {spec.id}  ·  committed layer: {outcome.layer}")
    table.add_column("layer", no_wrap=True)
    for key in keys:
        table.add_column(key, justify="right")
    for layer, values in outcome.profile.items():
        mark = " ◀" if layer == outcome.layer else ""
        table.add_row(layer + mark, *(render.number(values.get(key)) for key in keys))
    render.stdout.print(table)
    if plot_path:
        render.stdout.print(f"figure saved to {plot_path}")
