"""``brainbench layers``: how every candidate layer scores on one or more benchmarks."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import click
from click.core import ParameterSource
from rich.table import Table

from brainbench.cli import options, render


def _plot_path(plot_path: str, benchmark: str, several: bool) -> str:
    """``plot_path`` itself for one benchmark; with several, the benchmark id before the suffix (v4.png →
    v4.Cowley2023.V4-pls.png)."""
    if not several:
        return plot_path
    path = Path(plot_path)
    return str(path.with_name(f"{path.stem}.{benchmark}{path.suffix or '.png'}"))


@dataclass(frozen=True)
class _ModelRequest:
    """One model of ``layers``: its id and the options it is built with (its own, else the shared ones)."""

    label: str  # the -m value as given (whitespace normalised), or MODEL
    model: str
    weights: str | None
    random_init: bool
    visual_degrees: float | None
    layers: tuple[str, ...]
    seed: int


@click.command(add_help_option=False)
@click.argument("model")
@options.candidate_layers
@options.weights
@options.visual_degrees
@options.seed
def _model_options(**values: object) -> dict[str, object]:
    """The options one -m value may carry after the model id (parsed, never run as a command)."""
    return values


def _requests(model: str | None, specs: tuple[str, ...], shared: dict[str, object]) -> list[_ModelRequest]:
    """MODEL, then each -m value (``'ID [--weights F] [--random-init] [--visual-degrees D] [--layers L] [--seed N]'``);
    an option a value leaves out takes the command's own."""
    found = [] if model is None else [_ModelRequest(label=model, model=model, **shared)]
    for spec in specs:
        try:
            context = _model_options.make_context("-m", shlex.split(spec))
        except (click.UsageError, ValueError) as exc:  # ValueError: an unbalanced quote
            message = exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
            raise click.BadParameter(f"'{spec}': {message}", param_hint="'-m' / '--model'") from None
        given = {k: v for k, v in context.params.items()
                 if context.get_parameter_source(k) is not ParameterSource.DEFAULT and k != "model"}
        found.append(_ModelRequest(label=" ".join(shlex.split(spec)), model=context.params["model"],
                                   **{**shared, **given}))
    if not found:
        raise click.UsageError("Name a model: MODEL, or one -m MODEL per model to compare.")
    labels = [request.label for request in found]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise click.BadParameter(f"{', '.join(twice)} given twice; give each model once.",
                                 param_hint="'-m' / '--model'")
    return found


@click.command()
@click.argument("model", required=False)
@click.option("-m", "--model", "more_models", multiple=True, metavar="'MODEL [OPTIONS]'",
              help="Another model to profile on the same benchmarks; repeatable. Options after its id (quoted with "
              "it: --weights, --random-init, --visual-degrees, --layers, --seed) apply to it alone; the command's "
              "own options apply to every model that does not set them. E.g. -m efficientnet_lite0 "
              "-m 'efficientnet_lite0 --random-init'.")
@click.option("-b", "--benchmark", "benchmarks", multiple=True, required=True,
              help="Benchmark id or wildcard pattern; repeatable (one profile each, on one model session). "
              "RSA, neural and V1-property benchmarks only: behaviour benchmarks have no per-layer scores.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Also save a PNG figure. One model: a profile per benchmark, with several benchmarks the benchmark "
              "id added before the suffix (v4.png → v4.Cowley2023.V4-pls.png). Several models: one figure, a panel "
              "per benchmark, every model's ceiled score against normalised layer depth (0 = first candidate "
              "layer, 1 = last).")
@options.model_options
@options.offline
@options.no_cache
@options.data_mirror
@options.definitions
@options.as_json
def layers(model: str | None, more_models: tuple[str, ...], benchmarks: tuple[str, ...], plot_path: str | None,
           layers: tuple[str, ...], weights: str | None, random_init: bool, visual_degrees: float | None, device: str,
           seed: int, batch_size: int, max_memory: float | None, offline: bool, no_cache: bool,
           data_mirrors: tuple[str, ...], definitions: tuple[str, ...], as_json: bool) -> None:
    """Score every candidate layer of MODEL on each benchmark (nothing is written to the leaderboard).

    Several models: MODEL and/or one -m per model, each with its own options or the command's. Every benchmark's
    data are located (cache, mirrors, network) and every model id checked before a model is built.
    --json prints a list with one object per model and benchmark; each layer has its normalised depth
    (0 = first candidate layer, 1 = last, in the candidate layers' order).

    Examples: brainbench layers efficientnet_lite0 -b Cowley2023.V4-pls --plot v4_layers.png

    brainbench layers -m efficientnet_lite0 -m 'efficientnet_lite0 --random-init' -b Kiani2007.IT-rsa --plot it.png
    """
    from brainbench.benchmarks.scoring import DataUnavailable, check_layer_profile, layer_profile
    from brainbench.plots import normalised_depth, plot_layer_profile, plot_layer_profiles
    from brainbench.plots.style import check_path

    if plot_path:  # before any work: a figure that cannot be written is known now
        check_path(plot_path)
    shared = {"weights": weights, "random_init": random_init, "visual_degrees": visual_degrees, "layers": layers,
              "seed": seed}
    requests = _requests(model, more_models, shared)
    profiles = {}
    try:
        # score's order for every model before the first is built: definitions, data, then each model id
        check_layer_profile(list(benchmarks), [(r.model, r.weights, r.random_init, r.visual_degrees) for r in requests],
                            data_mirrors=data_mirrors, allow_download=not offline, definitions=definitions)
        with render.progress_bars(enabled=not as_json) as progress:
            for request in requests:
                profiles[request.label] = layer_profile(
                    request.model, list(benchmarks), weights=request.weights, random_init=request.random_init,
                    layers=options.split_layers(request.layers), visual_degrees=request.visual_degrees,
                    device=device, seed=request.seed, data_mirrors=data_mirrors, batch_size=batch_size,
                    max_memory_gb=max_memory, progress=progress, allow_download=not offline, definitions=definitions,
                    cache=not no_cache,
                )
    except DataUnavailable as exc:
        for found in exc.datasets:  # one line each, where it was looked for; then the error's one sentence
            click.echo(found.where(), err=True)
        raise
    figures = []
    if plot_path and len(profiles) > 1:
        figures.append(str(plot_layer_profiles(profiles, plot_path)))
    elif plot_path:
        ((label, results),) = profiles.items()
        for outcome, spec in results:
            figures.append(_plot_path(plot_path, spec.id, len(results) > 1))
            plot_layer_profile(outcome.profile, outcome.layer, f"{label} on {spec.id}", figures[-1])
    if as_json:
        render.print_json([
            {"model": label, "benchmark": spec.id, "committed_layer": outcome.layer,
             "layers": [{"layer": k, "depth": depth, **v} for (k, v), depth
                        in zip(outcome.profile.items(), normalised_depth(len(outcome.profile)), strict=True)]}
            for label, results in profiles.items() for outcome, spec in results
        ])
        return
    for label, results in profiles.items():
        for outcome, spec in results:
            keys = sorted({key for values in outcome.profile.values() for key in values})
            table = Table(title=f"{label} on {spec.id}  ·  committed layer: {outcome.layer}")
            table.add_column("layer", no_wrap=True)
            for key in keys:
                table.add_column(key, justify="right")
            for layer, values in outcome.profile.items():
                mark = " ◀" if layer == outcome.layer else ""
                table.add_row(layer + mark, *(render.number(values.get(key)) for key in keys))
            render.stdout.print(table)
    for figure in figures:
        render.stdout.print(f"figure saved to {figure}")
