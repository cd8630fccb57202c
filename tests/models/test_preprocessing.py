"""Stimulus placement and input preprocessing against Brain-Score 2.4.2's documented steps, rewritten here.

Brain-Score shows a stimulus of ``s`` degrees to a model of ``m`` degrees with ``ImageConverter.apply_ratio``
(benchmark_helpers/screen.py): ``ratio = m / s``; each side becomes ``round(ratio × side)`` (numpy rounding,
half to even); ``ratio ≥ 1`` pastes the image unscaled on a PIL ``"gray"`` RGB canvas at offset
``round((canvas − side) / 2)``, ``ratio < 1`` crops from ``round((side − crop) / 2)``. Its PyTorch models then
load the file as RGB (other modes pasted onto an RGB canvas) and apply torchvision's
``Resize((n, n))``, ``ToTensor()``, ``Normalize(mean, std)`` (model_helpers/activations/pytorch.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from brainbench.errors import BrainbenchError
from brainbench.models.preprocessing import Preprocessing, place_on_screen, to_batch


def brainscore_placement(pixels: np.ndarray, stimulus_degrees: float, model_degrees: float) -> np.ndarray:
    """(H, W, 3) uint8 → the (H', W', 3) uint8 screen Brain-Score's ImageConverter writes, in plain numpy."""
    if stimulus_degrees == model_degrees:
        return pixels
    ratio = model_degrees / stimulus_degrees
    size = np.array([pixels.shape[1], pixels.shape[0]])  # (width, height), as PIL's Image.size
    target = (ratio * size).round().astype(int)
    if ratio >= 1:
        canvas = np.full((target[1], target[0], 3), 128, dtype=np.uint8)  # PIL's "gray" is #808080
        left, top = ((target - size) / 2).round().astype(int)
        canvas[top : top + size[1], left : left + size[0]] = pixels
        return canvas
    left, top = ((size - target) / 2).round().astype(int)
    return pixels[top : top + target[1], left : left + target[0]]


