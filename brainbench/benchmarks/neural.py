"""Benchmark kind 'neural': cross-validated linear predictivity of recorded neurons from a model layer.

The flow follows Brain-Score's neural benchmarks: repetitions averaged per stimulus, a regression
(PLS-25 or ridge) fitted on 90% of the stimuli and Pearson r per neuroid on the other 10%, median
over neuroids, mean over 10 splits; the noise ceiling is the split-half internal consistency of the
repetitions; ceiled = sign(r)·r² / ceiling (`metrics.ceiling.ceil`, "explained_variance"); the error is the SEM
over splits of the per-split ceiled score. The layer is committed on stimuli disjoint from the scored ones.
The record keeps the committed layer's held-out predictions and the scored responses (`neural_units`), which the
paired comparison (`brainbench.comparison.neural_test`) resamples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from brainbench.benchmarks.spec import CEILING_METHODS, BenchmarkSpec
from brainbench.data.assemblies import Dataset
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError
from brainbench.metrics.ceiling import ceil, ceiling_details, published_details
from brainbench.metrics.predictivity import internal_consistency, layers_predictivity, regression_steps
from brainbench.metrics.splits import brainscore_splits, stratified_halves
from brainbench.metrics.uncertainty import error_method, standard_error
from brainbench.stages import stage

#: (stimuli, stimulus_degrees, layers or None for all) → {layer: (n, n) float64 Gram, or (n, p < n) features}
#: (`predictivity.regression_input`); memoised by the caller.
GetKernels = Callable[[StimulusSet, float, Sequence[str] | None], dict[str, torch.Tensor]]
#: A task's description and total → a function advancing it by n steps (`benchmarks.scoring.ProgressFactory`).
ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class NeuralData:
    """Trial-averaged responses of one assembly, and its repetitions when it has them."""

    stimulus_ids: list[str]  # unique, in Brain-Score's averaged order (see _brainscore_order)
    responses: torch.Tensor  # (n_stimuli, n_neuroids)
    # (n_repetition_values, n_stimuli, n_neuroids), NaN where absent; float64, or float32 trials kept as they are
    # when each repetition of a stimulus is one trial (exact: no mean taken)
    repetitions: torch.Tensor | None
    repetition_values: list[Any]
    strata: list[Any] | None  # per stimulus, for stratified splits
    notes: tuple[str, ...] = ()  # assumptions made about the assembly, to be shown with the score


def select_time_bin(
    assembly: xr.DataArray, time_bin: Sequence[int] | None = None, time_window: Sequence[int] | None = None
) -> xr.DataArray:
    """``presentation × neuroid``: the time bin asked for (start, end in ms), the mean of the bins inside
    ``time_window`` (as Brain-Score averages FreemanZiemba2013's 1-ms bins over 50–200 ms), or the only bin."""
    if "time_bin" not in assembly.dims:
        return assembly
    has_bounds = "time_bin_start" in assembly.coords and "time_bin_end" in assembly.coords
    if time_window is not None and has_bounds:
        inside = (assembly.time_bin_start.values >= time_window[0]) & (assembly.time_bin_end.values <= time_window[1])
        if not inside.any():
            raise BrainbenchError(f"The assembly has no time bins inside {time_window[0]}–{time_window[1]} ms.")
        return assembly.isel(time_bin=np.flatnonzero(inside)).mean("time_bin", keep_attrs=True)
    if time_bin is not None and has_bounds:
        match = (assembly.time_bin_start.values == time_bin[0]) & (assembly.time_bin_end.values == time_bin[1])
        if not match.any():
            raise BrainbenchError(f"The assembly has no time bin {time_bin[0]}–{time_bin[1]} ms.")
        return assembly.isel(time_bin=int(np.flatnonzero(match)[0]))
    if assembly.sizes["time_bin"] != 1:
        raise BrainbenchError("The assembly has several time bins; name one (time_bin = [start, end]).")
    return assembly.isel(time_bin=0)


def select_region(assembly: xr.DataArray, region: str) -> xr.DataArray:
    """The neuroids of ``region`` when the assembly mixes regions (a ``region`` coordinate on ``neuroid``)."""
    if "region" not in assembly.coords or assembly["region"].dims != ("neuroid",):
        return assembly
    keep = np.asarray(assembly["region"].values).astype(str) == region
    if not keep.any():
        raise BrainbenchError(f"The assembly has no neuroids of region {region}.")
    return assembly.isel(neuroid=np.flatnonzero(keep))


def _brainscore_order(assembly: xr.DataArray, first_rows: np.ndarray) -> np.ndarray:
    """Order of the unique stimuli (given by their first rows) after Brain-Score's repetition averaging.

    Brain-Score averages with a group-by over every presentation coordinate but ``repetition``, which
    sorts the stimuli by the tuple of those coordinates in the assembly's coordinate order (so, by
    ``stimulus_id`` when it is the first). Cross-validation splits are drawn over this order, so
    matching it is what makes scores agree split by split.
    """
    columns = [np.asarray(c.values)[first_rows].tolist() for n, c in assembly.coords.items()
               if c.dims == ("presentation",) and n != "repetition"]  # Python values, as .item() gives them
    keys = list(zip(*columns, strict=True))
    try:
        return np.asarray(sorted(range(len(keys)), key=keys.__getitem__))
    except TypeError:  # mixed types in a coordinate: compare as text
        return np.asarray(sorted(range(len(keys)), key=lambda i: tuple(str(v) for v in keys[i])))


def neural_data(assembly: xr.DataArray, stratify: str | None = None, alternate_halves: bool = False) -> NeuralData:
    """Average repetitions per ``stimulus_id`` and stack them, stimuli in Brain-Score's averaged order.

    Repetitions are told apart by the ``repetition`` coordinate; without one, the presentations of a
    stimulus are numbered 0, 1, … in order of appearance (and a note says so). ``alternate_halves``
    relabels repetition r as r mod 2 (Brain-Score's Cowley ceiling: even vs odd trials), so each
    split-half holds about half of every stimulus's trials.
    """
    for needed, dim in (("stimulus_id", "presentation"), ("neuroid_id", "neuroid")):
        if dim not in assembly.dims:
            raise BrainbenchError(f"The assembly has no '{dim}' dimension (dims: {', '.join(assembly.dims)}).")
        if needed not in assembly.coords and needed != "neuroid_id":
            raise BrainbenchError(f"The assembly has no '{needed}' coordinate on '{dim}'.")
        if assembly.sizes[dim] == 0:
            raise BrainbenchError(f"The assembly is empty (0 {dim}s); pass an assembly that holds responses.")
    assembly = assembly.transpose("presentation", "neuroid")
    values = np.asarray(assembly.values)  # float32 stays float32 here (half the memory); sums are float64
    values = values if values.dtype in (np.float32, np.float64) else values.astype(np.float64)
    if not np.isfinite(values).all():
        raise BrainbenchError("The assembly's responses contain NaN or infinite values; clean them first.")
    stimulus_of_row = np.asarray(assembly.stimulus_id.values).astype(str)
    ids, first, inverse = np.unique(stimulus_of_row, return_index=True, return_inverse=True)
    order = _brainscore_order(assembly, first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    row_stimulus = rank[inverse]
    n, q = len(ids), values.shape[1]
    counts = np.bincount(row_stimulus, minlength=n)[:, None]
    averaged = None

    notes: list[str] = []
    if "repetition" in assembly.coords:
        reps = np.asarray(assembly.repetition.values)
    elif counts.max() > 1:
        reps = _appearance_numbers(row_stimulus)
        fewest, most = int(counts.min()), int(counts.max())
        notes.append(f"no 'repetition' coordinate: the {fewest if fewest == most else f'{fewest}–{most}'} "
                     "presentations of each stimulus_id were taken as repetitions 0, 1, … in order of appearance")
    else:
        reps = None
    repetitions, repetition_values = None, []
    if reps is not None:
        reps = reps % 2 if alternate_halves else reps
        repetition_values = sorted(set(reps.tolist()))
        if len(repetition_values) >= 2:
            n_r = len(repetition_values)
            index = {v: i for i, v in enumerate(repetition_values)}
            r_idx = np.asarray([index[v] for v in reps.tolist()])
            cell = r_idx * n + row_stimulus  # (repetition, stimulus), flattened
            counts_r = np.bincount(cell, minlength=n_r * n)
            if counts_r.min() == 1 and counts_r.max() == 1:  # one trial per repetition and stimulus, none missing:
                stacked = np.empty((n_r, n, q), dtype=values.dtype)  # each trial is its cell's mean, exactly
                stacked[r_idx, row_stimulus] = values
                averaged = stacked.sum(0, dtype=np.float64) / n_r  # a fifth of the time of group sums over rows
            elif counts_r.max() == 1:
                stacked = np.full((n_r, n, q), np.nan, dtype=values.dtype)
                stacked[r_idx, row_stimulus] = values
            else:
                stacked = np.full((n_r * n, q), np.nan)
                present = counts_r > 0
                stacked[present] = (group_sums(values, cell, n_r * n) / np.maximum(counts_r, 1)[:, None])[present]
                stacked = stacked.reshape(n_r, n, q)
            repetitions = torch.from_numpy(stacked)
    if averaged is None:
        averaged = group_sums(values, row_stimulus, n) / counts
    strata = None
    if stratify:
        if stratify not in assembly.coords:
            raise BrainbenchError(f"The assembly has no '{stratify}' coordinate to stratify the splits by.")
        strata = list(np.asarray(assembly[stratify].values)[first[order]])  # each stimulus's first presentation
    return NeuralData([str(s) for s in ids[order]], torch.from_numpy(averaged), repetitions, repetition_values, strata,
                      tuple(notes))


def group_sums(values: np.ndarray, groups: np.ndarray, n_groups: int, block: int = 32) -> np.ndarray:
    """(n_groups, q) float64 sums of the rows of ``values`` (rows, q) by ``groups`` (rows,) in 0…n_groups-1.

    Each group's rows are added in their order (as ``np.add.at`` would, at a fraction of its time: rows sorted by
    group once, then `np.add.reduceat` over ``block`` columns at a time, so the sorted copy stays small); a group
    without rows sums to 0.
    """
    by_group = np.argsort(groups, kind="stable")
    sorted_groups = groups[by_group]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sums = np.zeros((n_groups, values.shape[1]))
    for lo in range(0, values.shape[1], block):
        chunk = values[by_group, lo:lo + block]
        sums[sorted_groups[starts], lo:lo + block] = np.add.reduceat(chunk, starts, axis=0, dtype=np.float64)
    return sums


def _appearance_numbers(row_stimulus: np.ndarray) -> np.ndarray:
    """Per row, how many earlier rows show the same stimulus (0 for its first presentation, 1 for the next …)."""
    by_stimulus = np.argsort(row_stimulus, kind="stable")
    sorted_stimuli = row_stimulus[by_stimulus]
    group_start = np.flatnonzero(np.r_[True, sorted_stimuli[1:] != sorted_stimuli[:-1]])
    starts = np.repeat(group_start, np.diff(np.r_[group_start, len(row_stimulus)]))
    numbers = np.empty(len(row_stimulus), dtype=np.int64)
    numbers[by_stimulus] = np.arange(len(row_stimulus)) - starts
    return numbers


@dataclass(frozen=True)
class CeiledPredictivity:
    """A predictivity score ceiled by the internal-consistency ceiling (`metrics.ceiling.ceil`), with its errors.

    convention: "explained_variance" (sign(r)·r²/ceiling), or "none" without a ceiling; split_ceiled: (n_splits,);
    error, raw_error: SEM (ddof=1) over the splits of the ceiled and the raw split medians.
    """

    ceiling: float | None
    convention: str
    ceiled: float
    split_ceiled: np.ndarray
    error: float | None
    raw_error: float | None
    error_method: str
    about: dict[str, Any]  # what `ceil` names in its refusal: scored, data, disagreeing, raw_error

    def of(self, raw: float) -> float:
        """Another raw score (e.g. another layer's) ceiled the same way."""
        return ceil(raw, self.ceiling, self.convention, **self.about)


def ceiled_predictivity(raw: float, split_raw: np.ndarray, ceiling: float | None, scored: str,
                        data: str) -> CeiledPredictivity:
    """``raw`` (the mean of the split medians ``split_raw``) and each split ceiled by ``ceiling`` (None: no ceiling);
    a ceiling ≤ 0 is one BrainbenchError naming ``scored`` and ``data``. Shared by benchmarks and `evaluate`."""
    convention = "none" if ceiling is None else "explained_variance"
    about = {"scored": scored, "data": data, "disagreeing": "its repetitions", "raw_error": standard_error(split_raw)}
    ceiled = ceil(raw, ceiling, convention, **about)
    split_ceiled = np.atleast_1d(ceil(split_raw, ceiling, convention, **about))
    method = error_method(int(np.isfinite(split_ceiled).sum()), "cross-validation splits", "split",
                          "the splits are not independent (their training stimuli overlap), so it understates the "
                          "uncertainty; the ceiling's own uncertainty is not included")
    return CeiledPredictivity(ceiling, convention, ceiled, split_ceiled, standard_error(split_ceiled),
                              about["raw_error"], method, about)


def _splits(spec: BenchmarkSpec, n: int, strata: list[Any] | None) -> list[tuple[np.ndarray, np.ndarray]]:
    params = spec.metric
    try:
        return brainscore_splits(
            n, n_splits=int(params.get("n_splits", 10)), train_size=float(params.get("train_size", 0.9)),
            stratify=strata, random_state=int(params.get("random_state", 1)),
        )
    except ValueError as exc:
        raise BrainbenchError(f"Benchmark {spec.id}: cannot draw the cross-validation splits ({exc}).") from exc


def _predictivity(spec: BenchmarkSpec, kernels: dict[str, torch.Tensor], data: NeuralData, device: torch.device,
                  progress: ProgressFactory | None, task: str, keep_predictions: bool = False):
    """Predictivity of the layers' kernels (Grams or narrow features; dict order) for ``data``'s neuroids: (L, …).
    ``task`` names the progress task (e.g. 'layer selection')."""
    params = spec.metric
    method = params.get("regression", "pls")
    n_components = int(params.get("n_components", 25))
    for layer, k in kernels.items():
        if method == "pls" and k.shape[0] != k.shape[1] and k.shape[1] < n_components:
            raise BrainbenchError(
                f"Layer {layer} has {k.shape[1]} features, fewer than the {n_components} PLS components of "
                f"{spec.id}; leave it out with --layers."
            )
    splits = _splits(spec, len(data.stimulus_ids), data.strata)
    advance = None
    if progress:
        regression = f"PLS-{n_components}" if method == "pls" else method
        layers = f"{len(kernels)} layers" if len(kernels) > 1 else f"layer {next(iter(kernels))}"
        advance = progress(f"{spec.id}: {task}, {regression} on {layers} × {len(splits)} splits "
                           f"({len(data.stimulus_ids)} stimuli)",
                           regression_steps(len(kernels), splits, method, n_components))
    return layers_predictivity(
        list(kernels.values()), data.responses.to(device), splits,
        method=method, n_components=n_components, alphas=params.get("alphas"), device=device, progress=advance,
        keep_predictions=keep_predictions,
    )


def _standardised(values: np.ndarray, axis: int) -> np.ndarray:
    """``values`` centred and scaled to unit SD along ``axis`` (a constant slice becomes 0), as float16.

    Pearson r is unchanged by a positive affine map of either variable, so r on any subset of the stimuli (or any
    resample of them) is kept; standardising first puts every value where float16 is finest relative to the spread
    (|z| < 2 holds ~95 % of values: steps of ≤ 2⁻¹⁰), and no value can overflow.
    """
    centred = values - np.nanmean(values, axis=axis, keepdims=True)
    spread = np.sqrt(np.nanmean(centred**2, axis=axis, keepdims=True))
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0).astype(np.float16)


def neural_units(splits: Sequence[tuple[np.ndarray, np.ndarray]], predictions: np.ndarray,
                 responses: np.ndarray) -> dict[str, np.ndarray]:
    """What a paired comparison needs to resample stimuli and neuroids of a predictivity score (ScoreRecord.units).

    splits: the scored cross-validation splits; predictions: (n_splits, n_test, q) the committed layer's held-out
    predictions (NaN-padded); responses: (n, q) the scored repetition-averaged responses.
    Returns test_index (n_splits, n_test) int32 (−1 pads a shorter test set), predictions (n_splits, n_test, q)
    float16 standardised per split and neuroid over the split's test stimuli, responses (n, q) float16 standardised
    per neuroid over all n stimuli (see `_standardised`: every split's Pearson r is kept up to float16 rounding).
    """
    width = predictions.shape[1]
    test_index = np.full((len(splits), width), -1, dtype=np.int32)
    for i, (_, test) in enumerate(splits):
        test_index[i, : len(test)] = test
    return {
        "test_index": test_index,
        "predictions": _standardised(np.asarray(predictions, dtype=np.float64), axis=1),
        "responses": _standardised(np.asarray(responses, dtype=np.float64), axis=0),
    }


def stimuli_digest(stimulus_ids: Sequence[str]) -> str:
    """sha256 hex of the stimulus ids in order (one per line): two records scored the same stimuli in the same order
    exactly when their digests agree."""
    return hashlib.sha256("\n".join(stimulus_ids).encode("utf-8")).hexdigest()


def _subset(data: NeuralData, index: np.ndarray) -> NeuralData:
    idx = torch.as_tensor(index)
    return NeuralData(
        [data.stimulus_ids[i] for i in index], data.responses[idx],
        None if data.repetitions is None else data.repetitions[:, idx], data.repetition_values,
        None if data.strata is None else [data.strata[i] for i in index],
    )


def _assembly(spec: BenchmarkSpec, dataset: Dataset, name: str) -> xr.DataArray:
    if name not in dataset.assemblies:
        raise BrainbenchError(f"Dataset {dataset.manifest.name} has no assembly '{name}'.")
    assembly = select_time_bin(dataset.assemblies[name], spec.metric.get("time_bin"), spec.metric.get("time_window"))
    return select_region(assembly, spec.region)


def _ceiling(spec: BenchmarkSpec, scored: NeuralData, device: torch.device,
             progress: ProgressFactory | None) -> tuple[float | None, list[float], str]:
    """The scored data's ceiling per ``[ceiling] method`` (CEILING_METHODS["neural"]): its value (None: no ceiling),
    the split-half medians it came from (internal consistency), and a note saying how it was obtained.

    Internal consistency on data with one repetition per stimulus is refused: scoring it unceiled would put a raw r
    beside r²/ceiling values in a leaderboard column.
    """
    params, method = spec.ceiling, spec.ceiling_method
    if method not in CEILING_METHODS["neural"]:
        raise BrainbenchError(f"Benchmark {spec.id}: unknown ceiling method '{method}'; choose one of "
                              f"{', '.join(CEILING_METHODS['neural'])}.")
    if method == "none":
        return None, [], "none: the benchmark's definition asks for no ceiling; ceiled = raw"
    published = spec.published_ceiling
    if published is not None:
        return published[0], [], f"published: {published[0]:g} ({published[1]})"
    if scored.repetitions is None:
        raise BrainbenchError(
            f"Benchmark {spec.id}: the internal-consistency ceiling needs at least 2 repetitions per stimulus, and "
            f"assembly {spec.assembly} has 1; give [ceiling] method = \"published\" (value, citation) or \"none\"."
        )
    n_halves = int(params.get("n_splits", 10))
    # All split-halves are one batched product: the task marks the stage, its total reached at once.
    advance = progress(f"{spec.id}: ceiling, {n_halves} split-halves of the repetitions", n_halves) \
        if progress else None
    consistency = internal_consistency(
        scored.repetitions.to(device), scored.repetition_values,
        n_splits=n_halves, random_state=int(params.get("random_state", 1)), precision=torch.float64,
    )
    if advance:
        advance(n_halves)
    halves = "even/odd trials" if params.get("repetitions") == "alternate" else "repetitions"
    return (float(consistency.ceiling), [float(v) for v in consistency.split_medians],
            f"internal consistency: split-half over {halves}, Spearman-Brown corrected, median over neuroids")


def run_neural(
    spec: BenchmarkSpec, dataset: Dataset, kernels: GetKernels, layers: Sequence[str], device: torch.device,
    profile: bool = False, progress: ProgressFactory | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Commit a layer on the selection stimuli, score it on the scored stimuli, ceil it.

    Returns (outcome fields, per-layer profile). Selection, per ``spec.layer_selection``:
    ``assembly = NAME`` (another recording: disjoint stimuli and neurons), or ``method =
    "stratified_half"`` (one seeded half of the scored assembly's stimuli, stratified by the
    benchmark's stratification coordinate; scoring then uses the other half only).
    With ``profile``, every layer is also scored on the scored stimuli (for ``brainbench layers``).
    ``progress`` gets one task for layer selection, one for scoring and one for the ceiling.
    """
    stratify = spec.metric.get("stratify") or None
    ceiling_params = spec.ceiling
    scored = neural_data(_assembly(spec, dataset, spec.assembly), stratify,
                         alternate_halves=ceiling_params.get("repetitions") == "alternate")
    selection_params = spec.layer_selection
    stimuli = dataset.stimuli
    degrees = spec.stimulus_degrees
    if "assembly" in selection_params:
        selection = neural_data(_assembly(spec, dataset, selection_params["assembly"]), stratify)
        selection_note = f"assembly {selection_params['assembly']} ({len(selection.stimulus_ids)} stimuli)"
    elif selection_params.get("method") == "stratified_half":
        seed = int(selection_params.get("seed", 0))
        strata = scored.strata or ["all"] * len(scored.stimulus_ids)
        half_a, half_b = stratified_halves(strata, 1, seed)[0]
        selection, scored = _subset(scored, half_a), _subset(scored, half_b)
        selection_note = f"stratified half (seed {seed}) of {spec.assembly}: {len(half_a)} stimuli"
    else:
        raise BrainbenchError(f"Benchmark {spec.id} does not say how to select its layer ([layer_selection]).")
    # Before any model work: a ceiling that cannot be had stops the benchmark here.
    with stage("ceilings", device):
        ceiling, ceiling_splits, ceiling_note = _ceiling(spec, scored, device, progress)

    selection_kernels = kernels(stimuli.subset(selection.stimulus_ids), degrees, layers)
    with stage("layer_selection", device):
        selection_scores = _predictivity(spec, {layer: selection_kernels[layer] for layer in layers}, selection,
                                         device, progress, "layer selection")
    selection_raw = [float(v) for v in selection_scores.raw]
    best = layers[int(np.nanargmax(selection_raw))]

    scored_layers = list(layers) if profile else [best]
    scored_kernels = kernels(stimuli.subset(scored.stimulus_ids), degrees, scored_layers)
    with stage("regressions", device):
        result = _predictivity(spec, {layer: scored_kernels[layer] for layer in scored_layers}, scored, device,
                               progress, "scoring", keep_predictions=not profile)  # a profile makes no record
    at = scored_layers.index(best)
    raw = float(result.raw[at])

    split_raw = result.split_medians[at].cpu().numpy()
    ceiled = ceiled_predictivity(
        raw, split_raw, ceiling, f"Benchmark {spec.id}",
        f"dataset {dataset.manifest.name} (assembly {spec.assembly}, {len(scored.stimulus_ids)} stimuli)",
    )
    layer_profile = {
        layer: {"selection_raw": selection_raw[i]} for i, layer in enumerate(layers)
    }
    if profile:
        for i, layer in enumerate(scored_layers):
            value = float(result.raw[i])
            layer_profile[layer] |= {"raw": value, "ceiled": ceiled.of(value)}
    fields = {
        "raw": raw,
        "ceiling": ceiling,
        "ceiled": ceiled.ceiled,
        "error": ceiled.error,
        "layer": best,
        "details": {
            "regression": spec.metric.get("regression", "pls"),
            "split_medians": [float(v) for v in split_raw],
            "split_ceiled": [float(v) for v in ceiled.split_ceiled],
            "raw_error": ceiled.raw_error,
            "brainscore_raw_error": float(result.error[at]),
            "brainscore_raw_error_method": "std (ddof=0) over splits of the split medians / sqrt(n_splits)",
            "ceiling_split_medians": ceiling_splits,
            "ceiling_method": ceiling_note,
            **published_details(spec.published_ceiling),
            **ceiling_details(ceiled.convention, ceiled.error_method),
            "layer_map": {spec.region: best},
            "layer_selection": selection_note,
            "layer_profile": layer_profile,
            "n_stimuli": len(scored.stimulus_ids),
            "n_neuroids": int(scored.responses.shape[1]),
            **({"ridge_alphas": result.alphas[at].tolist()} if result.alphas is not None else {}),
            "unit_test": "neural",
            "units_stimuli": stimuli_digest(scored.stimulus_ids),
        },
        "units": {} if profile else neural_units(_splits(spec, len(scored.stimulus_ids), scored.strata),
                                                 result.predictions[at].cpu().numpy(), scored.responses.cpu().numpy()),
    }
    return fields, layer_profile
