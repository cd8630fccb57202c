"""The 'neural' benchmark kind end to end on synthetic data: layer commitment, score, ceiling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from scipy.stats import pearsonr, sem
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import ShuffleSplit

from brainbench.benchmarks.kinds import ModelProbe, run_neural_kind
from brainbench.benchmarks.spec import parse_benchmark
from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import DataFile, Manifest
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.errors import BrainbenchError
from brainbench.metrics.predictivity import regression_input

N_SEL, N_SCORED, Q, REPS = 80, 100, 8, 4


def _dataset(seed: int = 0):
    rng = np.random.default_rng(seed)
    n = N_SEL + N_SCORED
    ids = [f"s{i:03d}" for i in range(n)]
    latent = rng.standard_normal((n, 4))
    features = {
        "noise": rng.standard_normal((n, 30)),
        "good": latent @ rng.standard_normal((4, 30)) + 0.3 * rng.standard_normal((n, 30)),
        "weak": latent @ rng.standard_normal((4, 30)) + 3.0 * rng.standard_normal((n, 30)),
    }

    def assembly(rows: range, reps: int, neuroids: int, name: str) -> xr.DataArray:
        signal = latent[list(rows)] @ rng.standard_normal((4, neuroids))
        trials = signal[None] + rng.standard_normal((reps, len(rows), neuroids))
        r_idx, s_idx = np.divmod(np.arange(reps * len(rows)), len(rows))
        coords = {"stimulus_id": ("presentation", [ids[rows[i]] for i in s_idx])}
        if reps > 1:
            coords["repetition"] = ("presentation", r_idx)
        coords |= {"neuroid_id": ("neuroid", [f"{name}{j}" for j in range(neuroids)]),
                   "region": ("neuroid", ["V4"] * neuroids)}
        return xr.DataArray(trials[r_idx, s_idx], dims=("presentation", "neuroid"), coords=coords), trials

    selection, _ = assembly(range(N_SEL), 1, 6, "a")
    scored, trials = assembly(range(N_SEL, n), REPS, Q, "b")
    metadata = pd.DataFrame({"stimulus_id": ids}).set_index("stimulus_id")
    stimuli = in_memory_stimuli("synthetic", np.zeros((n, 4, 4, 3), np.uint8), metadata)
    manifest = Manifest("synthetic", "synthetic", "none", (DataFile("x", "0" * 64, 1),))
    dataset = Dataset(manifest, stimuli, {"scored": scored, "selection": selection})
    return dataset, features, trials, ids


def _reference_ceiling(trials: np.ndarray) -> float:
    """Brain-Score's internal consistency of (repetitions, stimuli, neuroids) trials, with numpy and scipy."""
    medians = []
    for a, b in ShuffleSplit(n_splits=10, train_size=0.5, random_state=1).split(np.arange(len(trials))):
        half_a, half_b = trials[a].mean(0), trials[b].mean(0)
        r = np.array([pearsonr(half_a[:, j], half_b[:, j])[0] for j in range(trials.shape[2])])
        medians.append(np.median(2 * r / (1 + r)))
    return float(np.mean(medians))


def _probe(features: dict[str, np.ndarray], ids: list[str], as_scorer: bool = False) -> ModelProbe:
    """Layers given as uncentred Gram matrices, or (``as_scorer``) as the scorer gives them: narrow
    layers (all of these: 30 features) as their features (`regression_input`)."""
    row = {s: i for i, s in enumerate(ids)}

    def kernels(stimuli, degrees, layers):
        index = [row[s] for s in stimuli.stimulus_ids]
        x = {name: torch.from_numpy(features[name][index]) for name in layers or features}
        return {name: regression_input(v) if as_scorer else v @ v.T for name, v in x.items()}

    return ModelProbe(list(features), torch.device("cpu"), lambda *a: {}, kernels, dict)


def _spec(**selection):
    return parse_benchmark({
        "id": "Synthetic2000.V4-pls", "version": 1, "kind": "neural", "region": "V4", "dataset": "synthetic",
        "assembly": "scored", "stimulus_degrees": 8,
        "metric": {"regression": "pls", "n_components": 5, "n_splits": 10, "train_size": 0.9, "random_state": 1},
        "layer_selection": selection, "ceiling": {"method": "internal_consistency"},
    })


