"""Activation extraction against a direct forward pass of the same module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from brainbench.data.stimuli import in_memory_stimuli
from brainbench.models.activations import extract_activations
from brainbench.models.preprocessing import Preprocessing, to_batch
from brainbench.models.registry import Model


def _model() -> Model:
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3)
    )
    return Model("tiny", "test:tiny", module.eval(), Preprocessing(16), ["0", "2", "4"], 8.0, "d" * 64, "test", False)


def _stimuli(n: int = 7):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 20, 20, 3), dtype=np.uint8)
    ids = [f"s{i}" for i in range(n)]
    metadata = pd.DataFrame({"stimulus_id": ids, "category": ["a"] * n}).set_index("stimulus_id")
    return in_memory_stimuli("test", images, metadata)


def test_activations_equal_a_direct_forward_pass():
    model, stimuli = _model(), _stimuli()
    done = []
    acts = extract_activations(model, stimuli, 8.0, device="cpu", batch_size=3, progress=done.append)
    assert sum(done) == len(stimuli) and done == [3, 3, 1]
    x = to_batch(list(stimuli.images()), model.preprocessing)
    with torch.no_grad():
        conv = model.module[0](x)
        pooled = model.module[2](model.module[1](conv))
        logits = model.module(x)
    assert acts["0"].shape == (7, 4 * 7 * 7)
    # Batches of 3 against one of 7: the backend may pick other kernels per batch size, so float32 rounding.
    for got, want in ((acts["0"], conv.flatten(1)), (acts["2"], pooled.flatten(1)), (acts["4"], logits)):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_activations_are_invariant_to_the_batch_size():
    """Invariance, not correctness: the values themselves are checked against a direct forward pass in
    test_activations_equal_a_direct_forward_pass."""
    model, stimuli = _model(), _stimuli()
    one = extract_activations(model, stimuli, 8.0, device="cpu", batch_size=1)
    all_ = extract_activations(model, stimuli, 8.0, device="cpu", batch_size=64)
    for layer in one:
        # float32 sums in another order (see tests/benchmarks/test_determinism.py for a network's measured spread).
        torch.testing.assert_close(one[layer], all_[layer], atol=1e-5, rtol=1e-5)


def test_hooks_are_removed_after_extraction():
    model = _model()
    extract_activations(model, _stimuli(), 8.0, device="cpu")
    assert all(not m._forward_hooks for m in model.module.modules())
