"""RSA per-unit results and their paired bootstrap: the weighted statistics equal scipy's on the explicitly resampled
RDMs (duplicated stimuli, self-copy pairs left out), and the un-resampled statistic reproduces the recorded score."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, rankdata, spearmanr

from brainbench.benchmarks.rsa import layer_rdms, rsa_score, rsa_units
from brainbench.comparison.estimate import UnitsMismatch, unit_test
from brainbench.comparison.rsa_test import (
    ceiled_scores,
    fold_similarities,
    rsa_paired_test,
    weighted_kendall_tau_a,
    weighted_pearson,
    weighted_ranks,
)
from brainbench.leaderboard.record import ScoreRecord

N = 24


def _tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall τa by its definition: Σ over unordered pairs of sign products / number of pairs."""
    i, j = np.triu_indices(len(x), 1)
    return float(np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])) / len(i))


def _resampled_vectors(model: np.ndarray, data: np.ndarray, draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper triangles of the RDMs over the drawn stimuli (copies included), pairs of a stimulus with its own
    copy removed — rsatoolbox's bootstrap RDM, built explicitly."""
    i, j = np.triu_indices(len(draw), 1)
    keep = draw[i] != draw[j]
    return model[draw[i], draw[j]][keep], data[draw[i], draw[j]][keep]


def _rdms(seed: int, n_subjects: int = 3, n_layers: int = 3):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N, 6))
    subjects = np.stack([squareform(pdist(latent + 0.8 * rng.standard_normal((N, 6)), "correlation"))
                         for _ in range(n_subjects)])
    activations = {f"layer{k}": torch.from_numpy(latent @ rng.standard_normal((6, 30))
                                                 + (0.5 + k) * rng.standard_normal((N, 30))).float()
                   for k in range(n_layers)}
    return activations, subjects


@pytest.mark.parametrize("ties", [False, True])
def test_weighted_statistics_equal_scipy_on_the_repeated_vector(ties: bool) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(40)
    y = rng.standard_normal((2, 40)) + x
    if ties:  # categorical RDMs are full of ties
        x, y = np.round(x), np.round(y)
    weights = rng.integers(0, 4, size=(5, 40)).astype(float)
    ranks = weighted_ranks(x, weights)
    for b, w in enumerate(weights):
        repeated = np.repeat(np.arange(40), w.astype(int))
        kept = w > 0
        # Each kept element's rank is the scipy average rank of (any of) its copies in the repeated vector.
        expected = rankdata(x[repeated])[np.searchsorted(repeated, np.flatnonzero(kept))]
        np.testing.assert_allclose(ranks[b, kept], expected, rtol=0, atol=1e-9)
        for s in range(2):
            rho = weighted_pearson(weighted_ranks(x, w[None])[0], weighted_ranks(y[s], w[None])[0], w)
            assert rho == pytest.approx(spearmanr(x[repeated], y[s][repeated])[0], abs=1e-12)
            assert weighted_pearson(x, y[s], w) == pytest.approx(pearsonr(x[repeated], y[s][repeated])[0], abs=1e-12)
        tau = weighted_kendall_tau_a(x, y, w[None])[0]
        np.testing.assert_allclose(tau, [_tau_a(x[repeated], y[s][repeated]) for s in range(2)], atol=1e-12)


@pytest.mark.parametrize("comparison", ["spearman", "pearson", "kendall_tau_a"])
def test_fold_similarities_equal_scipy_on_explicit_bootstrap_rdms(comparison: str) -> None:
    activations, subjects = _rdms(0)
    layers, model = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(layers, model, torch.from_numpy(subjects), ["all"] * N, comparison=comparison, n_splits=2,
                       seed=1)
    units = rsa_units(layers, model, torch.from_numpy(subjects), result, [f"s{i}" for i in range(N)])
    rng = np.random.default_rng(5)
    draws = rng.integers(0, N, size=(3, N))
    counts = np.stack([np.bincount(d, minlength=N) for d in draws])
    got = fold_similarities([units], comparison, counts)[0]
    reference = {"spearman": lambda a, b: spearmanr(a, b)[0], "pearson": lambda a, b: pearsonr(a, b)[0],
                 "kendall_tau_a": _tau_a}[comparison]
    model_np = model.numpy()
    for b, draw in enumerate(draws):
        for fold, (name, scored) in enumerate(zip(result.fold_layers, result.fold_scored, strict=True)):
            in_fold = np.sort(draw[np.isin(draw, scored)])
            for s in range(subjects.shape[0]):
                a, d = _resampled_vectors(model_np[layers.index(name)], subjects[s], in_fold)
                # float32 storage of the RDMs: ~1e-7 relative on each distance; a correlation moves by far less
                # than 1e-5 (a rank order can only flip between distances closer than that).
                assert got[b, fold, s] == pytest.approx(reference(a, d), abs=1e-5)


