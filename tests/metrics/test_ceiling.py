"""Noise ceilings against a direct numpy/scipy computation, plus sanity checks and a CUDA run; `ceil` against
closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.spatial.distance import pdist, squareform

from brainbench.errors import BrainbenchError
from brainbench.metrics import (
    CONVENTIONS,
    METHODS,
    ceil,
    ceiling_details,
    compare_rdms,
    kendall_tau_a,
    mean_subject_similarity,
    nili_bounds,
    pearson,
    rankdata,
    rdm,
    spearman,
)

RNG = np.random.default_rng(2)


def noisy_subject_rdms(n_subjects: int = 5, n: int = 14, noise: float = 1.5) -> np.ndarray:
    """RDMs of one shared response pattern plus independent noise per subject, (n_subjects, n, n)."""
    responses = RNG.normal(size=(n, 40)) + noise * RNG.normal(size=(n_subjects, n, 40))
    return np.stack([squareform(pdist(r, "correlation")) for r in responses])


def numpy_tau_a(x: np.ndarray, y: np.ndarray) -> float:
    pairs = np.triu(np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :]), k=1)
    n = len(x)
    return pairs.sum() / (n * (n - 1) / 2)


def zscore(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


REFERENCES = {  # method: (transform before averaging, comparison)
    "spearman": (scipy.stats.rankdata, lambda a, b: scipy.stats.spearmanr(a, b)[0]),
    "kendall_tau_a": (scipy.stats.rankdata, numpy_tau_a),
    "pearson": (zscore, lambda a, b: scipy.stats.pearsonr(a, b)[0]),
}


def reference_bounds(subject_rdms: np.ndarray, method: str) -> tuple[float, float]:
    """Nili et al. (2014) bounds, subject by subject."""
    transform, compare = REFERENCES[method]
    vectors = [squareform(s, checks=False) for s in subject_rdms]
    pooled = [transform(v) for v in vectors]
    upper, lower = [], []
    for i, v in enumerate(vectors):
        upper.append(compare(v, np.mean(pooled, axis=0)))
        lower.append(compare(v, np.mean([p for j, p in enumerate(pooled) if j != i], axis=0)))
    return float(np.mean(lower)), float(np.mean(upper))


@pytest.mark.parametrize("method", METHODS)
def test_nili_bounds_match_direct_computation(method):
    subjects = noisy_subject_rdms()
    lower, upper = nili_bounds(torch.from_numpy(subjects), method)
    assert lower.shape == () and upper.shape == ()
    want_lower, want_upper = reference_bounds(subjects, method)
    assert lower.item() == pytest.approx(want_lower, abs=1e-12)
    assert upper.item() == pytest.approx(want_upper, abs=1e-12)
    assert 0 < lower.item() < upper.item() < 1


def test_reference_covers_every_method():
    assert set(REFERENCES) == set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_identical_subjects_give_bounds_of_one(method):
    subjects = torch.from_numpy(np.stack([noisy_subject_rdms(1)[0]] * 3))
    lower, upper = nili_bounds(subjects, method)
    # r of a vector with itself (or an affine copy: the mean of identical ranks/z-scores): 1 up to rounding.
    assert lower.item() == pytest.approx(1.0, abs=1e-12) and upper.item() == pytest.approx(1.0, abs=1e-12)


def test_nili_bounds_float32():
    subjects = noisy_subject_rdms()
    lower, upper = nili_bounds(torch.from_numpy(subjects.astype(np.float32)))
    assert lower.dtype == torch.float32
    want_lower, want_upper = reference_bounds(subjects, "spearman")
    assert lower.item() == pytest.approx(want_lower, abs=1e-5)
    assert upper.item() == pytest.approx(want_upper, abs=1e-5)


def test_nili_bounds_needs_two_subjects():
    with pytest.raises(ValueError, match="at least 2 subjects"):
        nili_bounds(torch.from_numpy(noisy_subject_rdms(1)))
    with pytest.raises(ValueError, match="at least 2 subjects"):
        nili_bounds(torch.from_numpy(noisy_subject_rdms(1)[0]))


def test_nili_bounds_unknown_method():
    with pytest.raises(ValueError, match="choose one of spearman"):
        nili_bounds(torch.from_numpy(noisy_subject_rdms(2)), "cosine")


@pytest.mark.parametrize("method", METHODS)
def test_mean_subject_similarity(method):
    subjects, model = noisy_subject_rdms(4), noisy_subject_rdms(1)[0]
    mean, per_subject = mean_subject_similarity(torch.from_numpy(model), torch.from_numpy(subjects), method)
    _, compare = REFERENCES[method]
    want = [compare(squareform(model, checks=False), squareform(s, checks=False)) for s in subjects]
    np.testing.assert_allclose(per_subject.numpy(), want, atol=1e-12)
    assert mean.shape == () and mean.item() == pytest.approx(np.mean(want), abs=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_everything_on_cuda():
    cuda = torch.device("cuda")
    x = RNG.integers(0, 5, size=(3, 300)).astype(np.float32)
    y = (x + RNG.integers(0, 5, size=(3, 300))).astype(np.float32)
    xt, yt = torch.from_numpy(x).to(cuda), torch.from_numpy(y).to(cuda)
    np.testing.assert_array_equal(rankdata(xt).cpu().numpy(), scipy.stats.rankdata(x, axis=-1))  # halves: exact
    want = [scipy.stats.pearsonr(x[i], y[i])[0] for i in range(3)]
    np.testing.assert_allclose(pearson(xt, yt).cpu().numpy(), want, atol=1e-5)
    want = [scipy.stats.spearmanr(x[i], y[i])[0] for i in range(3)]
    np.testing.assert_allclose(spearman(xt, yt).cpu().numpy(), want, atol=1e-5)
    want = [numpy_tau_a(x[i], y[i]) for i in range(3)]
    np.testing.assert_allclose(kendall_tau_a(xt, yt).cpu().numpy(), want, atol=1e-6)

    responses = RNG.normal(size=(20, 50_000))
    got = rdm(torch.from_numpy(responses).to(cuda))
    np.testing.assert_allclose(got.cpu().numpy(), squareform(pdist(responses, "correlation")), atol=1e-12)

    subjects = noisy_subject_rdms()
    for method in METHODS:
        lower, upper = nili_bounds(torch.from_numpy(subjects).to(cuda), method)
        assert lower.device.type == "cuda"
        want_lower, want_upper = reference_bounds(subjects, method)
        assert lower.item() == pytest.approx(want_lower, abs=1e-12)
        assert upper.item() == pytest.approx(want_upper, abs=1e-12)
    scores = compare_rdms(torch.from_numpy(subjects).to(cuda), got[:14, :14])
    assert scores.shape == (5,) and scores.device.type == "cuda"


# ------------------------------------------------------------------------- ceil: one rule for every benchmark kind


@pytest.mark.parametrize(("convention", "raw", "ceiling", "want"), [
    # Closed forms, each value written out by hand (a literal's rounding against one or two roundings: an ulp).
    ("explained_variance", 0.5, 0.8, 0.3125),  # 0.25 / 0.8
    ("explained_variance", 0.9, 0.64, 1.265625),  # 0.81 / 0.64: not clipped at 1
    ("explained_variance", -0.5, 0.8, -0.3125),  # a negative r stays negative (Brain-Score: +0.3125)
    ("ratio", 0.3, 0.6, 0.5),
    ("ratio", -0.12, 0.4, -0.3),
    ("sqrt_ratio", 0.3, 0.36, 0.5),  # 0.3 / 0.6
    ("sqrt_ratio", -0.2, 0.25, -0.4),
])
def test_ceil_matches_closed_forms(convention, raw, ceiling, want):
    assert ceil(raw, ceiling, convention) == pytest.approx(want, rel=1e-15, abs=0)
    assert CONVENTIONS[convention] and ceiling_details(convention, "m")["ceiling_convention"] == convention


def test_ceil_applies_elementwise_to_per_unit_scores():
    got = ceil(np.array([0.5, -0.5, 0.0, np.nan]), 0.8, "explained_variance")
    np.testing.assert_allclose(got, [0.3125, -0.3125, 0.0, np.nan], rtol=1e-15)
    assert isinstance(ceil(0.5, 0.8, "ratio"), float)


def test_no_ceiling_keeps_the_raw_score():
    assert ceil(0.42, None, "none") == 0.42  # exact: the value itself, nothing computed
    assert ceiling_details("none", "m")["ceiled_formula"] == "raw (no ceiling)"
    with pytest.raises(ValueError, match="takes no ceiling"):
        ceil(0.42, 0.5, "none")
    with pytest.raises(ValueError, match="takes no ceiling"):
        ceil(0.42, None, "ratio")
    with pytest.raises(ValueError, match="unknown ceiling convention"):
        ceil(0.42, 0.5, "r2")


@pytest.mark.parametrize("convention", ["explained_variance", "ratio", "sqrt_ratio"])
@pytest.mark.parametrize("ceiling", [0.0, -0.0064, float("nan"), float("inf"), -float("inf")])
def test_a_ceiling_that_is_not_positive_and_finite_is_refused_in_one_sentence(convention, ceiling):
    with pytest.raises(BrainbenchError) as caught:
        ceil(-0.017, ceiling, convention, scored="Benchmark X.IT-pls", data="dataset Y (assembly Z)",
             disagreeing="its repetitions", raw_error=0.012)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("Benchmark X.IT-pls: the noise ceiling of dataset Y (assembly Z)")
    assert "raw = -0.017 ± 0.012" in message and message.endswith("No score was recorded.")
    if ceiling <= 0:
        assert "(≤ 0): its repetitions do not agree, so the data are too noisy to ceil" in message
