"""In-silico electrophysiology: show a model parametric gratings and record the units of chosen layers.

As Marques et al. (2021): first map every unit's receptive field with small grating patches on a
grid of positions, keep the units whose receptive-field centre lies near where the tuning
experiments are shown, then record only those units through the orientation, spatial-frequency and
size experiments. Responses are the layers' raw outputs; turning them into firing rates and tuning
properties is the benchmark's job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from brainbench.data import gratings
from brainbench.errors import BrainbenchError
from brainbench.metrics.rf_mapping import near, rf_centroids
from brainbench.models.activations import pack_passes
from brainbench.models.hooks import LayerTaps, StopForward
from brainbench.models.registry import Model
from brainbench.stages import stage

TUNING_EXPERIMENTS = ("orientation", "spatial_frequency", "size")
RF_THRESHOLD = 0.05  # fraction of a unit's peak response that counts as inside its receptive field
RF_DELTA = 0.15  # degrees: how near the stimulus position a receptive-field centre must be

Progress = Callable[[int], None]
ProgressFactory = Callable[[str, int], Progress]


@dataclass
class LayerRecording:
    """One layer's units near the stimulus position and their responses.

    ``units``: flat indices (into the layer's output per image) of the kept units; ``rf_centre``:
    their receptive-field centres, (n_kept, 2) degrees (y, x); ``blank``: (n_kept,) response to the
    gray screen; ``responses``: experiment → (n_kept, n_stimuli) in the experiment's table order.
    ``n_units`` counts all units of the layer, ``n_mapped`` those that responded to any patch.
    """

    layer: str
    output_shape: tuple[int, ...]
    n_units: int
    n_mapped: int
    units: np.ndarray
    rf_centre: np.ndarray
    blank: np.ndarray
    responses: dict[str, np.ndarray] = field(default_factory=dict)


def _spatial(shape: tuple[int, ...]) -> bool:
    """Whether a per-image output shape maps positions: (C, H, W) with H·W > 1, or (tokens, C) with tokens > 1."""
    if len(shape) == 3:
        return shape[1] * shape[2] > 1
    return len(shape) == 2 and shape[0] > 1


class _Recorder:
    """Layer taps on the model plus its input convention; per batch, hands each layer's (batch, …) output to
    ``sink`` and stops the forward pass after the deepest layer."""

    def __init__(self, model: Model, layers: Sequence[str], device: torch.device) -> None:
        self.model, self.device = model, device
        self.sink: Callable[[str, torch.Tensor], None] = lambda layer, out: None
        self.taps = LayerTaps(model.module, layers, lambda layer, out: self.sink(layer, out))
        self.mean = torch.tensor(model.preprocessing.mean, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(model.preprocessing.std, device=device).view(1, 3, 1, 1) * 255

    def run(self, screens: torch.Tensor) -> None:
        """One forward pass of (batch, H, W) gray levels 0–255."""
        x = screens.to(self.device)[:, None].expand(-1, 3, -1, -1)
        x = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        self.taps.arm()
        with stage("forward_passes"), contextlib.suppress(StopForward):  # no sync per batch: the sinks copy out
            self.model.module(x)
        self.taps.check()

    def close(self) -> None:
        self.taps.close()


def record_gratings(
    model: Model,
    layers: Sequence[str],
    device: torch.device,
    batch_size: int = 64,
    progress: ProgressFactory | None = None,
    skip_without_map: bool = False,
    stimulus_cache: Path | None = None,
    memory_budget: int | None = None,
) -> dict[str, LayerRecording]:
    """Map receptive fields and record the tuning experiments for every layer in ``layers``.

    A layer without a spatial map (a pooled vector) is refused with one sentence, or left out when
    ``skip_without_map`` (default candidate layers). Stimuli are rendered in batches straight at the
    model's input size (see data/gratings.py), once into ``stimulus_cache`` when it is given. The
    receptive-field maps (4 bytes × units × positions per layer) are held for at most
    ``memory_budget`` bytes of layers at once: more layers take more mapping passes.
    """
    degrees, size = model.visual_degrees, model.preprocessing.input_size
    module = model.module.to(device)
    if device.type == "cpu":  # depthwise and 1×1 convolutions run ~1.7× faster channels-last on CPU
        module.to(memory_format=torch.channels_last)
    recorder = _Recorder(model, layers, device)
    try:
        with torch.inference_mode():
            blank: dict[str, torch.Tensor] = {}
            recorder.sink = lambda layer, out: blank.__setitem__(layer, out)
            # One image: no progress task, so a layer refused just below leaves its error as the only line.
            recorder.run(next(gratings.experiment_batches("blank", degrees, size, 1, device, stimulus_cache)))
            recorder.close()
            shapes = {layer: tuple(blank[layer].shape[1:]) for layer in layers}
            flat = [layer for layer in layers if not _spatial(shapes[layer])]
            if flat and (not skip_without_map or len(flat) == len(layers)):
                raise BrainbenchError(
                    f"Layer {flat[0]} has no spatial map (output {shapes[flat[0]]} per image), so its units have no "
                    "receptive field to map; give a convolutional layer for V1 with --layers."
                )
            mapped = [layer for layer in layers if layer not in flat]
            flat_blank = {layer: blank[layer].flatten(1)[0].float() for layer in mapped}
            recordings: dict[str, LayerRecording] = {}
            for group in map_groups({layer: flat_blank[layer].numel() for layer in mapped}, memory_budget):
                recorder = _Recorder(model, group, device)  # each pass stops after its deepest layer
                recordings |= _map_receptive_fields(recorder, {layer: flat_blank[layer] for layer in group}, degrees,
                                                    size, batch_size, progress, shapes, stimulus_cache)
                recorder.close()
            recorder = _Recorder(model, mapped, device)
            for name in TUNING_EXPERIMENTS:
                _record_experiment(recorder, recordings, name, degrees, size, batch_size, progress, stimulus_cache)
    finally:
        recorder.close()
        if device.type == "cpu":
            module.to(memory_format=torch.contiguous_format)
    return {layer: recordings[layer] for layer in mapped}


def map_groups(units: dict[str, int], memory_budget: int | None) -> list[list[str]]:
    """Layers (in the given order) grouped so that each group's receptive-field maps fit ``memory_budget`` bytes.

    units: layer → units per image. A layer whose maps alone exceed the budget is refused with one sentence.
    """
    if memory_budget is None:
        return [list(units)]
    positions = int(np.prod(gratings.experiment("receptive_field").shape[:2]))

    def too_big(layer: str, need: int) -> BrainbenchError:
        return BrainbenchError(
            f"Layer {layer}'s receptive-field maps need {need / 2**30:.1f} GiB, more than the memory budget of "
            f"{memory_budget / 2**30:.1f} GiB; raise --max-memory or leave the layer out with --layers."
        )

    return pack_passes([(layer, n * positions * 4) for layer, n in units.items()], memory_budget, too_big)


def _map_receptive_fields(
    recorder: _Recorder, blank: dict[str, torch.Tensor], degrees: float, size: int, batch_size: int,
    progress: ProgressFactory | None, shapes: dict[str, tuple[int, ...]], stimulus_cache: Path | None,
) -> dict[str, LayerRecording]:
    rf = gratings.experiment("receptive_field")
    n_y, n_x, *per_position = rf.shape
    stimuli_per_position = int(np.prod(per_position))
    batch_size = max(1, batch_size // stimuli_per_position) * stimuli_per_position  # whole positions per batch
    maps = {layer: torch.zeros((n_y * n_x, b.numel()), dtype=torch.float32) for layer, b in blank.items()}
    rectified_blank = {layer: b.clamp(min=0) for layer, b in blank.items()}
    position = 0

    def sink(layer: str, out: torch.Tensor) -> None:
        out = out.flatten(1).float().clamp_(min=0)
        peak = out.view(-1, stimuli_per_position, out.shape[1]).amax(dim=1)
        maps[layer][position : position + peak.shape[0]] = (peak - rectified_blank[layer]).clamp_(min=0).cpu()

    recorder.sink = sink
    advance = progress("receptive-field mapping", len(rf.table)) if progress else None
    for screens in gratings.experiment_batches(rf.name, degrees, size, batch_size, recorder.device, stimulus_cache,
                                                   progress):
        recorder.run(screens)
        position += len(screens) // stimuli_per_position
        if advance:
            advance(len(screens))
    recordings = {}
    for layer, rf_map in maps.items():
        grid = rf_map.numpy().reshape(n_y, n_x, -1)
        centres = rf_centroids(grid, rf.axes["position_y"], rf.axes["position_x"], RF_THRESHOLD)
        kept = near(centres, gratings.POSITION, RF_DELTA)
        recordings[layer] = LayerRecording(
            layer=layer, output_shape=shapes[layer], n_units=rf_map.shape[1],
            n_mapped=int(np.count_nonzero(~np.isnan(centres[:, 0]))), units=kept, rf_centre=centres[kept],
            blank=blank[layer][torch.from_numpy(kept).to(blank[layer].device)].cpu().numpy().astype(np.float64),
        )
        maps[layer] = torch.empty(0)  # free each map as soon as its centres are known
    return recordings


def _record_experiment(
    recorder: _Recorder, recordings: dict[str, LayerRecording], name: str, degrees: float, size: int,
    batch_size: int, progress: ProgressFactory | None, stimulus_cache: Path | None,
) -> None:
    table = gratings.experiment(name).table
    index = {layer: torch.from_numpy(r.units) for layer, r in recordings.items()}
    out_rows = {layer: np.empty((len(r.units), len(table)), dtype=np.float32) for layer, r in recordings.items()}
    start = 0

    def sink(layer: str, out: torch.Tensor) -> None:
        chosen = out.flatten(1)[:, index[layer].to(out.device)].float().cpu().numpy()
        out_rows[layer][:, start : start + chosen.shape[0]] = chosen.T

    recorder.sink = sink
    advance = progress(f"{name.replace('_', ' ')} experiment", len(table)) if progress else None
    for screens in gratings.experiment_batches(name, degrees, size, batch_size, recorder.device, stimulus_cache,
                                                   progress):
        recorder.run(screens)
        start += len(screens)
        if advance:
            advance(len(screens))
    for layer, rows in out_rows.items():
        recordings[layer].responses[name] = rows.astype(np.float64)
