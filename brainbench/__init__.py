"""brainbench: how brain-like is this vision model?

The Python API that the ``brainbench`` command is a thin layer over. Names are imported on first
use, so ``import brainbench`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    "score": "brainbench.benchmarks.scoring",
    "compare": "brainbench.comparison.compare",
    "Leaderboard": "brainbench.leaderboard",
    "ScoreRecord": "brainbench.leaderboard",
    "list_models": "brainbench.models.registry",
    "resolve_model": "brainbench.models.registry",
    "list_benchmarks": "brainbench.benchmarks.spec",
    "load_dataset": "brainbench.data",
    "register_model": "brainbench.models.plugins",
}

__all__ = [
    "Leaderboard",
    "ScoreRecord",
    "__version__",
    "compare",
    "list_benchmarks",
    "list_models",
    "load_dataset",
    "register_model",
    "resolve_model",
    "score",
]

if TYPE_CHECKING:
    from brainbench.benchmarks.scoring import score
    from brainbench.benchmarks.spec import list_benchmarks
    from brainbench.comparison.compare import compare
    from brainbench.data import load_dataset
    from brainbench.leaderboard import Leaderboard, ScoreRecord
    from brainbench.models.plugins import register_model
    from brainbench.models.registry import list_models, resolve_model


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'brainbench' has no attribute '{name}'")
