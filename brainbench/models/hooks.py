"""Small pieces shared by code that reads layers through forward hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from brainbench.errors import BrainbenchError, ModelError


class StopForward(Exception):
    """Raised from a hook once every layer needed has run: the rest of the network is skipped."""


def first_tensor(output: object, layer: str = "the layer") -> torch.Tensor:
    """The tensor a layer emits (the first one when it returns a tuple or list)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Sequence) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise ModelError(f"The output of {layer} (a {type(output).__name__}) holds no tensor.")


class LayerTaps:
    """Forward hooks on named layers of ``module``: in each forward pass (after :meth:`arm`), every layer hands
    its first output to ``sink(layer, tensor)`` once (a module called twice keeps its first output); with
    ``stop_early``, the pass stops once all layers have. Use as a context manager, or :meth:`close`."""

    def __init__(self, module: torch.nn.Module, layers: Sequence[str],
                 sink: Callable[[str, torch.Tensor], None], stop_early: bool = True) -> None:
        self.layers, self.sink, self.stop_early = list(layers), sink, stop_early
        self.pending: set[str] = set()
        modules = dict(module.named_modules())
        self._handles = [modules[layer].register_forward_hook(self._hook(layer)) for layer in self.layers]

    def _hook(self, layer: str) -> Callable[[torch.nn.Module, object, object], None]:
        def hook(_module: torch.nn.Module, _inputs: object, output: object) -> None:
            if layer not in self.pending:
                return
            self.sink(layer, first_tensor(output, layer).detach())
            self.pending.discard(layer)
            if self.stop_early and not self.pending:
                raise StopForward

        return hook

    def arm(self) -> None:
        """Before a forward pass: every layer is awaited again."""
        self.pending = set(self.layers)

    def check(self) -> None:
        """After a forward pass: an error naming the layers that produced nothing."""
        if self.pending:
            raise BrainbenchError(f"Layer(s) {', '.join(sorted(self.pending))} produced no output in a forward pass.")

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()

    def __enter__(self) -> LayerTaps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
