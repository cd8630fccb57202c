"""`brainbench evaluate --metric rsa` on features or a model RDM against subject RDMs, against scipy computed here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.spatial.distance import pdist, squareform
from scipy.stats import kendalltau, pearsonr, rankdata, sem, spearmanr

N_STIMULI, N_FEATURES, SUBJECTS, SESSIONS = 14, 30, ["s1", "s2", "s3"], [1, 2]


@pytest.fixture
def files(tmp_path: Path) -> dict:
    rng = np.random.default_rng(3)
    ids = [f"im{i:02d}" for i in range(N_STIMULI)]
    latent = rng.standard_normal((N_STIMULI, 4))
    features = latent @ rng.standard_normal((4, N_FEATURES)) + 0.7 * rng.standard_normal((N_STIMULI, N_FEATURES))
    # Subject × session RDMs: the latent geometry plus noise (symmetric, zero diagonal).
    base = squareform(pdist(latent, "euclidean"))
    rdms = np.empty((len(SUBJECTS), len(SESSIONS), N_STIMULI, N_STIMULI))
    for s in range(len(SUBJECTS)):
        for k in range(len(SESSIONS)):
            noise = squareform(rng.random(N_STIMULI * (N_STIMULI - 1) // 2))
            rdms[s, k] = base + 1.5 * noise
    order = rng.permutation(N_STIMULI)  # the features' rows and the target's stimulus_b in other orders
    feature_da = xr.DataArray(features[order], dims=("presentation", "neuroid"),
                              coords={"stimulus_id": ("presentation", [ids[i] for i in order]),
                                      "neuroid_id": ("neuroid", [f"f{i}" for i in range(N_FEATURES)])})
    target = xr.DataArray(rdms, dims=("subject", "session", "stimulus_a", "stimulus_b"),
                          coords={"subject": SUBJECTS, "session": SESSIONS, "stimulus_a": ids, "stimulus_b": ids})
    target = target.isel(stimulus_b=order)
    paths = {"features": tmp_path / "features.nc", "target": tmp_path / "target.nc",
             "single": tmp_path / "single.nc", "model_rdm": tmp_path / "model_rdm.nc"}
    feature_da.to_dataset(name="data").to_netcdf(paths["features"])
    target.to_dataset(name="data").to_netcdf(paths["target"])
    target.isel(subject=0).mean("session").to_dataset(name="data").to_netcdf(paths["single"])
    model_rdm = squareform(pdist(features, "correlation"))  # in id order
    xr.DataArray(model_rdm, dims=("stimulus_a", "stimulus_b"), coords={"stimulus_a": ids, "stimulus_b": ids}
                 ).to_dataset(name="data").to_netcdf(paths["model_rdm"])
    return {**paths, "features_array": features, "rdms": rdms, "tmp": tmp_path}


def _reference(files: dict, compare) -> dict:
    """scipy: 1 - Pearson RDM of the features, sessions averaged, each subject compared; Nili bounds from ranks."""
    model = pdist(files["features_array"], "correlation")
    subjects = [squareform(r.mean(0), checks=False) for r in files["rdms"]]
    per_subject = np.array([compare(model, s) for s in subjects])
    ranked = np.array([rankdata(s) for s in subjects]) if compare is not _pearson else \
        np.array([(s - s.mean()) / s.std() for s in subjects])
    upper = np.mean([compare(r, ranked.mean(0)) for r in ranked])
    lower = np.mean([compare(r, np.delete(ranked, i, 0).mean(0)) for i, r in enumerate(ranked)])
    return {"raw": per_subject.mean(), "subject_raw": per_subject, "ceiling": upper, "ceiling_lower": lower,
            "ceiled": per_subject.mean() / upper, "error": sem(per_subject / upper)}


def _spearman(a, b):
    return spearmanr(a, b)[0]


def _kendall(a, b):
    """Kendall's tau-a by its definition (the ceiling's mean rank vectors have ties, where scipy's tau-b differs)."""
    concordance = np.sign(a[:, None] - a[None]) * np.sign(b[:, None] - b[None])
    return concordance.sum() / (len(a) * (len(a) - 1))


def test_the_tau_a_reference_is_scipys_tau_without_ties() -> None:
    a, b = np.random.default_rng(0).random((2, 40))
    assert _kendall(a, b) == pytest.approx(kendalltau(a, b)[0], abs=1e-12)  # tau-a = tau-b without ties


