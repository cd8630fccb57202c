"""The RSA benchmark kind: split-half layer selection and scoring, against scipy computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import rankdata, spearmanr

from brainbench.benchmarks.rsa import layer_rdms, rsa_score
from brainbench.errors import BrainbenchError
from brainbench.metrics.splits import stratified_halves

N = 40
STRATA = [f"c{i % 4}" for i in range(N)]


def _data(n_subjects: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N, 8))
    truth = squareform(pdist(latent, "correlation"))
    subjects = np.stack([truth + 0.2 * squareform(np.abs(rng.standard_normal(N * (N - 1) // 2)))
                         for _ in range(n_subjects)])
    activations = {
        "noise": torch.from_numpy(rng.standard_normal((N, 50))).float(),
        "signal": torch.from_numpy(latent @ rng.standard_normal((8, 50)) + 0.1 * rng.standard_normal((N, 50))).float(),
        "weak": torch.from_numpy(latent @ rng.standard_normal((8, 50)) + 2.0 * rng.standard_normal((N, 50))).float(),
    }
    return activations, subjects


def _upper(m: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return m[np.ix_(idx, idx)][np.triu_indices(len(idx), 1)]


def _nili_upper(subjects: np.ndarray, idx: np.ndarray) -> float:
    """Nili et al.'s upper bound on the stimuli `idx`: mean ρ of each subject with the mean of all subjects' ranks."""
    ranks = np.stack([rankdata(_upper(s, idx)) for s in subjects])
    return float(np.mean([spearmanr(r, ranks.mean(0))[0] for r in ranks]))


def test_stratified_halves_partition_and_balance():
    splits = stratified_halves([*STRATA, "c0"], n_splits=5, seed=1)
    labels = np.asarray([*STRATA, "c0"])
    for a, b in splits:
        assert sorted(np.concatenate([a, b]).tolist()) == list(range(N + 1))
        assert abs(len(a) - len(b)) <= 1
        for stratum in np.unique(labels):
            assert abs((labels[a] == stratum).sum() - (labels[b] == stratum).sum()) <= 1
    again = stratified_halves([*STRATA, "c0"], n_splits=5, seed=1)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(splits, again, strict=True))
    assert not np.array_equal(splits[0][0], stratified_halves([*STRATA, "c0"], 5, seed=2)[0][0])
    with pytest.raises(ValueError):
        stratified_halves(["a", "a", "b"], 1, 0)


def test_rsa_matches_scipy_fold_by_fold():
    activations, subjects = _data()
    names, model_rdms = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(names, model_rdms, torch.from_numpy(subjects), STRATA, n_splits=3, seed=7,
                       ceiling="nili_upper")
    reference_rdms = {k: squareform(pdist(v.double().numpy(), "correlation")) for k, v in activations.items()}
    folds = []
    for a, b in stratified_halves(STRATA, 3, 7):
        for select, held in ((a, b), (b, a)):
            def sim(m, idx):
                return np.mean([spearmanr(_upper(m, idx), _upper(s, idx))[0] for s in subjects])
            selection = {k: sim(m, select) for k, m in reference_rdms.items()}
            runner_up, best = sorted(selection, key=selection.get)[-2:]
            # The picks can be compared: the best layer leads by far more than float32 rounding (1e-6 below).
            assert selection[best] - selection[runner_up] > 1e-3
            folds.append((best, sim(reference_rdms[best], held)))
    assert result.fold_layers == [f[0] for f in folds]
    # float32 activations (RDMs to ~1e-7) against scipy in float64: 1e-6 on a correlation.
    np.testing.assert_allclose(result.fold_scores, [f[1] for f in folds], atol=1e-6)
    assert result.raw == pytest.approx(np.mean([f[1] for f in folds]), abs=1e-6)
    # The ceiling, ceiled score and errors from scipy's folds: Nili's upper bound on each scoring half (subjects'
    # ranks averaged), raw / ceiling, and SEMs (ddof=1) over the 3 halvings of the per-fold values, the two
    # directions of a halving averaged first. The data RDMs are float64 on both sides; the fold scores carry the
    # 1e-6 of float32 activations, which the ratios (ceilings ≈ 0.9) and SEMs keep below 1e-5.
    ceilings = [_nili_upper(subjects, held) for a, b in stratified_halves(STRATA, 3, 7) for held in (b, a)]
    ratios = np.array([f[1] for f in folds]) / ceilings
    assert result.ceiling == pytest.approx(np.mean(ceilings), abs=1e-9)
    assert result.ceiled == pytest.approx(np.mean([f[1] for f in folds]) / np.mean(ceilings), abs=1e-5)
    np.testing.assert_allclose(result.fold_ceiled, ratios, atol=1e-5)
    assert result.error == pytest.approx(scipy.stats.sem(ratios.reshape(3, 2).mean(1)), abs=1e-5)
    assert result.raw_error == pytest.approx(scipy.stats.sem(np.reshape([f[1] for f in folds], (3, 2)).mean(1)),
                                             abs=1e-5)
    assert result.convention == "ratio" and "3 stratified halvings" in result.error_method
    assert result.layer == "signal"
    assert result.layer_profile["signal"] > result.layer_profile["weak"] > result.layer_profile["noise"]


def test_nili_ceiling_on_held_out_halves():
    activations, subjects = _data(n_subjects=4)
    names, model_rdms = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(names, model_rdms, torch.from_numpy(subjects), STRATA, n_splits=2, seed=0,
                       ceiling="nili_upper")
    _a, b = stratified_halves(STRATA, 2, 0)[0]
    ranks = np.stack([rankdata(_upper(s, b)) for s in subjects])  # Nili: rank-transform, then average
    upper = np.mean([spearmanr(r, ranks.mean(0))[0] for r in ranks])
    lower = np.mean([spearmanr(ranks[i], np.delete(ranks, i, 0).mean(0))[0] for i in range(4)])
    assert result.fold_ceilings[0] == pytest.approx({"lower": lower, "upper": upper}, abs=1e-9)
    assert upper == pytest.approx(_nili_upper(subjects, b), abs=1e-15)  # the helper the other test relies on
    assert 0 < result.fold_ceilings[0]["lower"] < result.fold_ceilings[0]["upper"] <= 1


def test_a_ceiling_that_is_not_positive_is_one_sentence():
    """Subjects whose RDMs are independent noise: Nili's lower bound (each subject against the others' mean) sits
    around 0, here below it on average (seed 1: 8 of 10 folds < 0); no ceiled score is defined there."""
    activations, _ = _data()
    rng = np.random.default_rng(1)
    subjects = np.stack([squareform(pdist(rng.standard_normal((N, 8)), "correlation")) for _ in range(3)])
    names, model_rdms = layer_rdms(activations, torch.device("cpu"))
    with pytest.raises(BrainbenchError, match=r"^Benchmark B: the noise ceiling of data D is -.*\(≤ 0\): its "
                                              r"subjects' RDMs do not agree, .*No score was recorded\.$"):
        rsa_score(names, model_rdms, torch.from_numpy(subjects), STRATA, n_splits=5, seed=0, ceiling="nili_lower",
                  scored="Benchmark B", data="data D")


def test_no_ceiling_for_one_group_rdm():
    activations, subjects = _data(n_subjects=1)
    names, model_rdms = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(names, model_rdms, torch.from_numpy(subjects), STRATA, n_splits=2, seed=0)
    assert result.ceiling is None and result.ceiled == result.raw and result.fold_ceilings == []  # raw itself
    with pytest.raises(BrainbenchError, match="at least 2 subjects"):
        rsa_score(names, model_rdms, torch.from_numpy(subjects), STRATA, n_splits=2, ceiling="nili_upper")


def test_constant_layer_is_a_clear_error():
    with pytest.raises(BrainbenchError, match="constant responses"):
        layer_rdms({"dead": torch.zeros(N, 5)}, torch.device("cpu"))


def test_kendall_tau_a_comparison_matches_scipy_on_tie_free_rdms():
    """τa equals scipy's τb when neither vector has ties (continuous RDM entries)."""
    from scipy.stats import kendalltau

    activations, subjects = _data(n_subjects=2)
    names, model_rdms = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(names, model_rdms, torch.from_numpy(subjects), STRATA, comparison="kendall_tau_a",
                       n_splits=1, seed=0)
    _, b = stratified_halves(STRATA, 1, 0)[0]
    reference = {k: squareform(pdist(v.double().numpy(), "correlation")) for k, v in activations.items()}
    chosen = reference[result.fold_layers[0]]
    expected = np.mean([kendalltau(_upper(chosen, b), _upper(s, b))[0] for s in subjects])
    assert result.fold_scores[0] == pytest.approx(expected, abs=1e-9)
