"""Bad options and inputs (issue 14, items 5, 6, 8, 9): one ``error:`` line each, never click's usage block or an
"unexpected" error; bad numbers are refused while the options are parsed, before any model is built."""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import Result

import brainbench.benchmarks.scoring
import brainbench.cli.data
import brainbench.cli.score
import brainbench.models.registration  # before a test patches resolve_model (it imports the name)
import brainbench.models.registry
from brainbench.benchmarks.neural import neural_data
from tests.cli.test_bad_input import Cli, assert_one_line_error

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "examples" / "my_plugin.py"


@pytest.fixture
def no_model_is_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The library calls behind the commands with model options, replaced by a recorder: a bad option must stop the
    command before any of them is reached."""
    reached: list[str] = []

    def record(name: str):
        def call(*args: object, **kwargs: object) -> None:
            reached.append(name)
            raise RuntimeError(f"{name} was reached")
        return call

    for module, name in ((brainbench.cli.score, "score_model"), (brainbench.benchmarks.scoring, "layer_profile"),
                         (brainbench.models.registry, "resolve_model")):
        monkeypatch.setattr(module, name, record(f"{module.__name__}.{name}"))
    return reached


def assert_usage_error(result: Result, option: str) -> str:
    """A usage error: click's exit code 2, one line naming the option, no 'Usage:' block."""
    line = assert_one_line_error(result)
    assert result.exit_code == 2, line
    assert "Usage:" not in result.stdout + result.stderr
    assert option in line and "unexpected" not in line, line
    return line


COMMANDS = {  # every command with the model options, with what else it needs
    "score": ("score", "tinycnn", "-b", "Kiani2007.IT-rsa"),
    "layers": ("layers", "tinycnn", "-b", "Kiani2007.IT-rsa"),
    "rf": ("rf", "tinycnn"),
    "models show": ("models", "show", "tinycnn"),
    "visualize": ("visualize", "tinycnn", "--layer", "1", "-o", "unit.png"),
}
_WHICH_MODEL = {"--layers", "--weights", "--random-init", "--visual-degrees", "--seed"}
_RUN = {"--device", "--batch-size", "--max-memory"}
OPTIONS = {  # the model options each command takes: only those it uses (issue 15, item 5)
    "score": _WHICH_MODEL | _RUN,
    "layers": _WHICH_MODEL | _RUN,
    "rf": {"--layers", "--visual-degrees"},  # receptive fields depend on the graph alone
    "models show": {"--layers", "--weights", "--random-init", "--visual-degrees", "--seed"},
    "visualize": {"--weights", "--random-init", "--seed", "--device"},  # --layer names the one layer
}
BAD_MODEL_OPTIONS = [
    ("--visual-degrees", "-5"), ("--visual-degrees", "0"), ("--visual-degrees", "nan"), ("--visual-degrees", "inf"),
    ("--batch-size", "0"), ("--batch-size", "-3"), ("--max-memory", "0"), ("--max-memory", "-1"),
    ("--max-memory", "nan"), ("--seed", "-1"),
]


@pytest.mark.parametrize(("option", "value"), BAD_MODEL_OPTIONS)
def test_bad_numbers_are_refused_at_parse_time(cli: Cli, no_model_is_built: list[str], tmp_path: Path,
                                               option: str, value: str) -> None:
    leaderboard = tmp_path / "lb" / "lb.sqlite"
    line = assert_usage_error(cli(*COMMANDS["score"], option, value, "--leaderboard", leaderboard), option)
    assert value in line
    assert no_model_is_built == [] and not leaderboard.parent.exists()


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "score"])
def test_every_command_with_model_options_checks_them(cli: Cli, no_model_is_built: list[str], command: str) -> None:
    for option, value in (("--visual-degrees", "0"), ("--batch-size", "0"), ("--max-memory", "0")):
        if option in OPTIONS[command]:
            assert_usage_error(cli(*COMMANDS[command], option, value), option)
    assert no_model_is_built == []


@pytest.mark.parametrize(("option", "value"), [("--size", "8"), ("--steps", "0"), ("--octaves", "0"),
                                               ("--channel", "-1")])
def test_bad_visualize_numbers(cli: Cli, no_model_is_built: list[str], option: str, value: str) -> None:
    assert_usage_error(cli(*COMMANDS["visualize"], option, value), option)
    assert no_model_is_built == []


@pytest.mark.parametrize("option", ["--weights", "--leaderboard"])
def test_a_folder_for_a_file_option_is_one_line(cli: Cli, no_model_is_built: list[str], tmp_path: Path,
                                                option: str) -> None:
    line = assert_usage_error(cli(*COMMANDS["score"], option, tmp_path), option)
    assert "is a directory" in line and "score --help" in line


