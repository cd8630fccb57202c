"""What a cached reduction's key is made of: everything that can change its numbers.

A key field missing here would let a changed input return stale numbers; a field too many only costs a miss. So the
key names the model (identifier, architecture, the module's printed structure, its weights' sha256, random-init), how
it sees the stimuli (preprocessing, the model's visual degrees, the stimuli's degrees and their content: ids and the
encoded bytes of their images, or decoded pixels), how it was run (device type and name, float32, batch size: results
are bit-identical per device and batch size), the software whose kernels make the numbers (torch, timm, NumPy,
Pillow, brainbench, the machine's architecture), the source of the brainbench modules that compute reductions
(:data:`REDUCING_MODULES`) and :data:`REDUCTION_FORMAT`. The CPU thread count is left out: it can move float32 sums
in their last bits, as the batch size does (agreement to ~1e-6, tests/benchmarks/test_determinism.py), but it is
chosen per run from the CPUs other processes leave idle, so keying on it would make re-scoring miss at random under
load; a cached value is the first run's, bit for bit.
"""

from __future__ import annotations

import hashlib
import importlib.util
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import PIL
import torch

import brainbench
from brainbench.models.registry import Model

#: Bump whenever what a reduction holds changes (the code that computes it is keyed by :data:`REDUCING_MODULES`).
REDUCTION_FORMAT = 1

#: The modules whose source computes a reduction from a model and stimuli: their text is part of every key, so an
#: edit to them (between releases, in a checkout) never meets values computed by the code before it.
REDUCING_MODULES = (
    "brainbench.models.activations", "brainbench.models.preprocessing", "brainbench.models.input_cache",
    "brainbench.models.hooks", "brainbench.models.electrophysiology", "brainbench.metrics.rf_mapping",
    "brainbench.metrics.predictivity", "brainbench.metrics.rdm", "brainbench.benchmarks.rsa",
    "brainbench.data.gratings", "brainbench.data.stimuli", "brainbench.reductions.cached",
)


def model_fields(model: Model, device: torch.device) -> dict[str, Any]:
    """The key fields of ``model`` run on ``device``, shared by every reduction of a session."""
    structure = hashlib.sha256(repr(model.module).encode()).hexdigest()
    return {
        "format": REDUCTION_FORMAT,
        "model": {
            "identifier": model.identifier, "architecture": model.architecture, "structure": structure,
            "weights_digest": model.weights_digest, "random_init": model.random_init,
            "visual_degrees": model.visual_degrees, "preprocessing": model.preprocessing.to_dict(),
        },
        "device": {"type": device.type, "name": _device_name(device), "dtype": "float32"},
        "code": _code_digest(),
        "software": {"brainbench": brainbench.__version__, "torch": torch.__version__, "timm": _version("timm"),
                     "numpy": np.__version__, "pillow": PIL.__version__, "machine": platform.machine()},
    }


def _code_digest() -> str:
    """SHA-256 of the source text of :data:`REDUCING_MODULES`."""
    digest = hashlib.sha256()
    for name in REDUCING_MODULES:
        spec = importlib.util.find_spec(name)
        source = Path(spec.origin) if spec is not None and spec.origin else None
        digest.update(name.encode() + b"\0" + (source.read_bytes() if source and source.is_file() else b"?"))
    return digest.hexdigest()


def _version(package: str) -> str:
    """An installed package's version, read without importing it (timm imports torchvision: ~3 s)."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()
