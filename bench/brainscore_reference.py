#!/usr/bin/env python
"""Independent reference run of Brain-Score's own metric code, for split-by-split comparison and whole-process timing.

Five subcommands (``bench/brainscore_fixtures.py`` runs the first two to regenerate the fixtures that
``tests/metrics/test_brainscore_fixtures.py`` compares with in every test run):

``generate OUTDIR [--seed 0] [--no-legacy]``
    Needs only numpy, xarray and netCDF4 (any recent version; runs in the project venv or in the
    Brain-Score venv). Writes, in Brain-Score's netCDF layout, small files (about 0.3 MB):

    * ``assembly.nc`` -- neural assembly, dims ``presentation x neuroid x time_bin``
      (512 x 32 x 1): 128 stimuli x 4 repetitions in shuffled row order, one time bin 70-170 ms.
      Presentation coords ``stimulus_id, repetition, object_name, category_name``; neuroid coords
      ``neuroid_id, region, animal``; time_bin coords ``time_bin_start, time_bin_end``. All
      MultiIndex levels are stored as plain 1-D coordinates (no dimension coordinate), the data
      variable is called ``data`` and is zlib-compressed (complevel 9) -- exactly what
      ``brainscore_core/supported_data_standards/brainio/packaging.py::write_netcdf`` (compress=True,
      the default) produces: ``assembly.reset_index(list(assembly.indexes))`` then
      ``assembly.to_dataset(name="data", promote_attrs=True).to_netcdf(..., encoding={zlib, complevel=9})``.
    * ``features.nc`` -- "model features", dims ``presentation x neuroid`` (128 x 80), one row per
      unique stimulus in a different (random) order than the assembly; coords ``stimulus_id``
      (presentation), ``neuroid_id`` and ``layer`` (neuroid). Same layout (variable ``data``).
    * ``assembly_legacy.nc`` -- the same neural data but with ``image_id`` instead of ``stimulus_id``
      and written uncompressed via ``DataArray.to_netcdf`` (unnamed DataArray -> data variable
      ``__xarray_dataarray_variable__``), i.e. ``write_netcdf(..., compress=False)`` / old BrainIO files.
      Brain-Score's ``AssemblyLoader.correct_stimulus_id_name`` adds ``stimulus_id`` from ``image_id``.
      Left out with ``--no-legacy``.

    Generative model: latent code z (128 x 12) = object mean (8 objects x 16 stimuli) + within-object
    variation. Neural response of neuroid j to repetition k of stimulus i:
    ``offset_j + gain_j * (z_i @ W)_j / sd_j + noise_ijk`` with per-neuroid trial-noise variance
    1.0-2.0 x the signal variance. Features = z @ A + N(0, FEATURE_NOISE_SD), float64.

``reference OUTDIR`` (run with the Brain-Score venv, /tmp/bsenv/bin/python)
    Loads the files with xarray, builds Brain-Score assemblies exactly like
    ``brainio.assemblies.AssemblyLoader.load`` (open_dataarray -> correct_stimulus_id_name ->
    ``NeuronRecordingAssembly(...)`` whose ``gather_indexes`` re-creates the MultiIndexes), preprocesses
    them like ``brainscore_vision/benchmarks/majajhong2015/benchmark.py::load_assembly`` (squeeze
    ``time_bin``, ``sel(region=...)``, transpose, ``average_repetition``), then runs

    * ``load_metric('pls',   crossvalidation_kwargs=dict(stratification_coord='object_name'))``
    * ``load_metric('ridge', crossvalidation_kwargs=dict(stratification_coord='object_name'))``
      (registry 'ridge' == 'ridge_cv' == CrossRegressedCorrelation with sklearn ``Ridge(alpha=1)``,
      *not* RidgeCV; the "cv" is the 10 stratified shuffle splits)
    * ``load_ceiling('internal_consistency')`` on the repetition (non-averaged) assembly
    * ``neural_common.explained_variance(raw, ceiling)`` = raw**2 / ceiling (NeuralBenchmark.__call__)
    * ``load_metric('rdm')`` (``RDMMetric``: RDM = 1 - ``np.corrcoef`` between stimuli, rows sorted by
      stimulus_id, ``scipy.stats.spearmanr`` of the upper triangles) on all stimuli, and
      ``load_metric('rdm_cv')`` (``RDMCrossValidated``: the same on the test stimuli of 10
      ``StratifiedShuffleSplit(test_size=0.9, random_state=1)`` splits over object_name, train unused),
      features against the repetition-averaged assembly

    and writes ``OUTDIR/brainscore_result.json`` (the legacy file is skipped when absent). The metric's
    ``apply`` is wrapped (instance attribute, the original bound method is still what computes the score)
    only to *record* the stimulus_ids actually handed to each split; nothing in Brain-Score is modified.

``compare OUTDIR`` (project venv)
    brainbench on the same files, split by split beside Brain-Score's numbers: ``evaluate_features`` (PLS +
    ceiling), ridge with the fixed penalty alpha = 1 (``feature_predictivity(..., alphas=[1.0])``), and
    ``metrics.rdm`` (``rdm`` + ``compare_rdms(method='spearman')``) on all stimuli and on each split's test stimuli.

``timing OUTDIR [--bsenv DIR] [--runs 3]`` (project venv)
    Whole-process comparison on the same files (e.g. those ``bench/evaluate_speed.py write OUTDIR`` writes at
    MajajHong2015 size: 3 200 stimuli × 1 000 features → 168 neuroids × 50 repetitions): ``brainbench evaluate
    --features OUTDIR/features.nc --assembly OUTDIR/assembly.nc --stratify object_name`` against a process of the
    Brain-Score venv ``DIR`` running ``bs-run OUTDIR`` (below), alternating, median of ``--runs``, each with its peak
    RSS; each timed brainbench run follows an untimed one (a warm-up, as hyperfine's ``--warmup``), whose figures are
    printed too: right after a minute-long Brain-Score run its libraries' pages are cold; also the in-process ratio
    of the same steps timed inside each run (Brain-Score's averaging + metric + ceiling against brainbench's
    ``steps``: averaging, regressions and ceilings; reading the files left out on both sides).
    Prints the load average before and after.
    Without ``--bsenv`` (or when DIR has no Python with brainscore_vision) it says that it was skipped.

``bs-run OUTDIR`` (Brain-Score venv)
    Brain-Score's own PLS metric (``load_metric('pls')``, stratified by object_name) and internal-consistency ceiling
    on ``OUTDIR/assembly.nc`` and ``OUTDIR/features.nc``, read and preprocessed as ``reference`` does; prints
    raw, ceiling, ceiled and the seconds of each step as JSON.

Brain-Score environment used for the reference (Python 3.11.7 venv at /tmp/bsenv, ``python3.11 -m venv``):
    pip install "numpy<2" "pandas<3" "scikit-learn<1.6" scipy "xarray<2022.6" netCDF4 tqdm "PyYAML>=6.0.3,<7"
    pip install --no-deps brainscore-vision==2.4.2 brainscore-core==2.5.0
    pip install psutil Pillow result-caching boto3 requests
    -> numpy 1.26.4, pandas 2.3.3, scikit-learn 1.5.2, scipy 1.17.1, xarray 2022.3.0, netCDF4 1.7.5.1.post1,
       result-caching 0.5 (pulls dask 2026.8.0, importlib_metadata 10.2.0), boto3 1.44.18, requests 2.34.2,
       psutil 7.2.2, Pillow 13.0.0 (full list: /tmp/bsenv/bin/pip freeze; the versions that computed the
       committed fixtures are recorded in them).
    Why these: brainscore_vision/__init__ imports benchmark_helpers.memory (psutil) -> neural_common ->
    benchmarks/__init__ + screen (result_caching, PIL); brainscore_core brainio/fetch imports boto3.
    NOT installed (declared by brainscore-vision but never imported by the code paths used here):
    torch, torchvision, opencv-python, h5py, gitpython, fire, jupyter, pybtex, peewee, psycopg2-binary,
    networkx, eva-decord (and the importlib-metadata<5 pin is not honoured).  No stub modules are used.
    BS_INSTALL_DEPENDENCIES=no is set before importing brainscore_vision: otherwise ``import_plugin``
    runs ``pip install -r requirements.txt`` of each metric plugin (regression_correlation lists torch).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import xarray as xr

N_OBJECTS = 8
STIM_PER_OBJECT = 16
N_REPETITIONS = 4
N_NEUROIDS = 32
N_FEATURES = 80  # fewer than the stimuli (brainbench's feature-space PLS), at least the 25 PLS components
LATENT_DIM = 12
TIME_BIN = (70, 170)
FEATURE_NOISE_SD = 2.0
OBJECTS = ["bear", "elephant", "car", "plane", "chair", "table", "apple", "face"]
CATEGORIES = ["Animals", "Animals", "Cars", "Planes", "Chairs", "Tables", "Fruits", "Faces"]


# ----------------------------------------------------------------------------------------------
# generate
# ----------------------------------------------------------------------------------------------
def _write_brainio(da: xr.DataArray, path: Path, compress: bool = True) -> None:
    """Mirror brainio packaging.write_netcdf: no indexes, variable 'data' (compressed) or unnamed."""
    da = da.copy()
    if da.indexes:
        da = da.reset_index(list(da.indexes))
    if compress:
        ds = da.to_dataset(name="data", promote_attrs=True)
        encoding = {var: dict(zlib=True, complevel=9) for var in ds.data_vars}
        ds.to_netcdf(path, mode="w", encoding=encoding)
    else:
        da.name = None
        da.to_netcdf(path, mode="w")


def generate(outdir: Path, seed: int = 0, legacy: bool = True) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_stim = N_OBJECTS * STIM_PER_OBJECT

    # stimuli: sha1-like ids (so sorting by id is unrelated to object order), N_OBJECTS x STIM_PER_OBJECT
    stimulus_ids = np.array([hashlib.sha1(f"seed{seed}-stim{i}".encode()).hexdigest()[:16] for i in range(n_stim)])
    object_idx = np.repeat(np.arange(N_OBJECTS), STIM_PER_OBJECT)
    object_name = np.array(OBJECTS)[object_idx]
    category_name = np.array(CATEGORIES)[object_idx]

    # latent code
    object_means = rng.normal(0, 1.0, size=(N_OBJECTS, LATENT_DIM))
    z = object_means[object_idx] + rng.normal(0, 0.8, size=(n_stim, LATENT_DIM))

    # neural signal
    W = rng.normal(0, 1, size=(LATENT_DIM, N_NEUROIDS)) / np.sqrt(LATENT_DIM)
    signal = z @ W
    signal = signal / signal.std(axis=0, keepdims=True)             # unit signal variance
    gain = rng.uniform(5, 15, size=N_NEUROIDS)                      # "firing rate" scale
    offset = rng.uniform(10, 60, size=N_NEUROIDS)
    noise_ratio = rng.uniform(1.0, 2.0, size=N_NEUROIDS)            # trial-noise var / signal var
    noise_sd = gain * np.sqrt(noise_ratio)

    # presentations: every stimulus x repetition, rows shuffled
    stim_rows = np.repeat(np.arange(n_stim), N_REPETITIONS)
    rep_rows = np.tile(np.arange(N_REPETITIONS), n_stim)
    perm = rng.permutation(len(stim_rows))
    stim_rows, rep_rows = stim_rows[perm], rep_rows[perm]
    responses = offset + gain * signal[stim_rows] + rng.normal(0, 1, size=(len(stim_rows), N_NEUROIDS)) * noise_sd
    responses = responses[:, :, np.newaxis]                         # time_bin axis

    neuroid_id = np.array([f"n{j:03d}" for j in range(N_NEUROIDS)])
    animal = np.where(np.arange(N_NEUROIDS) < N_NEUROIDS // 2, "Chabo", "Tito")
    presentation_coords = {
        "stimulus_id": ("presentation", stimulus_ids[stim_rows]),
        "repetition": ("presentation", rep_rows.astype(np.int64)),
        "object_name": ("presentation", object_name[stim_rows]),
        "category_name": ("presentation", category_name[stim_rows]),
    }
    other_coords = {
        "neuroid_id": ("neuroid", neuroid_id),
        "region": ("neuroid", np.array(["IT"] * N_NEUROIDS)),
        "animal": ("neuroid", animal),
        "time_bin_start": ("time_bin", np.array([TIME_BIN[0]], dtype=np.int64)),
        "time_bin_end": ("time_bin", np.array([TIME_BIN[1]], dtype=np.int64)),
    }
    attrs = {"identifier": f"synthetic.IT.seed{seed}", "stimulus_set_identifier": f"synthetic.seed{seed}"}
    assembly = xr.DataArray(responses, dims=("presentation", "neuroid", "time_bin"),
                            coords={**presentation_coords, **other_coords}, attrs=attrs)
    _write_brainio(assembly, outdir / "assembly.nc", compress=True)

    files = ["assembly.nc", "features.nc"]
    if legacy:
        legacy_coords = {("image_id" if k == "stimulus_id" else k): v for k, v in presentation_coords.items()}
        legacy_assembly = xr.DataArray(responses, dims=("presentation", "neuroid", "time_bin"),
                                       coords={**legacy_coords, **other_coords}, attrs=attrs)
        _write_brainio(legacy_assembly, outdir / "assembly_legacy.nc", compress=False)
        files.append("assembly_legacy.nc")

    # model features for the unique stimuli, in another order
    A = rng.normal(0, 1, size=(LATENT_DIM, N_FEATURES)) / np.sqrt(LATENT_DIM)
    features = z @ A + rng.normal(0, FEATURE_NOISE_SD, size=(n_stim, N_FEATURES))
    feature_order = rng.permutation(n_stim)
    feats = xr.DataArray(
        features[feature_order], dims=("presentation", "neuroid"),
        coords={"stimulus_id": ("presentation", stimulus_ids[feature_order]),
                "neuroid_id": ("neuroid", np.array([f"IT_layer.{k}" for k in range(N_FEATURES)])),
                "layer": ("neuroid", np.array(["IT_layer"] * N_FEATURES))},
        attrs={"identifier": f"synthetic-model.seed{seed}"})
    _write_brainio(feats, outdir / "features.nc", compress=True)

    summary = {"seed": seed, "n_stimuli": n_stim, "n_repetitions": N_REPETITIONS, "n_neuroids": N_NEUROIDS,
               "n_features": N_FEATURES, "latent_dim": LATENT_DIM, "time_bin": list(TIME_BIN),
               "files": files}
    (outdir / "generate_summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


# ----------------------------------------------------------------------------------------------
# reference (Brain-Score venv only)
# ----------------------------------------------------------------------------------------------
def versions() -> dict:
    """Versions of Python and of the packages that computed a reference (recorded beside its numbers)."""
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": sys.version.split()[0]}
    for pkg in ["brainscore_vision", "brainscore_core", "scikit-learn", "numpy", "xarray", "scipy", "pandas",
                "netCDF4"]:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _open(path: Path) -> xr.DataArray:
    """AssemblyLoader.load's reading without dask: open_dataarray -> load -> correct_stimulus_id_name."""
    from brainscore_core.supported_data_standards.brainio.assemblies import AssemblyLoader
    da = xr.open_dataarray(path)
    da = da.load()
    da.close()
    return AssemblyLoader.correct_stimulus_id_name(da)


