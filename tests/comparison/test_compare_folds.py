"""The fold-level paired test against scipy.stats: a paired t-test, with Nadeau & Bengio's variance correction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from compare_records import error_consistency_details, neural_details, record, rsa_details
from scipy import stats

from brainbench.comparison.folds import fold_test
from brainbench.errors import BrainbenchError

# Tolerance for values from the same formula computed two ways (Python sums vs scipy's): rounding only.
CLOSE = {"rel": 1e-9, "abs": 1e-12}


def _fold_values(seed: int, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    first = 0.5 + 0.05 * rng.standard_normal(n)
    return first, first + shift + 0.02 * rng.standard_normal(n)


def test_observers_give_scipys_paired_t_test() -> None:
    first, other = _fold_values(0, 12, 0.03)
    observers = [f"subject-{i:02d}" for i in range(12)]
    ceiling = 0.4
    a = record("alexnet", "Geirhos2019.error_consistency", float(first.mean()), ceiling=ceiling, region="behavior",
               details=error_consistency_details(dict(zip(observers, (first * ceiling).tolist(), strict=True))))
    b = record("resnet", "Geirhos2019.error_consistency", float(other.mean()), ceiling=ceiling, region="behavior",
               details=error_consistency_details(dict(zip(observers, (other * ceiling).tolist(), strict=True))))
    estimate = fold_test(a, b)
    reference = stats.ttest_rel(other, first)
    interval = reference.confidence_interval(0.95)
    assert estimate.level == "folds"
    assert estimate.difference == pytest.approx(float(other.mean() - first.mean()), **CLOSE)
    assert estimate.p_value == pytest.approx(reference.pvalue, **CLOSE)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((interval.low, interval.high), **CLOSE)
    assert "only fold-level error was available" in estimate.method


@pytest.mark.parametrize(("n_splits", "train_size"), [(10, 0.9)])
def test_neural_splits_are_corrected_for_overlapping_training_sets(n_splits: int, train_size: float) -> None:
    first, other = _fold_values(1, n_splits, 0.01)
    a = record("alexnet", "Cowley2023.V4-pls", float(first.mean()), region="V4", details=neural_details(first))
    b = record("resnet", "Cowley2023.V4-pls", float(other.mean()), region="V4", details=neural_details(other))
    estimate = fold_test(a, b)
    # Nadeau & Bengio (2003): the plain paired t statistic (SE s/√J) divided by √(1 + J·n_test/n_train).
    plain = stats.ttest_rel(other, first)
    corrected = plain.statistic / math.sqrt(1 + n_splits * (1 - train_size) / train_size)
    assert estimate.p_value == pytest.approx(2 * stats.t.sf(abs(corrected), n_splits - 1), **CLOSE)
    assert estimate.p_value > plain.pvalue  # the correction can only widen
    half = stats.t.ppf(0.975, n_splits - 1) * (other - first).std(ddof=1) * math.sqrt(
        1 / n_splits + (1 - train_size) / train_size)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((estimate.difference - half,
                                                                 estimate.difference + half), **CLOSE)
    assert "Nadeau & Bengio 2003" in estimate.method


def test_halvings_use_a_test_to_train_ratio_of_one() -> None:
    first, other = _fold_values(2, 20, 0.05)  # 10 halvings × 2 directions
    a = record("alexnet", "Kiani2007.IT-rsa", float(first.mean()), details=rsa_details(first))
    b = record("resnet", "Kiani2007.IT-rsa", float(other.mean()), details=rsa_details(other))
    estimate = fold_test(a, b)
    corrected = stats.ttest_rel(other, first).statistic / math.sqrt(1 + 20 * 1.0)
    assert estimate.p_value == pytest.approx(2 * stats.t.sf(abs(corrected), 19), **CLOSE)
    assert "Bouckaert & Frank 2004" in estimate.method


def test_a_clear_difference_is_significant_and_none_is_not() -> None:
    first, other = _fold_values(3, 20, 0.2)
    a = record("alexnet", "Kiani2007.IT-rsa", float(first.mean()), details=rsa_details(first))
    assert fold_test(a, record("resnet", "Kiani2007.IT-rsa", float(other.mean()),
                               details=rsa_details(other))).p_value < 0.001
    same = fold_test(a, record("resnet", "Kiani2007.IT-rsa", float(first.mean()), details=rsa_details(first)))
    assert same.difference == 0 and same.p_value == 1.0


@pytest.mark.parametrize(("change", "said"), [
    ({"split_seed": 1}, "split seed"),
    ({"fold_ceiled": [0.5] * 10}, "halvings"),
    ({"n_stimuli": 46}, "number of stimuli"),
])
def test_folds_that_are_not_the_same_give_no_estimate(change: dict, said: str) -> None:
    values = [0.5 + 0.01 * i for i in range(20)]
    a = record("alexnet", "Kiani2007.IT-rsa", 0.6, details=rsa_details(values))
    b = record("resnet", "Kiani2007.IT-rsa", 0.6, details={**rsa_details(values), **change})
    with pytest.raises(BrainbenchError, match=said):
        fold_test(a, b)


def test_another_benchmark_version_gives_no_estimate() -> None:
    values = [0.5 + 0.01 * i for i in range(20)]
    a = record("alexnet", "Kiani2007.IT-rsa", 0.6, details=rsa_details(values))
    b = record("resnet", "Kiani2007.IT-rsa", 0.6, version=2, details=rsa_details(values))
    with pytest.raises(BrainbenchError, match="benchmark version"):
        fold_test(a, b)


def test_a_record_without_folds_says_so() -> None:
    a = record("alexnet", "Kiani2007.IT-rsa", 0.6, details={})
    b = record("resnet", "Kiani2007.IT-rsa", 0.6, details=rsa_details([0.5] * 20))
    with pytest.raises(BrainbenchError, match="No per-fold scores are recorded for 'alexnet'"):
        fold_test(a, b)
