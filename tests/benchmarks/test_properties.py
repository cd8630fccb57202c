"""V1 property benchmarks end to end on a Gabor filter bank whose tuning is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from torch import nn

import brainbench
from brainbench.benchmarks.properties import layer_properties
from brainbench.data import load_dataset
from brainbench.leaderboard import Leaderboard
from brainbench.metrics.distribution import binned, ks_similarity
from brainbench.models.electrophysiology import record_gratings
from brainbench.models.registry import resolve_model

DEGREES, INPUT_PX = 4.0, 112  # 28 px/deg: small and fast, still resolving 4 cycles/deg
ORIENTATIONS = (0.0, 60.0, 120.0)  # deg, the grating convention: sin(2π f (x cos θ + y sin θ))
FREQUENCIES = (2.0, 4.0)  # cycles/deg


def gabor_kernels(gain: float = 1.0) -> torch.Tensor:
    """(len(ORIENTATIONS)·len(FREQUENCIES), k, k) zero-mean even Gabor filters, orientation-major."""
    ppd = INPUT_PX / DEGREES
    half = 21
    y, x = torch.meshgrid(torch.arange(-half, half + 1.0), torch.arange(-half, half + 1.0), indexing="ij")
    x, y = x / ppd, y / ppd
    kernels = []
    for theta in ORIENTATIONS:
        for f in FREQUENCIES:
            t = torch.deg2rad(torch.tensor(theta))
            sigma = 0.5 / f
            carrier = torch.cos(2 * torch.pi * f * (x * torch.cos(t) + y * torch.sin(t)))
            g = torch.exp(-(x**2 + y**2) / (2 * sigma**2)) * carrier
            g = g - g.mean()
            kernels.append(gain * g / g.abs().sum())
    return torch.stack(kernels)


class GaborBank(nn.Module):
    """Simple cells: rectified Gabor filtering of the gray image (FFT convolution, 'same' size), then a pooled
    vector."""

    def __init__(self, kernels: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("kernels", kernels[:, None])
        self.cells = nn.ReLU()
        self.pooled = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        gray = image.mean(dim=1, keepdim=True)
        k, s = self.kernels.shape[-1], gray.shape[-1]
        n = s + k - 1
        spectrum = torch.fft.rfft2(gray, s=(n, n)) * torch.fft.rfft2(self.kernels[:, 0], s=(n, n))[None]
        full = torch.fft.irfft2(spectrum, s=(n, n))  # even kernels: convolution = correlation
        start = (k - 1) // 2
        return self.pooled(self.cells(full[..., start : start + s, start : start + s].contiguous()))


def _build(gain: float = 1.0):
    return {"module": GaborBank(gabor_kernels(gain)), "layers": ["cells"], "visual_degrees": DEGREES,
            "preprocessing": {"input_size": INPUT_PX, "mean": [0.5] * 3, "std": [0.5] * 3}}


@pytest.fixture
def gabor_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})  # registrations stay inside the test
    brainbench.register_model("gabor-bank")(_build)
    brainbench.register_model("silent-bank")(lambda: _build(gain=0.0))


@pytest.fixture(scope="module")
def gabor_properties():
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})
    brainbench.register_model("gabor-bank")(_build)
    try:
        model = resolve_model("gabor-bank")
        recording = record_gratings(model, ["cells"], torch.device("cpu"))["cells"]
    finally:
        monkeypatch.undo()
    return recording, layer_properties(recording)


def test_gabor_bank_gives_back_its_orientations_and_frequencies(gabor_properties) -> None:
    recording, properties = gabor_properties
    channels = recording.units // (INPUT_PX * INPUT_PX)
    assert len(recording.units) > 30 and set(channels) == set(range(len(ORIENTATIONS) * len(FREQUENCIES)))
    # Receptive-field centres were found where the units sit: within 0.15° of the stimulus position.
    assert np.all(np.hypot(*(recording.rf_centre - np.array([0.5, 0.5])).T) <= 0.15)
    orientation = properties.values["preferred_orientation"]
    peak_sf = properties.values["peak_spatial_frequency"]
    assert len(orientation) == len(peak_sf) == len(recording.units)  # every unit responds
    for c in range(len(ORIENTATIONS) * len(FREQUENCIES)):
        expected_theta, expected_f = ORIENTATIONS[c // len(FREQUENCIES)], FREQUENCIES[c % len(FREQUENCIES)]
        found = orientation[channels == c]
        circular_error = (found - expected_theta + 90) % 180 - 90
        assert np.abs(circular_error).max() <= 3, (c, found)
        assert np.abs(np.log2(peak_sf[channels == c] / expected_f)).max() <= 0.25, (c, peak_sf[channels == c])
    # Simple cells with a zero-mean filter are band-pass: selective, with a finite bandwidth.
    assert np.all(properties.values["spatial_frequency_selective"] == 1)


def test_scores_match_the_closed_form_similarity_and_land_in_the_leaderboard(
    home, gabor_models, tmp_path
) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    records = brainbench.score("gabor-bank", ["Marques2020.V1-preferred_orientation"], leaderboard=board)
    (record,) = records
    assert record.layer == "cells" and record.region == "V1" and record.benchmark_version == 2
    # ceiled = raw / ceiling: `ceil` is checked against closed forms in tests/metrics/test_ceiling.py.
    assert 0 < record.ceiling <= 1 and record.details["ceiling_convention"] == "ratio"
    details = record.details
    # The error: SEM (ddof=1) over the 10 halvings of fold score / fold ceiling, a halving's two directions averaged.
    ratios = np.asarray(details["fold_scores"]) / np.asarray(details["fold_ceilings"])
    assert record.error == pytest.approx(scipy.stats.sem(ratios.reshape(10, 2).mean(1)), rel=1e-12)
    assert len(details["fold_scores"]) == len(details["fold_layers"]) == 20
    # The bank's orientations fall in bins 0, 1 and 3 equally: its similarity to the whole published
    # histogram, computed here without bootstrap or halves, is what the benchmark estimates.
    histogram = load_dataset("marques2020", mirrors=[]).assemblies["DeValois1982a.preferred_orientation"]
    edges = np.append(histogram["bin_lower"].values, histogram["bin_upper"].values[-1])
    model = binned(np.repeat(ORIENTATIONS, 10), edges)
    expected = ks_similarity(model, histogram.values / histogram.values.sum())
    assert record.raw == pytest.approx(expected, abs=0.06)
    assert [r.benchmark for r in board.records()] == ["Marques2020.V1-preferred_orientation"]


def test_no_unit_near_the_stimulus_scores_zero_with_the_reason(home, gabor_models) -> None:
    (record,) = brainbench.score("silent-bank", ["Marques2020.V1-surround_suppression_index"], save=False)
    assert record.raw == 0 and record.ceiled == 0 and record.ceiling > 0
    assert "no unit of cells has its receptive-field centre" in record.details["zero_reason"]
    assert record.details["layers"]["cells"]["n_near_stimulus"] == 0


def test_pooled_layer_offered_as_v1_is_one_clear_error(cli, gabor_models, home) -> None:
    result = cli("score", "gabor-bank", "--layers", "pooled", "-b", "Marques2020.V1-preferred_orientation")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: Layer pooled has no spatial map (output (6,) per image), so its units have no receptive field "
        "to map; give a convolutional layer for V1 with --layers."
    ]
    assert "Traceback" not in result.output
    assert not list(home.rglob("*.sqlite"))


def test_layers_command_profiles_the_property_per_layer(cli, gabor_models) -> None:
    import json

    result = cli("layers", "gabor-bank", "-b", "Marques2020.V1-preferred_orientation", "--json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)  # one object per benchmark
    assert report["committed_layer"] == "cells"
    (row,) = report["layers"]
    assert row["layer"] == "cells" and 0 < row["raw"] <= 1 and 0 < row["family_selection"] <= 1
    assert row["ceiled"] > row["raw"]  # divided by a ceiling below 1
