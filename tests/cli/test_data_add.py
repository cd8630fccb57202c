"""``brainbench data add`` (issue 11, item 4): a lab's files become a generic manifest that loads to the same
assemblies as the built-in loaders read from the same files; every bad input is one sentence and writes nothing."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pytest

from brainbench.data import load_dataset
from tests.cli.test_bad_input import Cli, assert_one_line_error
from tests.cli.user_files import (
    BRAIN_RDMS,
    BRAIN_RDMS_DIMS,
    BRAIN_RDMS_VARIABLE,
    cowley_session,
    write_92_images,
)

pytestmark = pytest.mark.mirror
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lab_images(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 92 images as the lab's PNG files and CSV (made once for this module; read-only in the tests)."""
    return write_92_images(mirror, tmp_path_factory.mktemp("lab"))


def _published(manifest: str) -> dict[str, dict]:
    """The built-in manifest's [[files]] entries by path: the checksums published with the data."""
    with (REPO / "data_manifests" / manifest).open("rb") as handle:
        return {f["path"]: f for f in tomllib.load(handle)["files"]}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _nothing_written(home: Path) -> None:
    assert not (home / "data_manifests").exists() and not (home / "data").exists()


def test_rdms_of_a_mat_file_load_as_the_builtin_assembly(cli: Cli, home: Path, mirror: Path,
                                                          lab_images: tuple[Path, Path]) -> None:
    images, table = lab_images
    result = cli("data", "add", "mylab_it", "--stimuli", images, "--stimulus-csv", table, "--category", "category",
                 "--rdms", f"{mirror / BRAIN_RDMS}:{BRAIN_RDMS_VARIABLE}", "--dims", BRAIN_RDMS_DIMS,
                 "--region", "IT", "--assembly", "MyLab.IT", "--citation", "Kriegeskorte et al. 2008",
                 "--licence", "MIT")
    assert result.exit_code == 0, result.stderr
    written = home / "data_manifests" / "mylab_it.toml"
    lines = result.stdout.splitlines()
    assert lines[0] == f"wrote {written}"
    assert lines[1] == "mylab_it: 92 stimuli; MyLab.IT (4 subject × 2 session × 92 stimulus_a × 92 stimulus_b)"

    with written.open("rb") as handle:
        raw = tomllib.load(handle)
    assert (raw["name"], raw["loader"], raw["licence"], raw["citations"]) == (
        "mylab_it", "generic", "MIT", ["Kriegeskorte et al. 2008"])
    files = {f["path"]: f for f in raw["files"]}
    assert set(files) == {f"images/{p.name}" for p in images.iterdir()} | {"stimuli.csv", "92_brainRDMs.mat"}
    # The RDM file's checksum and size are the ones published with the built-in dataset; the lab's own files'
    # checksums are hashlib's of their bytes, and each is named by its absolute path (it stays where it is).
    published = _published("kriegeskorte2008.toml")["92_brainRDMs.mat"]
    assert (files["92_brainRDMs.mat"]["sha256"], files["92_brainRDMs.mat"]["size"]) == (published["sha256"],
                                                                                        published["size"])
    for path in (images / "image07.png", table):
        entry = files["stimuli.csv" if path == table else f"images/{path.name}"]
        assert entry["local"] == str(path.resolve()) and entry["sha256"] == _sha256(path)
        assert entry["size"] == path.stat().st_size
    assert raw["stimuli"] == [{"name": "main", "images": "images/", "csv": "stimuli.csv"}]
    assert raw["assemblies"] == [{"name": "MyLab.IT", "format": "rdm", "file": "92_brainRDMs.mat",
                                  "variable": "RDMs.RDM", "dims": BRAIN_RDMS_DIMS.split(","), "stimuli": "main",
                                  "region": "IT"}]

    # Loaded as every command loads it (fetch: the local files, verified), it is the built-in human IT assembly.
    mine = load_dataset("mylab_it")
    builtin = load_dataset("kriegeskorte2008", [mirror], allow_download=False)
    reference = builtin.assemblies["Kriegeskorte2008.IT"]
    assembly = mine.assemblies["MyLab.IT"]
    assert assembly.dims == reference.dims and assembly.shape == reference.shape
    # The same float64 values of the same file, read by two readers with no arithmetic: any difference is a bug.
    np.testing.assert_allclose(assembly.values, reference.values, rtol=0, atol=1e-15)
    assert mine.stimuli.stimulus_ids == builtin.stimuli.stimulus_ids
    assert list(mine.stimuli.metadata["category"]) == list(builtin.stimuli.metadata["category"])
    # Lossless PNGs: the lab's images are the built-in pixels.
    assert np.array_equal(np.asarray(mine.stimuli.load("image42")), np.asarray(builtin.stimuli.load("image42")))


