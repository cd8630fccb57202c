#!/usr/bin/env python
"""Brain-Score's own i2n (Rajalingham et al. 2018) against brainbench.metrics.behavior.i2n on generated files.

Three subcommands (``bench/brainscore_fixtures.py`` runs the first two to regenerate the fixtures that
``tests/metrics/test_brainscore_fixtures.py`` compares with in every test run):

``generate OUTDIR [--seed 0]``
    Needs numpy, scipy, xarray and netCDF4 (runs in the project venv or in the Brain-Score venv). Writes, in
    the layout Brain-Score's Rajalingham2018 benchmark hands to ``load_metric('i2n')``:

    * ``probabilities.nc`` -- the model's choice probabilities, a BehavioralAssembly ``presentation x choice``
      (48 x 8, float32 like ``metrics/i1i2/test_resources/*-probabilities.nc``): presentation coords
      ``stimulus_id, stimulus_path`` in a shuffled order, the ``choice`` labels in a non-sorted order (as
      ``ProbabilitiesClassifier.labels_to_indices`` orders them).
    * ``trials.nc`` -- human 2AFC trials, a BehavioralAssembly over ``presentation`` whose values are the chosen
      object, with coords ``stimulus_id, sample_obj, dist_obj, truth (= sample_obj), correct, worker_id`` --
      the objectome layout (``data/rajalingham2018/rajalingham2018objectome.py``) at a small size: 8 of its 24
      objects x 6 images, every image against each of the 7 other objects in 20-40 trials (enough that no image x
      distractor cell is missing from a random half of the trials), the trials in shuffled order.

    Generative model: true human d′ of image i (object t) against distractor d = object-pair difficulty
    D[t, d] (0.5-3.5) + image difficulty + image x distractor interaction; a trial picks d with probability
    Φ(-d′/√2). The model's logits give p(d)/(p(d)+p(t)) = σ(-λ·m[i, d]) with m a noisy copy of the human d′.
    A few "mislabelled" images are always confused with one distractor whose own images are never confused
    back, so that their human d′ is ∞ − ∞ = NaN (Brain-Score drops such cells from the correlation), and
    many cells have no errors at all (d′ clipped to 5).

``reference OUTDIR`` (Brain-Score venv: ``/tmp/bsenv/bin/python bench/brainscore_i2n_reference.py reference DIR``)
    Loads the files like ``AssemblyLoader.load`` (open_dataarray -> correct_stimulus_id_name ->
    ``BehavioralAssembly(...)``), runs ``load_metric('i2n')(probabilities, trials)`` and
    ``load_metric('i2n').ceiling(trials)`` and the Rajalingham2018 benchmark's own ``ceil_score`` (called on
    a stand-in ``self`` holding the metric; the benchmark's constructor would download objectome stimuli), and
    writes ``OUTDIR/brainscore_i2n.json`` with raw, ceiling, ceiled, their errors and the per-split values.

``compare OUTDIR`` (project venv)
    Computes ``brainbench.metrics.behavior.i2n`` on the same files and prints both, split by split, with |diff|.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import xarray as xr
from brainscore_reference import load_assembly, versions  # the sibling script (bench/ is on sys.path)

OBJECTS = ["bear", "elephant", "face", "car", "plane", "dog", "turtle", "watch"]
IMAGES_PER_OBJECT = 6
TRIALS_PER_CELL = (20, 40)
N_MISLABELLED = 3
MODEL_SCALE = 1.6  # λ: model logit margin per unit of d′


def _write(da: xr.DataArray, path: Path) -> None:
    """netCDF without MultiIndexes (what brainio's write_netcdf leaves after reset_index); plain coords only.

    Every variable is zlib-compressed, text as fixed-width character arrays (netCDF ``char``, decoded back to
    str by xarray) rather than xarray's default variable-length strings, which cost ~300 bytes per trial.
    """
    variables = {**da.coords, "data": da}
    encoding = {name: {"zlib": True, "complevel": 9, **({"dtype": "S1"} if v.dtype.kind in "OUS" else {})}
                for name, v in variables.items()}
    da.to_dataset(name="data").to_netcdf(path, mode="w", encoding=encoding)


def generate(outdir: Path, seed: int = 0) -> None:
    from scipy.stats import norm

    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_objects, n_images = len(OBJECTS), len(OBJECTS) * IMAGES_PER_OBJECT
    objects = np.array(OBJECTS, dtype=object)
    image_object = np.repeat(np.arange(n_objects), IMAGES_PER_OBJECT)
    stimulus_ids = np.array([hashlib.sha1(f"i2n-seed{seed}-img{i}".encode()).hexdigest()[:20] for i in range(n_images)],
                            dtype=object)

    # true human d′[i, d] for image i (object t) against distractor d
    pair = rng.uniform(0.5, 3.5, size=(n_objects, n_objects))
    image_difficulty = rng.normal(0, 0.7, size=n_images)
    interaction = rng.normal(0, 0.6, size=(n_images, n_objects))
    true_dprime = pair[image_object] + image_difficulty[:, None] + interaction
    far = norm.cdf(-true_dprime / np.sqrt(2))
    # "mislabelled" images: always confused with one distractor whose images are never confused back
    for k in range(N_MISLABELLED):
        i = k * 37 % n_images
        t = image_object[i]
        d = (t + 5 + k) % n_objects
        far[i, d] = 1.0
        far[image_object == d, t] = 0.0
    far[np.arange(n_images), image_object] = np.nan

    # trials: every image x distractor cell, shuffled
    image_idx, dist_idx = [], []
    for i in range(n_images):
        for d in range(n_objects):
            if d != image_object[i]:
                n = int(rng.integers(TRIALS_PER_CELL[0], TRIALS_PER_CELL[1] + 1))
                image_idx += [i] * n
                dist_idx += [d] * n
    image_idx, dist_idx = np.array(image_idx), np.array(dist_idx)
    order = rng.permutation(len(image_idx))
    image_idx, dist_idx = image_idx[order], dist_idx[order]
    chose_distractor = rng.random(len(image_idx)) < far[image_idx, dist_idx]
    sample_obj = objects[image_object[image_idx]]
    dist_obj = objects[dist_idx]
    choice = np.where(chose_distractor, dist_obj, sample_obj).astype(object)
    trials = xr.DataArray(
        choice, dims=["presentation"],
        coords={"stimulus_id": ("presentation", stimulus_ids[image_idx]),
                "sample_obj": ("presentation", sample_obj),
                "dist_obj": ("presentation", dist_obj),
                "truth": ("presentation", sample_obj),
                "correct": ("presentation", ~chose_distractor),
                "worker_id": ("presentation", rng.integers(0, 500, size=len(image_idx)))},
        attrs={"identifier": f"synthetic.Rajalingham2018.seed{seed}"})
    _write(trials, outdir / "trials.nc")

    # model: logit margin l_t - l_d = λ·m[i, d], m = a noisy copy of the true d′
    margin = MODEL_SCALE * (0.3 + 0.8 * np.nan_to_num(true_dprime) + rng.normal(0, 0.9, size=(n_images, n_objects)))
    logits = -margin
    logits[np.arange(n_images), image_object] = 0.0
    logits -= logits.max(1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(1, keepdims=True)
    rows, cols = rng.permutation(n_images), rng.permutation(n_objects)
    model = xr.DataArray(
        probabilities[np.ix_(rows, cols)].astype(np.float32), dims=["presentation", "choice"],
        coords={"stimulus_id": ("presentation", stimulus_ids[rows]),
                "stimulus_path": ("presentation", np.array([f"/stimuli/{s}.png" for s in stimulus_ids[rows]],
                                                           dtype=object)),
                "choice": ("choice", objects[cols])},
        attrs={"identifier": f"synthetic-model.seed{seed}"})
    _write(model, outdir / "probabilities.nc")

    summary = {"seed": seed, "n_objects": n_objects, "n_images": n_images, "n_trials": len(image_idx),
               "trials_per_cell": list(TRIALS_PER_CELL), "human_accuracy": float((~chose_distractor).mean()),
               "mislabelled_images": N_MISLABELLED, "files": ["probabilities.nc", "trials.nc"]}
    (outdir / "generate_summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


# ----------------------------------------------------------------------------------------------
# reference (Brain-Score venv only)
# ----------------------------------------------------------------------------------------------
def reference(outdir: Path) -> None:
    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")  # never pip-install plugin requirements
    from types import SimpleNamespace

    from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly
    from brainscore_vision import load_metric
    from brainscore_vision.benchmarks.rajalingham2018.benchmarks.benchmark import _DicarloRajalingham2018

    probabilities = load_assembly(outdir / "probabilities.nc", BehavioralAssembly)
    trials = load_assembly(outdir / "trials.nc", BehavioralAssembly)
    metric = load_metric("i2n")
    score = metric(probabilities, trials)
    ceiling = metric.ceiling(trials)
    ceiled = _DicarloRajalingham2018.ceil_score(SimpleNamespace(_metric=metric), score, ceiling)
    out = {
        "versions": versions(),
        "metric": f"{type(metric).__module__}.{type(metric).__name__}",
        "raw": float(score.values), "raw_error": float(score.attrs["error"]),
        "ceiling": float(ceiling.values), "ceiling_error": float(ceiling.attrs["error"]),
        "ceiled": float(ceiled.values), "ceiled_error": float(ceiled.attrs["error"]),
        "split_raw": score.attrs["raw"].values.tolist(),
        "split_ceiling": ceiling.attrs["raw"].values.tolist(),
        "notes": {
            "raw": "per split: pearsonr(model d′, d′ of human half 0) over cells where half 0 is not NaN; mean over "
                   "the 2 splits, error = std (ddof=0)",
            "ceiling": "per split: pearsonr(half 0, half 1) over cells where half 1 is not NaN, no Spearman-Brown",
            "ceiled": "benchmark ceil_score: mean over splits of raw_s / sqrt(ceiling_s)",
            "halves": "RandomState(0) shuffles range(n_trials) once per split; half 0 = first int(n/2)",
        },
    }
    path = outdir / "brainscore_i2n.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")
    print(json.dumps({k: out[k] for k in ("raw", "ceiling", "ceiled", "split_raw", "split_ceiling")}, indent=1))


# ----------------------------------------------------------------------------------------------
# compare (project venv)
# ----------------------------------------------------------------------------------------------
def compare(outdir: Path) -> None:
    from brainbench.metrics.behavior import TwoAfcTrials, i2n

    reference_result = json.loads((outdir / "brainscore_i2n.json").read_text())
    with xr.open_dataarray(outdir / "probabilities.nc") as model, xr.open_dataarray(outdir / "trials.nc") as trials:
        model, trials = model.load(), trials.load()
    ours = i2n(model.values, model["stimulus_id"].values, model["choice"].values,
               TwoAfcTrials(stimulus_id=trials["stimulus_id"].values, sample_obj=trials["sample_obj"].values,
                            dist_obj=trials["dist_obj"].values, choice=trials.values))
    print(f"{'split':>5} {'brainbench r':>16} {'Brain-Score r':>16} {'|diff|':>9}   "
          f"{'brainbench ceil':>16} {'Brain-Score ceil':>16} {'|diff|':>9}")
    for s, (a, b, c, d) in enumerate(zip(ours.split_raw, reference_result["split_raw"], ours.split_ceiling,
                                         reference_result["split_ceiling"], strict=True)):
        print(f"{s:>5} {a:16.12f} {b:16.12f} {abs(a - b):9.1e}   {c:16.12f} {d:16.12f} {abs(c - d):9.1e}")
    worst = 0.0
    for key in ("raw", "raw_error", "ceiling", "ceiling_error", "ceiled", "ceiled_error"):
        mine = getattr(ours, key if key in ("raw", "ceiling", "ceiled") else f"brainscore_{key}")
        other = reference_result[key]
        worst = max(worst, abs(mine - other))
        print(f"{key:>14}: brainbench {mine:.12f}   Brain-Score {other:.12f}   |diff| {abs(mine - other):.1e}")
    print(f"cells correlated with the model per split: {ours.split_cells.tolist()}; max |diff| {worst:.1e}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("outdir", type=Path)
    g.add_argument("--seed", type=int, default=0)
    for name in ("reference", "compare"):
        sub.add_parser(name).add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    {"generate": lambda: generate(args.outdir, seed=args.seed), "reference": lambda: reference(args.outdir),
     "compare": lambda: compare(args.outdir)}[args.cmd]()


if __name__ == "__main__":
    main()
