"""Feature visualisation: images optimised to drive a neuron, a channel or a whole layer, and DeepDream.

Written after Olah, Mordvintsev & Schubert, "Feature Visualization" (Distill 2017) and Mordvintsev et al.,
"Differentiable Image Parameterizations" (Distill 2018): the image is a decorrelated Fourier
parameterisation (a 1/frequency-scaled spectrum, then a fixed colour decorrelation, then a sigmoid),
optimised with Adam through random robustness transforms (pad, jitter, scale, rotate, jitter) and the
model's own preprocessing (resize to its input size, normalise), so that the network sees it as it sees
stimuli. DeepDream (Mordvintsev, Olah & Tyka 2015) instead ascends the gradient of a layer's squared norm
on a photo's pixels, octave by octave.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from brainbench.errors import BrainbenchError
from brainbench.models.device import resolve_device
from brainbench.models.hooks import StopForward, first_tensor
from brainbench.models.layers import check_layers
from brainbench.models.preprocessing import to_batch
from brainbench.models.registry import Model

Progress = Callable[[int], None]
OBJECTIVES = ("neuron", "channel", "layer")

# Lucid's colour decorrelation (tensorflow/lucid, optvis/param/color.py, `color_correlation_svd_sqrt`): a
# square root, via SVD, of the 3×3 correlation matrix of ImageNet pixel colours, so that independent
# parameters map to naturally correlated RGB. Normalised, as in Lucid, so its largest column has unit norm.
_COLOR_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR_DECORRELATION = _COLOR_SVD_SQRT / _COLOR_SVD_SQRT.norm(dim=0).max()

# Robustness transforms, in pixels of a 128-px image (Lucid's `standard_transforms`), scaled with the size.
_PAD, _JITTER, _FINE_JITTER = 12, 8, 4
_SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.90 … 1.10
_ANGLES = tuple(range(-10, 11)) + (0,) * 5  # degrees; an upright image is a little more likely
_SPECTRUM_SD = 0.01  # initial spectrum: near-uniform gray with faint noise


def _channels_first(act: torch.Tensor) -> torch.Tensor:
    """A layer output as (batch, channels, *positions): conv maps as they are, ViT tokens (B, N, C) transposed."""
    return act.transpose(1, 2) if act.dim() == 3 else act


def layer_output(model: Model, layer: str, x: torch.Tensor) -> torch.Tensor:
    """``layer``'s output for the normalised batch ``x``, channels first; the forward stops at the layer."""
    captured: list[torch.Tensor] = []

    def hook(_module: torch.nn.Module, _inputs: object, output: object) -> None:
        captured.append(first_tensor(output, layer))
        raise StopForward

    handle = dict(model.module.named_modules())[layer].register_forward_hook(hook)
    try:
        with contextlib.suppress(StopForward):
            model.module(x)
    finally:
        handle.remove()
    if not captured:
        raise BrainbenchError(f"Layer {layer} produced no output in a forward pass; choose another layer.")
    return _channels_first(captured[0])


