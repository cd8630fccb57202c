"""Feature visualisation on a real ImageNet network: optimised images beat photos and noise; DeepDream; errors."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from brainbench.errors import BrainbenchError, UnknownNameError
from brainbench.models.registry import resolve_model
from brainbench.models.visualize import COLOR_DECORRELATION, activation, deepdream, spectrum_to_rgb, visualize

LAYER = "blocks.3.0"  # efficientnet_lite0: 80 channels, a 14×14 map at its 224-px input
SIZE, STEPS = 96, 64
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two intra-op threads on two shared cores thrash; one is many times faster here, and deterministic."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def lite0():
    return resolve_model("efficientnet_lite0")


def _references(size: int) -> dict[str, Image.Image]:
    """The skimage photos and uniform noise, at ``size`` px."""
    photos = {n: Image.fromarray(getattr(skimage.data, n)()) for n in PHOTOS}
    images = {n: im.resize((size, size), Image.Resampling.BILINEAR) for n, im in photos.items()}
    noise = np.random.default_rng(0).integers(0, 256, size=(size, size, 3), dtype=np.uint8)
    return images | {"noise": Image.fromarray(noise)}


@pytest.mark.parametrize(("objective", "neuron"), [("channel", None), ("neuron", None), ("neuron", (3, 10))])
def test_optimised_image_beats_photos_and_noise(lite0, objective, neuron):
    done = []
    image = visualize(lite0, LAYER, objective, channel=5, neuron=neuron, steps=STEPS, size=SIZE, progress=done.append,
                      device="cpu")
    assert image.size == (SIZE, SIZE) and image.mode == "RGB" and done == [1] * STEPS
    references = _references(SIZE)
    values = activation(lite0, LAYER, [image, *references.values()], objective, 5, neuron, device="cpu")
    best = float(values[1:].max())
    print(f"\n{objective} {neuron or 'centre'}: optimised {float(values[0]):.2f}; "
          + ", ".join(f"{n} {float(v):.2f}" for n, v in zip(references, values[1:], strict=True))
          + f"; ratio to the best {float(values[0]) / best:.1f}")
    assert best > 0 and values[0] >= 3 * best


def test_same_seed_same_image_other_seed_other_image(lite0):
    def run(seed: int) -> np.ndarray:
        return np.asarray(visualize(lite0, "blocks.2.0", "channel", 3, steps=4, size=32, seed=seed, device="cpu"))

    first = run(0)
    np.testing.assert_array_equal(first, run(0))  # exact: same seed, same process, same ops
    assert np.abs(first.astype(int) - run(1)).mean() > 1
    assert all(p.grad is None for p in lite0.module.parameters())  # only the image is optimised
    assert all(not m._forward_hooks for m in lite0.module.modules())


def test_parameterisation_starts_gray_and_decorrelates_colour():
    spectrum = torch.zeros((3, 16, 9, 2))
    np.testing.assert_allclose(spectrum_to_rgb(spectrum, 16).numpy(), 0.5)
    assert COLOR_DECORRELATION.norm(dim=0).max() == pytest.approx(1.0, abs=1e-6)  # float32 norm
    spectrum[0, 0, 0, 0] = 1.0  # the DC term of the first decorrelated channel: mostly luminance
    rgb = spectrum_to_rgb(spectrum, 16)[0].mean((1, 2))
    assert (rgb > 0.5).all() and rgb.std() < 0.02


def test_deepdream_raises_the_layer_norm_and_keeps_the_size(lite0, tmp_path):
    photo = Image.fromarray(skimage.data.chelsea()).resize((120, 80))
    photo.save(tmp_path / "cat.png")
    done = []
    dreamed = deepdream(lite0, LAYER, tmp_path / "cat.png", progress=done.append, device="cpu")
    assert dreamed.size == (120, 80) and len(done) == 3 * 10
    before, after = activation(lite0, LAYER, [photo, dreamed], "layer", device="cpu").tolist()
    print(f"\ndeepdream {LAYER} squared norm: photo {before:.4g} → dreamed {after:.4g} ({after / before:.2f}×)")
    assert after >= 1.5 * before
    again = deepdream(lite0, LAYER, photo, device="cpu")
    np.testing.assert_array_equal(np.asarray(dreamed), np.asarray(again))  # exact: same input, same process


def test_deepdream_unreadable_image(lite0, tmp_path):
    with pytest.raises(BrainbenchError, match=r"Cannot read image .*missing\.png: No such file"):
        deepdream(lite0, LAYER, tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(BrainbenchError, match=r"Cannot read image .*bad\.png: cannot identify"):
        deepdream(lite0, LAYER, tmp_path / "bad.png")


@pytest.mark.parametrize(
    ("layer", "objective", "channel", "neuron", "message"),
    [
        ("blocks.3.9", "channel", 0, None, "Unknown layer 'blocks.3.9'.*Did you mean"),
        (LAYER, "channel", 80, None, "Channel 80 is out of range: layer blocks.3.0 has 80 channels"),
        (LAYER, "neuron", -1, None, "Channel -1 is out of range"),
        (LAYER, "neuron", 0, (14, 0), r"Neuron position \(14, 0\) is out of range: layer blocks.3.0's map is 14×14"),
        ("global_pool", "neuron", 0, None, "Layer global_pool has no spatial map"),
        (LAYER, "channel", None, None, "The channel objective needs a channel"),
        (LAYER, "layer", 3, None, "leave out the channel"),
        (LAYER, "channel", 0, (1, 1), "takes no neuron position"),
        (LAYER, "pixels", 0, None, "Unknown objective 'pixels'"),
    ],
)
def test_target_errors(lite0, layer, objective, channel, neuron, message):
    with pytest.raises(BrainbenchError, match=message):
        visualize(lite0, layer, objective, channel, neuron, steps=1, size=32, device="cpu")
    with pytest.raises(BrainbenchError, match=message):
        activation(lite0, layer, [Image.new("RGB", (32, 32))], objective, channel, neuron, device="cpu")


def test_unknown_layer_is_an_unknown_name(lite0):
    with pytest.raises(UnknownNameError):
        deepdream(lite0, "blocks.99", Image.new("RGB", (32, 32)))
