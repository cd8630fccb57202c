"""``layers`` locates every benchmark's data before building the model, as ``score`` does (issue 15, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import test_score_keeps
from tests.cli.test_bad_input import Cli

pytestmark = pytest.mark.mirror
partial_mirror = test_score_keeps.partial_mirror  # the fixture: a mirror holding the 92-images dataset, no Cowley2023


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models the scoring module asked to resolve (each refused: the test must not build one)."""
    names: list[str] = []

    def resolve(name: str, **options: object) -> None:
        names.append(name)
        raise AssertionError("a model was built")

    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", resolve)
    return names


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_unavailable_data_is_refused_before_the_model_is_built(
    cli: Cli, partial_mirror: Path, home: Path, built: list[str], json_flag: tuple[str, ...]
) -> None:
    result = cli("layers", "timm:resnet18", "--random-init", "-b", "Kiani2007.IT-rsa", "-b", "Cowley2023.V4-pls",
                 "--offline", "--data-mirror", partial_mirror, *json_flag)
    assert built == [] and result.exit_code == 1
    where, error = result.stderr.splitlines()
    assert where == (f"cowley2023: 5 of 5 files not in the cache ({home / 'data' / 'cowley2023'}), not in the data "
                     f"mirror(s) {partial_mirror}, downloads are off")
    assert error.startswith("error: 1 dataset(s) the benchmarks need are not available (cowley2023); nothing was "
                            "computed")
    assert "--skip-unavailable" not in error  # layers has no such option: the advice must be one it can follow
    assert result.stdout == ""


def test_offline_layers_profiles_mirrored_data(cli: Cli, partial_mirror: Path, tmp_path: Path) -> None:
    """--offline with every dataset in the mirror refuses nothing: the check does not stand in the way of the work."""
    plugin = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"
    assert cli("models", "register", "tinycnn", "--from", f"{plugin}:build_tinycnn").exit_code == 0
    result = cli("layers", "tinycnn", "--random-init", "--layers", "3,5", "--device", "cpu", "-b", "Kiani2007.IT-rsa",
                 "--offline", "--data-mirror", partial_mirror, "--json")
    assert result.exit_code == 0, result.stderr
    (report,) = json.loads(result.stdout)
    assert report["benchmark"] == "Kiani2007.IT-rsa"
    assert [row["layer"] for row in report["layers"]] == ["3", "5"]
