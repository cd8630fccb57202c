"""The ranking as CSV text or JSON-ready dicts: one row per model entry (wide) or per entry × benchmark (long)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from brainbench.leaderboard.ranking import RankedModel
from brainbench.leaderboard.record import REGIONS

CSV_COLUMNS: tuple[str, ...] = (
    "rank",
    "model",
    "label",
    "weights_digest",
    "random_init",
    "visual_degrees",
    "layers",
    "preprocessing",
    *REGIONS,
    "average",
    "n_regions",
    *(f"{region}_benchmarks" for region in REGIONS),
    "not_averaged",
    "averaged_without_ceiling",
)

#: The long layout's columns: the entry's (as in CSV_COLUMNS), then one benchmark's record; ``measures`` is JSON.
LONG_COLUMNS: tuple[str, ...] = (
    *CSV_COLUMNS[:8],
    "benchmark",
    "benchmark_version",
    "region",
    "column",
    "ceiled",
    "raw",
    "ceiling",
    "error",
    "layer",
    "measures",
)

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(ranking: list[RankedModel], benchmarks: bool = False) -> str:
    """CSV with a header row and one row per model entry; a region that was not scored is an empty cell.

    With ``benchmarks``, CSV_COLUMNS are followed by one column per benchmark (by id, sorted) holding the entry's
    ceiled score, empty where it has none.

    Text cells are quoted (so a carriage return or comma in a name cannot break a row) and those that a
    spreadsheet would run as a formula get a leading single quote (OWASP's advice); numbers are written
    unquoted as numbers (a negative score stays a number). ``layers`` is empty for the model's default
    candidate layers, else the chosen ones comma-separated; ``preprocessing`` is JSON, empty when not recorded.
    ``<region>_benchmarks`` lists the benchmarks averaged into that column, ``not_averaged`` those shown but
    averaged into none (no ceiling), ``averaged_without_ceiling`` those averaged because their definition names the
    column; each ``;``-separated.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    ids = benchmark_ids(ranking) if benchmarks else []
    writer.writerow([*CSV_COLUMNS, *(escape_cell(b) for b in ids)])
    for m in ranking:
        text = [
            m.model,
            m.label,
            m.weights_digest,
            "" if m.layers is None else ",".join(m.layers),
            "" if m.preprocessing is None else json.dumps(m.preprocessing, sort_keys=True),
        ]
        model, label, digest, layers, preprocessing = (escape_cell(cell) for cell in text)
        lists = [m.columns.get(r, []) for r in REGIONS] + [m.not_averaged, m.averaged_without_ceiling]
        writer.writerow([m.rank, model, label, digest, m.random_init, m.visual_degrees, layers, preprocessing,
                         *(m.regions[r] for r in REGIONS), m.average, m.n_regions,
                         *(escape_cell(";".join(fed)) for fed in lists), *(m.benchmarks.get(b) for b in ids)])
    return out.getvalue()


def to_long_csv(ranking: list[RankedModel]) -> str:
    """CSV with LONG_COLUMNS: one row per model entry × benchmark, in rank order then benchmark id.

    Cells as in :func:`to_csv`; a missing column, ceiling, error or layer is an empty cell; ``measures`` is JSON
    (the record's MEASURES), empty when it has none.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(LONG_COLUMNS)
    for row in long_rows(ranking):
        row["layers"] = "" if row["layers"] is None else ",".join(row["layers"])
        for name in ("preprocessing", "measures"):
            row[name] = "" if not row[name] else json.dumps(row[name], sort_keys=name == "preprocessing")
        writer.writerow([escape_cell(v) if isinstance(v, str) else v for v in row.values()])
    return out.getvalue()


def long_rows(ranking: list[RankedModel]) -> list[dict[str, Any]]:
    """The long layout as dicts keyed by LONG_COLUMNS (text as is; ``layers`` a list or None, as in JSON)."""
    rows = []
    for m in ranking:
        entry = [m.rank, m.model, m.label, m.weights_digest, m.random_init, m.visual_degrees, m.layers,
                 m.preprocessing]
        for s in m.scores.values():
            rows.append(dict(zip(LONG_COLUMNS, [*entry, s.benchmark, s.benchmark_version, s.region, s.column,
                                                s.ceiled, s.raw, s.ceiling, s.error, s.layer, s.measures],
                                 strict=True)))
    return rows


def benchmark_ids(ranking: list[RankedModel]) -> list[str]:
    """Every benchmark some entry of ``ranking`` has a score for, sorted."""
    return sorted({b for m in ranking for b in m.benchmarks})


def escape_cell(text: str) -> str:
    """``text`` with a leading ``'`` if it starts with a formula trigger, so spreadsheets show it as text."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def ranking_to_json(ranking: list[RankedModel], benchmarks: bool = False) -> list[dict[str, Any]]:
    """Each row as a dict of the RankedModel fields (missing regions, default layers are None, i.e. JSON null).

    ``scores`` (each benchmark's record: raw, ceiling, error, layer, column, measures) only with ``benchmarks``;
    ``benchmarks`` (each benchmark's ceiled score) always.
    """
    rows = [asdict(m) for m in ranking]
    if not benchmarks:
        for row in rows:
            del row["scores"]
    return rows
