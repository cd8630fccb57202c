"""A simulated neural benchmark for the paired-test tests: a latent signal, recorded neuroids, and "models" whose
features are the same signal plus independent noise; scored by the real 'neural' kind (`run_neural_kind`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from brainbench.benchmarks.kinds import ModelProbe, run_neural_kind
from brainbench.benchmarks.spec import parse_benchmark
from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import DataFile, Manifest
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.leaderboard.record import ScoreRecord
from brainbench.metrics.predictivity import regression_input

N_SELECTION, N_STIMULI, N_NEUROIDS, REPETITIONS = 20, 200, 40, 2
LATENT, FEATURES, TRIAL_NOISE = 8, 30, 2.0


def spec(regression: str = "pls"):
    return parse_benchmark({
        "id": "Sim2026.IT-pls", "version": 1, "kind": "neural", "region": "IT", "dataset": "sim", "assembly": "scored",
        "stimulus_degrees": 8,
        "metric": {"regression": regression, "n_components": 5, "n_splits": 10, "train_size": 0.9, "random_state": 1},
        "layer_selection": {"assembly": "selection"}, "ceiling": {"method": "internal_consistency"},
    })


def world(seed: int, noise: dict[str, float], n_stimuli: int = N_STIMULI,
          n_neuroids: int = N_NEUROIDS) -> tuple[Dataset, dict[str, np.ndarray], list[str]]:
    """(dataset, model name → (stimuli, FEATURES) features, stimulus ids): model m's features are the latent signal
    seen through a fixed mixing plus noise of SD noise[m]; the neuroids are the signal plus trial noise."""
    rng = np.random.default_rng(seed)
    n = N_SELECTION + n_stimuli
    ids = [f"s{i:04d}" for i in range(n)]
    latent = rng.standard_normal((n, LATENT))
    mixing = rng.standard_normal((LATENT, FEATURES))
    features = {name: latent @ mixing + sd * rng.standard_normal((n, FEATURES)) for name, sd in noise.items()}

    def assembly(rows: list[int], neuroids: int, name: str) -> xr.DataArray:
        signal = latent[rows] @ rng.standard_normal((LATENT, neuroids))
        trials = signal[None] + TRIAL_NOISE * rng.standard_normal((REPETITIONS, len(rows), neuroids))
        rep, stimulus = np.divmod(np.arange(REPETITIONS * len(rows)), len(rows))
        coords = {"stimulus_id": ("presentation", [ids[rows[i]] for i in stimulus]),
                  "repetition": ("presentation", rep),
                  "neuroid_id": ("neuroid", [f"{name}{j}" for j in range(neuroids)])}
        return xr.DataArray(trials[rep, stimulus], dims=("presentation", "neuroid"), coords=coords)

    assemblies = {"selection": assembly(list(range(N_SELECTION)), 4, "a"),
                  "scored": assembly(list(range(N_SELECTION, n)), n_neuroids, "b")}
    metadata = pd.DataFrame({"stimulus_id": ids}).set_index("stimulus_id")
    stimuli = in_memory_stimuli("sim", np.zeros((n, 2, 2, 3), np.uint8), metadata)
    manifest = Manifest("sim", "sim", "none", (DataFile("x", "0" * 64, 1),))
    return Dataset(manifest, stimuli, assemblies), features, ids


def score(dataset: Dataset, features: np.ndarray, ids: list[str], model: str, regression: str = "pls") -> ScoreRecord:
    """The record `brainbench score` would make of a one-layer model with these features."""
    row = {s: i for i, s in enumerate(ids)}

    def kernels(stimuli, degrees, layers):
        index = [row[s] for s in stimuli.stimulus_ids]
        return {layer: regression_input(torch.from_numpy(features[index])) for layer in layers}

    probe = ModelProbe(["layer"], torch.device("cpu"), lambda *a: {}, kernels, dict)
    outcome = run_neural_kind(spec(regression), dataset, probe)
    return ScoreRecord(
        model=model, weights_digest="0" * 64, random_init=False, benchmark="Sim2026.IT-pls", benchmark_version=1,
        region="IT", raw=outcome.raw, ceiling=outcome.ceiling, ceiled=outcome.ceiled, error=outcome.error,
        layer=outcome.layer, brainbench_version="test", seed=0, device="cpu", started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00", details=outcome.details, units=outcome.units,
    )
