"""`evaluate`'s lean path: float32 trials kept as float32 (exact), a float64 ceiling from them, the assembly held only
until it is averaged, and the same numbers as Brain-Score's own code on the committed fixture files."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import torch
import xarray as xr
from sklearn.model_selection import ShuffleSplit

from brainbench.benchmarks.evaluate import evaluate_feature_files, evaluate_features
from brainbench.benchmarks.neural import neural_data
from brainbench.metrics.predictivity import _weighted_sum, internal_consistency

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "brainscore" / "neural"


def _trials(n_stimuli: int = 60, n_repetitions: int = 8, n_neuroids: int = 12, seed: int = 0) -> xr.DataArray:
    """A float32 assembly, one trial per repetition and stimulus, rows shuffled; reliable signal plus trial noise."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_stimuli, n_neuroids))
    values = (signal[None] + rng.standard_normal((n_repetitions, n_stimuli, n_neuroids))).astype(np.float32)
    order = rng.permutation(n_repetitions * n_stimuli)
    rep, stim = np.divmod(order, n_stimuli)
    return xr.DataArray(values.reshape(-1, n_neuroids)[order], dims=("presentation", "neuroid"),
                        coords={"stimulus_id": ("presentation", [f"s{i:04d}" for i in stim]),
                                "repetition": ("presentation", rep),
                                "object_name": ("presentation", [f"o{i % 4}" for i in stim]),
                                "neuroid_id": ("neuroid", [f"n{j}" for j in range(n_neuroids)])})


def _numpy_ceiling(trials: np.ndarray, n_splits: int = 10) -> float:
    """Brain-Score's split-half consistency in float64 numpy/scipy: trials (repetitions, stimuli, neuroids)."""
    medians = []
    for a, b in ShuffleSplit(n_splits, train_size=0.5, random_state=1).split(np.zeros(len(trials))):
        half_a, half_b = trials[a].mean(0), trials[b].mean(0)
        r = np.array([scipy.stats.pearsonr(half_a[:, j], half_b[:, j])[0] for j in range(trials.shape[2])])
        medians.append(np.median(2 * r / (1 + r)))
    return float(np.mean(medians))


def test_float32_single_trials_are_kept_exactly():
    assembly = _trials()
    data = neural_data(assembly)
    assert data.repetitions is not None and data.repetitions.dtype == torch.float32
    values = assembly.values
    for row in range(0, values.shape[0], 37):
        stimulus = data.stimulus_ids.index(str(assembly.stimulus_id.values[row]))
        # A copy without arithmetic: each cell holds its one trial bit for bit.
        np.testing.assert_array_equal(data.repetitions[int(assembly.repetition.values[row]), stimulus].numpy(),
                                      values[row])
    # The averages are still float64 sums of the float32 trials: numpy's float64 mean, to summation order.
    means = assembly.astype(np.float64).groupby("stimulus_id").mean().sel(stimulus_id=data.stimulus_ids)
    np.testing.assert_allclose(data.responses.numpy(), means.values, rtol=0, atol=1e-12)


def test_several_trials_per_repetition_are_averaged_in_float64():
    assembly = _trials()
    doubled = xr.concat([assembly, assembly + np.float32(1)], dim="presentation")
    data = neural_data(doubled)
    assert data.repetitions.dtype == torch.float64
    # Each cell is the float64 mean of its two float32 trials (numpy's, to rounding).
    row = 0
    stimulus = data.stimulus_ids.index(str(assembly.stimulus_id.values[row]))
    pair = np.stack([assembly.values[row], doubled.values[assembly.sizes["presentation"] + row]]).astype(np.float64)
    np.testing.assert_allclose(data.repetitions[int(assembly.repetition.values[row]), stimulus].numpy(),
                               pair.mean(0), rtol=0, atol=1e-12)


