"""User definitions (issue 11, item 1): benchmarks and data manifests read from <BRAINBENCH_HOME>, from the folders of
BRAINBENCH_DEFINITIONS and from --definitions, listed with where each comes from, resolvable by every command, and
never allowed to reuse a built-in id or dataset name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from brainbench.definitions import definition_files
from tests.cli.test_bad_input import Cli, assert_one_line_error
from tests.cli.user_definitions import KIANI, KRIEGESKORTE, write_benchmark, write_manifest

USER_ID = "MyLab.IT-rsa"
USER_DATASET = "mylab92"


def _benchmarks(cli: Cli, *args: str | Path) -> dict[str, dict]:
    result = cli("benchmarks", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.stdout)}


def _datasets(cli: Cli, *args: str | Path) -> dict[str, dict]:
    result = cli("data", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_definitions_in_home_are_listed_with_their_file(cli: Cli, home: Path) -> None:
    benchmark = write_benchmark(home, USER_ID, USER_DATASET)
    manifest = write_manifest(home, USER_DATASET)
    rows = _benchmarks(cli)
    assert rows[USER_ID]["origin"] == "home" and rows[USER_ID]["file"] == str(benchmark)
    assert rows[USER_ID]["dataset"] == USER_DATASET and rows[USER_ID]["availability"] == "unavailable"  # no mirror
    assert rows["Kiani2007.IT-rsa"]["origin"] == "built-in" and rows["Kiani2007.IT-rsa"]["file"] == str(KIANI)
    datasets = _datasets(cli)
    assert datasets[USER_DATASET]["origin"] == "home" and datasets[USER_DATASET]["file"] == str(manifest)
    assert datasets["kriegeskorte2008"]["origin"] == "built-in"
    # The tables name the file of a user definition and say built-in for the others, at any width.
    for columns in ("60", "250"):
        listed = cli("benchmarks", "list", "*IT-rsa", env={"COLUMNS": columns})
        assert str(benchmark) in listed.stdout.split(), listed.stdout  # whole, never folded
        assert "built-in" in listed.stdout
        data = cli("data", "list", env={"COLUMNS": columns})
        assert str(manifest) in data.stdout.split() and "built-in" in data.stdout
    # Resolvable: `data verify` knows the user dataset (nothing cached yet).
    verified = cli("data", "verify", USER_DATASET)
    assert verified.exit_code == 0, verified.output
    assert "mylab92/92_brainRDMs.mat: missing" in verified.stdout


def test_definitions_from_every_folder_of_the_variable(cli: Cli, tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "lab-benchmarks", tmp_path / "lab-data"
    benchmark = write_benchmark(first, USER_ID, USER_DATASET)
    manifest = write_manifest(second, USER_DATASET)
    # A folder that does not exist on this machine is skipped (one variable may serve several machines).
    monkeypatch.setenv("BRAINBENCH_DEFINITIONS", os.pathsep.join([str(first), str(tmp_path / "elsewhere"),
                                                                  str(second)]))
    row = _benchmarks(cli, USER_ID)[USER_ID]
    assert (row["origin"], row["file"]) == ("BRAINBENCH_DEFINITIONS", str(benchmark))
    dataset = _datasets(cli)[USER_DATASET]
    assert (dataset["origin"], dataset["file"]) == ("BRAINBENCH_DEFINITIONS", str(manifest))


@pytest.mark.mirror
def test_definitions_option_on_the_lists_and_data_commands(cli: Cli, tmp_path: Path, mirror: Path) -> None:
    folder = tmp_path / "lab"
    benchmark = write_benchmark(folder, USER_ID, USER_DATASET)
    write_manifest(folder, USER_DATASET)
    assert USER_ID not in _benchmarks(cli)  # only with the option
    row = _benchmarks(cli, "--definitions", folder, "--data-mirror", mirror)[USER_ID]
    assert (row["origin"], row["file"], row["availability"]) == ("--definitions", str(benchmark), "mirror")
    assert _datasets(cli, "--definitions", folder)[USER_DATASET]["origin"] == "--definitions"
    line = assert_one_line_error(cli("data", "fetch", USER_DATASET))
    assert f"'{USER_DATASET}'" in line and "brainbench data list" in line
    fetched = cli("data", "fetch", USER_DATASET, "--definitions", folder, "--data-mirror", mirror)
    assert fetched.exit_code == 0, fetched.output
    assert f"{USER_DATASET}/92_brainRDMs.mat: verified" in fetched.stdout
    verified = cli("data", "verify", "--definitions", folder)
    assert verified.exit_code == 0, verified.output
    assert f"{USER_DATASET}: 3/3 cached, verified" in verified.stdout.splitlines()


def test_regions_of_user_benchmarks_can_be_listed(cli: Cli, home: Path) -> None:
    path = write_benchmark(home, "MyLab.EVC-rsa", USER_DATASET)
    text = path.read_text()
    assert text.count('region = "IT"\n') == 1
    path.write_text(text.replace('region = "IT"\n', 'region = "EVC"\n'))
    listed = cli("benchmarks", "list", "--region", "EVC", "--json")
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == ["MyLab.EVC-rsa"]
    # A region no benchmark has is still a usage error, naming the regions there are.
    line = assert_one_line_error(cli("benchmarks", "list", "--region", "V3"))
    assert "'V3'" in line and "EVC" in line and "IT" in line


@pytest.mark.parametrize("where", ["home", "BRAINBENCH_DEFINITIONS", "--definitions"])
@pytest.mark.parametrize("what", ["benchmark", "dataset"])
def test_a_user_definition_cannot_reuse_a_built_in_name(cli: Cli, home: Path, tmp_path: Path, monkeypatch,
                                                      where: str, what: str) -> None:
    folder = home if where == "home" else tmp_path / "lab"
    if what == "benchmark":
        user, built_in, command = write_benchmark(folder, "Kiani2007.IT-rsa", "kriegeskorte2008"), KIANI, "benchmarks"
    else:
        user, built_in, command = write_manifest(folder, "kriegeskorte2008"), KRIEGESKORTE, "data"
    args = ("--definitions", folder) if where == "--definitions" else ()
    if where == "BRAINBENCH_DEFINITIONS":
        monkeypatch.setenv("BRAINBENCH_DEFINITIONS", str(folder))
    name = "Kiani2007.IT-rsa" if what == "benchmark" else "kriegeskorte2008"
    line = assert_one_line_error(cli(command, "list", *args))
    assert line == (f"error: The {what} '{name}' is defined twice: in {built_in} (built-in) and in {user} ({where}); "
                    "rename or remove one of them.")
    # score refuses it before building any model (the model is not even known here).
    scored = assert_one_line_error(cli("score", "nosuchmodel", "-b", "Kiani2007.IT-rsa", *args))
    assert "defined twice" in scored


def test_search_order_names_the_earlier_file_first(cli: Cli, home: Path, tmp_path: Path, monkeypatch) -> None:
    """Built-ins, then <BRAINBENCH_HOME>, then each BRAINBENCH_DEFINITIONS folder, then each --definitions folder."""
    env_folder, option_folder = tmp_path / "from-variable", tmp_path / "from-option"
    for folder in (home, env_folder, option_folder):
        write_benchmark(folder, f"Lab{len(folder.name)}.IT-rsa", USER_DATASET)
    monkeypatch.setenv("BRAINBENCH_DEFINITIONS", str(env_folder))
    found = definition_files("benchmarks", [option_folder])
    origins = [f.origin for f in found]
    first_user = origins.index("home")
    assert set(origins[:first_user]) == {"built-in"}
    assert origins[first_user:] == ["home", "BRAINBENCH_DEFINITIONS", "--definitions"]
    # The same id in the variable's folder and the option's: the error names them in that order.
    clash_env = write_benchmark(env_folder, "MyLab.IT-rsa", USER_DATASET)
    clash_option = write_benchmark(option_folder, "MyLab.IT-rsa", USER_DATASET)
    line = assert_one_line_error(cli("benchmarks", "list", "--definitions", option_folder))
    assert f"in {clash_env} (BRAINBENCH_DEFINITIONS) and in {clash_option} (--definitions)" in line


@pytest.mark.parametrize("command", [("benchmarks", "list"), ("data", "list"), ("data", "verify"),
                                     ("data", "fetch", "kriegeskorte2008"), ("score", "tinycnn", "-b", "Kiani*"),
                                     ("layers", "tinycnn", "-b", "Kiani*"),
                                     ("extract", "tinycnn", "--stimuli", "kriegeskorte2008", "-o", "x.nc")])
def test_a_definitions_folder_that_does_not_exist_is_one_line(cli: Cli, tmp_path: Path,
                                                              command: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-folder"
    line = assert_one_line_error(cli(*command, "--definitions", missing))
    assert "--definitions" in line and str(missing) in line


def test_layers_and_extract_resolve_user_definitions(cli: Cli, tmp_path: Path) -> None:
    """Without data (--offline, no mirror) both stop before any model work, naming the user dataset: they found it."""
    folder = tmp_path / "lab"
    write_benchmark(folder, USER_ID, USER_DATASET)
    write_manifest(folder, USER_DATASET)
    unknown = assert_one_line_error(cli("layers", "tinycnn", "-b", USER_ID, "--offline"))
    assert "Unknown benchmark" in unknown or USER_ID in unknown
    found = cli("layers", "tinycnn", "-b", USER_ID, "--offline", "--definitions", folder)
    assert found.exit_code == 1 and USER_DATASET in found.stderr and "Traceback" not in found.output
    assert "error: " in found.stderr and "Unknown benchmark" not in found.stderr
    not_a_dataset = assert_one_line_error(cli("extract", "tinycnn", "--stimuli", USER_DATASET, "-o", tmp_path / "x.nc"))
    assert "neither a folder nor a dataset" in not_a_dataset
    extracted = cli("extract", "tinycnn", "--stimuli", USER_DATASET, "-o", tmp_path / "x.nc", "--definitions", folder)
    assert extracted.exit_code == 1 and "neither a folder nor a dataset" not in extracted.stderr
    assert USER_DATASET in extracted.stderr and not (tmp_path / "x.nc").exists()
