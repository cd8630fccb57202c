"""Files brainbench writes for the user (Brain-Score-format assemblies and stimulus sets) get the mode the user's
umask gives a new file, as the caches do (issue 14 item 10): a temporary file's private 0600 made an export
unreadable to colleagues."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from brainbench.data.brainscore_format import write_assembly, write_stimulus_set
from brainbench.data.stimuli import StimulusSet


@pytest.fixture(params=[0o022, 0o002, 0o077], ids=["umask022", "umask002", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_written_assembly_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    assembly = xr.DataArray(np.arange(6.0).reshape(3, 2), dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", ["a", "b", "c"]),
                                    "neuroid_id": ("neuroid", ["n0", "n1"])})
    write_assembly(assembly, tmp_path / "features.nc")
    assert mode(tmp_path / "features.nc") == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.nc"]


def test_written_stimulus_set_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    stimuli = StimulusSet("s", pd.DataFrame({"category": ["x", "y"]}, index=pd.Index(["a", "b"], name="stimulus_id")),
                          lambda stimulus_id: Image.new("RGB", (4, 4), (10, 20, 30)))
    write_stimulus_set(stimuli, tmp_path / "s.csv", tmp_path / "s.zip")
    assert (mode(tmp_path / "s.csv"), mode(tmp_path / "s.zip")) == (0o666 & ~umask,) * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.zip"]
