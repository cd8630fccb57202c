"""``brainbench cache``: what the reduction cache holds, and clearing it (light: no torch)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from brainbench.cli import options, render
from brainbench.reductions.store import Entry, ReductionStore


def _model(entry: Entry) -> dict[str, Any]:
    model = entry.fields.get("model")
    return model if isinstance(model, dict) else {}


def _model_label(entry: Entry) -> str:
    model = _model(entry)
    name = str(model.get("identifier", "?"))
    return name + (" (random-init)" if model.get("random_init") else "")


def _gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


@click.group()
def cache() -> None:
    """The reduction cache: per-layer Gram matrices, RDMs, outputs and grating recordings kept between runs."""


@cache.command()
@options.as_json
def info(as_json: bool) -> None:
    """Where the cache is, its bound (BRAINBENCH_CACHE_SIZE), and its entries by kind and model."""
    store = ReductionStore()
    entries = store.entries()
    sizes: dict[str, Counter] = {"kind": Counter(), "model": Counter()}
    counts: dict[str, Counter] = {"kind": Counter(), "model": Counter()}
    for entry in entries:
        for axis, name in (("kind", str(entry.fields.get("kind", "?"))), ("model", _model_label(entry))):
            sizes[axis][name] += entry.size
            counts[axis][name] += 1
    summary: dict[str, Any] = {
        "location": str(store.folder), "limit_bytes": store.limit, "bytes": sum(e.size for e in entries),
        "entries": len(entries),
        **{f"by_{axis}": {name: {"entries": counts[axis][name], "bytes": sizes[axis][name]}
                          for name in sorted(counts[axis])} for axis in ("kind", "model")},
    }
    if as_json:
        render.print_json(summary)
        return
    console = render.console_now()
    limit = "off" if store.limit <= 0 else _gib(store.limit)
    console.print(Text(f"reduction cache {store.folder}: {len(entries)} entries, {_gib(summary['bytes'])} "
                       f"of {limit} (BRAINBENCH_CACHE_SIZE)"))
    for axis in ("kind", "model"):
        if not counts[axis]:
            continue
        table = Table(axis, "entries", "size", box=None, pad_edge=False)
        for name in sorted(counts[axis]):
            table.add_row(name, str(counts[axis][name]), _gib(sizes[axis][name]))
        console.print(table)


@cache.command()
@click.option("--model", "model_id", metavar="ID", help="Only this model's entries (trained and random-init).")
def clear(model_id: str | None) -> None:
    """Remove every cached reduction, or only those of one model."""
    store = ReductionStore()
    chosen = [e for e in store.entries() if model_id is None or _model(e).get("identifier") == model_id]
    for entry in chosen:
        store.remove(entry.key)
    what = f" of {model_id}" if model_id else ""
    click.echo(f"removed {len(chosen)} cached reduction(s){what}, {_gib(sum(e.size for e in chosen))}, "
               f"from {store.folder}.")
