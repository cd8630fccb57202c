"""Paired bootstrap test of two models' neural predictivity scores: stimuli and neuroids resampled alike for both.

A neural score is built as: per cross-validation split, Pearson r per neuroid between the committed layer's held-out
predictions and the responses over the split's test stimuli; the median over neuroids; the mean over splits; then
ceiled (sign(r)·r²/ceiling). Each resample draws the scored stimuli with replacement (a stimulus drawn k times counts
k times in every split whose test set holds it: a weighted Pearson r with the draw counts as weights, which equals r on
the explicitly repeated stimuli) and, independently, the neuroids with replacement (the median is over the drawn
neuroids); the same draws serve both models (Efron & Tibshirani 1993; two factors as in Schütt et al. 2023). The
regressions are not refitted: the test asks whether the two fitted models predict the same responses equally well.
The ceiling is held at the records' (the same for both, since the data are): it scales the difference and never
changes its sign. The units are the ones `brainbench.benchmarks.neural.neural_units` stores.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from brainbench.comparison.estimate import Estimate, UnitsMismatch
from brainbench.comparison.resampling import resample_counts, resample_indices, two_factor_estimate
from brainbench.leaderboard.record import ScoreRecord
from brainbench.metrics.ceiling import ceil

UNITS = ("test_index", "predictions", "responses")
_CHUNK = 250  # resamples computed at once: bounds the (resamples, splits, neuroids) temporaries
_DEGENERATE = 1e-9  # a weighted variance below this fraction of the total weight: one distinct value, r undefined


def neural_paired_test(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> Estimate:
    """``other − first`` ceiled neural predictivity with its paired bootstrap 95 % interval and p-value.

    UnitsMismatch (one sentence) when the records' units do not line up: other stimuli, splits, data or ceiling.
    """
    _check_aligned(first, other)
    responses = first.units["responses"].astype(np.float64)
    test_index = first.units["test_index"]
    n, q = responses.shape
    rng = np.random.default_rng(seed)
    counts, neuroids = resample_counts(rng, n, n_resamples), resample_indices(rng, q, n_resamples)
    # The same draws with both factors resampled, only the stimuli, only the neuroids (Schütt et al. 2023's correction);
    # r per split and neuroid depends on the stimulus draws only, so it is computed once per model and resample.
    replicates = {factors: np.empty(n_resamples) for factors in ("both", "stimuli", "neuroids")}
    every_stimulus = np.ones((1, n), np.int64)
    fixed = [split_r(record, responses, test_index, every_stimulus) for record in (first, other)]
    for lo in range(0, n_resamples, _CHUNK):
        part = slice(lo, min(lo + _CHUNK, n_resamples))
        every_neuroid = np.broadcast_to(np.arange(q), (part.stop - part.start, q))
        drawn = [split_r(record, responses, test_index, counts[part]) for record in (first, other)]
        for factors, (r, j) in {"both": (drawn, neuroids[part]), "stimuli": (drawn, every_neuroid),
                                "neuroids": (fixed, neuroids[part])}.items():
            a, b = (ceiled_score(record, r_m, j) for record, r_m in zip((first, other), r, strict=True))
            replicates[factors][part] = b - a
    ceiling = f"ceiling held at {first.ceiling:.3g}" if first.ceiling is not None else "no ceiling"
    method = (f"paired bootstrap over {n} stimuli and {q} neuroids (the same resamples for both models; two-factor "
              f"variance corrected as in Schütt et al. 2023), {test_index.shape[0]} splits' fitted predictions kept, "
              f"{ceiling}")
    try:
        return two_factor_estimate(other.ceiled - first.ceiled, replicates["both"], replicates["stimuli"],
                                   replicates["neuroids"], method)
    except ValueError as exc:
        raise UnitsMismatch(f"The per-unit results of {first.benchmark} cannot be resampled ({exc}).") from None


def split_r(record: ScoreRecord, responses: np.ndarray, test_index: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(B, n_splits, q) Pearson r per split and neuroid of the record's predictions on B resamples of the stimuli.

    responses: (n, q) float64; test_index: (n_splits, n_test) (−1: padding); counts: (B, n) how often each stimulus
    is drawn (ones: the stimuli as scored).
    """
    predictions = record.units["predictions"]
    return np.stack([_weighted_r(predictions[s][index >= 0].astype(np.float64), responses[index[index >= 0]],
                                 counts[:, index[index >= 0]]) for s, index in enumerate(test_index)], axis=1)


