"""Paired bootstrap tests of two models' behavioural scores: the same images (and observers) resampled for both.

- Error consistency (Geirhos et al. 2020): images and observers are drawn with replacement (two-factor); each
  observer's Cohen's κ with the model is computed on the drawn images, the κs averaged over the drawn observers.
- Shape bias (Geirhos et al. 2019): cue-conflict images and observers are drawn with replacement; the model's and
  the humans' pooled shape bias are recomputed on the drawn images (the humans' on the drawn observers' trials).
- i2n (Rajalingham et al. 2018): images are drawn with replacement; each split's Pearson r between the model's and
  human half 0's d′ is computed over the drawn images' cells (an image drawn k times weighs k). The d′ patterns
  themselves (normalised over all images) are held, as are the human trial halves.

Intervals: with images and observers resampled, a normal interval from Schütt et al. (2023)'s corrected two-factor
variance (the plain two-factor bootstrap counts the image × observer residual three times); with images alone (i2n),
the percentile interval. Ceilings are held at the records' (the same for both models: they scale the difference and
never change its sign; recomputing the human-to-human κ on resamples that repeat an observer would pair an observer
with itself).
Efron & Tibshirani (1993), An Introduction to the Bootstrap, Chapman & Hall. Schütt, Kipnis, Diedrichsen &
Kriegeskorte (2023), eLife 12:e82566.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from brainbench.comparison.estimate import Estimate, UnitsMismatch
from brainbench.comparison.resampling import resample_counts, two_factor_estimate
from brainbench.comparison.rsa_test import percentile_estimate
from brainbench.leaderboard.record import ScoreRecord


def _check_aligned(first: ScoreRecord, other: ScoreRecord, model_keys: tuple[str, ...], data_keys: tuple[str, ...],
                   what: str) -> None:
    """UnitsMismatch (one sentence) unless both records hold the units and share their data and ceiling."""
    for key in (*model_keys, *data_keys, "stimulus_ids"):
        if key not in first.units or key not in other.units:
            raise UnitsMismatch(f"the {what} per-unit results lack '{key}' in one of the records.")
    for key in ("stimulus_ids", *data_keys):
        a, b = first.units[key], other.units[key]
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            raise UnitsMismatch(f"the two records' {what} scores were computed on different images or human data "
                                f"('{key}' differs).")
    if first.ceiling != other.ceiling:
        raise UnitsMismatch(f"the two records' {what} scores have different ceilings.")


def _test(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int, n_observers: int | None,
          score: Callable[[ScoreRecord, np.ndarray, np.ndarray], np.ndarray], units: str) -> Estimate:
    """The paired bootstrap shared by the behavioural scores: ``score(record, image_counts (B, n), observer_counts
    (B, n_observers))`` → (B,) ceiled scores. With ≥ 2 observers, images and observers are both resampled and the
    variance is Schütt et al. (2023)'s 2·V(images) + 2·V(observers) − V(both), with a normal interval; otherwise
    (None: no observer factor) the images' percentile interval."""
    n_images = len(first.units["stimulus_ids"])
    rng = np.random.default_rng(seed)
    images = resample_counts(rng, n_images, n_resamples)
    observed = other.ceiled - first.ceiled

    def differences(image_counts: np.ndarray, observer_counts: np.ndarray) -> np.ndarray:
        return score(other, image_counts, observer_counts) - score(first, image_counts, observer_counts)

    common = f"the same resamples for both models, {units}, the ceiling held at the record's"
    if n_observers is None or n_observers < 2:
        return percentile_estimate(observed, differences(images, np.ones((1, n_observers or 1))),
                                   f"paired bootstrap over {n_images} images, {common}")
    observers = resample_counts(rng, n_observers, n_resamples)
    try:
        return two_factor_estimate(
            observed, differences(images, observers), differences(images, np.ones((1, n_observers))),
            differences(np.ones((1, n_images)), observers),
            f"paired two-factor bootstrap over {n_images} images and {n_observers} observers, {common}; variance "
            "2·V(images) + 2·V(observers) − V(both) (Schütt et al. 2023)")
    except ValueError as exc:
        raise UnitsMismatch(f"{exc}.") from None


