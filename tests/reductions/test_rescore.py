"""Re-scoring through the reduction cache: the same record, read instead of computed; every key component misses.

A small real network (the example plugin's, examples/my_plugin.py) on Kiani2007.IT-rsa (92 images) through the Python
API, as a user scores it; the key components on the same network and a few generated images.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import brainbench
from brainbench.benchmarks.scoring import layer_profile
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.leaderboard import ScoreRecord
from brainbench.models.activations import layer_kernels
from brainbench.models.electrophysiology import LayerRecording
from brainbench.models.registry import Model, resolve_model
from brainbench.reductions import cached, keys
from brainbench.reductions.cached import CachedReductions
from brainbench.reductions.store import ReductionStore
from tests.benchmarks import test_determinism

BENCHMARK = "Kiani2007.IT-rsa"


tinycnn = test_determinism.tinycnn  # the fixture: the example plugin's tinycnn, registered inside the test


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every cache lookup of the test, True for a hit (the hook: ReductionStore.get wrapped)."""
    seen: list[bool] = []
    get = ReductionStore.get

    def counted(self: ReductionStore, fields: dict[str, Any]) -> dict[str, np.ndarray] | None:
        found = get(self, fields)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(ReductionStore, "get", counted)
    return seen


def _score(model: str, mirror: Path, tasks: list[str] | None = None) -> ScoreRecord:
    def progress(description: str, total: int) -> Callable[[int], None]:
        if tasks is not None:
            tasks.append(description)
        return lambda n: None

    (record,) = brainbench.score(model, [BENCHMARK], save=False, data_mirrors=[mirror], device="cpu", progress=progress)
    return record


def _reproducible(record: ScoreRecord) -> dict[str, Any]:
    """The record without what differs between runs by design (uid, clock times, durations)."""
    fields = {k: v for k, v in record.to_dict().items() if k not in ("uid", "id", "started_at", "finished_at", "units")}
    fields["details"] = {k: v for k, v in record.details.items() if k != "seconds"}
    return fields


@pytest.mark.mirror
def test_a_second_score_reads_the_cache_and_gives_the_same_record(home, mirror, tinycnn, lookups) -> None:
    first_tasks: list[str] = []
    first = _score(tinycnn, mirror, first_tasks)
    n_layers = len(first.details["model"]["candidate_layers"])
    assert lookups == [False] * n_layers, "the first run finds nothing and computes every layer's RDM"
    assert any("activations" in task for task in first_tasks)
    lookups.clear()
    second_tasks: list[str] = []
    second = _score(tinycnn, mirror, second_tasks)
    assert lookups == [True] * n_layers
    assert not any("activations" in task for task in second_tasks), "no forward pass when every RDM is cached"
    assert _reproducible(second) == _reproducible(first)  # exact: the numbers read are the numbers computed
    for name, values in first.units.items():
        assert np.array_equal(values, second.units[name]), name
    lookups.clear()
    (profile, _), = layer_profile(tinycnn, [BENCHMARK], data_mirrors=[mirror], device="cpu")
    assert lookups == [True] * n_layers, "`layers` after `score` reads the same entries"
    assert profile.layer == first.layer and profile.raw == first.raw