def ceiled_score(record: ScoreRecord, r: np.ndarray, neuroids: np.ndarray) -> np.ndarray:
    """(B,) the record's ceiled score from r (B or 1, n_splits, q) and the neuroids drawn (B, q), built as the benchmark
    builds it: median over the drawn neuroids (NaN-skipping), mean over splits, ceiled by the record's ceiling."""
    drawn = np.take_along_axis(np.broadcast_to(r, (len(neuroids), *r.shape[1:])), neuroids[:, None, :], axis=2)
    if np.isnan(drawn).any():
        with warnings.catch_warnings():  # an all-NaN split (or resample) is NaN, as the benchmark's nanmedian makes it
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = np.nanmean(np.nanmedian(drawn, axis=2), axis=1)
    else:  # the same values, faster
        raw = np.median(drawn, axis=2).mean(axis=1)
    convention = record.details.get("ceiling_convention", "none" if record.ceiling is None else "explained_variance")
    return np.asarray(ceil(raw, record.ceiling, convention), dtype=np.float64).reshape(raw.shape)


def _weighted_r(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(B, q) Pearson r per column of x and y (m, q) with stimulus weights w (B, m): r of the rows repeated w times.
    NaN where either side has no spread in the resample (as scipy's pearsonr of a constant)."""
    w = w.astype(np.float64)
    total = w.sum(1, keepdims=True)
    sx, sy = w @ x, w @ y
    cxy = w @ (x * y) - sx * sy / total
    cxx = w @ (x * x) - sx * sx / total
    cyy = w @ (y * y) - sy * sy / total
    degenerate = (cxx <= _DEGENERATE * total) | (cyy <= _DEGENERATE * total)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cxy / np.sqrt(cxx * cyy)
    return np.where(degenerate, np.nan, np.clip(r, -1.0, 1.0))


def _check_aligned(first: ScoreRecord, other: ScoreRecord) -> None:
    """UnitsMismatch unless both records hold neural units of the same stimuli, splits, neuroids, data and ceiling."""
    for record in (first, other):
        if not set(UNITS) <= set(record.units):
            raise UnitsMismatch(f"The record of {record.model_label} on {record.benchmark} holds no per-stimulus "
                                "predictions to resample.")
        index, predictions, responses = (record.units[name] for name in UNITS)
        if predictions.shape != (*index.shape, responses.shape[1]) or index.max() >= responses.shape[0]:
            raise UnitsMismatch(f"The per-unit results of {record.model_label} on {record.benchmark} are "
                                "inconsistent (their shapes disagree).")
    why = _mismatch(first, other)
    if why:
        raise UnitsMismatch(f"{first.model_label} and {other.model_label} on {first.benchmark} {why}.")


def _mismatch(first: ScoreRecord, other: ScoreRecord) -> str | None:
    a, b = first.units, other.units
    if first.details.get("units_stimuli") != other.details.get("units_stimuli"):
        return "were scored on other stimuli"
    if a["test_index"].shape != b["test_index"].shape or not np.array_equal(a["test_index"], b["test_index"]):
        return "were scored on other cross-validation splits"
    if a["responses"].shape != b["responses"].shape:
        return "were scored against other neuroids"
    # The same data standardised on two machines may round a value to the neighbouring float16: one step (2⁻¹⁰ of
    # the value) is allowed, a different recording is not.
    if not np.allclose(a["responses"].astype(np.float64), b["responses"].astype(np.float64), rtol=2**-9, atol=2**-14):
        return "were scored against other responses"
    if (first.ceiling is None) != (other.ceiling is None) or (
            first.ceiling is not None and not math.isclose(first.ceiling, other.ceiling, rel_tol=1e-9)):
        return f"have other ceilings ({first.ceiling} and {other.ceiling})"
    if first.details.get("ceiling_convention") != other.details.get("ceiling_convention"):
        return "were ceiled by other conventions"
    return None
