"""`brainbench evaluate` on files in Brain-Score's layout, against scikit-learn and numpy computed here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import pearsonr, sem
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

N_STIMULI, N_REPS, N_NEUROIDS, N_FEATURES, N_OBJECTS = 120, 4, 12, 40, 6


def _write(da: xr.DataArray, path: Path, legacy: bool = False) -> Path:
    """As brainio writes: MultiIndex levels reset to plain coordinates, one data variable."""
    da = da.reset_index([d for d in da.dims if d in da.indexes], drop=False)
    if legacy:
        da.to_netcdf(path)  # `__xarray_dataarray_variable__`
    else:
        da.to_dataset(name="data").to_netcdf(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, object]:
    rng = np.random.default_rng(0)
    ids = [f"img{i:04d}" for i in rng.permutation(N_STIMULI)]  # ids not in sorted order
    objects = [f"obj{i % N_OBJECTS}" for i in range(N_STIMULI)]
    latent = rng.standard_normal((N_STIMULI, 5))
    signal = latent @ rng.standard_normal((5, N_NEUROIDS))
    trials = signal[None] + 0.8 * rng.standard_normal((N_REPS, N_STIMULI, N_NEUROIDS))
    order = rng.permutation(N_REPS * N_STIMULI)  # presentation rows shuffled
    rep_of_row, stim_of_row = np.divmod(order, N_STIMULI)
    presentation = pd.MultiIndex.from_arrays(
        [[ids[s] for s in stim_of_row], rep_of_row, [objects[s] for s in stim_of_row]],
        names=["stimulus_id", "repetition", "object_name"])
    assembly = xr.DataArray(
        trials[rep_of_row, stim_of_row][:, :, None], dims=("presentation", "neuroid", "time_bin"),
        coords={"presentation": presentation,
                "neuroid": pd.MultiIndex.from_arrays([[f"n{i}" for i in range(N_NEUROIDS)], ["IT"] * N_NEUROIDS],
                                                     names=["neuroid_id", "region"]),
                "time_bin": pd.MultiIndex.from_arrays([[70], [170]], names=["time_bin_start", "time_bin_end"])})
    features = latent @ rng.standard_normal((5, N_FEATURES)) + 0.5 * rng.standard_normal((N_STIMULI, N_FEATURES))
    feature_rows = rng.permutation(N_STIMULI)
    feature_da = xr.DataArray(
        features[feature_rows], dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", [ids[i] for i in feature_rows]),
                "neuroid_id": ("neuroid", [f"f{i}" for i in range(N_FEATURES)])})
    return {
        "assembly": _write(assembly, tmp_path / "assembly.nc"),
        "legacy": _write(assembly.rename(stimulus_id="image_id"), tmp_path / "legacy.nc", legacy=True),
        "features": _write(feature_da, tmp_path / "features.nc"),
        "trials": trials, "ids": ids, "objects": objects, "features_array": features, "tmp": tmp_path,
        "feature_da": feature_da, "assembly_da": assembly,
    }


def _reference(files: dict) -> dict[str, object]:
    """scikit-learn PLS on Brain-Score's splits over the stimuli sorted by id; numpy split-half ceiling."""
    order = np.argsort(files["ids"])
    x, y = files["features_array"][order], files["trials"].mean(0)[order]
    strata = np.asarray(files["objects"])[order]
    splitter = StratifiedShuffleSplit(n_splits=10, train_size=0.9, random_state=1)
    medians = []
    for train, test in splitter.split(np.zeros(len(y)), strata):
        predicted = PLSRegression(n_components=25, scale=False).fit(x[train], y[train]).predict(x[test])
        medians.append(np.median([pearsonr(predicted[:, j], y[test, j])[0] for j in range(N_NEUROIDS)]))
    ceilings = []
    for half_a, half_b in ShuffleSplit(n_splits=10, train_size=0.5, random_state=1).split(np.arange(N_REPS)):
        a, b = files["trials"][half_a].mean(0), files["trials"][half_b].mean(0)
        r = np.asarray([pearsonr(a[:, j], b[:, j])[0] for j in range(N_NEUROIDS)])
        ceilings.append(np.median(2 * r / (1 + r)))
    raw, ceiling = float(np.mean(medians)), float(np.mean(ceilings))
    split_ceiled = np.sign(medians) * np.square(medians) / ceiling  # sign(r)·r²/ceiling per split
    return {"split_medians": medians, "raw": raw, "ceiling_split_medians": ceilings, "ceiling": ceiling,
            "ceiled": np.sign(raw) * raw**2 / ceiling, "error": float(sem(split_ceiled)),  # SEM (ddof=1) of the ceiled
            "raw_error": float(sem(medians)),  # SEM (ddof=1) of the raw split medians
            "brainscore_raw_error": float(np.std(medians) / np.sqrt(10))}  # Brain-Score's: std (ddof=0) / √n


