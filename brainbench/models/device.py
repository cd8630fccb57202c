"""Choosing the torch device."""

from __future__ import annotations

import torch

from brainbench.errors import BrainbenchError


def best_device() -> torch.device:
    """CUDA if present, else Apple MPS, else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(name: str | None) -> torch.device:
    """``None``/'auto' → best device; otherwise the named one, checked to exist."""
    if name in (None, "auto"):
        return best_device()
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise BrainbenchError(f"Unknown device '{name}'; use cpu, cuda, cuda:N, mps or auto.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BrainbenchError(f"Device '{name}' was asked for but CUDA is not available here; use --device cpu.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise BrainbenchError(f"Device '{name}' was asked for but MPS is not available here; use --device cpu.")
    return device
