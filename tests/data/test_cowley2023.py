"""The Cowley et al. 2023 V4 loader, against the published numpy files read independently."""

from __future__ import annotations

import numpy as np
import pytest

from brainbench.benchmarks.neural import neural_data
from brainbench.data import load_dataset

pytestmark = pytest.mark.mirror


def test_cowley2023_assemblies_and_stimuli(home, mirror):
    dataset = load_dataset("cowley2023", mirrors=[mirror])
    folder = mirror / "cowley2023_v4"
    raw = np.load(folder / "responses_raw" / "responses_210325.npy")
    averaged = np.load(folder / "responses_repeat_averaged" / "responses_210325.npy")
    natural = np.load(folder / "responses_repeat_averaged" / "responses_210225.npy")

    scored = dataset.assemblies["Cowley2023.210325.V4"]
    assert scored.sizes == {"presentation": int((~np.isnan(raw[0])).sum()), "neuroid": 50}
    data = neural_data(scored)
    assert data.stimulus_ids[:2] == ["210325_image0001", "210325_image0002"] and len(data.stimulus_ids) == 640
    np.testing.assert_allclose(data.responses.numpy(), averaged.T, atol=1e-12)
    assert data.repetition_values == list(range(10))

    selection = neural_data(dataset.assemblies["Cowley2023.210225.V4"])
    np.testing.assert_allclose(selection.responses.numpy(), natural.T)
    assert selection.repetitions is None
    assert not set(selection.stimulus_ids) & set(data.stimulus_ids)

    image = dataset.stimuli.load("210225_image0007")
    assert image.size == (112, 112) and image.mode == "RGB"
    assert len(dataset.stimuli) == 1840
