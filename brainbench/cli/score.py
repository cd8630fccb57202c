"""``brainbench score``."""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from rich.table import Table

from brainbench.benchmarks.scoring import score as score_model
from brainbench.cli import options, render
from brainbench.leaderboard.identity import ModelEntry


def split_layers(values: tuple[str, ...]) -> list[str] | None:
    """``--layers`` values, comma-separated or repeated, as one list (None when not given)."""
    layers = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return layers or None


def model_options(command: Callable) -> Callable:
    """The options that say which model, with which weights, on which device (checked as they are parsed)."""
    for option in reversed((
        click.option("--layers", multiple=True, help="Candidate layers (comma-separated or repeated); "
                     "default: a sensible set per architecture family."),
        click.option("--weights", type=click.Path(dir_okay=False), help="A state_dict file to load into the model."),
        click.option("--random-init", is_flag=True, help="Use the untrained, randomly initialised network (recorded)."),
        click.option("--visual-degrees", type=options.PositiveFloat(), metavar="DEGREES",
                     help="The model's field of view in degrees (default: 8)."),
        click.option("--device", default="auto", show_default=True,
                     help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:N, mps."),
        click.option("--seed", type=options.SEED, default=0, show_default=True,
                     help="Seed for random initialisation and any sampling."),
        click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
                     help="Images per forward pass."),
        click.option("--max-memory", type=options.PositiveFloat(), metavar="GIB",
                     help="GiB of activations held at once (default 4); layers are processed in as many passes as "
                     "this needs."),
    )):
        command = option(command)
    return command


@click.command()
@click.argument("model")
@click.option("-b", "--benchmark", "benchmarks", multiple=True, required=True,
              help="Benchmark id or wildcard pattern (e.g. Kiani2007.IT-rsa, 'Kriegeskorte2008.*'); repeatable.")
@model_options
@click.option("--no-save", is_flag=True, help="Do not write the records to the leaderboard.")
@options.data_mirror
@options.leaderboard_path
@options.as_json
def score(model: str, benchmarks: tuple[str, ...], layers: tuple[str, ...], weights: str | None,
          random_init: bool, visual_degrees: float | None, device: str, seed: int, batch_size: int,
          max_memory: float | None, no_save: bool, data_mirrors: tuple[str, ...], leaderboard_path: str | None,
          as_json: bool) -> None:
    """Score MODEL on benchmarks and append the records to the leaderboard.

    MODEL is a built-in name (brainbench models list), timm:NAME or torchvision:NAME.

    Example: brainbench score efficientnet_lite0 -b Kiani2007.IT-rsa -b Kriegeskorte2008.IT-rsa
    """
    start = time.perf_counter()
    with render.progress_bars() as progress:
        records = score_model(
            model, list(benchmarks), weights=weights, random_init=random_init, layers=split_layers(layers),
            visual_degrees=visual_degrees, device=device, seed=seed, data_mirrors=data_mirrors,
            leaderboard=leaderboard_path, save=not no_save, batch_size=batch_size, max_memory_gb=max_memory,
            progress=progress,
        )
    if as_json:
        render.print_json([
            {"model": r.model, "benchmark": r.benchmark, "version": r.benchmark_version, "raw": r.raw,
             "ceiling": r.ceiling, "ceiled": r.ceiled, "error": r.error, "layer": r.layer, "region": r.region,
             "random_init": r.random_init, "weights_digest": r.weights_digest, "id": r.id}
            for r in records
        ])
        return
    first = records[0]
    entry = ModelEntry.of(first)
    chosen = f"  ·  layers {','.join(entry.layers)}" if entry.layers else ""
    table = Table(title=f"{first.model_label}  ·  {entry.visual_degrees:g}°{chosen}  ·  weights "
                        f"{first.weights_digest[:12]}  ·  {first.device}")
    table.add_column("benchmark", overflow="fold")
    for column in ("raw", "ceiling", "ceiled", "error"):  # scores and layers are never truncated
        table.add_column(column, justify="right", no_wrap=True, min_width=5)
    table.add_column("layer", no_wrap=True)
    for r in records:
        table.add_row(f"{r.benchmark} v{r.benchmark_version}", render.number(r.raw),
                      render.number(r.ceiling), render.number(r.ceiled), render.number(r.error), r.layer or "–")
    render.stdout.print(table)
    where = "not saved (--no-save)" if no_save else f"saved as records {', '.join(str(r.id) for r in records)}"
    render.stdout.print(f"{len(records)} score(s) in {time.perf_counter() - start:.1f} s; {where}.")
