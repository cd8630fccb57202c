"""The ranking as CSV text or JSON-ready dicts."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from brainbench.leaderboard.record import REGIONS
from brainbench.leaderboard.store import RankedModel

CSV_COLUMNS: tuple[str, ...] = (
    "rank",
    "model",
    "weights_digest",
    "random_init",
    *REGIONS,
    "average",
    "n_regions",
)


def to_csv(ranking: list[RankedModel]) -> str:
    """CSV with a header row and one row per model entry; a region that was not scored is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in ranking:
        regions = ["" if m.regions[r] is None else repr(m.regions[r]) for r in REGIONS]
        writer.writerow(
            [m.rank, m.model, m.weights_digest, m.random_init, *regions, repr(m.average), m.n_regions]
        )
    return out.getvalue()


def ranking_to_json(ranking: list[RankedModel]) -> list[dict[str, Any]]:
    """Each row as a dict of every RankedModel field (missing regions are None, i.e. JSON null)."""
    return [asdict(m) for m in ranking]