def load_assembly(path: Path, cls):
    """A Brain-Score assembly of class ``cls`` from a netCDF file, as ``AssemblyLoader.load`` builds it."""
    return cls(data=_open(path))


def _preprocess(assembly, average_repetitions: bool, region: str = "IT"):
    """benchmarks/majajhong2015/benchmark.py::load_assembly, non-temporal branch."""
    from brainscore_vision.benchmark_helpers.neural_common import average_repetition
    assembly = assembly.squeeze("time_bin")
    assembly = assembly.sel(region=region)
    assembly["region"] = "neuroid", [region] * len(assembly["neuroid"])
    assembly.load()
    assembly = assembly.transpose("presentation", "neuroid", ...)
    if average_repetitions:
        assembly = average_repetition(assembly)
    return assembly


def _load_features(path: Path, target):
    """Model features as Brain-Score sees them after the activations extractor: like
    model_helpers/activations/core.py::attach_stimulus_set_meta, the stimulus-set columns are put on
    `presentation` before the MultiIndex is built (CrossValidation asserts the source has object_name;
    the splits themselves come from the target). Done before NeuroidAssembly(...) because a dimension with a
    single coordinate would otherwise be turned into a plain (unnamed-level) index by gather_indexes."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    da = _open(path)
    stim = da["stimulus_id"].values.tolist()
    present = {*target.coords, *target.indexes["presentation"].names}  # MultiIndex levels are not listed in coords
    for coord in [c for c in ("object_name", "category_name") if c in present]:
        lookup = dict(zip(target["stimulus_id"].values.tolist(), target[coord].values.tolist(), strict=True))
        da = da.assign_coords(**{coord: ("presentation", np.array([lookup[s] for s in stim]))})
    return NeuroidAssembly(data=da)


def _tolist(x):
    return np.asarray(x).tolist()


def _run_metric(name, source, target, cv_kwargs):
    from brainscore_vision import load_metric
    metric = load_metric(name, crossvalidation_kwargs=cv_kwargs)
    recorded = []
    original_apply = metric.apply

    def recording_apply(source_train, target_train, source_test, target_test):
        recorded.append({"train": _tolist(target_train["stimulus_id"].values),
                         "test": _tolist(target_test["stimulus_id"].values),
                         "source_train_order": _tolist(source_train["stimulus_id"].values)})
        return original_apply(source_train, target_train, source_test, target_test)

    metric.apply = recording_apply
    score = metric(source, target)

    # the splits as Brain-Score builds them (same splitter object, deterministic random_state)
    cv_values, splits = metric.cross_validation._split.build_splits(target)
    cv_ids = _tolist(cv_values["stimulus_id"].values)
    built = [{"train": [cv_ids[i] for i in tr], "test": [cv_ids[i] for i in te]} for tr, te in splits]
    # brainio transform.subset keeps the *target assembly's* row order (membership filter), so the recorded
    # lists are the splitter's index sets re-ordered into target order
    assert len(built) == len(recorded)
    assert all(sorted(b["train"]) == sorted(r["train"]) and sorted(b["test"]) == sorted(r["test"])
               for b, r in zip(built, recorded, strict=True))
    order = {s: i for i, s in enumerate(cv_ids)}
    assert all(r["train"] == sorted(r["train"], key=order.get) for r in recorded)

    raw = score.attrs["raw"]                                   # split x neuroid Pearson r
    raw = raw.transpose("split", "neuroid")
    per_split_median = raw.median("neuroid")
    regression = metric.regression._regression
    result = {
        "metric": name,
        "regression": f"{type(regression).__module__}.{type(regression).__name__}",
        "regression_params": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
                              for k, v in regression.get_params().items()},
        "crossvalidation": {"class": type(metric.cross_validation).__name__,
                            "splitter": repr(metric.cross_validation._split._split),
                            "split_coord": metric.cross_validation._split_coord,
                            "stratification_coord": metric.cross_validation._stratification_coord},
        "raw": float(score.values),
        "error": float(score.attrs["error"]),
        "per_split_median": _tolist(per_split_median.values),
        "per_split_mean_over_splits_check": float(per_split_median.values.mean()),
        "split_index": _tolist(raw["split"].values),
        "neuroid_id": _tolist(raw["neuroid_id"].values),
        "per_split_per_neuroid_r": _tolist(raw.values),
        "first_split": {"train_stimulus_ids": built[0]["train"], "test_stimulus_ids": built[0]["test"],
                        "train_indices": _tolist(splits[0][0]), "test_indices": _tolist(splits[0][1]),
                        "ids_order": "splitter index order (indices into the averaged target's presentation "
                                     "order); the subsets handed to apply() are in target row order"},
        "test_stimulus_ids_per_split": [b["test"] for b in built],
        "test_indices_per_split": [_tolist(te) for _, te in splits],
        "test_object_counts_first_split": _count(target, recorded[0]["test"]),
    }
    return score, result


def _count(target, ids):
    lookup = dict(zip(target["stimulus_id"].values.tolist(), target["object_name"].values.tolist(), strict=True))
    counts = {}
    for s in ids:
        counts[lookup[s]] = counts.get(lookup[s], 0) + 1
    return dict(sorted(counts.items()))


def _run_rdm(source, target):
    """RDMMetric on all stimuli and RDMCrossValidated with its defaults (registry 'rdm' and 'rdm_cv')."""
    from brainscore_vision import load_metric
    whole = load_metric("rdm")(source, target)
    metric = load_metric("rdm_cv")
    score = metric(source, target)
    split = metric._cross_validation._cross_validation._split
    cv_values, splits = split.build_splits(target)
    return {
        "metric": f"{type(metric).__module__}.{type(metric).__name__}",
        "all_stimuli": float(whole.values),
        "raw": float(score.values),
        "error": float(score.attrs["error"]),
        "per_split": _tolist(score.attrs["raw"].transpose("split").values),
        "splitter": repr(split._split),
        "stratification_coord": split._stratification_coord,
        "test_indices_per_split": [_tolist(te) for _, te in splits],
        "test_indices_refer_to": "averaged_stimulus_order (the averaged assembly's presentations)",
        "test_stimulus_ids_first_split": _tolist(cv_values["stimulus_id"].values[splits[0][1]]),
    }


def _run_ceiling(repetition_assembly):
    from brainscore_vision import load_ceiling
    ceiler = load_ceiling("internal_consistency")
    ceiling = ceiler(repetition_assembly)
    cv = ceiler._consistency._cross_validation
    cv_values, splits = cv._split.build_splits(repetition_assembly)
    reps = _tolist(cv_values["repetition"].values)
    raw = ceiling.attrs["raw"].transpose("split", "neuroid")
    return ceiling, {
        "ceiling": float(ceiling.values),
        "error": float(ceiling.attrs["error"]),
        "per_split_median": _tolist(raw.median("neuroid").values),
        "neuroid_id": _tolist(raw["neuroid_id"].values),
        "per_split_per_neuroid_spearman_brown_r": _tolist(raw.values),
        "splitter": repr(cv._split._split),
        "split_coord": cv._split._split_coord,
        "repetition_halves_per_split": [{"half1": [reps[i] for i in tr], "half2": [reps[i] for i in te]}
                                        for tr, te in splits],
    }


NOTES = {
    "ceiling_application": "brainscore_vision/benchmark_helpers/neural_common.py:315-324 explained_variance: "
                           "Score(score.values**2 / ceiling.values), called from NeuralBenchmark.__call__ line 39",
    "raw_aggregation": "per split: median over neuroids of Pearson r (CrossRegressedCorrelation.aggregate); "
                       "raw = mean over 10 splits; error = std(per-split medians, ddof=0)/sqrt(10)",
    "ceiling_aggregation": f"10 ShuffleSplit(train_size=.5, random_state=1) halves of the {N_REPETITIONS} unique "
                           "repetitions; each half averaged over repetitions; Pearson r per neuroid across stimuli; "
                           "Spearman-Brown 2r/(1+r); median over neuroids; mean over splits",
    "splits": "StratifiedShuffleSplit(n_splits=10, train_size=0.9, test_size=None, random_state=1) over the "
              "rows of the *target* (repetition-averaged) assembly in its presentation order, stratified by "
              "target['object_name']",
    "rdm": "RDM = 1 - np.corrcoef over stimuli (rows) of features and of the averaged neural responses, rows and "
           "columns sorted by stimulus_id, scipy.stats.spearmanr of the upper triangles (k=1); all_stimuli: "
           "RDMMetric; per_split: RDMCrossValidated on each split's test stimuli (StratifiedShuffleSplit("
           "n_splits=10, test_size=0.9, random_state=1) over object_name of the averaged assembly), raw = mean, "
           "error = std(ddof=0)/sqrt(10)",
}


def reference(outdir: Path) -> None:
    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")   # never pip-install plugin requirements (torch)
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuronRecordingAssembly
    from brainscore_vision.benchmark_helpers.neural_common import explained_variance

    cv_kwargs = dict(stratification_coord="object_name")     # majajhong2015/benchmark.py
    out = {"versions": versions(), "files": {}}

    results_by_file = {}
    for fname in [f for f in ("assembly.nc", "assembly_legacy.nc") if (outdir / f).exists()]:
        raw_assembly = load_assembly(outdir / fname, NeuronRecordingAssembly)
        repetition_assembly = _preprocess(raw_assembly, average_repetitions=False)
        averaged = _preprocess(raw_assembly, average_repetitions=True)
        features = _load_features(outdir / "features.nc", averaged)

        entry = {"data_variable": list(xr.open_dataset(outdir / fname).data_vars),
                 "repetition_assembly_shape": dict(repetition_assembly.sizes),
                 "averaged_assembly_shape": dict(averaged.sizes),
                 "averaged_presentation_levels": list(averaged.indexes["presentation"].names),
                 "averaged_stimulus_order": _tolist(averaged["stimulus_id"].values),
                 "averaged_order_is_sorted_by_stimulus_id":
                     _tolist(averaged["stimulus_id"].values) == sorted(_tolist(averaged["stimulus_id"].values)),
                 "features_stimulus_order_first5": _tolist(features["stimulus_id"].values[:5]),
                 "averaged_assembly_dims": list(averaged.dims),
                 "time_bin_after_squeeze": repr(repetition_assembly["time_bin"].values.item())}
        ceiling, entry["ceiling"] = _run_ceiling(repetition_assembly)
        for name in ["pls", "ridge"]:
            score, res = _run_metric(name, features, averaged, cv_kwargs)
            ceiled = explained_variance(score, ceiling)
            res["ceiled"] = float(ceiled.values)
            res["ceiled_formula"] = "raw**2 / ceiling  (neural_common.explained_variance)"
            entry[name] = res
        entry["rdm"] = _run_rdm(features, averaged)
        results_by_file[fname] = entry

    main = results_by_file["assembly.nc"]
    out["files"] = {k: {"data_variable": v["data_variable"]} for k, v in results_by_file.items()}
    out.update({k: v for k, v in main.items() if k != "data_variable"})
    if "assembly_legacy.nc" in results_by_file:
        out["legacy_matches_main"] = _legacy_matches(main, results_by_file["assembly_legacy.nc"])
    out["notes"] = NOTES
    path = outdir / "brainscore_result.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


def _legacy_matches(main: dict, legacy: dict) -> dict:
    """Whether the uncompressed image_id file gave exactly the numbers of the main file."""
    return {
        "ceiling": legacy["ceiling"]["ceiling"] == main["ceiling"]["ceiling"],
        "pls_raw": legacy["pls"]["raw"] == main["pls"]["raw"],
        "ridge_raw": legacy["ridge"]["raw"] == main["ridge"]["raw"],
        "pls_per_split": legacy["pls"]["per_split_median"] == main["pls"]["per_split_median"],
        "splits": legacy["pls"]["test_stimulus_ids_per_split"] == main["pls"]["test_stimulus_ids_per_split"],
        "legacy_values": {"ceiling": legacy["ceiling"]["ceiling"], "pls_raw": legacy["pls"]["raw"],
                          "ridge_raw": legacy["ridge"]["raw"]},
    }

def compare(outdir: Path) -> None:
    """brainbench on the same files (run in the project venv), split by split beside Brain-Score's numbers."""
    import pandas as pd
    import torch

    from brainbench.benchmarks.evaluate import evaluate_features
    from brainbench.benchmarks.neural import neural_data, select_time_bin
    from brainbench.data.brainscore_format import read_assembly
    from brainbench.metrics.predictivity import feature_predictivity
    from brainbench.metrics.rdm import compare_rdms, rdm, subset
    from brainbench.metrics.splits import brainscore_splits

    theirs = json.loads((outdir / "brainscore_result.json").read_text())
    features, assembly = read_assembly(outdir / "features.nc"), read_assembly(outdir / "assembly.nc")
    pls = evaluate_features(features, assembly, metric="pls", stratify="object_name", device="cpu")
    data = neural_data(select_time_bin(assembly), stratify="object_name")
    rows = pd.Index([str(s) for s in features["stimulus_id"].values]).get_indexer(data.stimulus_ids)
    x = torch.from_numpy(np.asarray(features.values, dtype=np.float64)[rows])
    splits = brainscore_splits(len(rows), stratify=data.strata)
    ridge = feature_predictivity(x, data.responses, splits, method="ridge", alphas=[1.0])
    model_rdm, neural_rdm = rdm(x), rdm(data.responses)
    rdm_splits = [compare_rdms(subset(model_rdm, index), subset(neural_rdm, index)).item()
                  for index in map(torch.as_tensor, theirs["rdm"]["test_indices_per_split"])]
    table = [("PLS split median (evaluate_features)", pls.split_medians, theirs["pls"]["per_split_median"]),
             ("ceiling split median", pls.ceiling_split_medians, theirs["ceiling"]["per_split_median"]),
             ("ridge alpha=1 split median", ridge.split_medians.tolist(), theirs["ridge"]["per_split_median"]),
             ("RDM Spearman per split", rdm_splits, theirs["rdm"]["per_split"]),
             ("RDM Spearman, all stimuli", [compare_rdms(model_rdm, neural_rdm).item()],
              [theirs["rdm"]["all_stimuli"]])]
    for name, mine, other in table:
        print(f"{name}: max |diff| {np.max(np.abs(np.subtract(mine, other))):.1e} over {len(mine)}")
        for i, (a, b) in enumerate(zip(mine, other, strict=True)):
            print(f"  {i:>2}  brainbench {a:.12f}  Brain-Score {b:.12f}  |diff| {abs(a - b):.1e}")
    for key, mine, other in (("raw", pls.raw, theirs["pls"]["raw"]),
                             ("error", pls.brainscore_raw_error, theirs["pls"]["error"]),
                             ("ceiling", pls.ceiling, theirs["ceiling"]["ceiling"]),
                             ("ceiled", pls.ceiled, theirs["pls"]["ceiled"])):
        print(f"PLS {key:>8}: brainbench {mine:.12f}   Brain-Score {other:.12f}   |diff| {abs(mine - other):.1e}")


