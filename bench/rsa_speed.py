"""RSA speed: brainbench's torch RDM + layer selection against a plain scipy reference, same inputs.

Prints wall times and the ratio (reference / brainbench) for a model-sized sweep: 18 layers of
activations over the 92 images, 10 split-halves × 2 directions, Spearman against 4 subject RDMs.
The reference runs at one BLAS thread and at the default (threadpoolctl); the faster setting counts.
Run with `make bench`. This is a measurement, not a test: nothing here asserts a time; the load average is printed.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from brainbench.benchmarks.rsa import layer_rdms, rsa_score
from brainbench.metrics.splits import stratified_halves

N_STIMULI, N_SUBJECTS, N_SPLITS = 92, 4, 10
FEATURES = [200_000, 100_000, 100_000, 50_000, 50_000, 50_000, 25_000, 25_000, 25_000,
            12_000, 12_000, 12_000, 12_000, 6_000, 6_000, 6_000, 1_280, 1_280]


def reference(activations: list[np.ndarray], subjects: np.ndarray, strata: list[str]) -> tuple[float, list[float]]:
    """The same computation with scipy: pdist RDMs, spearmanr per subject, argmax on one half."""
    rdms = [squareform(pdist(a, "correlation")) for a in activations]
    scores = []
    for half_a, half_b in stratified_halves(strata, N_SPLITS, 0):
        for select, held in ((half_a, half_b), (half_b, half_a)):
            def sim(m: np.ndarray, idx: np.ndarray) -> float:
                iu = np.triu_indices(len(idx), 1)
                sub = m[np.ix_(idx, idx)][iu]
                return float(np.mean([spearmanr(sub, s[np.ix_(idx, idx)][iu])[0] for s in subjects]))
            best = int(np.argmax([sim(m, select) for m in rdms]))
            scores.append(sim(rdms[best], held))
    return float(np.mean(scores)), scores


def main() -> None:
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((N_STIMULI, 64))
    activations = [(latent @ rng.standard_normal((64, f)) + 3 * rng.standard_normal((N_STIMULI, f))).astype(np.float32)
                   for f in FEATURES]
    truth = squareform(pdist(latent, "correlation"))
    subjects = np.stack([truth + 0.3 * np.abs(squareform(rng.standard_normal(N_STIMULI * (N_STIMULI - 1) // 2)))
                         for _ in range(N_SUBJECTS)])
    strata = [str(i % 6) for i in range(N_STIMULI)]

    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"RSA sweep: {len(FEATURES)} layers, {N_STIMULI} stimuli, {N_SPLITS}x2 folds, {N_SUBJECTS} subjects; "
          f"load average {os.getloadavg()[0]:.2f}")
    settings = {}
    for threads in (1, None):  # None: the BLAS libraries' default thread count
        with threadpool_limits(threads):
            start = time.perf_counter()
            ref_raw, ref_folds = reference(activations, subjects, strata)
            settings["1 thread" if threads == 1 else "default threads"] = time.perf_counter() - start
    for name, seconds in settings.items():
        print(f"  scipy reference, BLAS {name:<15} {seconds:8.3f} s   raw {ref_raw:.4f}")
    best = min(settings, key=settings.get)
    t_ref = settings[best]
    print(f"  the reference counts at its best setting: {best}")
    for device in devices:
        tensors = [torch.from_numpy(a) for a in activations]
        for _ in range(2 if device.type == "cuda" else 1):  # one warm-up on the GPU
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            _, model_rdms = layer_rdms(dict(enumerate(tensors)), device)
            result = rsa_score([f"layer{i}" for i in range(len(FEATURES))], model_rdms,
                               torch.from_numpy(subjects).to(device), strata, n_splits=N_SPLITS)
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
        gap = max(abs(a - b) for a, b in zip(result.fold_scores, ref_folds, strict=True))
        print(f"  brainbench ({device.type:4s})        {elapsed:8.3f} s   raw {result.raw:.4f}   "
              f"speed-up x{t_ref / elapsed:6.1f}   max |fold difference| {gap:.1e}")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
