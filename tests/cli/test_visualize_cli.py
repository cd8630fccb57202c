"""`brainbench visualize`: writes a PNG whose target activation beats natural images; clear errors."""

from __future__ import annotations

import pytest
import skimage.data
import torch
from PIL import Image

from brainbench.models.registry import resolve_model
from brainbench.models.visualize import activation


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_channel_visualisation_png(cli, tmp_path):
    out = tmp_path / "unit.png"
    result = cli("visualize", "efficientnet_lite0", "--layer", "blocks.3.0", "--channel", "5", "--steps", "48",
                 "--size", "80", "-o", out, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    image = Image.open(out)
    assert image.size == (80, 80)
    model = resolve_model("efficientnet_lite0")
    photos = [Image.fromarray(getattr(skimage.data, n)()) for n in ("astronaut", "coffee", "chelsea", "rocket")]
    values = activation(model, "blocks.3.0", [image.convert("RGB"), *photos], "channel", channel=5, device="cpu")
    assert values[0] > 2 * values[1:].max()


def test_deepdream_png(cli, tmp_path):
    source, out = tmp_path / "cat.png", tmp_path / "dream.png"
    Image.fromarray(skimage.data.chelsea()).resize((120, 80)).save(source)
    result = cli("visualize", "efficientnet_lite0", "--layer", "blocks.3.0", "--deepdream", source, "--steps", "4",
                 "-o", out, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    assert Image.open(out).size == (120, 80) and "layer objective" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--layer", "blocks.3.0", "--channel", "999"], "has 80 channels"),
    (["--layer", "blocks.33", "--channel", "1"], "Unknown layer 'blocks.33'"),
    (["--layer", "blocks.3.0", "--channel", "1", "--neuron", "99,99"], "out of range"),
    (["--layer", "blocks.3.0", "--deepdream", "/no/such/image.png"], "Cannot read image"),
])
def test_bad_targets_are_one_line_errors(cli, tmp_path, args, message):
    result = cli("visualize", "efficientnet_lite0", *args, "-o", tmp_path / "x.png", "--device", "cpu")
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "x.png").exists()
