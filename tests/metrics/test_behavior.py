"""Behavioural metrics against independent computations: closed forms, scikit-learn's Cohen's κ, counting,
scipy's Φ⁻¹, and a loop-and-dictionary re-implementation of Brain-Score's i2n."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import cohen_kappa_score

from brainbench.errors import BrainbenchError
from brainbench.metrics.behavior import (
    TwoAfcTrials,
    brainscore_halves,
    error_consistency,
    human_error_consistency_ceiling,
    i2n,
    i2n_ceiling,
    i2n_dprimes,
    mean_error_consistency,
    model_false_alarm_rates,
    shape_bias,
    trial_false_alarm_rates,
)

RNG = np.random.default_rng(7)


# ----------------------------------------------------------------------------------------------
# error consistency
# ----------------------------------------------------------------------------------------------
def test_error_consistency_closed_form():
    a = np.array([1, 1, 1, 0, 0, 1, 0, 1], dtype=bool)
    b = np.array([1, 0, 1, 0, 1, 1, 0, 0], dtype=bool)
    # agree on 5 of 8; accuracies 5/8 and 4/8 → c_exp = 5/16 + 3/16 = 1/2; κ = (5/8 − 1/2) / (1/2) = 1/4
    assert error_consistency(a, b) == pytest.approx(0.25, abs=1e-15)
    assert error_consistency(a.astype(int), b.astype(float)) == pytest.approx(0.25, abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_error_consistency_is_sklearn_cohens_kappa(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    a = rng.random(n) < rng.uniform(0.2, 0.9)
    b = np.where(rng.random(n) < 0.6, a, rng.random(n) < 0.5)
    assert error_consistency(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert error_consistency(b, a) == pytest.approx(error_consistency(a, b), abs=1e-15)


def test_error_consistency_extremes():
    a = np.array([True, False, True, True, False, False])
    assert error_consistency(a, a) == 1.0  # exactly, as model-vs-human
    assert error_consistency(a, ~a) == pytest.approx(-1.0, abs=1e-15)  # accuracies 1/2 and 1/2
    # one side perfect, the other not: c_exp = p2, c_obs = p2 → κ = 0 (defined)
    assert error_consistency(np.ones(6, bool), a) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("value", [True, False])
def test_error_consistency_degenerate_raises(value):
    both = np.full(10, value)
    with pytest.raises(BrainbenchError, match=r"accuracies are 0 or both are 1.*Cohen's κ\) is undefined"):
        error_consistency(both, both.copy())


def test_error_consistency_rejects_bad_input():
    with pytest.raises(ValueError, match="same trials"):
        error_consistency([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="booleans"):
        error_consistency([1, 2, 0], [1, 0, 0])


def test_mean_error_consistency_per_observer():
    model = RNG.random(120) < 0.7
    observers = np.stack([np.where(RNG.random(120) < 0.5, model, RNG.random(120) < 0.8) for _ in range(4)])
    mean, per = mean_error_consistency(model, observers)
    expected = [cohen_kappa_score(model, o) for o in observers]
    np.testing.assert_allclose(per, expected, atol=1e-12)
    assert per.dtype == np.float64 and per.shape == (4,)
    assert mean == pytest.approx(np.mean(expected), abs=1e-12)

    observers[2] = model  # identical → 1, not degenerate
    assert mean_error_consistency(model, observers)[1][2] == 1.0  # exactly, as in test_error_consistency_extremes
    with pytest.raises(BrainbenchError, match="observer 1 both have accuracy 1"):
        mean_error_consistency(np.ones(5, bool), np.array([[1, 0, 1, 1, 1], [1, 1, 1, 1, 1]]))


def test_human_ceiling_over_unordered_pairs():
    base = RNG.random(200) < 0.75
    observers = np.stack([np.where(RNG.random(200) < 0.6, base, RNG.random(200) < 0.75) for _ in range(5)])
    mean, per_pair = human_error_consistency_ceiling(observers)
    pairs = list(itertools.combinations(range(5), 2))
    np.testing.assert_allclose(per_pair, [cohen_kappa_score(observers[i], observers[j]) for i, j in pairs], atol=1e-12)
    # model-vs-human's human value: per observer, the mean κ with every other observer; then the mean of those
    per_observer = [np.mean([cohen_kappa_score(observers[h], observers[o]) for o in range(5) if o != h])
                    for h in range(5)]
    assert mean == pytest.approx(np.mean(per_observer), abs=1e-12)
    with pytest.raises(ValueError, match="at least 2 observers"):
        human_error_consistency_ceiling(observers[:1])


# ----------------------------------------------------------------------------------------------
# shape bias
# ----------------------------------------------------------------------------------------------
def test_shape_bias_by_hand():
    shape = ["cat", "cat", "dog", "car", "car", "dog", "cat"]
    texture = ["dog", "cat", "cat", "dog", "cat", "car", "elephant"]
    decided = ["cat", "cat", "cat", "car", "bird", "car", "elephant"]
    # trial 1 has no cue conflict (excluded although decided as its shape); of the 6 conflict trials:
    # shape decisions: trials 0, 3 → 2; texture: 2, 5, 6 → 3; trial 4 (bird) is neither
    result = shape_bias(decided, shape, texture)  # ratios of counts: one correctly rounded division, exact
    assert result == {"shape_bias": 2 / 5, "n_trials": 7, "n_cue_conflict": 6, "n_shape": 2, "n_texture": 3,
                      "fraction_shape_or_texture": 5 / 6}


def test_shape_bias_counts_random_labels():
    classes = np.array(["knife", "bottle", "clock", "oven", "boat"])
    shape, texture, decided = (classes[RNG.integers(0, 5, 300)] for _ in range(3))
    n_shape = n_texture = n_conflict = 0
    for d, s, t in zip(decided, shape, texture, strict=True):
        if s != t:
            n_conflict += 1
            n_shape += d == s
            n_texture += d == t
    result = shape_bias(decided, shape, texture)
    assert (result["n_shape"], result["n_texture"], result["n_cue_conflict"]) == (n_shape, n_texture, n_conflict)
    assert result["shape_bias"] == pytest.approx(n_shape / (n_shape + n_texture), abs=1e-15)


def test_shape_bias_undefined():
    with pytest.raises(BrainbenchError, match="shape or the texture class, so shape bias is undefined"):
        shape_bias(["bird", "bird"], ["cat", "dog"], ["dog", "cat"])
    with pytest.raises(BrainbenchError, match="different shape and texture labels"):
        shape_bias(["cat"], ["cat"], ["cat"])


# ----------------------------------------------------------------------------------------------
# i2n building blocks
# ----------------------------------------------------------------------------------------------
def test_model_false_alarm_rates():
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], dtype=np.float32)
    far = model_false_alarm_rates(p, [0, 2])
    p = p.astype(np.float64)
    expected = [[np.nan, p[0, 1] / (p[0, 1] + p[0, 0]), p[0, 2] / (p[0, 2] + p[0, 0])],
                [p[1, 0] / (p[1, 0] + p[1, 2]), p[1, 1] / (p[1, 1] + p[1, 2]), np.nan]]
    np.testing.assert_allclose(far, expected, rtol=0, atol=1e-15)
    assert far.dtype == np.float64


def test_trial_false_alarm_rates_by_hand():
    image = [0, 0, 0, 1, 1, 0]
    distractor = [1, 1, 2, 0, 0, 1]
    chose = [True, False, False, True, True, False]
    rates, counts = trial_false_alarm_rates(image, distractor, chose, n_images=2, n_objects=3)
    np.testing.assert_array_equal(counts, [[0, 3, 1], [2, 0, 0]])
    np.testing.assert_array_equal(rates, [[np.nan, 1 / 3, 0.0], [1.0, np.nan, np.nan]])  # count/count: exact


def loop_dprimes(far: dict, truth: dict, images: list, objects: list, cap: float = 5.0, normalize: bool = True):
    """d′ by the definition, one cell at a time with scipy's Φ⁻¹ (NaN-skipping means by list filtering)."""
    raw = {}
    for i in images:
        t = truth[i]
        for d in objects:
            if d == t or math.isnan(far[i, d]):
                raw[i, d] = math.nan
                continue
            reverse = [far[j, t] for j in images if truth[j] == d and not math.isnan(far[j, t])]
            fa = statistics.fmean(reverse) if reverse else math.nan
            with np.errstate(invalid="ignore"):
                value = float(scipy.stats.norm.ppf(1 - far[i, d]) - scipy.stats.norm.ppf(fa))
            raw[i, d] = value if math.isnan(value) else min(max(value, -cap), cap)
    if not normalize:
        return raw
    out = {}
    for (i, d), value in raw.items():
        group = [raw[j, d] for j in images if truth[j] == truth[i] and not math.isnan(raw[j, d])]
        out[i, d] = value - statistics.fmean(group) if group else math.nan
    return out


