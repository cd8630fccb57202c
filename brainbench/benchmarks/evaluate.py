"""Scoring precomputed model outputs (e.g. from a model in another framework): features against a neural
assembly (PLS / ridge predictivity), or choice probabilities against human 2AFC trials (i2n)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr

from brainbench.benchmarks.neural import ceiled_predictivity, neural_data, select_time_bin
from brainbench.errors import BrainbenchError
from brainbench.metrics.behavior import I2nResult, TwoAfcTrials, i2n
from brainbench.metrics.ceiling import CONVENTIONS
from brainbench.metrics.predictivity import feature_predictivity, internal_consistency
from brainbench.metrics.splits import brainscore_splits
from brainbench.metrics.uncertainty import error_method
from brainbench.models.allocator import retain_freed_memory
from brainbench.models.device import resolve_device

METRICS = ("pls", "ridge")
BEHAVIOR_METRICS = ("i2n",)
I2N_CEILED_FORMULA = f"mean over splits of {CONVENTIONS['sqrt_ratio']}"
PLS_COMPONENTS = 25


@dataclass(frozen=True)
class Evaluation:
    """Predictivity of features for an assembly, Brain-Score style; ``ceiling`` None without repetitions.

    error, raw_error: SEM (ddof=1) over splits of the per-split ceiled and raw scores (``error_method`` says so);
    brainscore_raw_error: Brain-Score's own error of the raw score, std (ddof=0) of the split medians / √n_splits.
    """

    raw: float
    error: float | None
    raw_error: float | None
    brainscore_raw_error: float
    ceiling: float | None
    ceiled: float
    split_medians: list[float]
    split_ceiled: list[float]
    ceiling_split_medians: list[float]
    ceiling_convention: str
    error_method: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def ceiled_formula(self) -> str:
        return CONVENTIONS[self.ceiling_convention]

    def to_dict(self) -> dict:
        return {"raw": self.raw, "error": self.error, "raw_error": self.raw_error,
                "brainscore_raw_error": self.brainscore_raw_error, "ceiling": self.ceiling,
                "ceiled": self.ceiled, "split_medians": self.split_medians, "split_ceiled": self.split_ceiled,
                "ceiling_split_medians": self.ceiling_split_medians, "seconds": self.seconds,
                "ceiling_convention": self.ceiling_convention, "ceiled_formula": self.ceiled_formula,
                "error_method": self.error_method, "notes": self.notes}


def aligned_features(features: xr.DataArray, stimulus_ids: Sequence[str]) -> torch.Tensor:
    """(n_stimuli, n_features) rows of ``features`` in the order of ``stimulus_ids``; same stimuli required.

    float32 features stay float32 (their Gram products are then float32, accumulated in float64: ~1e-5 on ridge r);
    any other type is read as float64.
    """
    if "stimulus_id" not in features.coords:
        raise BrainbenchError("The features have no 'stimulus_id' coordinate.")
    if features.ndim != 2 or "presentation" not in features.dims:
        raise BrainbenchError(f"The features must be 2-D 'presentation × neuroid', not {' × '.join(features.dims)}.")
    if 0 in features.shape:
        raise BrainbenchError(f"The features are empty ({' × '.join(f'{n} {d}' for d, n in features.sizes.items())}).")
    features = features.transpose("presentation", ...)
    ids = [str(s) for s in features.stimulus_id.values]
    if len(set(ids)) != len(ids):
        raise BrainbenchError("The features repeat some stimulus_id; give one row per stimulus.")
    row = {s: i for i, s in enumerate(ids)}
    missing = [s for s in stimulus_ids if s not in row]
    extra = sorted(set(ids) - set(stimulus_ids))
    if missing:
        raise BrainbenchError(f"The features lack {len(missing)} of the assembly's stimuli (e.g. {missing[0]}).")
    if extra:
        raise BrainbenchError(f"The features hold {len(extra)} stimuli that are not in the assembly (e.g. {extra[0]}).")
    values = np.asarray(features.values)
    values = values[[row[s] for s in stimulus_ids]].astype(np.float32 if values.dtype == np.float32 else np.float64,
                                                         copy=False)
    if not np.isfinite(values).all():
        raise BrainbenchError("The features contain NaN or infinite values.")
    return torch.from_numpy(values)


def evaluate_features(
    features: xr.DataArray,
    assembly: xr.DataArray,
    metric: str = "pls",
    stratify: str | None = None,
    time_bin: Sequence[int] | None = None,
    device: str | None = None,
    n_splits: int = 10,
    scored: str = "The evaluation",
    data_name: str = "the assembly",
) -> Evaluation:
    """Brain-Score's neural predictivity of ``features`` for ``assembly``, with its internal-consistency ceiling.

    Repetitions (presentation rows sharing a ``stimulus_id``) are averaged; the averaged stimuli are ordered as
    Brain-Score's averaging orders them (sorted by their presentation coordinates, `neural.neural_data`), and the
    splits are drawn over that order (stratified by ``stratify`` when given). ceiled = sign(r)·r²/ceiling
    (`metrics.ceiling.ceil`); a ceiling ≤ 0 is one BrainbenchError naming the files (`scored`, `data`).
    """
    if metric not in METRICS:
        raise BrainbenchError(f"Unknown metric '{metric}'; choose one of {', '.join(METRICS)}.")
    start = time.perf_counter()
    target = resolve_device(device)
    retain_freed_memory()  # the regressions' large temporaries are reused instead of re-faulted
    data = neural_data(select_time_bin(assembly, time_bin), stratify)
    x = aligned_features(features, data.stimulus_ids)
    try:
        splits = brainscore_splits(len(data.stimulus_ids), n_splits=n_splits, stratify=data.strata)
    except ValueError as exc:
        raise BrainbenchError(f"Cannot draw the cross-validation splits ({exc}).") from exc
    if metric == "pls" and x.shape[1] < PLS_COMPONENTS:
        raise BrainbenchError(
            f"PLS with {PLS_COMPONENTS} components needs at least as many features; the features have {x.shape[1]}."
        )
    result = feature_predictivity(x.to(target), data.responses.to(target), splits, method=metric,
                                  n_components=PLS_COMPONENTS)
    raw, notes = float(result.raw), list(data.notes)
    split_raw = result.split_medians.cpu().numpy()
    ceiling, ceiling_splits = None, []
    if data.repetitions is not None:
        consistency = internal_consistency(data.repetitions.to(target), data.repetition_values)
        ceiling, ceiling_splits = float(consistency.ceiling), [float(v) for v in consistency.split_medians]
    else:
        notes.append("single repetition per stimulus: no internal-consistency ceiling; ceiled = raw")
    ceiled = ceiled_predictivity(raw, split_raw, ceiling, scored, data_name)
    return Evaluation(
        raw=raw, error=ceiled.error, raw_error=ceiled.raw_error, brainscore_raw_error=float(result.error),
        ceiling=ceiling, ceiled=ceiled.ceiled, split_medians=[float(v) for v in split_raw],
        split_ceiled=[float(v) for v in ceiled.split_ceiled], ceiling_split_medians=ceiling_splits,
        ceiling_convention=ceiled.convention, error_method=ceiled.error_method,
        seconds=time.perf_counter() - start, notes=notes,
    )


@dataclass(frozen=True)
class BehaviorEvaluation(I2nResult):
    """i2n of a model's choice probabilities against human 2AFC trials (`I2nResult`), with the trial count."""

    n_trials: int = 0
    seconds: float = 0.0
    metric: str = "i2n"

    @property
    def n_images(self) -> int:
        return len(self.images)

    @property
    def n_objects(self) -> int:
        return len(self.objects)

    def to_dict(self) -> dict:
        scores = ("raw", "ceiling", "ceiled", "brainscore_raw_error", "brainscore_ceiling_error",
                  "brainscore_ceiled_error")
        splits = ("split_raw", "split_ceiling", "split_ceiled")
        return {"metric": self.metric, **{k: float(getattr(self, k)) for k in scores}, "error": self.error,
                "raw_error": self.raw_error,
                "error_method": error_method(len(self.split_raw), "random halvings of the human trials", "split",
                                             "Brain-Score's own errors, std over splits (ddof=0), are "
                                             "brainscore_raw_error, brainscore_ceiling_error and "
                                             "brainscore_ceiled_error"),
                "ceiling_convention": "sqrt_ratio",
                **{k: [float(v) for v in getattr(self, k)] for k in splits},
                "split_cells": [int(v) for v in self.split_cells], "n_trials": self.n_trials,
                "n_images": self.n_images, "n_objects": self.n_objects, "seconds": self.seconds,
                "ceiled_formula": I2N_CEILED_FORMULA}


