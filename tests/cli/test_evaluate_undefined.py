"""evaluate --metric rsa: a model RDM whose distances are all equal has no rank correlation with anything; that is
one error sentence, not a score printed as '–' with exit 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr


def _rdms(path: Path, values: np.ndarray, ids: list[str], subjects: list[str] | None = None) -> Path:
    dims = ("stimulus_a", "stimulus_b") if subjects is None else ("subject", "stimulus_a", "stimulus_b")
    coords = {"stimulus_a": ids, "stimulus_b": ids, **({"subject": subjects} if subjects else {})}
    xr.DataArray(values, dims=dims, coords=coords).to_dataset(name="data").to_netcdf(path)
    return path


def test_a_constant_model_rdm_is_refused(cli, tmp_path: Path) -> None:
    ids = [f"s{i}" for i in range(5)]
    rng = np.random.default_rng(0)
    halves = rng.random((3, 5, 5))
    target = _rdms(tmp_path / "t.nc", (halves + halves.transpose(0, 2, 1)) * (1 - np.eye(5)), ids, ["a", "b", "c"])
    model = _rdms(tmp_path / "m.nc", 1 - np.eye(5), ids)  # every distance 1: Spearman's ρ is 0/0
    result = cli("evaluate", "--metric", "rsa", "--rdm", model, "--assembly", target)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: The spearman comparison is undefined for 3 of the target's 3 RDM(s)")
    assert result.stdout == ""
