"""End to end: a user benchmark TOML over the built-in human IT RDMs, with a free region, an explicit column and a
published ceiling, scores the same raw value as the built-in benchmark and is ceiled by its published value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brainbench.leaderboard import Leaderboard

pytestmark = [pytest.mark.mirror, pytest.mark.slow]
CITATION = "A published ceiling, for the test (2024)"

USER_BENCHMARK = f"""
id = "MyLab.hIT-rsa"
version = 1
kind = "rsa"
region = "hIT"
column = "IT"
dataset = "kriegeskorte2008"
assembly = "Kriegeskorte2008.IT"
stimulus_degrees = 2.9

[metric]
comparison = "spearman"

[layer_selection]
n_splits = 10
stratify = "category"
seed = 0

[ceiling]
method = "published"
value = 0.5
citation = "{CITATION}"
"""


def test_a_user_benchmark_with_a_published_ceiling_scores_as_the_built_in_one(cli, home: Path, mirror,
                                                                               tmp_path: Path) -> None:
    (home / "benchmarks").mkdir(parents=True, exist_ok=True)
    (home / "benchmarks" / "MyLab.hIT-rsa.toml").write_text(USER_BENCHMARK)
    board = tmp_path / "board.sqlite"
    result = cli("score", "timm:resnet18", "--random-init", "--layers", "layer1.0,layer2.0,layer3.0",
                 "-b", "Kriegeskorte2008.IT-rsa", "-b", "MyLab.hIT-rsa", "--data-mirror", mirror,
                 "--leaderboard", board, "--json", "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    built_in, user = json.loads(result.stdout)
    # The same data, activations, splits and comparison: only the ceiling differs (one computation each, 1e-12
    # allows for nothing but a different summation order).
    assert user["raw"] == pytest.approx(built_in["raw"], abs=1e-12)
    assert user["ceiling"] == 0.5 and user["ceiled"] == pytest.approx(user["raw"] / 0.5, abs=1e-15)  # one division

    record = Leaderboard(board).records(benchmark="MyLab.hIT-rsa")[0]
    assert record.region == "hIT"
    details = record.details
    assert details["ceiling_published"] == {"value": 0.5, "citation": CITATION}
    assert (details["comparison"], details["squared"], details["column"], details["column_explicit"]) == (
        "spearman", False, "IT", True)
    assert details["benchmark_parameters"]["ceiling"] == {"method": "published", "value": 0.5, "citation": CITATION}

    (row,) = json.loads(cli("leaderboard", "--leaderboard", board, "--json").stdout)
    assert row["columns"]["IT"] == ["Kriegeskorte2008.IT-rsa", "MyLab.hIT-rsa"]
    # The mean of two stored values: one addition and one division, an ulp or two.
    assert row["regions"]["IT"] == pytest.approx((built_in["ceiled"] + user["ceiled"]) / 2, abs=1e-15)