def _noise(width: int, height: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    shape = (height, width, channels) if channels > 1 else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# (width, height) × (stimulus°, model°): ratios 8/7, 8/2.9, 2 (offsets on a .5 tie for odd sides), 1, 8/11.2,
# 2/3, 1/2 (crop sides on a .5 tie for odd sides), 8.3/8 (canvas only a few px larger).
SIZES = [(175, 175), (100, 100), (101, 101), (103, 103), (64, 97), (97, 64), (33, 3)]
DEGREES = [(7.0, 8.0), (2.9, 8.0), (4.0, 8.0), (8.0, 8.0), (11.2, 8.0), (12.0, 8.0), (16.0, 8.0), (8.0, 8.3)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("degrees", DEGREES)
def test_placement_is_brainscores_pixel_for_pixel(size: tuple[int, int], degrees: tuple[float, float]) -> None:
    pixels = _noise(*size)
    placed = np.asarray(place_on_screen(Image.fromarray(pixels), *degrees))
    # Both sides only copy pixels and fill 128, no arithmetic on values: exact equality is the right test.
    expected = brainscore_placement(pixels, *degrees)
    assert placed.shape == expected.shape and np.array_equal(placed, expected)


def test_rounding_ties_go_to_even_as_numpy_rounds() -> None:
    # 101 px at ratio 2: canvas 202, offset 50.5 → 50; at ratio 1/2: crop 50.5 → 50 px, offset 25.5 → 26.
    pixels = _noise(101, 101)
    enlarged = np.asarray(place_on_screen(Image.fromarray(pixels), 4.0, 8.0))
    assert enlarged.shape == (202, 202, 3) and np.array_equal(enlarged[50:151, 50:151], pixels)
    assert (enlarged[:50] == 128).all() and (enlarged[151:] == 128).all()
    cropped = np.asarray(place_on_screen(Image.fromarray(pixels), 16.0, 8.0))
    assert np.array_equal(cropped, pixels[26:76, 26:76])


def _as_rgb(image: Image.Image) -> np.ndarray:
    """The RGB pixels Brain-Score's paste onto an RGB canvas gives, per mode, without PIL's convert."""
    pixels = np.asarray(image)
    if image.mode in ("L", "LA"):
        gray = pixels if image.mode == "L" else pixels[..., 0]
        return np.repeat(gray[..., None], 3, axis=-1)
    if image.mode == "RGBA":
        return pixels[..., :3]  # alpha is dropped, not composited
    if image.mode == "P":
        palette = np.asarray(image.getpalette(), dtype=np.uint8).reshape(-1, 3)
        return palette[pixels]
    raise AssertionError(image.mode)


def _image_of_mode(mode: str, width: int, height: int) -> Image.Image:
    if mode == "L":
        return Image.fromarray(_noise(width, height, 1), "L")
    if mode == "LA":
        return Image.fromarray(_noise(width, height, 2), "LA")
    if mode == "RGBA":
        return Image.fromarray(_noise(width, height, 4), "RGBA")
    image = Image.fromarray(_noise(width, height, 1) % 16, "P")
    image.putpalette(_noise(16, 1).ravel().tolist())
    return image


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P"])
@pytest.mark.parametrize("degrees", [(2.9, 8.0), (11.2, 8.0), (8.0, 8.0)])
def test_other_modes_are_placed_as_their_rgb_pixels(mode: str, degrees: tuple[float, float]) -> None:
    image = _image_of_mode(mode, 75, 58)
    placed = place_on_screen(image, *degrees)
    assert placed.mode == "RGB"
    assert np.array_equal(np.asarray(placed), brainscore_placement(_as_rgb(image), *degrees))


def brainscore_input(screen: np.ndarray, preprocessing: Preprocessing) -> torch.Tensor:
    """Brain-Score's ``torchvision_preprocess_input`` for 'imagenet' models, applied to one placed screen."""
    transform = transforms.Compose([
        transforms.Resize((preprocessing.input_size, preprocessing.input_size)),
        transforms.ToTensor(),
        transforms.Normalize(mean=preprocessing.mean, std=preprocessing.std),
    ])
    return transform(Image.fromarray(screen))


@pytest.mark.parametrize("input_size", [224, 97])
@pytest.mark.parametrize("size", [(175, 175), (101, 101), (64, 97)])
@pytest.mark.parametrize("degrees", [(7.0, 8.0), (2.9, 8.0), (8.0, 8.0), (11.2, 8.0)])
def test_model_input_is_brainscores(input_size: int, size: tuple[int, int], degrees: tuple[float, float]) -> None:
    prep = Preprocessing(input_size)
    pixels = [_noise(*size, seed=1), _noise(*size, seed=2)]
    batch = to_batch([place_on_screen(Image.fromarray(p), *degrees) for p in pixels], prep)
    expected = torch.stack([brainscore_input(brainscore_placement(p, *degrees), prep) for p in pixels])
    assert batch.shape == expected.shape == (2, 3, input_size, input_size) and batch.dtype == torch.float32
    # The same resize and the same float32 ops (x / 255 − mean) / std on both sides; 1e-6 leaves room for a
    # few float32 ulps (|x| ≤ 2.7) should a torch version fuse the ops differently.
    assert torch.allclose(batch, expected, rtol=0, atol=1e-6)


def _triangle_resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of an antialiased bilinear resize: the triangle filter stretched by the shrink factor."""
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    taps = np.arange(n_in) + 0.5
    weights = np.clip(1 - np.abs(taps[None, :] - centres[:, None]) / stretch, 0, None)
    return weights / weights.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("size", "input_size"), [((483, 483), 224), ((153, 140), 224), ((200, 200), 224),
                                                   ((224, 224), 224), ((101, 64), 37)])
def test_one_resize_with_the_antialiased_bilinear_filter(size: tuple[int, int], input_size: int) -> None:
    pixels = _noise(*size, seed=3)
    prep = Preprocessing(input_size, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    resized = to_batch([Image.fromarray(pixels)], prep)[0].permute(1, 2, 0).numpy() * 255
    rows = _triangle_resize_matrix(size[1], input_size)
    columns = _triangle_resize_matrix(size[0], input_size)
    expected = np.stack([rows @ pixels[..., c].astype(np.float64) @ columns.T for c in range(3)], axis=-1)
    # PIL filters in fixed point and rounds to uint8 after each of its two passes (≤ 0.5 each).
    assert np.abs(resized - expected).max() <= 1 + 1e-3


def test_too_few_visual_degrees_is_one_clear_error() -> None:
    with pytest.raises(BrainbenchError, match="shows no whole pixel"):
        place_on_screen(Image.fromarray(_noise(100, 100)), 8.0, 0.01)
    with pytest.raises(BrainbenchError, match="positive visual degrees"):
        place_on_screen(Image.fromarray(_noise(100, 100)), 0.0, 8.0)


def test_to_batch_normalises_per_channel() -> None:
    prep = Preprocessing(32, (0.5, 0.4, 0.3), (0.2, 0.25, 0.5))
    batch = to_batch([Image.new("RGB", (10, 10), (51, 102, 204))], prep)
    assert batch.shape == (1, 3, 32, 32) and batch.dtype == torch.float32
    expected = [(51 / 255 - 0.5) / 0.2, (102 / 255 - 0.4) / 0.25, (204 / 255 - 0.3) / 0.5]
    assert batch[0, :, 5, 5].tolist() == pytest.approx(expected, abs=1e-6)
