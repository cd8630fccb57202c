"""Behavioural metrics on numpy arrays (float64 out): error consistency, shape bias and i2n.

- Error consistency: Geirhos, Meding & Wichmann (2020), "Beyond accuracy: quantifying trial-by-trial
  behaviour of CNNs and humans by measuring error consistency", NeurIPS — Cohen's κ on the two
  correct/incorrect vectors, defined as bethgelab/model-vs-human does (``modelvshuman/plotting/analyses.py``,
  ``ErrorConsistency``).
- Shape bias: Geirhos et al. (2019), "ImageNet-trained CNNs are biased towards texture", ICLR — on
  cue-conflict trials, shape decisions / (shape + texture decisions).
- i2n: Rajalingham, Issa et al. (2018), J Neurosci 38(33) — the normalised image-by-distractor d′ pattern,
  computed exactly as Brain-Score 2.4.2 computes it (``brainscore_vision/metrics/i1i2/metric.py``, ``I2n``;
  ceiling application in ``benchmarks/rajalingham2018/benchmarks/benchmark.py``, ``ceil_score``):

  * model: for image i of object t and distractor d, the 2AFC false-alarm rate is p(d) / (p(d) + p(t)) from
    the model's choice probabilities; humans: the fraction of trials on image i with distractor d in which
    d was chosen (NaN where no such trial).
  * d′[i, d] = Φ⁻¹(1 − FAR[i, d]) − Φ⁻¹(mean over images j of object d of FAR[j, t]) (the reverse task's
    false-alarm rate, averaged over that object's images, NaN-skipping), clipped to [−5, 5]; then the mean
    over the images of object t is subtracted per (t, d) task (NaN-skipping).
  * two random halves of the human trials per split, drawn in the trials' order with one
    ``numpy.random.RandomState(0)`` whose successive ``shuffle`` calls give the successive splits; half 0 is
    the first ⌊n/2⌋ shuffled trials. raw = Pearson r(model, half 0) over the cells where half 0 is not NaN;
    ceiling = Pearson r(half 0, half 1) over the cells where half 1 is not NaN (no Spearman–Brown
    correction); ceiled = r / √ceiling per split. Each is averaged over the splits, Brain-Score's error = std
    (ddof=0); brainbench's error of the ceiled score is the SEM (ddof=1) of the per-split ceiled values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import torch
from numpy.typing import ArrayLike

from brainbench.errors import BrainbenchError
from brainbench.metrics.ceiling import ceil
from brainbench.metrics.correlation import pearson
from brainbench.metrics.uncertainty import standard_error

DPRIME_CAP = 5.0
"""|d′| is clipped to this value (Brain-Score's ``cap``)."""


# ----------------------------------------------------------------------------------------------
# error consistency
# ----------------------------------------------------------------------------------------------
def _correct(x: ArrayLike, name: str, ndim: int) -> np.ndarray:
    """`x` as a bool array of `ndim` dims with at least one trial; 0/1 numbers are accepted."""
    a = np.asarray(x)
    if a.ndim != ndim or a.shape[-1] == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-d array of correct/incorrect flags, got shape {a.shape}")
    if a.dtype != bool:
        if not np.isin(a, (0, 1)).all():
            raise ValueError(f"{name} must hold booleans (or 0/1), got values like {a.ravel()[:3].tolist()}")
        a = a.astype(bool)
    return a


def _kappas(a: np.ndarray, b: np.ndarray, names: list[str]) -> np.ndarray:
    """Cohen's κ between each row of `a` and `b` (broadcast, (..., n) bool) → (...) float64.

    `names` describes each broadcast row (flattened order) for the degenerate-case error.
    """
    a, b = np.broadcast_arrays(a, b)
    n = a.shape[-1]
    k1, k2 = a.sum(-1), b.sum(-1)
    degenerate = ((k1 == 0) & (k2 == 0)) | ((k1 == n) & (k2 == n))
    if degenerate.any():
        first = int(np.flatnonzero(degenerate.ravel())[0])
        accuracy = int(k1.ravel()[first] == n)
        raise BrainbenchError(
            f"{names[first]} both have accuracy {accuracy} on these {n} trials, and when both accuracies are 0 or "
            f"both are 1 the expected consistency is 1, so error consistency (Cohen's κ) is undefined."
        )
    p1, p2 = k1 / n, k2 / n
    observed = (a == b).sum(-1) / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    # model-vs-human returns exactly 1 for identical vectors (the formula can round to 1 − 1 ulp there).
    return np.where(observed == 1.0, 1.0, (observed - expected) / (1.0 - expected))


def error_consistency(model_correct: ArrayLike, human_correct: ArrayLike) -> float:
    """Trial-by-trial error consistency (Cohen's κ) of two decision makers, Geirhos et al. (2020).

    model_correct, human_correct: (n,) bool (or 0/1), whether each decided trial n correctly; the same
    trials in the same order. c_obs = fraction of trials both got right or both got wrong,
    c_exp = p1·p2 + (1 − p1)(1 − p2) from the two accuracies, κ = (c_obs − c_exp) / (1 − c_exp) ∈ [−1, 1];
    κ = 1 exactly when c_obs = 1 (as model-vs-human). Raises BrainbenchError when both accuracies are 0 or
    both are 1 (c_exp = 1, κ undefined; model-vs-human returns 1 there, Brain-Score NaN).
    """
    a = _correct(model_correct, "model_correct", 1)
    b = _correct(human_correct, "human_correct", 1)
    if a.shape != b.shape:
        raise ValueError(f"model_correct and human_correct must cover the same trials, got {a.shape} and {b.shape}")
    return float(_kappas(a, b, ["The model and the observer"]))


def mean_error_consistency(model_correct: ArrayLike, observers_correct: ArrayLike) -> tuple[float, np.ndarray]:
    """Mean error consistency of a model with each observer (model-vs-human's model score per condition).

    model_correct: (n,) bool; observers_correct: (n_observers, n) bool, every observer on the same n trials
    in the model's order. Returns (mean over observers, per-observer κ of shape (n_observers,)).
    """
    a = _correct(model_correct, "model_correct", 1)
    obs = _correct(observers_correct, "observers_correct", 2)
    if obs.shape[1] != a.shape[0] or obs.shape[0] == 0:
        raise ValueError(f"observers_correct must be (n_observers ≥ 1, {a.shape[0]}), got {obs.shape}")
    kappas = _kappas(a, obs, [f"The model and observer {i}" for i in range(obs.shape[0])])
    return float(kappas.mean()), kappas


def human_error_consistency_ceiling(observers_correct: ArrayLike) -> tuple[float, np.ndarray]:
    """Human-to-human error consistency: κ for every unordered pair of observers, and their mean.

    observers_correct: (n_observers ≥ 2, n) bool on the same trials. Returns (mean, per-pair κ of shape
    (n_observers·(n_observers − 1)/2,)), pairs in ``itertools.combinations(range(n_observers), 2)`` order.
    The mean equals model-vs-human's human value (mean over observers of each one's mean κ with the others).
    """
    obs = _correct(observers_correct, "observers_correct", 2)
    if obs.shape[0] < 2:
        raise ValueError(f"the human ceiling needs at least 2 observers, got shape {obs.shape}")
    pairs = list(itertools.combinations(range(obs.shape[0]), 2))
    left, right = (np.array(side, dtype=np.intp) for side in zip(*pairs, strict=True))
    kappas = _kappas(obs[left], obs[right], [f"Observers {i} and {j}" for i, j in pairs])
    return float(kappas.mean()), kappas


# ----------------------------------------------------------------------------------------------
# shape bias
# ----------------------------------------------------------------------------------------------
class ShapeBias(TypedDict):
    """Result of `shape_bias`."""

    shape_bias: float  # n_shape / (n_shape + n_texture)
    n_trials: int  # all trials passed
    n_cue_conflict: int  # trials whose shape and texture labels differ
    n_shape: int  # cue-conflict trials decided as the shape class
    n_texture: int  # cue-conflict trials decided as the texture class
    fraction_shape_or_texture: float  # (n_shape + n_texture) / n_cue_conflict


def shape_bias(decisions: ArrayLike, shape_labels: ArrayLike, texture_labels: ArrayLike) -> ShapeBias:
    """Shape bias on cue-conflict stimuli, Geirhos et al. (2019), as model-vs-human's ``ShapeBias``.

    decisions, shape_labels, texture_labels: (n,) labels of any comparable type (the decided class, the
    shape class and the texture class of each trial). Trials whose shape and texture labels are equal are
    left out. Raises BrainbenchError when no cue-conflict trial was decided as its shape or texture class.
    """
    d, s, t = (np.asarray(x) for x in (decisions, shape_labels, texture_labels))
    if d.ndim != 1 or d.shape != s.shape or d.shape != t.shape:
        raise ValueError(f"decisions, shape_labels and texture_labels must be equal-length 1-d, got "
                         f"{d.shape}, {s.shape}, {t.shape}")
    conflict = s != t
    n_conflict = int(conflict.sum())
    if n_conflict == 0:
        raise BrainbenchError(f"None of the {len(d)} trials has different shape and texture labels, so shape bias is "
                              f"undefined; pass cue-conflict trials.")
    n_shape = int((conflict & (d == s)).sum())
    n_texture = int((conflict & (d == t)).sum())
    if n_shape + n_texture == 0:
        raise BrainbenchError(f"None of the {n_conflict} cue-conflict decisions is the shape or the texture class, so "
                              f"shape bias is undefined.")
    return ShapeBias(
        shape_bias=n_shape / (n_shape + n_texture),
        n_trials=len(d),
        n_cue_conflict=n_conflict,
        n_shape=n_shape,
        n_texture=n_texture,
        fraction_shape_or_texture=(n_shape + n_texture) / n_conflict,
    )


# ----------------------------------------------------------------------------------------------
# i2n building blocks (integer-coded: images 0..n_images-1, objects 0..n_objects-1)
# ----------------------------------------------------------------------------------------------
def _group_nanmean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(n, m) values, (n,) group index → (n_groups, m) NaN-skipping mean per group (NaN where none)."""
    ok = ~np.isnan(values)
    sums = np.zeros((n_groups, values.shape[1]))
    counts = np.zeros((n_groups, values.shape[1]))
    np.add.at(sums, groups, np.where(ok, values, 0.0))
    np.add.at(counts, groups, ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def model_false_alarm_rates(probabilities: ArrayLike, image_objects: ArrayLike) -> np.ndarray:
    """The model's 2AFC false-alarm rates, (n_images, n_objects) float64.

    probabilities: (n_images, n_objects) choice probabilities (columns = objects); image_objects: (n_images,)
    int, each image's true object t. FAR[i, d] = p(d) / (p(d) + p(t)), the probability of picking distractor
    d over t; NaN at d = t.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    t = np.asarray(image_objects, dtype=np.intp)
    rows = np.arange(p.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        far = p / (p + p[rows, t][:, None])
    far[rows, t] = np.nan
    return far


def trial_false_alarm_rates(
    image_index: ArrayLike, distractor_index: ArrayLike, chose_distractor: ArrayLike, n_images: int, n_objects: int
) -> tuple[np.ndarray, np.ndarray]:
    """Observed 2AFC false-alarm rates from trials: (rates, counts), both (n_images, n_objects).

    image_index, distractor_index: (n_trials,) int, the image shown and the other option offered;
    chose_distractor: (n_trials,) bool. counts[i, d] = trials on image i with distractor d (int64);
    rates[i, d] = the fraction of them in which d was chosen, float64, NaN where counts is 0.
    """
    cell = np.asarray(image_index, dtype=np.intp) * n_objects + np.asarray(distractor_index, dtype=np.intp)
    counts = np.bincount(cell, minlength=n_images * n_objects).reshape(n_images, n_objects)
    chosen = np.bincount(cell, weights=np.asarray(chose_distractor, dtype=np.float64), minlength=counts.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = chosen.reshape(counts.shape) / counts
    return rates, counts


def i2n_dprimes(
    false_alarm_rates: ArrayLike, image_objects: ArrayLike, cap: float = DPRIME_CAP, normalize: bool = True
) -> np.ndarray:
    """Image-by-distractor d′ (I2), task-normalised when `normalize` (I2n): (n_images, n_objects) float64.

    false_alarm_rates: (n_images, n_objects), NaN where undefined (d = t, or no trials); image_objects:
    (n_images,) int. d′[i, d] = Φ⁻¹(1 − FAR[i, d]) − Φ⁻¹(FAR_obj[d, t]) with FAR_obj[d, t] the NaN-skipping
    mean of FAR[j, t] over images j of object d, clipped to [−cap, cap] (±∞ → ±cap; ∞ − ∞ stays NaN).
    Normalised: minus the NaN-skipping mean of d′[:, d] over the images of object t.
    """
    from scipy.stats import norm  # here: importing scipy.stats takes ~1 s, which evaluate's other metrics never need

    far = np.asarray(false_alarm_rates, dtype=np.float64)
    t = np.asarray(image_objects, dtype=np.intp)
    n_objects = far.shape[1]
    reverse = _group_nanmean(far, t, n_objects).T[t]  # [i, d] = mean FAR[j, t_i] over images j of object d
    with np.errstate(invalid="ignore"):
        dprime = np.clip(norm.ppf(1 - far) - norm.ppf(reverse), -cap, cap)
    if normalize:
        dprime = dprime - _group_nanmean(dprime, t, n_objects)[t]
    return dprime


def brainscore_halves(n_trials: int, n_splits: int = 2, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Brain-Score's random halves of trials: ``[(half_0, half_1), …]`` of int indices into the trials.

    One ``numpy.random.RandomState(seed)`` shuffles ``range(n_trials)`` once per split (the splits are its
    successive shuffles); half 0 is the first ⌊n_trials/2⌋ shuffled indices, half 1 the rest, both in
    shuffled order (``_Behavior_Metric.generate_halves`` / ``_repeat``).
    """
    if n_splits < 1 or n_trials < 2:
        raise ValueError(f"need n_splits ≥ 1 and n_trials ≥ 2, got {n_splits} and {n_trials}")
    random_state = np.random.RandomState(seed)
    halves = []
    for _ in range(n_splits):
        order = np.arange(n_trials)
        random_state.shuffle(order)
        halves.append((order[: n_trials // 2], order[n_trials // 2 :]))
    return halves


def _pearson_on(source: np.ndarray, target: np.ndarray, what: str) -> tuple[float, int]:
    """Pearson r over the cells where `target` is not NaN (Brain-Score's ``_I.correlate``); (r, n_cells)."""
    keep = ~np.isnan(target)
    undefined = int(np.isnan(source[keep]).sum())
    if undefined:
        raise BrainbenchError(
            f"{what} has an undefined d′ for {undefined} image × distractor cells that the other side "
            f"defines (a rate and its reverse task's rate both 0 or both 1, or zero probabilities), so i2n's "
            f"correlation is undefined."
        )
    r = float(pearson(torch.from_numpy(source.ravel()), torch.from_numpy(target.ravel()),
                      valid=torch.from_numpy(keep.ravel())))
    if np.isnan(r):  # `pearson`'s rule: a constant side, or fewer than 2 cells
        raise BrainbenchError(f"{what} gives a constant d′ pattern over {int(keep.sum())} cells, so i2n's correlation "
                              f"is undefined.")
    return r, int(keep.sum())


# ----------------------------------------------------------------------------------------------
# i2n
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TwoAfcTrials:
    """Human 2AFC trials in recorded order (the order fixes the random halves), each array (n_trials,).

    stimulus_id: the image shown; sample_obj: its object (the correct answer, Brain-Score's ``truth``);
    dist_obj: the other option offered; choice: the object chosen, sample_obj or dist_obj.
    """

    stimulus_id: ArrayLike
    sample_obj: ArrayLike
    dist_obj: ArrayLike
    choice: ArrayLike


@dataclass(frozen=True)
class I2nResult:
    """i2n score of a model, and the human split-half ceiling, per split and aggregated.

    split_raw, split_ceiling, split_ceiled, split_cells: (n_splits,) — r(model, human half 0),
    r(human half 0, half 1), split_raw / √split_ceiling, and the number of cells correlated with the model.
    raw, ceiling, ceiled: means over splits; error, raw_error: brainbench's errors of the ceiled and the raw score,
    the SEM (ddof=1) of split_ceiled and split_raw (`uncertainty.standard_error`); brainscore_raw_error,
    brainscore_ceiling_error, brainscore_ceiled_error: Brain-Score's, the std over splits (ddof=0, not divided by
    √n). images, objects: the sorted stimulus ids and object labels of the image × distractor cells scored.
    """

    raw: float
    ceiling: float
    ceiled: float
    error: float | None
    raw_error: float | None
    brainscore_raw_error: float
    brainscore_ceiling_error: float
    brainscore_ceiled_error: float
    split_raw: np.ndarray
    split_ceiling: np.ndarray
    split_ceiled: np.ndarray
    split_cells: np.ndarray
    images: np.ndarray
    objects: np.ndarray
    model_dprime: np.ndarray | None = None  # (n_images, n_objects) the model's i2n d′ pattern (NaN at d = t)
    human_dprimes: np.ndarray | None = None  # (n_splits, n_images, n_objects) human half 0's d′ pattern per split


@dataclass(frozen=True)
class _CodedTrials:
    images: np.ndarray  # (n_images,) sorted stimulus ids
    objects: np.ndarray  # (n_objects,) sorted object labels
    image_objects: np.ndarray  # (n_images,) object index of each image
    image: np.ndarray  # (n_trials,) image index
    distractor: np.ndarray  # (n_trials,) object index of the other option
    chose_distractor: np.ndarray  # (n_trials,) bool
    design: np.ndarray  # (n_images, n_objects) trial counts over all trials


def _code_trials(trials: TwoAfcTrials) -> _CodedTrials:
    stim, sample, dist, choice = (np.asarray(x) for x in (trials.stimulus_id, trials.sample_obj, trials.dist_obj,
                                                          trials.choice))
    if stim.ndim != 1 or not (stim.shape == sample.shape == dist.shape == choice.shape):
        raise ValueError(f"trial arrays must be equal-length 1-d, got {stim.shape}, {sample.shape}, {dist.shape}, "
                         f"{choice.shape}")
    if len(stim) < 2:
        raise BrainbenchError(f"i2n needs human trials to split in halves, got {len(stim)}.")
    if (sample == dist).any():
        raise BrainbenchError(f"{int((sample == dist).sum())} trials offer the same object as sample and distractor; "
                              f"each 2AFC trial needs two different objects.")
    chose_distractor = choice == dist
    if not (chose_distractor | (choice == sample)).all():
        bad = int(np.flatnonzero(~(chose_distractor | (choice == sample)))[0])
        raise BrainbenchError(f"Trial {bad} chose '{choice[bad]}', which is neither its sample_obj nor its dist_obj.")
    images, image = np.unique(stim, return_inverse=True)
    objects, coded = np.unique(np.concatenate([sample, dist]), return_inverse=True)
    sample_code, dist_code = coded[: len(stim)], coded[len(stim) :]
    image_objects = np.full(len(images), -1)
    image_objects[image] = sample_code
    if (image_objects[image] != sample_code).any():
        bad = int(np.flatnonzero(image_objects[image] != sample_code)[0])
        raise BrainbenchError(f"Image '{stim[bad]}' is shown with more than one sample_obj; each image must show one "
                              f"object.")
    _, design = trial_false_alarm_rates(image, dist_code, chose_distractor, len(images), len(objects))
    return _CodedTrials(images, objects, image_objects, image, dist_code, chose_distractor, design)


def _human_dprimes(coded: _CodedTrials, trial_indices: np.ndarray, where: str, cap: float) -> np.ndarray:
    rates, counts = trial_false_alarm_rates(coded.image[trial_indices], coded.distractor[trial_indices],
                                            coded.chose_distractor[trial_indices], *coded.design.shape)
    empty = (coded.design > 0) & (counts == 0)
    if empty.any():
        i, d = np.argwhere(empty)[0]
        raise BrainbenchError(
            f"{int(empty.sum())} image × distractor cells have no trial in {where} (e.g. '{coded.images[i]}' vs "
            f"'{coded.objects[d]}', {coded.design[i, d]} trials in all), so their d′ is undefined; i2n needs at least "
            f"one trial per cell in each random half, so collect more trials per cell or leave those images out."
        )
    return i2n_dprimes(rates, coded.image_objects, cap=cap)


def _split_ceilings(coded: _CodedTrials, n_splits: int, seed: int, cap: float) -> list[tuple[np.ndarray, float]]:
    """Per split: (human half-0 d′, r(half 0, half 1))."""
    out = []
    for s, (half_0, half_1) in enumerate(brainscore_halves(len(coded.image), n_splits, seed)):
        d0 = _human_dprimes(coded, half_0, f"half 0 of split {s}", cap)
        d1 = _human_dprimes(coded, half_1, f"half 1 of split {s}", cap)
        out.append((d0, _pearson_on(d0, d1, f"Human half 0 of split {s}")[0]))
    return out


def i2n_ceiling(
    trials: TwoAfcTrials, *, n_splits: int = 2, seed: int = 0, cap: float = DPRIME_CAP
) -> tuple[float, np.ndarray]:
    """The human split-half i2n consistency alone: (mean over splits, per-split r of shape (n_splits,))."""
    per_split = np.array([r for _, r in _split_ceilings(_code_trials(trials), n_splits, seed, cap)])
    return float(per_split.mean()), per_split


def i2n(
    model_probabilities: ArrayLike,
    model_stimulus_ids: ArrayLike,
    model_choices: ArrayLike,
    trials: TwoAfcTrials,
    *,
    n_splits: int = 2,
    seed: int = 0,
    cap: float = DPRIME_CAP,
    scored: str = "i2n",
    data: str = "the human trials",
) -> I2nResult:
    """i2n of a model against human 2AFC trials, as Brain-Score 2.4.2 (``load_metric('i2n')``) scores it.

    model_probabilities: (n_model_images, n_choices) the model's choice probabilities; model_stimulus_ids:
    (n_model_images,) unique ids of its rows; model_choices: (n_choices,) object labels of its columns.
    trials: the human trials. The model must cover every image and object of the trials (extra rows and
    columns are ignored; Brain-Score requires them to match exactly). Raises BrainbenchError when a cell that
    has trials has none in one of the random halves, a correlation is undefined, or a split's ceiling is ≤ 0
    (`ceiling.ceil`; its sentence names `scored` and `data`).
    """
    coded = _code_trials(trials)
    p = np.asarray(model_probabilities, dtype=np.float64)
    ids, choices = np.asarray(model_stimulus_ids), np.asarray(model_choices)
    if p.ndim != 2 or p.shape != (len(ids), len(choices)):
        raise ValueError(f"model_probabilities must be (n_images, n_choices) = ({len(ids)}, {len(choices)}), "
                         f"got {p.shape}")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("model_stimulus_ids must be unique")
    rows, cols = _positions(ids, coded.images, "image", "model_stimulus_ids"), _positions(
        choices, coded.objects, "object", "model_choices")
    model = i2n_dprimes(model_false_alarm_rates(p[np.ix_(rows, cols)], coded.image_objects), coded.image_objects,
                        cap=cap)

    raw, ceiling, cells, halves_0 = [], [], [], []
    for s, (human_0, split_ceiling) in enumerate(_split_ceilings(coded, n_splits, seed, cap)):
        r, n = _pearson_on(model, human_0, f"The model (against human half 0 of split {s})")
        halves_0.append(human_0)
        raw.append(r)
        cells.append(n)
        ceiling.append(split_ceiling)
    raw_a, ceiling_a = np.array(raw), np.array(ceiling)
    ceiled = np.array([
        ceil(r, c, "sqrt_ratio", scored=scored, data=f"{data} (split {s} of {n_splits})",
             disagreeing="the two random halves of its trials")
        for s, (r, c) in enumerate(zip(raw_a, ceiling_a, strict=True))
    ])
    return I2nResult(
        raw=float(raw_a.mean()), ceiling=float(ceiling_a.mean()), ceiled=float(ceiled.mean()),
        error=standard_error(ceiled), raw_error=standard_error(raw_a),
        brainscore_raw_error=float(raw_a.std()), brainscore_ceiling_error=float(ceiling_a.std()),
        brainscore_ceiled_error=float(ceiled.std()),
        split_raw=raw_a, split_ceiling=ceiling_a, split_ceiled=ceiled, split_cells=np.array(cells),
        images=coded.images, objects=coded.objects, model_dprime=model, human_dprimes=np.stack(halves_0),
    )


def _positions(labels: np.ndarray, wanted: np.ndarray, kind: str, name: str) -> np.ndarray:
    """Index into `labels` of each of `wanted`; BrainbenchError naming the first missing one."""
    lookup = {label: i for i, label in enumerate(labels.tolist())}
    missing = [w for w in wanted.tolist() if w not in lookup]
    if missing:
        raise BrainbenchError(f"{len(missing)} {kind}s of the human trials are missing from {name} (e.g. "
                              f"'{missing[0]}'); the model must be scored on every {kind} the humans saw.")
    return np.array([lookup[w] for w in wanted.tolist()], dtype=np.intp)
