"""Small pieces shared by code that reads layers through forward hooks."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from brainbench.errors import ModelError


class StopForward(Exception):
    """Raised from a hook once every layer needed has run: the rest of the network is skipped."""


def first_tensor(output: object, layer: str = "the layer") -> torch.Tensor:
    """The tensor a layer emits (the first one when it returns a tuple or list)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Sequence) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise ModelError(f"The output of {layer} (a {type(output).__name__}) holds no tensor.")
