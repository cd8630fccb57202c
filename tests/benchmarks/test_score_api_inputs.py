"""The Python API refuses bad numbers as the CLI does, before any model is built."""

from __future__ import annotations

import math

import pytest

import brainbench
from brainbench.errors import BrainbenchError


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "8"])
def test_score_refuses_a_batch_size_below_one(home, monkeypatch, batch_size) -> None:
    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", pytest.fail)  # never reached
    with pytest.raises(BrainbenchError, match="batch_size must be a whole number"):
        brainbench.score("timm:resnet18", ["Kiani2007.IT-rsa"], random_init=True, save=False, batch_size=batch_size)


@pytest.mark.parametrize("gib", [0, -1.0, math.nan, math.inf, "4"])
def test_score_refuses_a_memory_budget_that_is_not_positive(home, monkeypatch, gib) -> None:
    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", pytest.fail)
    with pytest.raises(BrainbenchError, match="max_memory_gb must be a finite number"):
        brainbench.score("timm:resnet18", ["Kiani2007.IT-rsa"], random_init=True, save=False, max_memory_gb=gib)
