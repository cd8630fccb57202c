"""A model's activations on stimuli as a Brain-Score NeuroidAssembly: ``presentation × neuroid`` with layer and unit
coordinates, full maps or averaged over positions, held whole under a memory budget.

The neuroid coordinates follow Brain-Score's activations extractor (``model_helpers/activations/core.py``):
``neuroid_id`` = ``<model>.<layer>.<neuroid_num>``, ``neuroid_num`` (the unit's index within its layer), ``model``,
``layer``, and the unit's position in the layer's output: ``channel``, ``channel_x``, ``channel_y`` for a
(C, H, W) map — as Brain-Score's flattening names them, ``channel_x`` indexes rows (H) and ``channel_y`` columns
(W) — NaN where a layer has no such axis; ``embedding`` for (T, D) token outputs (``channel`` is then the token).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch
import xarray as xr

import brainbench
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError
from brainbench.models.activations import DEFAULT_MEMORY_BUDGET, ProgressFactory, forward_batches
from brainbench.models.device import resolve_device
from brainbench.models.hooks import LayerTaps, StopForward
from brainbench.models.registry import Model

#: none: every unit of a layer's output; avg: (C, H, W) maps averaged over positions, (T, D) tokens over tokens.
POOLINGS = ("none", "avg")
_BYTES = 4  # float32


def output_shapes(model: Model, layers: Sequence[str], device: torch.device) -> dict[str, tuple[int, ...]]:
    """Each layer's output shape per image (batch dimension dropped), from one forward pass of a gray image."""
    shapes: dict[str, tuple[int, ...]] = {}

    def keep(layer: str, output: torch.Tensor) -> None:
        shapes[layer] = tuple(output.shape[1:])

    size = model.preprocessing.input_size
    model.module.to(device)
    with LayerTaps(model.module, layers, keep) as taps, torch.inference_mode():
        taps.arm()
        with contextlib.suppress(StopForward):
            model.module(torch.zeros((1, 3, size, size), device=device))
        taps.check()
    return {layer: shapes[layer] for layer in layers}


def pooled_shape(layer: str, shape: tuple[int, ...], pooling: str) -> tuple[int, ...]:
    """The per-image shape a layer's output keeps under ``pooling`` (one of POOLINGS)."""
    if pooling not in POOLINGS:
        raise BrainbenchError(f"Unknown pooling '{pooling}'; choose one of {', '.join(POOLINGS)}.")
    if pooling == "none" or len(shape) <= 1:
        return shape
    if len(shape) in (2, 3):  # (T, D) tokens → (D,), (C, H, W) maps → (C,)
        return (shape[-1],) if len(shape) == 2 else (shape[0],)
    raise BrainbenchError(f"Layer {layer} gives outputs of shape {tuple(shape)} per image, which --pooling avg cannot "
                          "average (it takes (C, H, W) maps and (tokens, D) outputs); use --pooling none.")


def pool(output: torch.Tensor, pooling: str) -> torch.Tensor:
    """(batch, …) layer output → (batch, units) float32: flattened, or averaged as `pooled_shape` says."""
    output = output.float()
    if pooling == "avg" and output.ndim == 4:
        output = output.mean(dim=(2, 3))
    elif pooling == "avg" and output.ndim == 3:
        output = output.mean(dim=1)
    return output.flatten(1)


