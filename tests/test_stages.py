"""Stage timing (brainbench/stages.py): exclusive seconds per stage, and the breakdown a score records."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import brainbench
from brainbench import stages
from brainbench.stages import STAGES, StageClock, measuring, stage

PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "my_plugin.py"


def test_nested_stages_count_each_second_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([0.0, 1.0, 3.0, 4.0, 4.5, 10.0])  # perf_counter at each stage's start and end, in call order
    monkeypatch.setattr(stages.time, "perf_counter", lambda: next(ticks))
    clock = StageClock()
    with measuring(clock), stage("outer"):  # 0 → 10
        with stage("inner"):  # 1 → 3
            pass
        with stage("inner"):  # 4 → 4.5
            pass
    # Closed form: inner = 2 + 0.5; outer = 10 − 2.5 (its own time only).
    assert clock.seconds == pytest.approx({"inner": 2.5, "outer": 7.5}, abs=1e-12)


def test_stage_without_a_clock_measures_nothing() -> None:
    clock = StageClock()
    with stage("forward_passes"):  # no clock current: nothing recorded anywhere
        pass
    with measuring(clock):
        pass
    assert clock.seconds == {}


def _build_tinycnn() -> dict:
    spec = importlib.util.spec_from_file_location("my_plugin", PLUGIN)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin.build_tinycnn()


@pytest.mark.mirror
def test_a_record_breaks_its_time_into_stages(home: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})  # the registration stays inside the test
    brainbench.register_model("tinycnn")(_build_tinycnn)
    log = tmp_path / "stages.jsonl"
    monkeypatch.setenv(stages.LOG_VARIABLE, str(log))
    (record,) = brainbench.score("tinycnn", ["Kiani2007.IT-rsa"], save=False, data_mirrors=[mirror], device="cpu")
    seconds = dict(record.details["seconds"])
    total = seconds.pop("total")
    assert set(seconds) <= set(STAGES)
    # What an RSA score does: data, model, images decoded and preprocessed, a forward pass, RDMs, the rest.
    assert {"data_loading", "model_building", "decode_preprocess", "forward_passes", "rdms", "other"} <= set(seconds)
    assert all(value >= 0 for value in seconds.values())
    # The stages partition the benchmark's time: only the few statements around them are outside any stage.
    assert sum(seconds.values()) <= total
    (line,) = log.read_text().splitlines()
    logged = json.loads(line)["seconds"]
    # One benchmark: the process log holds the same clock's values (copied through JSON: rounding at most).
    assert logged == pytest.approx(seconds, rel=1e-12)
