"""``layers`` with several models (-m): each model's profile with its own options, the shared options for the rest,
one figure; bad -m values, misspelt ids and unwritable figures refused before any model is built (issue 12, §4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import test_layers_checks_data
from tests.cli.test_bad_input import Cli, assert_one_line_error

pytestmark = pytest.mark.mirror
PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"
BENCHMARK = ("-b", "Kiani2007.IT-rsa", "--device", "cpu", "--offline")


@pytest.fixture
def tinycnn(cli: Cli) -> None:
    assert cli("models", "register", "tinycnn", "--from", f"{PLUGIN}:build_tinycnn").exit_code == 0


built = test_layers_checks_data.built  # the fixture: models the scoring module asked to build (refused)


def ceiled(report: dict) -> dict[str, float]:
    return {row["layer"]: row["ceiled"] for row in report["layers"]}


def test_each_model_is_profiled_with_its_own_options_and_the_shared_ones(
    cli: Cli, mirror: Path, tinycnn: None, tmp_path: Path
) -> None:
    figure = tmp_path / "both.png"
    result = cli("layers", "-m", "tinycnn --layers 3,5", "-m", "tinycnn  --seed 1", "--random-init", *BENCHMARK,
                 "--data-mirror", mirror, "--json", "--plot", figure)
    assert result.exit_code == 0, result.stderr
    few, seeded = json.loads(result.stdout)
    assert (few["model"], seeded["model"]) == ("tinycnn --layers 3,5", "tinycnn --seed 1")
    assert [row["layer"] for row in few["layers"]] == ["3", "5"]
    assert [row["layer"] for row in seeded["layers"]] == ["1", "3", "5", "6"]  # the plugin's default candidates
    # normalised depth i / (n − 1) of the candidate layers in order (closed form; exact binary fractions aside, the
    # tolerance allows the last bit of a division)
    assert [row["depth"] for row in seeded["layers"]] == pytest.approx([0, 1 / 3, 2 / 3, 1], abs=1e-12)
    assert [row["depth"] for row in few["layers"]] == pytest.approx([0, 1], abs=1e-12)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 20_000
    assert f"figure saved to {figure}" not in result.stdout  # --json prints JSON only

    # The same models one at a time, options given the usual way: the same profiles. Same inputs, same CPU; the
    # tolerance allows a different summation order of BLAS threads.
    for report, options in ((few, ("--layers", "3,5")), (seeded, ("--seed", "1"))):
        alone = cli("layers", "tinycnn", "--random-init", *options, *BENCHMARK, "--data-mirror", mirror, "--json")
        assert alone.exit_code == 0, alone.stderr
        (single,) = json.loads(alone.stdout)
        assert single["committed_layer"] == report["committed_layer"]
        assert ceiled(single) == pytest.approx(ceiled(report), abs=1e-6)
    # ... and the seed did reach the second model: its random weights (and so its scores) differ from seed 0's
    assert max(abs(ceiled(few)[layer] - ceiled(seeded)[layer]) for layer in ("3", "5")) > 1e-3


def test_an_unknown_option_of_one_model_is_a_usage_error(cli: Cli, mirror: Path, built: list[str]) -> None:
    result = cli("layers", "-m", "timm:resnet18 --frobnicate", *BENCHMARK, "--data-mirror", mirror)
    line = assert_one_line_error(result)
    assert result.exit_code == 2 and built == []
    assert "'-m' / '--model'" in line and "'timm:resnet18 --frobnicate'" in line and "--frobnicate" in line


def test_a_misspelt_later_model_is_refused_before_the_first_is_built(cli: Cli, mirror: Path,
                                                                     built: list[str]) -> None:
    result = cli("layers", "-m", "timm:resnet18", "-m", "resnet1800", "--random-init", *BENCHMARK,
                 "--data-mirror", mirror)
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and built == [] and "resnet1800" in line


@pytest.mark.parametrize("arguments", [(), ("-m", "timm:resnet18", "-m", "timm:resnet18")])
def test_no_model_or_one_twice_is_a_usage_error(cli: Cli, mirror: Path, built: list[str],
                                                arguments: tuple[str, ...]) -> None:
    result = cli("layers", *arguments, "--random-init", *BENCHMARK, "--data-mirror", mirror)
    line = assert_one_line_error(result)
    assert result.exit_code == 2 and built == []
    assert ("given twice" if arguments else "Name a model") in line


def test_a_figure_that_cannot_be_written_is_refused_before_any_work(cli: Cli, mirror: Path, built: list[str],
                                                                    tmp_path: Path) -> None:
    result = cli("layers", "timm:resnet18", "-m", "timm:resnet18 --seed 1", "--random-init", *BENCHMARK,
                 "--data-mirror", mirror, "--plot", tmp_path / "missing" / "f.png")
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and built == []
    assert line == f"error: Cannot write the figure to {tmp_path / 'missing' / 'f.png'}: the folder " \
                   f"{tmp_path / 'missing'} does not exist."
