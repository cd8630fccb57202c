"""One benchmark score of one model, with everything needed to reproduce and audit it."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: The leaderboard's region columns, in display order; every benchmark belongs to one of them.
REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT", "behavior")


@dataclass
class ScoreRecord:
    """A score as stored on the leaderboard; scores are unitless (typically 0..1), times are ISO-8601 UTC."""

    model: str  # model id as the user named it, e.g. 'efficientnet_lite0' or 'timm:resnet18'
    weights_digest: str  # sha256 hex of the weights scored
    random_init: bool  # True when the weights were randomly initialised rather than trained
    benchmark: str  # e.g. 'Kiani2007.IT-rsa'
    benchmark_version: int
    region: str  # the benchmark's parent, one of REGIONS
    raw: float  # metric value before ceiling normalisation
    ceiling: float | None  # noise ceiling of the data; None when the benchmark has none
    ceiled: float  # the score that ranks: raw normalised by the ceiling
    error: float | None  # uncertainty of the ceiled score (e.g. s.e.m. across splits), if known
    layer: str | None  # model layer the score was read from; None for behavioural benchmarks
    brainbench_version: str
    seed: int
    device: str  # e.g. 'cpu' or 'cuda:0'
    started_at: str
    finished_at: str
    details: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable provenance
    id: int | None = None  # assigned by the store

    @property
    def model_label(self) -> str:
        """The model id, marked ' (random-init)' for randomly initialised weights."""
        return f"{self.model} (random-init)" if self.random_init else self.model

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (details deep-copied); JSON-serialisable when details are."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreRecord:
        """Inverse of :meth:`to_dict`; ``id`` may be absent."""
        return cls(**{**data, "details": copy.deepcopy(data.get("details", {}))})


def details_json(details: dict[str, Any]) -> str:
    """``details`` as JSON text; NumPy scalars and arrays (anything with ``tolist``) become plain values."""
    return json.dumps(details, default=_plain)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Score details hold a {type(value).__name__}, which cannot be written as JSON.")
