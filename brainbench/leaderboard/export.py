"""The ranking as CSV text or JSON-ready dicts: one row per model entry (wide) or per entry × benchmark (long)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from brainbench.leaderboard.ranking import AVERAGE, RankedModel, RegionRanked, rank_texts
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

#: With ``errors``, these follow ``average`` in CSV: each region's and the average's error (:attr:`RankedModel.errors`).
ERROR_COLUMNS: tuple[str, ...] = tuple(f"{column}_error" for column in (*REGIONS, AVERAGE))

#: The ranking by one region (``--region``) as CSV; one column per shown benchmark follows.
REGION_COLUMNS: tuple[str, ...] = (*CSV_COLUMNS[:8], "region", "score", "error", "averaged", "not_averaged")

NOT_AVERAGED_MARK = "†"  # a benchmark shown but averaged into no column
UNCEILED_MARK = "*"  # a score without a ceiling, averaged into a column because its definition says so
LEGEND = {
    NOT_AVERAGED_MARK: f'{NOT_AVERAGED_MARK} shown, not averaged into a column (no noise ceiling, or column = "none")',
    UNCEILED_MARK: f"{UNCEILED_MARK} no noise ceiling, averaged because its benchmark's definition names the column",
}

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(ranking: list[RankedModel], benchmarks: bool = False, errors: bool = False) -> str:
    """CSV with a header row and one row per model entry; a region that was not scored is an empty cell.

    With ``errors``, ERROR_COLUMNS follow ``average`` (empty where an error is not computable). With
    ``benchmarks``, the columns are followed by one column per benchmark (by id, sorted) holding the entry's
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
    header = [*CSV_COLUMNS[:CSV_COLUMNS.index(AVERAGE) + 1], *(ERROR_COLUMNS if errors else ()),
              *CSV_COLUMNS[CSV_COLUMNS.index(AVERAGE) + 1:]]
    writer.writerow([*header, *(escape_cell(b) for b in ids)])
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
                         *(m.regions[r] for r in REGIONS), m.average,
                         *((m.errors.get(c) for c in (*REGIONS, AVERAGE)) if errors else ()), m.n_regions,
                         *(escape_cell(";".join(fed)) for fed in lists), *(m.benchmarks.get(b) for b in ids)])
    return out.getvalue()


def to_long_csv(ranking: Sequence[RankedModel | RegionRanked]) -> str:
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


def long_rows(ranking: Sequence[RankedModel | RegionRanked]) -> list[dict[str, Any]]:
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


def benchmark_ids(ranking: Sequence[RankedModel | RegionRanked]) -> list[str]:
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


def region_to_json(rows: list[RegionRanked]) -> list[dict[str, Any]]:
    """Each row of the ranking by a region as a dict of the RegionRanked fields, ``scores`` included."""
    return [asdict(row) for row in rows]


