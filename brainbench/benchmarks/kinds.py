"""Benchmark kinds: each joins a dataset, what a model computes on its stimuli, and a metric."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from brainbench.benchmarks.behavior import run_error_consistency, run_i2n, run_shape_bias
from brainbench.benchmarks.neural import run_neural
from brainbench.benchmarks.properties import run_properties
from brainbench.benchmarks.rsa import check_options, layer_rdms, rsa_score, rsa_units, subject_rdms
from brainbench.benchmarks.spec import BenchmarkSpec
from brainbench.data.assemblies import Dataset
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError
from brainbench.metrics.ceiling import ceil, ceiling_details, published_details
from brainbench.models.electrophysiology import LayerRecording


@dataclass(frozen=True)
class ModelProbe:
    """What a benchmark may ask of the model; the scorer memoises both across benchmarks.

    ``activations(stimuli, degrees)``: ``{layer: (n, features)}`` for every candidate layer;
    ``kernels(stimuli, degrees, layers)``: ``{layer: (n, n) float64 X Xᵀ, or (n, p < n) X}`` (memory-bounded
    passes; `predictivity.regression_input`);
    ``electrophysiology()``: ``{layer: LayerRecording}`` of the grating experiments (V1 properties);
    ``outputs(stimuli, degrees)``: ``(n, n_outputs)`` the network's own output (logits) per stimulus;
    ``rdms(stimuli, degrees, layers, progress)``: ``(layers, (n_layers, n, n) RDMs)`` of ``layers`` (None: all), as
    `rsa.layer_rdms` makes them from ``activations`` (the scorer keeps them in the reduction cache); None: from
    ``activations``.
    """

    layers: list[str]
    device: torch.device
    activations: Callable[[StimulusSet, float], dict[str, torch.Tensor]]
    kernels: Callable[[StimulusSet, float, Sequence[str] | None], dict[str, torch.Tensor]]
    electrophysiology: Callable[[], dict[str, LayerRecording]]
    outputs: Callable[[StimulusSet, float], torch.Tensor] | None = None
    label: str = "the model"
    progress: Callable[[str, int], Callable[[int], None]] | None = None  # (task, total) → advance(n); None: silent
    rdms: Callable[[StimulusSet, float, Sequence[str] | None, Callable[[int], None] | None],
                   tuple[list[str], torch.Tensor]] | None = None


@dataclass(frozen=True)
class Outcome:
    """One benchmark's result before it becomes a leaderboard record."""

    raw: float
    ceiling: float | None
    ceiled: float
    error: float | None
    layer: str | None
    details: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, dict[str, float]] = field(default_factory=dict)  # layer → raw / ceiled / selection values
    units: dict[str, Any] = field(default_factory=dict)  # per-unit arrays for paired comparisons (ScoreRecord.units)


#: What an RSA fold's score is, by ``[metric] squared`` (recorded as ``score_statistic``).
SCORE_STATISTICS = {
    False: "mean over subjects of the {comparison} correlation with the model RDM",
    True: "mean over subjects of the squared {comparison} correlation with the model RDM (R², Algonauts 2019)",
}


