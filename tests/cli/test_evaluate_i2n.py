"""`brainbench evaluate --metric i2n` on files in Brain-Score's behavioural layout, against the metric called
directly and against a loop-and-dictionary computation of Brain-Score's i2n written here."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import norm, pearsonr

from brainbench.metrics.behavior import TwoAfcTrials, i2n

# 8 of the objectome's 24 object labels, as Brain-Score's model probabilities name them (choice coordinate).
OBJECTS = ["interior_details_130_2", "lo_poly_animal_ELE_AS1", "calc01", "womens_stockings_01M", "dromedary",
           "build51", "lo_poly_animal_TRANTULA", "MB29874"]
IMAGES_PER_OBJECT = 6
TRIALS_PER_CELL = (14, 22)


def _write(da: xr.DataArray, path: Path, legacy: bool = False) -> Path:
    """As brainio writes (plain coordinates, no MultiIndex): one data variable, `data`, or the bare DataArray's
    `__xarray_dataarray_variable__` in older files."""
    if legacy:
        da.to_netcdf(path)
    else:
        da.to_dataset(name="data").to_netcdf(path)
    return path


def _generate(seed: int = 0) -> dict[str, object]:
    """Human 2AFC trials (every image × distractor cell, shuffled) and a model that partly agrees with them."""
    rng = np.random.default_rng(seed)
    n_objects, n_images = len(OBJECTS), len(OBJECTS) * IMAGES_PER_OBJECT
    image_object = np.repeat(np.arange(n_objects), IMAGES_PER_OBJECT)
    ids = np.array([hashlib.sha1(f"objectome-{seed}-{i}".encode()).hexdigest() for i in range(n_images)])
    true_dprime = (rng.uniform(0.5, 3.0, (n_objects, n_objects))[image_object]
                   + rng.normal(0, 0.6, n_images)[:, None] + rng.normal(0, 0.5, (n_images, n_objects)))
    far = norm.cdf(-true_dprime / math.sqrt(2))
    cells = [(i, d) for i in range(n_images) for d in range(n_objects) if d != image_object[i]]
    counts = rng.integers(TRIALS_PER_CELL[0], TRIALS_PER_CELL[1] + 1, len(cells))
    image = np.repeat([i for i, _ in cells], counts)
    dist = np.repeat([d for _, d in cells], counts)
    order = rng.permutation(len(image))
    image, dist = image[order], dist[order]
    chose_distractor = rng.random(len(image)) < far[image, dist]
    objects = np.array(OBJECTS)
    sample_obj, dist_obj = objects[image_object[image]], objects[dist]
    choice = np.where(chose_distractor, dist_obj, sample_obj)
    trials = xr.DataArray(
        choice, dims=["presentation"],
        coords={"stimulus_id": ("presentation", ids[image]), "sample_obj": ("presentation", sample_obj),
                "dist_obj": ("presentation", dist_obj), "choice": ("presentation", choice),
                "truth": ("presentation", sample_obj), "worker_id": ("presentation", rng.integers(0, 90, len(image)))})

    margin = 1.5 * (0.3 + 0.8 * true_dprime + rng.normal(0, 0.8, (n_images, n_objects)))
    logits = -margin
    logits[np.arange(n_images), image_object] = 0.0
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    rows, cols = rng.permutation(n_images), rng.permutation(n_objects)  # neither sorted nor in trial order
    model = xr.DataArray(
        probabilities[np.ix_(rows, cols)].astype(np.float32), dims=["presentation", "choice"],
        coords={"stimulus_id": ("presentation", ids[rows]),
                "stimulus_path": ("presentation", [f"/stimuli/{s}.png" for s in ids[rows]]),
                "choice": ("choice", objects[cols])})
    return {"trials": trials, "model": model}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, object]:
    data = _generate()
    return {**data, "tmp": tmp_path,
            "probabilities": _write(data["model"], tmp_path / "probabilities.nc"),
            "trials_path": _write(data["trials"], tmp_path / "trials.nc")}


# --- an independent computation of Brain-Score's i2n -----------------------------------------------------------------


def _dprimes(far: dict[tuple[str, str], float], image_object: dict[str, str]) -> dict[tuple[str, str], float]:
    """{(image, distractor): normalised d′} from {(image, distractor): false-alarm rate} (NaN where undefined)."""
    images_of: dict[str, list[str]] = {}
    for img, obj in image_object.items():
        images_of.setdefault(obj, []).append(img)

    def nanmean(values: list[float]) -> float:
        kept = [v for v in values if not math.isnan(v)]
        return sum(kept) / len(kept) if kept else math.nan

    raw = {}
    for (img, d), rate in far.items():
        t = image_object[img]
        reverse = nanmean([far.get((j, t), math.nan) for j in images_of[d]])
        with np.errstate(invalid="ignore"):
            value = float(norm.ppf(1 - rate) - norm.ppf(reverse))
        raw[(img, d)] = value if math.isnan(value) else min(5.0, max(-5.0, value))
    task_mean = {}
    for (img, d), value in raw.items():
        task_mean.setdefault((image_object[img], d), []).append(value)
    return {(img, d): v - nanmean(task_mean[(image_object[img], d)]) for (img, d), v in raw.items()}


def _reference_i2n(model: xr.DataArray, trials: xr.DataArray) -> dict[str, object]:
    stim = [str(s) for s in trials.stimulus_id.values]
    sample = [str(s) for s in trials.sample_obj.values]
    dist = [str(s) for s in trials.dist_obj.values]
    choice = [str(s) for s in trials.choice.values]
    image_object = dict(zip(stim, sample, strict=True))
    p = {(str(s), str(c)): float(model.values[r, k])
         for r, s in enumerate(model.stimulus_id.values) for k, c in enumerate(model.choice.values)}
    cells = sorted(set(zip(stim, dist, strict=True)))
    model_far = {(img, d): p[(img, d)] / (p[(img, d)] + p[(img, image_object[img])]) for img, d in cells}
    model_d = _dprimes(model_far, image_object)

    def human(indices: np.ndarray) -> dict[tuple[str, str], float]:
        chosen: dict[tuple[str, str], list[bool]] = {}
        for k in indices:
            chosen.setdefault((stim[k], dist[k]), []).append(choice[k] == dist[k])
        return _dprimes({c: float(np.mean(chosen[c])) for c in cells}, image_object)

    def r(source: dict, target: dict) -> float:
        keep = [c for c in cells if not math.isnan(target[c])]
        return float(pearsonr([source[c] for c in keep], [target[c] for c in keep])[0])

    random_state, raw, ceiling = np.random.RandomState(0), [], []
    for _ in range(2):
        order = np.arange(len(stim))
        random_state.shuffle(order)
        half_0, half_1 = human(order[: len(stim) // 2]), human(order[len(stim) // 2 :])
        raw.append(r(model_d, half_0))
        ceiling.append(r(half_0, half_1))
    ceiled = [a / math.sqrt(c) for a, c in zip(raw, ceiling, strict=True)]
    return {"raw": np.mean(raw), "ceiling": np.mean(ceiling), "ceiled": np.mean(ceiled), "split_raw": raw,
            "split_ceiling": ceiling, "split_ceiled": ceiled}


# --- the command -----------------------------------------------------------------------------------------------------


def _i2n(cli, probabilities: Path, trials: Path, *extra: str) -> dict:
    result = cli("evaluate", "--metric", "i2n", "--probabilities", probabilities, "--trials", trials, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_i2n_json_matches_the_metric_and_an_independent_computation(cli, files):
    out = _i2n(cli, files["probabilities"], files["trials_path"])
    model, trials = files["model"], files["trials"]
    direct = i2n(model.values, model.stimulus_id.values, model.choice.values,
                 TwoAfcTrials(trials.stimulus_id.values, trials.sample_obj.values, trials.dist_obj.values,
                              trials.choice.values))
    for key in ("raw", "ceiling", "ceiled", "brainscore_raw_error", "brainscore_ceiling_error",
                "brainscore_ceiled_error", "raw_error", "error"):
        assert out[key] == pytest.approx(getattr(direct, key), abs=1e-12), key
    for key in ("split_raw", "split_ceiling", "split_ceiled", "split_cells"):
        np.testing.assert_allclose(out[key], getattr(direct, key), atol=1e-12, err_msg=key)

    expected = _reference_i2n(model, trials)
    for key in ("raw", "ceiling", "ceiled"):
        assert out[key] == pytest.approx(expected[key], abs=1e-9), key
    for key in ("split_raw", "split_ceiling", "split_ceiled"):
        np.testing.assert_allclose(out[key], expected[key], atol=1e-9, err_msg=key)

    n_images = len(OBJECTS) * IMAGES_PER_OBJECT
    assert (out["n_images"], out["n_objects"], out["n_trials"]) == (n_images, len(OBJECTS), trials.size)
    assert out["split_cells"] == [n_images * (len(OBJECTS) - 1)] * 2  # every cell has trials in both halves
    assert 0.1 < out["raw"] < 0.9 and 0.1 < out["ceiling"] < 0.9  # informative: neither trivial nor perfect
    # The error: SEM (ddof=1) of the independent reference's per-split ceiled values (as the splits above: 1e-9).
    ceiled = np.asarray(expected["split_ceiled"])
    assert out["error"] == pytest.approx(ceiled.std(ddof=1) / np.sqrt(len(ceiled)), abs=1e-9)
    assert out["metric"] == "i2n" and "sqrt(ceiling)" in out["ceiled_formula"] and "ddof=1" in out["error_method"]


def test_table_output(cli, files):
    result = cli("evaluate", "--metric", "i2n", "--probabilities", files["probabilities"], "--trials",
                 files["trials_path"])
    assert result.exit_code == 0, result.stderr
    out = _i2n(cli, files["probabilities"], files["trials_path"])
    for column in ("raw", "ceiling", "ceiled"):
        assert column in result.stdout
        assert f"{out[column]:.3f}" in result.stdout
    assert "split raw" in result.stdout and f"{len(OBJECTS)} objects" in result.stdout


def test_legacy_layouts_give_the_same_numbers(cli, files):
    """image_id instead of stimulus_id, the bare-DataArray variable name, the choice only as the trial values
    (the objectome file's values are the chosen objects), and `choice_` as older xarray's reset_index named the
    probabilities' choice index (Brain-Score's own test probabilities are stored so)."""
    tmp, model, trials = files["tmp"], files["model"], files["trials"]
    legacy_trials = trials.drop_vars("choice").rename(stimulus_id="image_id")
    legacy_model = xr.DataArray(model.values, dims=("presentation", "choice"),
                                coords={"image_id": ("presentation", model.stimulus_id.values),
                                        "stimulus_path": ("presentation", model.stimulus_path.values),
                                        "choice_": ("choice", model.choice.values)})
    probabilities = _write(legacy_model, tmp / "legacy_probabilities.nc", legacy=True)
    trials_path = _write(legacy_trials, tmp / "legacy_trials.nc", legacy=True)
    with xr.open_dataset(probabilities) as opened:
        assert set(opened.coords) >= {"choice_", "image_id"} and "choice" not in opened.variables
    modern = _i2n(cli, files["probabilities"], files["trials_path"])
    legacy = _i2n(cli, probabilities, trials_path)
    # Exact: the same values in the same order through the same computation in one process.
    for key in ("raw", "ceiling", "ceiled", "split_raw", "split_ceiling", "split_ceiled"):
        assert legacy[key] == modern[key], key


def test_choice_axis_first_and_extra_model_images_are_fine(cli, files):
    """Brain-Score requires the same images; brainbench ignores extra rows and columns, and any dim order."""
    model = files["model"]
    extra = model.isel(presentation=[0]).assign_coords(stimulus_id=("presentation", ["not-shown-to-humans"]),
                                                       stimulus_path=("presentation", ["x.png"]))
    bigger = xr.concat([model, extra], dim="presentation").transpose("choice", "presentation")
    out = _i2n(cli, _write(bigger, files["tmp"] / "bigger.nc"), files["trials_path"])
    # Exact: the extra row and column are dropped before any arithmetic; the rest is the same computation.
    assert out["raw"] == _i2n(cli, files["probabilities"], files["trials_path"])["raw"]


# --- errors ----------------------------------------------------------------------------------------------------------


def _one_line_error(result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert result.stdout == ""
    return lines[0]


def _run(cli, probabilities: Path, trials: Path):
    return cli("evaluate", "--metric", "i2n", "--probabilities", probabilities, "--trials", trials, "--json")


def _few_trials(trials: xr.DataArray) -> xr.DataArray:
    """One trial per image × distractor cell: one random half always lacks it."""
    first = ~pd.Series(list(zip(trials.stimulus_id.values, trials.dist_obj.values, strict=True))).duplicated()
    return trials.isel(presentation=np.flatnonzero(first.to_numpy()))


def test_bad_inputs_are_one_line_errors(cli, files):
    tmp, model, trials = files["tmp"], files["model"], files["trials"]
    good_p, good_t = files["probabilities"], files["trials_path"]

    line = _one_line_error(_run(cli, good_p, _write(_few_trials(trials), tmp / "few.nc")))
    assert "no trial in half" in line and "at least one trial per cell" in line

    missing_image = model.isel(presentation=slice(1, None))
    line = _one_line_error(_run(cli, _write(missing_image, tmp / "missing_image.nc"), good_t))
    assert "1 images of the human trials are missing from" in line and str(model.stimulus_id.values[0]) in line

    missing_object = model.isel(choice=slice(1, None))
    line = _one_line_error(_run(cli, _write(missing_object, tmp / "missing_object.nc"), good_t))
    assert "objects of the human trials are missing" in line

    flat = model.isel(choice=0, drop=True)
    assert "presentation × choice" in _one_line_error(_run(cli, _write(flat, tmp / "flat.nc"), good_t))
    cube = model.expand_dims(repetition=[0, 1])
    assert "presentation × choice" in _one_line_error(_run(cli, _write(cube, tmp / "cube.nc"), good_t))
    square = model.rename(choice="neuroid")
    assert "presentation × choice" in _one_line_error(_run(cli, _write(square, tmp / "square.nc"), good_t))

    grid = trials.expand_dims(choice_option=["a"]).transpose()
    assert "1-D assembly over presentation" in _one_line_error(_run(cli, good_p, _write(grid, tmp / "grid.nc")))
    no_dist = trials.drop_vars("dist_obj")
    assert "dist_obj" in _one_line_error(_run(cli, good_p, _write(no_dist, tmp / "no_dist.nc")))
    no_ids = model.drop_vars("stimulus_id")
    assert "stimulus_id" in _one_line_error(_run(cli, _write(no_ids, tmp / "no_ids.nc"), good_t))

    nan = model.copy(deep=True)
    nan.values[3, 2] = np.nan
    assert "not finite non-negative" in _one_line_error(_run(cli, _write(nan, tmp / "nan.nc"), good_t))
    twice = xr.concat([model, model.isel(presentation=[0])], dim="presentation")
    assert "repeat stimulus_id" in _one_line_error(_run(cli, _write(twice, tmp / "twice.nc"), good_t))

    wrong_choice = trials.copy(deep=True)
    wrong_choice.values[5] = wrong_choice["choice"].values[5] = "zebra"
    assert "'zebra'" in _one_line_error(_run(cli, good_p, _write(wrong_choice, tmp / "wrong_choice.nc")))
    wrong_truth = trials.copy(deep=True)
    wrong_truth["truth"].values[0] = trials.dist_obj.values[0]
    assert "truth differs" in _one_line_error(_run(cli, good_p, _write(wrong_truth, tmp / "wrong_truth.nc")))

    garbage = tmp / "garbage.nc"
    garbage.write_bytes(b"not netcdf")
    assert "Cannot read garbage.nc" in _one_line_error(_run(cli, good_p, garbage))
    assert "Cannot read garbage.nc" in _one_line_error(_run(cli, garbage, good_t))


@pytest.mark.parametrize(("args", "message"), [
    (("--metric", "i2n", "--probabilities", "P.nc"), "--metric i2n needs --probabilities and --trials; missing "
                                                      "--trials."),
    (("--metric", "i2n", "--probabilities", "P.nc", "--trials", "T.nc", "--features", "F.nc"),
     "--features does not apply to --metric i2n"),
    (("--metric", "i2n", "--probabilities", "P.nc", "--trials", "T.nc", "--stratify", "object_name"),
     "--stratify does not apply to --metric i2n"),
    (("--features", "F.nc", "--assembly", "A.nc", "--trials", "T.nc"), "--trials does not apply to --metric pls"),
    (("--features", "F.nc",), "--metric pls needs --features and --assembly; missing --assembly."),
    (("--metric", "ridge", "--probabilities", "P.nc", "--trials", "T.nc"),
     "--metric ridge needs --features and --assembly; missing --features, --assembly."),
])
def test_option_combinations_are_usage_errors(cli, args, message):
    result = cli("evaluate", *args)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1