def test_unknown_options_and_commands_are_one_line_and_help_still_works(cli: Cli) -> None:
    assert_usage_error(cli("score", "tinycnn", "-b", "X", "--visual-degree", "8"), "--visual-degree")
    assert_usage_error(cli("scroe"), "scroe")
    assert_usage_error(cli("--verbose"), "--verbose")
    assert_usage_error(cli("score", "tinycnn"), "--benchmark")  # a required option missing
    for args in (("--help",), ("score", "--help"), ("models", "show", "-h")):
        result = cli(*args)
        assert result.exit_code == 0 and result.stdout.startswith("Usage: ") and result.stderr == ""


def test_usage_errors_raised_by_a_command_are_one_line(cli: Cli) -> None:
    line = assert_usage_error(cli("evaluate", "--features", "F.nc"), "--assembly")
    assert line.startswith("error: --metric pls needs --features and --assembly; missing --assembly.")
    assert_usage_error(cli("models", "register", "x", "--timm", "a", "--torchvision", "b"), "--timm")


@pytest.mark.parametrize(("option", "value"), [("--visual-degrees", "0"), ("--input-size", "0"),
                                               ("--std", "0.2,0,0.2"), ("--mean", "0.5,nan,0.5")])
def test_bad_registration_numbers(cli: Cli, home: Path, option: str, value: str) -> None:
    assert_usage_error(cli("models", "register", "mynet", "--from", f"{PLUGIN}:build_tinycnn", option, value), option)
    assert not (home / "models").exists()


def test_misspelt_plugin_layer_lists_the_plugins_candidates(cli: Cli, home: Path) -> None:
    """The plugin declares layers 1, 3, 5, 6: those are listed, not the family default of its Sequential (0…7)."""
    assert cli("models", "register", "tinycnn", "--from", f"{PLUGIN}:build_tinycnn").exit_code == 0
    for args in (("rf", "tinycnn", "--layers", "7x"),
                 ("visualize", "tinycnn", "--random-init", "--layer", "7x", "-o", home / "unit.png")):
        line = assert_one_line_error(cli(*args))
        assert line.endswith("This model's default candidate layers: 1, 3, 5, 6."), line
    assert not (home / "unit.png").exists()


# -- user mistakes that used to end in "unexpected" errors (exit 2) --------------------------------------------------

def _assembly(n_stimuli: int, n_repetitions: int, n_neuroids: int, seed: int = 0) -> xr.DataArray:
    """Responses with a shared signal per stimulus, rows shuffled (so order of appearance is not sorted order)."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_stimuli, n_neuroids))
    rows = rng.permutation(n_stimuli * n_repetitions) % n_stimuli
    values = signal[rows] + 0.7 * rng.standard_normal((len(rows), n_neuroids))
    return xr.DataArray(values, dims=("presentation", "neuroid"),
                        coords={"stimulus_id": ("presentation", [f"im{s:03d}" for s in rows]),
                                "neuroid_id": ("neuroid", [f"n{i}" for i in range(n_neuroids)])})


def _features(assembly: xr.DataArray, n_features: int = 30) -> xr.DataArray:
    ids = sorted(set(assembly.stimulus_id.values.tolist()))
    values = np.random.default_rng(1).standard_normal((len(ids), n_features))
    return xr.DataArray(values, dims=("presentation", "neuroid"),
                        coords={"stimulus_id": ("presentation", ids),
                                "neuroid_id": ("neuroid", [f"f{i}" for i in range(n_features)])})


def _write(da: xr.DataArray, path: Path) -> Path:
    da.to_dataset(name="data").to_netcdf(path)
    return path


@pytest.mark.parametrize(("rows", "neuroids", "empty"), [(slice(0, 0), slice(None), "0 presentations"),
                                                          (slice(None), slice(0, 0), "0 neuroids")])
def test_evaluate_an_empty_assembly(cli: Cli, tmp_path: Path, rows: slice, neuroids: slice, empty: str) -> None:
    full = _assembly(40, 2, 6)
    assembly = _write(full.isel(presentation=rows, neuroid=neuroids), tmp_path / "a.nc")
    result = cli("evaluate", "--features", _write(_features(full), tmp_path / "f.nc"), "--assembly", assembly)
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and empty in line, line


def _numbered_in_order_of_appearance(assembly: xr.DataArray) -> xr.DataArray:
    seen: dict[str, int] = {}
    numbers = []
    for stimulus in assembly.stimulus_id.values.tolist():
        numbers.append(seen.get(stimulus, 0))
        seen[stimulus] = numbers[-1] + 1
    return assembly.assign_coords(repetition=("presentation", numbers))


def test_repeated_stimuli_without_repetition_coordinate_are_numbered_and_said_so(cli: Cli, tmp_path: Path) -> None:
    """Four presentations per stimulus and no ``repetition``: the same ceiling as with the coordinate written out in
    order of appearance (not "single repetition per stimulus"), and a note that says what was assumed."""
    bare = _assembly(60, 4, 8)
    numbered = _numbered_in_order_of_appearance(bare)
    features = _write(_features(bare), tmp_path / "f.nc")
    results = {}
    for name, assembly in (("bare", bare), ("numbered", numbered)):
        result = cli("evaluate", "--features", features, "--assembly", _write(assembly, tmp_path / f"{name}.nc"),
                     "--metric", "ridge", "--json")
        assert result.exit_code == 0, result.stderr
        results[name] = json.loads(result.stdout)
    assert results["numbered"]["ceiling"] is not None and results["numbered"]["notes"] == []
    # Same rows, same repetition labels: the two runs share every number; 1e-12 allows for nothing but
    # summation-order noise.
    assert results["bare"]["ceiling"] == pytest.approx(results["numbered"]["ceiling"], rel=1e-12)
    assert results["bare"]["raw"] == pytest.approx(results["numbered"]["raw"], rel=1e-12)
    assert [n for n in results["bare"]["notes"] if "order of appearance" in n and "4 presentations" in n]

    data = neural_data(bare)
    reference = neural_data(numbered)
    assert data.repetition_values == [0, 1, 2, 3] and data.notes and not reference.notes
    np.testing.assert_allclose(data.repetitions.numpy(), reference.repetitions.numpy(), rtol=0, atol=0)


def test_uneven_repetitions_without_the_coordinate_are_numbered_per_stimulus() -> None:
    ids = ["b", "a", "b", "c", "a", "b"]
    values = np.arange(len(ids), dtype=float)[:, None] * [1.0, -1.0]
    assembly = xr.DataArray(values, dims=("presentation", "neuroid"), coords={"stimulus_id": ("presentation", ids)})
    data = neural_data(assembly)
    assert data.stimulus_ids == ["a", "b", "c"] and data.repetition_values == [0, 1, 2]
    reps = data.repetitions.numpy()[:, :, 0]
    # a: rows 1, 4; b: rows 0, 2, 5; c: row 3 — NaN where a stimulus has no such presentation
    np.testing.assert_array_equal(reps, [[1, 0, 3], [4, 2, np.nan], [np.nan, 5, np.nan]])
    assert "1–3 presentations" in data.notes[0]


# -- an unwritable BRAINBENCH_HOME, a full disk, a file-size limit -----------------------------------------------------

@pytest.fixture(params=["under a file", "read-only"])
def unwritable_home(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BRAINBENCH_HOME where nothing can be created: a path under a regular file (fails for root too), or a
    read-only folder (skipped where the test runs as a user who can write it anyway, e.g. root)."""
    if request.param == "under a file":
        (tmp_path / "a-file").write_text("")
        home = tmp_path / "a-file" / "home"
    else:
        home = tmp_path / "read-only"
        home.mkdir()
        home.chmod(0o555)
        request.addfinalizer(lambda: home.chmod(0o755))
        try:
            (home / "probe").mkdir()
        except PermissionError:
            pass
        else:
            pytest.skip("this user can write a folder of mode 0555 (root?)")
    monkeypatch.setenv("BRAINBENCH_HOME", str(home))
    return home


