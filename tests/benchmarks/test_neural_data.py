"""Preparing neural assemblies: repetition averaging, first-appearance order, time bins, regions."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from brainbench.benchmarks.neural import neural_data, select_region, select_time_bin
from brainbench.errors import BrainbenchError


def _assembly(seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    stimuli = ["s3", "s1", "s2", "s3", "s1", "s2", "s1"]
    reps = [0, 0, 0, 1, 1, 1, 2]
    values = rng.standard_normal((len(stimuli), 4))
    return xr.DataArray(
        values, dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", stimuli), "repetition": ("presentation", reps),
                "object_name": ("presentation", ["b", "a", "a", "b", "a", "a", "a"]),
                "neuroid_id": ("neuroid", list("wxyz")), "region": ("neuroid", ["V4", "IT", "V4", "IT"])},
    )


def test_repetitions_are_averaged_in_brainscore_order():
    """Brain-Score's group-by sorts stimuli by their presentation coordinates (stimulus_id first here)."""
    assembly = _assembly()
    data = neural_data(assembly, stratify="object_name")
    assert data.stimulus_ids == ["s1", "s2", "s3"]
    values = assembly.values
    expected = np.stack([values[[1, 4, 6]].mean(0), values[[2, 5]].mean(0), values[[0, 3]].mean(0)])
    np.testing.assert_allclose(data.responses.numpy(), expected)
    assert data.strata == ["a", "a", "b"]
    assert data.repetition_values == [0, 1, 2]
    reps = data.repetitions.numpy()
    assert reps.shape == (3, 3, 4)
    np.testing.assert_allclose(reps[2, 0], values[6])  # s1's third trial
    assert np.isnan(reps[2, 1]).all() and np.isnan(reps[2, 2]).all()  # s2 and s3 have no third trial


def test_order_follows_the_first_presentation_coordinate():
    assembly = _assembly()
    ids = ("presentation", assembly.stimulus_id.values)
    reordered = assembly.drop_vars("stimulus_id").assign_coords(stimulus_id=ids)
    # object_name now precedes stimulus_id: sorted by (object_name, stimulus_id)
    assert neural_data(reordered).stimulus_ids == ["s1", "s2", "s3"]
    flipped = assembly.assign_coords(object_name=("presentation", ["a", "b", "b", "a", "b", "b", "b"]))
    flipped = flipped.drop_vars("stimulus_id").assign_coords(stimulus_id=ids)
    assert neural_data(flipped).stimulus_ids == ["s3", "s1", "s2"]


def test_alternate_halves_relabel_trials_even_odd():
    data = neural_data(_assembly(), alternate_halves=True)
    values = _assembly().values
    assert data.repetition_values == [0, 1]
    np.testing.assert_allclose(data.repetitions.numpy()[0, 0], values[[1, 6]].mean(0))  # s1: trials 0 and 2


def test_bad_assemblies_are_clear_errors():
    assembly = _assembly()
    bad = assembly.copy(deep=True)
    bad.values[0, 0] = np.nan
    with pytest.raises(BrainbenchError, match="NaN"):
        neural_data(bad)
    with pytest.raises(BrainbenchError, match="stratify"):
        neural_data(assembly, stratify="texture_type")
    with pytest.raises(BrainbenchError, match="'presentation' dimension"):
        neural_data(assembly.rename(presentation="trial"))
    with pytest.raises(BrainbenchError, match="stimulus_id"):
        neural_data(assembly.drop_vars("stimulus_id"))


def test_single_repetition_has_no_repetition_stack():
    assembly = _assembly().isel(presentation=[0, 1, 2])
    assert neural_data(assembly).repetitions is None


def test_region_and_time_selection():
    assembly = _assembly()
    assert list(select_region(assembly, "V4").neuroid_id.values) == ["w", "y"]
    with pytest.raises(BrainbenchError, match="no neuroids of region V1"):
        select_region(assembly, "V1")
    bins = xr.concat([assembly, assembly * 2, assembly * 4], dim="time_bin").assign_coords(
        time_bin_start=("time_bin", [50, 51, 70]), time_bin_end=("time_bin", [51, 52, 170]))
    np.testing.assert_allclose(select_time_bin(bins, time_bin=[70, 170]).values, assembly.values * 4)
    np.testing.assert_allclose(select_time_bin(bins, time_window=[50, 60]).values, assembly.values * 1.5)
    with pytest.raises(BrainbenchError, match="several time bins"):
        select_time_bin(bins)
    with pytest.raises(BrainbenchError, match="no time bin 0–10"):
        select_time_bin(bins, time_bin=[0, 10])