def test_dprime_tiny_example_with_norm_ppf():
    # 3 objects, 2 images each; rows: images, columns: distractor objects; NaN on the image's own object
    truth = [0, 0, 1, 1, 2, 2]
    far = np.array([[np.nan, 0.10, 0.30],
                    [np.nan, 0.20, 0.05],
                    [0.40, np.nan, 0.25],
                    [0.15, np.nan, 0.00],
                    [0.35, 0.60, np.nan],
                    [0.05, 1.00, np.nan]])
    ppf = scipy.stats.norm.ppf
    # image 0 (object 0) vs distractor 1: hit rate 0.9; reverse task: images of object 1 (2, 3) choosing 0
    assert i2n_dprimes(far, truth, normalize=False)[0, 1] == pytest.approx(ppf(0.9) - ppf((0.40 + 0.15) / 2), abs=1e-12)
    # image 3 vs distractor 2: FAR 0 → Φ⁻¹(1) = ∞, clipped to 5 (the cap itself: exact)
    assert i2n_dprimes(far, truth, normalize=False)[3, 2] == 5.0
    # image 5 vs distractor 1: FAR 1 → −∞, reverse (images 2, 3 choosing 2) finite → clipped to −5
    assert i2n_dprimes(far, truth, normalize=False)[5, 1] == -5.0
    for normalize in (False, True):
        ours = i2n_dprimes(far, truth, normalize=normalize)
        expected = loop_dprimes({(i, d): far[i, d] for i in range(6) for d in range(3)}, dict(enumerate(truth)),
                                list(range(6)), list(range(3)), normalize=normalize)
        np.testing.assert_allclose(ours, [[expected[i, d] for d in range(3)] for i in range(6)], atol=1e-12)
    # normalised: the two images of an object sum to 0 per distractor
    np.testing.assert_allclose(np.nansum(i2n_dprimes(far, truth).reshape(3, 2, 3), axis=1)[[0, 0, 1, 1, 2, 2],
                                                                                          [1, 2, 0, 2, 0, 1]], 0,
                               atol=1e-12)


