"""Simulated behavioural experiments for the paired-test tests: 4-category cue-conflict images with human observers
(shape bias, error consistency) and 2AFC object trials (i2n), scored by the real benchmark code."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import xarray as xr

from brainbench.benchmarks.behavior import i2n_units, run_error_consistency, run_shape_bias
from brainbench.benchmarks.spec import parse_benchmark
from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import DataFile, Manifest
from brainbench.data.stimuli import StimulusSet
from brainbench.leaderboard.record import ScoreRecord
from brainbench.metrics.behavior import TwoAfcTrials, i2n

CATEGORIES = np.array(["airplane", "bear", "bicycle", "bird"])
FIRST_CLASS = {"airplane": 10, "bear": 20, "bicycle": 30, "bird": 40}
MAPPING = xr.DataArray(np.zeros(4), dims="imagenet_index", coords={
    "imagenet_index": list(FIRST_CLASS.values()), "category": ("imagenet_index", list(CATEGORIES))})


def spec(kind: str) -> object:
    return parse_benchmark({"id": f"Test.{kind}", "version": 1, "kind": kind, "region": "behavior",
                            "dataset": "test", "assembly": "Test.trials", "stimulus_degrees": 8.0})


def dataset(shapes: np.ndarray, textures: np.ndarray, responses: np.ndarray) -> Dataset:
    """responses: (n_observers, n_images) category names chosen by each observer (each saw each image once)."""
    ids = [f"img{i}" for i in range(len(shapes))]
    meta = pd.DataFrame({"shape": shapes, "texture": textures}, index=pd.Index(ids, name="stimulus_id"))
    n_obs, n_img = responses.shape
    trials = xr.DataArray(
        (responses == shapes[None]).astype(float).ravel(), dims="presentation",
        coords={"subject": ("presentation", np.repeat([f"s{k}" for k in range(n_obs)], n_img)),
                "stimulus_id": ("presentation", np.tile(ids, n_obs)),
                "response": ("presentation", responses.ravel()),
                "category": ("presentation", np.tile(shapes, n_obs))})
    return Dataset(Manifest("test", "test", "none", (DataFile("x", sha256="0" * 64),)),
                   StimulusSet("test", meta, lambda s: None), {"Test.trials": trials, "imagenet_16class": MAPPING})


def outputs(decisions: np.ndarray) -> Callable[[StimulusSet, float], torch.Tensor]:
    """A model's ImageNet logits whose 16-class decision is ``decisions``."""
    logits = np.zeros((len(decisions), 1000))  # float64 through numpy: .double() has nothing to convert
    logits[np.arange(len(decisions)), [FIRST_CLASS[d] for d in decisions]] = 12.0
    return lambda stimuli, degrees: torch.from_numpy(logits)


def record(out: dict, kind: str) -> ScoreRecord:
    """A leaderboard record of a kind's output."""
    return ScoreRecord(model="m", weights_digest="0" * 64, random_init=False, benchmark=f"Test.{kind}",
                       benchmark_version=1, region="behavior", raw=out["raw"], ceiling=out["ceiling"],
                       ceiled=out["ceiled"], error=out["error"], layer=out["layer"], brainbench_version="0", seed=0,
                       device="cpu", started_at="", finished_at="", details=out["details"], units=out["units"])


class CueConflict:
    """Images with a shape and (mostly) a different texture category and a per-image shape strength shared by every
    decision maker; a decision is the shape with probability sigmoid(strength + offset [+ noise]), else the texture
    with half the rest, else another category."""

    def __init__(self, rng: np.random.Generator, n_images: int = 48, n_observers: int = 5, conflict_free: int = 4,
                 strength_sd: float = 1.5):
        self.rng = rng
        self.shapes = rng.choice(CATEGORIES, n_images)
        self.textures = np.array([rng.choice([c for c in CATEGORIES if c != s]) for s in self.shapes])
        self.textures[:conflict_free] = self.shapes[:conflict_free]
        self.strength = rng.normal(0, strength_sd, n_images)
        self.humans = self.decide(1.0, 0.0, (n_observers, n_images))

    def decide(self, offset: float, noise: float, size: tuple[int, ...] | None = None) -> np.ndarray:
        size = size or self.shapes.shape
        p_shape = 1 / (1 + np.exp(-(self.strength + offset + noise * self.rng.standard_normal(self.shapes.shape))))
        draw = self.rng.random(size)
        other = self.rng.choice(CATEGORIES, size)
        return np.where(draw < p_shape, self.shapes, np.where(draw < p_shape + (1 - p_shape) / 2, self.textures,
                                                                other))

    def shape_bias(self, decisions: np.ndarray) -> ScoreRecord:
        data = dataset(self.shapes, self.textures, self.humans)
        return record(run_shape_bias(spec("behavior_shape_bias"), data, outputs(decisions), "m"),
                      "behavior_shape_bias")

    def error_consistency(self, decisions: np.ndarray) -> ScoreRecord:
        """Correct = the shape category; the textures are not offered as truths here."""
        data = dataset(self.shapes, self.shapes, self.humans)
        return record(run_error_consistency(spec("behavior_error_consistency"), data, outputs(decisions), "m"),
                      "behavior_error_consistency")


class TwoAfc:
    """2AFC object trials: 4 objects × ``images_per_object`` images, every image against every distractor
    ``trials_per_cell`` times; humans choose the distractor with probability sigmoid(difficulty − 2)."""

    def __init__(self, rng: np.random.Generator, images_per_object: int = 4, trials_per_cell: int = 30):
        self.rng = rng
        self.objects = np.array(["a", "b", "c", "d"])
        self.truth = np.repeat(np.arange(4), images_per_object)
        self.ids = np.array([f"im{i:02d}" for i in range(len(self.truth))])
        self.difficulty = rng.normal(0, 1.5, (len(self.truth), 4))
        cells = [(i, d) for i in range(len(self.truth)) for d in range(4) if d != self.truth[i]]
        image = np.repeat([i for i, _ in cells], trials_per_cell)
        distractor = np.repeat([d for _, d in cells], trials_per_cell)
        order = rng.permutation(len(image))
        image, distractor = image[order], distractor[order]
        chose = rng.random(len(image)) < 1 / (1 + np.exp(2 - self.difficulty[image, distractor]))
        self.trials = TwoAfcTrials(self.ids[image], self.objects[self.truth[image]], self.objects[distractor],
                                   np.where(chose, self.objects[distractor], self.objects[self.truth[image]]))

    def i2n(self, noise: float) -> ScoreRecord:
        """A model whose choice logits are the humans' difficulty plus ``noise`` × independent normal noise."""
        logits = self.difficulty + noise * self.rng.standard_normal(self.difficulty.shape)
        logits[np.arange(len(self.truth)), self.truth] = 2.5
        probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        result = i2n(probabilities, self.ids, self.objects, self.trials)
        return record({"raw": result.raw, "ceiling": result.ceiling, "ceiled": result.ceiled, "error": result.error,
                       "layer": None, "details": {"unit_test": "i2n"}, "units": i2n_units(result)}, "behavior_i2n")
