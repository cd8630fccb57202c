"""Scoring precomputed model outputs (e.g. from a model in another framework): features against a neural
assembly (PLS / ridge predictivity), features or a model RDM against RDMs (RSA), or choice probabilities against
human 2AFC trials (i2n)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from brainbench.benchmarks.neural import NeuralData, ceiled_predictivity, neural_data, select_time_bin
from brainbench.benchmarks.rsa import subject_rdms
from brainbench.data.assemblies import RDM_DIMS
from brainbench.data.brainscore_format import read_assembly
from brainbench.errors import BrainbenchError
from brainbench.metrics.behavior import I2nResult, TwoAfcTrials, i2n
from brainbench.metrics.ceiling import CONVENTIONS, ceil, nili_bounds
from brainbench.metrics.predictivity import feature_predictivity, internal_consistency
from brainbench.metrics.rdm import METHODS, compare_rdms, rdm
from brainbench.metrics.splits import brainscore_splits
from brainbench.metrics.uncertainty import error_method, standard_error
from brainbench.models.allocator import retain_freed_memory
from brainbench.models.device import resolve_device
from brainbench.stages import StageClock, measuring, stage

METRICS = ("pls", "ridge")
RSA_METRICS = ("rsa",)
BEHAVIOR_METRICS = ("i2n",)
#: The RSA kind's model RDM (`metrics.rdm.rdm`), the one distance brainbench computes.
DISTANCES = {"correlation": "1 - Pearson r between the stimuli's feature vectors"}
#: The RSA kind's comparisons of RDMs (`metrics.rdm.METHODS`): Spearman ρ, Kendall τa, Pearson r.
COMPARISONS = METHODS
I2N_CEILED_FORMULA = f"mean over splits of {CONVENTIONS['sqrt_ratio']}"
PLS_COMPONENTS = 25


@dataclass(frozen=True)
class Evaluation:
    """Predictivity of features for an assembly, Brain-Score style; ``ceiling`` None without repetitions.

    error, raw_error: SEM (ddof=1) over splits of the per-split ceiled and raw scores (``error_method`` says so);
    brainscore_raw_error: Brain-Score's own error of the raw score, std (ddof=0) of the split medians / √n_splits.
    seconds: wall time of the evaluation; steps: its exclusive seconds per step (`stages`): ``data_loading`` (the
    assembly file, when read here), ``averaging`` (repetitions averaged and stacked), ``ceilings``, ``regressions``
    (features aligned, splits drawn, regression and correlations).
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
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def ceiled_formula(self) -> str:
        return CONVENTIONS[self.ceiling_convention]

    def to_dict(self) -> dict:
        return {"raw": self.raw, "error": self.error, "raw_error": self.raw_error,
                "brainscore_raw_error": self.brainscore_raw_error, "ceiling": self.ceiling,
                "ceiled": self.ceiled, "split_medians": self.split_medians, "split_ceiled": self.split_ceiled,
                "ceiling_split_medians": self.ceiling_split_medians, "seconds": self.seconds,
                "steps": self.steps, "ceiling_convention": self.ceiling_convention,
                "ceiled_formula": self.ceiled_formula, "error_method": self.error_method, "notes": self.notes}


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
    _check_metric(metric)
    start = time.perf_counter()
    target = resolve_device(device)
    with measuring(StageClock()) as clock:
        with stage("averaging"):
            data = neural_data(select_time_bin(assembly, time_bin), stratify)
        return _evaluate(features, data, metric, target, n_splits, scored, data_name, start, clock)


