"""Where a score's wall time goes: exclusive seconds per named stage, measured on the host around whole stages.

A :class:`StageClock` is made current with :func:`measuring`; code anywhere below it wraps its work in
``with stage(name):`` (a no-op clock when none is current). Stages nest, and each second counts once: an inner
stage's time is taken out of the stage around it. On CUDA a stage given its ``device`` synchronises once when it
ends (never inside loops), so that queued kernels are charged to the stage that queued them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: The stages a score reports (``details["seconds"]``), in the order work happens; ``other``: the rest of a benchmark.
STAGES = ("data_loading", "model_building", "decode_preprocess", "forward_passes", "grams", "rdms",
          "layer_selection", "regressions", "ceilings", "gratings", "record_writing", "other")


class StageClock:
    """Exclusive seconds per stage (``seconds``), accumulated over every :func:`stage` run while it is current."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._inner: list[float] = []  # per open stage: seconds its nested stages took

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def stage(self, name: str, device: Any = None) -> Iterator[None]:
        start = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            if device is not None and getattr(device, "type", None) == "cuda":
                import torch

                torch.cuda.synchronize(device)
            elapsed = time.perf_counter() - start
            inner = self._inner.pop()
            self.add(name, elapsed - inner)
            if self._inner:
                self._inner[-1] += elapsed


logger = logging.getLogger(__name__)
#: A file to which each ``score`` call appends its stage seconds as one JSON line (for bench/suite_speed.py).
LOG_VARIABLE = "BRAINBENCH_STAGE_LOG"

_current: ContextVar[StageClock | None] = ContextVar("brainbench_stage_clock", default=None)


@contextmanager
def measuring(clock: StageClock) -> Iterator[StageClock]:
    """Make ``clock`` the one :func:`stage` adds to, until the block ends."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


@contextmanager
def stage(name: str, device: Any = None) -> Iterator[None]:
    """Time the block as stage ``name`` on the current clock (nothing when none is current); ``device``: a
    ``torch.device`` to synchronise once at the end when it is CUDA."""
    clock = _current.get()
    if clock is None:
        yield
        return
    with clock.stage(name, device):
        yield


def log_stages(clock: StageClock) -> None:
    """Append ``{"pid", "seconds": {stage: s}}`` as one JSON line to the file named by ``$BRAINBENCH_STAGE_LOG``
    (nothing when it is unset); a file that cannot be written is one warning, never a failed score."""
    target = os.environ.get(LOG_VARIABLE)
    if not target:
        return
    line = json.dumps({"pid": os.getpid(), "seconds": clock.seconds}) + "\n"
    try:
        with open(target, "a", encoding="utf-8") as log:
            log.write(line)
    except OSError as exc:
        logger.warning("Could not append the stage timings to %s (%s).", target, exc.strerror or exc)
