"""One benchmark score of one model, with everything needed to reproduce and audit it."""

from __future__ import annotations

import copy
import json
import math
import numbers
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from brainbench.errors import BrainbenchError

#: The leaderboard's region columns, in display order. A benchmark's region is free text (EVC, FFA, hV4, ...); the
#: column it feeds, if any, is one of these (``details["column"]``).
REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT", "behavior")


def default_column(region: str, ceiling: float | None) -> str | None:
    """The leaderboard column a score feeds when its benchmark names none: its region when that is one of REGIONS
    and the score has a ceiling, else none — a column averages ceiled scores only."""
    return region if ceiling is not None and region in REGIONS else None


def new_uid() -> str:
    """A fresh record uid: a random UUID as its canonical 36-character text."""
    return str(uuid.uuid4())


@dataclass
class ScoreRecord:
    """A score as stored on the leaderboard; scores are unitless (typically 0..1), times are ISO-8601 UTC."""

    model: str  # model id as the user named it, e.g. 'efficientnet_lite0' or 'timm:resnet18'
    weights_digest: str  # sha256 hex of the weights scored
    random_init: bool  # True when the weights were randomly initialised rather than trained
    benchmark: str  # e.g. 'Kiani2007.IT-rsa'
    benchmark_version: int
    region: str  # the benchmark's brain region, free text (V4, IT, EVC, FFA, ...); the column it feeds: details
    raw: float  # metric value before ceiling normalisation
    ceiling: float | None  # noise ceiling of the data; None when the benchmark has none
    ceiled: float  # the score that ranks: raw normalised by the ceiling
    error: float | None  # SEM (ddof=1) of the per-unit ceiled scores (details['error_method']); None if < 2 units
    layer: str | None  # model layer the score was read from; None for behavioural benchmarks
    brainbench_version: str
    seed: int
    device: str  # e.g. 'cpu' or 'cuda:0'
    started_at: str
    finished_at: str
    details: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable provenance
    # Per-unit results that a paired comparison resamples (name → NumPy array, e.g. per split × neuroid r); the
    # test that reads them is named by details['unit_test'] (brainbench.comparison.unit_tests). Empty: none stored.
    units: dict[str, Any] = field(default_factory=dict, compare=False)  # arrays: == compares the scalar fields
    uid: str = field(default_factory=new_uid)  # unique for good, assigned when the record is made; survives export
    id: int | None = None  # assigned by the store; local to one leaderboard file

    @property
    def model_label(self) -> str:
        """The model id, marked ' (random-init)' for randomly initialised weights."""
        return f"{self.model} (random-init)" if self.random_init else self.model

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (details deep-copied); JSON-serialisable when details are."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreRecord:
        """Inverse of :meth:`to_dict`; ``id`` may be absent, and so may ``uid`` (a new one is made)."""
        return cls(**{**data, "details": copy.deepcopy(data.get("details", {}))})


def validated(record: ScoreRecord) -> ScoreRecord:
    """``record`` itself, or BrainbenchError naming the benchmark if it cannot go on the leaderboard."""
    if not isinstance(record.model, str) or not record.model.strip():
        raise BrainbenchError(
            f"A score of benchmark '{record.benchmark}' has an empty model name; name the model."
        )
    if not isinstance(record.benchmark, str) or not record.benchmark.strip():
        raise BrainbenchError(
            f"A score of model '{record.model}' has an empty benchmark name; name the benchmark."
        )
    if not isinstance(record.region, str) or not record.region.strip():
        raise BrainbenchError(
            f"The score of model '{record.model}' on '{record.benchmark}' has region {record.region!r}; name the "
            "benchmark's brain region (e.g. V4, IT, EVC); nothing was written to the leaderboard."
        )
    column = record.details.get("column") if isinstance(record.details, dict) else None
    if column is not None and column not in REGIONS:
        raise BrainbenchError(
            f"The score of model '{record.model}' on '{record.benchmark}' feeds column {column!r}, which is not one "
            f"of {', '.join(REGIONS)} (or null: none); nothing was written to the leaderboard."
        )
    for name in ("raw", "ceiled", "ceiling", "error"):
        value = getattr(record, name)
        if (value is not None or name in ("raw", "ceiled")) and not _finite(value):
            raise BrainbenchError(
                f"Benchmark '{record.benchmark}' gave model '{record.model}' a non-finite {name} "
                f"score ({value}); nothing was written to the leaderboard."
            )
    if record.ceiling is not None and record.ceiling <= 0:  # `metrics.ceiling.ceil` refuses to ceil by one
        raise BrainbenchError(
            f"Benchmark '{record.benchmark}' gave model '{record.model}' a ceiling of {record.ceiling} (≤ 0), from "
            "which no ceiled score is defined; nothing was written to the leaderboard."
        )
    wrong = _mistyped_field(record)
    if wrong is not None:
        raise BrainbenchError(
            f"The score of model '{record.model}' on '{record.benchmark}' has {wrong[0]} = {wrong[1]!r}, which is "
            f"not {wrong[2]}; nothing was written to the leaderboard."
        )
    try:
        uuid.UUID(record.uid)
    except (TypeError, ValueError, AttributeError):
        raise BrainbenchError(
            f"The score of model '{record.model}' on '{record.benchmark}' has uid {record.uid!r}, which is not a "
            "UUID; give it a new one (brainbench.leaderboard.record.new_uid())."
        ) from None
    return record


def _mistyped_field(record: ScoreRecord) -> tuple[str, Any, str] | None:
    """The first field whose type the store and the ranking cannot take (name, value, what it must be), or None.

    Records made by brainbench are always well typed; this guards files brought in by ``leaderboard import``.
    """
    for name in ("weights_digest", "brainbench_version", "device", "started_at", "finished_at"):
        if not isinstance(getattr(record, name), str):
            return name, getattr(record, name), "text"
    if record.layer is not None and not isinstance(record.layer, str):
        return "layer", record.layer, "text or null"
    for name in ("benchmark_version", "seed"):
        if not isinstance(getattr(record, name), numbers.Integral) or isinstance(getattr(record, name), bool):
            return name, getattr(record, name), "a whole number"
    if record.random_init not in (True, False):
        return "random_init", record.random_init, "true or false"
    if not isinstance(record.details, dict):
        return "details", record.details, "a JSON object"
    return None


def details_json(details: dict[str, Any]) -> str:
    """``details`` as JSON text; NumPy scalars and arrays (anything with ``tolist``) become plain values."""
    return json.dumps(details, default=_plain)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"Score details hold a {type(value).__name__}, which cannot be written as JSON.")


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except TypeError:
        return False
