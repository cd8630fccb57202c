"""One model session's reductions through the cache: look each layer's up, compute only the missing ones, store them.

Kinds (each value a CPU tensor or array, exactly as computed):
- ``regression_input``: a layer's (n, n) float64 centred Gram, or its (n, p < n) features (neural benchmarks);
- ``rdm``: a layer's (n, n) float64 correlation-distance RDM (RSA benchmarks);
- ``outputs``: the network's (n, n_outputs) output (behavioural benchmarks);
- ``gratings``: the V1 grating recordings of the candidate layers (one entry per layer list).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from brainbench.data.gratings import DRAWING_VERSION
from brainbench.data.stimuli import StimulusSet, stimulus_digest
from brainbench.models.electrophysiology import LayerRecording
from brainbench.models.registry import Model
from brainbench.reductions.keys import model_fields
from brainbench.reductions.store import ReductionStore

#: How each kind is computed, in the key (a change here is a change of the numbers).
KIND_PARAMETERS = {
    "regression_input": {"value": "centred X Xᵀ float64, or X when features < stimuli"},
    "rdm": {"value": "1 - Pearson r, float32 Gram, float64 RDM"},
    "outputs": {"value": "root module output"},
    "gratings": {"value": "LayerRecording", "drawing_version": DRAWING_VERSION, "grating_batch": 64},
}


class CachedReductions:
    """``model`` on ``device`` at ``batch_size`` images per batch, its reductions kept in ``store``."""

    def __init__(self, store: ReductionStore, model: Model, device: torch.device, batch_size: int) -> None:
        self.store = store
        self.base = model_fields(model, device)
        self.batch_size = batch_size

    def _stimuli(self, stimuli: StimulusSet, degrees: float) -> dict[str, Any]:
        return {"digest": stimulus_digest(stimuli), "n": len(stimuli), "degrees": float(degrees)}

    def _fields(self, kind: str, layer: str, **extra: Any) -> dict[str, Any]:
        return {**self.base, "kind": kind, "parameters": KIND_PARAMETERS[kind], "layer": layer, **extra}

    def per_layer(self, kind: str, stimuli: StimulusSet, degrees: float, layers: Sequence[str],
                  compute: Callable[[list[str]], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """``{layer: tensor}`` for ``layers``: cached ones read (as CPU tensors), the rest from ``compute(missing)``
        and stored."""
        seen = self._stimuli(stimuli, degrees)
        fields = {layer: self._fields(kind, layer, stimuli=seen, batch_size=self.batch_size) for layer in layers}
        found: dict[str, torch.Tensor] = {}
        for layer in layers:
            arrays = self.store.get(fields[layer])
            if arrays is not None and "value" in arrays:
                found[layer] = torch.from_numpy(arrays["value"])
        missing = [layer for layer in layers if layer not in found]
        if missing:
            computed = compute(missing)
            for layer in missing:
                self.store.put(fields[layer], {"value": computed[layer].detach().cpu().numpy()})
                found[layer] = computed[layer]
        return {layer: found[layer] for layer in layers}

    def recordings(self, layers: Sequence[str], skip_without_map: bool,
                   compute: Callable[[], dict[str, LayerRecording]]) -> dict[str, LayerRecording]:
        """The grating recordings of ``layers`` (one entry for the whole list), from the cache or ``compute()``."""
        fields = self._fields("gratings", ",".join(layers), layers=list(layers), skip_without_map=skip_without_map)
        arrays = self.store.get(fields)
        if arrays is not None:
            try:
                return _recordings(arrays)
            except (KeyError, ValueError):  # verified bytes of another layout: recompute and replace
                pass
        recordings = compute()
        self.store.put(fields, _arrays(recordings))
        return recordings


def _arrays(recordings: dict[str, LayerRecording]) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {"layers": np.array(list(recordings), dtype=np.str_)}
    for i, recording in enumerate(recordings.values()):
        arrays[f"{i}.output_shape"] = np.array(recording.output_shape, dtype=np.int64)
        arrays[f"{i}.counts"] = np.array([recording.n_units, recording.n_mapped], dtype=np.int64)
        arrays[f"{i}.units"], arrays[f"{i}.rf_centre"] = recording.units, recording.rf_centre
        arrays[f"{i}.blank"] = recording.blank
        arrays[f"{i}.experiments"] = np.array(list(recording.responses), dtype=np.str_)
        for j, responses in enumerate(recording.responses.values()):
            arrays[f"{i}.responses.{j}"] = responses
    return arrays


def _recordings(arrays: dict[str, np.ndarray]) -> dict[str, LayerRecording]:
    recordings = {}
    for i, layer in enumerate(str(name) for name in arrays["layers"]):
        n_units, n_mapped = (int(v) for v in arrays[f"{i}.counts"])
        experiments = [str(name) for name in arrays[f"{i}.experiments"]]
        recordings[layer] = LayerRecording(
            layer=layer, output_shape=tuple(int(v) for v in arrays[f"{i}.output_shape"]), n_units=n_units,
            n_mapped=n_mapped, units=arrays[f"{i}.units"], rf_centre=arrays[f"{i}.rf_centre"],
            blank=arrays[f"{i}.blank"],
            responses={name: arrays[f"{i}.responses.{j}"] for j, name in enumerate(experiments)},
        )
    return recordings