def test_responses_copied_into_the_cache(cli: Cli, home: Path, mirror: Path) -> None:
    zip_file, responses = cowley_session(mirror, "210225")
    result = cli("data", "add", "mylab_v4", "--stimuli", zip_file, "--responses", responses,
                 "--dims", "neuroid,stimulus", "--region", "V4", "--copy")
    assert result.exit_code == 0, result.stderr
    written = home / "data_manifests" / "mylab_v4.toml"
    assert result.stdout.splitlines() == [
        f"wrote {written}", f"copied 2 file(s) into {home / 'data' / 'mylab_v4'}",
        "mylab_v4: 1200 stimuli; mylab_v4.responses_210225 (1200 presentation × 55 neuroid)"]
    with written.open("rb") as handle:
        files = tomllib.load(handle)["files"]
    # No source named: the cache holds the files, whose checksums are those published with the built-in dataset.
    published = _published("cowley2023.toml")
    for entry in files:
        assert set(entry) == {"path", "sha256", "size"}
        reference = published[f"images/{entry['path']}" if entry["path"].endswith(".zip")
                              else f"responses_repeat_averaged/{entry['path']}"]
        assert entry["sha256"] == reference["sha256"] and entry["size"] == reference["size"]
        assert _sha256(home / "data" / "mylab_v4" / entry["path"]) == reference["sha256"]

    dataset = load_dataset("mylab_v4")
    assembly = dataset.assemblies["mylab_v4.responses_210225"]
    # The file's (neuroid, stimulus) values, transposed and nothing else: exact values, no arithmetic.
    np.testing.assert_allclose(assembly.values, np.load(responses).T, rtol=0, atol=0)
    assert assembly.attrs["region"] == "V4"


def test_two_sessions_each_with_its_images(cli: Cli, home: Path, mirror: Path) -> None:
    (zip_a, trials), (zip_b, averaged) = cowley_session(mirror, "210325"), cowley_session(mirror, "210225")
    result = cli("data", "add", "two_sessions", "--stimuli", zip_a, "--stimuli", zip_b, "--responses", trials,
                 "--responses", averaged, "--dims", "neuroid,stimulus,repetition", "--dims", "-",
                 "--assembly", "S1", "--assembly", "S2")
    # '-' keeps the default for the second (stimulus, neuroid), which does not fit its (neuroid, stimulus) file.
    line = assert_one_line_error(result)
    assert "55" in line and "1200" in line
    _nothing_written(home)
    result = cli("data", "add", "two_sessions", "--stimuli", zip_a, "--stimuli", zip_b, "--responses", trials,
                 "--responses", averaged, "--dims", "neuroid,stimulus,repetition", "--dims", "neuroid,stimulus",
                 "--assembly", "S1", "--assembly", "S2")
    assert result.exit_code == 0, result.stderr
    # 640 + 1200 images; session 210325's 4840 recorded trials of 50 neurons (Cowley et al.'s README).
    assert result.stdout.splitlines()[1] == ("two_sessions: 1840 stimuli; S1 (4840 presentation × 50 neuroid); "
                                             "S2 (1200 presentation × 55 neuroid)")
    dataset = load_dataset("two_sessions")
    assert dataset.stimuli.stimulus_ids[0] == "images_210325_image0001"
    assert set(dataset.assemblies["S2"]["stimulus_id"].values) == {f"images_210225_image{i:04d}"
                                                                   for i in range(1, 1201)}


