"""``brainbench evaluate``: score precomputed features against a neural assembly."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench.benchmarks.evaluate import METRICS, evaluate_features
from brainbench.cli import options, render
from brainbench.data.brainscore_format import read_assembly


def _time_bin(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        start, end = (int(v) for v in value.split(","))
    except ValueError as exc:
        raise click.BadParameter("give the time bin as START,END in ms, e.g. 70,170") from exc
    return start, end


@click.command()
@click.option("--features", "features_path", required=True, type=click.Path(dir_okay=False),
              help="netCDF DataArray presentation × neuroid with a stimulus_id coordinate.")
@click.option("--assembly", "assembly_path", required=True, type=click.Path(dir_okay=False),
              help="Neural assembly in Brain-Score's netCDF layout (presentation × neuroid [× time_bin]).")
@click.option("--metric", type=click.Choice(METRICS), default="pls", show_default=True,
              help="PLS-25 (Brain-Score's default) or ridge with a per-neuroid penalty.")
@click.option("--stratify", help="Presentation coordinate to stratify the splits by (e.g. object_name).")
@click.option("--time-bin", help="START,END in ms when the assembly has several time bins.")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA > MPS > CPU), cpu, cuda, mps.")
@options.as_json
def evaluate(features_path: str, assembly_path: str, metric: str, stratify: str | None, time_bin: str | None,
             device: str, as_json: bool) -> None:
    """Score precomputed FEATURES against a neural ASSEMBLY: raw, ceiling, ceiled, per-split values.

    Example: brainbench evaluate --features F.nc --assembly A.nc --stratify object_name --json
    """
    result = evaluate_features(
        read_assembly(features_path), read_assembly(assembly_path), metric=metric, stratify=stratify,
        time_bin=_time_bin(time_bin), device=device,
    )
    if as_json:
        render.print_json(result.to_dict())
        return
    table = Table(title=f"{metric} predictivity  ·  {features_path} → {assembly_path}")
    for column in ("raw", "error", "ceiling", "ceiled"):
        table.add_column(column, justify="right")
    table.add_row(render.number(result.raw), render.number(result.error), render.number(result.ceiling),
                  render.number(result.ceiled))
    render.stdout.print(table)
    render.stdout.print("split medians: " + " ".join(render.number(v) for v in result.split_medians))
    for note in result.notes:
        render.stdout.print(f"note: {note}")
