"""Determinism of a whole score: identical records when repeated; equal to float32 rounding across batch sizes.

A small real network (the example plugin's, examples/my_plugin.py) scored on Kiani2007.IT-rsa (92 images) on the
CPU through the Python API, as a user scores it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import brainbench
from brainbench.leaderboard import ScoreRecord

pytestmark = pytest.mark.mirror

BENCHMARK = "Kiani2007.IT-rsa"
PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"


def _build_tinycnn() -> dict:
    spec = importlib.util.spec_from_file_location("my_plugin", PLUGIN)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin.build_tinycnn()


@pytest.fixture
def tinycnn(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})  # the registration stays inside the test
    brainbench.register_model("tinycnn")(_build_tinycnn)
    return "tinycnn"


def _score(model: str, mirror: Path, batch_size: int) -> ScoreRecord:
    steps: dict[str, list[int]] = {}  # each progress task's steps; the activation pass's are images per batch

    def progress(description: str, total: int):
        return steps.setdefault(description, []).append

    (record,) = brainbench.score(model, [BENCHMARK], save=False, data_mirrors=[mirror], device="cpu",
                                 batch_size=batch_size, progress=progress, cache=False)  # each from scratch
    (batches,) = [advanced for description, advanced in steps.items() if "activations" in description]
    assert batches == [batch_size] * (92 // batch_size) + [92 % batch_size] * (92 % batch_size > 0)
    return record


def _reproducible(record: ScoreRecord, leave_out: tuple[str, ...] = (), details_left_out: tuple[str, ...] = ()
                  ) -> dict[str, Any]:
    """The record without what differs between runs by design (uid, store id, clock times, durations) and without
    the fields `leave_out` and the details `details_left_out`."""
    varying = ("uid", "id", "started_at", "finished_at", "units", *leave_out)  # units (arrays): compared apart
    fields = {k: v for k, v in record.to_dict().items() if k not in varying}
    fields["details"] = {k: v for k, v in record.details.items() if k not in ("seconds", *details_left_out)}
    return fields


def test_determinism_same_inputs_and_batch_size_give_identical_records(home, mirror, tinycnn) -> None:
    first, second = _score(tinycnn, mirror, 32), _score(tinycnn, mirror, 32)
    assert first.uid != second.uid  # two records, each computed from scratch
    assert _reproducible(first) == _reproducible(second)  # exact: the guarantee under test
    assert first.units and first.units.keys() == second.units.keys()
    for name, values in first.units.items():  # the per-unit results too, bit for bit
        assert np.array_equal(values, second.units[name]), name


def test_determinism_across_batch_sizes_to_float32_rounding(home, mirror, tinycnn) -> None:
    records = {batch_size: _score(tinycnn, mirror, batch_size) for batch_size in (7, 32, 92)}
    reference = records[92]
    # Tolerances: the batch size may change the order in which float32 activations are summed (measured here: up to
    # 2.8e-7 of a layer's largest activation at batch 7, bit-identical at 32). That can only swap the ranks of
    # near-equal model distances: every activation perturbed by up to 1e-6 relative (24 random draws) moved a fold's
    # Spearman ρ by ≤ 6.6e-6 and the raw score (the 20 folds' mean) by ≤ 3.3e-7. Allowed: 1e-6 on the score, 1e-5
    # on a fold. Every fold's chosen layer leads the runner-up by ≥ 1e-3 (measured), so no pick can flip.
    score_fields = ("raw", "ceiled", "error")
    for batch_size in (7, 32):
        record = records[batch_size]
        for name in score_fields:
            assert getattr(record, name) == pytest.approx(getattr(reference, name), abs=1e-6), (batch_size, name)
        details, expected = record.details, reference.details
        assert details["fold_layers"] == expected["fold_layers"] and record.layer == reference.layer
        np.testing.assert_allclose(details["fold_scores"], expected["fold_scores"], rtol=0, atol=1e-5)
        assert list(details["layer_profile"]) == list(expected["layer_profile"])
        np.testing.assert_allclose(list(details["layer_profile"].values()), list(expected["layer_profile"].values()),
                                   rtol=0, atol=1e-5)
        # Everything else (provenance, parameters, the benchmark and model identity) is the same; the batch size
        # is recorded as given.
        assert details["batch_size"] == batch_size
        numbers = ("fold_scores", "layer_profile", "batch_size")
        assert _reproducible(record, score_fields, numbers) == _reproducible(reference, score_fields, numbers)
        # Per-unit results: model RDMs (1 − r, float32) move with the activations' rounding, as the fold scores do.
        assert record.units.keys() == reference.units.keys()
        for name, values in record.units.items():
            if np.asarray(values).dtype.kind == "f":
                np.testing.assert_allclose(values, reference.units[name], rtol=0, atol=1e-5, err_msg=name)
            else:
                assert np.array_equal(values, reference.units[name]), name
