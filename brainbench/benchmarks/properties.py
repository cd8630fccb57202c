"""V1 single-neuron property benchmarks (Marques et al. 2021): model units' tuning distributions vs macaque V1's.

Recordings (models/electrophysiology.py) → firing rates (one affine map per layer, metrics/tuning.py)
→ per-unit properties of the responsive units → KS similarity of their distribution to the published
histogram (metrics/distribution.py), bootstrapped over units.

The V1 layer is committed on data disjoint from the score: the published neurons of every property
are drawn from their histograms (seeded) and split into random halves; on one half the layer whose
properties are most similar on average over the whole family is chosen, on the other half it is
scored, and the halves swap, over ``n_splits`` halvings. The ceiling is the same bootstrapped metric
between the two halves of the data. ``--layers`` with one layer skips the choice.

No per-unit results are kept for a paired comparison (``brainbench compare`` uses the per-halving scores): two models'
units are different populations, so there is nothing to resample alike for both, and the only shared units, the
"data neurons", are draws from published histograms rather than recorded neurons.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from brainbench.benchmarks.spec import BenchmarkSpec
from brainbench.data import gratings
from brainbench.data.assemblies import Dataset
from brainbench.errors import BrainbenchError
from brainbench.metrics import tuning
from brainbench.metrics.ceiling import ceil, ceiling_details
from brainbench.metrics.distribution import binned, bootstrap_similarity, ks_similarity, sample_histogram
from brainbench.metrics.splits import stratified_halves
from brainbench.metrics.uncertainty import error_method, halving_standard_error
from brainbench.models.electrophysiology import LayerRecording

N_BOOTSTRAP = 1000


@dataclass
class LayerProperties:
    """A layer's property values over its responsive units (NaN where a unit lacks the property)."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    n_units: int = 0  # all units of the layer
    n_near: int = 0  # receptive-field centre near the stimulus
    n_responsive: dict[str, int] = field(default_factory=dict)
    affine: tuple[float, float] | None = None  # activations → spikes/s
    reason: str = ""  # why the layer has no values, if it has none


def _reshape(responses: np.ndarray, name: str) -> np.ndarray:
    return responses.reshape(responses.shape[0], *gratings.experiment(name).shape)


def layer_properties(recording: LayerRecording) -> LayerProperties:
    """Every Marques2020 property of a layer's units near the stimulus (responsive units only)."""
    result = LayerProperties(n_units=recording.n_units, n_near=len(recording.units))
    if not len(recording.units):
        result.reason = (f"no unit of {recording.layer} has its receptive-field centre within 0.15° of the "
                         "stimulus position")
        return result
    orientation = _reshape(recording.responses["orientation"], "orientation")
    affine = tuning.firing_rate_affine(orientation, recording.blank)
    if affine is None:
        result.reason = f"no unit of {recording.layer} near the stimulus responds to gratings above its baseline"
        return result
    result.affine = affine
    blank = tuning.firing_rates(recording.blank, affine)
    rates = {name: _reshape(tuning.firing_rates(r, affine), name) for name, r in recording.responses.items()}
    orientation_axis = gratings.experiment("orientation").axes["orientation"]
    sf_axis = gratings.experiment("spatial_frequency").axes["spatial_frequency"]
    radius_axis = gratings.experiment("size").axes["radius"]
    experiments = [
        tuning.preferred_orientation(rates["orientation"], blank, orientation_axis),
        tuning.peak_spatial_frequency(rates["spatial_frequency"], blank, sf_axis),
        tuning.spatial_frequency_bandwidth(rates["spatial_frequency"], blank, sf_axis),
        tuning.size_tuning(rates["size"], blank, radius_axis),
    ]
    for measured in experiments:
        kept = measured.responsive_properties()
        for name, values in kept.items():
            result.values[name] = values
            result.n_responsive[name] = len(values)
    return result


@dataclass(frozen=True)
class DataProperty:
    """A published property: its neurons drawn from the histogram, and the histogram's bin edges."""

    name: str
    values: np.ndarray
    edges: np.ndarray


