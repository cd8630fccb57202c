"""The neural kind's ceiling methods: a published ceiling (recorded with its citation, the explained-variance
convention in closed form), "none", and internal consistency refused on data with one repetition per stimulus —
before any model work, instead of scoring a raw r that a column would average with r²/ceiling values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from brainbench.benchmarks.kinds import ModelProbe, run_neural_kind
from brainbench.benchmarks.spec import parse_benchmark
from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.errors import BrainbenchError

N_SEL, N_SCORED, Q = 40, 50, 6
CITATION = "Lab et al. (2024), J. Neurosci. 44: e0001"


def _dataset(repetitions: int, seed: int = 0) -> tuple[Dataset, dict[str, np.ndarray]]:
    """Selection (one repetition) and scored recordings of a latent code; ``repetitions`` of the scored stimuli."""
    rng = np.random.default_rng(seed)
    n = N_SEL + N_SCORED
    ids = [f"s{i:03d}" for i in range(n)]
    latent = rng.standard_normal((n, 3))
    features = {"good": latent @ rng.standard_normal((3, 20)) + 0.3 * rng.standard_normal((n, 20)),
                "noise": rng.standard_normal((n, 20))}

    def assembly(rows: range, reps: int, name: str) -> xr.DataArray:
        signal = latent[list(rows)] @ rng.standard_normal((3, Q))
        trials = signal[None] + rng.standard_normal((reps, len(rows), Q))
        r_idx, s_idx = np.divmod(np.arange(reps * len(rows)), len(rows))
        coords = {"stimulus_id": ("presentation", [ids[rows[i]] for i in s_idx]),
                  "neuroid_id": ("neuroid", [f"{name}{j}" for j in range(Q)])}
        if reps > 1:
            coords["repetition"] = ("presentation", r_idx)
        return xr.DataArray(trials[r_idx, s_idx], dims=("presentation", "neuroid"), coords=coords)

    metadata = pd.DataFrame({"stimulus_id": ids}).set_index("stimulus_id")
    stimuli = in_memory_stimuli("lab", np.zeros((n, 4, 4, 3), np.uint8), metadata)
    assemblies = {"session1": assembly(range(N_SEL), 1, "a"), "session2": assembly(range(N_SEL, n), repetitions, "b")}
    return Dataset(Manifest("mylab_v4", "my lab's V4", "generic", ()), stimuli, assemblies), features


class _Probe:
    """Layers as their features (the narrow-layer form of `predictivity.regression_input`); counts model calls."""

    def __init__(self, features: dict[str, np.ndarray]) -> None:
        self.features, self.calls = features, 0

    def kernels(self, stimuli, degrees, layers) -> dict[str, torch.Tensor]:
        self.calls += 1
        index = [int(s[1:]) for s in stimuli.stimulus_ids]
        return {name: torch.from_numpy(self.features[name][index]) for name in layers or self.features}

    def probe(self) -> ModelProbe:
        return ModelProbe(list(self.features), torch.device("cpu"), lambda *a: {}, self.kernels, dict)


def _spec(ceiling: dict[str, Any]):
    return parse_benchmark({
        "id": "MyLab.hV4-pls", "version": 1, "kind": "neural", "region": "hV4", "dataset": "mylab_v4",
        "assembly": "session2", "stimulus_degrees": 8,
        "metric": {"regression": "pls", "n_components": 3, "n_splits": 4, "train_size": 0.9, "random_state": 1},
        "layer_selection": {"assembly": "session1"}, "ceiling": ceiling,
    })


@pytest.mark.parametrize("repetitions", [1, 4])
def test_a_published_ceiling_is_recorded_and_ceils_by_explained_variance(repetitions):
    dataset, features = _dataset(repetitions)
    spec = _spec({"method": "published", "value": 0.7, "citation": CITATION})
    outcome = run_neural_kind(spec, dataset, _Probe(features).probe())
    assert outcome.ceiling == 0.7  # the published value itself, not computed
    # Closed form of the explained-variance convention: sign(r)·r²/ceiling, overall and per split; float64 → 1e-12.
    r = outcome.raw
    assert 0.2 < r < 1 and outcome.ceiled == pytest.approx(np.sign(r) * r**2 / 0.7, abs=1e-12)
    medians = np.asarray(outcome.details["split_medians"])
    np.testing.assert_allclose(outcome.details["split_ceiled"], np.sign(medians) * medians**2 / 0.7, rtol=0,
                               atol=1e-12)
    details = outcome.details
    assert details["ceiling_published"] == {"value": 0.7, "citation": CITATION}
    assert details["ceiling_method"] == f"published: 0.7 ({CITATION})" and details["ceiling_split_medians"] == []
    assert details["ceiling_convention"] == "explained_variance"
    assert spec.feeds(outcome.ceiling) is None  # hV4 is no leaderboard column unless the TOML names one


def test_the_ceiling_method_does_not_move_the_raw_score():
    dataset, features = _dataset(4)
    published = run_neural_kind(_spec({"method": "published", "value": 0.7, "citation": CITATION}), dataset,
                                _Probe(features).probe())
    computed = run_neural_kind(_spec({"method": "internal_consistency"}), dataset, _Probe(features).probe())
    assert published.raw == computed.raw  # one computation, the same inputs: the same float
    assert computed.ceiling != 0.7 and "internal consistency" in computed.details["ceiling_method"]
    assert "ceiling_published" not in computed.details


@pytest.mark.parametrize("ceiling", [{"method": "internal_consistency"}, {}], ids=["named", "default"])
def test_internal_consistency_on_one_repetition_is_refused_before_any_model_work(ceiling):
    dataset, features = _dataset(1)
    probe = _Probe(features)
    with pytest.raises(BrainbenchError) as caught:
        run_neural_kind(_spec(ceiling), dataset, probe.probe())
    assert str(caught.value) == (
        "Benchmark MyLab.hV4-pls: the internal-consistency ceiling needs at least 2 repetitions per stimulus, and "
        'assembly session2 has 1; give [ceiling] method = "published" (value, citation) or "none".')
    assert probe.calls == 0


def test_method_none_scores_raw_and_feeds_no_column_by_default():
    dataset, features = _dataset(1)
    spec = _spec({"method": "none"})
    outcome = run_neural_kind(spec, dataset, _Probe(features).probe())
    assert outcome.ceiling is None and outcome.ceiled == outcome.raw  # the raw value itself
    assert outcome.details["ceiling_convention"] == "none" and spec.feeds(None) is None


def test_an_unknown_ceiling_method_is_refused_before_any_model_work():
    dataset, features = _dataset(4)
    probe = _Probe(features)
    with pytest.raises(BrainbenchError, match=r"^Benchmark MyLab\.hV4-pls: unknown ceiling method 'internal'; "
                                              r"choose one of internal_consistency, none, published\.$"):
        run_neural_kind(_spec({"method": "internal"}), dataset, probe.probe())
    assert probe.calls == 0
