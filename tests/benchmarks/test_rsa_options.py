"""RSA options from a benchmark TOML (comparison, squared, published ceiling), each recomputed with scipy fold by fold,
and the definitions that cannot be scored refused in one sentence before any model work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr

from brainbench.benchmarks.kinds import ModelProbe, run_rsa
from brainbench.benchmarks.rsa import rsa_score
from brainbench.benchmarks.spec import BenchmarkSpec, list_benchmarks, parse_benchmark
from brainbench.data.assemblies import Dataset, rdm_assembly
from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.errors import BrainbenchError
from brainbench.metrics.splits import stratified_halves

N, SUBJECTS, N_SPLITS, SEED = 24, 3, 2, 5
CITATION = "Cichy et al. (2019), arXiv:1905.05675"


def _kendall_tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's τa from its definition: (concordant − discordant pairs) / all n(n−1)/2 pairs (ties count 0)."""
    i, j = np.triu_indices(len(x), 1)
    return float(np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])) / len(i))


SCIPY = {
    "spearman": lambda x, y: spearmanr(x, y)[0],
    "pearson": lambda x, y: pearsonr(x, y)[0],
    "kendall_tau_a": _kendall_tau_a,
}


def _upper(m: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return m[np.ix_(idx, idx)][np.triu_indices(len(idx), 1)]


def _data(seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Three layers (noise, a noisy and a clean copy of a latent code) and noisy subject RDMs of that code."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((N, 6))
    truth = squareform(pdist(latent, "correlation"))
    subjects = np.stack([truth + 0.3 * squareform(np.abs(rng.standard_normal(N * (N - 1) // 2)))
                         for _ in range(SUBJECTS)])
    activations = {
        "noise": rng.standard_normal((N, 40)),
        "weak": latent @ rng.standard_normal((6, 40)) + 1.5 * rng.standard_normal((N, 40)),
        "signal": latent @ rng.standard_normal((6, 40)) + 0.2 * rng.standard_normal((N, 40)),
    }
    strata = [f"c{i % 3}" for i in range(N)]
    return activations, subjects, strata


def _dataset(subjects: np.ndarray, strata: list[str]) -> Dataset:
    ids = [f"im{i:02d}" for i in range(N)]
    metadata = pd.DataFrame({"stimulus_id": ids, "category": strata}).set_index("stimulus_id")
    stimuli = in_memory_stimuli("lab", np.zeros((N, 4, 4, 3), np.uint8), metadata)
    assembly = rdm_assembly(subjects, ids, {"subject": [f"S{i}" for i in range(len(subjects))]})
    return Dataset(Manifest("mylab_it", "my lab's RDMs", "generic", ()), stimuli, {"MyLab.EVC": assembly})


class _Probe:
    """The layers' activations, in float64; counts how often the model was asked for them."""

    def __init__(self, activations: dict[str, np.ndarray]) -> None:
        self.calls = 0
        self.activations = activations

    def __call__(self, stimuli, degrees) -> dict[str, torch.Tensor]:
        self.calls += 1
        return {k: torch.from_numpy(v) for k, v in self.activations.items()}

    def probe(self) -> ModelProbe:
        return ModelProbe(list(self.activations), torch.device("cpu"), self, lambda *a: {}, dict)


def _toml(folder: Path, metric: str, ceiling: str) -> BenchmarkSpec:
    """A user benchmark TOML in ``folder``/benchmarks, read as `score --definitions folder` reads it."""
    (folder / "benchmarks").mkdir(parents=True, exist_ok=True)
    (folder / "benchmarks" / "MyLab.EVC-rsa.toml").write_text(f"""
id = "MyLab.EVC-rsa"
version = 1
kind = "rsa"
region = "EVC"
dataset = "mylab_it"
assembly = "MyLab.EVC"
stimulus_degrees = 8

[metric]
{metric}

[layer_selection]
stratify = "category"
n_splits = {N_SPLITS}
seed = {SEED}

[ceiling]
{ceiling}
""")
    return list_benchmarks([folder])["MyLab.EVC-rsa"]


def _reference_folds(activations: dict[str, np.ndarray], subjects: np.ndarray, strata: list[str], comparison: str,
                     squared: bool) -> tuple[list[str], list[float]]:
    """Per fold, with scipy: the layer of highest mean (signed) comparison on the selection half, and its score on
    the other half: the mean over subjects of the comparison, or of its square (Algonauts 2019: each subject's
    correlation squared, then averaged)."""
    compare = SCIPY[comparison]
    rdms = {k: squareform(pdist(v, "correlation")) for k, v in activations.items()}
    layers, scores = [], []
    for a, b in stratified_halves(strata, N_SPLITS, SEED):
        for select, held in ((a, b), (b, a)):
            selection = {k: np.mean([compare(_upper(m, select), _upper(s, select)) for s in subjects])
                         for k, m in rdms.items()}
            best = max(selection, key=selection.get)
            per_subject = np.array([compare(_upper(rdms[best], held), _upper(s, held)) for s in subjects])
            layers.append(best)
            scores.append(float(np.mean(per_subject**2 if squared else per_subject)))
    return layers, scores


@pytest.mark.parametrize("comparison", ["spearman", "kendall_tau_a", "pearson"])
def test_each_comparison_is_reachable_from_a_toml_and_recorded(home, tmp_path, comparison):
    activations, subjects, strata = _data()
    spec = _toml(tmp_path / "defs", f'comparison = "{comparison}"', 'method = "nili_upper"')
    outcome = run_rsa(spec, _dataset(subjects, strata), _Probe(activations).probe())
    layers, scores = _reference_folds(activations, subjects, strata, comparison, squared=False)
    assert outcome.details["fold_layers"] == layers
    # The model RDMs' Gram products run in float32 (layer_rdms: distances within ~1e-7 of scipy's float64), which
    # moves a correlation of hundreds of distances by well under 1e-6.
    np.testing.assert_allclose(outcome.details["fold_scores"], scores, rtol=0, atol=1e-6)
    assert outcome.raw == pytest.approx(np.mean(scores), abs=1e-6)
    assert outcome.details["comparison"] == comparison and outcome.details["squared"] is False
    assert comparison in outcome.details["score_statistic"]
    assert outcome.details["ceiling_convention"] == "ratio"


def test_the_default_comparison_is_spearman(home, tmp_path):
    spec = _toml(tmp_path / "defs", "", 'method = "nili_upper"')
    activations, subjects, strata = _data()
    assert run_rsa(spec, _dataset(subjects, strata), _Probe(activations).probe()).details["comparison"] == "spearman"


@pytest.mark.parametrize("comparison", ["spearman", "pearson"])
def test_squared_correlation_over_a_published_r2_ceiling(home, tmp_path, comparison):
    """The Algonauts 2019 form: raw = mean over folds of the mean over subjects of ρ² (scipy), ceiled = raw / the
    published noise-ceiling R² (0.1589: their EVC ceiling of the 92 images), each fold likewise; all recorded."""
    activations, subjects, strata = _data()
    spec = _toml(tmp_path / "defs", f'comparison = "{comparison}"\nsquared = true',
                 f'method = "published"\nvalue = 0.1589\ncitation = "{CITATION}"')
    outcome = run_rsa(spec, _dataset(subjects, strata), _Probe(activations).probe())
    layers, scores = _reference_folds(activations, subjects, strata, comparison, squared=True)
    assert outcome.details["fold_layers"] == layers
    # float32 model RDMs (layer_rdms) against scipy's float64: < 1e-6 on a correlation, < 2e-6 on its square (2ρ·δ),
    # < 2e-5 after dividing by 0.1589.
    np.testing.assert_allclose(outcome.details["fold_scores"], scores, rtol=0, atol=2e-6)
    assert outcome.raw == pytest.approx(np.mean(scores), abs=2e-6)
    assert outcome.ceiling == 0.1589  # the published value itself, not computed
    assert outcome.ceiled == pytest.approx(np.mean(scores) / 0.1589, abs=2e-5)
    np.testing.assert_allclose(outcome.details["fold_ceiled"], np.array(scores) / 0.1589, rtol=0, atol=2e-5)
    details = outcome.details
    assert details["squared"] is True and "squared" in details["score_statistic"]
    assert details["ceiling_published"] == {"value": 0.1589, "citation": CITATION}
    assert details["ceiling_method"] == f"published R²: 0.1589 ({CITATION})"
    assert details["ceiling_convention"] == "ratio" and details["ceiled_formula"] == "raw / ceiling"
    # Every layer's profile value is an R² too: squares of correlations, each at most 1.
    assert all(0 <= v["raw"] <= 1 for v in outcome.profile.values())


def test_a_published_ceiling_ceils_the_plain_correlation(home, tmp_path):
    activations, subjects, strata = _data()
    spec = _toml(tmp_path / "defs", "", f'method = "published"\nvalue = 0.62\ncitation = "{CITATION}"')
    outcome = run_rsa(spec, _dataset(subjects, strata), _Probe(activations).probe())
    _, scores = _reference_folds(activations, subjects, strata, "spearman", squared=False)
    assert outcome.ceiling == 0.62 and outcome.details["fold_ceilings"] == []  # no Nili bounds computed
    assert outcome.ceiled == pytest.approx(np.mean(scores) / 0.62, abs=2e-6)  # ρ to 1e-6 (float32 RDMs), over 0.62
    assert outcome.details["ceiling_published"] == {"value": 0.62, "citation": CITATION}


def test_a_published_ceiling_works_on_one_group_rdm():
    """No Nili bound exists for one RDM, but a published ceiling does: raw / value, one fold at a time."""
    activations, subjects, strata = _data()
    layers = list(activations)
    model = torch.stack([torch.from_numpy(squareform(pdist(v, "correlation"))) for v in activations.values()])
    result = rsa_score(layers, model, torch.from_numpy(subjects[:1]), strata, n_splits=N_SPLITS, seed=SEED,
                       ceiling="published", published=0.5)
    assert result.ceiling == 0.5 and result.ceiled == pytest.approx(result.raw / 0.5, abs=1e-15)  # one division
    np.testing.assert_allclose(result.fold_ceiled, np.array(result.fold_scores) / 0.5, rtol=0, atol=1e-15)


BAD = [
    ("squared = true", 'method = "nili_upper"', "squared = true needs a published R² ceiling"),
    ("squared = true", "", "squared = true needs a published R² ceiling"),
    ('comparison = "kendall"', "", "comparison = 'kendall' is not one of spearman, kendall_tau_a, pearson"),
    ("squared = 1", f'method = "published"\nvalue = 0.3\ncitation = "{CITATION}"', "squared = 1 is not true or false"),
    ("", 'method = "published"\nvalue = 1.5\ncitation = "x"', r"value = 1.5; a published ceiling needs a value in"),
    ("", 'method = "published"\nvalue = 0\ncitation = "x"', r"value = 0; a published ceiling needs a value in"),
    ("", 'method = "published"\nvalue = "0.5"\ncitation = "x"', "value = '0.5'; a published ceiling needs a value"),
    ("", 'method = "published"\nvalue = 0.5', "a published ceiling needs \\[ceiling\\] citation"),
    ("", 'method = "published"\nvalue = 0.5\ncitation = " "', "a published ceiling needs \\[ceiling\\] citation"),
]


@pytest.mark.parametrize(("metric", "ceiling", "match"), BAD)
def test_a_definition_that_cannot_be_scored_is_one_sentence(home, tmp_path, metric, ceiling, match):
    with pytest.raises(BrainbenchError, match=match) as caught:
        _toml(tmp_path / "defs", metric, ceiling)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("Benchmark MyLab.EVC-rsa: ")


def test_a_published_ceiling_is_refused_for_kinds_that_compute_theirs():
    raw = {"id": "X.V1-x", "version": 1, "kind": "v1_properties", "region": "V1", "dataset": "d", "assembly": "a",
           "stimulus_degrees": 4, "ceiling": {"method": "published", "value": 0.5, "citation": "x"}}
    with pytest.raises(BrainbenchError, match="a published ceiling is for rsa and neural benchmarks, not "
                                              "v1_properties"):
        parse_benchmark(raw)


@pytest.mark.parametrize(("metric", "ceiling", "match"), [
    ({"squared": True}, {"method": "nili_upper"}, "the squared-correlation score needs a published R² ceiling"),
    ({"comparison": "kendall"}, {}, "unknown RDM comparison 'kendall'"),
    ({}, {"method": "nili_uper"}, "unknown ceiling method 'nili_uper'"),
    ({}, {"method": "nili_upper"}, "a Nili noise ceiling needs RDMs of at least 2 subjects"),
])
def test_run_time_refusals_come_before_any_model_work(metric, ceiling, match):
    """Defence in depth for specs built without parse_benchmark: one sentence, and the model never asked."""
    activations, subjects, strata = _data()
    spec = BenchmarkSpec(id="MyLab.EVC-rsa", version=1, kind="rsa", region="EVC", dataset="mylab_it",
                         assembly="MyLab.EVC", stimulus_degrees=8, metric=metric, ceiling=ceiling)
    probe = _Probe(activations)
    with pytest.raises(BrainbenchError, match=f"^Benchmark MyLab.EVC-rsa: {match}"):
        run_rsa(spec, _dataset(subjects[:1] if "Nili" in match else subjects, strata), probe.probe())
    assert probe.calls == 0