def _pearson(a, b):
    return pearsonr(a, b)[0]


@pytest.mark.parametrize(("comparison", "compare"), [("spearman", _spearman), ("kendall_tau_a", _kendall),
                                                     ("pearson", _pearson)])
def test_features_against_subject_rdms_match_scipy(cli, files: dict, comparison: str, compare) -> None:
    result = cli("evaluate", "--metric", "rsa", "--features", files["features"], "--assembly", files["target"],
                 "--comparison", comparison, "--json")
    assert result.exit_code == 0, result.stderr
    got, expected = json.loads(result.stdout), _reference(files, compare)
    # float64 RDMs and correlations computed two ways (torch vs scipy): 1e-10 allows rounding only.
    for key in ("raw", "ceiling", "ceiling_lower", "ceiled", "error"):
        assert got[key] == pytest.approx(expected[key], abs=1e-10), key
    np.testing.assert_allclose(got["subject_raw"], expected["subject_raw"], atol=1e-10)
    assert got["subjects"] == SUBJECTS and got["n_stimuli"] == N_STIMULI and got["ceiling_convention"] == "ratio"


def test_a_model_rdm_scores_as_its_features(cli, files: dict) -> None:
    result = cli("evaluate", "--metric", "rsa", "--rdm", files["model_rdm"], "--assembly", files["target"], "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["raw"] == pytest.approx(_reference(files, _spearman)["raw"], abs=1e-10)  # as above


def test_one_target_rdm_has_no_ceiling(cli, files: dict) -> None:
    result = cli("evaluate", "--metric", "rsa", "--features", files["features"], "--assembly", files["single"])
    assert result.exit_code == 0, result.stderr
    assert "no between-subject noise ceiling" in result.stdout
    result = cli("evaluate", "--metric", "rsa", "--features", files["features"], "--assembly", files["single"],
                 "--json")
    got = json.loads(result.stdout)
    expected = _spearman(pdist(files["features_array"], "correlation"), squareform(files["rdms"][0].mean(0)))
    assert got["ceiling"] is None and got["ceiled"] == pytest.approx(expected, abs=1e-10)  # as above


def _error(result, code: int = 1) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_bad_input_is_one_sentence(cli, files: dict) -> None:
    fewer = xr.open_dataarray(files["features"]).isel(presentation=slice(1, None))
    fewer.to_dataset(name="data").to_netcdf(files["tmp"] / "fewer.nc")
    assert "lack 1 of" in _error(cli("evaluate", "--metric", "rsa", "--features", files["tmp"] / "fewer.nc",
                                     "--assembly", files["target"]))
    assert "stimulus_a × stimulus_b" in _error(cli("evaluate", "--metric", "rsa", "--features", files["features"],
                                                   "--assembly", files["features"]))
    square = xr.open_dataarray(files["model_rdm"])
    square.isel(stimulus_b=slice(1, None)).to_dataset(name="data").to_netcdf(files["tmp"] / "not_square.nc")
    assert "different or repeated stimuli" in _error(cli("evaluate", "--metric", "rsa", "--rdm",
                                                         files["tmp"] / "not_square.nc", "--assembly", files["target"]))
    assert "exactly one of --features and --rdm" in _error(
        cli("evaluate", "--metric", "rsa", "--features", files["features"], "--rdm", files["model_rdm"],
            "--assembly", files["target"]), code=2)
    assert "--distance does not apply" in _error(
        cli("evaluate", "--metric", "rsa", "--rdm", files["model_rdm"], "--assembly", files["target"],
            "--distance", "correlation"), code=2)
    assert "--comparison does not apply" in _error(
        cli("evaluate", "--features", files["features"], "--assembly", files["target"], "--comparison", "pearson"),
        code=2)


def test_the_cli_offers_the_library_choices() -> None:
    from brainbench.benchmarks import evaluate as library
    from brainbench.cli import evaluate as command

    assert command.METRICS == library.METRICS and command.RSA_METRICS == library.RSA_METRICS
    assert command.BEHAVIOR_METRICS == library.BEHAVIOR_METRICS
    assert tuple(library.DISTANCES) == command.DISTANCES and command.COMPARISONS == library.COMPARISONS
