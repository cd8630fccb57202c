"""``brainbench models show`` and ``brainbench rf``: looking inside a model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.table import Table

from brainbench.cli import options, render
from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    from brainbench.models.registry import Model


def _rf_rows(model: Model, layers: list[str]) -> list[dict]:
    from brainbench.models.receptive_fields import receptive_fields, to_degrees

    size, degrees = model.preprocessing.input_size, model.visual_degrees
    rows = []
    for rf in receptive_fields(model.module, layers, size):
        rows.append({
            "layer": rf.layer, "output_shape": list(rf.output_shape), "spatial": rf.spatial,
            "receptive_field_px": rf.size_px if rf.spatial else None,
            "receptive_field_deg": to_degrees(rf.size_px, size, degrees) if rf.spatial else None,
            "jump_px": rf.jump_px if rf.spatial else None, "start_px": rf.start_px if rf.spatial else None,
        })
    return rows


def _px(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


@click.command("rf")
@click.argument("model")
@options.candidate_layers
@options.visual_degrees
@options.as_json
def rf(model: str, layers: tuple[str, ...], visual_degrees: float | None, as_json: bool) -> None:
    """Theoretical receptive field of each layer: size (px and degrees), jump (stride) and centre offset.

    Computed from the model's torch graph (Araujo, Norris & Sim, Distill 2019), for any convolutional
    architecture, residual and multi-branch ones included. Receptive fields depend on the graph alone, so no
    weights are loaded (the graph is built with random init).

    Example: brainbench rf timm:resnet50 --json
    """
    from brainbench.models.registry import resolve_graph

    resolved = resolve_graph(model, layers=options.split_layers(layers), visual_degrees=visual_degrees)
    rows = _rf_rows(resolved, resolved.layers)
    if not any(row["spatial"] for row in rows):
        raise BrainbenchError(f"None of {model}'s layers has a spatial map, so receptive fields are undefined.")
    if as_json:
        render.print_json(rows)
        return
    table = Table(title=f"{model}  ·  input {resolved.preprocessing.input_size} px = {resolved.visual_degrees:g}°",
                  caption="from the graph alone: the same for any weights")
    for column in ("layer", "output shape", "RF px", "RF °", "jump px", "centre offset px"):
        table.add_column(column, justify="left" if column in ("layer", "output shape") else "right",
                         no_wrap=column == "layer")
    for row in rows:
        table.add_row(row["layer"], "×".join(str(d) for d in row["output_shape"]), _px(row["receptive_field_px"]),
                      render.number(row["receptive_field_deg"], 2), _px(row["jump_px"]), _px(row["start_px"]))
    render.stdout.print(table)


@click.command("show")
@click.argument("name")
@options.candidate_layers
@options.weights
@options.visual_degrees
@options.seed
@options.as_json
def show(name: str, layers: tuple[str, ...], weights: str | None, random_init: bool, visual_degrees: float | None,
         seed: int, as_json: bool) -> None:
    """Architecture, parameters, weights, visual degrees, input size and candidate layers with their RFs.

    A model whose published weights cannot be obtained here (offline, say) is shown with random init, and the
    output says so (weights_unavailable); the architecture, layers and receptive fields do not depend on weights.

    Example: brainbench models show efficientnet_lite0
    """
    from brainbench.models.registry import registered_models, resolve_or_graph

    model, missing = resolve_or_graph(name, weights=weights, random_init=random_init,
                                      layers=options.split_layers(layers), visual_degrees=visual_degrees, seed=seed)
    spec = registered_models().get(name)
    info = {
        "model": name, "architecture": model.architecture, "origin": spec.origin if spec else name.split(":")[0],
        "parameters": sum(p.numel() for p in model.module.parameters()),
        "weights_digest": model.weights_digest, "weights_origin": model.weights_origin,
        "random_init": model.random_init, "visual_degrees": model.visual_degrees,
        "input_size": model.preprocessing.input_size, "preprocessing": model.preprocessing.to_dict(),
        "weights_unavailable": missing.why if missing else None,
        "layers": _rf_rows(model, model.layers),
    }
    if as_json:
        render.print_json(info)
        return
    for key in ("architecture", "origin", "parameters", "weights_digest", "weights_origin", "visual_degrees",
                "input_size"):
        value = f"{info[key]:,}" if key == "parameters" else info[key]
        render.stdout.print(f"[bold]{key}[/bold]: {value}", highlight=False)
    if missing:
        render.stdout.print(f"[bold]note[/bold]: pretrained weights not available ({missing.why}); shown with random "
                            "init (the architecture, layers and receptive fields are the same).", highlight=False)
    table = Table(title="candidate layers")
    for column in ("layer", "output shape", "RF px", "RF °"):
        table.add_column(column, justify="left" if column in ("layer", "output shape") else "right", no_wrap=True)
    for row in info["layers"]:
        table.add_row(row["layer"], "×".join(str(d) for d in row["output_shape"]), _px(row["receptive_field_px"]),
                      render.number(row["receptive_field_deg"], 2))
    render.stdout.print(table)
