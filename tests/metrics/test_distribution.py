"""Binned KS similarity and histogram sampling (Marques et al. 2021) against scipy and direct counting."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from brainbench.metrics.distribution import (
    bin_index,
    binned,
    bootstrap_similarity,
    ks_similarity,
    sample_histogram,
)

EDGES = np.array([0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
COUNTS = np.array([0, 9, 30, 55, 42, 10, 2, 0])


@pytest.mark.parametrize("seed", range(5))
def test_ks_distance_is_scipy_two_sample_statistic_on_binned_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = 2 ** rng.normal(0, 1.5, 80)
    b = 2 ** rng.normal(0.5, 1.0, 120)
    p, q = binned(a, EDGES), binned(b, EDGES)
    statistic = stats.ks_2samp(bin_index(a, EDGES), bin_index(b, EDGES)).statistic
    # The normaliser: the farther of the two one-bin distributions (all mass first / last) from q.
    worst = max(stats.ks_2samp(np.zeros(1), bin_index(b, EDGES)).statistic,
                stats.ks_2samp(np.full(1, len(EDGES) - 2), bin_index(b, EDGES)).statistic)
    assert ks_similarity(p, q) == pytest.approx(1 - statistic / worst, abs=1e-12)


def test_similarity_is_one_for_equal_and_zero_for_the_farthest_distribution() -> None:
    q = COUNTS / COUNTS.sum()
    assert ks_similarity(q, q) == pytest.approx(1.0, abs=1e-15)  # distance 0 up to the rounding of the cumsums
    first, last = np.eye(len(q))[0], np.eye(len(q))[-1]
    assert min(ks_similarity(first, q), ks_similarity(last, q)) == pytest.approx(0.0, abs=1e-15)


def test_binning_clips_out_of_range_values_and_drops_nan() -> None:
    values = np.array([0.01, 0.0625, 0.1, 16.0, 100.0, np.nan])
    counts = np.histogram(np.clip(values[~np.isnan(values)], EDGES[0], EDGES[-1]), EDGES)[0]
    assert np.bincount(bin_index(values, EDGES), minlength=8).tolist() == counts.tolist()
    assert binned(values, EDGES) == pytest.approx(counts / counts.sum(), abs=1e-15)  # count/total: one division
    assert binned(np.array([np.nan]), EDGES).tolist() == [0.0] * 8


@pytest.mark.parametrize("scale", ["linear", "log2"])
def test_histogram_samples_reproduce_the_counts(scale: str) -> None:
    values = sample_histogram(EDGES, COUNTS, scale, np.random.default_rng(0))
    assert np.histogram(values, EDGES)[0].tolist() == COUNTS.tolist()
    inside_third_bin = values[(values >= 0.25) & (values < 0.5)]
    midpoint = 0.375 if scale == "linear" else 2 ** -1.5  # uniform in the value, or in its log2
    assert np.median(inside_third_bin) == pytest.approx(midpoint, rel=0.1)


def test_binary_histogram_gives_zeros_and_ones() -> None:
    values = sample_histogram(np.array([0, 0.5, 1]), np.array([42, 148]), "binary", np.random.default_rng(0))
    assert values.tolist() == [0.0] * 42 + [1.0] * 148


def test_bootstrap_matches_a_resampling_loop() -> None:
    rng = np.random.default_rng(3)
    model = 2 ** rng.normal(-0.5, 1.2, 60)
    reference = sample_histogram(EDGES, COUNTS, "log2", rng)
    ours = bootstrap_similarity(model, reference, EDGES, len(reference), 200, np.random.default_rng(7))
    # The same draws, done one resample at a time with numpy.histogram.
    draws = np.random.default_rng(7).integers(0, len(model), size=(200, len(reference)))
    q = np.histogram(reference, EDGES)[0] / len(reference)
    loop = [ks_similarity(np.histogram(np.clip(model[d], EDGES[0], EDGES[-1]), EDGES)[0] / len(reference), q)
            for d in draws]
    assert ours == pytest.approx(np.array(loop), abs=1e-12)
    assert bootstrap_similarity(np.array([np.nan]), reference, EDGES, 10, 5, rng).size == 0
