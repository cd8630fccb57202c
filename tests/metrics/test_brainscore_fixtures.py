"""brainbench against Brain-Score 2.4.2's own numbers, split by split, on small committed files.

``tests/fixtures/brainscore/`` holds generated inputs in Brain-Score's netCDF layout and the numbers Brain-Score's
code computed on them (PLS and ridge predictivity, internal-consistency ceiling, RDM similarity, i2n), with the
versions that computed them; ``python bench/brainscore_fixtures.py --bsenv DIR`` regenerates all of it. These
tests need no Brain-Score install: they read the inputs with brainbench's readers, run brainbench's functions and
compare. A wrong split, ordering, centring, median, error formula or ceiling moves these numbers by far more than
the tolerances (by 1e-3 or more; the split medians of neighbouring splits differ by ~1e-2).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from brainbench.benchmarks.evaluate import evaluate_features, evaluate_i2n
from brainbench.benchmarks.neural import NeuralData, neural_data, select_time_bin
from brainbench.data.brainscore_format import read_assembly
from brainbench.data.loaders.brainscore_behavior import read_probabilities, read_trials
from brainbench.metrics.predictivity import cross_validated_predictivity, feature_predictivity, internal_consistency
from brainbench.metrics.rdm import compare_rdms, rdm, subset
from brainbench.metrics.regression import gram
from brainbench.metrics.splits import brainscore_splits

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "brainscore"


@pytest.fixture(scope="module")
def brainscore() -> dict:
    """Brain-Score's numbers on the neural files (``bench/brainscore_reference.py reference``)."""
    return json.loads((FIXTURES / "neural" / "brainscore_result.json").read_text())


@pytest.fixture(scope="module")
def data() -> NeuralData:
    """The assembly as brainbench averages it: stimuli in Brain-Score's averaged order."""
    return neural_data(select_time_bin(read_assembly(FIXTURES / "neural" / "assembly.nc")), stratify="object_name")


@pytest.fixture(scope="module")
def features(data: NeuralData) -> torch.Tensor:
    """(n_stimuli, n_features) float64 features in the order of ``data`` (the file's own precision)."""
    model = read_assembly(FIXTURES / "neural" / "features.nc")
    row = {str(s): i for i, s in enumerate(model["stimulus_id"].values)}
    return torch.from_numpy(np.asarray(model.values, dtype=np.float64)[[row[s] for s in data.stimulus_ids]])


def _per_neuroid(recorded: dict, key: str) -> np.ndarray:
    """Brain-Score's (split, neuroid) values with neuroids in the assembly's order (brainbench's columns)."""
    order = [str(n) for n in read_assembly(FIXTURES / "neural" / "assembly.nc")["neuroid_id"].values]
    column = {n: j for j, n in enumerate(recorded["neuroid_id"])}
    return np.asarray(recorded[key])[:, [column[n] for n in order]]