def test_float64_ceiling_of_float32_trials_is_numpys():
    assembly = _trials()
    data = neural_data(assembly)
    want = _numpy_ceiling(data.repetitions.numpy().astype(np.float64))
    got = internal_consistency(data.repetitions, data.repetition_values, precision=torch.float64)
    # float64 on both sides: summation order only. A float32 sum of the half means moves it by ~1e-7.
    assert got.ceiling == pytest.approx(want, abs=1e-12)
    float32 = internal_consistency(data.repetitions, data.repetition_values)
    assert float32.ceiling == pytest.approx(want, abs=1e-5)  # the default keeps the responses' float32 sums


def test_blockwise_weighted_sum_is_the_float64_product():
    rng = np.random.default_rng(3)
    weights, rows = rng.random((6, 9)), rng.standard_normal((9, 101)).astype(np.float32)
    got = _weighted_sum(torch.from_numpy(weights), torch.from_numpy(rows), block_elements=7)  # 7 // 9 → 1 column
    # float64 products of the same float32 values; a float32 product would be off by ~1e-7.
    np.testing.assert_allclose(got.numpy(), weights @ rows.astype(np.float64), rtol=0, atol=1e-13)
    got = _weighted_sum(torch.from_numpy(weights), torch.from_numpy(rows), block_elements=9 * 40)  # blocks of 40
    np.testing.assert_allclose(got.numpy(), weights @ rows.astype(np.float64), rtol=0, atol=1e-13)


def test_averaging_allocates_little_more_than_the_float32_trials():
    assembly = _trials(n_stimuli=400, n_repetitions=20, n_neuroids=100)
    trials_bytes = assembly.values.nbytes  # float32: 3.2 MB
    tracemalloc.start()
    try:
        data = neural_data(assembly)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.repetitions.dtype == torch.float32
    # The stacked float32 trials (1×) plus small per-row and per-stimulus arrays. Converting the trials to float64,
    # summing per repetition and dividing took ≥ 6× (measured 10.4×; 1.36× now).
    assert peak < 1.6 * trials_bytes


def test_evaluate_feature_files_matches_brainscore():
    theirs = json.loads((FIXTURES / "brainscore_result.json").read_text())
    ours = evaluate_feature_files(FIXTURES / "features.nc", FIXTURES / "assembly.nc", stratify="object_name",
                                  device="cpu")
    # As tests/metrics/test_brainscore_fixtures.py: float64 on both sides, summation order only (4.3e-15 measured on
    # the split medians, 2.2e-16 on the ceiling); 1e-10 and 1e-12 hold on any BLAS.
    np.testing.assert_allclose(ours.split_medians, theirs["pls"]["per_split_median"], rtol=0, atol=1e-10)
    np.testing.assert_allclose([ours.raw, ours.ceiled], [theirs["pls"]["raw"], theirs["pls"]["ceiled"]], rtol=0,
                               atol=1e-10)
    np.testing.assert_allclose(ours.ceiling_split_medians, theirs["ceiling"]["per_split_median"], rtol=0, atol=1e-12)


def test_float32_files_give_a_float64_ceiling(tmp_path: Path):
    assembly = _trials(n_stimuli=64, n_repetitions=6, n_neuroids=10, seed=1)
    rng = np.random.default_rng(2)
    ids = sorted(set(str(s) for s in assembly.stimulus_id.values))
    features = xr.DataArray(rng.standard_normal((len(ids), 30)).astype(np.float32), dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", ids), "neuroid_id": ("neuroid", np.arange(30))})
    assembly.to_netcdf(tmp_path / "assembly.nc")
    features.to_netcdf(tmp_path / "features.nc")
    from_files = evaluate_feature_files(tmp_path / "features.nc", tmp_path / "assembly.nc", stratify="object_name")
    in_memory = evaluate_features(features, assembly, stratify="object_name")
    stacked = neural_data(assembly).repetitions.numpy().astype(np.float64)
    # Both routes ceil with float64 half means of the float32 trials: numpy's float64 ceiling to summation order.
    assert from_files.ceiling == pytest.approx(_numpy_ceiling(stacked), abs=1e-12)
    assert in_memory.ceiling == pytest.approx(_numpy_ceiling(stacked), abs=1e-12)