def _unit_coords(model_id: str, layer: str, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Brain-Score's neuroid coordinates of one layer's units (module docstring), flattened in C order."""
    n = int(np.prod(shape)) if shape else 1
    index = np.indices(shape).reshape(len(shape), -1) if shape else np.zeros((0, 1), dtype=int)
    position = [axis.astype(np.float64) for axis in index]
    names = ("channel", "embedding") if len(shape) == 2 else ("channel", "channel_x", "channel_y")
    coords = {name: position[i] if i < len(position) else np.full(n, np.nan) for i, name in enumerate(names)}
    number = np.arange(n)
    return {"neuroid_id": np.char.add(f"{model_id}.{layer}.", number.astype(str)).astype(object),
            "neuroid_num": number, "model": np.full(n, model_id, dtype=object),
            "layer": np.full(n, layer, dtype=object), **coords}


def check_memory(shapes: dict[str, tuple[int, ...]], n_stimuli: int, budget_bytes: int, pooling: str) -> None:
    """Refuse, in one sentence, features that would not fit ``budget_bytes`` (float32) before any image is run."""
    need = {layer: n_stimuli * int(np.prod(shape)) * _BYTES for layer, shape in shapes.items()}
    total = sum(need.values())
    if total <= budget_bytes:
        return
    largest = max(need, key=need.__getitem__)
    fixes = "average the maps over positions (--pooling avg), " if pooling == "none" else ""
    raise BrainbenchError(
        f"The features of {n_stimuli} stimuli would take {total / 2**30:.2f} GiB ({largest} alone "
        f"{need[largest] / 2**30:.2f} GiB), more than the memory budget of {budget_bytes / 2**30:.2f} GiB; "
        f"{fixes}extract fewer layers (--layers) or raise --max-memory."
    )


def extract_features(
    model: Model,
    stimuli: StimulusSet,
    stimulus_degrees: float,
    layers: Sequence[str] | None = None,
    pooling: str = "none",
    device: str | torch.device | None = None,
    batch_size: int = 32,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: ProgressFactory | None = None,
) -> xr.DataArray:
    """``presentation × neuroid`` float32 activations of ``layers`` (default: the model's candidate layers).

    Presentations are ``stimuli`` in their order, with ``stimulus_id`` and every metadata column as coordinates;
    neuroids are the layers' units in the order given (coordinates: module docstring). Images span
    ``stimulus_degrees`` and are placed in the model's field as for scoring. Features that would exceed
    ``memory_budget`` bytes are refused before the forward passes; attributes name the model and its weights.
    """
    layers = list(layers or model.layers)
    if len(set(layers)) != len(layers):
        raise BrainbenchError("The layers repeat a name; give each layer once.")
    target = device if isinstance(device, torch.device) else resolve_device(device)
    shapes = {layer: pooled_shape(layer, shape, pooling) for layer, shape in output_shapes(model, layers,
                                                                                            target).items()}
    n = len(stimuli)
    check_memory(shapes, n, memory_budget, pooling)
    widths = [int(np.prod(shapes[layer])) for layer in layers]
    starts = dict(zip(layers, np.cumsum([0, *widths[:-1]]).tolist(), strict=True))
    values = np.empty((n, sum(widths)), dtype=np.float32)  # filled in place: no per-layer copy is concatenated

    def keep(rows: slice, layer: str, output: torch.Tensor) -> None:
        start = starts[layer]
        pooled = pool(output, pooling).cpu().numpy()
        values[rows, start : start + pooled.shape[1]] = pooled

    advance = progress(f"{model.identifier}: features ({n} images)", n) if progress else None
    forward_batches(model, stimuli, stimulus_degrees, layers, target, batch_size, keep, advance, stop_early=True)
    return xr.DataArray(values, dims=("presentation", "neuroid"), coords={
        **_presentation_coords(stimuli), **_neuroid_coords(model.identifier, layers, shapes)}, attrs={
        "model": model.identifier, "architecture": model.architecture, "weights_digest": model.weights_digest,
        "weights_origin": model.weights_origin, "random_init": model.random_init,
        "visual_degrees": model.visual_degrees, "stimulus_degrees": float(stimulus_degrees), "pooling": pooling,
        "layers": list(layers), "stimulus_set": stimuli.identifier, "brainbench_version": brainbench.__version__,
    })


def _presentation_coords(stimuli: StimulusSet) -> dict[str, tuple[str, np.ndarray]]:
    metadata = stimuli.metadata
    coords = {"stimulus_id": ("presentation", np.asarray(stimuli.stimulus_ids, dtype=object))}
    for column in metadata.columns:
        values = metadata[column].to_numpy()
        coords[str(column)] = ("presentation", values.astype(object) if values.dtype.kind == "O" else values)
    return coords


def _neuroid_coords(model_id: str, layers: Sequence[str], shapes: dict[str, tuple[int, ...]]
                    ) -> dict[str, tuple[str, np.ndarray]]:
    per_layer = [_unit_coords(model_id, layer, shapes[layer]) for layer in layers]
    names = list(dict.fromkeys(name for coords in per_layer for name in coords))
    joined = {}
    for name in names:  # a coordinate some layer lacks (e.g. embedding beside conv maps) is NaN there
        parts = [c[name] if name in c else np.full(len(c["neuroid_num"]), np.nan) for c in per_layer]
        values = np.concatenate(parts)
        if values.dtype.kind != "f" or not np.isnan(values).all():  # pooled layers keep channel only
            joined[name] = ("neuroid", values)
    return joined
