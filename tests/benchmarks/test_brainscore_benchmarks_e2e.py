"""MajajHong2015 and FreemanZiemba2013 benchmarks end to end, on small files generated in Brain-Score's layout.

The published files cannot be downloaded here; these are written in the same layout (netCDF assembly,
CSV + ZIP stimulus set) under the published file names, and the shipped manifest is pointed at their
SHA-1s. Everything else — fetch from a mirror, loader, time-bin and region selection, repetition
averaging, layer commitment on one stratified half, PLS on the other, ceiling — is the real path.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import brainbench.data as data_module
from brainbench.benchmarks.scoring import score
from brainbench.data.brainscore_format import write_assembly, write_stimulus_set
from brainbench.data.manifest import load_manifest
from brainbench.data.stimuli import in_memory_stimuli

pytestmark = pytest.mark.slow
N_OBJECTS, PER_OBJECT, REPS = 4, 20, 3


def _files(folder, manifest, stratify: str, regions: tuple[str, str], bins: list[tuple[int, int]], seed=0):
    rng = np.random.default_rng(seed)
    n = N_OBJECTS * PER_OBJECT
    ids = [f"{stratify[:3]}{i:03d}" for i in rng.permutation(n)]
    labels = [f"class{i % N_OBJECTS}" for i in range(n)]
    images = rng.integers(0, 255, size=(n, 32, 32, 3), dtype=np.uint8)
    for i, label in enumerate(labels):  # each class a colour: the responses below depend on it
        images[i, ..., int(label[-1]) % 3] //= 4
    metadata = pd.DataFrame({"stimulus_id": ids, stratify: labels}).set_index("stimulus_id")
    stimuli = in_memory_stimuli("generated", images, metadata)
    signal = images.reshape(n, -1, 3).mean(1) @ rng.standard_normal((3, 12))
    r_idx, s_idx = np.divmod(np.arange(REPS * n), n)
    trials = signal[s_idx][:, :, None] + 5 * rng.standard_normal((REPS * n, 12, len(bins)))
    assembly = xr.DataArray(
        trials, dims=("presentation", "neuroid", "time_bin"),
        coords={"stimulus_id": ("presentation", [ids[i] for i in s_idx]), "repetition": ("presentation", r_idx),
                stratify: ("presentation", [labels[i] for i in s_idx]),
                "neuroid_id": ("neuroid", [f"n{j}" for j in range(12)]),
                "region": ("neuroid", [regions[0]] * 6 + [regions[1]] * 6),
                "time_bin_start": ("time_bin", [b[0] for b in bins]),
                "time_bin_end": ("time_bin", [b[1] for b in bins])},
    )
    nc, csv, zp = (folder / f.path for f in manifest.files)
    folder.mkdir(parents=True)
    write_assembly(assembly, nc)
    write_stimulus_set(stimuli, csv, zp)
    files = tuple(dataclasses.replace(f, sha1=hashlib.sha1((folder / f.path).read_bytes()).hexdigest())
                  for f in manifest.files)
    return dataclasses.replace(manifest, files=files)


@pytest.mark.parametrize(("dataset", "benchmarks", "stratify", "regions", "bins"), [
    ("majajhong2015", ["MajajHong2015.V4-pls", "MajajHong2015.IT-pls"], "object_name", ("V4", "IT"), [(70, 170)]),
    ("freemanziemba2013", ["FreemanZiemba2013.V1-pls", "FreemanZiemba2013.V2-pls"], "texture_type", ("V1", "V2"),
     [(40, 41), (50, 51), (120, 121), (199, 200), (200, 201)]),
])
def test_brainscore_benchmark_end_to_end(home, tmp_path, monkeypatch, dataset, benchmarks, stratify, regions, bins):
    manifest = load_manifest(dataset)
    generated = _files(tmp_path / "mirror" / manifest.mirror_folder, manifest, stratify, regions, bins)
    monkeypatch.setattr(data_module, "load_manifest",
                        lambda name, definitions=(): generated if name == dataset else load_manifest(name, definitions))
    records = score("timm:resnet18", benchmarks, random_init=True, layers=["layer3.1", "layer4.1", "global_pool"],
                    data_mirrors=[tmp_path / "mirror"], save=False, device="cpu")
    for record, region in zip(records, regions, strict=True):
        details = record.details
        assert record.region == region and record.layer in {"layer3.1", "layer4.1", "global_pool"}
        assert details["n_stimuli"] == N_OBJECTS * PER_OBJECT // 2 and details["n_neuroids"] == 6
        assert "stratified half" in details["layer_selection"]
        assert len(details["split_medians"]) == 10 and record.ceiling is not None and 0 < record.ceiling <= 1
        # ceiled = sign(r)·r²/ceiling: `ceil` is checked against closed forms in tests/metrics/test_ceiling.py, and
        # the neural kind's ceiling, ceiled score and error against scipy in tests/benchmarks/test_neural_kind.py.
        assert details["ceiling_convention"] == "explained_variance" and record.error is not None
        assert (details["column"], details["column_explicit"]) == (region, False)  # ceiled: feeds its region
        assert details["dataset"]["checksums"][manifest.files[0].path] == "sha1:" + generated.files[0].sha1
