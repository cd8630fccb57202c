"""``benchmarks list [PATTERN] [--region R]`` says which benchmarks can run now; ``models list --json`` gives every
field (issue 15, items 2 and 5)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_benchmarks_list_pattern_and_region(cli) -> None:
    rows = json.loads(cli("benchmarks", "list", "Marques2020.*", "--json").stdout)
    expected = sorted(p.stem for p in (REPO / "benchmarks").glob("Marques2020.*.toml"))
    assert [r["id"] for r in rows] == expected and len(rows) == 9
    it = json.loads(cli("benchmarks", "list", "--region", "IT", "--json").stdout)
    assert sorted(r["id"] for r in it) == ["Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa", "MajajHong2015.IT-pls"]
    assert json.loads(cli("benchmarks", "list", "Kiani*", "--region", "V1", "--json").stdout) == []
    bad = cli("benchmarks", "list", "--region", "V3")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: ")


def test_benchmarks_list_json_has_every_field_of_the_definition(cli) -> None:
    (row,) = json.loads(cli("benchmarks", "list", "Kriegeskorte2008.IT-rsa", "--json").stdout)
    with open(REPO / "benchmarks" / "Kriegeskorte2008.IT-rsa.toml", "rb") as handle:
        definition = tomllib.load(handle)
    for key, value in definition.items():  # the TOML, as written, is in the JSON
        assert row[key] == value, key
    assert {"availability", "parameters", "description", "column", "ceiling"} <= set(row)


@pytest.mark.mirror
def test_benchmarks_list_says_which_can_run_now(cli, mirror: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial-mirror"
    partial.mkdir()
    (partial / "kriegeskorte2008_92images").symlink_to(mirror / "kriegeskorte2008_92images")
    rows = {r["id"]: r["availability"] for r in
            json.loads(cli("benchmarks", "list", "--json", "--data-mirror", partial).stdout)}
    assert rows["Kiani2007.IT-rsa"] == rows["Mur2013.behavior-rsa"] == "mirror"
    assert rows["Cowley2023.V4-pls"] == "network"  # not in this mirror: it would be downloaded
    assert rows["Marques2020.V1-preferred_orientation"] == "embedded"  # shipped; the gratings are generated
    table = cli("benchmarks", "list", "Kiani*", "--data-mirror", partial)
    assert table.exit_code == 0 and "mirror" in table.stdout and "data" in table.stdout


def test_models_list_json_gives_every_field(cli) -> None:
    rows = json.loads(cli("models", "list", "--json").stdout)
    (lite,) = [r for r in rows if r["name"] == "efficientnet_lite0"]
    with open(REPO / "model_registry" / "efficientnet_lite0.toml", "rb") as handle:
        definition = tomllib.load(handle)
    assert lite["origin"] == "built-in" and lite["description"] == definition["description"]
    assert {"architecture", "source", "layers", "visual_degrees", "preprocessing", "weights"} <= set(lite)
    timm_rows = json.loads(cli("models", "list", "timm:resnet18", "--json").stdout)
    assert timm_rows == [{"name": "timm:resnet18", "origin": "timm"}]
