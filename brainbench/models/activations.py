"""Activations: batched, gradient-free passes over the stimuli, recording candidate layers.

Two ways out: ``extract_activations`` returns the features themselves (small layers, RSA), and
``layer_kernels`` returns what exact linear regression needs of each layer — its stimulus × stimulus
Gram matrix (or, for a layer narrower than the stimuli, its features: `predictivity.regression_input`)
— computed pass by pass under a memory budget, so that a layer with hundreds of thousands of features
per image never meets the others in memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError
from brainbench.metrics.predictivity import regression_input
from brainbench.models.device import resolve_device
from brainbench.models.hooks import LayerTaps, StopForward, first_tensor
from brainbench.models.input_cache import model_inputs
from brainbench.models.preprocessing import normalise, place_on_screen, to_batch
from brainbench.models.registry import Model
from brainbench.stages import stage

Progress = Callable[[int], None]
ProgressFactory = Callable[[str, int], Progress]
DEFAULT_MEMORY_BUDGET = 4 * 2**30  # bytes of activations held at once (float32 features)
_BYTES = 4


def _device(device: str | torch.device | None) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def forward_batches(
    model: Model, stimuli: StimulusSet, stimulus_degrees: float, layers: Sequence[str], device: torch.device,
    batch_size: int, keep: Callable[[slice, str, torch.Tensor], None], progress: Progress | None, *, stop_early: bool,
    stimulus_cache: Path | None = None,
) -> None:
    """Run ``stimuli`` through ``model`` in batches (gradient-free, on ``device``), handing each layer's output to
    ``keep(rows, layer, output)``: ``rows`` is the batch's slice of ``stimuli.stimulus_ids``, ``output`` the
    layer's (batch, …) tensor. Images are placed on screen as for scoring; a layer that produced nothing is an
    error; ``progress`` gets the number of images after each batch; ``stop_early`` ends each forward pass at the
    deepest layer. With ``stimulus_cache`` the placed, resized images are read from (or decoded once into) that
    folder (models/input_cache.py): the same numbers, bit for bit. Timed as the stages ``decode_preprocess`` and
    ``forward_passes`` (brainbench/stages.py)."""
    rows = slice(0, 0)

    def tap(layer: str, output: torch.Tensor) -> None:
        keep(rows, layer, output)

    model.module.to(device)
    ids = stimuli.stimulus_ids
    size = model.preprocessing.input_size
    pinned = device.type == "cuda"  # page-locked host batches copy to the GPU while the host prepares the next
    with stage("forward_passes", device):
        with stage("decode_preprocess"):
            cached = None if stimulus_cache is None else model_inputs(
                stimuli, stimulus_degrees, model.visual_degrees, size, stimulus_cache)
        with LayerTaps(model.module, layers, tap, stop_early) as taps, torch.inference_mode():
            for start in range(0, len(ids), batch_size):
                chunk = ids[start : start + batch_size]
                rows = slice(start, start + len(chunk))
                with stage("decode_preprocess"):
                    if cached is not None:
                        batch = normalise(cached[rows], model.preprocessing)
                    else:
                        images = [place_on_screen(stimuli.load(i), stimulus_degrees, model.visual_degrees)
                                  for i in chunk]
                        batch = to_batch(images, model.preprocessing)
                    if pinned:
                        batch = batch.pin_memory()
                taps.arm()
                with contextlib.suppress(StopForward):
                    model.module(batch.to(device, non_blocking=pinned))
                taps.check()
                if progress:
                    progress(len(chunk))


def _run(
    model: Model, stimuli: StimulusSet, stimulus_degrees: float, layers: Sequence[str], device: torch.device,
    batch_size: int, progress: Progress | None, stop_early: bool, stimulus_cache: Path | None = None,
) -> dict[str, torch.Tensor]:
    """One pass: ``{layer: (n_stimuli, n_features) float32 CPU tensor}``, preallocated (no concatenation copy)."""
    n = len(stimuli)
    out: dict[str, torch.Tensor] = {}

    def keep(rows: slice, layer: str, output: torch.Tensor) -> None:
        features = output.flatten(1)
        if layer not in out:
            out[layer] = torch.empty((n, features.shape[1]), dtype=torch.float32)
        out[layer][rows] = features.to("cpu", torch.float32)

    forward_batches(model, stimuli, stimulus_degrees, layers, device, batch_size, keep, progress, stop_early=stop_early,
                    stimulus_cache=stimulus_cache)
    return out


def extract_activations(
    model: Model,
    stimuli: StimulusSet,
    stimulus_degrees: float,
    layers: Sequence[str] | None = None,
    device: str | torch.device | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
    stimulus_cache: Path | None = None,
) -> dict[str, torch.Tensor]:
    """``{layer: (n_stimuli, n_features) float32 CPU tensor}`` in ``stimuli.stimulus_ids`` order, one pass.

    Each image spans ``stimulus_degrees`` of visual angle and is placed in the model's field of
    ``model.visual_degrees`` before preprocessing. Features are a layer's output flattened per image
    (channels × positions). ``progress`` is called with the number of images done after each batch.
    ``stimulus_cache``: a folder for the preprocessed stimuli (see :func:`forward_batches`).
    """
    layers = list(layers or model.layers)
    return _run(model, stimuli, stimulus_degrees, layers, _device(device), batch_size, progress, stop_early=False,
                stimulus_cache=stimulus_cache)


@dataclass(frozen=True)
class LayerSize:
    """A layer's features per image and its position in the forward pass."""

    name: str
    n_features: int
    order: int


