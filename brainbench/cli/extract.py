"""``brainbench extract``: a model's activations out, as a Brain-Score netCDF assembly."""

from __future__ import annotations

import click

from brainbench.cli import options, render

POOLINGS = ("none", "avg")  # brainbench.models.features.POOLINGS, kept here so that --help imports no torch


@click.command()
@click.argument("model")
@click.option("--stimuli", required=True, metavar="DIR|DATASET",
              help="A folder of images (.jpg, .jpeg, .png; stimulus_id = the file's stem, in sorted order) or a "
              "dataset name (brainbench data list).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The netCDF file to write.")
@click.option("--pooling", type=click.Choice(POOLINGS), default="none", show_default=True,
              help="none: every unit (channel × position); avg: each (C, H, W) map averaged over positions, each "
              "(tokens, D) output over tokens.")
@click.option("--stimulus-degrees", type=options.PositiveFloat(), metavar="DEGREES",
              help="The visual angle the images span (default: a folder's images fill the model's field; a "
              "dataset's span the degrees its benchmarks show them at).")
@options.model_options
@options.data_mirror
@options.definitions
@options.as_json
def extract(model: str, stimuli: str, output: str, pooling: str, stimulus_degrees: float | None,
            layers: tuple[str, ...], weights: str | None, random_init: bool, visual_degrees: float | None,
            device: str, seed: int, batch_size: int, max_memory: float | None, data_mirrors: tuple[str, ...],
            definitions: tuple[str, ...], as_json: bool) -> None:
    """Write a model's activations to a netCDF file (stimulus × neuroid).

    The file is a Brain-Score NeuroidAssembly (presentation × neuroid; stimulus_id and the stimuli's metadata along
    presentation; neuroid_id, layer, channel, channel_x, channel_y along neuroid) that xarray opens and
    `brainbench evaluate --features` scores. It is written whole or not at all; features larger than --max-memory
    are refused before any image is run.

    Example: brainbench extract tinycnn --random-init --stimuli my_images/ --layers 3,5 --pooling avg -o features.nc
    """
    from brainbench.benchmarks.extraction import extract as extract_to_file

    with render.progress_bars(enabled=not as_json) as progress:
        features = extract_to_file(
            model, stimuli, output, layers=options.split_layers(layers), pooling=pooling,
            stimulus_degrees=stimulus_degrees, weights=weights, random_init=random_init,
            visual_degrees=visual_degrees, device=device, seed=seed, data_mirrors=data_mirrors,
            batch_size=batch_size, max_memory_gb=max_memory, progress=progress, definitions=definitions,
        )
    summary = {"output": str(output), "model": features.attrs["model"],
               "weights_digest": features.attrs["weights_digest"], "n_stimuli": int(features.sizes["presentation"]),
               "n_neuroids": int(features.sizes["neuroid"]), "pooling": pooling,
               "stimulus_degrees": features.attrs["stimulus_degrees"],
               "visual_degrees": features.attrs["visual_degrees"],
               "layers": {layer: int((features["layer"].values == layer).sum()) for layer in features.attrs["layers"]}}
    if as_json:
        render.print_json(summary)
        return
    per_layer = ", ".join(f"{layer} {n}" for layer, n in summary["layers"].items())
    render.stdout.print(f"wrote {output}: {summary['n_stimuli']} stimuli × {summary['n_neuroids']} neuroids "
                        f"({per_layer}); stimuli at {summary['stimulus_degrees']:g}° in a "
                        f"{summary['visual_degrees']:g}° field")
