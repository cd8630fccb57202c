"""`brainbench extract` on a tiny image folder with the example plugin, against a forward hook run here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import torch
import xarray as xr
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
MEAN, STD, SIZE = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 96  # examples/my_plugin.py's preprocessing


def _tinycnn() -> torch.nn.Module:
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from my_plugin import build_tinycnn
    finally:
        sys.path.remove(str(REPO / "examples"))
    torch.manual_seed(7)
    module = build_tinycnn()["module"]
    for parameter in module.parameters():  # weights of our own, loaded with --weights: no seeding question
        torch.nn.init.normal_(parameter, std=0.2)
    return module.eval()


@pytest.fixture
def setup(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    from brainbench.cli import main
    from brainbench.cli.extract import extract

    if main.cli.get_command(click.Context(main.cli), "extract") is None:  # until the root group lists it
        monkeypatch.setitem(main.cli.commands, "extract", extract)
    assert cli("models", "register", "tinycnn", "--from", f"{REPO / 'examples' / 'my_plugin.py'}:build_tinycnn"
               ).exit_code == 0
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, shape in (("b", (60, 80)), ("a", (50, 50)), ("c", (96, 70))):  # not in sorted order, other sizes
        Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    (folder / "notes.txt").write_text("not an image")
    module = _tinycnn()
    torch.save(module.state_dict(), tmp_path / "weights.pt")
    return {"folder": folder, "module": module, "weights": tmp_path / "weights.pt", "tmp": tmp_path}


def _reference(setup: dict, layer: str) -> np.ndarray:
    """The layer's output for a.png, b.png, c.png: PIL bilinear resize to 96 px, /255, normalised, forward hook."""
    batch = []
    for name in "abc":
        image = Image.open(setup["folder"] / f"{name}.png").convert("RGB")
        pixels = np.asarray(image.resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.float32) / 255
        batch.append((pixels - np.asarray(MEAN, dtype=np.float32)) / np.asarray(STD, dtype=np.float32))
    kept = {}

    def hook(_module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        kept["out"] = output.detach().numpy().copy()

    handle = dict(setup["module"].named_modules())[layer].register_forward_hook(hook)
    with torch.no_grad():
        setup["module"](torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2))
    handle.remove()
    return kept["out"]


