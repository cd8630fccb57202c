"""``brainbench cache``: what the reduction and decoded-input caches hold, and clearing them (light: no torch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from brainbench.cli import options, render
from brainbench.reductions.store import Entry, ReductionStore, input_dir, input_entries, remove_entry


def _model(entry: Entry) -> dict[str, Any]:
    model = entry.fields.get("model")
    return model if isinstance(model, dict) else {}


def _model_label(entry: Entry) -> str:
    model = _model(entry)
    name = str(model.get("identifier", "?"))
    return name + (" (random-init)" if model.get("random_init") else "")


def _stimuli(entry: Entry) -> str:
    """The stimulus set a decoded-input file holds, '?' when its sidecar cannot say (files of older versions)."""
    return str(entry.fields.get("stimuli", "?"))


def _geometry(entry: Entry) -> str:
    fields = entry.fields
    try:
        return f"{float(fields['stimulus_degrees']):g} deg in {float(fields['model_degrees']):g} deg, " \
               f"{int(fields['input_size'])} px"
    except (KeyError, TypeError, ValueError):
        return "?"


def _tally(entries: list[Entry], label: Callable[[Entry], Any]) -> dict[Any, tuple[int, int]]:
    """(number of files, bytes) per ``label(entry)``, sorted by label."""
    tally: dict[Any, tuple[int, int]] = {}
    for entry in entries:
        n, size = tally.get(label(entry), (0, 0))
        tally[label(entry)] = (n + 1, size + entry.size)
    return dict(sorted(tally.items()))


def _gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


@click.group()
def cache() -> None:
    """The caches kept between runs: per-layer reductions and decoded model inputs.

    Reductions (Gram matrices, RDMs, outputs, grating recordings) are kept in <BRAINBENCH_HOME>/reductions, the
    decoded model inputs (each stimulus set placed and resized once per geometry) in <BRAINBENCH_HOME>/stimuli/inputs.
    BRAINBENCH_CACHE_SIZE (default 5GB, 0 = off) bounds both together: after each write the least recently used files
    of either are removed until they fit."""


@cache.command()
@options.as_json
def info(as_json: bool) -> None:
    """Where the cache is, its bound (BRAINBENCH_CACHE_SIZE), and its entries by kind and model. Also the decoded
    model inputs, by stimulus set and geometry, and the total of both caches against the bound they share."""
    store = ReductionStore()
    entries = store.entries()
    tallies = {"kind": _tally(entries, lambda entry: str(entry.fields.get("kind", "?"))),
               "model": _tally(entries, _model_label)}
    inputs = input_entries()
    summary: dict[str, Any] = {
        "location": str(store.folder), "limit_bytes": store.limit, "bytes": sum(e.size for e in entries),
        "entries": len(entries),
        **{f"by_{axis}": {name: {"entries": n, "bytes": size} for name, (n, size) in tally.items()}
           for axis, tally in tallies.items()},
        "inputs": {
            "location": str(input_dir()), "files": len(inputs), "bytes": sum(e.size for e in inputs),
            "by_stimuli": {name: {"files": n, "bytes": size} for name, (n, size) in _tally(inputs, _stimuli).items()},
        },
    }
    summary["total_bytes"] = summary["bytes"] + summary["inputs"]["bytes"]
    if as_json:
        render.print_json(summary)
        return
    console = render.console_now()
    console.print(Text(f"reduction cache {store.folder}: {len(entries)} entries, {_gib(summary['bytes'])}"))
    for axis, tally in tallies.items():
        if not tally:
            continue
        table = Table(axis, "entries", "size", box=None, pad_edge=False)
        for name, (n, size) in tally.items():
            table.add_row(name, str(n), _gib(size))
        console.print(table)
    console.print(Text(f"input cache {input_dir()}: {len(inputs)} files, {_gib(summary['inputs']['bytes'])}"))
    if inputs:
        table = Table("stimuli", "geometry", "files", "size", box=None, pad_edge=False)
        by_geometry = _tally(inputs, lambda entry: (_stimuli(entry), _geometry(entry)))
        for (name, geometry), (files, size) in by_geometry.items():
            table.add_row(name, geometry, str(files), _gib(size))
        console.print(table)
    limit = "off" if store.limit <= 0 else _gib(store.limit)
    console.print(Text(f"both caches: {_gib(summary['total_bytes'])} of {limit} (BRAINBENCH_CACHE_SIZE bounds them "
                       "together)"))


@cache.command()
@click.option("--model", "model_id", metavar="ID", help="Only this model's entries (trained and random-init).")
@click.option("--inputs", is_flag=True,
              help="Also remove the decoded model inputs. They are shared by every model of one geometry, so a plain "
                   "clear keeps them; the next run decodes what it needs again.")
def clear(model_id: str | None, inputs: bool) -> None:
    """Remove every cached reduction, or only those of one model. With --inputs, the decoded model inputs too."""
    if inputs and model_id is not None:
        raise click.UsageError("--inputs cannot be combined with --model: the decoded inputs are shared by every "
                               "model; run `brainbench cache clear --inputs` to remove them all.")
    store = ReductionStore()
    chosen = [e for e in store.entries() if model_id is None or _model(e).get("identifier") == model_id]
    removed = [e for e in chosen if e.path is not None and remove_entry(e.path)]
    what = f" of {model_id}" if model_id else ""
    sentence = f"removed {len(removed)} cached reduction(s){what}, {_gib(sum(e.size for e in removed))}, " \
               f"from {store.folder}"
    left = len(chosen) - len(removed)
    if inputs:
        files = input_entries()
        gone = [e for e in files if e.path is not None and remove_entry(e.path)]
        sentence += f", and {len(gone)} decoded input file(s), {_gib(sum(e.size for e in gone))}, from {input_dir()}"
        left += len(files) - len(gone)
    click.echo(sentence + (f"; {left} file(s) in use could not be removed." if left else "."))