def _asymmetric(folder: Path) -> str:
    rdm = np.random.default_rng(0).random((92, 92))
    np.fill_diagonal(rdm, 0)
    np.save(folder / "asymmetric.npy", rdm)
    return str(folder / "asymmetric.npy")


def _too_small(folder: Path) -> str:
    rdm = np.ones((10, 10)) - np.eye(10)
    np.save(folder / "ten.npy", rdm)
    return str(folder / "ten.npy")


BAD_INPUTS = {
    "missing file": (lambda f: ["--rdms", str(f / "missing.mat") + ":RDMs.RDM"], "missing.mat is not a file"),
    "wrong dims": (lambda f: ["--rdms", "MIRROR:RDMs.RDM", "--dims", "subject,stimulus,stimulus"], "has 5 axes"),
    "too many axes for a default": (lambda f: ["--rdms", "MIRROR:RDMs.RDM"], "has 5 axes; name each with --dims"),
    "asymmetric RDM": (lambda f: ["--rdms", _asymmetric(f)], "is not symmetric"),
    "RDM of another size": (lambda f: ["--rdms", _too_small(f)], "10×10 RDMs but stimulus source 'main' has 92"),
    "absent variable": (lambda f: ["--rdms", "MIRROR:RDMs.nothing"], "no field 'nothing'"),
    "absent CSV column": (lambda f: ["--rdms", "MIRROR:RDMs.RDM", "--dims", BRAIN_RDMS_DIMS, "--category", "kind"],
                          "no column 'kind'"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_input_is_one_sentence_and_nothing_is_written(case: str, cli: Cli, home: Path, mirror: Path,
                                                            lab_images: tuple[Path, Path], tmp_path: Path) -> None:
    images, table = lab_images
    make, expected = BAD_INPUTS[case]
    args = [a.replace("MIRROR", str(mirror / BRAIN_RDMS)) for a in make(tmp_path)]
    result = cli("data", "add", "mylab", "--stimuli", images, "--stimulus-csv", table, *args, "--copy")
    line = assert_one_line_error(result)
    assert expected in line
    _nothing_written(home)


def test_names_taken_or_refused(cli: Cli, home: Path, mirror: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    zip_file, responses = cowley_session(mirror, "210225")
    data = ["--stimuli", zip_file, "--responses", responses, "--dims", "neuroid,stimulus"]
    line = assert_one_line_error(cli("data", "add", "kriegeskorte2008", *data))
    assert line == "error: The dataset name 'kriegeskorte2008' is taken by a built-in dataset; choose another name."
    line = assert_one_line_error(cli("data", "add", "my/lab", *data))
    assert "'my/lab' is not allowed" in line
    _nothing_written(home)

    assert cli("data", "add", "mylab", *data, "--title", "first").exit_code == 0
    written = home / "data_manifests" / "mylab.toml"
    before = written.read_bytes()
    line = assert_one_line_error(cli("data", "add", "mylab", *data, "--title", "second"))
    assert line == f"error: {written} already exists; pass --force to replace it."
    assert written.read_bytes() == before
    assert cli("data", "add", "mylab", *data, "--title", "second", "--force").exit_code == 0
    assert 'title = "second"' in written.read_text()
    assert [p.name for p in written.parent.iterdir()] == ["mylab.toml"]  # no partial file left beside it

    # The same name in another user folder that brainbench reads would make every command refuse both.
    other = tmp_path / "lab-definitions"
    assert cli("data", "add", "shared", *data, "--definitions", other).exit_code == 0
    monkeypatch.setenv("BRAINBENCH_DEFINITIONS", str(other))
    line = assert_one_line_error(cli("data", "add", "shared", *data))
    assert str(other / "data_manifests" / "shared.toml") in line and "taken" in line
    assert not (home / "data_manifests" / "shared.toml").exists()
