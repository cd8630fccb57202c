"""Generated gratings: Brain-Score's grids, the closed-form image, and the fast batches a model sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from brainbench.data import gratings
from brainbench.models.preprocessing import place_on_screen


def test_experiment_grids_have_brainscore_sizes() -> None:
    sizes = {name: len(gratings.experiment(name).table) for name in gratings.EXPERIMENTS}
    assert sizes == {"blank": 1, "receptive_field": 3528, "orientation": 1152, "spatial_frequency": 2112,
                     "size": 2304}
    size = gratings.experiment("size")
    assert size.shape == (12, 4, 6, 8)
    table = size.table.to_numpy()[:, 1:].astype(float).reshape(*size.shape, -1)
    radius_column = list(gratings.COLUMNS).index("radius")
    assert np.allclose(table[:, 0, 0, 0, radius_column], gratings.RADIUS)  # axes in row-major order
    orientation = gratings.experiment("orientation").table
    # Orientation-experiment apertures hold 2, 3 and 4 cycles of the grating.
    cycles = sorted({round(v, 9) for v in 2 * orientation["radius"] * orientation["spatial_frequency"]})
    assert cycles == [2.0, 3.0, 4.0]


def test_image_is_the_closed_form_grating() -> None:
    table = gratings.experiment("spatial_frequency").table
    row = table[(table["radius"] == 2.25) & (table["orientation"] == 60) & (table["phase"] == 90)].iloc[5]
    image = gratings.grating_image(row)
    assert image.shape == (672, 672) and image.dtype == np.uint8
    c = np.arange(672)
    x = (c[None, :] - 336) / 56 - row["position_x"]
    y = (c[:, None] - 336) / 56 - row["position_y"]
    theta, phase = np.deg2rad(row["orientation"]), np.deg2rad(row["phase"])
    wave = np.sin(2 * np.pi * row["spatial_frequency"] * (x * np.cos(theta) + y * np.sin(theta)) + phase)
    expected = np.where(x**2 + y**2 <= row["radius"] ** 2, np.floor((wave + 1) / 2 * 255), 128)
    # Two rounding paths (sum of products vs one sine) may put a pixel on either side of an integer.
    assert np.mean(image != expected) < 1e-3 and np.abs(image - expected).max() <= 1
    assert (image[0, 0], image[-1, -1]) == (128, 128)


@pytest.mark.parametrize("model_degrees", [4.0, 8.0, 8.3, 12.0, 13.7, 16.0])
def test_fast_batches_match_placing_and_resizing_the_full_image(model_degrees: float) -> None:
    stimuli = gratings.grating_stimuli()
    table = stimuli.metadata.iloc[[0, 5, 1000, 3600, 4000, 6000, 8000]]
    fast = next(gratings.model_input_batches(table, model_degrees, 224))
    for i, stimulus_id in enumerate(table.index):
        screen = place_on_screen(stimuli.load(stimulus_id), gratings.CANVAS_DEGREES, model_degrees)
        reference = np.asarray(screen.resize((224, 224), Image.Resampling.BILINEAR), dtype=np.float32)[..., 0]
        difference = np.abs(reference - fast[i].numpy())
        assert difference.mean() < 0.1, stimulus_id  # a few pixels round to the other side
        # 8.3° and 13.7° give odd fields (465, 767 px): the offset must round as Brain-Score's does, or the
        # canvas shifts by half a pixel (measured differences of 34-59 gray levels before that rounding).
        assert difference.max() <= 1, stimulus_id


def test_batches_are_deterministic_and_ordered() -> None:
    table = gratings.experiment("receptive_field").table
    first = torch_cat(gratings.model_input_batches(table.iloc[:70], 8.0, 112, batch_size=32))
    again = torch_cat(gratings.model_input_batches(table.iloc[:70], 8.0, 112, batch_size=64))
    # Exact: every pixel is the same per-image arithmetic whatever the batch, rounded to a gray level (measured
    # bit-identical for batches of 1, 7, 32, 64 and 70 with torch's default, AVX2 and AVX-512 kernels, 1-2 threads).
    assert first.shape == (70, 112, 112) and np.array_equal(first, again)


def torch_cat(batches) -> np.ndarray:
    return np.concatenate([b.numpy() for b in batches])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_rendering_on_cuda_matches_the_cpu() -> None:
    table = gratings.experiment("size").table.iloc[::37]
    cpu = next(gratings.model_input_batches(table, 8.0, 224, batch_size=len(table)))
    gpu = next(gratings.model_input_batches(table, 8.0, 224, batch_size=len(table), device="cuda")).cpu()
    assert (cpu - gpu).abs().max() <= 1  # float32 on the device may round a pixel the other way


def test_stimuli_are_drawn_once_into_the_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = torch_cat(gratings.model_input_batches(gratings.experiment("orientation").table, 8.0, 64))
    first = torch_cat(gratings.experiment_batches("orientation", 8.0, 64, cache_dir=tmp_path))
    (cached,) = tmp_path.glob("orientation-v*-8deg-64px.npy")
    assert np.array_equal(first, fresh) and not list(tmp_path.glob(".partial-*"))

    def no_drawing(*args, **kwargs):
        raise AssertionError("drew again instead of reading the cache")

    monkeypatch.setattr(gratings, "_render", no_drawing)
    again = torch_cat(gratings.experiment_batches("orientation", 8.0, 64, batch_size=100, cache_dir=tmp_path))
    assert np.array_equal(again, fresh)

    monkeypatch.undo()
    cached.write_bytes(b"not a numpy file")  # a damaged cache file is drawn again, never used
    assert np.array_equal(torch_cat(gratings.experiment_batches("orientation", 8.0, 64, cache_dir=tmp_path)), fresh)
