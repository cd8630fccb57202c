"""The Python API refuses a seed the leaderboard cannot keep before any model work, as --seed does at parse time
(records keep their seed as a whole number: one given as 1.5 was scored, then refused by the store at the end)."""

from __future__ import annotations

import numpy as np
import pytest

import brainbench
from brainbench.errors import BrainbenchError


@pytest.mark.parametrize("seed", [1.5, 1.0, -1, 2**32, True, "3"])
def test_score_refuses_a_seed_that_is_not_a_whole_number_in_range(home, monkeypatch, seed) -> None:
    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", pytest.fail)  # never reached
    with pytest.raises(BrainbenchError, match=r"seed must be a whole number from 0 to 2\*\*32 - 1"):
        brainbench.score("timm:resnet18", ["Kiani2007.IT-rsa"], random_init=True, save=False, seed=seed)


@pytest.mark.parametrize("seed", [0, 2**32 - 1, np.int64(7)])
def test_score_takes_whole_number_seeds(home, mirror, monkeypatch, seed) -> None:  # data load before the model
    reached = []

    def stop(*args, seed, **kwargs):
        reached.append(seed)
        raise BrainbenchError("stopped after the checks")

    monkeypatch.setattr("brainbench.benchmarks.scoring.resolve_model", stop)
    with pytest.raises(BrainbenchError, match="stopped after the checks"):
        brainbench.score("timm:resnet18", ["Kiani2007.IT-rsa"], random_init=True, save=False, seed=seed,
                         data_mirrors=[mirror])
    assert reached == [seed]
