"""The RSA kind keeps its per-unit results: on the real Kriegeskorte et al. (2008) human IT RDMs, with a model of
random features, the record names its paired test, stores the data RDMs as the benchmark read them, and the paired
test reproduces and compares the recorded scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.distance import squareform

from brainbench.benchmarks.kinds import ModelProbe, run_rsa
from brainbench.benchmarks.rsa import subject_rdms
from brainbench.benchmarks.spec import list_benchmarks
from brainbench.comparison.estimate import unit_test
from brainbench.comparison.rsa_test import ceiled_scores
from brainbench.data import load_dataset
from brainbench.leaderboard.record import ScoreRecord

BENCHMARK = "Kriegeskorte2008.IT-rsa"


def _record(outcome) -> ScoreRecord:
    return ScoreRecord(model="m", weights_digest="0" * 64, random_init=False, benchmark=BENCHMARK, benchmark_version=2,
                       region="IT", raw=outcome.raw, ceiling=outcome.ceiling, ceiled=outcome.ceiled,
                       error=outcome.error, layer=outcome.layer, brainbench_version="0", seed=0, device="cpu",
                       started_at="", finished_at="", details=outcome.details, units=outcome.units)


def test_the_rsa_kind_stores_what_its_paired_test_needs(home: Path, mirror: Path) -> None:
    spec = list_benchmarks()[BENCHMARK]
    dataset = load_dataset(spec.dataset, mirrors=[mirror])
    rng = np.random.default_rng(0)
    n = 92

    def probe(features: dict[str, np.ndarray]) -> ModelProbe:
        return ModelProbe(list(features), torch.device("cpu"),
                          lambda stimuli, degrees: {k: torch.from_numpy(v) for k, v in features.items()},
                          lambda *a: {}, dict)

    first = run_rsa(spec, dataset, probe({f"l{k}": rng.standard_normal((n, 40)) for k in range(3)}))
    other = run_rsa(spec, dataset, probe({"only": rng.standard_normal((n, 40))}))
    units = first.units
    assert first.details["unit_test"] == "rsa"
    assert units["fold_scored"].shape == (20, n) and units["fold_layer"].shape == (20,)
    assert units["model_rdms"].shape[0] == len(set(first.details["fold_layers"]))
    data = subject_rdms(dataset.assemblies[spec.assembly]).numpy()
    stored = units["data_rdms"].astype(np.float64)
    assert stored.shape == (4, n * (n - 1) // 2)  # four subjects, sessions averaged
    for subject, condensed in zip(data, stored, strict=True):  # float32 storage of distances in [0, 2]
        np.testing.assert_allclose(condensed, squareform(subject, checks=False), rtol=0, atol=1e-6)
    record = _record(first)
    ones = np.ones((1, n), dtype=np.int64), np.ones((1, 4), dtype=np.int64)
    # Only float32 storage separates the two computations (a Spearman ρ moves by far less than 1e-5).
    assert ceiled_scores([record], *ones)[0, 0] == pytest.approx(first.ceiled, abs=1e-5)
    estimate = unit_test("rsa")(record, _record(other), 100, 0)
    assert "92 stimuli and 4 subjects" in estimate.method
    assert estimate.difference == pytest.approx(other.ceiled - first.ceiled, abs=1e-12)