@pytest.mark.parametrize("as_scorer", [False, True], ids=["grams", "narrow-features"])
def test_layer_committed_on_another_assembly_and_scored_against_sklearn(as_scorer):
    dataset, features, trials, ids = _dataset()
    outcome = run_neural_kind(_spec(assembly="selection"), dataset, _probe(features, ids, as_scorer), profile=True)
    assert outcome.layer == "good"
    profile = outcome.profile
    assert profile["good"]["selection_raw"] > profile["weak"]["selection_raw"] > profile["noise"]["selection_raw"]
    # Independent reference: sklearn PLS on the same splits (stimuli sorted by id = their order here).
    x, y = features["good"][N_SEL:], trials.mean(0)
    medians = []
    for train, test in ShuffleSplit(n_splits=10, train_size=0.9, random_state=1).split(x):
        predicted = PLSRegression(n_components=5, scale=False).fit(x[train], y[train]).predict(x[test])
        medians.append(np.median([pearsonr(predicted[:, j], y[test, j])[0] for j in range(Q)]))
    np.testing.assert_allclose(outcome.details["split_medians"], medians, atol=1e-6)
    assert outcome.raw == pytest.approx(np.mean(medians), abs=1e-6)
    # The ceiling from the trials with scipy: Brain-Score's split halves of the repetitions (ShuffleSplit, seed 1),
    # Spearman–Brown-corrected r per neuroid, median, mean; float64 on both sides: rounding only.
    ceiling = _reference_ceiling(trials)
    assert 0 < ceiling < 1 and outcome.ceiling == pytest.approx(ceiling, abs=1e-12)
    # ceiled = sign(r)·r²/ceiling and its error, the SEM (ddof=1) over splits of the per-split ceiled score, from
    # scikit-learn's split medians and scipy's ceiling: the 1e-6 of the medians, scaled by 2r/ceiling < 3.
    split_ceiled = np.sign(medians) * np.square(medians) / ceiling
    assert outcome.ceiled == pytest.approx(np.mean(medians) ** 2 / ceiling, abs=3e-6)
    assert outcome.error == pytest.approx(sem(split_ceiled), abs=3e-6)
    assert outcome.details["ceiling_convention"] == "explained_variance" and "10 cross-validation splits" in \
        outcome.details["error_method"]
    assert profile["good"]["raw"] == outcome.raw  # exact: the same element of one result
    assert outcome.details["layer_map"] == {"V4": "good"} and outcome.details["n_stimuli"] == N_SCORED


def test_layer_committed_on_a_stratified_half():
    dataset, features, _, ids = _dataset()
    outcome = run_neural_kind(_spec(method="stratified_half", seed=3), dataset, _probe(features, ids))
    assert outcome.layer == "good" and outcome.details["n_stimuli"] == N_SCORED // 2
    assert "stratified half" in outcome.details["layer_selection"]


def test_missing_selection_rule_is_an_error():
    dataset, features, _, ids = _dataset()
    with pytest.raises(BrainbenchError, match="layer_selection"):
        run_neural_kind(_spec(), dataset, _probe(features, ids))


@pytest.mark.parametrize("as_scorer", [False, True], ids=["grams", "narrow-features"])
def test_ridge_benchmark_records_its_penalties(as_scorer):
    dataset, features, _, ids = _dataset()
    spec = _spec(assembly="selection")
    spec = type(spec)(**{**spec.__dict__, "metric": {**spec.metric, "regression": "ridge"}})
    outcome = run_neural_kind(spec, dataset, _probe(features, ids, as_scorer))
    assert outcome.layer == "good" and outcome.details["regression"] == "ridge"
    alphas = np.asarray(outcome.details["ridge_alphas"])
    assert alphas.shape == (10, Q) and (alphas > 0).all()


def test_a_layer_narrower_than_the_pls_components_is_one_error():
    dataset, features, _, ids = _dataset()
    features["tiny"] = features["good"][:, :3]
    with pytest.raises(BrainbenchError, match="Layer tiny has 3 features, fewer than the 5 PLS components"):
        run_neural_kind(_spec(assembly="selection"), dataset, _probe(features, ids, as_scorer=True))


def test_data_too_noisy_to_ceil_is_one_sentence_and_no_score():
    """Trials that are independent noise: their split-half consistency is ≤ 0 (seed 2: −0.106 by the scipy
    reference), so r²/ceiling would be meaningless; the benchmark refuses to ceil, naming itself and the data."""
    dataset, features, _, ids = _dataset()
    noise = np.random.default_rng(2).standard_normal((REPS, N_SCORED, Q))
    assert _reference_ceiling(noise) < 0
    scored = dataset.assemblies["scored"]
    r_idx, s_idx = np.divmod(np.arange(REPS * N_SCORED), N_SCORED)
    dataset.assemblies["scored"] = scored.copy(data=noise[r_idx, s_idx])
    with pytest.raises(BrainbenchError) as caught:
        run_neural_kind(_spec(assembly="selection"), dataset, _probe(features, ids))
    message = str(caught.value)
    assert message.startswith("Benchmark Synthetic2000.V4-pls: the noise ceiling of dataset synthetic (assembly "
                              "scored, 100 stimuli) is -0.11 (≤ 0): its repetitions do not agree")
    assert "raw = " in message and message.endswith("No score was recorded.") and "\n" not in message