@pytest.mark.parametrize("options", [
    dict(comparison="spearman", ceiling="nili_upper"),
    dict(comparison="pearson", ceiling="nili_lower"),
    dict(comparison="kendall_tau_a", ceiling="none"),
    dict(comparison="spearman", ceiling="published", published=0.5, squared=True),
])
def test_unresampled_statistic_reproduces_the_recorded_ceiled_score(options: dict) -> None:
    activations, subjects = _rdms(1)
    layers, model = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(layers, model, torch.from_numpy(subjects), [f"c{i % 3}" for i in range(N)], n_splits=4,
                       seed=2, **options)
    units = rsa_units(layers, model, torch.from_numpy(subjects), result, [f"s{i}" for i in range(N)])
    record = _record(units, result.ceiled, result.ceiling,
                     {"comparison": options["comparison"], "squared": options.get("squared", False)})
    ones = (np.ones((1, N), dtype=np.int64), np.ones((1, subjects.shape[0]), dtype=np.int64))
    # Only float32 storage of the RDMs separates the two computations (see above).
    assert ceiled_scores([record], *ones)[0, 0] == pytest.approx(result.ceiled, abs=1e-5)
    assert units["model_rdms"].dtype == np.float32 and units["model_rdms"].shape[1] == N * (N - 1) // 2
    assert units["fold_scored"].sum(1).tolist() == [len(s) for s in result.fold_scored]


def _record(units: dict, ceiled: float, ceiling: float | None, details: dict) -> ScoreRecord:
    return ScoreRecord(model="m", weights_digest="0" * 64, random_init=False, benchmark="X.IT-rsa",
                       benchmark_version=1, region="IT", raw=ceiled, ceiling=ceiling, ceiled=ceiled, error=None,
                       layer="layer0", brainbench_version="0", seed=0, device="cpu", started_at="", finished_at="",
                       details={**details, "unit_test": "rsa"}, units=units)


def _scored(activations: dict, subjects: np.ndarray, **options) -> ScoreRecord:
    layers, model = layer_rdms(activations, torch.device("cpu"))
    result = rsa_score(layers, model, torch.from_numpy(subjects), ["all"] * N, n_splits=3, seed=0, **options)
    units = rsa_units(layers, model, torch.from_numpy(subjects), result, [f"s{i}" for i in range(N)])
    return _record(units, result.ceiled, result.ceiling, {"comparison": options.get("comparison", "spearman"),
                                                          "squared": False})


def test_registered_test_compares_records_and_refuses_misaligned_ones() -> None:
    activations, subjects = _rdms(2)
    first = _scored({"a": activations["layer0"]}, subjects, ceiling="nili_upper")
    other = _scored({"b": activations["layer2"]}, subjects, ceiling="nili_upper")
    estimate = unit_test("rsa")(first, other, 200, 0)
    assert estimate.level == "units" and estimate.n_resamples == 200
    assert estimate.difference == pytest.approx(other.ceiled - first.ceiled, abs=1e-5)
    assert estimate.ci_low <= estimate.difference <= estimate.ci_high
    assert 0 < estimate.p_value <= 1
    assert "3 subjects" in estimate.method and f"{N} stimuli" in estimate.method
    again = rsa_paired_test(first, other, 200, 0)
    assert (again.ci_low, again.p_value) == (estimate.ci_low, estimate.p_value)  # one seed, one answer

    single = [_scored({name: activations[layer]}, subjects[:1]) for name, layer in (("a", "layer0"), ("b", "layer2"))]
    one_subject = rsa_paired_test(*single, 200, 0)  # no subject factor: the stimulus bootstrap's percentile interval
    assert "over 24 stimuli," in one_subject.method and "percentile" in one_subject.method
    assert one_subject.ci_low <= one_subject.difference <= one_subject.ci_high

    other_halves = _scored({"b": activations["layer2"]}, subjects, ceiling="nili_upper")
    other_halves.units["fold_scored"] = other_halves.units["fold_scored"][::-1].copy()
    other_data = _scored({"b": activations["layer2"]}, subjects[::-1].copy(), ceiling="nili_upper")
    other_option = _scored({"b": activations["layer2"]}, subjects, ceiling="nili_upper", comparison="pearson")
    for misaligned, why in ((other_halves, "halvings"), (other_data, "data RDMs"), (other_option, "comparison")):
        with pytest.raises(UnitsMismatch, match=why):
            rsa_paired_test(first, misaligned, 50, 0)
