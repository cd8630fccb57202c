"""What a cached reduction's key is made of: everything that can change its numbers.

A key field missing here would let a changed input return stale numbers; a field too many only costs a miss. So the
key names the model (identifier, architecture, the module's printed structure, its weights' sha256, random-init), how
it sees the stimuli (preprocessing, the model's visual degrees, the stimuli's degrees and their content: ids and the
bytes of their image files, or decoded pixels), how it was run (device type and name, float32, batch size: results
are bit-identical per device and batch size), the software whose kernels make the numbers (torch, timm, NumPy,
Pillow, brainbench) and :data:`REDUCTION_FORMAT`. Thread counts are left out: they change float32 sums in their last
bits only (tests/benchmarks/test_determinism.py), and the thread count chosen under load varies from run to run.
"""

from __future__ import annotations

import hashlib
import platform
from typing import Any

import numpy as np
import PIL
import torch

import brainbench
from brainbench.data.stimuli import StimulusSet, content_digest
from brainbench.models.registry import Model

#: Bump whenever what a reduction holds, or how it is computed, changes without a version change above.
REDUCTION_FORMAT = 1


def model_fields(model: Model, device: torch.device) -> dict[str, Any]:
    """The key fields of ``model`` run on ``device``, shared by every reduction of a session."""
    import timm

    structure = hashlib.sha256(repr(model.module).encode()).hexdigest()
    return {
        "format": REDUCTION_FORMAT,
        "model": {
            "identifier": model.identifier, "architecture": model.architecture, "structure": structure,
            "weights_digest": model.weights_digest, "random_init": model.random_init,
            "visual_degrees": model.visual_degrees, "preprocessing": model.preprocessing.to_dict(),
        },
        "device": {"type": device.type, "name": _device_name(device), "dtype": "float32"},
        "software": {"brainbench": brainbench.__version__, "torch": torch.__version__, "timm": timm.__version__,
                     "numpy": np.__version__, "pillow": PIL.__version__, "machine": platform.machine()},
    }


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def stimulus_digest(stimuli: StimulusSet) -> str:
    """SHA-256 of the stimulus ids, in order, and their content.

    A set whose ``load`` can fingerprint a stimulus (the sha256 of its encoded bytes: a file, a zip member, pixels in
    memory) is identified without decoding (Pillow's version is in the key); any other by its decoded pixels
    (:func:`brainbench.data.stimuli.content_digest`).
    """
    fingerprint = getattr(stimuli.load, "fingerprint", None)
    if fingerprint is None:
        return "pixels:" + content_digest(stimuli)
    digest = hashlib.sha256()
    for stimulus_id in stimuli.stimulus_ids:
        digest.update(stimulus_id.encode() + b"\0" + fingerprint(stimulus_id))
    return "source:" + digest.hexdigest()