def _device(device: str | torch.device | None) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def check_target(
    model: Model, layer: str, objective: str, channel: int | None, neuron: tuple[int, int] | None,
    device: torch.device | None = None,
) -> tuple[int, int] | None:
    """Check a target against the layer's output at the model's input size; the neuron's (x, y), centre by default."""
    check_layers(model.module, [layer], model.layers)
    if objective not in OBJECTIVES:
        raise BrainbenchError(f"Unknown objective '{objective}'; use one of {', '.join(OBJECTIVES)}.")
    if objective == "layer" and (channel is not None or neuron is not None):
        raise BrainbenchError("The layer objective uses the whole layer; leave out the channel and neuron.")
    if objective == "channel" and neuron is not None:
        raise BrainbenchError("The channel objective takes no neuron position; use the neuron objective for one.")
    if objective != "layer" and channel is None:
        raise BrainbenchError(f"The {objective} objective needs a channel.")
    size = model.preprocessing.input_size
    with torch.no_grad():
        shape = layer_output(model, layer, torch.zeros((1, 3, size, size), device=device)).shape
    if objective == "layer":
        return None
    n_channels = shape[1] if len(shape) > 1 else 1
    if channel is None or not 0 <= channel < n_channels:
        raise BrainbenchError(
            f"Channel {channel} is out of range: layer {layer} has {n_channels} channels (0–{n_channels - 1})."
        )
    if objective == "channel":
        return None
    if len(shape) != 4:
        raise BrainbenchError(
            f"Layer {layer} has no spatial map for the neuron objective (output shape {tuple(shape[1:])}); "
            "use the channel objective."
        )
    height, width = shape[2], shape[3]
    x, y = neuron if neuron is not None else (width // 2, height // 2)
    if not (0 <= x < width and 0 <= y < height):
        raise BrainbenchError(
            f"Neuron position ({x}, {y}) is out of range: layer {layer}'s map is {width}×{height} (x, y from 0)."
        )
    return x, y


def objective_value(
    act: torch.Tensor, objective: str, channel: int | None, neuron: tuple[int, int] | None
) -> torch.Tensor:
    """Per-image objective of a channels-first layer output: a neuron, a channel's mean, or the squared L2 norm."""
    if objective == "layer":
        return act.pow(2).flatten(1).sum(1)
    if act.dim() == 2:
        return act[:, channel]
    if objective == "channel":
        return act[:, channel].flatten(1).mean(1)
    x, y = neuron
    return act[:, channel, y, x]


# ---------------------------------------------------------------------------------------------------------
# The image: decorrelated Fourier parameterisation.


def spectrum_scale(height: int, width: int) -> torch.Tensor:
    """1/frequency per rFFT coefficient (frequencies below one cycle per image count as one), shape (h, w//2+1)."""
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    return 1.0 / torch.sqrt(fx**2 + fy**2).clamp(min=1.0 / max(height, width))


def spectrum_to_rgb(spectrum: torch.Tensor, size: int) -> torch.Tensor:
    """A (3, size, size//2+1, 2) real/imaginary spectrum → (1, 3, size, size) RGB in [0, 1]."""
    scale = spectrum_scale(size, size).to(spectrum.device)
    image = torch.fft.irfft2(torch.view_as_complex(spectrum) * scale, s=(size, size), norm="ortho") / 4.0
    rgb = torch.einsum("ij,jhw->ihw", COLOR_DECORRELATION.to(spectrum.device), image)
    return torch.sigmoid(rgb)[None]


def _choice(options: Sequence, generator: torch.Generator) -> object:
    return options[int(torch.randint(len(options), (1,), generator=generator))]


def _jitter(image: torch.Tensor, d: int, generator: torch.Generator) -> torch.Tensor:
    """A random crop that is ``d`` px smaller: a random translation of up to ``d`` px."""
    if d <= 0:
        return image
    dy, dx = (int(v) for v in torch.randint(d + 1, (2,), generator=generator))
    h, w = image.shape[-2:]
    return image[..., dy : dy + h - d, dx : dx + w - d]


def _scale_rotate(image: torch.Tensor, scale: float, degrees: float) -> torch.Tensor:
    """Resize by ``scale`` and rotate by ``degrees`` about the centre, in one bilinear resampling."""
    h, w = image.shape[-2:]
    out = (max(1, round(h * scale)), max(1, round(w * scale)))
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]], device=image.device)
    grid = F.affine_grid(theta[None], [1, 3, *out], align_corners=False)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _to_model_input(image: torch.Tensor, model: Model, side: int | None = None) -> torch.Tensor:
    """RGB in [0, 1] → the model's input: resized to ``side`` (default its input size), then normalised."""
    side = side or model.preprocessing.input_size
    if image.shape[-2:] != (side, side):
        antialias = image.shape[-1] > side
        image = F.interpolate(image, size=(side, side), mode="bilinear", align_corners=False, antialias=antialias)
    mean = torch.tensor(model.preprocessing.mean, device=image.device).view(1, 3, 1, 1)
    std = torch.tensor(model.preprocessing.std, device=image.device).view(1, 3, 1, 1)
    return (image - mean) / std