def layer_sizes(model: Model, layers: Sequence[str], device: str | torch.device | None = None) -> list[LayerSize]:
    """Features per image of each layer, in execution order, from one forward pass of a gray image."""
    modules = dict(model.module.named_modules())
    seen: dict[str, tuple[int, int]] = {}

    def hook_for(layer: str) -> Callable[[nn.Module, object, object], None]:
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if layer not in seen:
                seen[layer] = (first_tensor(output, layer)[0].numel(), len(seen))

        return hook

    handles = [modules[layer].register_forward_hook(hook_for(layer)) for layer in layers]
    size = model.preprocessing.input_size
    target = _device(device)
    model.module.to(target)
    try:
        with torch.inference_mode():
            model.module(torch.zeros((1, 3, size, size), device=target))
    finally:
        for handle in handles:
            handle.remove()
    missing = [layer for layer in layers if layer not in seen]
    if missing:
        raise BrainbenchError(f"Layer(s) {', '.join(missing)} produced no output in a forward pass.")
    return sorted((LayerSize(name, *seen[name]) for name in layers), key=lambda s: s.order)


def pack_passes(
    needs: Sequence[tuple[str, int]], budget_bytes: int, too_big: Callable[[str, int], Exception]
) -> list[list[str]]:
    """Group layers (in the given order) into passes whose ``(layer, bytes)`` needs fit ``budget_bytes`` together.

    A layer that alone exceeds the budget raises ``too_big(layer, bytes)``.
    """
    passes: list[list[str]] = []
    held = 0
    for name, need in needs:
        if need > budget_bytes:
            raise too_big(name, need)
        if passes and held + need <= budget_bytes:
            passes[-1].append(name)
            held += need
        else:
            passes.append([name])
            held = need
    return passes


def plan_passes(sizes: Sequence[LayerSize], n_stimuli: int, budget_bytes: int) -> list[list[str]]:
    """Group layers (in execution order) into passes whose activations fit ``budget_bytes`` together.

    A layer that alone exceeds the budget is an error naming it, its size and the fixes.
    """
    features = {size.name: size.n_features for size in sizes}

    def too_big(name: str, need: int) -> BrainbenchError:
        return BrainbenchError(
            f"Layer {name} needs {need / 2**30:.1f} GiB for {n_stimuli} stimuli "
            f"({features[name]} features each), more than the memory budget of {budget_bytes / 2**30:.1f} GiB; "
            "raise --max-memory or leave the layer out with --layers."
        )

    return pack_passes([(s.name, n_stimuli * s.n_features * _BYTES) for s in sizes], budget_bytes, too_big)


def layer_kernels(
    model: Model,
    stimuli: StimulusSet,
    stimulus_degrees: float,
    layers: Sequence[str] | None = None,
    device: str | torch.device | None = None,
    batch_size: int = 32,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: ProgressFactory | None = None,
    stimulus_cache: Path | None = None,
) -> dict[str, torch.Tensor]:
    """``{layer: (n, n) float64 Gram matrix X Xᵀ of the features centred over these n stimuli}``; a layer
    with fewer features than stimuli keeps its (n, p) features instead (`predictivity.regression_input`).

    Layers are grouped into as few passes as the memory budget allows; each pass stops the forward
    pass after its deepest layer, and a pass's features are freed once their Grams are computed
    (on ``device``). ``progress`` gets two tasks per pass: its images, then its layers' Gram matrices.
    ``stimulus_cache``: a folder for the preprocessed stimuli (see :func:`forward_batches`).
    """
    target = _device(device)
    layers = list(layers or model.layers)
    passes = plan_passes(layer_sizes(model, layers, target), len(stimuli), memory_budget)
    grams: dict[str, torch.Tensor] = {}
    for i, group in enumerate(passes, 1):
        label = f"{model.identifier}: activations, pass {i}/{len(passes)} ({len(stimuli)} images)"
        advance = progress(label, len(stimuli)) if progress else None
        features = _run(model, stimuli, stimulus_degrees, group, target, batch_size, advance, stop_early=True,
                        stimulus_cache=stimulus_cache)
        # A wide layer's Gram matrix (n² × features products) can take as long as the pass itself.
        advance = progress(f"{model.identifier}: Gram matrices, pass {i}/{len(passes)} ({len(group)} layers)",
                           len(group)) if progress else None
        with stage("grams", target):
            for layer in group:
                grams[layer] = regression_input(features.pop(layer).to(target)).cpu()
                if advance:
                    advance(1)
    return {layer: grams[layer] for layer in layers}