def _test_indices(splits: list[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    return [test.tolist() for _, test in splits]


def test_stimulus_order_and_splits_are_brainscores(data: NeuralData, brainscore: dict):
    # Integers and ids: exact. Index i is the i-th stimulus of Brain-Score's averaged assembly on both sides.
    assert data.stimulus_ids == brainscore["averaged_stimulus_order"]
    n = len(data.stimulus_ids)
    splits = brainscore_splits(n, stratify=data.strata)
    assert _test_indices(splits) == brainscore["pls"]["test_indices_per_split"]
    assert _test_indices(splits) == brainscore["ridge"]["test_indices_per_split"]
    # RDMCrossValidated draws StratifiedShuffleSplit(test_size=0.9); with train_size=0.1 scikit-learn draws the same
    # sets whenever the counts agree: ceil(0.9·128) = 116 test = 128 − floor(0.1·128).
    rdm_splits = brainscore_splits(n, train_size=0.1, stratify=data.strata)
    assert _test_indices(rdm_splits) == brainscore["rdm"]["test_indices_per_split"]


def test_pls_and_ceiling_of_evaluate_features_match_brainscore(brainscore: dict):
    ours = evaluate_features(read_assembly(FIXTURES / "neural" / "features.nc"),
                             read_assembly(FIXTURES / "neural" / "assembly.nc"),
                             metric="pls", stratify="object_name", device="cpu")
    pls, ceiling = brainscore["pls"], brainscore["ceiling"]
    # evaluate_features keeps the file's float64 features, as scikit-learn does: the order of float64 sums over 25
    # deflations remains (4.3e-15 measured on the split medians; it was 8.1e-9 when evaluate cast them to float32).
    # 1e-10 leaves room for any BLAS and none for a float32 cast.
    np.testing.assert_allclose(ours.split_medians, pls["per_split_median"], rtol=0, atol=1e-10)
    # brainscore_raw_error is Brain-Score's own error of the raw score (std with ddof=0 of the split medians / √n).
    np.testing.assert_allclose([ours.raw, ours.brainscore_raw_error], [pls["raw"], pls["error"]], rtol=0, atol=1e-10)
    # Brain-Score's ceiled score is r²/ceiling; r > 0 here, so brainbench's sign(r)·r²/ceiling is the same number.
    assert pls["raw"] > 0
    np.testing.assert_allclose([ours.ceiled], [pls["ceiled"]], rtol=0, atol=1e-10)
    # brainbench's error: SEM (ddof=1) over splits of the per-split ceiled score, from Brain-Score's split medians
    # and ceiling by the closed form (6.6e-15 measured per split).
    medians = np.asarray(pls["per_split_median"])
    split_ceiled = np.sign(medians) * medians**2 / ceiling["ceiling"]
    np.testing.assert_allclose(ours.split_ceiled, split_ceiled, rtol=0, atol=1e-10)
    np.testing.assert_allclose([ours.error], [split_ceiled.std(ddof=1) / np.sqrt(len(medians))], rtol=0, atol=1e-10)
    assert ours.ceiling_convention == "explained_variance" and "ddof=1" in ours.error_method
    # The ceiling uses only the responses, float64 on both sides: summation order only (2.2e-16 measured).
    np.testing.assert_allclose(ours.ceiling_split_medians, ceiling["per_split_median"], rtol=0, atol=1e-12)
    np.testing.assert_allclose([ours.ceiling], [ceiling["ceiling"]], rtol=0, atol=1e-12)


def test_internal_consistency_matches_brainscore_per_neuroid(data: NeuralData, brainscore: dict):
    ours = internal_consistency(data.repetitions, data.repetition_values)
    recorded = brainscore["ceiling"]
    # Spearman–Brown r per split and neuroid, float64 means and correlations on both sides: rounding only.
    expected = _per_neuroid(recorded, "per_split_per_neuroid_spearman_brown_r")
    np.testing.assert_allclose(ours.per_neuroid.numpy(), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose([ours.ceiling, ours.error], [recorded["ceiling"], recorded["error"]], rtol=0, atol=1e-12)


@pytest.mark.parametrize("form", ["features", "kernel"])
def test_pls_in_float64_matches_brainscore_per_neuroid(form: str, data: NeuralData, features: torch.Tensor,
                                                       brainscore: dict):
    splits = brainscore_splits(len(data.stimulus_ids), stratify=data.strata)
    if form == "features":  # 80 features < 128 stimuli: NIPALS on the p × q cross-covariance
        ours = feature_predictivity(features, data.responses, splits, method="pls", n_components=25)
    else:  # the same regression from the centred n × n Gram matrix (what `score` runs for wide layers)
        ours = cross_validated_predictivity(gram(features, center=True), data.responses, splits, method="pls",
                                            n_components=25)
    pls = brainscore["pls"]
    # Same float64 features as scikit-learn's PLSRegression and the same power-method stops; what remains is
    # the order of float64 sums over 25 deflations (≤ 2.1e-14 per neuroid measured, both forms). 1e-10 leaves
    # room for any BLAS; a power method stopping one iteration off (scikit-learn stops once the squared change
    # of the weights is below 1e-6) would move the weights by up to 1e-3.
    np.testing.assert_allclose(ours.per_neuroid.numpy(), _per_neuroid(pls, "per_split_per_neuroid_r"),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.split_medians.numpy(), pls["per_split_median"], rtol=0, atol=1e-10)
    np.testing.assert_allclose([float(ours.raw), float(ours.error)], [pls["raw"], pls["error"]], rtol=0, atol=1e-10)


def test_ridge_with_alpha_1_matches_brainscore_ridge(data: NeuralData, features: torch.Tensor, brainscore: dict):
    ridge = brainscore["ridge"]
    # Brain-Score's 'ridge' metric is scikit-learn's Ridge(alpha=1) with an intercept, not RidgeCV.
    assert ridge["regression"].endswith(".Ridge") and ridge["regression_params"]["alpha"] == 1
    assert ridge["regression_params"]["fit_intercept"] is True
    splits = brainscore_splits(len(data.stimulus_ids), stratify=data.strata)
    # A one-value grid fixes the penalty: brainbench's kernel ridge with alpha = 1 for every neuroid.
    ours = feature_predictivity(features, data.responses, splits, method="ridge", alphas=[1.0])
    assert bool((ours.alphas == 1.0).all())
    # Closed-form solves on both sides (scikit-learn's Cholesky of XᵀX + I vs one eigendecomposition of the centred
    # Gram matrix, whose 35 null eigenvalues α = 1 regularises): float64 rounding only, ≤ 3.5e-12 per neuroid
    # measured; 1e-9 holds on any BLAS. (From float32 features the Gram's rounding fills that null space and
    # r moves by up to 7e-5: these are float64 features.)
    np.testing.assert_allclose(ours.per_neuroid.numpy(), _per_neuroid(ridge, "per_split_per_neuroid_r"),
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.split_medians.numpy(), ridge["per_split_median"], rtol=0, atol=1e-9)
    np.testing.assert_allclose([float(ours.raw), float(ours.error)], [ridge["raw"], ridge["error"]], rtol=0, atol=1e-9)


def test_rdm_spearman_matches_brainscore_on_all_stimuli_and_per_split(data: NeuralData, features: torch.Tensor,
                                                                      brainscore: dict):
    recorded = brainscore["rdm"]
    model_rdm, neural_rdm = rdm(features), rdm(data.responses)
    # Spearman ρ of 1 − Pearson r RDMs: ranks of 8128 (all) or 6670 (per split) distances, no two closer than
    # 7.7e-10, so float64 rounding (~1e-16) leaves every rank as scipy's; what remains is the rounding of one
    # Pearson r of the ranks (≤ 5.6e-17 measured). 1e-12 leaves room for any BLAS, none for another RDM or
    # comparison (RDMs from float32 features already move ρ by 2e-7).
    whole = compare_rdms(model_rdm, neural_rdm, method="spearman").item()
    np.testing.assert_allclose([whole], [recorded["all_stimuli"]], rtol=0, atol=1e-12)
    splits = brainscore_splits(len(data.stimulus_ids), train_size=0.1, stratify=data.strata)
    tests = [torch.as_tensor(test) for _, test in splits]
    per_split = np.array([compare_rdms(subset(model_rdm, t), subset(neural_rdm, t), method="spearman").item()
                          for t in tests])
    np.testing.assert_allclose(per_split, recorded["per_split"], rtol=0, atol=1e-12)
    # RDMCrossValidated's score: mean over splits, error = std (ddof=0) / √n_splits.
    np.testing.assert_allclose([per_split.mean(), per_split.std() / np.sqrt(len(per_split))],
                               [recorded["raw"], recorded["error"]], rtol=0, atol=1e-12)


def test_i2n_matches_brainscore_split_by_split():
    recorded = json.loads((FIXTURES / "i2n" / "brainscore_i2n.json").read_text())
    ours = evaluate_i2n(read_probabilities(FIXTURES / "i2n" / "probabilities.nc"),
                        read_trials(FIXTURES / "i2n" / "trials.nc"))
    # The same d′ values from the same float32 probabilities, the same halves of the trials (RandomState(0)) and
    # the same cells: only float64 summation order differs (≤ 3.3e-16 measured); 1e-12 holds on any BLAS.
    np.testing.assert_allclose(ours.split_raw, recorded["split_raw"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.split_ceiling, recorded["split_ceiling"], rtol=0, atol=1e-12)
    keys = ("raw", "raw_error", "ceiling", "ceiling_error", "ceiled", "ceiled_error")  # Brain-Score's names
    mine = [float(getattr(ours, k if k in ("raw", "ceiling", "ceiled") else f"brainscore_{k}")) for k in keys]
    np.testing.assert_allclose(mine, [recorded[k] for k in keys], rtol=0, atol=1e-12)
    # brainbench's error: SEM (ddof=1) of the per-split ceiled r / √ceiling, from Brain-Score's per-split numbers.
    split_ceiled = np.asarray(recorded["split_raw"]) / np.sqrt(recorded["split_ceiling"])
    np.testing.assert_allclose([ours.error], [split_ceiled.std(ddof=1) / np.sqrt(len(split_ceiled))], rtol=0,
                               atol=1e-12)
