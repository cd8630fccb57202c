"""The ranking as CSV text or JSON-ready dicts."""

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

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(ranking: list[RankedModel]) -> str:
    """CSV with a header row and one row per model entry; a region that was not scored is an empty cell.

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
    writer.writerow(CSV_COLUMNS)
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
                         *(escape_cell(";".join(ids)) for ids in lists)])
    return out.getvalue()


def escape_cell(text: str) -> str:
    """``text`` with a leading ``'`` if it starts with a formula trigger, so spreadsheets show it as text."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def ranking_to_json(ranking: list[RankedModel]) -> list[dict[str, Any]]:
    """Each row as a dict of every RankedModel field (missing regions, default layers are None, i.e. JSON null)."""
    return [asdict(m) for m in ranking]
