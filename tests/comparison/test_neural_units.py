"""Neural per-unit results: what a neural record stores, how exactly the score is rebuilt from it, the paired test's
refusals, and the two-factor variance correction against its closed form."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from neural_world import score as score_model
from neural_world import spec, world
from scipy.stats import norm, pearsonr
from sklearn.cross_decomposition import PLSRegression

from brainbench.benchmarks.kinds import ModelProbe, run_neural_kind
from brainbench.benchmarks.neural import neural_units
from brainbench.comparison.estimate import UNIT_TESTS, UnitsMismatch, unit_test
from brainbench.comparison.neural_test import _weighted_r, ceiled_score, neural_paired_test, split_r
from brainbench.comparison.resampling import resample_counts, two_factor_estimate, two_factor_variance
from brainbench.leaderboard.units import decode_units, encode_units
from brainbench.metrics.predictivity import layers_predictivity, regression_input
from brainbench.metrics.splits import brainscore_splits


@pytest.fixture(scope="module")
def pair():
    torch.set_num_threads(1)  # small problems: threads only contend on a shared machine
    dataset, features, ids = world(7, {"a": 1.0, "b": 2.0})
    return score_model(dataset, features["a"], ids, "a"), score_model(dataset, features["b"], ids, "b")


def unresampled(record) -> float:
    responses = record.units["responses"].astype(np.float64)
    n, q = responses.shape
    r = split_r(record, responses, record.units["test_index"], np.ones((1, n), np.int64))
    return float(ceiled_score(record, r, np.arange(q)[None])[0])


def test_kept_predictions_are_sklearns_and_give_the_per_neuroid_r() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((60, 12)), rng.standard_normal((60, 5))
    splits = brainscore_splits(60, 4, 0.9)
    result = layers_predictivity([regression_input(torch.from_numpy(x))], torch.from_numpy(y), splits, "pls", 3,
                                 keep_predictions=True)
    assert result.predictions.shape == (1, 4, 6, 5)
    for s, (train, test) in enumerate(splits):
        expected = PLSRegression(n_components=3, scale=False).fit(x[train], y[train]).predict(x[test])
        # float64 on both sides; scikit-learn's NIPALS and brainbench's solver agree to rounding (1e-8 relative)
        np.testing.assert_allclose(result.predictions[0, s].numpy(), expected, rtol=1e-6, atol=1e-8)
        r = [pearsonr(expected[:, j], y[test, j])[0] for j in range(5)]
        np.testing.assert_allclose(result.per_neuroid[0, s].numpy(), r, atol=1e-6)


def test_weighted_r_is_pearson_on_the_repeated_stimuli() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((15, 3)), rng.standard_normal((15, 3))
    weights = resample_counts(rng, 15, 4)
    got = _weighted_r(x, y, weights)
    for b, w in enumerate(weights):
        rows = np.repeat(np.arange(15), w)
        # two float64 routes (sums of weighted products vs scipy's centred sums): rounding only
        np.testing.assert_allclose(got[b], [pearsonr(x[rows, j], y[rows, j])[0] for j in range(3)], atol=1e-12)
    assert np.isnan(_weighted_r(x, y, np.eye(15, dtype=np.int64)[:1] * 15)).all()  # one stimulus drawn: no r


def test_a_neural_record_stores_its_units_and_they_rebuild_its_score(pair) -> None:
    first, _ = pair
    units = first.units
    assert first.details["unit_test"] == "neural" and len(first.details["units_stimuli"]) == 64
    assert units["test_index"].dtype == np.int32 and units["test_index"].shape == (10, 20)
    assert units["predictions"].dtype == np.float16 and units["predictions"].shape == (10, 20, 40)
    assert units["responses"].dtype == np.float16 and units["responses"].shape == (200, 40)
    assert np.array_equal(units["test_index"], np.stack([t for _, t in brainscore_splits(200, 10, 0.9)]))
    # Rebuilt from the float16 units, the score is the recorded one: standardising keeps each split's r, float16
    # rounding moves each value by ≤ 2⁻¹¹ of it, which moves the ceiled score by < 1e-3 (measured: ~1e-4).
    assert unresampled(first) == pytest.approx(first.ceiled, abs=1e-3)
    assert_same = decode_units(encode_units(units))
    assert all(np.array_equal(assert_same[k], units[k]) for k in units)


def test_float16_units_move_r_by_less_than_1e_3() -> None:
    """The error float16 storage causes on r, measured: the r of stored (standardised float16) predictions and
    responses against scipy's r of the float64 values."""
    rng = np.random.default_rng(3)
    n, q = 3200, 168
    responses = rng.standard_normal((n, q)) * 30 + 100  # firing-rate-like scale: standardising keeps float16 exact
    splits = brainscore_splits(n, 10, 0.9)
    predictions = np.stack([0.5 * responses[t] + 20 * rng.standard_normal((len(t), q)) for _, t in splits])
    units = neural_units(splits, predictions, responses)
    worst = 0.0
    for s, (_, test) in enumerate(splits):
        stored = _weighted_r(units["predictions"][s].astype(np.float64),
                             units["responses"][test].astype(np.float64), np.ones((1, len(test))))[0]
        exact = np.array([pearsonr(predictions[s][:, j], responses[test, j])[0] for j in range(q)])
        worst = max(worst, float(np.abs(stored - exact).max()))
    assert worst < 1e-3


