"""What a cached reduction's key is made of: everything that can change its numbers.

A key field missing here would let a changed input return stale numbers; a field too many only costs a miss. So the
key names the model (identifier, architecture, the module's printed structure, its weights' sha256, random-init), how
it sees the stimuli (preprocessing, the model's visual degrees, the stimuli's degrees and their content: ids and the
encoded bytes of their images, or decoded pixels), how it was run (device type and name, float32, batch size: results
are bit-identical per device and batch size), the software whose kernels make the numbers (torch, timm, NumPy,
Pillow, brainbench, the machine's architecture) and :data:`REDUCTION_FORMAT`. The CPU thread count is left out: it can
move float32 sums in their last bits, as the batch size does (agreement to ~1e-6, tests/benchmarks/test_determinism.py),
but it is chosen per run from the CPUs other processes leave idle, so keying on it would make re-scoring miss at random
under load; a cached value is the first run's, bit for bit.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import PIL
import torch

import brainbench
from brainbench.data.stimuli import StimulusSet, content_digest, source_digest
from brainbench.models.registry import Model

#: Bump whenever what a reduction holds, or how it is computed, changes without a version change above.
REDUCTION_FORMAT = 1


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
        "software": {"brainbench": brainbench.__version__, "torch": torch.__version__, "timm": _version("timm"),
                     "numpy": np.__version__, "pillow": PIL.__version__, "machine": platform.machine()},
    }


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


def stimulus_digest(stimuli: StimulusSet) -> str:
    """SHA-256 of the stimulus ids, in order, and their content: their encoded bytes where the set's ``load`` can
    fingerprint them (:func:`~brainbench.data.stimuli.source_digest`: no decoding; Pillow's version is in the key),
    else their decoded pixels (:func:`~brainbench.data.stimuli.content_digest`)."""
    source = source_digest(stimuli)
    return f"source:{source}" if source is not None else f"pixels:{content_digest(stimuli)}"