def bs_run(outdir: Path) -> None:
    """Brain-Score's PLS metric + internal-consistency ceiling on the files, each step timed (Brain-Score venv)."""
    import time

    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuronRecordingAssembly
    from brainscore_vision import load_ceiling, load_metric
    from brainscore_vision.benchmark_helpers.neural_common import explained_variance

    seconds = {}
    start = time.perf_counter()
    raw_assembly = load_assembly(outdir / "assembly.nc", NeuronRecordingAssembly)
    seconds["read"] = time.perf_counter() - start
    start = time.perf_counter()
    repetition_assembly = _preprocess(raw_assembly, average_repetitions=False)
    averaged = _preprocess(raw_assembly, average_repetitions=True)
    features = _load_features(outdir / "features.nc", averaged)
    seconds["averaging"] = time.perf_counter() - start
    start = time.perf_counter()
    ceiling = load_ceiling("internal_consistency")(repetition_assembly)
    seconds["ceiling"] = time.perf_counter() - start
    start = time.perf_counter()
    score = load_metric("pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))(features, averaged)
    seconds["metric"] = time.perf_counter() - start
    ceiled = explained_variance(score, ceiling)
    print(json.dumps({"raw": float(score.values), "ceiling": float(ceiling.values), "ceiled": float(ceiled.values),
                      "seconds": seconds, "versions": versions()}))


def timing(outdir: Path, bsenv: Path | None, runs: int) -> None:
    """`brainbench evaluate` and Brain-Score's own code, whole process, on the same files (project venv)."""
    import statistics

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from evaluate_speed import evaluate_command, whole_process

    python = bsenv / "bin" / "python" if bsenv else None
    if python is None or not python.exists() or subprocess_fails([str(python), "-c", "import brainscore_vision"]):
        print(f"Brain-Score whole-process comparison skipped: no Brain-Score environment given (--bsenv DIR; "
              f"{'none given' if bsenv is None else f'{python} cannot import brainscore_vision'}); the recipe is in "
              f"this script's docstring.")
        return
    load_before = os.getloadavg()[0]
    ours, after_theirs, theirs = [], [], []
    for _ in range(runs):
        # Each brainbench run right after a Brain-Score run finds its libraries' pages cold (see COLD_PAGES), while
        # Brain-Score's next run follows ours by seconds: both are timed warm, as hyperfine's --warmup does, and the
        # run right after Brain-Score's is reported beside.
        after_theirs.append(whole_process(evaluate_command(outdir)))
        ours.append(whole_process(evaluate_command(outdir)))
        theirs.append(whole_process([str(python), __file__, "bs-run", str(outdir)]))
    load_after = os.getloadavg()[0]
    wall_ours, wall_cold, wall_theirs = (statistics.median(run[0] for run in side)
                                         for side in (ours, after_theirs, theirs))
    # The same steps on both sides: averaging (Brain-Score's includes aligning the features), ceiling, regression
    # (the metric); reading the files is left out of both (brainbench's `data_loading` step, Brain-Score's `read`).
    work_ours, work_cold = (statistics.median(sum(run[2]["steps"][k] for k in ("averaging", "ceilings", "regressions"))
                                              for run in side) for side in (ours, after_theirs))
    work_theirs = statistics.median(sum(run[2]["seconds"][k] for k in ("averaging", "ceiling", "metric"))
                                    for run in theirs)
    print(f"Whole process, median of {runs} (alternating), on {outdir}: {os.cpu_count()} CPUs, load average "
          f"{load_before:.2f} before, {load_after:.2f} after")
    print(f"  Brain-Score {theirs[0][2]['versions']['brainscore_vision']} metric + ceiling  {wall_theirs:7.2f} s   "
          f"peak RSS {max(run[1] for run in theirs):.2f} GB   raw {theirs[0][2]['raw']:.6f} ceiling "
          f"{theirs[0][2]['ceiling']:.6f} ceiled {theirs[0][2]['ceiled']:.6f}   in-process {work_theirs:.2f} s")
    print(f"  brainbench evaluate                    {wall_ours:7.2f} s   peak RSS {max(run[1] for run in ours):.2f} GB"
          f"   raw {ours[0][2]['raw']:.6f} ceiling {ours[0][2]['ceiling']:.6f} ceiled {ours[0][2]['ceiled']:.6f}"
          f"   in-process {work_ours:.2f} s ({ours[0][2].get('torch_threads', '?')} threads)")
    print(f"  whole process: ×{wall_theirs / wall_ours:.1f} (target ≥ 12)   in-process (averaging + regression + "
          f"ceiling): ×{work_theirs / work_ours:.1f} (target ≥ 60)")
    print(f"  brainbench right after a Brain-Score run ({COLD_PAGES}): {wall_cold:.2f} s whole process, "
          f"×{wall_theirs / wall_cold:.1f}; in-process {work_cold:.2f} s, ×{work_theirs / work_cold:.1f}")


#: Why a process started after a long one of the other side runs colder on the project machine.
COLD_PAGES = ("its libraries' and files' pages idle > 60 s, which this VM's DAMON pages out: hundreds of major "
              "faults")


def subprocess_fails(command: list[str]) -> bool:
    import subprocess

    return subprocess.run(command, capture_output=True).returncode != 0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("outdir", type=Path)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--no-legacy", dest="legacy", action="store_false", help="skip assembly_legacy.nc")
    r = sub.add_parser("reference")
    r.add_argument("outdir", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("outdir", type=Path)
    t = sub.add_parser("timing")
    t.add_argument("outdir", type=Path)
    t.add_argument("--bsenv", type=Path, help="a venv with brainscore_vision (recipe above)")
    t.add_argument("--runs", type=int, default=3)
    sub.add_parser("bs-run").add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "generate":
        generate(args.outdir, seed=args.seed, legacy=args.legacy)
    elif args.cmd == "compare":
        compare(args.outdir)
    elif args.cmd == "timing":
        timing(args.outdir, args.bsenv, args.runs)
    elif args.cmd == "bs-run":
        bs_run(args.outdir)
    else:
        reference(args.outdir)


if __name__ == "__main__":
    main()
