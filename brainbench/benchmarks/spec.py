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
#: ``[ceiling] method`` of a ceiling taken from the literature (``value``, ``citation``) rather than computed.
PUBLISHED = "published"
#: The ``[ceiling] method`` values each kind computes or takes, the default first (kinds not named here define theirs).
CEILING_METHODS: dict[str, tuple[str, ...]] = {
    "rsa": ("none", "nili_upper", "nili_lower", PUBLISHED),
    "neural": ("internal_consistency", "none", PUBLISHED),
}
#: RSA ``[metric] comparison`` values: how a model RDM is compared with each subject's (`metrics.rdm.METHODS`).
RSA_COMPARISONS: tuple[str, ...] = ("spearman", "kendall_tau_a", "pearson")


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark: ``<Dataset>.<region>-<metric>``, its kind, data, and parameters."""

    id: str
    version: int
    kind: str
    region: str  # free text (V1, IT, EVC, FFA, hV4, ...); the column it feeds is `feeds`
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

    @property
    def ceiling_method(self) -> str:
        """``[ceiling] method``, or the kind's default (the first of CEILING_METHODS; '' for other kinds)."""
        return str(self.ceiling.get("method", CEILING_METHODS.get(self.kind, ("",))[0]))

    @property
    def published_ceiling(self) -> tuple[float, str] | None:
        """(value, citation) of a published ceiling (``method = "published"``), else None."""
        if self.ceiling_method != PUBLISHED:
            return None
        return float(self.ceiling["value"]), str(self.ceiling["citation"])

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
    if not spec.region.strip():
        raise BrainbenchError(f"Benchmark {spec.id}: region is empty; name the brain region (e.g. V4, IT, EVC, FFA).")
    if spec.column is not None and spec.column not in (*REGIONS, NO_COLUMN):
        raise BrainbenchError(f"Benchmark {spec.id}: column '{spec.column}' is not one of {', '.join(REGIONS)} or "
                              f"'{NO_COLUMN}' (the leaderboard column it feeds).")
    _check_published_ceiling(spec)
    if spec.kind == "rsa":
        _check_rsa_metric(spec)
    return spec


def _check_published_ceiling(spec: BenchmarkSpec) -> None:
    """A published ceiling names its value (in (0, 1], the metric's own units) and where it was published."""
    if spec.ceiling.get("method") != PUBLISHED:
        return
    if PUBLISHED not in CEILING_METHODS.get(spec.kind, ()):
        raise BrainbenchError(f"Benchmark {spec.id}: a published ceiling is for rsa and neural benchmarks, not "
                              f"{spec.kind}.")
    value = spec.ceiling.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise BrainbenchError(f"Benchmark {spec.id}: [ceiling] value = {value!r}; a published ceiling needs a value "
                              "in (0, 1].")
    citation = spec.ceiling.get("citation")
    if not isinstance(citation, str) or not citation.strip():
        raise BrainbenchError(f"Benchmark {spec.id}: a published ceiling needs [ceiling] citation = \"...\" (where "
                              "its value was published).")


def _check_rsa_metric(spec: BenchmarkSpec) -> None:
    """``comparison`` is one of RSA_COMPARISONS; ``squared = true`` only with a published ceiling (an R²)."""
    comparison = spec.metric.get("comparison", "spearman")
    if comparison not in RSA_COMPARISONS:
        raise BrainbenchError(f"Benchmark {spec.id}: [metric] comparison = {comparison!r} is not one of "
                              f"{', '.join(RSA_COMPARISONS)}.")
    squared = spec.metric.get("squared", False)
    if not isinstance(squared, bool):
        raise BrainbenchError(f"Benchmark {spec.id}: [metric] squared = {squared!r} is not true or false.")
    if squared and spec.ceiling_method != PUBLISHED:
        raise BrainbenchError(f"Benchmark {spec.id}: squared = true needs a published R² ceiling ([ceiling] method = "
                              f"\"{PUBLISHED}\", value, citation): the Nili bounds are correlations, not squared "
                              "correlations, so they bound no R².")


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