def region_to_csv(rows: list[RegionRanked]) -> str:
    """CSV with REGION_COLUMNS and one column per shown benchmark (ceiled; empty where an entry has none).

    Cells as in :func:`to_csv`; ``averaged`` and ``not_averaged`` are ``;``-separated benchmark ids."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    ids = benchmark_ids(rows)
    writer.writerow([*REGION_COLUMNS, *(escape_cell(b) for b in ids)])
    for m in rows:
        text = [m.model, m.label, m.weights_digest, "" if m.layers is None else ",".join(m.layers),
                "" if m.preprocessing is None else json.dumps(m.preprocessing, sort_keys=True)]
        model, label, digest, layers, preprocessing = (escape_cell(cell) for cell in text)
        writer.writerow([m.rank, model, label, digest, m.random_init, m.visual_degrees, layers, preprocessing,
                         escape_cell(m.region), m.score, m.error, escape_cell(";".join(m.averaged)),
                         escape_cell(";".join(m.not_averaged)), *(m.benchmarks.get(b) for b in ids)])
    return out.getvalue()


def marks(row: RankedModel | RegionRanked) -> dict[str, str]:
    """Per benchmark of ``row``: NOT_AVERAGED_MARK (averaged into nothing), UNCEILED_MARK (averaged without a
    ceiling) or ''."""
    not_averaged = set(row.not_averaged)
    return {b: NOT_AVERAGED_MARK if b in not_averaged else UNCEILED_MARK if s.ceiling is None else ""
            for b, s in row.scores.items()}


def to_markdown(ranking: list[RankedModel], benchmarks: bool = False, errors: bool = False) -> str:
    """A GitHub-flavoured Markdown table: rank ('=2' when shared), model label, the regions, the average and, with
    ``benchmarks``, one column per benchmark (ceiled, marked as in the table). Scores to 3 decimals, '–' where
    missing; ``errors`` adds ' ± error' to each region and the average. The LEGEND of the marks used follows it."""
    ids = benchmark_ids(ranking) if benchmarks else []
    lines = [_markdown_row(["#", "model", *REGIONS, AVERAGE, *ids]),
             _markdown_rule("ll" + "r" * (len(REGIONS) + 1 + len(ids)))]
    for shown, m in zip(rank_texts(ranking), ranking, strict=True):
        cells = [_with_error(m.regions[c] if c in REGIONS else m.average, m.errors.get(c) if errors else None)
                 for c in (*REGIONS, AVERAGE)]
        lines.append(_markdown_row([shown, m.label, *cells, *_benchmark_cells(m, ids)]))
    return _with_legend(lines, ranking, ids)


def region_to_markdown(rows: list[RegionRanked], errors: bool = False) -> str:
    """The ranking by a region as a Markdown table: rank, model label, the region's score (± error with
    ``errors``), then one column per shown benchmark (ceiled, marked); the LEGEND of the marks used follows it."""
    ids = benchmark_ids(rows)
    region = rows[0].region if rows else "score"
    lines = [_markdown_row(["#", "model", region, *ids]), _markdown_rule("ll" + "r" * (1 + len(ids)))]
    for shown, m in zip(rank_texts(rows), rows, strict=True):
        lines.append(_markdown_row([shown, m.label, _with_error(m.score, m.error if errors else None),
                                    *_benchmark_cells(m, ids)]))
    return _with_legend(lines, rows, ids)


def _benchmark_cells(row: RankedModel | RegionRanked, ids: Sequence[str]) -> list[str]:
    marked = marks(row)
    return [markdown_number(row.benchmarks.get(b)) + marked.get(b, "") for b in ids]


def _with_legend(lines: list[str], rows: Sequence[RankedModel | RegionRanked], ids: Sequence[str]) -> str:
    """The table's lines, then (after a blank line) the LEGEND of the marks its benchmark cells use."""
    used = {marks(row).get(b, "") for row in rows for b in ids}
    legend = [text for mark, text in LEGEND.items() if mark in used]
    return "\n".join(lines) + "\n" + (f"\n{'; '.join(legend)}.\n" if legend else "")


def long_to_markdown(ranking: Sequence[RankedModel | RegionRanked]) -> str:
    """The long layout as a Markdown table: rank, model label, benchmark, column, ceiled, raw, ceiling, error,
    layer (one row per model entry × benchmark)."""
    ranks = dict(zip((id(m) for m in ranking), rank_texts(ranking), strict=True))
    lines = [_markdown_row(["#", "model", "benchmark", "column", "ceiled", "raw", "ceiling", "error", "layer"]),
             _markdown_rule("llll" + "rrrr" + "l")]
    for m in ranking:
        for s in m.scores.values():
            lines.append(_markdown_row([ranks[id(m)], m.label, s.benchmark, s.column or "–",
                                        *(markdown_number(v) for v in (s.ceiled, s.raw, s.ceiling, s.error)),
                                        s.layer or "–"]))
    return "\n".join(lines) + "\n"


def markdown_number(value: float | None) -> str:
    """A score for a Markdown cell: 3 decimals, '–' when missing."""
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _with_error(value: float | None, error: float | None) -> str:
    return markdown_number(value) + (f" ± {error:.3f}" if value is not None and error is not None else "")


def _markdown_row(cells: Sequence[str]) -> str:
    """One table row; a '|' in a cell is escaped and line breaks become spaces, so a cell cannot split the row."""
    return "| " + " | ".join(" ".join(c.split()).replace("|", "\\|") for c in cells) + " |"


def _markdown_rule(alignments: str) -> str:
    """The header rule: per column 'l' (text, left-aligned) or 'r' (numbers, right-aligned)."""
    return "|" + "".join("---:|" if a == "r" else "---|" for a in alignments)
