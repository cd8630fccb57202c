"""End to end on real V4 data: a trained network predicts V4 better than an untrained one."""

from __future__ import annotations

import json

import pytest

from brainbench.leaderboard import Leaderboard

pytestmark = [pytest.mark.mirror, pytest.mark.slow]


def test_cowley_v4_trained_beats_untrained(cli, mirror, tmp_path):
    board = tmp_path / "board.sqlite"
    common = ["-b", "Cowley2023.V4-pls", "--data-mirror", mirror, "--leaderboard", board, "--json", "--device", "cpu"]
    # A few candidate layers keep the test short; the layer is still committed on session 210225.
    trained = cli("score", "efficientnet_lite0", "--layers", "blocks.2.1,blocks.4.2,blocks.5.2", *common)
    assert trained.exit_code == 0, trained.stderr
    untrained = cli("score", "timm:resnet18", "--random-init", "--layers", "layer2.1,layer3.1,layer4.1", *common)
    assert untrained.exit_code == 0, untrained.stderr
    good, bad = json.loads(trained.stdout)[0], json.loads(untrained.stdout)[0]
    assert good["raw"] > bad["raw"] + 0.1 and good["ceiled"] > bad["ceiled"]
    assert 0.5 < good["ceiling"] < 1  # ceiled = r²/ceiling (r > 0): `ceil` is checked in tests/metrics/test_ceiling.py

    record = Leaderboard(board).records(model="efficientnet_lite0")[0]
    details = record.details
    assert record.layer == details["layer_map"]["V4"] and record.layer in {"blocks.2.1", "blocks.4.2", "blocks.5.2"}
    assert "Cowley2023.210225.V4" in details["layer_selection"]
    assert len(details["split_medians"]) == len(details["ceiling_split_medians"]) == 10
    assert details["ceiling_convention"] == "explained_variance" and details["n_stimuli"] == 640
    assert details["column"] == "V4" and len(details["split_ceiled"]) == 10
    assert set(details["layer_profile"]) == {"blocks.2.1", "blocks.4.2", "blocks.5.2"}
