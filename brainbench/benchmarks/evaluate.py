"""Scoring precomputed features (e.g. from a model in another framework) against a neural assembly."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr

from brainbench.benchmarks.neural import neural_data, select_time_bin
from brainbench.errors import BrainbenchError
from brainbench.metrics.predictivity import (
    CEILED_FORMULA,
    ceil_explained_variance,
    cross_validated_predictivity,
    internal_consistency,
)
from brainbench.metrics.regression import gram
from brainbench.metrics.splits import brainscore_splits
from brainbench.models.device import resolve_device

METRICS = ("pls", "ridge")
PLS_COMPONENTS = 25


@dataclass(frozen=True)
class Evaluation:
    """Predictivity of features for an assembly, Brain-Score style; ``ceiling`` None without repetitions."""

    raw: float
    error: float
    ceiling: float | None
    ceiled: float
    split_medians: list[float]
    ceiling_split_medians: list[float]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"raw": self.raw, "error": self.error, "ceiling": self.ceiling, "ceiled": self.ceiled,
                "split_medians": self.split_medians, "ceiling_split_medians": self.ceiling_split_medians,
                "seconds": self.seconds, "ceiled_formula": CEILED_FORMULA if self.ceiling else "raw (no ceiling)",
                "notes": self.notes}


def aligned_features(features: xr.DataArray, stimulus_ids: Sequence[str]) -> torch.Tensor:
    """(n_stimuli, n_features) rows of ``features`` in the order of ``stimulus_ids``; same stimuli required."""
    if "stimulus_id" not in features.coords:
        raise BrainbenchError("The features have no 'stimulus_id' coordinate.")
    if features.ndim != 2 or "presentation" not in features.dims:
        raise BrainbenchError(f"The features must be 2-D 'presentation × neuroid', not {' × '.join(features.dims)}.")
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
    values = np.asarray(features.values, dtype=np.float32)[[row[s] for s in stimulus_ids]]
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
) -> Evaluation:
    """Brain-Score's neural predictivity of ``features`` for ``assembly``, with its internal-consistency ceiling.

    Repetitions (presentation rows sharing a ``stimulus_id``) are averaged; splits are drawn over the
    averaged stimuli in order of first appearance (stratified by ``stratify`` when given).
    """
    if metric not in METRICS:
        raise BrainbenchError(f"Unknown metric '{metric}'; choose one of {', '.join(METRICS)}.")
    start = time.perf_counter()
    target = resolve_device(device)
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
    result = cross_validated_predictivity(gram(x.to(target), center=True)[None], data.responses.to(target), splits,
                                          method=metric, n_components=PLS_COMPONENTS)
    raw, notes = float(result.raw[0]), []
    ceiling, ceiling_splits = None, []
    if data.repetitions is not None:
        consistency = internal_consistency(data.repetitions.to(target), data.repetition_values)
        ceiling, ceiling_splits = float(consistency.ceiling), [float(v) for v in consistency.split_medians]
    else:
        notes.append("single repetition per stimulus: no internal-consistency ceiling; ceiled = raw")
    return Evaluation(
        raw=raw, error=float(result.error[0]), ceiling=ceiling,
        ceiled=ceil_explained_variance(raw, ceiling) if ceiling else raw,
        split_medians=[float(v) for v in result.split_medians[0]], ceiling_split_medians=ceiling_splits,
        seconds=time.perf_counter() - start, notes=notes,
    )