def _evaluate(cli, features: Path, assembly: Path, *extra: str) -> dict:
    result = cli("evaluate", "--features", features, "--assembly", assembly, "--device", "cpu", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_evaluate_matches_sklearn_split_by_split(cli, files):
    out = _evaluate(cli, files["features"], files["assembly"], "--stratify", "object_name")
    expected = _reference(files)
    # float64 features on both sides (evaluate keeps the file's precision): the order of float64 sums over 25 PLS
    # deflations remains (8.1e-15 measured; the float32 cast evaluate once made needed 1e-3 here). 1e-10 holds on
    # any BLAS and would catch a float32 cast, a wrong split or stimulus order.
    np.testing.assert_allclose(out["split_medians"], expected["split_medians"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(out["ceiling_split_medians"], expected["ceiling_split_medians"], rtol=0, atol=1e-12)
    for key in ("raw", "ceiling", "ceiled", "error", "raw_error", "brainscore_raw_error"):
        assert out[key] == pytest.approx(expected[key], abs=1e-10), key
    assert out["ceiling_convention"] == "explained_variance" and "ddof=1" in out["error_method"]
    assert set(out) >= {"raw", "error", "raw_error", "ceiling", "ceiled", "split_medians", "split_ceiled",
                        "ceiling_split_medians", "seconds", "steps"}
    # The steps (exclusive, non-overlapping) are parts of the evaluation's wall time, the same steps that
    # bench/brainscore_reference.py times inside Brain-Score's run.
    assert set(out["steps"]) == {"data_loading", "averaging", "ceilings", "regressions"}
    assert isinstance(out["torch_threads"], int) and out["torch_threads"] >= 1  # what the automatic choice set
    assert all(v >= 0 for v in out["steps"].values()) and sum(out["steps"].values()) <= out["seconds"]


def test_legacy_layout_gives_the_same_numbers(cli, files):
    modern = _evaluate(cli, files["features"], files["assembly"], "--stratify", "object_name")
    legacy = _evaluate(cli, files["features"], files["legacy"], "--stratify", "object_name")
    # Exact: the same values in the same order through the same computation in one process.
    assert legacy["split_medians"] == modern["split_medians"] and legacy["ceiling"] == modern["ceiling"]


def test_ridge_and_table_output(cli, files):
    ridge = _evaluate(cli, files["features"], files["assembly"], "--metric", "ridge")
    assert 0 < ridge["raw"] < 1 and len(ridge["split_medians"]) == 10
    table = cli("evaluate", "--features", files["features"], "--assembly", files["assembly"], "--device", "cpu")
    assert table.exit_code == 0 and "ceiled" in table.stdout


def _one_line_error(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


def _run(cli, files, features: Path, assembly: Path, *extra: str):
    return cli("evaluate", "--features", features, "--assembly", assembly, "--device", "cpu", *extra)


def test_bad_inputs_are_one_line_errors(cli, files):
    tmp, assembly, features = files["tmp"], files["assembly_da"], files["feature_da"]
    nan = assembly.copy(deep=True)
    nan.values[0, 0, 0] = np.nan
    line = _one_line_error(_run(cli, files, files["features"], _write(nan, tmp / "nan.nc")))
    assert "NaN" in line
    line = _one_line_error(_run(cli, files, _write(features.isel(presentation=slice(1, None)), tmp / "few.nc"),
                                files["assembly"]))
    assert "lack 1" in line
    extra = xr.concat([features, features.isel(presentation=[0]).assign_coords(
        stimulus_id=("presentation", ["stranger"]))], dim="presentation")
    assert "not in the assembly" in _one_line_error(_run(cli, files, _write(extra, tmp / "extra.nc"),
                                                          files["assembly"]))
    no_dim = assembly.isel(neuroid=0, drop=True)
    assert "neuroid" in _one_line_error(_run(cli, files, files["features"], _write(no_dim, tmp / "nodim.nc")))
    assert "texture_type" in _one_line_error(_run(cli, files, files["features"], files["assembly"],
                                                  "--stratify", "texture_type"))
    garbage = tmp / "garbage.nc"
    garbage.write_bytes(b"not netcdf")
    _one_line_error(_run(cli, files, files["features"], garbage))


def test_strata_too_small_to_split(cli, files):
    assembly = files["assembly_da"]
    unique = assembly.reset_index("presentation").assign_coords(
        object_name=("presentation", [str(s) for s in assembly.stimulus_id.values]))
    line = _one_line_error(_run(cli, files, files["features"], _write(unique, files["tmp"] / "strata.nc"),
                                "--stratify", "object_name"))
    assert "splits" in line


def test_single_repetition_reports_raw_without_ceiling(cli, files):
    single = files["assembly_da"].reset_index("presentation")
    single = single.isel(presentation=np.flatnonzero(single.repetition.values == 0))
    out = _evaluate(cli, files["features"], _write(single, files["tmp"] / "single.nc"))
    assert out["ceiling"] is None and out["ceiled"] == out["raw"]
    assert "no internal-consistency ceiling" in out["notes"][0]


def _noise_files(tmp: Path, seed: int) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """The issue's pure-noise case in Brain-Score's layout: 320 stimuli × 40 neuroids × 10 repetitions whose trials
    are independent noise, and 60 noise features. Returns (features file, assembly file, trials, features)."""
    rng = np.random.default_rng(seed)
    n, q, reps = 320, 40, 10
    trials = rng.standard_normal((reps, n, q))
    features = rng.standard_normal((n, 60))
    ids = [f"img{i:04d}" for i in range(n)]  # sorted: Brain-Score's averaged order is the order of the arrays
    rep_of_row, stim_of_row = np.divmod(np.arange(reps * n), n)
    assembly = xr.DataArray(trials[rep_of_row, stim_of_row], dims=("presentation", "neuroid"),
                            coords={"stimulus_id": ("presentation", [ids[s] for s in stim_of_row]),
                                    "repetition": ("presentation", rep_of_row),
                                    "neuroid_id": ("neuroid", [f"n{j}" for j in range(q)])})
    feature_da = xr.DataArray(features, dims=("presentation", "neuroid"),
                              coords={"stimulus_id": ("presentation", ids),
                                      "neuroid_id": ("neuroid", [f"f{j}" for j in range(60)])})
    return (_write(feature_da, tmp / f"noise_features_{seed}.nc"), _write(assembly, tmp / f"noise_{seed}.nc"),
            trials, features)


def _noise_reference(trials: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, float]:
    """(split medians, ceiling) by scikit-learn and scipy as `_reference`, without strata."""
    y = trials.mean(0)
    medians = []
    for train, test in ShuffleSplit(n_splits=10, train_size=0.9, random_state=1).split(y):
        predicted = PLSRegression(n_components=25, scale=False).fit(features[train], y[train]).predict(features[test])
        medians.append(np.median([pearsonr(predicted[:, j], y[test, j])[0] for j in range(y.shape[1])]))
    ceilings = []
    for half_a, half_b in ShuffleSplit(n_splits=10, train_size=0.5, random_state=1).split(np.arange(len(trials))):
        a, b = trials[half_a].mean(0), trials[half_b].mean(0)
        r = np.asarray([pearsonr(a[:, j], b[:, j])[0] for j in range(y.shape[1])])
        ceilings.append(np.median(2 * r / (1 + r)))
    return np.asarray(medians), float(np.mean(ceilings))


def test_data_too_noisy_to_ceil_is_one_line_and_nothing_is_recorded(cli, tmp_path):
    """The issue's case: independent-noise trials gave ceiling −0.0064 and ceiled −0.178 with exit 0."""
    features, assembly, trials, x = _noise_files(tmp_path, seed=2)
    medians, ceiling = _noise_reference(trials, x)
    assert ceiling < 0 and f"{ceiling:.2g}" == "-0.0064"  # the number, by scipy
    before = sorted(tmp_path.iterdir())
    result = _run(cli, None, features, assembly, "--json")
    line = _one_line_error(result)
    assert result.exit_code == 1 and result.stdout == "" and sorted(tmp_path.iterdir()) == before
    assert line == (f"error: The evaluation of {features}: the noise ceiling of {assembly} is -0.0064 (≤ 0): its "
                    f"repetitions do not agree, so the data are too noisy to ceil; raw = {np.mean(medians):.3g} ± "
                    f"{sem(medians):.2g}. No score was recorded.")


def test_a_negative_r_stays_negative_when_ceiled(cli, tmp_path):
    """The issue's other case: raw r < 0 gave a positive ceiled score (r² loses the sign)."""
    features, assembly, trials, x = _noise_files(tmp_path, seed=1)
    medians, ceiling = _noise_reference(trials, x)
    raw = float(np.mean(medians))
    assert raw < 0 < ceiling
    out = _evaluate(cli, features, assembly)
    # float64 PLS on both sides (see test_evaluate_matches_sklearn_split_by_split): 1e-10.
    assert out["raw"] == pytest.approx(raw, abs=1e-10) and out["ceiling"] == pytest.approx(ceiling, abs=1e-12)
    assert out["ceiled"] == pytest.approx(-(raw**2) / ceiling, abs=1e-10) and out["ceiled"] < 0
