"""Files brainbench writes for the user (Brain-Score-format assemblies and stimulus sets) get the mode the user's
umask gives a new file, as the caches do (issue 14 item 10): a temporary file's private 0600 made an export
unreadable to colleagues."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from brainbench.data.brainscore_format import write_assembly, write_stimulus_set
from brainbench.data.stimuli import StimulusSet


def _assembly(path: Path) -> list[Path]:
    write_assembly(xr.DataArray(np.arange(6.0).reshape(3, 2), dims=("presentation", "neuroid"),
                                coords={"stimulus_id": ("presentation", ["a", "b", "c"]),
                                        "neuroid_id": ("neuroid", ["n0", "n1"])}), path / "features.nc")
    return [path / "features.nc"]


def _stimulus_set(path: Path) -> list[Path]:
    metadata = pd.DataFrame({"category": ["x", "y"]}, index=pd.Index(["a", "b"], name="stimulus_id"))
    write_stimulus_set(StimulusSet("s", metadata, lambda stimulus_id: Image.new("RGB", (4, 4), (10, 20, 30))),
                       path / "s.csv", path / "s.zip")
    return [path / "s.csv", path / "s.zip"]


@pytest.mark.parametrize("write", [_assembly, _stimulus_set])
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_get_the_umask_mode_and_nothing_else_is_left(tmp_path: Path, write, umask: int) -> None:
    previous = os.umask(umask)
    try:
        written = write(tmp_path)
    finally:
        os.umask(previous)
    assert [oct(p.stat().st_mode & 0o777) for p in written] == [oct(0o666 & ~umask)] * len(written)
    assert sorted(tmp_path.iterdir()) == sorted(written)
