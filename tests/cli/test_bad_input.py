"""Bad input to ``brainbench``: one short ``error:`` line on stderr, a non-zero exit, the leaderboard untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pooch
import pytest
import requests
import torch
from click.testing import Result

import brainbench
from brainbench.data import load_manifest

Cli = Callable[..., Result]
MODEL = ("timm:resnet18", "--random-init")
BENCHMARK = ("-b", "Kiani2007.IT-rsa")


def benchmark_in(mirror: Path) -> tuple[str, ...]:
    """BENCHMARK with its data: score loads the data before it builds the model, so model errors come after it."""
    return (*BENCHMARK, "--data-mirror", str(mirror))


def assert_one_line_error(result: Result, max_length: int = 400) -> str:
    """The error line, after checking the exit code, that it is alone on stderr, short, and without a traceback."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, repr(result.stderr)
    line = result.stderr.rstrip("\n")
    assert line.startswith("error: ") and len(line) <= max_length, line
    return line


@pytest.fixture
def leaderboard(tmp_path: Path) -> Path:
    """A leaderboard path in a folder of its own, so that any file written beside it shows up."""
    folder = tmp_path / "lb"
    folder.mkdir()
    return folder / "lb.sqlite"


def assert_untouched(leaderboard: Path) -> None:
    assert list(leaderboard.parent.iterdir()) == [], "the leaderboard (or a journal) was created"