def run_rsa(spec: BenchmarkSpec, dataset: Dataset, probe: ModelProbe, profile: bool = False) -> Outcome:
    """RSA of every candidate layer vs the data RDMs; the layer chosen on held-out halves."""
    if spec.assembly not in dataset.assemblies:
        raise BrainbenchError(f"Dataset {dataset.manifest.name} has no assembly '{spec.assembly}'.")
    assembly = dataset.assemblies[spec.assembly]
    ceiling_method, published = spec.ceiling_method, spec.published_ceiling
    comparison = spec.metric.get("comparison", "spearman")
    squared = bool(spec.metric.get("squared", False))
    data_rdms = subject_rdms(assembly)
    check_options(ceiling_method, comparison, None if published is None else published[0], squared,
                  data_rdms.shape[0], f"Benchmark {spec.id}")  # before any model work
    stimuli = dataset.stimuli.subset([str(s) for s in assembly.stimulus_a.values])
    # behaviour: the features a decision is read from
    wanted = [probe.layers[-1]] if spec.layer_selection.get("layer") == "readout" else list(probe.layers)
    progress = probe.progress
    rdm_task = progress(f"{spec.id}: RDMs of {len(wanted)} layers", len(wanted)) if progress else None
    if probe.rdms is not None:
        layers, model_rdms = probe.rdms(stimuli, spec.stimulus_degrees, wanted, rdm_task)
    else:
        activations = probe.activations(stimuli, spec.stimulus_degrees)
        layers, model_rdms = layer_rdms({layer: activations[layer] for layer in wanted}, probe.device, rdm_task)
    stratify = spec.layer_selection.get("stratify")
    strata = list(stimuli.metadata[stratify]) if stratify else ["all"] * len(stimuli)
    split_seed = int(spec.layer_selection.get("seed", 0))
    n_splits = int(spec.layer_selection.get("n_splits", 10))
    folds = progress(f"{spec.id}: layer selection and scoring, {n_splits} halvings × 2 directions", 2 * n_splits) \
        if progress else None
    result = rsa_score(
        layers, model_rdms, data_rdms, strata, comparison=comparison,
        n_splits=n_splits, seed=split_seed, ceiling=ceiling_method,
        scored=f"Benchmark {spec.id}", data=f"dataset {dataset.manifest.name} (assembly {spec.assembly})",
        progress=folds, published=None if published is None else published[0], squared=squared,
    )
    if ceiling_method == "none":
        ceiling_note = "none: the benchmark's definition asks for no ceiling (e.g. one group RDM, no between-subject " \
                       "noise ceiling); ceiled = raw"
    elif published is not None:
        ceiling_note = f"published{' R²' if squared else ''}: {published[0]:g} ({published[1]})"
    else:
        ceiling_note = f"Nili et al. 2014 {ceiling_method.split('_')[1]} bound over {data_rdms.shape[0]} subjects"
    layer_profile = {
        layer: {"raw": value, "ceiled": ceil(value, result.ceiling, result.convention, scored=f"Benchmark {spec.id}")}
        for layer, value in result.layer_profile.items()
    }
    return Outcome(
        raw=result.raw,
        ceiling=result.ceiling,
        ceiled=result.ceiled,
        error=result.error,
        layer=result.layer,
        details={
            "comparison": comparison,
            "squared": squared,
            "score_statistic": SCORE_STATISTICS[squared].format(comparison=comparison),
            "model_rdm": "1 - Pearson r between stimulus response vectors",
            "ceiling_method": ceiling_note,
            **published_details(published),
            **ceiling_details(result.convention, result.error_method),
            "raw_error": result.raw_error,
            "split_seed": split_seed,
            "layer_map": {spec.region: result.layer},
            "fold_scores": result.fold_scores,
            "fold_layers": result.fold_layers,
            "fold_ceilings": result.fold_ceilings,
            "fold_ceiled": result.fold_ceiled,
            "layer_profile": result.layer_profile,
            "n_stimuli": len(stimuli),
            "unit_test": "rsa",
        },
        profile=layer_profile,
        units=rsa_units(layers, model_rdms, data_rdms, result, stimuli.stimulus_ids),
    )


def run_neural_kind(spec: BenchmarkSpec, dataset: Dataset, probe: ModelProbe, profile: bool = False) -> Outcome:
    """Cross-validated neural predictivity (see benchmarks/neural.py)."""
    fields, layer_profile = run_neural(spec, dataset, probe.kernels, probe.layers, probe.device, profile=profile,
                                       progress=probe.progress)
    return Outcome(**fields, profile=layer_profile)


def run_properties_kind(spec: BenchmarkSpec, dataset: Dataset, probe: ModelProbe, profile: bool = False) -> Outcome:
    """A V1 single-neuron property distribution (see benchmarks/properties.py)."""
    fields, layer_profile = run_properties(spec, dataset, probe.electrophysiology, probe.layers, probe.progress)
    return Outcome(**fields, profile=layer_profile)


def run_shape_bias_kind(spec: BenchmarkSpec, dataset: Dataset, probe: ModelProbe, profile: bool = False) -> Outcome:
    """Geirhos et al. 2019 shape bias (see benchmarks/behavior.py)."""
    return Outcome(**run_shape_bias(spec, dataset, _outputs(probe), probe.label))


def run_error_consistency_kind(spec: BenchmarkSpec, dataset: Dataset, probe: ModelProbe,
                               profile: bool = False) -> Outcome:
    """Geirhos et al. 2020 error consistency with human observers (see benchmarks/behavior.py)."""
    return Outcome(**run_error_consistency(spec, dataset, _outputs(probe), probe.label))


def run_i2n_kind(spec: BenchmarkSpec, dataset: Dataset, probe: ModelProbe, profile: bool = False) -> Outcome:
    """Rajalingham et al. 2018 i2n of a cross-fitted linear probe on the readout layer (benchmarks/behavior.py)."""
    return Outcome(**run_i2n(spec, dataset, probe.activations, probe.layers[-1]))


def _outputs(probe: ModelProbe) -> Callable[[StimulusSet, float], torch.Tensor]:
    if probe.outputs is None:
        raise BrainbenchError("This benchmark needs the model's outputs, which this probe does not give.")
    return probe.outputs


KINDS: dict[str, Callable[..., Outcome]] = {
    "rsa": run_rsa,
    "neural": run_neural_kind,
    "v1_properties": run_properties_kind,
    "behavior_shape_bias": run_shape_bias_kind,
    "behavior_error_consistency": run_error_consistency_kind,
    "behavior_i2n": run_i2n_kind,
}
