"""From a stimulus image to a model's input tensor: placement in visual degrees, resize, normalise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from PIL import Image

from brainbench.errors import BrainbenchError

GRAY = (128, 128, 128)  # PIL's "gray", Brain-Score's screen background
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """A model's input convention: square ``input_size`` px, RGB/255 then (x − mean) / std per channel."""

    input_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def to_dict(self) -> dict:
        return {"input_size": self.input_size, "mean": list(self.mean), "std": list(self.std)}


def place_on_screen(image: Image.Image, stimulus_degrees: float, model_degrees: float) -> Image.Image:
    """Show ``image`` (spanning ``stimulus_degrees``) in a model's field of ``model_degrees``, as Brain-Score does.

    Brain-Score 2.4.2's ``ImageConverter``: with ``ratio = model_degrees / stimulus_degrees`` each side
    becomes ``round(ratio × side)`` px (half to even, as numpy rounds). A ratio ≥ 1 puts the image, unscaled,
    on a gray (128) canvas of that size; a ratio < 1 keeps the central part of that size. Offsets are
    ``round((difference of sides) / 2)``. No resampling here: :func:`to_batch` resizes once. Non-square images
    are placed per axis. Returns RGB; other modes convert as Brain-Score's paste onto RGB does (alpha dropped).
    """
    image = image.convert("RGB")
    if stimulus_degrees == model_degrees:
        return image
    ratio = model_degrees / stimulus_degrees if stimulus_degrees > 0 and model_degrees > 0 else 0.0
    width, height = image.size
    shown = (round(ratio * width), round(ratio * height))
    if min(shown) < 1:
        raise BrainbenchError(
            f"A model field of {model_degrees}° shows no whole pixel of a {stimulus_degrees}° stimulus of "
            f"{width}×{height} px; give the model and the benchmark positive visual degrees of similar size."
        )
    if ratio >= 1:
        canvas = Image.new("RGB", shown, GRAY)
        canvas.paste(image, (round((shown[0] - width) / 2), round((shown[1] - height) / 2)))
        return canvas
    left, top = round((width - shown[0]) / 2), round((height - shown[1]) / 2)
    return image.crop((left, top, left + shown[0], top + shown[1]))


def input_pixels(image: Image.Image, input_size: int) -> np.ndarray:
    """One placed image as the model's input pixels: (input_size, input_size, 3) uint8.

    torchvision's ``Resize((input_size, input_size))`` on a PIL image, as Brain-Score's PyTorch preprocessing
    does: PIL's antialiased bilinear filter; non-square images are stretched.
    """
    return np.asarray(image.convert("RGB").resize((input_size, input_size), Image.Resampling.BILINEAR),
                      dtype=np.uint8)


def normalise(pixels: np.ndarray, preprocessing: Preprocessing) -> torch.Tensor:
    """(batch, H, W, 3) uint8 pixels (any NumPy array, a memory map included: read once, not copied) → (batch, 3,
    H, W) float32: ``ToTensor`` (/255) then ``Normalize``.

    Each value is read from a table of the 256 gray levels per channel, computed by those float32 ops
    ((x / 255 − mean) / std), so the bits are the ops' at a third of their time.
    """
    table = _normalised_levels(tuple(preprocessing.mean), tuple(preprocessing.std))
    out = np.empty(pixels.shape, dtype=np.float32)
    for channel in range(3):
        np.take(table[:, channel], pixels[..., channel], out=out[..., channel])
    return torch.from_numpy(out).permute(0, 3, 1, 2)


@cache
def _normalised_levels(mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """(256, 3) float32: gray level → normalised value per channel, by torchvision's float32 ops."""
    levels = torch.arange(256, dtype=torch.uint8).view(256, 1).expand(256, 3).to(torch.float32).div_(255.0)
    table = (levels - torch.tensor(mean, dtype=torch.float32)) / torch.tensor(std, dtype=torch.float32)
    return table.numpy()


def to_batch(images: Sequence[Image.Image], preprocessing: Preprocessing) -> torch.Tensor:
    """Images → float32 tensor (batch, 3, input_size, input_size), normalised (:func:`input_pixels`,
    :func:`normalise`)."""
    pixels = np.stack([input_pixels(im, preprocessing.input_size) for im in images])
    return normalise(pixels, preprocessing)
