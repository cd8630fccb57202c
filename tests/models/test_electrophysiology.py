"""Recording gratings under a memory budget: more mapping passes, the same recordings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from brainbench.errors import BrainbenchError
from brainbench.models.electrophysiology import map_groups, record_gratings
from brainbench.models.preprocessing import Preprocessing
from brainbench.models.registry import Model

MAP_BYTES = 21 * 21 * 4  # per unit: one float32 per patch position


def test_layers_are_grouped_to_fit_the_budget() -> None:
    units = {"a": 1000, "b": 1000, "c": 1500}
    assert map_groups(units, None) == [["a", "b", "c"]]
    assert map_groups(units, 2000 * MAP_BYTES) == [["a", "b"], ["c"]]
    assert map_groups(units, 1500 * MAP_BYTES) == [["a"], ["b"], ["c"]]
    with pytest.raises(BrainbenchError, match=r"Layer c's receptive-field maps need .* --max-memory"):
        map_groups(units, 1200 * MAP_BYTES)


def test_recordings_are_invariant_to_the_grouping_of_mapping_passes(tmp_path) -> None:
    """Invariance, not correctness: what the recordings hold is checked against a Gabor bank with known
    orientations and frequencies in tests/benchmarks/test_properties.py, the mapping in
    tests/metrics/test_rf_mapping.py."""
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 4, 5, padding=2), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1),
                           nn.ReLU()).eval()
    model = Model("tiny", "test:tiny", module, Preprocessing(48, (0.5,) * 3, (0.5,) * 3), ["1", "3"], 4.0,
                  "0" * 64, "test", False)
    together = record_gratings(model, ["1", "3"], torch.device("cpu"), stimulus_cache=tmp_path)
    apart = record_gratings(model, ["1", "3"], torch.device("cpu"), stimulus_cache=tmp_path,
                            memory_budget=4 * 48 * 48 * MAP_BYTES)  # room for one layer's maps at a time
    assert list(together) == list(apart) == ["1", "3"]
    # Exact: only where each mapping pass stops differs; every layer's output comes from the same ops on the same
    # batches, and the tuning experiments are recorded by the same passes.
    for layer in together:
        assert np.array_equal(together[layer].units, apart[layer].units)
        assert len(together[layer].units) > 0
        for name, responses in together[layer].responses.items():
            assert np.array_equal(responses, apart[layer].responses[name]), (layer, name)
