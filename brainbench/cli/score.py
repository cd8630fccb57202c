"""``brainbench score``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from brainbench.cli import options, render
from brainbench.cli.options import model_options, split_layers
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.identity import ModelEntry

if TYPE_CHECKING:
    from brainbench.benchmarks.scoring import Failure, Scores


def score_model(*args: Any, **kwargs: Any) -> Scores:
    """:func:`brainbench.benchmarks.scoring.score`, imported when called: it imports torch."""
    from brainbench.benchmarks.scoring import score

    return score(*args, **kwargs)


@click.command()
@click.argument("model")
@click.option("-b", "--benchmark", "benchmarks", multiple=True, required=True,
              help="Benchmark id or wildcard pattern (e.g. Kiani2007.IT-rsa, 'Kriegeskorte2008.*'); repeatable.")
@model_options
@click.option("--no-save", is_flag=True, help="Do not write the records to the leaderboard.")
@click.option("--skip-unavailable", is_flag=True,
              help="Score the benchmarks whose data are available and skip the others (default: refuse them all).")
@options.offline
@options.no_cache
@options.data_mirror
@options.definitions
@options.leaderboard_path
@options.as_json
def score(model: str, benchmarks: tuple[str, ...], layers: tuple[str, ...], weights: str | None,
          random_init: bool, visual_degrees: float | None, device: str, seed: int, batch_size: int,
          max_memory: float | None, no_save: bool, skip_unavailable: bool, offline: bool, no_cache: bool,
          data_mirrors: tuple[str, ...], definitions: tuple[str, ...], leaderboard_path: str | None,
          as_json: bool) -> None:
    """Score MODEL on benchmarks and append each record to the leaderboard as soon as it is computed.

    MODEL is a built-in name (brainbench models list), timm:NAME or torchvision:NAME. Every benchmark's data are
    located (cache, mirrors, network) before the model is built; a benchmark that fails does not stop the others,
    and the exit status is 1 when any failed.

    Example: brainbench score efficientnet_lite0 -b Kiani2007.IT-rsa -b Kriegeskorte2008.IT-rsa
    """
    from brainbench.benchmarks.scoring import DataUnavailable, ScoringFailures

    start = time.perf_counter()
    failed: ScoringFailures | None = None
    try:
        with render.progress_bars(enabled=not as_json) as progress:
            records = score_model(
                model, list(benchmarks), weights=weights, random_init=random_init, layers=split_layers(layers),
                visual_degrees=visual_degrees, device=device, seed=seed, data_mirrors=data_mirrors,
                leaderboard=leaderboard_path, save=not no_save, batch_size=batch_size, max_memory_gb=max_memory,
                progress=progress, skip_unavailable=skip_unavailable, allow_download=not offline,
                definitions=definitions, cache=not no_cache,
            )
    except DataUnavailable as exc:
        for found in exc.datasets:  # one line each, where it was looked for; then the error's one sentence
            click.echo(found.where(), err=True)
        raise
    except ScoringFailures as exc:
        failed, records = exc, exc.records
    failures = failed.failures if failed else []
    if as_json:
        _print_json(records, failures)
    else:
        _print_table(records, failures, no_save, time.perf_counter() - start)
    if failed:
        raise failed  # its one sentence on stderr, exit 1: the summary above says why each failed
    if not records:
        raise BrainbenchError(f"Nothing was scored: the data of every selected benchmark "
                              f"({', '.join(records.skipped)}) are not available (see above).")


def _print_json(records: Scores, failures: list[Failure]) -> None:
    rows: list[dict[str, Any]] = [
        {"model": r.model, "benchmark": r.benchmark, "version": r.benchmark_version, "status": "scored",
         "raw": r.raw, "ceiling": r.ceiling, "ceiled": r.ceiled, "error": r.error, "layer": r.layer,
         "region": r.region, "random_init": r.random_init, "weights_digest": r.weights_digest, "id": r.id}
        for r in records
    ]
    rows += [{"benchmark": f.benchmark, "status": "failed", "reason": f.reason} for f in failures]
    rows += [{"benchmark": b, "status": "skipped", "reason": a.where()} for b, a in records.skipped.items()]
    render.print_json(rows)


def _print_table(records: Scores, failures: list[Failure], no_save: bool, seconds: float) -> None:
    if records:
        first = records[0]
        entry = ModelEntry.of(first)
        chosen = f"  ·  layers {','.join(entry.layers)}" if entry.layers else ""
        console = render.console_now()
        console.print(Text(f"{first.model_label}  ·  {entry.visual_degrees:g}°{chosen}  ·  weights "
                           f"{first.weights_digest[:12]}  ·  {first.device}"))
        # Ids, scores and layers are never folded or cut: one row per benchmark when the table fits, else a block.
        table = render.compact_table()
        for column in ("benchmark", "v", "raw", "ceiling", "ceiled", "error", "layer"):
            table.add_column(column, no_wrap=True, justify="left" if column in ("benchmark", "layer") else "right")
        cells = [(r.benchmark, str(r.benchmark_version), render.number(r.raw), render.number(r.ceiling),
                  render.number(r.ceiled), render.number(r.error), r.layer or "–") for r in records]
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))
        if render.natural_width(console, table) <= console.width:
            console.print(table)
        else:
            for benchmark, version, raw, ceiling, ceiled, error, layer in cells:
                console.print(Text(f"{benchmark}  v{version}"))
                console.print(Text(f"    raw {raw} · ceiling {ceiling} · ceiled {ceiled} · error {error} · "
                                   f"layer {layer}"))
        for r in records:  # what a shape-bias score is made of (benchmarks/behavior.py, run_shape_bias)
            if isinstance(parts := r.details.get("shape_bias"), dict):
                render.stdout.print(
                    f"{r.benchmark}: model shape bias {parts['model']:.3f} (humans {parts['human']:.3f}); of the "
                    f"cue-conflict images {parts['shape_accuracy']:.1%} decided by shape, "
                    f"{parts['texture_accuracy']:.1%} by texture", markup=False, highlight=False)
    for failure in failures:
        render.stdout.print(f"failed  {failure.benchmark}: {failure.reason}", markup=False)
    for benchmark, found in records.skipped.items():
        render.stdout.print(f"skipped {benchmark}: {found.where()}", markup=False)
    where = "not saved (--no-save)" if no_save else (
        f"saved as records {', '.join(str(r.id) for r in records)}" if records else "nothing saved")
    render.stdout.print(f"{len(records)} score(s) in {seconds:.1f} s; {where}.")
