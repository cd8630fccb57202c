"""`brainbench evaluate` whole process at MajajHong2015 size, beside a whole-process scikit-learn/scipy reference.

``write DIR`` writes, in Brain-Score's netCDF layout (as brainio's ``write_netcdf`` does: plain coordinates, variable
``data``, zlib), ``features.nc`` (3 200 stimuli × 1 000 float32 features, rows in another order than the assembly's)
and ``assembly.nc`` (168 neuroids × 50 repetitions of every stimulus, float32, presentation × neuroid × time_bin,
rows shuffled, with stimulus_id, repetition and object_name; neuroid_id, region and animal), from
`neural_speed.synthetic`'s seeded data. Brain-Score's own code runs on the same files:
``brainscore_reference.py timing DIR --bsenv VENV``.

``run DIR [--runs 3]`` times, each as its own process and alternating, median of ``--runs`` (each brainbench run after
an untimed warm-up one, as ``brainscore_reference.py timing`` explains):

* ``brainbench evaluate --features F --assembly A --stratify object_name --json``, with its peak RSS;
* a reference process doing the same steps with the libraries Brain-Score's metric uses (xarray to read and average
  the repetitions, scikit-learn ``PLSRegression(25, scale=False)`` per split, ``scipy.stats.pearsonr`` per neuroid,
  numpy medians; the split-half ceiling), at one BLAS thread and at the default (threadpoolctl): the faster counts;

and prints the wall times, the ratio, peak RSS and the load average before and after. Only the reference's first
``--reference-splits`` PLS fits (default all 10) are timed when asked, scaled up, and said so. Brain-Score's own code
is timed by ``brainscore_reference.py timing`` (needs its venv). A measurement, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_COMPONENTS, N_SPLITS = 25, 10


def write(outdir: Path) -> None:
    """The features and the assembly at MajajHong2015 size, Brain-Score's layout."""
    import xarray as xr

    sys.path.insert(0, str(HERE))
    from brainscore_reference import _write_brainio
    from neural_speed import IMAGES_PER_OBJECT, N_OBJECTS, synthetic

    rng = np.random.default_rng(2015)
    _, features, trials, objects = synthetic(rng)
    n_rep, n, q = trials.shape
    ids = np.array([f"im{i:05d}" for i in range(n)])
    names = np.array([f"object{o:02d}" for o in range(N_OBJECTS)])[objects]
    order = rng.permutation(n_rep * n)  # presentation rows shuffled, as recordings are not sorted
    rep, stim = np.divmod(order, n)
    assembly = xr.DataArray(
        trials.reshape(n_rep * n, q)[order][:, :, None], dims=("presentation", "neuroid", "time_bin"),
        coords={"stimulus_id": ("presentation", ids[stim]), "repetition": ("presentation", rep.astype(np.int64)),
                "object_name": ("presentation", names[stim]),
                "neuroid_id": ("neuroid", np.array([f"n{j:03d}" for j in range(q)])),
                "region": ("neuroid", np.array(["IT"] * q)),
                "animal": ("neuroid", np.where(np.arange(q) < q // 2, "Chabo", "Tito")),  # ≥ 2 levels left by sel
                "time_bin_start": ("time_bin", np.array([70])), "time_bin_end": ("time_bin", np.array([170]))},
        attrs={"identifier": "synthetic.MajajHong2015-size", "images_per_object": IMAGES_PER_OBJECT})
    outdir.mkdir(parents=True, exist_ok=True)
    _write_brainio(assembly, outdir / "assembly.nc")
    shuffled = rng.permutation(n)
    feats = xr.DataArray(features[shuffled], dims=("presentation", "neuroid"),
                         coords={"stimulus_id": ("presentation", ids[shuffled]),
                                 "neuroid_id": ("neuroid", np.array([f"f{k}" for k in range(features.shape[1])]))})
    _write_brainio(feats, outdir / "features.nc")
    print(f"wrote {outdir}/assembly.nc ({n_rep * n} presentations × {q} neuroids) and features.nc ({n} × "
          f"{features.shape[1]})")


def reference(outdir: Path, threads: str, splits_timed: int) -> None:
    """The reference's steps in this process; prints {raw, ceiling, ceiled, seconds} as JSON."""
    import warnings

    import scipy.stats
    import xarray as xr
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    limits = threadpool_limits(1) if threads == "1" else None
    trials = xr.open_dataarray(outdir / "assembly.nc").load().squeeze("time_bin", drop=True)
    averaged = trials.groupby("stimulus_id").mean("presentation")  # sorted by stimulus_id, as Brain-Score's
    ids = averaged["stimulus_id"].values
    object_of = dict(zip(trials["stimulus_id"].values, trials["object_name"].values, strict=False))
    strata = np.array([object_of[s] for s in ids])
    y = averaged.transpose("stimulus_id", "neuroid").values.astype(np.float64)
    features = xr.open_dataarray(outdir / "features.nc").load()
    rows = {s: i for i, s in enumerate(features["stimulus_id"].values)}
    x = features.values[[rows[s] for s in ids]].astype(np.float64)
    splitter = StratifiedShuffleSplit(n_splits=N_SPLITS, train_size=0.9, test_size=None, random_state=1)
    medians, fitted = [], 0
    split_start = time.perf_counter()
    for train, test in list(splitter.split(np.zeros(len(ids)), strata))[:splits_timed]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prediction = PLSRegression(N_COMPONENTS, scale=False).fit(x[train], y[train]).predict(x[test])
        r = [scipy.stats.pearsonr(y[test][:, j], prediction[:, j])[0] for j in range(y.shape[1])]
        medians.append(float(np.nanmedian(r)))
        fitted += 1
    regression_s = time.perf_counter() - split_start
    reps = np.unique(trials["repetition"].values)
    halves_medians = []
    for a, b in ShuffleSplit(N_SPLITS, train_size=0.5, random_state=1).split(np.zeros(len(reps))):
        half = [trials.isel(presentation=np.isin(trials["repetition"].values, reps[h])).groupby("stimulus_id")
                .mean("presentation").transpose("stimulus_id", "neuroid").values.astype(np.float64) for h in (a, b)]
        r = np.array([scipy.stats.pearsonr(half[0][:, j], half[1][:, j])[0] for j in range(y.shape[1])])
        halves_medians.append(np.nanmedian(2 * r / (1 + r)))
    if limits is not None:
        limits.unregister()
    raw, ceiling = float(np.mean(medians)), float(np.mean(halves_medians))
    measured = time.perf_counter() - start
    print(json.dumps({"raw": raw, "ceiling": ceiling, "ceiled": raw ** 2 / ceiling, "measured_seconds": measured,
                      "seconds": measured + regression_s * (N_SPLITS / fitted - 1), "splits_timed": fitted}))


def whole_process(command: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, the process's own peak RSS in GB, the JSON it printed last) of ``command`` as its own process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)  # reaped here, so its rusage is its own (ru_maxrss: KiB on Linux)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text = out.read()
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{err.read()}")
    return wall, usage.ru_maxrss * 1024 / 1e9, json.loads(text[text.index("{"):])


def evaluate_command(outdir: Path) -> list[str]:
    """`brainbench evaluate` on the written files, on the CPU, JSON out."""
    return [str(Path(sys.executable).parent / "brainbench"), "evaluate", "--features", str(outdir / "features.nc"),
            "--assembly", str(outdir / "assembly.nc"), "--stratify", "object_name", "--device", "cpu", "--json"]


def run(outdir: Path, runs: int, splits_timed: int) -> None:
    load_before = os.getloadavg()[0]
    ours, references = [], {"1 thread": [], "default threads": []}
    for _ in range(runs):
        whole_process(evaluate_command(outdir))  # warm-up after the references' long runs (brainscore_reference.py)
        ours.append(whole_process(evaluate_command(outdir)))
        for threads, times in references.items():
            times.append(whole_process([sys.executable, __file__, "reference", str(outdir), "--threads",
                                        threads.split()[0], "--reference-splits", str(splits_timed)]))
    load_after = os.getloadavg()[0]
    wall, work = statistics.median(t[0] for t in ours), statistics.median(t[2]["seconds"] for t in ours)
    scaled = "" if splits_timed >= N_SPLITS else f"; PLS timed on {splits_timed} of {N_SPLITS} splits and scaled"
    print(f"evaluate at MajajHong2015 size (3200 stimuli × 1000 features → 168 neuroids × 50 repetitions, PLS-25 on "
          f"10 stratified splits + internal-consistency ceiling), whole process, median of {runs}, alternating; "
          f"{os.cpu_count()} CPUs, load average {load_before:.2f} before, {load_after:.2f} after{scaled}")
    print(f"  brainbench evaluate                  {wall:7.2f} s  (its own work {work:6.2f} s)  peak RSS "
          f"{max(t[1] for t in ours):.2f} GB   raw {ours[0][2]['raw']:.6f} ceiling {ours[0][2]['ceiling']:.6f}")
    walls = {}
    for threads, times in references.items():
        walls[threads] = statistics.median(t[0] for t in times) + statistics.median(
            t[2]["seconds"] - t[2]["measured_seconds"] for t in times)  # + the scaled-up share, if any
        print(f"  reference, BLAS {threads:<15}     {walls[threads]:7.2f} s  (its own work "
              f"{statistics.median(t[2]['seconds'] for t in times):6.2f} s)  peak RSS "
              f"{max(t[1] for t in times):.2f} GB   raw {times[0][2]['raw']:.6f} ceiling {times[0][2]['ceiling']:.6f}")
    best = min(walls, key=walls.get)
    print(f"  reference at its best setting ({best}) / brainbench: ×{walls[best] / wall:.1f} whole process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("write").add_argument("outdir", type=Path)
    r = sub.add_parser("run")
    r.add_argument("outdir", type=Path)
    r.add_argument("--runs", type=int, default=3)
    r.add_argument("--reference-splits", type=int, default=N_SPLITS)
    ref = sub.add_parser("reference")
    ref.add_argument("outdir", type=Path)
    ref.add_argument("--threads", choices=("1", "default"), default="default")
    ref.add_argument("--reference-splits", type=int, default=N_SPLITS)
    args = parser.parse_args()
    if args.cmd == "write":
        write(args.outdir)
    elif args.cmd == "reference":
        reference(args.outdir, args.threads, args.reference_splits)
    else:
        run(args.outdir, args.runs, args.reference_splits)


if __name__ == "__main__":
    main()
