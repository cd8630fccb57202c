"""--json prints JSON only: no progress lines on stderr either, for every command that shows progress."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tinycnn(cli) -> str:
    assert cli("models", "register", "tinycnn", "--from", f"{REPO / 'examples' / 'my_plugin.py'}:build_tinycnn"
               ).exit_code == 0
    return "tinycnn"


def test_extract_json_prints_no_progress(cli, tinycnn: str, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in "ab":
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    result = cli("extract", tinycnn, "--random-init", "--stimuli", folder, "--layers", "3", "--device", "cpu",
                 "-o", tmp_path / "f.nc", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["n_stimuli"] == 2
    assert result.stderr == ""


@pytest.mark.mirror
def test_layers_json_prints_no_progress(cli, tinycnn: str, mirror: Path) -> None:
    result = cli("layers", tinycnn, "--random-init", "--layers", "3,5", "-b", "Kiani2007.IT-rsa", "--device", "cpu",
                 "--data-mirror", mirror, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["benchmark"] == "Kiani2007.IT-rsa"
    assert result.stderr == ""
