"""Ridge layer selection speed at Cowley2023.V4-ridge's shapes: brainbench against scikit-learn's RidgeCV.

Synthetic, seeded data shaped like the layer selection of ``Cowley2023.V4-ridge`` for a ResNet-18: 1200 stimuli
(session 210225) × 55 V4 neuroids, Brain-Score's 10 shuffle splits (90 % train, seed 1), Brain-Score's grid of 99
ridge penalties chosen per neuroid by leave-one-out on each training split, and 9 candidate layers: 8 residual
blocks wider than the stimuli (2048 ReLU features each here; the real ones have 25k-200k, which changes the Gram
matrix's cost but not the regression's, solved from the 1200 × 1200 Gram) and a 512-wide pooled layer.
The reference is what Brain-Score's code runs per layer and split: ``RidgeCV(alphas, alpha_per_target=True)``
fitted on the training features, ``predict`` on the test ones, ``scipy.stats.pearsonr`` per neuroid, numpy
median. It runs at one BLAS thread and at the default (threadpoolctl); the faster setting is the one the ratio
uses. brainbench runs what a benchmark's layer selection runs: `regression_input` per layer (the centred Gram
matrix, or the features of the narrow layer) and `layers_predictivity(..., method="ridge")`, timed with the Gram
matrices (once per layer) and without them (the regressions alone), and on CUDA when present (after a warm-up).
The split medians agree with the reference's to ~1e-7, not ~1e-13: as in a benchmark, the float32 features'
Gram matrices are multiplied in float32 (`regression.gram`); from float64 features the same penalties are chosen
and the predictions agree with scikit-learn's to ~1e-13 relative.

Run with ``python bench/ridge_speed.py``. A measurement, not a test: nothing asserts a time. The load average is
printed before and after (other work on the machine slows both sides; they run side by side in one process).
scikit-learn is timed on the first SKLEARN_SPLITS splits and scaled to all of them.
"""

from __future__ import annotations

import os
import time

import numpy as np
import scipy.stats
import torch
from neural_speed import sync  # a sibling script: bench/ is on the path when this one runs
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

from brainbench.metrics.predictivity import layers_predictivity, regression_input
from brainbench.metrics.regression import BRAINSCORE_ALPHAS
from brainbench.metrics.splits import brainscore_splits
from brainbench.models.allocator import retain_freed_memory

N_STIMULI, N_NEUROIDS, N_SPLITS, LATENT = 1200, 55, 10, 64
WIDTHS = [2048] * 8 + [512]  # 8 residual blocks (wider than the stimuli), then the pooled layer
SKLEARN_SPLITS = int(os.environ.get("BRAINBENCH_BENCH_SKLEARN_SPLITS", "2"))
ALPHAS = np.asarray(BRAINSCORE_ALPHAS)


def synthetic(rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """(layers: (n, width) float32 each, responses (n, q) float64): ReLU layers reading a 64-d latent with
    power-law variances at rising noise levels; each neuroid a linear readout of the latent plus noise."""
    latent = rng.standard_normal((N_STIMULI, LATENT)) * np.arange(1, LATENT + 1) ** -0.5
    layers = []
    for i, width in enumerate(WIDTHS):
        x = latent @ rng.standard_normal((LATENT, width)) + (0.3 + 0.1 * i) * rng.standard_normal((N_STIMULI, width))
        layers.append(np.maximum(x, 0).astype(np.float32))
    signal = latent @ rng.standard_normal((LATENT, N_NEUROIDS))
    responses = signal / signal.std(0) + 1.5 * rng.standard_normal((N_STIMULI, N_NEUROIDS))
    return layers, responses


def sklearn_split_medians(layers: list[np.ndarray], responses: np.ndarray, splits) -> np.ndarray:
    """Brain-Score's loop per layer and split: RidgeCV fit and predict, pearsonr per neuroid, median. (L, splits)."""
    medians = np.empty((len(layers), len(splits)))
    for i, features in enumerate(layers):
        x = features.astype(np.float64)
        for s, (train, test) in enumerate(splits):
            model = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(x[train], responses[train])
            prediction = model.predict(x[test])
            r = [scipy.stats.pearsonr(responses[test][:, j], prediction[:, j])[0] for j in range(N_NEUROIDS)]
            medians[i, s] = np.nanmedian(r)
    return medians


def brainbench_run(layers: list[torch.Tensor], responses: torch.Tensor, splits, device: torch.device):
    """(seconds with the Gram matrices, seconds of the regressions alone, split medians (L, splits))."""
    sync(device)
    start = time.perf_counter()
    kernels = [regression_input(layer.to(device)) for layer in layers]
    sync(device)
    grams_done = time.perf_counter()
    result = layers_predictivity(kernels, responses.to(device), splits, "ridge", alphas=ALPHAS)
    sync(device)
    end = time.perf_counter()
    return end - start, end - grams_done, result.split_medians.cpu().numpy()


def main() -> None:
    retain_freed_memory()
    layers, responses = synthetic(np.random.default_rng(2023))
    splits = brainscore_splits(N_STIMULI, n_splits=N_SPLITS, train_size=0.9, random_state=1)
    n_ref = max(1, min(SKLEARN_SPLITS, N_SPLITS))
    print(f"Ridge layer selection at Cowley2023.V4-ridge size: {N_STIMULI} stimuli -> {N_NEUROIDS} neuroids, "
          f"{len(layers)} layers ({WIDTHS[0]} x {len(WIDTHS) - 1}, {WIDTHS[-1]}), {len(ALPHAS)} penalties per "
          f"neuroid by leave-one-out, {N_SPLITS} splits (torch threads: {torch.get_num_threads()})")
    print(f"  load average before: {os.getloadavg()[0]:.2f}")
    scaled = f"timed on {n_ref} of {N_SPLITS} splits, scaled x{N_SPLITS / n_ref:g}" if n_ref < N_SPLITS else "all"
    settings, ref_medians = {}, None
    for threads in (1, None):  # None: the BLAS libraries' default thread count
        with threadpool_limits(threads):
            start = time.perf_counter()
            ref_medians = sklearn_split_medians(layers, responses, splits[:n_ref])
            settings["1 thread" if threads == 1 else "default threads"] = elapsed = (
                (time.perf_counter() - start) * N_SPLITS / n_ref)
        print(f"  scikit-learn RidgeCV, BLAS {'1 thread' if threads == 1 else 'default threads':<15} "
              f"{elapsed:8.2f} s   ({scaled})")
    best = min(settings, key=settings.get)
    t_reference = settings[best]
    print(f"  the reference counts at its best setting: {best}, {t_reference:.2f} s")

    tensors = [torch.from_numpy(x) for x in layers]
    y = torch.from_numpy(responses)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        if device.type == "cuda":
            brainbench_run(tensors, y, splits, device)  # CUDA warm-up
        total, regressions, medians = brainbench_run(tensors, y, splits, device)
        gap = float(np.abs(medians[:, :n_ref] - ref_medians).max())
        print(f"  brainbench ({device.type:4s}) {total:8.2f} s with the Gram matrices, {regressions:.2f} s "
              f"regressions alone   speed-up x{t_reference / total:5.1f} (x{t_reference / regressions:.1f})   "
              f"max |split median difference| {gap:.1e} (over {n_ref} splits)")
    raw = medians.mean(1)
    print(f"  best layer {int(np.argmax(raw))}, raw {raw.max():.4f}")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
