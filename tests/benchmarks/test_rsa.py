"""The RSA benchmark kind: split-half layer selection and scoring, against scipy computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
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
    per_split = np.asarray(result.fold_scores).reshape(3, 2).mean(1)
    assert result.error == pytest.approx(per_split.std(ddof=1) / np.sqrt(3), abs=1e-12)  # its own folds: rounding
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
    # Means and a ratio of the result's own numbers: rounding only.
    assert result.ceiling == pytest.approx(np.mean([c["upper"] for c in result.fold_ceilings]), abs=1e-12)
    assert result.ceiled == pytest.approx(result.raw / result.ceiling, rel=1e-12)
    assert 0 < result.fold_ceilings[0]["lower"] < result.fold_ceilings[0]["upper"] <= 1


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
