"""Model weights: loading them from files or packages, and their identity (digest)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from brainbench.errors import ModelError


def weights_digest(module: nn.Module) -> str:
    """SHA-256 over the state_dict (names, dtypes, shapes and bytes, in order): the weights' identity."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict from a torch file (plain, or under 'state_dict'/'model'; 'module.' prefixes removed)."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ModelError(f"Weights file {path} does not exist.") from exc
    except Exception as exc:  # torch raises many kinds for a damaged or non-torch file
        raise ModelError(f"Cannot read weights file {path} as a torch state_dict ({type(exc).__name__}).") from exc
    for key in ("state_dict", "model"):
        if isinstance(loaded, Mapping) and isinstance(loaded.get(key), Mapping):
            loaded = loaded[key]
    if not isinstance(loaded, Mapping) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise ModelError(f"Weights file {path} does not hold a state_dict of tensors.")
    return {k.removeprefix("module."): v for k, v in loaded.items()}


def load_by_name(module: nn.Module, state: Mapping[str, torch.Tensor], origin: str, model: str) -> None:
    """Load ``state`` into ``module`` by tensor name; any mismatch is one clear error."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or shapes:
        parts = [
            f"{len(items)} {what} (e.g. {items[0]})"
            for items, what in ((missing, "missing"), (unexpected, "unexpected"), (shapes, "of the wrong shape"))
            if items
        ]
        raise ModelError(f"The weights in {origin} do not fit {model}: tensors {', '.join(parts)}.")
    module.load_state_dict(state, strict=True)


def load_by_order(module: nn.Module, state: Mapping[str, torch.Tensor], origin: str, model: str) -> None:
    """Load ``state`` into ``module`` tensor by tensor in order (names may differ; shapes must not)."""
    own = module.state_dict()
    if len(own) != len(state) or any(
        tuple(a.shape) != tuple(b.shape) for a, b in zip(own.values(), state.values(), strict=True)
    ):
        raise ModelError(f"The weights in {origin} do not fit {model} tensor by tensor.")
    module.load_state_dict(dict(zip(own.keys(), state.values(), strict=True)), strict=True)