def test_register_into_an_unwritable_home(cli: Cli, unwritable_home: Path) -> None:
    result = cli("models", "register", "mynet", "--from", f"{PLUGIN}:build_tinycnn")
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and "unexpected" not in line
    assert f"{unwritable_home / 'models'}" in line and "BRAINBENCH_HOME" in line


@pytest.mark.mirror
def test_fetch_into_an_unwritable_home(cli: Cli, mirror: Path, unwritable_home: Path) -> None:
    result = cli("data", "fetch", "kriegeskorte2008", "--data-mirror", mirror)
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and "unexpected" not in line and str(unwritable_home) in line


@pytest.mark.mirror
@pytest.mark.parametrize("save", [True, False])
def test_score_into_an_unwritable_home(cli: Cli, mirror: Path, unwritable_home: Path, save: bool) -> None:
    result = cli("score", "timm:resnet18", "--random-init", "-b", "Kiani2007.IT-rsa", "--data-mirror", mirror,
                 *(() if save else ("--no-save",)))
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and "unexpected" not in line and str(unwritable_home) in line


def test_a_full_disk_is_one_sentence_naming_the_file(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's last line of defence, for a disk that filled up while a dataset was cached."""
    path = "/cache/kriegeskorte2008/92_brainRDMs.mat"

    def fetch(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(brainbench.cli.data, "fetch_dataset", fetch)
    result = cli("data", "fetch", "kriegeskorte2008")
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and path in line and "the disk is full" in line and "unexpected" not in line


@pytest.mark.mirror
def test_a_file_size_limit_while_caching_is_one_sentence(mirror: Path, tmp_path: Path) -> None:
    """A real `ulimit -f` of 64 KiB: copying the mirror's files into the cache fails with EFBIG (File too large)."""

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    env = {**os.environ, "BRAINBENCH_HOME": str(tmp_path / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("BRAINBENCH_DATA_MIRROR", None)
    result = subprocess.run(
        [sys.executable, "-m", "brainbench", "data", "fetch", "kriegeskorte2008", "--data-mirror", str(mirror)],
        capture_output=True, text=True, env=env, preexec_fn=limit_file_size, timeout=300, check=False,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unexpected" not in lines[0], result.stderr