@pytest.mark.mirror
def test_a_damaged_entry_is_recomputed_with_a_warning_and_the_same_record(home, mirror, tinycnn, lookups,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    first = _score(tinycnn, mirror)
    entries = sorted((home / "reductions").glob("*.npz"))
    assert entries
    damaged = entries[0]
    content = bytearray(damaged.read_bytes())
    content[-8] ^= 0x01  # the last byte of the stored RDM's data: np.load alone would read a wrong number
    damaged.write_bytes(bytes(content))
    lookups.clear()
    with caplog.at_level(logging.WARNING, logger="brainbench.reductions"):
        second = _score(tinycnn, mirror)
    assert [r.getMessage() for r in caplog.records if r.name == "brainbench.reductions"] == [
        f"Cached reduction {damaged} failed its sha256 check; computing it again."]
    assert lookups.count(False) == 1
    assert _reproducible(second) == _reproducible(first)
    lookups.clear()
    _score(tinycnn, mirror)
    assert all(lookups), "the damaged entry was replaced by a verified one"


@pytest.mark.mirror
def test_no_cache_reads_and_writes_nothing(home, mirror, tinycnn, lookups) -> None:
    brainbench.score(tinycnn, [BENCHMARK], save=False, data_mirrors=[mirror], device="cpu", cache=False)
    assert lookups == [] and not (home / "reductions").exists()


# The key: each component that changes the numbers gives another entry.

def _stimuli(seed: int = 0, ids: tuple[str, ...] = ("a", "b", "c", "d", "e", "f")):
    images = np.random.default_rng(seed).integers(0, 256, (len(ids), 40, 40, 3), dtype=np.uint8)
    return in_memory_stimuli("generated", images, pd.DataFrame(index=pd.Index(ids, name="stimulus_id")))


def _model(seed: int = 0) -> Model:
    return resolve_model("tinycnn", random_init=True, seed=seed)


def _kernels(reductions: CachedReductions, model: Model, stimuli, degrees: float = 4.0, layer: str = "3",
             batch_size: int = 4) -> tuple[torch.Tensor, int]:
    """The layer's regression input through the cache, and how many layers were computed."""
    computed: list[str] = []

    def compute(layers: list[str]) -> dict[str, torch.Tensor]:
        computed.extend(layers)
        return layer_kernels(model, stimuli, degrees, layers, device="cpu", batch_size=batch_size)

    return reductions.per_layer("regression_input", stimuli, degrees, [layer], compute)[layer], len(computed)


def test_each_key_component_misses(home, tinycnn, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ReductionStore()
    model = _model()
    cpu = torch.device("cpu")
    reference, computed = _kernels(CachedReductions(store, model, cpu, 4), model, _stimuli())
    assert computed == 1
    again, computed = _kernels(CachedReductions(store, model, cpu, 4), model, _stimuli())
    assert computed == 0 and torch.equal(again, reference) and again.dtype == torch.float64
    direct = layer_kernels(model, _stimuli(), 4.0, ["3"], device="cpu", batch_size=4)["3"]
    assert torch.equal(again, direct)  # the cached value is what layer_kernels computes, bit for bit

    other_weights = _model(seed=1)
    assert other_weights.weights_digest != model.weights_digest
    changed_pixel = _stimuli()
    pixels = np.stack([np.asarray(image) for image in changed_pixel.images()])
    pixels[2, 5, 5, 0] ^= 1
    changed_pixel = in_memory_stimuli("generated", pixels, changed_pixel.metadata)
    other_preprocessing = dataclasses.replace(model, preprocessing=dataclasses.replace(model.preprocessing,
                                                                                       mean=(0.5, 0.5, 0.5)))
    variants = {
        "weights": dict(model=other_weights),
        "one pixel": dict(stimuli=changed_pixel),
        "stimulus ids": dict(stimuli=_stimuli(ids=("a", "b", "c", "d", "e", "g"))),
        "stimulus degrees": dict(degrees=6.0),
        "model's visual degrees": dict(model=dataclasses.replace(model, visual_degrees=10.0)),
        "preprocessing": dict(model=other_preprocessing),
        "layer": dict(layer="5"),
        "batch size": dict(batch_size=3),
    }
    for name, change in variants.items():
        chosen = change.get("model", model)
        reductions = CachedReductions(store, chosen, cpu, change.get("batch_size", 4))
        _, computed = _kernels(reductions, chosen, change.get("stimuli", _stimuli()), change.get("degrees", 4.0),
                                   change.get("layer", "3"), change.get("batch_size", 4))
        assert computed == 1, f"a change of the {name} must miss"
    for name, change in {"device": dict(device=torch.device("meta")), "torch version": dict(torch="0.0.0"),
                         "reducing code": dict(code="edited")}.items():  # not run: the key alone must differ
        with monkeypatch.context() as patched:
            if "torch" in change:
                patched.setattr(torch, "__version__", change["torch"])
            if "code" in change:
                patched.setattr(keys, "_code_digest", lambda code=change["code"]: code)
            reductions = CachedReductions(store, model, change.get("device", cpu), 4)
        _, computed = _kernels(reductions, model, _stimuli())
        assert computed == 1, f"a change of the {name} must miss"


def test_grating_recordings_round_trip_exactly(home, tinycnn) -> None:
    rng = np.random.default_rng(0)
    recordings = {
        layer: LayerRecording(layer, (16, 48, 48), 16 * 48 * 48, 300 + i, np.sort(rng.choice(16 * 48 * 48, 40)),
                              rng.standard_normal((40, 2)), rng.standard_normal(40).astype(np.float32),
                              {"orientation": rng.standard_normal((40, 12)), "size": rng.standard_normal((40, 7))})
        for i, layer in enumerate(("1", "3"))
    }
    calls: list[int] = []
    reductions = CachedReductions(ReductionStore(), _model(), torch.device("cpu"), 32)
    reductions.recordings(["1", "3"], True, lambda: calls.append(1) or recordings)
    read = reductions.recordings(["1", "3"], True, lambda: calls.append(1) or recordings)
    assert calls == [1] and list(read) == ["1", "3"]
    for layer, recording in recordings.items():
        got = read[layer]
        assert (got.layer, got.output_shape, got.n_units, got.n_mapped) == (
            recording.layer, recording.output_shape, recording.n_units, recording.n_mapped)
        for name in ("units", "rf_centre", "blank"):
            assert np.array_equal(getattr(got, name), getattr(recording, name))
            assert getattr(got, name).dtype == getattr(recording, name).dtype
        assert list(got.responses) == list(recording.responses)
        assert all(np.array_equal(got.responses[k], v) for k, v in recording.responses.items())
    assert cached.KIND_PARAMETERS["gratings"]["drawing_version"] >= 1
