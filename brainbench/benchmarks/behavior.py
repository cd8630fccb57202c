"""Behaviour benchmarks: Geirhos et al. (2019) shape bias and error consistency, Rajalingham et al. (2018) i2n.

The model decides among the 16 categories with its ImageNet-1k classifier: a category's probability
is the mean softmax probability over its ImageNet classes (Geirhos et al.'s WordNet mapping), and the
decision is the most probable category. Human trials come from the same images; each observer saw
each image once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import xarray as xr

from brainbench.benchmarks.spec import BenchmarkSpec
from brainbench.data.assemblies import Dataset
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError
from brainbench.metrics.behavior import (
    I2nResult,
    TwoAfcTrials,
    human_error_consistency_ceiling,
    i2n,
    mean_error_consistency,
    shape_bias,
)
from brainbench.metrics.ceiling import ceil, ceiling_details
from brainbench.metrics.probe import cross_fitted_probabilities
from brainbench.metrics.uncertainty import error_method, standard_error

IMAGENET_CLASSES = 1000
MAPPING_ASSEMBLY = "imagenet_16class"
Outputs = Callable[[StimulusSet, float], torch.Tensor]


def mapping_names(dataset: Dataset) -> list[str]:
    """The category mapping's assembly: ``imagenet_16class`` when the dataset has one, else every assembly of kind
    ``category_mapping`` (a generic dataset's, under any name); the decisions need exactly one."""
    if MAPPING_ASSEMBLY in dataset.assemblies:
        return [MAPPING_ASSEMBLY]
    return [name for name, a in dataset.assemblies.items() if a.attrs.get("kind") == "category_mapping"]


def mapping_problem(dataset: Dataset) -> str | None:
    """Why ``dataset`` has not exactly one category mapping (a clause for the checks' list), else None."""
    names = mapping_names(dataset)
    if not names:
        return (f"dataset {dataset.manifest.name} has no category mapping (an assembly '{MAPPING_ASSEMBLY}' or one of "
                f"format category_mapping: each category's {IMAGENET_CLASSES} ImageNet classes), which the model's "
                "decisions need.")
    if len(names) > 1:
        return (f"dataset {dataset.manifest.name} has {len(names)} category mappings ({', '.join(names)}); the "
                "model's decisions need one, so keep one of them in the data manifest.")
    return None


def category_probabilities(logits: np.ndarray, mapping: xr.DataArray) -> tuple[list[str], np.ndarray]:
    """(categories, (n, n_categories)) mean ImageNet softmax probability over each category's classes.

    logits: (n, 1000); mapping: along ``imagenet_index`` (the class indices), a ``category`` coordinate.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    softmax = np.exp(shifted)
    softmax /= softmax.sum(axis=1, keepdims=True)
    categories = sorted(set(mapping["category"].values.tolist()))
    indices = mapping["imagenet_index"].values.astype(int)
    columns = [softmax[:, indices[mapping["category"].values == c]].mean(axis=1) for c in categories]
    return categories, np.stack(columns, axis=1)


def model_decisions(spec: BenchmarkSpec, dataset: Dataset, outputs: Outputs, model_label: str,
                    stimuli: StimulusSet) -> np.ndarray:
    """The model's 16-category decision for each stimulus (in ``stimuli`` order)."""
    logits = outputs(stimuli, spec.stimulus_degrees).double().numpy()
    if logits.ndim != 2 or logits.shape[1] != IMAGENET_CLASSES:
        raise BrainbenchError(
            f"{model_label} has no ImageNet-1k classifier head (it outputs {tuple(logits.shape[1:])} values per "
            f"image), so it cannot make the 16-category decisions of {spec.id}; use the linear-probe behaviour "
            "benchmarks (Mur2013.behavior-rsa, Rajalingham2018.behavior-i2n) for it."
        )
    if problem := mapping_problem(dataset):
        raise BrainbenchError(problem[0].upper() + problem[1:])
    categories, probabilities = category_probabilities(logits, dataset.assemblies[mapping_names(dataset)[0]])
    return np.asarray(categories)[probabilities.argmax(axis=1)]


def _trials(spec: BenchmarkSpec, dataset: Dataset) -> tuple[xr.DataArray, StimulusSet]:
    if spec.assembly not in dataset.assemblies:
        raise BrainbenchError(f"Dataset {dataset.manifest.name} has no assembly '{spec.assembly}'.")
    trials = dataset.assemblies[spec.assembly]
    ids = list(dict.fromkeys(str(s) for s in trials["stimulus_id"].values))
    absent = [s for s in ids if s not in dataset.stimuli.metadata.index]
    if absent:
        raise BrainbenchError(
            f"{len(absent)} human trial image(s) of {spec.assembly} are not among the stimuli (e.g. {absent[0]})."
        )
    return trials, dataset.stimuli.subset(ids)


def observer_matrix(trials: xr.DataArray, stimulus_ids: list[str]) -> tuple[list[str], np.ndarray]:
    """(observers, (n_observers, n_stimuli) bool): whether each observer was right on each image."""
    subjects = sorted(set(trials["subject"].values.tolist()))
    position = {s: i for i, s in enumerate(stimulus_ids)}
    correct = np.full((len(subjects), len(stimulus_ids)), np.nan)
    row = {s: i for i, s in enumerate(subjects)}
    for subject, stimulus, value in zip(trials["subject"].values, trials["stimulus_id"].values, trials.values,
                                        strict=True):
        correct[row[subject], position[str(stimulus)]] = value
    if np.isnan(correct).any():
        missing = int(np.isnan(correct).sum())
        raise BrainbenchError(f"{missing} observer × image pair(s) have no trial; error consistency needs every "
                              "observer to have seen every image once.")
    return subjects, correct.astype(bool)


def run_shape_bias(spec: BenchmarkSpec, dataset: Dataset, outputs: Outputs, model_label: str) -> dict[str, Any]:
    """Shape bias of the model vs the humans' on cue-conflict images; score = 1 − |model − human|.

    No ceiling (convention "none"). The error is the SEM over observers of 1 − |model − that observer's shape
    bias|; observers whose own shape bias is undefined (no shape or texture decision) are left out of it.
    """
    trials, stimuli = _trials(spec, dataset)
    decisions = model_decisions(spec, dataset, outputs, model_label, stimuli)
    meta = stimuli.metadata
    model = shape_bias(decisions, meta["shape"].to_numpy(), meta["texture"].to_numpy())
    shown = dataset.stimuli.metadata.loc[[str(s) for s in trials["stimulus_id"].values]]
    shapes, textures = shown["shape"].to_numpy(), shown["texture"].to_numpy()
    responses = trials["response"].values
    human = shape_bias(responses, shapes, textures)
    raw = 1 - abs(model["shape_bias"] - human["shape_bias"])
    per_observer = _observer_shape_biases(trials["subject"].values, responses, shapes, textures)
    unit_scores = [1 - abs(model["shape_bias"] - bias) for bias in per_observer.values()]
    conflicting = meta["shape"].to_numpy() != meta["texture"].to_numpy()
    shape_accuracy = float(np.mean(decisions[conflicting] == meta["shape"].to_numpy()[conflicting]))
    texture_accuracy = float(np.mean(decisions[conflicting] == meta["texture"].to_numpy()[conflicting]))
    return dict(
        raw=raw, ceiling=None, ceiled=ceil(raw, None, "none"), error=standard_error(unit_scores), layer=None,
        units=shape_bias_units(stimuli.stimulus_ids, decisions, meta["shape"].to_numpy(), meta["texture"].to_numpy(),
                               trials["subject"].values, [str(s) for s in trials["stimulus_id"].values], responses),
        details={
            "unit_test": "shape_bias",
            "model_shape_bias": model["shape_bias"], "human_shape_bias": human["shape_bias"],
            "model": dict(model), "human": dict(human), "human_shape_bias_per_observer": per_observer,
            "model_shape_accuracy": shape_accuracy,
            # What the score is made of, under one key (shown under the score table): the model's own shape bias,
            # the humans' pooled one, and the fractions of cue-conflict images decided as their shape / texture.
            "shape_bias": {"model": model["shape_bias"], "human": human["shape_bias"],
                           "shape_accuracy": shape_accuracy, "texture_accuracy": texture_accuracy},
            "n_images": len(stimuli), "n_human_trials": int(trials.sizes["presentation"]),
            "readout": "ImageNet-1k softmax, mean over each category's classes (Geirhos et al. 2019 mapping)",
            "ceiling_method": "none: the score is already a distance between the model's and the humans' shape bias",
            **ceiling_details("none", error_method(
                len(unit_scores), "observers", "observer",
                "per observer, 1 - |model - that observer's shape bias|; the score itself uses the humans' pooled "
                "shape bias")),
        },
    )


def shape_bias_units(stimulus_ids: list[str], decisions: np.ndarray, shapes: np.ndarray, textures: np.ndarray,
                     subjects: np.ndarray, trial_stimuli: list[str], responses: np.ndarray) -> dict[str, np.ndarray]:
    """What a paired image (and observer) bootstrap of the shape bias needs, over the cue-conflict images only.

    decisions, shapes, textures: per stimulus of ``stimulus_ids``; subjects, trial_stimuli, responses: per human
    trial. Returns ``stimulus_ids`` (n,) of the cue-conflict images; ``model_shape``, ``model_texture`` (n,) bool: the
    model decided the image's shape / texture class; ``human_shape``, ``human_texture`` (n_observers, n) int16: each
    observer's shape / texture decisions on each image (observers sorted).
    """
    conflict = shapes != textures
    ids = [s for s, keep in zip(stimulus_ids, conflict, strict=True) if keep]
    column = {s: i for i, s in enumerate(ids)}
    shape_of = dict(zip(stimulus_ids, shapes, strict=True))
    texture_of = dict(zip(stimulus_ids, textures, strict=True))
    observers = sorted(set(subjects.tolist()))
    row = {s: i for i, s in enumerate(observers)}
    human_shape = np.zeros((len(observers), len(ids)), dtype=np.int16)
    human_texture = np.zeros_like(human_shape)
    for subject, stimulus, response in zip(subjects, trial_stimuli, responses, strict=True):
        if stimulus in column:
            human_shape[row[subject], column[stimulus]] += response == shape_of[stimulus]
            human_texture[row[subject], column[stimulus]] += response == texture_of[stimulus]
    return {"stimulus_ids": np.asarray(ids), "model_shape": (decisions == shapes)[conflict],
            "model_texture": (decisions == textures)[conflict], "human_shape": human_shape,
            "human_texture": human_texture}


def _observer_shape_biases(subjects: np.ndarray, responses: np.ndarray, shapes: np.ndarray,
                           textures: np.ndarray) -> dict[str, float]:
    """Each observer's own shape bias on the cue-conflict trials, for those whose shape bias is defined."""
    biases = {}
    for subject in sorted(set(subjects.tolist())):
        mine = subjects == subject
        try:
            biases[str(subject)] = shape_bias(responses[mine], shapes[mine], textures[mine])["shape_bias"]
        except BrainbenchError:  # no shape or texture decision by this observer: no shape bias of their own
            continue
    return biases


def run_error_consistency(spec: BenchmarkSpec, dataset: Dataset, outputs: Outputs,
                          model_label: str) -> dict[str, Any]:
    """Mean Cohen's κ between the model's and each observer's right/wrong pattern, ceiled by the humans' own."""
    trials, stimuli = _trials(spec, dataset)
    decisions = model_decisions(spec, dataset, outputs, model_label, stimuli)
    truth = stimuli.metadata["shape"].to_numpy()
    model_correct = decisions == truth
    observers, correct = observer_matrix(trials, stimuli.stimulus_ids)
    raw, per_observer = mean_error_consistency(model_correct, correct)
    ceiling, per_pair = human_error_consistency_ceiling(correct)
    about = {"scored": f"Benchmark {spec.id}", "data": f"dataset {dataset.manifest.name} ({spec.assembly})",
             "disagreeing": "its observers' errors", "raw_error": standard_error(per_observer)}
    ceiled = ceil(raw, ceiling, "ratio", **about)
    return dict(
        raw=raw, ceiling=ceiling, ceiled=ceiled, error=standard_error(ceil(per_observer, ceiling, "ratio", **about)),
        layer=None,
        # What a paired image (and observer) bootstrap needs: who was right on which image.
        units={"stimulus_ids": np.asarray(stimuli.stimulus_ids), "model_correct": model_correct,
               "observers_correct": correct},
        details={
            "unit_test": "error_consistency",
            "model_accuracy": float(model_correct.mean()),
            "human_accuracy": float(correct.mean()),
            "human_accuracy_per_observer": dict(zip(observers, correct.mean(axis=1).tolist(), strict=True)),
            "kappa_per_observer": dict(zip(observers, per_observer.tolist(), strict=True)),
            "human_pair_kappa_mean": ceiling, "n_human_pairs": len(per_pair),
            "n_images": len(stimuli), "n_observers": len(observers),
            "readout": "ImageNet-1k softmax, mean over each category's classes (Geirhos et al. 2019 mapping)",
            "ceiling_method": "mean Cohen's κ over pairs of human observers",
            **ceiling_details("ratio", error_method(
                len(observers), "observers", "observer",
                "per observer, the model's κ with that observer over the ceiling; the ceiling's own uncertainty is "
                "not included")),
            "raw_error": about["raw_error"],
        },
    )


def i2n_units(result: I2nResult) -> dict[str, np.ndarray]:
    """What a paired image bootstrap of i2n needs: ``stimulus_ids`` (n_images,), ``objects`` (n_objects,),
    ``model_dprime`` (n_images, n_objects) and ``human_dprime`` (n_splits, n_images, n_objects) half 0's, float32
    (d′ is clipped to ±5; ~7 significant digits are far finer than its trial noise), and ``split_ceiling``
    (n_splits,)."""
    if result.model_dprime is None or result.human_dprimes is None:
        raise ValueError("the i2n result holds no d′ patterns")
    return {"stimulus_ids": np.asarray(result.images).astype(str), "objects": np.asarray(result.objects).astype(str),
            "model_dprime": result.model_dprime.astype(np.float32),
            "human_dprime": result.human_dprimes.astype(np.float32), "split_ceiling": result.split_ceiling}


def run_i2n(spec: BenchmarkSpec, dataset: Dataset, activations: Callable[[StimulusSet, float], dict],
            readout_layer: str) -> dict[str, Any]:
    """Rajalingham et al. 2018 i2n of a linear probe on the readout layer, as Brain-Score computes i2n.

    The probe is cross-fitted over image folds stratified by object: each image's probabilities come
    from a probe fitted on the other folds only, so no image is both fitted and scored.
    """
    trials, stimuli = _trials(spec, dataset)
    image_object = dict(zip((str(s) for s in trials["stimulus_id"].values), trials["sample_obj"].values, strict=True))
    objects = np.asarray([image_object[s] for s in stimuli.stimulus_ids])
    features = activations(stimuli, spec.stimulus_degrees)[readout_layer].double().numpy()
    n_folds, seed = int(spec.metric.get("probe_folds", 5)), int(spec.metric.get("probe_seed", 0))
    classes, probabilities = cross_fitted_probabilities(features, objects, n_folds=n_folds, seed=seed)
    result = i2n(probabilities, np.asarray(stimuli.stimulus_ids), classes, TwoAfcTrials(
        stimulus_id=trials["stimulus_id"].values, sample_obj=trials["sample_obj"].values,
        dist_obj=trials["dist_obj"].values, choice=trials["choice"].values,
    ), scored=f"Benchmark {spec.id}", data=f"dataset {dataset.manifest.name} ({spec.assembly})")
    return dict(
        raw=result.raw, ceiling=result.ceiling, ceiled=result.ceiled, error=result.error, layer=readout_layer,
        units=i2n_units(result),
        details={
            "unit_test": "i2n",
            "readout": f"multinomial logistic regression on standardised {readout_layer} features, cross-fitted over "
                       f"{n_folds} image folds stratified by object (seed {seed})",
            "split_raw": result.split_raw.tolist(), "split_ceiling": result.split_ceiling.tolist(),
            "split_ceiled": result.split_ceiled.tolist(), "split_cells": result.split_cells.tolist(),
            "n_images": len(stimuli), "n_objects": len(classes), "n_human_trials": int(trials.sizes["presentation"]),
            "ceiling_method": "Pearson r between two random halves of the human trials (RandomState(0), 2 splits)",
            **ceiling_details("sqrt_ratio", error_method(
                len(result.split_ceiled), "random halvings of the human trials", "split",
                "the halvings reuse the same trials, so they are not independent")),
            "ceiled_formula": "mean over splits of raw / sqrt(ceiling), per split (as Brain-Score)",
            "raw_error": result.raw_error,
            "brainscore_errors": {"raw": result.brainscore_raw_error, "ceiling": result.brainscore_ceiling_error,
                                  "ceiled": result.brainscore_ceiled_error, "method": "std over splits (ddof=0)"},
        },
    )
