"""Two sessions drawing the same stimulus cache file: a reader that looks in while a writer publishes its file never
pulls it from under the writer (it did: the reader took the new file without its checksum for a damaged one and
deleted it, and the writer's own read of its file then failed with FileNotFoundError)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from brainbench.data import cache_files, gratings


class StillDrawing(Exception):
    """Stops a reader's drawing: it is still at it when the writer goes on."""


def test_a_reader_looking_in_at_every_step_of_a_writers_publishing_deletes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = np.concatenate([b.numpy() for b in gratings.model_input_batches(
        gratings.experiment("receptive_field").table, 8.0, 32)]).astype(np.uint8)
    drawing, replacing, prefix = gratings.model_input_batches, cache_files.replacing, cache_files.partial_prefix
    looks: list[list[str]] = []

    def reader_still_drawing() -> None:
        """Another session's `experiment_batches` on the same file, interrupted if it starts drawing."""
        def stalled(*args: object, **kwargs: object) -> Iterator[object]:
            raise StillDrawing
            yield

        def other_process(kind: str = "partial") -> str:  # its partial names are its own, as another pid's are
            return prefix(kind).replace(f"-{os.getpid()}@", f"-{os.getppid()}@")

        looks.append(sorted(p.name for p in tmp_path.iterdir()))
        monkeypatch.setattr(gratings, "model_input_batches", stalled)
        monkeypatch.setattr(cache_files, "partial_prefix", other_process)
        try:
            list(gratings.experiment_batches("receptive_field", 8.0, 32, cache_dir=tmp_path))
        except StillDrawing:
            pass
        finally:
            monkeypatch.setattr(gratings, "model_input_batches", drawing)
            monkeypatch.setattr(cache_files, "partial_prefix", prefix)

    @contextmanager
    def replacing_then_a_reader(target: Path, what: str) -> Iterator[Path]:
        with replacing(target, what) as partial:
            yield partial
        reader_still_drawing()  # right after `target` was renamed into place

    monkeypatch.setattr(cache_files, "replacing", replacing_then_a_reader)
    caplog.set_level(logging.WARNING, logger="brainbench")

    batches = gratings.experiment_batches("receptive_field", 8.0, 32, batch_size=500, cache_dir=tmp_path)
    got = np.concatenate([b.numpy() for b in batches]).astype(np.uint8)

    assert len(looks) == 2  # after the checksum and after the stimuli were put in place
    assert np.array_equal(got, expected)  # pixel values: exact, the same uint8 drawing
    name = f"receptive_field-v{gratings.DRAWING_VERSION}-8deg-32px.npy"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, f"{name}.json"]
    assert not [r for r in caplog.records if r.name.startswith("brainbench")]  # no reader took it for a bad file