def evaluate_feature_files(
    features_path: Path | str,
    assembly_path: Path | str,
    metric: str = "pls",
    stratify: str | None = None,
    time_bin: Sequence[int] | None = None,
    device: str | None = None,
    n_splits: int = 10,
) -> Evaluation:
    """`evaluate_features` of a features file and an assembly file (Brain-Score's netCDF layout), holding the
    assembly only until its repetitions are averaged and stacked (a large recording's largest copy)."""
    _check_metric(metric)
    features = read_assembly(features_path)
    start = time.perf_counter()
    target = resolve_device(device)
    with measuring(StageClock()) as clock:
        with stage("data_loading"):
            assembly = read_assembly(assembly_path)
        with stage("averaging"):
            data = neural_data(select_time_bin(assembly, time_bin), stratify)
        del assembly  # freed once averaged: its largest copy
        return _evaluate(features, data, metric, target, n_splits, f"The evaluation of {features_path}",
                         str(assembly_path), start, clock)


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise BrainbenchError(f"Unknown metric '{metric}'; choose one of {', '.join(METRICS)}.")


def _evaluate(features: xr.DataArray, data: NeuralData, metric: str, target: torch.device, n_splits: int,
              scored: str, data_name: str, start: float, clock: StageClock) -> Evaluation:
    """`evaluate_features` from the averaged data; ``start``: when the evaluation began (perf_counter s); ``clock``:
    the steps' seconds so far (the current one)."""
    retain_freed_memory()  # the regressions' large temporaries are reused instead of re-faulted
    with stage("regressions"):
        x = aligned_features(features, data.stimulus_ids)
        try:
            splits = brainscore_splits(len(data.stimulus_ids), n_splits=n_splits, stratify=data.strata)
        except ValueError as exc:
            raise BrainbenchError(f"Cannot draw the cross-validation splits ({exc}).") from exc
    if metric == "pls" and x.shape[1] < PLS_COMPONENTS:
        raise BrainbenchError(
            f"PLS with {PLS_COMPONENTS} components needs at least as many features; the features have {x.shape[1]}."
        )
    # The ceiling first: the regression's temporaries then reuse the memory its half means held.
    ceiling, ceiling_splits, notes = None, [], list(data.notes)
    if data.repetitions is not None:
        with stage("ceilings", target):
            consistency = internal_consistency(data.repetitions.to(target), data.repetition_values,
                                               precision=torch.float64)
            ceiling, ceiling_splits = float(consistency.ceiling), [float(v) for v in consistency.split_medians]
    else:
        notes.append("single repetition per stimulus: no internal-consistency ceiling; ceiled = raw")
    with stage("regressions", target):
        result = feature_predictivity(x.to(target), data.responses.to(target), splits, method=metric,
                                      n_components=PLS_COMPONENTS)
        raw, split_raw = float(result.raw), result.split_medians.cpu().numpy()
    ceiled = ceiled_predictivity(raw, split_raw, ceiling, scored, data_name)
    return Evaluation(
        raw=raw, error=ceiled.error, raw_error=ceiled.raw_error, brainscore_raw_error=float(result.error),
        ceiling=ceiling, ceiled=ceiled.ceiled, split_medians=[float(v) for v in split_raw],
        split_ceiled=[float(v) for v in ceiled.split_ceiled], ceiling_split_medians=ceiling_splits,
        ceiling_convention=ceiled.convention, error_method=ceiled.error_method,
        seconds=time.perf_counter() - start, notes=notes, steps=dict(clock.seconds),
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


@dataclass(frozen=True)
class RSAEvaluation:
    """Similarity of a model RDM with the RDMs of an RDM assembly (one per subject), as the RSA kind scores a layer.

    raw: mean over subjects of ``comparison`` between upper triangles; ceiling: Nili et al.'s (2014) upper bound
    over all stimuli (``ceiling_lower`` its lower bound) when the target holds ≥ 2 subjects, else None;
    ceiled = raw / ceiling; error, raw_error: SEM (ddof=1) over subjects of the per-subject ceiled and raw values.
    """

    raw: float
    error: float | None
    raw_error: float | None
    ceiling: float | None
    ceiling_lower: float | None
    ceiled: float
    subjects: list[str]
    subject_raw: list[float]
    subject_ceiled: list[float]
    comparison: str
    distance: str | None  # None when a model RDM was given
    ceiling_convention: str
    error_method: str
    n_stimuli: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    metric: str = "rsa"

    @property
    def ceiled_formula(self) -> str:
        return CONVENTIONS[self.ceiling_convention]

    def to_dict(self) -> dict:
        return {"metric": self.metric, "raw": self.raw, "error": self.error, "raw_error": self.raw_error,
                "ceiling": self.ceiling, "ceiling_lower": self.ceiling_lower, "ceiled": self.ceiled,
                "subjects": self.subjects, "subject_raw": self.subject_raw, "subject_ceiled": self.subject_ceiled,
                "comparison": self.comparison, "distance": self.distance,
                "model_rdm": DISTANCES[self.distance] if self.distance else "given",
                "ceiling_convention": self.ceiling_convention, "ceiled_formula": self.ceiled_formula,
                "error_method": self.error_method, "n_stimuli": self.n_stimuli, "seconds": self.seconds,
                "notes": self.notes}


def _ids(da: xr.DataArray, coord: str) -> list[str]:
    return [str(v) for v in np.asarray(da[coord].values).ravel()]


def _target_rdms(target: xr.DataArray) -> tuple[list[str], list[str], torch.Tensor]:
    """Stimulus ids, subject labels and (n_subjects, n, n) float64 RDMs of an RDM assembly (sessions averaged)."""
    ids, other = _ids(target, RDM_DIMS[0]), _ids(target, RDM_DIMS[1])
    if len(set(ids)) != len(ids):
        raise BrainbenchError("The target RDMs repeat a stimulus id along stimulus_a.")
    if sorted(ids) != sorted(other):
        raise BrainbenchError("The target RDMs hold different stimuli along stimulus_a and stimulus_b.")
    column = {s: i for i, s in enumerate(other)}
    target = target.isel({RDM_DIMS[1]: [column[s] for s in ids]})
    if "session" in target.dims:
        target = target.mean("session")
    leading = [d for d in target.dims if d not in RDM_DIMS]
    labels = ["/".join(str(target[d].values[i]) if d in target.coords else str(i) for d, i in zip(leading, index,
                                                                                                  strict=True))
              or "all" for index in np.ndindex(*(target.sizes[d] for d in leading))]
    return ids, labels, subject_rdms(target.transpose(*leading, *RDM_DIMS))


def _given_rdm(model: xr.DataArray, stimulus_ids: list[str]) -> torch.Tensor:
    """A model RDM file's one (n, n) RDM in the order of ``stimulus_ids``; same stimuli required."""
    if int(np.prod([model.sizes[d] for d in model.dims if d not in RDM_DIMS])) != 1:
        raise BrainbenchError(f"The model RDM file holds {int(np.prod(model.shape[:-2]))} RDMs; give one.")
    rows, columns = _ids(model, RDM_DIMS[0]), _ids(model, RDM_DIMS[1])
    if sorted(rows) != sorted(columns) or len(set(rows)) != len(rows):
        raise BrainbenchError("The model RDM holds different or repeated stimuli along stimulus_a and stimulus_b.")
    missing = [s for s in stimulus_ids if s not in set(rows)]
    extra = sorted(set(rows) - set(stimulus_ids))
    if missing:
        raise BrainbenchError(f"The model RDM lacks {len(missing)} of the target's stimuli (e.g. {missing[0]}).")
    if extra:
        raise BrainbenchError(f"The model RDM holds {len(extra)} stimuli that are not in the target (e.g. {extra[0]}).")
    row, column = {s: i for i, s in enumerate(rows)}, {s: i for i, s in enumerate(columns)}
    values = np.asarray(model.values, dtype=np.float64).reshape(model.shape[-2:])
    values = values[np.ix_([row[s] for s in stimulus_ids], [column[s] for s in stimulus_ids])]
    if not np.isfinite(values).all():
        raise BrainbenchError("The model RDM contains NaN or infinite values.")
    return torch.from_numpy(values)


def _features_rdm(features: xr.DataArray, stimulus_ids: list[str], distance: str) -> torch.Tensor:
    """The (n, n) float64 ``distance`` RDM of the features' rows for ``stimulus_ids``."""
    if distance not in DISTANCES:
        raise BrainbenchError(f"Unknown distance '{distance}'; choose one of {', '.join(DISTANCES)}.")
    distances = rdm(aligned_features(features, stimulus_ids).double())
    if not torch.isfinite(distances).all():
        constant = stimulus_ids[int(torch.nonzero(~torch.isfinite(distances))[0, 0])]
        raise BrainbenchError(f"The features of stimulus {constant} are constant, so its {distance} distances are "
                              "undefined; drop it or use other features.")
    return distances


def evaluate_rsa(model: xr.DataArray, target: xr.DataArray, comparison: str = "spearman",
                 distance: str = "correlation", scored: str = "The evaluation",
                 data_name: str = "the target RDMs") -> RSAEvaluation:
    """RSA of a model (features ``presentation × neuroid`` with ``stimulus_id``, or one RDM over ``stimulus_a ×
    stimulus_b``) against an RDM assembly ``[subject × [session ×]] stimulus_a × stimulus_b`` on the same stimuli.

    Features give the RSA kind's model RDM (``distance``: DISTANCES); ``comparison`` is one of COMPARISONS. Sessions
    are averaged and other leading dims are subjects, as the RSA kind holds them. No layer is chosen, so every
    stimulus is scored and the ceiling is on all stimuli (the RSA kind's is the mean over its scoring halves).
    Results as `RSAEvaluation` says.
    """
    start = time.perf_counter()
    if comparison not in COMPARISONS:
        raise BrainbenchError(f"Unknown comparison '{comparison}'; choose one of {', '.join(COMPARISONS)}.")
    ids, subjects, data = _target_rdms(target)
    if len(ids) < 3:
        raise BrainbenchError(f"RSA needs RDMs of at least 3 stimuli; the target has {len(ids)}.")
    is_rdm = tuple(model.dims[-2:]) == RDM_DIMS
    model_rdm = _given_rdm(model, ids) if is_rdm else _features_rdm(model, ids, distance)
    per_subject = compare_rdms(model_rdm, data, comparison).numpy()
    undefined = [s for s, v in zip(subjects, per_subject, strict=True) if not np.isfinite(v)]
    if undefined:  # a constant upper triangle has no rank or correlation: a NaN score would print as '–', exit 0
        raise BrainbenchError(f"The {comparison} comparison is undefined for {len(undefined)} of the target's "
                              f"{len(subjects)} RDM(s) (e.g. {undefined[0]}): the model RDM or that RDM has all its "
                              "distances equal.")
    raw, raw_error = float(per_subject.mean()), standard_error(per_subject)
    notes = []
    if len(subjects) >= 2:
        lower, upper = (float(b) for b in nili_bounds(data, comparison))
        convention, ceiling, ceiling_lower = "ratio", upper, lower
        method = error_method(int(np.isfinite(per_subject).sum()), "subjects", "subject")
    else:
        convention, ceiling, ceiling_lower = "none", None, None
        method = "none: the target holds one RDM"
        notes.append("one target RDM: no between-subject noise ceiling; ceiled = raw")
    about = {"scored": scored, "data": data_name, "disagreeing": "its subjects' RDMs", "raw_error": raw_error}
    ceiled = ceil(raw, ceiling, convention, **about)
    subject_ceiled = np.atleast_1d(ceil(per_subject, ceiling, convention, **about))
    return RSAEvaluation(
        raw=raw, error=standard_error(subject_ceiled), raw_error=raw_error, ceiling=ceiling,
        ceiling_lower=ceiling_lower, ceiled=float(ceiled), subjects=subjects,
        subject_raw=[float(v) for v in per_subject], subject_ceiled=[float(v) for v in subject_ceiled],
        comparison=comparison, distance=None if is_rdm else distance, ceiling_convention=convention,
        error_method=method, n_stimuli=len(ids), seconds=time.perf_counter() - start, notes=notes,
    )