def _labels(da: xr.DataArray, coord: str) -> np.ndarray:
    """A coordinate's values as text (stimulus ids and object labels compare as strings on both sides)."""
    return np.asarray([str(v) for v in np.asarray(da[coord].values).ravel()], dtype=object)


def evaluate_i2n(probabilities: xr.DataArray, trials: xr.DataArray, n_splits: int = 2, seed: int = 0,
                 scored: str = "The evaluation", data_name: str = "the human trials") -> BehaviorEvaluation:
    """Brain-Score's i2n (Rajalingham et al. 2018) of a model's choice probabilities against human trials.

    ``probabilities``: ``presentation × choice`` with ``stimulus_id`` along presentation and the object labels
    as the ``choice`` coordinate (one row per image). ``trials``: 1-D over ``presentation`` in recorded order
    with ``stimulus_id``, ``sample_obj``, ``dist_obj`` and ``choice`` coordinates (the readers in
    ``brainbench.data.loaders.brainscore_behavior`` return both). The model must cover every image and object
    of the trials; raw, ceiling and ceiled are as ``brainbench.metrics.behavior.i2n`` defines them.
    """
    start = time.perf_counter()
    if probabilities.dims != ("presentation", "choice"):
        raise BrainbenchError(f"The probabilities must be 'presentation × choice', not "
                              f"{' × '.join(map(str, probabilities.dims))}.")
    for coord in ("stimulus_id", "choice"):
        if coord not in probabilities.coords:
            raise BrainbenchError(f"The probabilities have no '{coord}' coordinate.")
    ids, choices = _labels(probabilities, "stimulus_id"), _labels(probabilities, "choice")
    for what, labels in (("stimulus_id", ids), ("choice label", choices)):
        unique, counts = np.unique(labels, return_counts=True)
        if (counts > 1).any():
            raise BrainbenchError(f"The probabilities repeat {what} '{unique[counts > 1][0]}'; give one row per "
                                  f"image and one column per object.")
    for coord in ("stimulus_id", "sample_obj", "dist_obj", "choice"):
        if coord not in trials.coords or trials[coord].dims != ("presentation",):
            raise BrainbenchError(f"The trials have no '{coord}' coordinate along presentation.")
    human = TwoAfcTrials(stimulus_id=_labels(trials, "stimulus_id"), sample_obj=_labels(trials, "sample_obj"),
                         dist_obj=_labels(trials, "dist_obj"), choice=_labels(trials, "choice"))
    result = i2n(np.asarray(probabilities.values, dtype=np.float64), ids, choices, human, n_splits=n_splits,
                 seed=seed, scored=scored, data=data_name)
    return BehaviorEvaluation(**vars(result), n_trials=int(trials.sizes["presentation"]),
                              seconds=time.perf_counter() - start)