@pytest.fixture
def offline_download(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Downloads fail as on a machine without network; returns the URLs that were tried."""
    tried: list[str] = []

    def retrieve(url: str, *args: object, **kwargs: object) -> str:
        tried.append(url)
        raise requests.ConnectionError(f"cannot reach {url}")

    monkeypatch.setattr(pooch, "retrieve", retrieve)
    return tried


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"brainbench, version {brainbench.__version__}"


def test_unknown_model_suggests_the_builtin(cli: Cli, leaderboard: Path) -> None:
    line = assert_one_line_error(cli("score", "efficientnetlite0", *BENCHMARK, "--leaderboard", leaderboard))
    assert "Unknown model 'efficientnetlite0'" in line and "Did you mean efficientnet_lite0" in line
    assert_untouched(leaderboard)


def test_unknown_model_source(cli: Cli, leaderboard: Path) -> None:
    line = assert_one_line_error(cli("score", "keras:resnet18", *BENCHMARK, "--leaderboard", leaderboard))
    assert "unknown source" in line and "timm:NAME" in line
    assert_untouched(leaderboard)


@pytest.mark.parametrize("benchmark_id", ["Kiani2007.IT-rs", "kiani2007.IT-rsa"])
def test_unknown_benchmark_suggests_the_close_id(cli: Cli, leaderboard: Path, benchmark_id: str) -> None:
    line = assert_one_line_error(cli("score", *MODEL, "-b", benchmark_id, "--leaderboard", leaderboard))
    assert f"Unknown benchmark '{benchmark_id}'" in line and "Did you mean Kiani2007.IT-rsa" in line
    assert_untouched(leaderboard)


def test_unknown_timm_architecture(cli: Cli, leaderboard: Path, mirror: Path) -> None:
    line = assert_one_line_error(cli("score", "timm:resnet1800", *benchmark_in(mirror), "--leaderboard", leaderboard))
    assert "Unknown timm architecture 'resnet1800'" in line and "resnet18" in line.split("Did you mean")[1]
    assert_untouched(leaderboard)


def test_data_missing_offline(cli: Cli, leaderboard: Path, home: Path, offline_download: list[str]) -> None:
    line = assert_one_line_error(cli("score", *MODEL, *BENCHMARK, "--leaderboard", leaderboard))
    assert "BRAINBENCH_DATA_MIRROR" in line and "--data-mirror" in line
    assert offline_download == [load_manifest("kriegeskorte2008").files[0].url]
    assert_untouched(leaderboard)
    assert not [p for p in (home / "data").rglob("*") if p.is_file()]


@pytest.mark.mirror
def test_checksum_mismatch_in_the_mirror(cli: Cli, leaderboard: Path, mirror: Path, tmp_path: Path,
                                         home: Path, offline_download: list[str]) -> None:
    bad = tmp_path / "bad-mirror" / "kriegeskorte2008_92images"
    bad.mkdir(parents=True)
    for f in load_manifest("kriegeskorte2008").files:
        if f.path != "92_brainRDMs.mat":
            (bad / f.path).symlink_to(mirror / "kriegeskorte2008_92images" / f.path)
    (bad / "92_brainRDMs.mat").write_bytes(b"\0" * 224663)  # right size, other bytes

    line = assert_one_line_error(
        cli("score", *MODEL, *BENCHMARK, "--data-mirror", bad.parent, "--leaderboard", leaderboard)
    )
    assert str(bad / "92_brainRDMs.mat") in line and "sha256" in line
    assert offline_download == []  # a bad mirror copy is an error, not a reason to download
    assert_untouched(leaderboard)
    assert not (home / "data" / "kriegeskorte2008" / "92_brainRDMs.mat").exists()


def test_unknown_layer(cli: Cli, leaderboard: Path, mirror: Path) -> None:
    line = assert_one_line_error(
        cli("score", *MODEL, *benchmark_in(mirror), "--layers", "blocks.99", "--leaderboard", leaderboard)
    )
    assert "Unknown layer 'blocks.99'" in line and "default candidate layers: layer1.0, layer1.1" in line
    assert_untouched(leaderboard)


def test_misspelt_layer_suggests_names(cli: Cli, leaderboard: Path, mirror: Path) -> None:
    line = assert_one_line_error(
        cli("score", *MODEL, *benchmark_in(mirror), "--layers", "layer1.0,layer3.9", "--leaderboard", leaderboard)
    )
    assert "Unknown layer 'layer3.9'" in line
    suggested = line.split("Did you mean ")[1].split("?")[0].split(", ")
    assert "layer3.0" in suggested and "layer3.1" in suggested
    assert_untouched(leaderboard)


def test_weights_that_do_not_fit(cli: Cli, leaderboard: Path, mirror: Path, tmp_path: Path) -> None:
    weights = tmp_path / "linear.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), weights)
    line = assert_one_line_error(
        cli("score", "timm:resnet18", "--weights", weights, *benchmark_in(mirror), "--leaderboard", leaderboard)
    )
    assert "do not fit timm:resnet18" in line and "missing" in line and "unexpected" in line
    assert_untouched(leaderboard)


def test_unreadable_weights(cli: Cli, leaderboard: Path, mirror: Path, tmp_path: Path) -> None:
    weights = tmp_path / "garbage.pt"
    weights.write_bytes(b"\x89not a torch file\x00" * 64)
    line = assert_one_line_error(
        cli("score", "timm:resnet18", "--weights", weights, *benchmark_in(mirror), "--leaderboard", leaderboard)
    )
    assert f"Cannot read weights file {weights}" in line
    assert_untouched(leaderboard)


def test_weights_that_are_not_a_state_dict(cli: Cli, leaderboard: Path, mirror: Path, tmp_path: Path) -> None:
    weights = tmp_path / "list.pt"
    torch.save([1, 2, 3], weights)
    line = assert_one_line_error(
        cli("score", "timm:resnet18", "--weights", weights, *benchmark_in(mirror), "--leaderboard", leaderboard)
    )
    assert "does not hold a state_dict" in line
    assert_untouched(leaderboard)


def test_missing_weights_file(cli: Cli, leaderboard: Path, mirror: Path, tmp_path: Path) -> None:
    line = assert_one_line_error(cli(
        "score", "timm:resnet18", "--weights", tmp_path / "nope.pt", *benchmark_in(mirror), "--leaderboard", leaderboard
    ))
    assert "does not exist" in line
    assert_untouched(leaderboard)


def test_weights_with_random_init(cli: Cli, leaderboard: Path, tmp_path: Path) -> None:
    weights = tmp_path / "linear.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), weights)
    line = assert_one_line_error(
        cli("score", *MODEL, "--weights", weights, *BENCHMARK, "--leaderboard", leaderboard)
    )
    assert "--weights" in line and "--random-init" in line and "not both" in line
    assert_untouched(leaderboard)


def test_published_weights_unobtainable_offline(cli: Cli, leaderboard: Path, mirror: Path) -> None:
    line = assert_one_line_error(cli("score", "timm:resnet18", *benchmark_in(mirror), "--leaderboard", leaderboard))
    assert "pretrained weights for timm:resnet18" in line
    assert "--weights" in line and "--random-init" in line
    assert_untouched(leaderboard)


def test_leaderboard_that_is_not_a_leaderboard(cli: Cli, tmp_path: Path) -> None:
    garbage = tmp_path / "notes.sqlite"
    content = b"these are my notes, not a database\n" * 200
    garbage.write_bytes(content)
    line = assert_one_line_error(cli("leaderboard", "--leaderboard", garbage))
    assert f"{garbage} is not a brainbench leaderboard" in line
    assert garbage.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("notes")] == ["notes.sqlite"]  # no journal


@pytest.mark.mirror
@pytest.mark.slow
def test_score_into_a_file_that_is_not_a_leaderboard(cli: Cli, mirror: Path, tmp_path: Path) -> None:
    """The whole scoring runs (a few seconds), then the append refuses the foreign file and leaves it as it was."""
    garbage = tmp_path / "notes.sqlite"
    content = b"these are my notes, not a database\n" * 200
    garbage.write_bytes(content)
    result = cli("score", *MODEL, *BENCHMARK, "--layers", "layer1.0", "--batch-size", "92",
                 "--data-mirror", mirror, "--leaderboard", garbage)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.rstrip("\n").splitlines()[-1] == (
        f"error: {garbage} is not a brainbench leaderboard (it was left unchanged); pass another --leaderboard PATH."
    )
    assert garbage.read_bytes() == content
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("notes") and p != garbage]


def test_debug_shows_the_traceback(cli: Cli, leaderboard: Path) -> None:
    result = cli("--debug", "score", "efficientnetlite0", *BENCHMARK, "--leaderboard", leaderboard)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "UnknownNameError" in result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1].startswith("error: Unknown model 'efficientnetlite0'")
    assert_untouched(leaderboard)
