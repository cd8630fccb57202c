"""Activations: one batched, gradient-free pass over the stimuli, recording every candidate layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from brainbench.data.stimuli import StimulusSet
from brainbench.models.device import resolve_device
from brainbench.models.preprocessing import place_on_screen, to_batch
from brainbench.models.registry import Model

Progress = Callable[[int], None]


def _first_tensor(output: object) -> torch.Tensor:
    """The tensor a layer emits (the first one when it returns a tuple or list)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Sequence) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"layer output of type {type(output).__name__} holds no tensor")


def extract_activations(
    model: Model,
    stimuli: StimulusSet,
    stimulus_degrees: float,
    layers: Sequence[str] | None = None,
    device: str | torch.device | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> dict[str, torch.Tensor]:
    """``{layer: (n_stimuli, n_features) float32 CPU tensor}`` in ``stimuli.stimulus_ids`` order.

    Each image spans ``stimulus_degrees`` of visual angle and is placed in the model's field of
    ``model.visual_degrees`` before preprocessing. Features are a layer's output flattened per image
    (channels × positions). ``progress`` is called with the number of images done after each batch.
    """
    layers = list(layers or model.layers)
    device = device if isinstance(device, torch.device) else resolve_device(device)
    modules = dict(model.module.named_modules())
    captured: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}

    def hook_for(layer: str) -> Callable[[nn.Module, object, object], None]:
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            captured[layer].append(_first_tensor(output).detach().flatten(1).to("cpu", torch.float32, copy=True))

        return hook

    handles = [modules[layer].register_forward_hook(hook_for(layer)) for layer in layers]
    model.module.to(device)
    try:
        ids = stimuli.stimulus_ids
        with torch.inference_mode():
            for start in range(0, len(ids), batch_size):
                chunk = ids[start : start + batch_size]
                images = [place_on_screen(stimuli.load(i), stimulus_degrees, model.visual_degrees) for i in chunk]
                model.module(to_batch(images, model.preprocessing).to(device))
                if progress:
                    progress(len(chunk))
    finally:
        for handle in handles:
            handle.remove()
    return {layer: torch.cat(parts) for layer, parts in captured.items()}
