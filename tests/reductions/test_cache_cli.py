"""``brainbench cache info|clear`` on entries written by the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from brainbench.reductions.store import ReductionStore


def _fill(store: ReductionStore) -> dict[str, int]:
    """Three entries of two models and two kinds; returns each entry's bytes on disk by (model, kind, layer)."""
    for model, kind, layer, n in (("alexnet", "rdm", "a", 100), ("alexnet", "regression_input", "a", 300),
                                  ("tinycnn", "rdm", "b", 200)):
        store.put({"kind": kind, "layer": layer, "model": {"identifier": model, "random_init": model == "tinycnn"}},
                  {"value": np.zeros(n)})
    return {f"{e.fields['model']['identifier']}/{e.fields['kind']}": e.size for e in store.entries()}


def test_info_counts_entries_by_kind_and_model(cli, home: Path) -> None:
    sizes = _fill(ReductionStore())
    result = cli("cache", "info", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["location"] == str(home / "reductions") and info["entries"] == 3
    assert info["bytes"] == sum(sizes.values())
    assert info["by_kind"] == {
        "rdm": {"entries": 2, "bytes": sizes["alexnet/rdm"] + sizes["tinycnn/rdm"]},
        "regression_input": {"entries": 1, "bytes": sizes["alexnet/regression_input"]},
    }
    assert info["by_model"]["tinycnn (random-init)"] == {"entries": 1, "bytes": sizes["tinycnn/rdm"]}
    table = cli("cache", "info")
    assert table.exit_code == 0 and "3 entries" in table.output and "tinycnn (random-init)" in table.output


def test_clear_one_model_then_all(cli, home: Path) -> None:
    store = ReductionStore()
    _fill(store)
    result = cli("cache", "clear", "--model", "alexnet")
    assert result.exit_code == 0 and "removed 2 cached reduction(s) of alexnet" in result.output
    assert [e.fields["model"]["identifier"] for e in store.entries()] == ["tinycnn"]
    assert cli("cache", "clear").exit_code == 0
    assert store.entries() == [] and list((home / "reductions").iterdir()) == []


def test_a_bad_size_is_one_line(cli, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("BRAINBENCH_CACHE_SIZE", "-1")
    result = cli("cache", "info")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: BRAINBENCH_CACHE_SIZE must be a size such as 5GB, 500MB or 0 (off), not '-1'."]


PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"


@pytest.mark.mirror
def test_score_and_layers_no_cache_keep_nothing_and_plain_runs_fill_it(cli, home: Path, mirror: Path) -> None:
    assert cli("models", "register", "tinycnn", "--from", f"{PLUGIN}:build_tinycnn").exit_code == 0
    run = ("tinycnn", "--random-init", "-b", "Kiani2007.IT-rsa", "--data-mirror", mirror, "--json")
    for command in (("score", *run, "--no-save"), ("layers", *run)):
        result = cli(*command, "--no-cache")
        assert result.exit_code == 0, result.output
        assert ReductionStore().entries() == [], command
    assert cli("layers", *run).exit_code == 0
    assert {e.fields["kind"] for e in ReductionStore().entries()} == {"rdm"}
