"""``brainbench visualize``: what a unit responds to (feature visualisation) and DeepDream."""

from __future__ import annotations

from pathlib import Path

import click

from brainbench.cli import options, render
from brainbench.errors import BrainbenchError


def _position(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        x, y = (int(v) for v in value.split(","))
    except ValueError as exc:
        raise click.BadParameter("give the neuron as X,Y (positions in the layer's map)") from exc
    return x, y


def _save(image, path: str) -> None:
    target = Path(path)
    try:
        image.save(target)
    except (OSError, ValueError) as exc:
        raise BrainbenchError(f"Cannot write the image to {target} ({exc}).") from exc


@click.command()
@click.argument("model")
@click.option("--layer", required=True, help="The layer (a module name, e.g. blocks.4.0; any module, not only the "
              "candidate layers).")
@click.option("--channel", type=click.IntRange(min=0),
              help="Channel to excite (objective: its mean, or one neuron with --neuron).")
@click.option("--neuron", help="X,Y: excite only this position of the channel's map.")
@click.option("--deepdream", "dream_image", type=click.Path(dir_okay=False),
              help="DeepDream this image: amplify whatever the layer sees in it, over several octaves.")
@click.option("--steps", type=click.IntRange(min=1), default=256, show_default=True,
              help="Optimisation steps (per octave for --deepdream: 10).")
@click.option("--size", type=click.IntRange(min=16), default=128, show_default=True,
              help="Output size in pixels (feature visualisation).")
@click.option("--octaves", type=click.IntRange(min=1), default=3, show_default=True, help="DeepDream octaves.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the PNG.")
@options.weights
@options.device
@options.seed
@options.threads
def visualize(model: str, layer: str, channel: int | None, neuron: str | None, dream_image: str | None, steps: int,
              size: int, octaves: int, output: str, weights: str | None, random_init: bool, device: str,
              seed: int) -> None:
    """Show what LAYER of MODEL responds to, by gradient ascent on an image.

    Feature visualisation as in Olah et al., Distill 2017. Without --channel the objective is the whole layer's
    squared norm (as DeepDream).

    Examples: brainbench visualize efficientnet_lite0 --layer blocks.4.0 --channel 7 -o unit.png;
    brainbench visualize efficientnet_lite0 --layer blocks.4.0 --deepdream cat.jpg -o dream.png
    """
    from brainbench.models.registry import resolve_model
    from brainbench.models.visualize import activation, check_target, deepdream, open_image
    from brainbench.models.visualize import visualize as optimise

    resolved = resolve_model(model, weights=weights, random_init=random_init, seed=seed)
    objective = "layer" if channel is None or dream_image else ("neuron" if neuron else "channel")
    check_target(resolved, layer, objective, None if dream_image else channel, _position(neuron))
    source = open_image(dream_image) if dream_image else None
    with render.progress_bars() as progress:
        if source is not None:
            per_octave = steps if steps != 256 else 10
            advance = progress(f"{model}: DeepDream {layer}", octaves * per_octave)
            image = deepdream(resolved, layer, source, octaves=octaves, steps_per_octave=per_octave, seed=seed,
                              progress=advance, device=device)
            before, after = activation(resolved, layer, [source, image], "layer", device=device).tolist()
            summary = f"layer objective {before:.4g} → {after:.4g} ({after / before:.2f}×)"
        else:
            advance = progress(f"{model}: {objective} objective, {layer}", steps)
            image = optimise(resolved, layer, objective, channel=channel, neuron=_position(neuron), steps=steps,
                             size=size, seed=seed, progress=advance, device=device)
            value = float(activation(resolved, layer, [image], objective, channel=channel,
                                     neuron=_position(neuron), device=device)[0])
            summary = f"{objective} objective of the result: {value:.4g}"
    _save(image, output)
    render.stdout.print(f"wrote {output} ({image.width}×{image.height}); {summary}")
