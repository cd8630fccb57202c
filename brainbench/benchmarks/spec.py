"""Benchmark definitions (benchmarks/*.toml): what is scored, never how."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brainbench.definitions import DefinitionFile, definition_files, read_toml, unique_by
from brainbench.errors import BrainbenchError, unknown
from brainbench.leaderboard import REGIONS
from brainbench.leaderboard.record import default_column

#: A benchmark TOML's ``column = "none"``: its scores feed no leaderboard column (shown under --benchmarks only).
NO_COLUMN = "none"


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark: ``<Dataset>.<region>-<metric>``, its kind, data, and parameters."""

    id: str
    version: int
    kind: str
    region: str
    dataset: str
    assembly: str
    stimulus_degrees: float
    description: str = ""
    citation: str = ""
    metric: dict[str, Any] = field(default_factory=dict)
    layer_selection: dict[str, Any] = field(default_factory=dict)
    ceiling: dict[str, Any] = field(default_factory=dict)
    column: str | None = None  # the TOML's ``column``: one of REGIONS, or "none"; None when it names none
    definition: DefinitionFile | None = field(default=None, compare=False)  # the file it was read from, if any

    def feeds(self, ceiling: float | None) -> str | None:
        """The leaderboard column a score of this benchmark is averaged into, given the score's ceiling.

        The TOML's ``column`` when it names one ("none": no column); otherwise the benchmark's region when the
        score was ceiled, and no column when it was not: a column averages ceiled scores only, and an un-ceiled
        benchmark is shown (``leaderboard --benchmarks``) but not averaged unless its definition says so.
        """
        if self.column is not None:
            return None if self.column == NO_COLUMN else self.column
        return default_column(self.region, ceiling)

    def parameters(self) -> dict[str, Any]:
        """Every parameter that can move the score, as recorded with it."""
        return {"metric": self.metric, "layer_selection": self.layer_selection, "ceiling": self.ceiling,
                "stimulus_degrees": self.stimulus_degrees}


def parse_benchmark(raw: dict[str, Any], origin: Path | str = "<benchmark>",
                    definition: DefinitionFile | None = None) -> BenchmarkSpec:
    """Build a BenchmarkSpec from parsed TOML, checking its fields."""
    try:
        spec = BenchmarkSpec(
            id=str(raw["id"]), version=int(raw["version"]), kind=str(raw["kind"]), region=str(raw["region"]),
            dataset=str(raw["dataset"]), assembly=str(raw["assembly"]),
            stimulus_degrees=float(raw["stimulus_degrees"]), description=str(raw.get("description", "")),
            citation=str(raw.get("citation", "")), metric=dict(raw.get("metric", {})),
            layer_selection=dict(raw.get("layer_selection", {})), ceiling=dict(raw.get("ceiling", {})),
            column=None if raw.get("column") is None else str(raw["column"]), definition=definition,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrainbenchError(f"Benchmark definition {origin} is malformed (missing or bad field {exc}).") from exc
    if spec.region not in REGIONS:
        raise BrainbenchError(f"Benchmark {spec.id}: region '{spec.region}' is not one of {', '.join(REGIONS)}.")
    if spec.column is not None and spec.column not in (*REGIONS, NO_COLUMN):
        raise BrainbenchError(f"Benchmark {spec.id}: column '{spec.column}' is not one of {', '.join(REGIONS)} or "
                              f"'{NO_COLUMN}' (the leaderboard column it feeds).")
    return spec


def list_benchmarks(definitions: Sequence[str | Path] = ()) -> dict[str, BenchmarkSpec]:
    """Every benchmark brainbench knows, by id: built-in and user definitions (``definitions``: the ``--definitions``
    folders; see :mod:`brainbench.definitions`). An id defined twice is refused, naming both files."""
    specs = [parse_benchmark(read_toml(f.path), f.path, f) for f in definition_files("benchmarks", definitions)]
    known = unique_by(((s.id, s.definition, s) for s in specs), "benchmark")
    return {i: known[i] for i in sorted(known)}


def resolve_benchmarks(patterns: Sequence[str], definitions: Sequence[str | Path] = ()) -> list[BenchmarkSpec]:
    """Benchmarks named by ids or wildcard patterns (``'Geirhos2019.*'``), in order, without repeats."""
    known = list_benchmarks(definitions)
    chosen: dict[str, BenchmarkSpec] = {}
    for pattern in patterns:
        matches = [b for b in known if fnmatch.fnmatchcase(b, pattern)]
        if not matches:
            raise unknown("benchmark", pattern, known, "See `brainbench benchmarks list`.")
        chosen |= {b: known[b] for b in matches}
    return list(chosen.values())
