"""Stimulus placement in visual degrees and input normalisation, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from brainbench.models.preprocessing import GRAY, Preprocessing, place_on_screen, to_batch


def _checkerboard(size: int = 100) -> Image.Image:
    y, x = np.mgrid[:size, :size]
    return Image.fromarray((((x // 10 + y // 10) % 2) * 255).astype(np.uint8)[..., None].repeat(3, -1))


def test_same_degrees_is_identity():
    image = _checkerboard()
    assert np.array_equal(np.asarray(place_on_screen(image, 8, 8)), np.asarray(image))


def test_smaller_stimulus_is_shrunk_onto_gray():
    placed = np.asarray(place_on_screen(Image.new("RGB", (100, 100), (255, 0, 0)), 4, 8))
    assert placed.shape == (100, 100, 3)
    assert (placed[25:75, 25:75] == (255, 0, 0)).all()  # the image covers the central half
    assert (placed[:24] == GRAY).all() and (placed[:, 76:] == GRAY).all()


def test_larger_stimulus_is_centre_cropped():
    image = _checkerboard()
    placed = place_on_screen(image, 16, 8)
    assert placed.size == (50, 50)
    assert np.array_equal(np.asarray(placed), np.asarray(image)[25:75, 25:75])


def test_to_batch_normalises_per_channel():
    prep = Preprocessing(32, (0.5, 0.4, 0.3), (0.2, 0.25, 0.5))
    batch = to_batch([Image.new("RGB", (10, 10), (51, 102, 204))], prep)
    assert batch.shape == (1, 3, 32, 32) and batch.dtype == torch.float32
    expected = [(51 / 255 - 0.5) / 0.2, (102 / 255 - 0.4) / 0.25, (204 / 255 - 0.3) / 0.5]
    assert batch[0, :, 5, 5].tolist() == pytest.approx(expected, abs=1e-6)
