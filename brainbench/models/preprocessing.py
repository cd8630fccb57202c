"""From a stimulus image to a model's input tensor: placement in visual degrees, resize, normalise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

GRAY = (128, 128, 128)
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
    """Show ``image`` (spanning ``stimulus_degrees``) in a model's field of ``model_degrees``.

    As Brain-Score does: a stimulus smaller than the model's field is shrunk by the ratio and centred
    on gray; a larger one is centre-cropped to the part the model sees. The output keeps the image's
    pixel size (square images assumed; others are handled per axis).
    """
    image = image.convert("RGB")
    ratio = stimulus_degrees / model_degrees
    if np.isclose(ratio, 1.0):
        return image
    width, height = image.size
    if ratio < 1:
        small = image.resize((max(1, round(width * ratio)), max(1, round(height * ratio))), Image.Resampling.BICUBIC)
        screen = Image.new("RGB", (width, height), GRAY)
        screen.paste(small, ((width - small.width) // 2, (height - small.height) // 2))
        return screen
    crop_w, crop_h = width / ratio, height / ratio
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return image.crop((round(left), round(top), round(left + crop_w), round(top + crop_h)))


def to_batch(images: Sequence[Image.Image], preprocessing: Preprocessing) -> torch.Tensor:
    """Images → float32 tensor (batch, 3, input_size, input_size), normalised."""
    size = preprocessing.input_size
    arrays = [
        np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)
        for im in images
    ]
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).div_(255.0)
    mean = torch.tensor(preprocessing.mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(preprocessing.std, dtype=torch.float32).view(1, 3, 1, 1)
    return (batch - mean) / std