def test_the_same_records_differ_by_nothing(pair) -> None:
    first, _ = pair
    estimate = neural_paired_test(first, first, 200, 0)
    assert (estimate.difference, estimate.ci_low, estimate.ci_high, estimate.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert estimate.level == "units" and "200 stimuli and 40 neuroids" in estimate.method


def test_registered_and_deterministic_for_a_seed(pair) -> None:
    first, other = pair
    assert UNIT_TESTS["neural"] == "brainbench.comparison.neural_test:neural_paired_test"
    once, again = unit_test("neural")(first, other, 300, 5), neural_paired_test(first, other, 300, 5)
    assert once == again
    assert once.difference == pytest.approx(other.ceiled - first.ceiled, abs=1e-15)
    assert once.ci_low < once.difference < once.ci_high


def _changed(record, **units):
    return dataclasses.replace(record, units={**record.units, **units})


@pytest.mark.parametrize("change, why", [
    (lambda r: dataclasses.replace(r, units={}), "holds no per-stimulus predictions"),
    (lambda r: dataclasses.replace(r, details={**r.details, "units_stimuli": "0" * 64}), "other stimuli"),
    (lambda r: _changed(r, test_index=np.roll(r.units["test_index"], 1, axis=0)), "other cross-validation splits"),
    (lambda r: _changed(r, responses=r.units["responses"][:, ::-1].copy()), "other responses"),
    (lambda r: _changed(r, responses=r.units["responses"][:, :5], predictions=r.units["predictions"][..., :5]),
     "other neuroids"),
    (lambda r: dataclasses.replace(r, ceiling=r.ceiling * 1.01), "other ceilings"),
    (lambda r: _changed(r, predictions=r.units["predictions"][:, :3]), "inconsistent"),
])
def test_records_that_do_not_line_up_are_one_sentence(pair, change, why) -> None:
    first, other = pair
    with pytest.raises(UnitsMismatch, match=why):
        neural_paired_test(first, change(other), 50, 0)


def test_two_factor_correction_recovers_the_sampling_variance_of_a_crossed_mean() -> None:
    """y_ij = a_i + b_j + e_ij over n stimuli × m neuroids; the statistic is the grand mean, whose sampling variance
    is σa²/n + σb²/m + σe²/(nm) (closed form). The plain two-factor bootstrap overstates it by ~2σe²/(nm); the
    corrected variance, averaged over 300 data sets, is within 10 % of the closed form (Monte-Carlo error: ~4 %)."""
    rng = np.random.default_rng(4)
    n, m, sa, sb, se = 30, 20, 1.0, 1.0, 4.0
    truth = sa**2 / n + sb**2 / m + se**2 / (n * m)
    plain, corrected = [], []
    for _ in range(300):
        y = sa * rng.standard_normal((n, 1)) + sb * rng.standard_normal((1, m)) + se * rng.standard_normal((n, m))
        rows, cols = resample_counts(rng, n, 400) / n, resample_counts(rng, m, 400) / m  # weights summing to 1
        both = np.einsum("bi,ij,bj->b", rows, y, cols)
        stimuli, neuroids = rows @ y.mean(1), cols @ y.mean(0)
        plain.append(both.var(ddof=1))
        corrected.append(two_factor_variance(both.var(ddof=1), stimuli.var(ddof=1), neuroids.var(ddof=1)))
    assert np.mean(corrected) == pytest.approx(truth, rel=0.1)
    assert np.mean(plain) > 1.2 * truth


def test_a_layer_profile_keeps_no_predictions() -> None:
    """`brainbench layers` (profile=True) writes no record, so it keeps no per-unit results (no L × splits × test ×
    neuroids predictions in memory)."""
    dataset, features, ids = world(8, {"a": 1.0})
    row = {s: i for i, s in enumerate(ids)}

    def kernels(stimuli, degrees, layers):
        index = [row[s] for s in stimuli.stimulus_ids]
        return {layer: regression_input(torch.from_numpy(features["a"][index])) for layer in layers}

    probe = ModelProbe(["l1", "l2"], torch.device("cpu"), lambda *a: {}, kernels, dict)
    assert run_neural_kind(spec(), dataset, probe, profile=True).units == {}
    assert set(run_neural_kind(spec(), dataset, probe).units) == {"test_index", "predictions", "responses"}


def test_two_factor_estimate_is_the_normal_interval_and_p_of_the_corrected_se() -> None:
    rng = np.random.default_rng(9)
    both, stimuli, neuroids = (rng.normal(0, sd, 500) for sd in (0.05, 0.03, 0.03))
    stimuli[3] = np.nan  # a resample without a finite score is left out of its variance
    se = np.sqrt(2 * np.nanvar(stimuli, ddof=1) + 2 * neuroids.var(ddof=1) - both.var(ddof=1))
    estimate = two_factor_estimate(0.05, both, stimuli, neuroids, "m")
    # scipy's normal quantile and tail against math.erfc and statistics.NormalDist: rounding only
    assert estimate.p_value == pytest.approx(2 * norm.sf(0.05 / se), rel=1e-9)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((0.05 - norm.ppf(0.975) * se,
                                                                 0.05 + norm.ppf(0.975) * se), rel=1e-9)
    with pytest.raises(ValueError, match="finite"):
        two_factor_estimate(0.0, np.full(5, np.nan), stimuli, neuroids, "m")
