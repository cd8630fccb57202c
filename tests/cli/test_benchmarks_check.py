"""``brainbench benchmarks check``, and ``score``/``layers`` refusing a bad definition before any model is built.

That no model was built is proven, not timed: the scoring module's ``resolve_model`` is replaced by one that records
the call and stops; each refusal test has a control (the same definition, fixed) that does reach it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brainbench.errors import BrainbenchError
from tests.benchmarks.test_checks import (
    INTERNAL_CONSISTENCY_REFUSED,
    broken_copy,
    single_repetition_benchmark,
    single_repetition_dataset,
)

pytestmark = pytest.mark.mirror
TYPO = {'method = "internal_consistency"': 'method = "internal_consistancy"'}
TYPO_PROBLEM = ("[ceiling] method 'internal_consistancy' is not one of internal_consistency, none, published. Did "
                "you mean internal_consistency?")


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models the scoring module asked to build; each request stops the run with one BrainbenchError."""
    names: list[str] = []

    def resolve(name: str, **options: object) -> None:
        names.append(name)
        raise BrainbenchError("A model was built.")

    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", resolve)
    return names


def test_every_built_in_benchmark_is_ok_or_its_data_unavailable(cli, mirror: Path) -> None:
    result = cli("benchmarks", "check", "--offline", "--data-mirror", mirror)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert "ok Kriegeskorte2008.IT-rsa" in lines and "ok Cowley2023.V4-pls" in lines
    unavailable = [line for line in lines if line.startswith("unavailable ")]
    assert unavailable and all(line.endswith("downloads are off (its data were not checked)") for line in unavailable)
    assert all(line.startswith(("ok ", "unavailable ")) for line in lines)


def test_problems_are_one_line_each_and_the_exit_status_is_1(cli, mirror: Path, tmp_path: Path) -> None:
    identifier = broken_copy(tmp_path, "Cowley2023.V4-pls", TYPO | {"n_components = 25": "n_component = 25"})
    outside = tmp_path / "elsewhere.toml"
    outside.write_text('id = "x"\nversion = \n')
    result = cli("benchmarks", "check", identifier, outside, "Kiani2007.IT-rsa", "--definitions", tmp_path,
                 "--offline", "--data-mirror", mirror)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{identifier}: [metric] has no key 'n_component' for kind neural")
    assert lines[1] == f"{identifier}: {TYPO_PROBLEM}"
    assert lines[2].startswith(f"{outside}: Cannot read definition file {outside}: ")
    assert lines[3:] == ["ok Kiani2007.IT-rsa"]
    assert result.stderr.splitlines() == [f"error: 3 problem(s) in 2 of 3 benchmark(s): {identifier}, {outside} "
                                          "(listed above)."]


def test_json_lists_each_benchmark_with_its_status(cli, mirror: Path, tmp_path: Path) -> None:
    identifier = broken_copy(tmp_path, "Cowley2023.V4-pls", TYPO)
    result = cli("benchmarks", "check", identifier, "Kiani2007.IT-rsa", "MajajHong2015.IT-pls", "--definitions",
                 tmp_path, "--offline", "--data-mirror", mirror, "--json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [(r["benchmark"], r["status"], r["origin"]) for r in rows] == [
        (identifier, "problems", "--definitions"), ("Kiani2007.IT-rsa", "ok", "built-in"),
        ("MajajHong2015.IT-pls", "unavailable", "built-in")]
    assert rows[0]["problems"] == [TYPO_PROBLEM] and "downloads are off" in rows[2]["unavailable"]
    assert result.stderr.splitlines() == [f"error: 1 problem(s) in 1 of 3 benchmark(s): {identifier}."]


def test_an_unknown_id_is_one_error_line(cli) -> None:
    result = cli("benchmarks", "check", "Kiani2007.IT-rsaa")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: Unknown benchmark 'Kiani2007.IT-rsaa'. Did you mean Kiani2007.IT-rsa, Kriegeskorte2008.IT-rsa? Give "
        "an id, a pattern or a TOML file; see `brainbench benchmarks list`."]


def test_score_refuses_a_ceiling_method_typo_before_the_model_is_built(cli, built: list[str], mirror: Path,
                                                                        tmp_path: Path) -> None:
    typo = broken_copy(tmp_path, "Cowley2023.V4-pls", TYPO)
    board = tmp_path / "board.sqlite"
    common = ["timm:resnet18", "--random-init", "--definitions", tmp_path, "--offline", "--data-mirror", mirror,
              "--leaderboard", board]
    result = cli("score", *common, "-b", typo, "-b", "Kiani2007.IT-rsa")
    assert built == [] and result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: 1 problem(s) in the selected benchmark(s), so nothing was computed (`brainbench benchmarks check` "
        f"lists them): {typo}: {TYPO_PROBLEM}"]
    assert not board.exists()
    # Control: the same benchmark with the typo fixed gets past the checks to the model.
    fixed = broken_copy(tmp_path, "Cowley2023.V4-pls", {}, identifier=typo)
    result = cli("score", *common, "-b", fixed)
    assert built == ["timm:resnet18"] and result.stderr.splitlines() == ["error: A model was built."]


def test_layers_refuses_it_too(cli, built: list[str], mirror: Path, tmp_path: Path) -> None:
    typo = broken_copy(tmp_path, "Cowley2023.V4-pls", TYPO)
    result = cli("layers", "timm:resnet18", "--random-init", "-b", typo, "--definitions", tmp_path, "--offline",
                 "--data-mirror", mirror)
    assert built == [] and result.exit_code == 1
    assert result.stderr.splitlines()[-1].endswith(f"{typo}: {TYPO_PROBLEM}")


def test_score_refuses_internal_consistency_on_single_repetition_data_before_the_model(
        cli, built: list[str], mirror: Path, tmp_path: Path) -> None:
    single_repetition_dataset(tmp_path, mirror)
    identifier = single_repetition_benchmark(tmp_path)
    common = ["timm:resnet18", "--random-init", "-b", identifier, "--definitions", tmp_path, "--offline",
              "--no-save"]
    result = cli("score", *common)
    assert built == [] and result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: 1 problem(s) in the selected benchmark(s), so nothing was computed (`brainbench benchmarks check` "
        f"lists them): {identifier}: {INTERNAL_CONSISTENCY_REFUSED}"]
    # Control: asking for no ceiling on the same data gets past the checks to the model.
    single_repetition_benchmark(tmp_path, ceiling="none")
    result = cli("score", *common)
    assert built == ["timm:resnet18"] and result.stderr.splitlines() == ["error: A model was built."]
