"""``score``: a model × benchmarks → leaderboard records. The one place that joins data, models and metrics."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import torch

import brainbench
from brainbench import paths
from brainbench.benchmarks.kinds import KINDS
from brainbench.benchmarks.spec import BenchmarkSpec, resolve_benchmarks
from brainbench.data import Dataset, load_dataset
from brainbench.data.stimuli import StimulusSet, content_digest
from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord
from brainbench.models.activations import extract_activations
from brainbench.models.device import resolve_device
from brainbench.models.registry import Model, resolve_model

#: Called with a task's description and total; returns a function that advances it by n items.
ProgressFactory = Callable[[str, int], Callable[[int], None]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _environment() -> dict[str, str]:
    import timm

    return {"python": platform.python_version(), "torch": torch.__version__, "timm": timm.__version__}


def score(
    model: str | Model,
    benchmarks: Sequence[str],
    *,
    weights: str | Path | None = None,
    random_init: bool = False,
    layers: Sequence[str] | None = None,
    visual_degrees: float | None = None,
    device: str | None = None,
    seed: int = 0,
    data_mirrors: Sequence[str | Path] = (),
    leaderboard: Leaderboard | str | Path | None = None,
    save: bool = True,
    batch_size: int = 32,
    progress: ProgressFactory | None = None,
) -> list[ScoreRecord]:
    """Score ``model`` on each benchmark (ids or wildcard patterns) and append the records.

    Everything is computed before anything is written: a failure leaves the leaderboard untouched.
    Returns the records in benchmark order (with ids when saved).
    """
    specs = resolve_benchmarks(benchmarks)
    for spec in specs:
        if spec.kind not in KINDS:
            raise BrainbenchError(f"Benchmark {spec.id} has kind '{spec.kind}', which this brainbench cannot run.")
    board = None
    if save:  # fail before the work, not after it, when the leaderboard file is unusable
        board = leaderboard if isinstance(leaderboard, Leaderboard) else Leaderboard(leaderboard)
        board.check()
    torch_device = resolve_device(device)
    resolved = model if isinstance(model, Model) else resolve_model(
        model, weights=weights, random_init=random_init, layers=layers, visual_degrees=visual_degrees, seed=seed
    )
    mirrors = paths.mirror_dirs(list(data_mirrors))
    datasets: dict[str, Dataset] = {}
    cached: dict[tuple[str, float], dict[str, torch.Tensor]] = {}
    timings: dict[str, float] = {}

    def activations(stimuli: StimulusSet, degrees: float) -> dict[str, torch.Tensor]:
        key = (content_digest(stimuli), degrees)
        if key not in cached:
            start = time.perf_counter()
            advance = progress(f"{resolved.identifier}: activations ({len(stimuli)} images)", len(stimuli)) \
                if progress else None
            cached[key] = extract_activations(
                resolved, stimuli, degrees, device=torch_device, batch_size=batch_size, progress=advance
            )
            timings["activations"] = time.perf_counter() - start
        return cached[key]

    records = []
    for spec in specs:
        started, start = _now(), time.perf_counter()
        timings.clear()
        if spec.dataset not in datasets:
            datasets[spec.dataset] = load_dataset(spec.dataset, mirrors=mirrors)
        dataset = datasets[spec.dataset]
        outcome = KINDS[spec.kind](spec, dataset, activations, torch_device)
        records.append(_record(resolved, spec, dataset, outcome, seed, torch_device, started, start, timings))
    if board is not None:
        ids = board.append(records)
        for record, record_id in zip(records, ids, strict=True):
            record.id = record_id
    return records


def _record(model: Model, spec: BenchmarkSpec, dataset: Dataset, outcome, seed: int, device: torch.device,
            started: str, start: float, timings: dict[str, float]) -> ScoreRecord:
    total = time.perf_counter() - start
    return ScoreRecord(
        model=model.identifier,
        weights_digest=model.weights_digest,
        random_init=model.random_init,
        benchmark=spec.id,
        benchmark_version=spec.version,
        region=spec.region,
        raw=outcome.raw,
        ceiling=outcome.ceiling,
        ceiled=outcome.ceiled,
        error=outcome.error,
        layer=outcome.layer,
        brainbench_version=brainbench.__version__,
        seed=seed,
        device=str(device),
        started_at=started,
        finished_at=_now(),
        details={
            **outcome.details,
            "model": {
                "architecture": model.architecture, "weights_origin": model.weights_origin,
                "visual_degrees": model.visual_degrees, "preprocessing": model.preprocessing.to_dict(),
                "candidate_layers": model.layers,
            },
            "benchmark_parameters": spec.parameters(),
            "dataset": {"name": dataset.manifest.name, "checksums": dataset.manifest.checksums},
            "seconds": {**timings, "total": total},
            "environment": _environment(),
        },
    )
