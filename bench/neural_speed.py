"""Neural predictivity speed at MajajHong2015 size: brainbench's PLS + ceiling against bare scikit-learn.

Synthetic, seeded data shaped like Brain-Score's MajajHong2015 IT benchmark: 3200 stimuli (64 objects ×
50 images) × 1000 model features → 168 neuroids recorded over 50 repetitions; PLS with 25 components on
Brain-Score's 10 stratified splits (StratifiedShuffleSplit by object, seed 1), plus the split-half
internal-consistency ceiling. The reference is what Brain-Score runs: scikit-learn ``PLSRegression``
fitted per split, ``scipy.stats.pearsonr`` per neuroid, numpy medians and means, and a numpy ceiling; it runs at
one BLAS thread and at the default (threadpoolctl), and the faster setting is the one the ratios use (under
contention, two OpenBLAS threads made one fit 5–9× slower than one thread).
brainbench runs what ``brainbench evaluate`` and ``brainbench score`` run for a layer this size:
`feature_predictivity` (fewer features than stimuli, so PLS runs in feature space, float64, no Gram
matrix) and `internal_consistency`; it is also timed in kernel form (`gram` +
`cross_validated_predictivity`, the route of layers wider than their stimuli). Then a 20-layer sweep
as `brainbench score` runs it (layers of 64 … 8192 features; the Grams of those wider than the stimuli
batched in one call, the others in feature space), and the same on CUDA when present (timed after a
warm-up, with synchronisation).
Both sides run in one process with glibc's allocator set as the brainbench commands set it
(`models.allocator.retain_freed_memory`).

Run with `make bench`. This is a measurement, not a test: nothing here asserts a time. The load average is printed
before and after (other work on the machine slows both sides; the ratios are measured side by side). Whole-process
figures (`brainbench evaluate` against a reference process on files of this size): bench/evaluate_speed.py.
scikit-learn needs ~2 s per split here; it is timed on the first SKLEARN_SPLITS splits and scaled. brainbench
times are the median of REPEATS calls after a first one (reported apart: it includes one-time set-up).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import scipy.stats
import torch
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import ShuffleSplit
from threadpoolctl import threadpool_limits

from brainbench.metrics.predictivity import (
    cross_validated_predictivity,
    feature_predictivity,
    internal_consistency,
    layers_predictivity,
    regression_input,
)
from brainbench.metrics.regression import gram
from brainbench.metrics.splits import brainscore_splits
from brainbench.models.allocator import retain_freed_memory

N_OBJECTS, IMAGES_PER_OBJECT = 64, 50
N_STIMULI = N_OBJECTS * IMAGES_PER_OBJECT
N_FEATURES, N_NEUROIDS, N_REPETITIONS, N_SPLITS, N_COMPONENTS = 1000, 168, 50, 10, 25
SKLEARN_SPLITS = int(os.environ.get("BRAINBENCH_BENCH_SKLEARN_SPLITS", "2"))
REPEATS = 3  # brainbench timings: the median of this many calls after the first
SWEEP_WIDTHS = np.geomspace(64, 8192, 20).astype(int).tolist()
LATENT = 64


def synthetic(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(latent (n, d), features (n, p) float32, trials (reps, n, q) float32, object labels (n,)).

    A 64-d latent per image (an object part plus an image part, power-law variances); model features
    = ReLU(latent·W + noise); each neuroid = a linear readout of the latent plus a reliable
    stimulus-specific part the features lack, plus trial noise. Calibrated to MajajHong2015 IT-like
    numbers: ceiling ≈ 0.85, raw r ≈ 0.6.
    """
    objects = np.repeat(np.arange(N_OBJECTS), IMAGES_PER_OBJECT)
    scale = np.arange(1, LATENT + 1) ** -0.5
    latent = (0.7 * rng.standard_normal((N_OBJECTS, LATENT))[objects]
              + rng.standard_normal((N_STIMULI, LATENT))) * scale
    features = layer(latent, N_FEATURES, rng)
    signal = latent @ rng.standard_normal((LATENT, N_NEUROIDS))
    truth = signal / signal.std(0) + 0.9 * rng.standard_normal((N_STIMULI, N_NEUROIDS))
    trials = truth[None] + 4 * rng.standard_normal((N_REPETITIONS, N_STIMULI, N_NEUROIDS))
    return latent, features, trials.astype(np.float32), objects


