"""The preprocessed-stimulus cache (models/input_cache.py): the same activations bit for bit as decoding each
image in the pass, one file per content and geometry, verified on read."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from brainbench.data.stimuli import FileImages, StimulusSet, in_memory_stimuli, source_digest, zip_stimuli
from brainbench.models import input_cache
from brainbench.models.activations import extract_activations, layer_kernels
from brainbench.models.preprocessing import Preprocessing, normalise
from brainbench.models.registry import Model


def _model(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)) -> Model:
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                           nn.Linear(16, 3))
    return Model("tiny", "test:tiny", module.eval(), Preprocessing(24, mean, std), ["0", "2", "4"], 8.0, "d" * 64,
                 "test", False)


def _images(n: int = 7) -> np.ndarray:
    # Non-square and of another size than the input, so that placement and resizing both do something.
    return np.random.default_rng(0).integers(0, 256, size=(n, 30, 20, 3), dtype=np.uint8)


def _metadata(n: int) -> pd.DataFrame:
    return pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(n)]}).set_index("stimulus_id")


def _png_stimuli(folder: Path, images: np.ndarray) -> StimulusSet:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, image in enumerate(images):
        paths[f"s{i}"] = folder / f"s{i}.png"
        Image.fromarray(image).save(paths[f"s{i}"])
    return StimulusSet("pngs", _metadata(len(images)), FileImages(paths))


def _zip_stimuli(path: Path, images: np.ndarray) -> StimulusSet:
    with zipfile.ZipFile(path, "w") as archive:
        for i, image in enumerate(images):
            Image.fromarray(image).save(buffer := _Buffer(), format="PNG")
            archive.writestr(f"im/s{i}.png", buffer.data)
    return zip_stimuli("zipped", path, _metadata(len(images)), {f"s{i}": f"im/s{i}.png" for i in range(len(images))})


class _Buffer:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


def _cached_files(cache: Path) -> list[Path]:
    return sorted((cache / "inputs").glob("*.npy"))


@pytest.mark.parametrize("degrees", [4.0, 8.0, 11.0])  # gray surround, as is, centre crop
@pytest.mark.parametrize("source", ["png", "zip", "memory"])
def test_cached_inputs_give_the_same_activations_bit_for_bit(tmp_path: Path, degrees: float, source: str) -> None:
    images = _images()
    stimuli = {"png": lambda: _png_stimuli(tmp_path / "png", images),
               "zip": lambda: _zip_stimuli(tmp_path / "s.zip", images),
               "memory": lambda: in_memory_stimuli("mem", images, _metadata(len(images)))}[source]()
    model, cache = _model(), tmp_path / "cache"
    plain = extract_activations(model, stimuli, degrees, device="cpu", batch_size=3)
    first = extract_activations(model, stimuli, degrees, device="cpu", batch_size=3, stimulus_cache=cache)
    assert len(_cached_files(cache)) == 1
    again = extract_activations(model, stimuli, degrees, device="cpu", batch_size=3, stimulus_cache=cache)
    for layer in plain:  # same inputs, batch size, device and kernels: identical bits, not merely close
        assert torch.equal(first[layer], plain[layer]) and torch.equal(again[layer], plain[layer]), layer


def test_cached_inputs_give_the_same_gram_matrices_bit_for_bit(tmp_path: Path) -> None:
    model, stimuli = _model(), _png_stimuli(tmp_path / "png", _images(9))
    plain = layer_kernels(model, stimuli, 6.0, device="cpu", batch_size=4, memory_budget=17500)
    cached = layer_kernels(model, stimuli, 6.0, device="cpu", batch_size=4, memory_budget=17500,
                           stimulus_cache=tmp_path / "cache")
    for layer in plain:
        assert torch.equal(cached[layer], plain[layer]), layer


def test_one_file_per_content_and_geometry_shared_by_normalisations(tmp_path: Path) -> None:
    images, cache = _images(), tmp_path / "cache"
    stimuli = _png_stimuli(tmp_path / "png", images)
    extract_activations(_model(), stimuli, 8.0, device="cpu", stimulus_cache=cache)
    other_normalisation = _model(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    plain = extract_activations(other_normalisation, stimuli, 8.0, device="cpu")
    shared = extract_activations(other_normalisation, stimuli, 8.0, device="cpu", stimulus_cache=cache)
    assert len(_cached_files(cache)) == 1  # normalised after reading: one file serves both models
    assert all(torch.equal(shared[layer], plain[layer]) for layer in plain)
    extract_activations(_model(), stimuli, 5.0, device="cpu", stimulus_cache=cache)  # another placement
    assert len(_cached_files(cache)) == 2
    images[3, 0, 0] ^= 1  # one pixel of one image changes: new content, new key
    changed = _png_stimuli(tmp_path / "png2", images)
    plain = extract_activations(_model(), changed, 8.0, device="cpu")
    got = extract_activations(_model(), changed, 8.0, device="cpu", stimulus_cache=cache)
    assert len(_cached_files(cache)) == 3
    assert all(torch.equal(got[layer], plain[layer]) for layer in plain)


def test_a_corrupted_file_is_decoded_again_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    model, stimuli, cache = _model(), _png_stimuli(tmp_path / "png", _images()), tmp_path / "cache"
    plain = extract_activations(model, stimuli, 8.0, device="cpu")
    extract_activations(model, stimuli, 8.0, device="cpu", stimulus_cache=cache)
    (path,) = _cached_files(cache)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte of pixels: the array still loads, only the checksum can tell
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="brainbench.models.input_cache"):
        got = extract_activations(model, stimuli, 8.0, device="cpu", stimulus_cache=cache)
    assert "failed its sha256 check" in caplog.text
    assert all(torch.equal(got[layer], plain[layer]) for layer in plain)
    assert len(_cached_files(cache)) == 1


def test_source_digest_reads_the_encoded_bytes(tmp_path: Path) -> None:
    images = _images(3)
    stimuli = _png_stimuli(tmp_path / "png", images)
    expected = hashlib.sha256(b"source-v1")
    for i in range(3):  # the documented composition, from the files' bytes read here
        expected.update(f"s{i}".encode() + b"\0")
        expected.update(hashlib.sha256((tmp_path / "png" / f"s{i}.png").read_bytes()).digest())
    assert source_digest(stimuli) == expected.hexdigest()
    assert source_digest(stimuli.subset(["s2", "s0"])) != source_digest(stimuli.subset(["s0", "s2"]))
    unknown = StimulusSet("lambda", stimuli.metadata, lambda s: Image.fromarray(images[0]))
    assert source_digest(unknown) is None
    # A set that cannot say is keyed by its decoded pixels instead, and still cached correctly.
    model, cache = _model(), tmp_path / "cache"
    plain = extract_activations(model, unknown, 8.0, device="cpu")
    got = extract_activations(model, unknown, 8.0, device="cpu", stimulus_cache=cache)
    assert all(torch.equal(got[layer], plain[layer]) for layer in plain)
    assert input_cache.input_key(unknown, 8.0, 8.0, 24) != input_cache.input_key(stimuli, 8.0, 8.0, 24)


@pytest.mark.parametrize(("mean", "std"), [((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), ((0.5,) * 3, (0.5,) * 3),
                                           ((0.0,) * 3, (1.0,) * 3)])
def test_normalise_gives_the_bits_of_torchvisions_float32_ops(mean, std) -> None:
    # Every gray level in every channel, among random pixels, against ToTensor + Normalize's ops written out.
    pixels = np.random.default_rng(1).integers(0, 256, size=(5, 40, 33, 3), dtype=np.uint8)
    pixels[1].reshape(-1, 3)[:256] = np.arange(256, dtype=np.uint8)[:, None]
    got = normalise(pixels, Preprocessing(40, mean, std))
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    expected = (x - torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)) / torch.tensor(
        std, dtype=torch.float32).view(1, 3, 1, 1)
    assert got.shape == (5, 3, 40, 33) and got.dtype == torch.float32
    assert torch.equal(got, expected)