def kappas(model_correct: np.ndarray, observers_correct: np.ndarray, image_counts: np.ndarray) -> np.ndarray:
    """Cohen's κ of the model with each observer on resampled images: (B, n_observers), NaN where undefined.

    model_correct: (n,) bool; observers_correct: (n_observers, n) bool; image_counts: (B, n) how often each image
    was drawn (a drawn image counts as that many trials).
    """
    counts = image_counts.astype(np.float64)
    total = counts.sum(1, keepdims=True)
    model = model_correct.astype(np.float64)
    observers = observers_correct.astype(np.float64)
    p_model = counts @ model[:, None] / total
    p_observer = counts @ observers.T / total
    agree = counts @ (observers == model).T / total
    expected = p_model * p_observer + (1 - p_model) * (1 - p_observer)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = (agree - expected) / (1 - expected)
    kappa[agree == 1] = 1.0  # as metrics.behavior: identical vectors give exactly 1
    kappa[expected >= 1] = np.nan  # both accuracies 0 or both 1: undefined
    return kappa


def error_consistency_scores(units: dict[str, np.ndarray], ceiling: float, image_counts: np.ndarray,
                             observer_counts: np.ndarray) -> np.ndarray:
    """Ceiled error consistency on each resample (B,): the observer-weighted mean κ over the record's ceiling."""
    kappa = kappas(units["model_correct"], units["observers_correct"], image_counts)
    return (kappa * observer_counts).sum(1) / observer_counts.sum(1) / ceiling


def error_consistency_test(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> Estimate:
    """`other − first` ceiled error consistency, paired bootstrap over images and observers."""
    _check_aligned(first, other, ("model_correct",), ("observers_correct",), "error-consistency")
    return _test(first, other, n_resamples, seed, first.units["observers_correct"].shape[0],
                 lambda r, images, observers: error_consistency_scores(r.units, r.ceiling, images, observers),
                 "each observer's κ with the model on the drawn images")


def shape_bias_scores(units: dict[str, np.ndarray], image_counts: np.ndarray,
                      observer_counts: np.ndarray) -> np.ndarray:
    """1 − |model − human shape bias| on each resample (B,); observer o's trials on image i count k_i · c_o times."""
    counts = image_counts.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        model = counts @ units["model_shape"] / (counts @ (units["model_shape"] | units["model_texture"]))
        shape = ((counts @ units["human_shape"].T.astype(np.float64)) * observer_counts).sum(1)
        texture = ((counts @ units["human_texture"].T.astype(np.float64)) * observer_counts).sum(1)
        human = shape / (shape + texture)
    return 1 - np.abs(model - human)


def shape_bias_test(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> Estimate:
    """`other − first` shape-bias score 1 − |model − human|, paired bootstrap over cue-conflict images and
    observers."""
    _check_aligned(first, other, ("model_shape", "model_texture"), ("human_shape", "human_texture"), "shape-bias")
    return _test(first, other, n_resamples, seed, first.units["human_shape"].shape[0],
                 lambda r, images, observers: shape_bias_scores(r.units, images, observers),
                 "the model's and the humans' pooled shape bias recomputed on the drawn images")


def i2n_scores(units: dict[str, np.ndarray], image_counts: np.ndarray) -> np.ndarray:
    """Ceiled i2n on each resample (B,): mean over splits of r(model d′, half-0 d′) / √(that split's ceiling)."""
    model = units["model_dprime"].astype(np.float64)
    per_split = [_weighted_r(model, human, image_counts) / np.sqrt(ceiling)
                 for human, ceiling in zip(units["human_dprime"].astype(np.float64), units["split_ceiling"],
                                           strict=True)]
    return np.mean(per_split, axis=0)


def i2n_test(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> Estimate:
    """`other − first` ceiled i2n (mean over splits of r / √ceiling), paired bootstrap over images."""
    _check_aligned(first, other, ("model_dprime",), ("human_dprime", "split_ceiling", "objects"), "i2n")
    return _test(first, other, n_resamples, seed, None, lambda r, images, observers: i2n_scores(r.units, images),
                 "each split's r over the drawn images' cells, the d′ patterns and trial halves held")


def _weighted_r(model: np.ndarray, human: np.ndarray, image_counts: np.ndarray) -> np.ndarray:
    """Pearson r of the model's and the humans' d′ (n_images, n_objects) over the cells the humans define, each
    image's cells weighted by how often it was drawn (image_counts (B, n_images)): (B,). The sums are taken per image
    first, so the cost is O(B · n_images)."""
    cells = ~np.isnan(human)
    x, y = np.where(cells, model, 0.0), np.where(cells, human, 0.0)
    counts = image_counts.astype(np.float64)
    n = counts @ cells.sum(1)
    sx, sy = counts @ x.sum(1), counts @ y.sum(1)
    sxx, syy, sxy = counts @ (x * x).sum(1), counts @ (y * y).sum(1), counts @ (x * y).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sxy - sx * sy / n) / np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