def layer(latent: np.ndarray, width: int, rng: np.random.Generator, noise: float = 0.5) -> np.ndarray:
    """A ReLU layer of `width` units reading the latent, float32."""
    x = latent @ rng.standard_normal((latent.shape[1], width)) + noise * rng.standard_normal((len(latent), width))
    return np.maximum(x, 0).astype(np.float32)


def sklearn_split_medians(features: np.ndarray, responses: np.ndarray, splits) -> list[float]:
    """Brain-Score's loop: PLSRegression(25, scale=False) per split, pearsonr per neuroid, nanmedian."""
    x = features.astype(np.float64)
    medians = []
    for train, test in splits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prediction = PLSRegression(n_components=N_COMPONENTS, scale=False).fit(x[train], responses[train])
            prediction = prediction.predict(x[test])
        r = [scipy.stats.pearsonr(responses[test][:, j], prediction[:, j])[0] for j in range(N_NEUROIDS)]
        medians.append(float(np.nanmedian(r)))
    return medians


def numpy_ceiling(trials: np.ndarray, repetitions: np.ndarray) -> float:
    """Split-half consistency as Brain-Score computes it, in numpy/scipy."""
    values = np.unique(repetitions)
    medians = []
    for a, b in ShuffleSplit(N_SPLITS, train_size=0.5, random_state=1).split(np.zeros(len(values))):
        half1 = np.nanmean(trials[np.isin(repetitions, values[a])], axis=0, dtype=np.float64)
        half2 = np.nanmean(trials[np.isin(repetitions, values[b])], axis=0, dtype=np.float64)
        r = np.array([scipy.stats.pearsonr(half1[:, j], half2[:, j])[0] for j in range(N_NEUROIDS)])
        medians.append(np.nanmedian(2 * r / (1 + r)))
    return float(np.mean(medians))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def brainbench_run(features: torch.Tensor, responses: torch.Tensor, trials: torch.Tensor, splits, device,
                   kernel_form: bool = False):
    sync(device)
    start = time.perf_counter()
    if kernel_form:
        k = gram(features.to(device), center=True)
        result = cross_validated_predictivity(k, responses.to(device), splits, "pls", N_COMPONENTS)
    else:
        result = feature_predictivity(features.to(device), responses.to(device), splits, "pls", N_COMPONENTS)
    consistency = internal_consistency(trials.to(device), np.arange(N_REPETITIONS))
    sync(device)
    return time.perf_counter() - start, result, consistency


def sweep_run(layers: list[torch.Tensor], responses: torch.Tensor, splits, device) -> tuple[float, torch.Tensor]:
    """As `brainbench score` runs its candidate layers: Grams of the wide ones solved together, the
    narrow ones (fewer features than stimuli) in feature space."""
    sync(device)
    start = time.perf_counter()
    kernels = [regression_input(layer.to(device)) for layer in layers]
    result = layers_predictivity(kernels, responses.to(device), splits, "pls", N_COMPONENTS)
    sync(device)
    return time.perf_counter() - start, result.raw