def test_full_maps_match_a_forward_hook(cli, setup: dict) -> None:
    output = setup["tmp"] / "features.nc"
    result = cli("extract", "tinycnn", "--stimuli", setup["folder"], "--layers", "3,7", "--weights", setup["weights"],
                 "-o", output)
    assert result.exit_code == 0, result.stderr
    features = xr.open_dataarray(output)
    assert features.dims == ("presentation", "neuroid")
    assert list(features["stimulus_id"].values) == ["a", "b", "c"]
    assert list(features["filename"].values) == ["a.png", "b.png", "c.png"]
    conv, fc = _reference(setup, "3"), _reference(setup, "7")  # (3, 32, 12, 12), Flatten: (3, 64)
    assert features.sizes["neuroid"] == conv[0].size + fc[0].size
    layer = features["layer"].values
    # float32 activations of the same module on the same pixels; 1e-5 allows other summation orders (BLAS, batch).
    np.testing.assert_allclose(features.values[:, layer == "3"], conv.reshape(3, -1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features.values[:, layer == "7"], fc, rtol=1e-5, atol=1e-5)
    # Unit coordinates as Brain-Score flattens a (C, H, W) map: channel, channel_x = row, channel_y = column.
    c, x, y = np.unravel_index(np.arange(conv[0].size), conv.shape[1:])
    conv_units = features.isel(neuroid=layer == "3")
    for name, expected in (("channel", c), ("channel_x", x), ("channel_y", y)):
        np.testing.assert_array_equal(conv_units[name].values, expected)
    fc_units = features.isel(neuroid=layer == "7")
    np.testing.assert_array_equal(fc_units["channel"].values, np.arange(64))
    assert np.isnan(fc_units["channel_x"].values).all()
    assert conv_units["neuroid_id"].values[5] == "tinycnn.3.5"
    assert features.attrs["model"] == "tinycnn" and len(features.attrs["weights_digest"]) == 64
    assert features.attrs["visual_degrees"] == features.attrs["stimulus_degrees"] == 8


def test_pooled_maps_are_averages_over_positions(cli, setup: dict) -> None:
    output = setup["tmp"] / "pooled.nc"
    result = cli("extract", "tinycnn", "--stimuli", setup["folder"], "--layers", "3", "--pooling", "avg",
                 "--weights", setup["weights"], "-o", output, "--json")
    assert result.exit_code == 0, result.stderr
    assert '"n_neuroids": 32' in result.stdout
    features = xr.open_dataarray(output)
    # Mean over 144 positions of float32 values; 1e-5 as above.
    np.testing.assert_allclose(features.values, _reference(setup, "3").mean(axis=(2, 3)), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(features["channel"].values, np.arange(32))
    assert "channel_x" not in features.coords


def test_evaluate_reads_what_extract_writes(cli, setup: dict) -> None:
    from scipy.spatial.distance import pdist, squareform

    output, target = setup["tmp"] / "features.nc", setup["tmp"] / "rdm.nc"
    assert cli("extract", "tinycnn", "--stimuli", setup["folder"], "--layers", "5", "--weights", setup["weights"],
               "-o", output).exit_code == 0
    # The target is the hooked layer's own correlation-distance RDM: RSA with Pearson r must give 1.
    distances = squareform(pdist(_reference(setup, "5").reshape(3, -1).astype(np.float64), "correlation"))
    xr.DataArray(distances, dims=("stimulus_a", "stimulus_b"), coords={"stimulus_a": list("abc"),
                 "stimulus_b": list("abc")}).to_dataset(name="data").to_netcdf(target)
    result = cli("evaluate", "--metric", "rsa", "--features", output, "--assembly", target, "--comparison", "pearson",
                 "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["raw"] == pytest.approx(1, abs=1e-6)  # float32 features: 1e-6 on r


def test_the_command_offers_the_library_poolings() -> None:
    from brainbench.cli.extract import POOLINGS
    from brainbench.models import features

    assert features.POOLINGS == POOLINGS


def _one_line(result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_bad_input_is_one_sentence_and_writes_nothing(cli, setup: dict) -> None:
    output = setup["tmp"] / "out.nc"
    assert "neither a folder nor a dataset" in _one_line(
        cli("extract", "tinycnn", "--stimuli", setup["tmp"] / "nowhere", "-o", output))
    empty = setup["tmp"] / "empty"
    empty.mkdir()
    assert "holds no images" in _one_line(cli("extract", "tinycnn", "--stimuli", empty, "-o", output))
    # 3 images x 36 864 units of layer 1 alone are 0.4 MiB: refused under a 0.0001 GiB budget, before any image.
    line = _one_line(cli("extract", "tinycnn", "--stimuli", setup["folder"], "--max-memory", "0.0001", "-o", output))
    assert "--pooling avg" in line and "--layers" in line
    (setup["folder"] / "d.png").write_bytes(b"not a png")
    assert "not a readable image" in _one_line(cli("extract", "tinycnn", "--stimuli", setup["folder"], "-o", output))
    assert not output.exists()
    assert [p.name for p in setup["tmp"].iterdir() if p.name.startswith(".")] == []  # no partial left behind


def test_a_datasets_stimuli_with_their_metadata(cli, setup: dict, mirror: Path) -> None:
    output = setup["tmp"] / "k92.nc"
    base = ("extract", "tinycnn", "--stimuli", "kriegeskorte2008", "--data-mirror", mirror, "--layers", "7",
            "--weights", setup["weights"], "-o", output)
    # Its benchmarks show the 92 images at 2.9 and at 7 degrees: the size must be chosen.
    line = _one_line(cli(*base))
    assert "2.9" in line and "7" in line and "--stimulus-degrees" in line and not output.exists()
    result = cli(*base, "--stimulus-degrees", "7")
    assert result.exit_code == 0, result.stderr
    features = xr.open_dataarray(output)
    assert features.sizes["presentation"] == 92 and features.attrs["stimulus_degrees"] == 7
    assert {"stimulus_id", "category", "animal"} <= set(features.coords)
