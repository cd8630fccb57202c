"""A sweep's plan: jobs of (model request × the benchmarks of one dataset), less what the leaderboard already holds."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainbench.benchmarks.spec import resolve_benchmarks
from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord
from brainbench.leaderboard.identity import ModelEntry
from brainbench.sweep.requests import ModelRequest


@dataclass(frozen=True)
class Job:
    """One unit of work: ``model`` scored on ``benchmarks`` (ids), all of one dataset, so one job reads that dataset
    and computes the model's activations on its stimuli once."""

    index: int
    model: ModelRequest
    benchmarks: tuple[str, ...]
    dataset: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "model": self.model.to_dict(), "benchmarks": list(self.benchmarks),
                "dataset": self.dataset}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(int(data["index"]), ModelRequest.from_dict(data["model"]), tuple(data["benchmarks"]),
                   str(data["dataset"]))


@dataclass(frozen=True)
class Skipped:
    """A (model, benchmark) left out because the leaderboard has its score: ``record`` is the stored one."""

    model: ModelRequest
    benchmark: str
    record: int | None
    version: int

    @property
    def reason(self) -> str:
        return f"record {self.record} holds v{self.version} for the same model key and seed"


@dataclass(frozen=True)
class Plan:
    """The jobs to run, in order, and the (model, benchmark) pairs skipped."""

    jobs: tuple[Job, ...]
    skipped: tuple[Skipped, ...]


def model_key(request: ModelRequest) -> ModelEntry:
    """The leaderboard key of the model ``request`` builds (:class:`ModelEntry`: id, weights digest, random-init,
    visual degrees, chosen layers, preprocessing), read off the model itself, built on the CPU.

    The weights digest is a hash of the built module's state_dict: even a random-init network's depends on its
    library's initialisation code, not only on the seed, so nothing short of building it gives the key honestly.
    """
    from brainbench.models.registry import resolve_model

    model = resolve_model(request.model, weights=request.weights, random_init=request.random_init,
                          layers=request.layers, visual_degrees=request.visual_degrees, seed=request.seed)
    # As a record stores it (benchmarks/scoring.py, ``details['model']``), through JSON as the leaderboard reads it.
    about = json.loads(json.dumps({"visual_degrees": model.visual_degrees, "candidate_layers": model.layers,
                                   "layers_given": model.layers_given,
                                   "preprocessing": model.preprocessing.to_dict()}))
    return ModelEntry(
        model=request.model, weights_digest=model.weights_digest, random_init=model.random_init,
        visual_degrees=float(about["visual_degrees"]),
        layers=tuple(about["candidate_layers"]) if about["layers_given"] else None,
        preprocessing_json=json.dumps(about["preprocessing"], sort_keys=True),
    )


def make_plan(models: Sequence[ModelRequest], patterns: Sequence[str], board: Leaderboard | None,
              definitions: Sequence[str | Path] = (),
              key_of: Callable[[ModelRequest], ModelEntry] = model_key) -> Plan:
    """Jobs for every model request × dataset of the benchmarks ``patterns`` name (ids or wildcards), each job holding
    that dataset's benchmarks that are not done yet.

    A (model, benchmark) is done when ``board`` holds a record of the benchmark's current version, of the same seed
    and of the same model key; ``board=None`` (``--force``) redoes everything. The key needs the model's weights
    digest, so a model is built (on the CPU, by ``key_of``) only when some record of its id, random-init and seed at
    the benchmark's current version is there to compare with: a first sweep builds none. A model that cannot be built
    here is planned in full: its job fails with the reason, without stopping the other jobs.
    """
    if not models:
        raise BrainbenchError("A sweep needs at least one model: -m MODEL or [[models]] in a sweep file.")
    if not patterns:
        raise BrainbenchError("A sweep needs benchmarks: -b PATTERN or benchmarks = [...] in a sweep file.")
    specs = resolve_benchmarks(patterns, definitions)
    jobs: list[Job] = []
    skipped: list[Skipped] = []
    for request in models:
        stored = _stored(board, request)
        key: ModelEntry | None = None
        unbuildable = False
        to_do: dict[str, list[str]] = {}
        for spec in specs:
            candidates = [r for r in stored if r.benchmark == spec.id and r.benchmark_version == spec.version]
            if candidates and key is None and not unbuildable:
                try:
                    key = key_of(request)
                except BrainbenchError:  # not done, then: its job meets the same error and reports it
                    unbuildable = True
            done = next((r for r in reversed(candidates) if ModelEntry.of(r) == key), None)
            if done is not None:
                skipped.append(Skipped(request, spec.id, done.id, spec.version))
            else:
                to_do.setdefault(spec.dataset, []).append(spec.id)
        jobs += [Job(len(jobs) + i, request, tuple(ids), dataset) for i, (dataset, ids) in enumerate(to_do.items())]
    return Plan(tuple(jobs), tuple(skipped))


def _stored(board: Leaderboard | None, request: ModelRequest) -> list[ScoreRecord]:
    """The records that may hold ``request``'s scores: same model id, random-init and seed."""
    if board is None:
        return []
    return [r for r in board.records(model=request.model)
            if bool(r.random_init) == request.random_init and r.seed == request.seed]