def test_dprime_infinity_minus_infinity_is_nan():
    truth = [0, 1]
    far = np.array([[np.nan, 1.0], [0.0, np.nan]])  # image 0 always wrong; image 1 never wrong
    d = i2n_dprimes(far, truth, normalize=False)
    assert math.isnan(d[0, 1])  # Φ⁻¹(1 − 1) − Φ⁻¹(FAR of image 1 = 0) = −∞ + ∞
    assert math.isnan(d[1, 0])  # Φ⁻¹(1 − 0) − Φ⁻¹(FAR of image 0 = 1) = ∞ − ∞
    assert np.isnan(i2n_dprimes(far, truth)).sum() == 4


def test_brainscore_halves_are_successive_list_shuffles():
    n = 11
    random_state = np.random.RandomState(0)
    for half_0, half_1 in brainscore_halves(n, n_splits=3, seed=0):
        indices = list(range(n))
        random_state.shuffle(indices)  # as Brain-Score's generate_halves, on a list
        assert half_0.tolist() == indices[:5] and half_1.tolist() == indices[5:]
    a, b = brainscore_halves(n, n_splits=2)
    assert a[0].tolist() != b[0].tolist()


# ----------------------------------------------------------------------------------------------
# i2n
# ----------------------------------------------------------------------------------------------
def loop_i2n(probabilities, model_ids, model_choices, trials, n_splits=2, seed=0):
    """Brain-Score's I2n re-done with Counters, dictionaries, list shuffles and scipy.stats.pearsonr."""
    stim, sample, dist, choice = (list(x) for x in trials)
    truth = dict(zip(stim, sample, strict=True))
    images, objects = sorted(truth), sorted(set(sample) | set(dist))
    p = {(i, c): float(probabilities[r][k]) for r, i in enumerate(model_ids) for k, c in enumerate(model_choices)}
    model_far = {(i, d): math.nan if d == truth[i] else p[i, d] / (p[i, d] + p[i, truth[i]])
                 for i in images for d in objects}
    model = loop_dprimes(model_far, truth, images, objects)

    def human(indices):
        chosen = Counter((stim[k], choice[k]) for k in indices)
        offered = Counter((stim[k], dist[k]) for k in indices)
        far = {(i, d): chosen[i, d] / offered[i, d] if d != truth[i] and offered[i, d] else math.nan
               for i in images for d in objects}
        return loop_dprimes(far, truth, images, objects)

    def correlate(source, target):
        keys = [key for key in sorted(target) if not math.isnan(target[key])]
        return scipy.stats.pearsonr([source[k] for k in keys], [target[k] for k in keys])[0]

    random_state = np.random.RandomState(seed)
    raw, ceiling = [], []
    for _ in range(n_splits):
        order = list(range(len(stim)))
        random_state.shuffle(order)
        half_0, half_1 = human(order[: len(order) // 2]), human(order[len(order) // 2 :])
        raw.append(correlate(model, half_0))
        ceiling.append(correlate(half_0, half_1))
    return np.array(raw), np.array(ceiling)


def make_experiment(rng, n_objects=4, images_per_object=3, trials_per_cell=(16, 24)):
    """Random model probabilities (rows and columns shuffled) and 2AFC trials over every image × distractor."""
    objects = np.array([f"obj{k}" for k in range(n_objects)])
    truth = np.repeat(np.arange(n_objects), images_per_object)
    n_images = len(truth)
    ids = np.array([f"img{i:02d}" for i in range(n_images)])
    true_far = rng.uniform(0.02, 0.5, size=(n_images, n_objects))
    cells = [(i, d) for i in range(n_images) for d in range(n_objects) if d != truth[i]]
    per_cell = rng.integers(*trials_per_cell, size=len(cells))
    image = np.repeat([i for i, _ in cells], per_cell)
    distractor = np.repeat([d for _, d in cells], per_cell)
    order = rng.permutation(len(image))
    image, distractor = image[order], distractor[order]
    chose = rng.random(len(image)) < true_far[image, distractor]
    trials = TwoAfcTrials(stimulus_id=ids[image], sample_obj=objects[truth[image]], dist_obj=objects[distractor],
                          choice=np.where(chose, objects[distractor], objects[truth[image]]))
    probabilities = rng.dirichlet(np.ones(n_objects), size=n_images) * 0.5
    probabilities[np.arange(n_images), truth] += 0.5
    rows, cols = rng.permutation(n_images), rng.permutation(n_objects)
    return probabilities[np.ix_(rows, cols)], ids[rows], objects[cols], trials


@pytest.mark.parametrize("seed", [0, 1])
def test_i2n_matches_loop_reimplementation(seed):
    probabilities, ids, choices, trials = make_experiment(np.random.default_rng(seed))
    result = i2n(probabilities, ids, choices, trials)
    raw, ceiling = loop_i2n(probabilities, ids, choices,
                            (trials.stimulus_id, trials.sample_obj, trials.dist_obj, trials.choice))
    np.testing.assert_allclose(result.split_raw, raw, atol=1e-12)
    np.testing.assert_allclose(result.split_ceiling, ceiling, atol=1e-12)
    assert result.raw == pytest.approx(raw.mean(), abs=1e-12)
    assert result.brainscore_raw_error == pytest.approx(raw.std(), abs=1e-12)  # Brain-Score's: ddof=0, no √n
    assert result.raw_error == pytest.approx(raw.std(ddof=1) / np.sqrt(len(raw)), abs=1e-12)
    assert result.ceiling == pytest.approx(ceiling.mean(), abs=1e-12)
    assert result.ceiled == pytest.approx(np.mean(raw / np.sqrt(ceiling)), abs=1e-12)
    # brainbench's error: SEM (ddof=1) of the per-split ceiled r / √ceiling.
    assert result.error == pytest.approx(scipy.stats.sem(raw / np.sqrt(ceiling)), abs=1e-12)
    assert result.split_cells.tolist() == [12 * 3] * 2
    mean, per_split = i2n_ceiling(trials)
    # Exact: i2n computes its ceiling with the same function on the same trials.
    assert mean == result.ceiling and per_split.tolist() == result.split_ceiling.tolist()
    # the halves matter: another seed gives other numbers
    assert i2n(probabilities, ids, choices, trials, seed=1).raw != pytest.approx(result.raw, abs=1e-6)


def test_i2n_split_ceiling_that_is_not_positive_is_one_sentence():
    """Humans who pick the distractor at random (30 %): their halves do not agree (seed 0: split ceilings 0.28 and
    −0.038 by the loop reimplementation), so r / √ceiling is undefined in split 1."""
    rng = np.random.default_rng(0)
    probabilities, ids, choices, trials = make_experiment(rng)
    choice = np.where(rng.random(len(trials.choice)) < 0.3, trials.dist_obj, trials.sample_obj)
    random = TwoAfcTrials(trials.stimulus_id, trials.sample_obj, trials.dist_obj, choice)
    _, ceiling = loop_i2n(probabilities, ids, choices, tuple(vars(random).values()))
    assert ceiling[0] > 0 > ceiling[1]
    with pytest.raises(BrainbenchError, match=r"^Benchmark B: the noise ceiling of human trials \(split 1 of 2\) is "
                                              r"-0.038 \(≤ 0\): the two random halves of its trials do not agree"):
        i2n(probabilities, ids, choices, random, scored="Benchmark B", data="human trials")


def test_i2n_known_answer_when_halves_cannot_differ():
    """Every trial of a cell has the same outcome, so both halves see the full data's rates: the human d′
    pattern is the same in every half, the ceiling is exactly 1, and raw is r(model, full-data human d′)."""
    rng = np.random.default_rng(3)
    n_objects, per_object = 3, 4
    objects = np.array(["a", "b", "c"])
    truth = np.repeat(np.arange(n_objects), per_object)
    ids = np.array([f"s{i}" for i in range(len(truth))])
    outcome = rng.random((len(truth), n_objects)) < 0.3  # cell always chose the distractor
    # image 0 (of a) is always wrong against b, no image of b is ever wrong against a: its d′ is
    # Φ⁻¹(0) − Φ⁻¹(0) = NaN, a cell i2n must drop; the other images of a are never wrong against b
    outcome[truth == 0, 1] = [True, False, False, False]
    outcome[truth == 1, 0] = False
    stim, sample, dist, choice = [], [], [], []
    for i, d in itertools.product(range(len(truth)), range(n_objects)):
        if d != truth[i]:
            for _ in range(20):
                stim.append(ids[i])
                sample.append(objects[truth[i]])
                dist.append(objects[d])
                choice.append(objects[d] if outcome[i, d] else objects[truth[i]])
    order = rng.permutation(len(stim))
    trials = TwoAfcTrials(*(np.array(x)[order] for x in (stim, sample, dist, choice)))
    probabilities = rng.dirichlet(np.ones(n_objects), size=len(truth))

    human_far = {(ids[i], objects[d]): math.nan if d == truth[i] else float(outcome[i, d])
                 for i in range(len(truth)) for d in range(n_objects)}
    image_truth = {ids[i]: objects[truth[i]] for i in range(len(truth))}
    human = loop_dprimes(human_far, image_truth, list(ids), list(objects))
    model_far = {(ids[i], objects[d]): math.nan if d == truth[i] else
                 probabilities[i, d] / (probabilities[i, d] + probabilities[i, truth[i]])
                 for i in range(len(truth)) for d in range(n_objects)}
    model = loop_dprimes(model_far, image_truth, list(ids), list(objects))
    keys = [k for k in human if not math.isnan(human[k])]
    assert len(keys) == len(truth) * (n_objects - 1) - 1  # the NaN cell is dropped
    expected = scipy.stats.pearsonr([model[k] for k in keys], [human[k] for k in keys])[0]

    result = i2n(probabilities, ids, objects, trials, n_splits=3)
    np.testing.assert_allclose(result.split_ceiling, 1.0, atol=1e-12)
    np.testing.assert_allclose(result.split_raw, expected, atol=1e-12)
    assert result.ceiled == pytest.approx(expected, abs=1e-12)
    assert result.split_cells.tolist() == [len(keys)] * 3


def test_i2n_too_few_trials_per_cell():
    probabilities, ids, choices, trials = make_experiment(np.random.default_rng(0))
    # drop all but one trial of the first trial's cell: that cell is missing from one half of every split
    cell = (trials.stimulus_id == trials.stimulus_id[0]) & (trials.dist_obj == trials.dist_obj[0])
    keep = ~cell
    keep[0] = True
    thin = TwoAfcTrials(*(np.asarray(x)[keep] for x in (trials.stimulus_id, trials.sample_obj, trials.dist_obj,
                                                        trials.choice)))
    with pytest.raises(BrainbenchError, match=r"1 image × distractor cells have no trial in half [01] of split 0"):
        i2n(probabilities, ids, choices, thin)
    with pytest.raises(BrainbenchError, match="at least one trial per cell in each random half"):
        i2n_ceiling(thin)


def test_i2n_input_errors():
    probabilities, ids, choices, trials = make_experiment(np.random.default_rng(0))
    with pytest.raises(BrainbenchError, match="images of the human trials are missing from model_stimulus_ids"):
        i2n(probabilities[1:], ids[1:], choices, trials)
    with pytest.raises(BrainbenchError, match="objects of the human trials are missing from model_choices"):
        i2n(probabilities[:, 1:], ids, choices[1:], trials)
    bad = TwoAfcTrials(trials.stimulus_id, trials.sample_obj, trials.dist_obj,
                       np.where(np.arange(len(trials.choice)) == 5, "obj9", trials.choice))
    with pytest.raises(BrainbenchError, match="Trial 5 chose 'obj9'"):
        i2n(probabilities, ids, choices, bad)
    relabelled = np.where(np.arange(len(trials.choice)) == 3, "obj9", trials.sample_obj)
    chose_distractor = np.where(np.arange(len(trials.choice)) == 3, trials.dist_obj, trials.choice)
    bad = TwoAfcTrials(trials.stimulus_id, relabelled, trials.dist_obj, chose_distractor)
    with pytest.raises(BrainbenchError, match="shown with more than one sample_obj"):
        i2n_ceiling(bad)
    bad = TwoAfcTrials(trials.stimulus_id, trials.sample_obj, trials.sample_obj, trials.choice)
    with pytest.raises(BrainbenchError, match="same object as sample and distractor"):
        i2n_ceiling(bad)


def test_i2n_undefined_model_dprimes():
    probabilities, ids, choices, trials = make_experiment(np.random.default_rng(0))
    row = int(np.flatnonzero(ids == trials.stimulus_id[0])[0])
    zero = probabilities.copy()
    zero[row, choices == trials.sample_obj[0]] = 0.0  # p(t) = p(d) = 0 → 0/0 for one cell the humans define
    zero[row, choices == trials.dist_obj[0]] = 0.0
    with pytest.raises(BrainbenchError, match=r"The model .* undefined d′ for 1 image × distractor cells"):
        i2n(zero, ids, choices, trials)
    uniform = np.full_like(probabilities, 1 / probabilities.shape[1])  # every FAR 0.5 → every d′ 0
    with pytest.raises(BrainbenchError, match="constant d′ pattern"):
        i2n(uniform, ids, choices, trials)
