"""``brainbench evaluate``: score precomputed features against a neural assembly, or choice probabilities
against human 2AFC trials (i2n)."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench.benchmarks.evaluate import (
    BEHAVIOR_METRICS,
    I2N_CEILED_FORMULA,
    METRICS,
    evaluate_features,
    evaluate_i2n,
)
from brainbench.cli import options, render
from brainbench.data.brainscore_format import read_assembly
from brainbench.data.loaders.brainscore_behavior import read_probabilities, read_trials


def _time_bin(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        start, end = (int(v) for v in value.split(","))
    except ValueError as exc:
        raise click.BadParameter("give the time bin as START,END in ms, e.g. 70,170") from exc
    return start, end


@click.command()
@click.option("--features", "features_path", type=click.Path(dir_okay=False),
              help="pls/ridge: netCDF DataArray presentation × neuroid with a stimulus_id coordinate.")
@click.option("--assembly", "assembly_path", type=click.Path(dir_okay=False),
              help="pls/ridge: neural assembly in Brain-Score's netCDF layout (presentation × neuroid [× time_bin]).")
@click.option("--probabilities", "probabilities_path", type=click.Path(dir_okay=False),
              help="i2n: the model's choice probabilities, netCDF presentation × choice with a stimulus_id "
              "coordinate and the object labels as the choice coordinate.")
@click.option("--trials", "trials_path", type=click.Path(dir_okay=False),
              help="i2n: human 2AFC trials in Brain-Score's behavioural netCDF layout (presentation with "
              "stimulus_id, sample_obj, dist_obj, choice).")
@click.option("--metric", type=click.Choice(METRICS + BEHAVIOR_METRICS), default="pls", show_default=True,
              help="PLS-25 (Brain-Score's default) or ridge with a per-neuroid penalty on features; i2n "
              "(Rajalingham et al. 2018) on choice probabilities.")
@click.option("--stratify", help="pls/ridge: presentation coordinate to stratify the splits by (e.g. object_name).")
@click.option("--time-bin", help="pls/ridge: START,END in ms when the assembly has several time bins.")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA > MPS > CPU), cpu, cuda, mps.")
@options.as_json
def evaluate(features_path: str | None, assembly_path: str | None, probabilities_path: str | None,
             trials_path: str | None, metric: str, stratify: str | None, time_bin: str | None, device: str,
             as_json: bool) -> None:
    """Score precomputed model outputs: FEATURES against a neural ASSEMBLY (pls, ridge), or choice
    PROBABILITIES against human TRIALS (i2n); prints raw, ceiling, ceiled, its error (SEM over splits of the
    per-split ceiled score) and per-split values; --json adds Brain-Score's own raw error (brainscore_raw_error).

    Examples: brainbench evaluate --features F.nc --assembly A.nc --stratify object_name --json;
    brainbench evaluate --metric i2n --probabilities P.nc --trials T.nc
    """
    if metric in BEHAVIOR_METRICS:
        _check_options(metric, needed={"--probabilities": probabilities_path, "--trials": trials_path},
                       refused={"--features": features_path, "--assembly": assembly_path, "--stratify": stratify,
                                "--time-bin": time_bin})
        _evaluate_behavior(probabilities_path, trials_path, as_json)
        return
    _check_options(metric, needed={"--features": features_path, "--assembly": assembly_path},
                   refused={"--probabilities": probabilities_path, "--trials": trials_path})
    result = evaluate_features(
        read_assembly(features_path), read_assembly(assembly_path), metric=metric, stratify=stratify,
        time_bin=_time_bin(time_bin), device=device, scored=f"The evaluation of {features_path}",
        data_name=str(assembly_path),
    )
    if as_json:
        render.print_json(result.to_dict())
        return
    _print_scores(f"{metric} predictivity  ·  {features_path} → {assembly_path}",
                  result.raw, result.ceiling, result.ceiled, result.error)
    render.stdout.print("split medians: " + " ".join(render.number(v) for v in result.split_medians))
    render.stdout.print(f"ceiled = {result.ceiled_formula}; error: {result.error_method}; "
                        f"Brain-Score's error of the raw score: {render.number(result.brainscore_raw_error)}")
    for note in result.notes:
        render.stdout.print(f"note: {note}")


def _print_scores(title: str, raw: float, ceiling: float | None, ceiled: float, error: float | None) -> None:
    table = Table(title=title)
    for column in ("raw", "ceiling", "ceiled", "error"):
        table.add_column(column, justify="right")
    table.add_row(*(render.number(v) for v in (raw, ceiling, ceiled, error)))
    render.stdout.print(table)


def _check_options(metric: str, needed: dict[str, str | None], refused: dict[str, str | None]) -> None:
    """One-sentence usage errors: every `needed` option given, no `refused` one."""
    missing = [name for name, value in needed.items() if not value]
    if missing:
        raise click.UsageError(f"--metric {metric} needs {' and '.join(needed)}; missing {', '.join(missing)}.")
    extra = [name for name, value in refused.items() if value]
    if extra:
        raise click.UsageError(f"{', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to --metric "
                               f"{metric}, which takes {' and '.join(needed)}.")


def _evaluate_behavior(probabilities_path: str, trials_path: str, as_json: bool) -> None:
    result = evaluate_i2n(read_probabilities(probabilities_path), read_trials(trials_path),
                          scored=f"The evaluation of {probabilities_path}", data_name=str(trials_path))
    if as_json:
        render.print_json(result.to_dict())
        return
    _print_scores(f"i2n  ·  {probabilities_path} → {trials_path}", result.raw, result.ceiling, result.ceiled,
                  result.error)
    render.stdout.print("split raw: " + " ".join(render.number(v) for v in result.split_raw)
                        + "  ·  split ceiling: " + " ".join(render.number(v) for v in result.split_ceiling))
    render.stdout.print(f"{result.n_trials} trials on {result.n_images} images of {result.n_objects} objects; "
                        f"ceiled = {I2N_CEILED_FORMULA}")