def robust_transforms(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Pad with gray, jitter, scale, rotate, jitter again (Lucid's standard transforms, scaled to the image)."""
    unit = image.shape[-1] / 128
    pad = max(1, round(_PAD * unit))
    image = F.pad(image, (pad, pad, pad, pad), value=0.5)
    image = _jitter(image, round(_JITTER * unit), generator)
    image = _scale_rotate(image, _choice(_SCALES, generator), _choice(_ANGLES, generator))
    return _jitter(image, round(_FINE_JITTER * unit), generator)


def _to_pil(image: torch.Tensor) -> Image.Image:
    array = image.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(array), mode="RGB")


def visualize(
    model: Model,
    layer: str,
    objective: str = "channel",
    channel: int | None = None,
    neuron: tuple[int, int] | None = None,
    steps: int = 256,
    size: int = 128,
    seed: int = 0,
    lr: float = 0.05,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> Image.Image:
    """A ``size``-px image that maximises the objective: ``neuron`` (``channel`` at position (x, y) of the layer's
    map at the model's input size, centre by default), ``channel`` (its mean over positions) or ``layer`` (the
    squared L2 norm of the output, as DeepDream).

    ``steps`` Adam steps at learning rate ``lr`` on a decorrelated Fourier image, each through random
    transforms drawn from a generator seeded with ``seed`` (so the result is reproducible on CPU).
    ``progress`` is called with 1 after each step.
    """
    if size < 16 or steps < 1:
        raise BrainbenchError(f"Use a size of at least 16 px and at least one step (got size {size}, steps {steps}).")
    target = _device(device)
    model.module.to(target)
    neuron = check_target(model, layer, objective, channel, neuron, target)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    shape = (3, size, size // 2 + 1, 2)
    spectrum = (torch.randn(shape, generator=generator) * _SPECTRUM_SD).to(target).requires_grad_()
    optimizer = torch.optim.Adam([spectrum], lr=lr)
    for _ in range(steps):
        image = robust_transforms(spectrum_to_rgb(spectrum, size), generator)
        act = layer_output(model, layer, _to_model_input(image, model))
        loss = -objective_value(act, objective, channel, neuron).sum()
        (spectrum.grad,) = torch.autograd.grad(loss, [spectrum])  # only the image's gradient, not the weights'
        optimizer.step()
        if progress:
            progress(1)
    with torch.no_grad():
        return _to_pil(spectrum_to_rgb(spectrum, size))


def activation(
    model: Model,
    layer: str,
    images: Sequence[Image.Image],
    objective: str = "channel",
    channel: int | None = None,
    neuron: tuple[int, int] | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """The objective's value per image, as a CPU tensor; images are resized to the model's input size, unplaced."""
    target = _device(device)
    model.module.to(target)
    neuron = check_target(model, layer, objective, channel, neuron, target)
    with torch.no_grad():
        act = layer_output(model, layer, to_batch(images, model.preprocessing).to(target))
        return objective_value(act, objective, channel, neuron).float().cpu()


# ---------------------------------------------------------------------------------------------------------
# DeepDream.


def open_image(image: Image.Image | str | Path) -> Image.Image:
    """``image`` as RGB; a path is opened with PIL, and an unreadable one is an error naming it and why."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    try:
        with Image.open(image) as opened:
            return opened.convert("RGB")
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, FileNotFoundError) else str(exc)
        raise BrainbenchError(f"Cannot read image {image}: {reason}.") from exc


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if image.shape[-2:] == size:
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=image.shape[-1] > size[1])


def deepdream(
    model: Model,
    layer: str,
    image: Image.Image | str | Path,
    octaves: int = 3,
    octave_scale: float = 1.4,
    steps_per_octave: int = 10,
    step_size: float = 0.01,
    seed: int = 0,
    progress: Progress | None = None,
    device: str | torch.device | None = None,
) -> Image.Image:
    """``image`` (a PIL image or a path) dreamed: gradient ascent on its pixels of ``layer``'s squared L2 norm.

    The network sees the full-size image at its input size and octave k (of ``octaves``, smallest first)
    ``octave_scale``**k times smaller; the detail dreamed at one octave is carried, upscaled, to the next.
    Each step rolls the image by a random shift (jitter) and moves each pixel by ``step_size`` (on a 0–1
    scale) times its gradient over the mean absolute gradient. The output keeps the input's size.
    ``progress`` is called with 1 after each step.
    """
    if octaves < 1 or steps_per_octave < 1 or octave_scale <= 1:
        raise BrainbenchError("Use at least one octave and one step per octave, and an octave scale above 1.")
    original = open_image(image)
    target = _device(device)
    model.module.to(target)
    check_target(model, layer, "layer", None, None, target)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    base_full = torch.from_numpy(np.asarray(original, dtype=np.float32) / 255).permute(2, 0, 1)[None].to(target)
    height, width = base_full.shape[-2:]
    detail = torch.zeros_like(base_full)
    dreamed = base_full
    for k in reversed(range(octaves)):
        shrink = octave_scale**k
        size = (max(1, round(height / shrink)), max(1, round(width / shrink)))
        side = max(8, round(model.preprocessing.input_size / shrink))
        base = _resize(base_full, size)
        dreamed = (base + _resize(detail, size)).clamp(0, 1)
        max_shift = max(1, min(size) // 8)
        for _ in range(steps_per_octave):
            dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
            pixels = dreamed.detach().requires_grad_()
            shifted = torch.roll(pixels, shifts=(dy, dx), dims=(2, 3))
            act = layer_output(model, layer, _to_model_input(shifted, model, side))
            (grad,) = torch.autograd.grad(objective_value(act, "layer", None, None).sum(), [pixels])
            with torch.no_grad():
                dreamed = (dreamed + step_size * grad / (grad.abs().mean() + 1e-12)).clamp(0, 1)
            if progress:
                progress(1)
        detail = dreamed - base
    return _to_pil(dreamed)
