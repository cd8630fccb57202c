"""``brainbench benchmarks add`` (issue 11, item 4): the TOML it writes over a dataset added with ``data add`` scores
exactly as the built-in benchmark over the same files; a benchmark that would not run is one sentence and no file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.cli.test_bad_input import Cli, assert_one_line_error
from tests.cli.test_score_keeps import TINY, tinycnn  # noqa: F401 (a fixture)
from tests.cli.user_files import BRAIN_RDMS, BRAIN_RDMS_DIMS, BRAIN_RDMS_VARIABLE, cowley_session, write_92_images

pytestmark = pytest.mark.mirror
SESSIONS = ("S210325", "S210225")  # the scored session (single trials) and the layer-selection session


def _add_92_images(cli: Cli, mirror: Path, folder: Path) -> None:
    images, table = write_92_images(mirror, folder)
    result = cli("data", "add", "mylab_it", "--stimuli", images, "--stimulus-csv", table,
                 "--rdms", f"{mirror / BRAIN_RDMS}:{BRAIN_RDMS_VARIABLE}", "--dims", BRAIN_RDMS_DIMS,
                 "--assembly", "MyLab.IT", "--region", "IT")
    assert result.exit_code == 0, result.stderr


def _add_cowley(cli: Cli, mirror: Path) -> None:
    (zip_a, trials), (zip_b, averaged) = cowley_session(mirror, "210325"), cowley_session(mirror, "210225")
    result = cli("data", "add", "mylab_v4", "--stimuli", zip_a, "--stimuli", zip_b, "--responses", trials,
                 "--responses", averaged, "--dims", "neuroid,stimulus,repetition", "--dims", "neuroid,stimulus",
                 "--assembly", SESSIONS[0], "--assembly", SESSIONS[1], "--region", "V4")
    assert result.exit_code == 0, result.stderr


def _written(home: Path, identifier: str) -> dict:
    with (home / "benchmarks" / f"{identifier}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _scores(cli: Cli, model: str, benchmarks: list[str], mirror: Path, board: Path) -> dict[str, dict]:
    selected = [arg for b in benchmarks for arg in ("-b", b)]
    result = cli("score", model, *selected, *TINY, "--data-mirror", mirror, "--leaderboard", board, "--json")
    assert result.exit_code == 0, result.stderr
    return {row["benchmark"]: row for row in json.loads(result.stdout)}


def _same_score(mine: dict, builtin: dict) -> None:
    # The same pixels (lossless PNGs, or the same zips) and the same data values through two loaders, run through the
    # same network and the same arithmetic: only an ulp-level reordering could tell them apart.
    for key in ("raw", "ceiling", "ceiled", "error"):
        assert mine[key] == pytest.approx(builtin[key], rel=0, abs=1e-12), key
    assert mine["layer"] == builtin["layer"]


@pytest.mark.slow
def test_an_added_rsa_benchmark_scores_as_the_builtin(cli: Cli, home: Path, mirror: Path, tinycnn: str,  # noqa: F811
                                                      tmp_path: Path) -> None:
    _add_92_images(cli, mirror, tmp_path / "lab")
    result = cli("benchmarks", "add", "MyLab.IT-rsa", "--dataset", "mylab_it", "--kind", "rsa", "--region", "IT",
                 "--stimulus-degrees", "2.9", "--stratify", "category")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"wrote {home / 'benchmarks' / 'MyLab.IT-rsa.toml'}"
    raw = _written(home, "MyLab.IT-rsa")
    # The documented defaults: Spearman, 10 category-stratified halvings, Nili's upper bound (4 subjects) — the
    # built-in Kriegeskorte2008.IT-rsa's own choices.
    with (Path(__file__).resolve().parents[2] / "benchmarks" / "Kriegeskorte2008.IT-rsa.toml").open("rb") as handle:
        builtin = tomllib.load(handle)
    for table in ("metric", "layer_selection", "ceiling"):
        assert raw[table] == builtin[table], table
    assert (raw["kind"], raw["region"], raw["dataset"], raw["assembly"], raw["stimulus_degrees"], raw["version"]) == (
        "rsa", "IT", "mylab_it", "MyLab.IT", 2.9, 1)

    scores = _scores(cli, tinycnn, ["MyLab.IT-rsa", "Kriegeskorte2008.IT-rsa"], mirror, tmp_path / "board.sqlite")
    _same_score(scores["MyLab.IT-rsa"], scores["Kriegeskorte2008.IT-rsa"])


@pytest.mark.slow
def test_an_added_neural_benchmark_scores_as_the_builtin(cli: Cli, home: Path, mirror: Path, tinycnn: str,  # noqa: F811
                                                         tmp_path: Path) -> None:
    _add_cowley(cli, mirror)
    result = cli("benchmarks", "add", "MyLab.V4-pls", "--dataset", "mylab_v4", "--kind", "neural", "--region", "V4",
                 "--stimulus-degrees", "11.2", "--assembly", SESSIONS[0], "--layer-assembly", SESSIONS[1],
                 "--repetition-halves", "alternate")
    assert result.exit_code == 0, result.stderr
    raw = _written(home, "MyLab.V4-pls")
    with (Path(__file__).resolve().parents[2] / "benchmarks" / "Cowley2023.V4-pls.toml").open("rb") as handle:
        builtin = tomllib.load(handle)
    # The defaults (PLS-25, 10 splits of 90 %, random_state 1; internal consistency, as the data hold repetitions)
    # are the built-in Cowley2023.V4-pls's choices.
    assert raw["metric"] == builtin["metric"] and raw["ceiling"] == builtin["ceiling"]
    assert raw["layer_selection"] == {"assembly": SESSIONS[1]}

    scores = _scores(cli, tinycnn, ["MyLab.V4-pls", "Cowley2023.V4-pls"], mirror, tmp_path / "board.sqlite")
    _same_score(scores["MyLab.V4-pls"], scores["Cowley2023.V4-pls"])


def test_neural_defaults_follow_the_data(cli: Cli, home: Path, mirror: Path) -> None:
    _add_cowley(cli, mirror)
    common = ["--dataset", "mylab_v4", "--kind", "neural", "--region", "V4", "--stimulus-degrees", "11.2"]
    result = cli("benchmarks", "add", "MyLab.V4-ridge", *common, "--assembly", SESSIONS[0], "--regression", "ridge")
    assert result.exit_code == 0, result.stderr
    raw = _written(home, "MyLab.V4-ridge")
    assert raw["metric"] == {"regression": "ridge", "n_splits": 10, "train_size": 0.9, "random_state": 1}
    assert raw["layer_selection"] == {"method": "stratified_half", "seed": 0}
    assert raw["ceiling"] == {"method": "internal_consistency", "n_splits": 10, "random_state": 1}

    # Repeat-averaged data: no computable ceiling, so one must be chosen; 'none' is written as such.
    line = assert_one_line_error(cli("benchmarks", "add", "MyLab.V4b-pls", *common, "--assembly", SESSIONS[1]))
    assert line.startswith(f"error: Assembly {SESSIONS[1]} holds one repetition per stimulus") and "--ceiling" in line
    assert sorted(p.name for p in (home / "benchmarks").iterdir()) == ["MyLab.V4-ridge.toml"]
    result = cli("benchmarks", "add", "MyLab.V4b-pls", *common, "--assembly", SESSIONS[1], "--ceiling", "none")
    assert result.exit_code == 0, result.stderr
    assert _written(home, "MyLab.V4b-pls")["ceiling"] == {"method": "none"}
    result = cli("benchmarks", "add", "MyLab.V4c-pls", *common, "--assembly", SESSIONS[1], "--ceiling-value", "0.6",
                 "--ceiling-citation", "Lab notes 2024")
    assert result.exit_code == 0, result.stderr
    assert _written(home, "MyLab.V4c-pls")["ceiling"] == {"method": "published", "value": 0.6,
                                                         "citation": "Lab notes 2024"}


BAD = {
    "unknown dataset": (["--dataset", "mylab_v5", "--kind", "neural"], "Unknown dataset 'mylab_v5'"),
    "several assemblies, none chosen": (["--kind", "neural"], "has 2 assemblies (S210225, S210325); choose one with "
                                                              "--assembly"),
    "absent assembly": (["--kind", "neural", "--assembly", "S1"], "has no assembly 'S1'"),
    "rsa on responses": (["--kind", "rsa", "--assembly", SESSIONS[1]], "the rsa kind needs RDMs"),
    "internal consistency of averages": (["--kind", "neural", "--assembly", SESSIONS[1], "--ceiling",
                                          "internal_consistency"], "holds one repetition per stimulus"),
    "published ceiling without source": (["--kind", "neural", "--assembly", SESSIONS[0], "--ceiling", "published",
                                          "--ceiling-value", "0.5"], "--ceiling-citation"),
    "squared without a published ceiling": (["--kind", "rsa", "--assembly", SESSIONS[1], "--squared"],
                                            "only a published R² ceiling bounds"),
    "rsa ceiling on neural data": (["--kind", "neural", "--assembly", SESSIONS[0], "--ceiling", "nili_upper"],
                                   "Ceiling 'nili_upper' is not one a neural benchmark has"),
    "absent stratification column": (["--kind", "neural", "--assembly", SESSIONS[0], "--stratify", "category"],
                                      "no column 'category' to stratify by"),
    "layer chosen on the scored data": (["--kind", "neural", "--assembly", SESSIONS[0], "--layer-assembly",
                                         SESSIONS[0]], "--layer-assembly must differ"),
    "built-in id": (["--kind", "neural", "--assembly", SESSIONS[0], "ID=Cowley2023.V4-pls"],
                    "The benchmark name 'Cowley2023.V4-pls' is taken by a built-in benchmark"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_benchmark_that_would_not_run_is_one_sentence_and_no_file(case: str, cli: Cli, home: Path,
                                                                    mirror: Path) -> None:
    _add_cowley(cli, mirror)
    args, expected = BAD[case]
    identifier = next((a[3:] for a in args if a.startswith("ID=")), "MyLab.V4-x")
    args = [a for a in args if not a.startswith("ID=")]
    dataset = [] if "--dataset" in args else ["--dataset", "mylab_v4"]
    result = cli("benchmarks", "add", identifier, *dataset, "--region", "V4", "--stimulus-degrees", "11.2", *args)
    line = assert_one_line_error(result)
    assert expected in line
    assert not (home / "benchmarks").exists()


def test_an_existing_definition_is_replaced_only_with_force(cli: Cli, home: Path, mirror: Path) -> None:
    _add_cowley(cli, mirror)
    common = ["MyLab.V4-pls", "--dataset", "mylab_v4", "--kind", "neural", "--region", "V4", "--stimulus-degrees",
              "11.2", "--assembly", SESSIONS[0]]
    assert cli("benchmarks", "add", *common).exit_code == 0
    written = home / "benchmarks" / "MyLab.V4-pls.toml"
    before = written.read_bytes()
    line = assert_one_line_error(cli("benchmarks", "add", *common, "--n-components", "10"))
    assert line == f"error: {written} already exists; pass --force to replace it."
    assert written.read_bytes() == before
    assert cli("benchmarks", "add", *common, "--n-components", "10", "--force").exit_code == 0
    assert _written(home, "MyLab.V4-pls")["metric"]["n_components"] == 10
    assert [p.name for p in written.parent.iterdir()] == ["MyLab.V4-pls.toml"]  # no partial file left beside it


def test_definitions_in_a_folder_of_their_own(cli: Cli, home: Path, mirror: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lab-definitions"  # not there yet: created by the first write
    zip_file, averaged = cowley_session(mirror, "210225")
    result = cli("data", "add", "mylab_v4", "--stimuli", zip_file, "--responses", averaged, "--dims",
                 "neuroid,stimulus", "--definitions", folder)
    assert result.exit_code == 0, result.stderr
    # The dataset is found in the folder the benchmark is written into; nothing goes into BRAINBENCH_HOME.
    result = cli("benchmarks", "add", "MyLab.V4-ridge", "--dataset", "mylab_v4", "--kind", "neural", "--region", "V4",
                 "--stimulus-degrees", "11.2", "--regression", "ridge", "--ceiling", "none", "--column", "none",
                 "--definitions", folder)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.toml")) == [
        "benchmarks/MyLab.V4-ridge.toml", "data_manifests/mylab_v4.toml"]
    assert not (home / "benchmarks").exists() and not (home / "data_manifests").exists()
    listed = json.loads(cli("benchmarks", "list", "MyLab.*", "--definitions", folder, "--json").stdout)
    assert [(b["id"], b["column"], b["ceiling"]) for b in listed] == [("MyLab.V4-ridge", "none", {"method": "none"})]
    # Without the folder, brainbench does not know the dataset: one sentence.
    line = assert_one_line_error(cli("benchmarks", "add", "MyLab.V4-pls", "--dataset", "mylab_v4", "--kind", "neural",
                                     "--region", "V4", "--stimulus-degrees", "11.2", "--ceiling", "none"))
    assert "Unknown dataset 'mylab_v4'" in line
