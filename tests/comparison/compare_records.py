"""Score records built by hand for the comparison tests, with the details real benchmarks write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from brainbench.leaderboard.record import ScoreRecord

DIGESTS = {"alexnet": "a" * 64, "resnet": "b" * 64, "resnet-random": "c" * 64}


def record(model: str, benchmark: str, ceiled: float, details: dict[str, Any], *, region: str = "IT",
           version: int = 1, random_init: bool = False, digest: str | None = None, seed: int = 0,
           ceiling: float | None = 0.8, error: float | None = 0.01, layer: str | None = "layer4") -> ScoreRecord:
    """A record of ``model`` on ``benchmark`` (raw = ceiled · ceiling), finished at a fixed time."""
    return ScoreRecord(
        model=model, weights_digest=digest or DIGESTS.get(model, "d" * 64), random_init=random_init,
        benchmark=benchmark, benchmark_version=version, region=region,
        raw=ceiled * (ceiling or 1.0), ceiling=ceiling, ceiled=ceiled, error=error, layer=layer,
        brainbench_version="0.1.0", seed=seed, device="cpu", started_at="2026-12-06T00:00:00+00:00",
        finished_at="2026-12-06T00:01:00+00:00", details=details,
    )


def neural_details(split_ceiled: Sequence[float], n_stimuli: int = 640, n_neuroids: int = 88) -> dict[str, Any]:
    """What benchmarks/neural.py records beside the score (the parts the fold-level test reads)."""
    return {"regression": "pls", "split_medians": [0.5] * len(split_ceiled), "split_ceiled": list(split_ceiled),
            "n_stimuli": n_stimuli, "n_neuroids": n_neuroids, "column": "V4"}


def rsa_details(fold_ceiled: Sequence[float], split_seed: int = 0, n_stimuli: int = 92) -> dict[str, Any]:
    """What the RSA kind records: per (halving, direction) ceiled scores."""
    return {"comparison": "spearman", "fold_ceiled": list(fold_ceiled), "split_seed": split_seed,
            "n_stimuli": n_stimuli, "column": "IT"}


def error_consistency_details(kappas: dict[str, float]) -> dict[str, Any]:
    """What the error-consistency kind records: each observer's κ with the model."""
    return {"kappa_per_observer": dict(kappas), "n_images": 160, "n_observers": len(kappas), "column": "behavior"}