def main() -> None:
    retain_freed_memory()
    rng = np.random.default_rng(2015)
    latent, features, trials, objects = synthetic(rng)
    repetitions = np.arange(N_REPETITIONS)
    responses = trials.astype(np.float64).mean(0)
    splits = brainscore_splits(N_STIMULI, n_splits=N_SPLITS, stratify=objects)
    n_ref = max(1, min(SKLEARN_SPLITS, N_SPLITS))
    print(f"Neural predictivity at MajajHong2015 size: {N_STIMULI} stimuli x {N_FEATURES} features -> "
          f"{N_NEUROIDS} neuroids, {N_REPETITIONS} repetitions, PLS-{N_COMPONENTS}, {N_SPLITS} stratified splits "
          f"(torch threads: {torch.get_num_threads()})")

    print(f"  load average before: {os.getloadavg()[0]:.2f}")
    scaled = f"timed on {n_ref} of {N_SPLITS} splits, scaled x{N_SPLITS / n_ref:g}"
    scaled = scaled if n_ref < N_SPLITS else "all splits"
    settings = {}
    for threads in (1, None):  # None: the BLAS libraries' default thread count
        with threadpool_limits(threads):
            start = time.perf_counter()
            ref_medians = sklearn_split_medians(features, responses, splits[:n_ref])
            t_sklearn = (time.perf_counter() - start) * N_SPLITS / n_ref
            start = time.perf_counter()
            ref_ceiling = numpy_ceiling(trials, repetitions)
            t_ceiling = time.perf_counter() - start
        name = "1 thread" if threads == 1 else "default threads"
        settings[name] = t_sklearn + t_ceiling
        print(f"  scikit-learn PLS + numpy ceiling, BLAS {name:<15} {t_sklearn + t_ceiling:8.2f} s   "
              f"(PLS {t_sklearn:.2f} s, {scaled}; ceiling {t_ceiling:.2f} s)")
    best = min(settings, key=settings.get)
    t_reference = settings[best]
    print(f"  the reference counts at its best setting: {best}, {t_reference:.2f} s")

    tensors = torch.from_numpy(features), torch.from_numpy(responses), torch.from_numpy(trials)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        for kernel_form in (False, True):
            first, _, _ = brainbench_run(*tensors, splits, device, kernel_form)  # one-time set-up (CUDA warm-up)
            runs = [brainbench_run(*tensors, splits, device, kernel_form) for _ in range(REPEATS)]
            elapsed, result, consistency = sorted(runs, key=lambda run: run[0])[REPEATS // 2]  # the median run
            gap = max(abs(float(a) - b) for a, b in zip(result.split_medians[:n_ref].cpu(), ref_medians, strict=True))
            route = "kernel form " if kernel_form else "features    "
            print(f"  brainbench ({device.type:4s}, {route})  {elapsed:8.2f} s   "
                  f"speed-up x{t_reference / elapsed:6.1f}   (first call {first:.2f} s, x{t_reference / first:.1f})   "
                  f"max |split median difference| {gap:.1e} (over {n_ref} splits)   "
                  f"|ceiling difference| {abs(consistency.ceiling - ref_ceiling):.1e}")
    print(f"  raw {float(result.raw):.4f} ± {float(result.error):.4f}   ceiling {consistency.ceiling:.4f}   "
          f"ceiled {float(result.raw) ** 2 / consistency.ceiling:.4f}")

    layers = [torch.from_numpy(layer(latent, width, rng, noise=0.25 + 0.1 * i)) for i, width in enumerate(SWEEP_WIDTHS)]
    print(f"20-layer sweep: widths {SWEEP_WIDTHS[0]}..{SWEEP_WIDTHS[-1]} ({sum(SWEEP_WIDTHS)} features in all), "
          f"PLS-{N_COMPONENTS} on {N_SPLITS} splits as `score` runs them (Grams of wide layers batched, narrow layers "
          f"in feature space)")
    for device in devices:
        for _ in range(2 if device.type == "cuda" else 1):
            elapsed, raw = sweep_run(layers, tensors[1], splits, device)
        best = int(torch.argmax(raw))
        print(f"  brainbench ({device.type:4s})               {elapsed:8.2f} s   "
              f"({elapsed / len(layers):.2f} s per layer; best layer {best}, raw {float(raw[best]):.4f})")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
