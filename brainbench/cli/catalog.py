"""``brainbench models list`` and ``brainbench benchmarks list``."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench.benchmarks.spec import list_benchmarks
from brainbench.cli import options, render
from brainbench.models.registry import builtin_models, list_models


@click.group()
def models() -> None:
    """Models brainbench can score."""


@models.command("list")
@click.argument("pattern", default="*")
@options.as_json
def models_list(pattern: str, as_json: bool) -> None:
    """List model ids matching PATTERN: built-ins, or 'timm:resnet*', 'torchvision:*'."""
    names = list_models(pattern)
    if as_json:
        render.print_json(names)
        return
    builtins = builtin_models()
    table = Table(title=f"models matching {pattern}")
    table.add_column("model")
    table.add_column("description")
    for name in names:
        table.add_row(name, builtins[name].description if name in builtins else "")
    render.stdout.print(table)
    if ":" not in pattern:
        render.stdout.print("Any timm or torchvision model is also available as timm:NAME or torchvision:NAME.")


@click.group()
def benchmarks() -> None:
    """Benchmarks brainbench can run."""


@benchmarks.command("list")
@options.as_json
def benchmarks_list(as_json: bool) -> None:
    """List the benchmarks with their version, kind, region and dataset."""
    specs = list(list_benchmarks().values())
    if as_json:
        render.print_json([{"id": s.id, "version": s.version, "kind": s.kind, "region": s.region,
                            "dataset": s.dataset, "description": s.description} for s in specs])
        return
    table = Table(title="benchmarks")
    table.add_column("benchmark", no_wrap=True)
    for column in ("version", "kind", "region", "dataset"):
        table.add_column(column)
    table.add_column("description", overflow="fold")
    for s in specs:
        table.add_row(s.id, str(s.version), s.kind, s.region, s.dataset, s.description)
    render.stdout.print(table)