def data_property(histogram: xr.DataArray, seed: int) -> DataProperty:
    """Neurons drawn within their bins (seeded per property) from a published histogram."""
    name = str(histogram.attrs["property"])
    edges = np.append(histogram["bin_lower"].values, histogram["bin_upper"].values[-1])
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return DataProperty(name, sample_histogram(edges, histogram.values, histogram.attrs["scale"], rng), edges)


def _similarity(values: np.ndarray | None, reference: np.ndarray, edges: np.ndarray) -> float:
    """Unbootstrapped similarity used to choose the layer (0 when the model has no values)."""
    if values is None or not np.any(~np.isnan(values)):
        return 0.0
    return float(ks_similarity(binned(values, edges), binned(reference, edges)))


def run_properties(
    spec: BenchmarkSpec, dataset: Dataset, electrophysiology: Callable[[], dict[str, LayerRecording]],
    candidate_layers: list[str], progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """One V1 property: the layer committed on one half of the family's data, scored on the other.

    Returns the Outcome's fields and the per-layer profile: this property's unbootstrapped similarity to
    all published neurons (raw, and over the ceiling) and the family-wide selection value. ``progress``
    ((task, total) → advance) gets one task for the layers' tuning properties and one for the bootstrapped folds.
    """
    if spec.assembly not in dataset.assemblies:
        raise BrainbenchError(f"Dataset {dataset.manifest.name} has no assembly '{spec.assembly}'.")
    if spec.stimulus_degrees != gratings.CANVAS_DEGREES:
        raise BrainbenchError(f"Benchmark {spec.id} gives stimulus_degrees {spec.stimulus_degrees:g}, but the "
                              f"Marques2020 gratings are drawn on a {gratings.CANVAS_DEGREES:g}° canvas.")
    seed = int(spec.layer_selection.get("seed", 0))
    n_splits = int(spec.layer_selection.get("n_splits", 10))
    n_bootstrap = int(spec.metric.get("n_bootstrap", N_BOOTSTRAP))
    histograms = [h for h in dataset.assemblies.values() if h.attrs.get("kind") == "property_histogram"]
    family = [data_property(h, seed) for h in histograms]
    target = next(p for p in family if p.name == spec.assembly.split(".", 1)[1])
    recordings = electrophysiology()
    advance = progress(f"{spec.id}: tuning properties of {len(recordings)} layers", len(recordings)) \
        if progress else None
    layers: dict[str, LayerProperties] = {}
    for layer, recording in recordings.items():
        layers[layer] = layer_properties(recording)
        if advance:
            advance(1)

    halves = {p.name: stratified_halves(["all"] * len(p.values), n_splits, seed) for p in family}
    rng = np.random.default_rng([seed, zlib.crc32(target.name.encode()), 1])
    fold_scores, fold_ceilings, fold_layers, fold_errors = [], [], [], []
    selection_totals: dict[str, float] = dict.fromkeys(layers, 0.0)
    advance = progress(f"{spec.id}: layer selection and {n_bootstrap} bootstraps, {n_splits} halvings × 2 directions",
                       2 * n_splits) if progress else None
    for split in range(n_splits):
        for choose, score in ((0, 1), (1, 0)):
            chosen = _choose_layer(layers, family, halves, split, choose, selection_totals)
            held_out = target.values[halves[target.name][split][score]]
            chosen_half = target.values[halves[target.name][split][choose]]
            model_values = layers[chosen].values.get(target.name)
            model = bootstrap_similarity(model_values if model_values is not None else np.empty(0), held_out,
                                         target.edges, len(held_out), n_bootstrap, rng)
            ceiling = bootstrap_similarity(chosen_half, held_out, target.edges, len(held_out), n_bootstrap, rng)
            fold_scores.append(float(model.mean()) if model.size else 0.0)
            fold_errors.append(float(model.std()) if model.size else 0.0)
            fold_ceilings.append(float(ceiling.mean()))
            fold_layers.append(chosen)
            if advance:
                advance(1)
    raw, ceiling = float(np.mean(fold_scores)), float(np.mean(fold_ceilings))
    about = {"scored": f"Benchmark {spec.id}", "disagreeing": "the two halves of its published neurons",
             "raw_error": halving_standard_error(fold_scores, n_splits)}
    data = f"dataset {dataset.manifest.name} ({target.name})"
    ceiled = ceil(raw, ceiling, "ratio", data=data, **about)  # the overall ceiling is checked first
    fold_ceiled = [ceil(value, fold_ceilings[i], "ratio", data=f"{data}, halving {i // 2}, direction {i % 2}", **about)
                   for i, value in enumerate(fold_scores)]
    layer = Counter(fold_layers).most_common(1)[0][0]
    n_selection = 2 * n_splits
    summary = {
        name: {"n_units": p.n_units, "n_near_stimulus": p.n_near, "n_responsive": p.n_responsive.get(target.name, 0),
               "firing_rate_affine": list(p.affine) if p.affine else None, "reason": p.reason,
               "selection_similarity": selection_totals[name] / n_selection}
        for name, p in layers.items()
    }
    chosen_values = layers[layer].values.get(target.name)
    reason = layers[layer].reason or (
        "" if chosen_values is not None and np.any(~np.isnan(chosen_values))
        else f"no responsive unit of {layer} has a {target.name}"
    )
    fields = dict(
        raw=raw, ceiling=ceiling, ceiled=ceiled, error=halving_standard_error(fold_ceiled, n_splits),
        layer=layer,
        details={
            "property": target.name,
            "unit": dataset.assemblies[spec.assembly].attrs.get("unit", ""),
            "metric": "1 - KS distance / its maximum, binned on the published bins, bootstrapped over units "
                      f"({n_bootstrap} resamples of as many units as the held-out half has neurons)",
            "ceiling_method": "the same metric between the two halves of the published neurons",
            **ceiling_details("ratio", error_method(
                n_splits, "random halvings of the published neurons", "halving",
                "per halving, the ceiled scores of its two directions (layer chosen on one half, scored on the "
                "other) averaged; the halvings reuse the same neurons, so they are not independent; the bootstrap "
                "spread over model units (fold_bootstrap_sd) is not included")),
            "raw_error": about["raw_error"],
            "layer_selection": "family-wide: the layer whose mean similarity over all Marques2020 properties is "
                               "highest on one half of the data, scored on the other half",
            "layer_map": {spec.region: layer},
            "split_seed": seed,
            "fold_scores": fold_scores, "fold_ceilings": fold_ceilings, "fold_ceiled": fold_ceiled,
            "fold_layers": fold_layers,
            "fold_bootstrap_sd": fold_errors,
            "n_data_neurons": int(np.count_nonzero(~np.isnan(target.values))),
            "model_values": _describe(chosen_values),
            "layers": summary,
            "layers_without_spatial_map": [name for name in candidate_layers if name not in layers],
            **({"zero_reason": reason} if reason else {}),
        },
    )
    # Per layer: this property's similarity to all published neurons (no bootstrap), and the family-wide
    # value the layer was chosen by.
    profile = {
        name: {"raw": (raw_layer := _similarity(p.values.get(target.name), target.values, target.edges)),
               "ceiled": ceil(raw_layer, ceiling, "ratio", data=data, **about),
               "family_selection": summary[name]["selection_similarity"]}
        for name, p in layers.items()
    }
    return fields, profile


def _choose_layer(layers: dict[str, LayerProperties], family: list[DataProperty], halves: dict, split: int,
                  side: int, totals: dict[str, float]) -> str:
    """The layer with the highest mean similarity over the family on one side of each property's halving."""
    best, best_value = next(iter(layers)), -1.0
    for name, props in layers.items():
        value = float(np.mean([
            _similarity(props.values.get(p.name), p.values[halves[p.name][split][side]], p.edges) for p in family
        ]))
        totals[name] += value
        if value > best_value:
            best, best_value = name, value
    return best


def _describe(values: np.ndarray | None) -> dict[str, float | int]:
    if values is None or not np.any(~np.isnan(values)):
        return {"n": 0}
    v = values[~np.isnan(values)]
    return {"n": int(v.size), "median": float(np.median(v)), "q25": float(np.quantile(v, 0.25)),
            "q75": float(np.quantile(v, 0.75))}

