"""``brainbench evaluate``: score precomputed features against a neural assembly, features or a model RDM against
RDMs (rsa), or choice probabilities against human 2AFC trials (i2n)."""

from __future__ import annotations

import click
from click.core import ParameterSource
from rich.table import Table

from brainbench import threads as cpu_threads
from brainbench.cli import options, render

# The library's names (brainbench.benchmarks.evaluate: METRICS, RSA_METRICS, BEHAVIOR_METRICS, DISTANCES,
# COMPARISONS), repeated so that --help imports no torch; tests/cli/test_evaluate_rsa.py checks that they agree.
METRICS = ("pls", "ridge")
RSA_METRICS = ("rsa",)
BEHAVIOR_METRICS = ("i2n",)
DISTANCES = ("correlation",)
COMPARISONS = ("spearman", "kendall_tau_a", "pearson")


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
              help="pls/ridge/rsa: netCDF DataArray presentation × neuroid with a stimulus_id coordinate (e.g. "
              "from brainbench extract).")
@click.option("--rdm", "rdm_path", type=click.Path(dir_okay=False),
              help="rsa: the model's RDM instead of its features, netCDF stimulus_a × stimulus_b with the stimulus "
              "ids as those coordinates.")
@click.option("--assembly", "assembly_path", type=click.Path(dir_okay=False),
              help="pls/ridge: neural assembly in Brain-Score's netCDF layout (presentation × neuroid [× time_bin]); "
              "rsa: RDM assembly [subject × [session ×]] stimulus_a × stimulus_b (sessions are averaged).")
@click.option("--probabilities", "probabilities_path", type=click.Path(dir_okay=False),
              help="i2n: the model's choice probabilities, netCDF presentation × choice with a stimulus_id "
              "coordinate and the object labels as the choice coordinate.")
@click.option("--trials", "trials_path", type=click.Path(dir_okay=False),
              help="i2n: human 2AFC trials in Brain-Score's behavioural netCDF layout (presentation with "
              "stimulus_id, sample_obj, dist_obj, choice).")
@click.option("--metric", type=click.Choice(METRICS + RSA_METRICS + BEHAVIOR_METRICS), default="pls",
              show_default=True,
              help="PLS-25 (Brain-Score's default) or ridge with a per-neuroid penalty on features; rsa on features "
              "or a model RDM against RDMs; i2n (Rajalingham et al. 2018) on choice probabilities.")
@click.option("--distance", type=click.Choice(DISTANCES),
              help="rsa: the model RDM's distance between feature vectors (default correlation: 1 - Pearson r).")
@click.option("--comparison", type=click.Choice(COMPARISONS),
              help="rsa: how RDMs are compared, by their upper triangles (default spearman).")
@click.option("--stratify", help="pls/ridge: presentation coordinate to stratify the splits by (e.g. object_name).")
@click.option("--time-bin", help="pls/ridge: START,END in ms when the assembly has several time bins.")
@click.option("--device", default="auto", show_default=True, help="pls/ridge: auto (CUDA > MPS > CPU), cpu, cuda, mps.")
@options.threads_value
@options.as_json
def evaluate(features_path: str | None, rdm_path: str | None, assembly_path: str | None,
             probabilities_path: str | None, trials_path: str | None, metric: str, distance: str | None,
             comparison: str | None, stratify: str | None, time_bin: str | None, device: str, threads: int | None,
             as_json: bool) -> None:
    """Score precomputed model outputs against neural, RDM or behavioural data.

    FEATURES against a neural ASSEMBLY (pls, ridge), FEATURES or a model RDM against an RDM ASSEMBLY (rsa), or
    choice PROBABILITIES against human TRIALS (i2n); prints raw, ceiling, ceiled, its error (SEM over splits, or
    over subjects for rsa, of the per-unit ceiled score) and per-unit values; --json adds Brain-Score's own raw
    error (brainscore_raw_error) for pls/ridge.

    Examples: brainbench evaluate --features F.nc --assembly A.nc --stratify object_name --json;
    brainbench evaluate --metric rsa --features F.nc --assembly RDMs.nc --comparison kendall_tau_a;
    brainbench evaluate --metric i2n --probabilities P.nc --trials T.nc
    """
    # Torch's threads are set once it is imported, from the load that other processes put on the CPUs over our own
    # start-up (`brainbench.threads.configure(since=)`): no pause to measure it.
    started = cpu_threads.sample()
    rsa_only = {"--rdm": rdm_path, "--distance": distance, "--comparison": comparison}
    # rsa and i2n compute on the CPU: a --device given for them would be silently ignored.
    given_device = None if click.get_current_context().get_parameter_source("device") is ParameterSource.DEFAULT \
        else device
    if metric in BEHAVIOR_METRICS:
        _check_options(metric, needed={"--probabilities": probabilities_path, "--trials": trials_path},
                       refused={"--features": features_path, "--assembly": assembly_path, "--stratify": stratify,
                                "--time-bin": time_bin, "--device": given_device, **rsa_only})
        _evaluate_behavior(probabilities_path, trials_path, threads, started, as_json)
        return
    if metric in RSA_METRICS:
        _evaluate_rsa(features_path, rdm_path, assembly_path, distance, comparison, stratify, time_bin,
                      probabilities_path, trials_path, given_device, threads, started, as_json)
        return
    _check_options(metric, needed={"--features": features_path, "--assembly": assembly_path},
                   refused={"--probabilities": probabilities_path, "--trials": trials_path, **rsa_only})
    from brainbench.benchmarks.evaluate import evaluate_feature_files

    used = cpu_threads.configure(threads, since=started)
    result = evaluate_feature_files(features_path, assembly_path, metric=metric, stratify=stratify,
                                    time_bin=_time_bin(time_bin), device=device)
    if as_json:
        render.print_json({**result.to_dict(), "torch_threads": used})
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


def _evaluate_rsa(features_path: str | None, rdm_path: str | None, assembly_path: str | None, distance: str | None,
                  comparison: str | None, stratify: str | None, time_bin: str | None,
                  probabilities_path: str | None, trials_path: str | None, device: str | None, threads: int | None,
                  started: cpu_threads.Sample | None, as_json: bool) -> None:
    if bool(features_path) == bool(rdm_path):
        raise click.UsageError("--metric rsa needs exactly one of --features and --rdm (the model's features or its "
                               "RDM), and --assembly.")
    given = "--features" if features_path else "--rdm"
    _check_options("rsa", needed={given: features_path or rdm_path, "--assembly": assembly_path},
                   refused={"--probabilities": probabilities_path, "--trials": trials_path, "--stratify": stratify,
                            "--time-bin": time_bin, "--device": device,
                            **({"--distance": distance} if rdm_path else {})})
    from brainbench.benchmarks.evaluate import evaluate_rsa
    from brainbench.data.brainscore_format import read_assembly, read_rdm

    cpu_threads.configure(threads, since=started)
    model = read_assembly(features_path) if features_path else read_rdm(rdm_path, "The model RDM file")
    model_path = features_path or rdm_path
    result = evaluate_rsa(model, read_rdm(assembly_path, "The RDM assembly"), comparison=comparison or "spearman",
                          distance=distance or "correlation", scored=f"The evaluation of {model_path}",
                          data_name=str(assembly_path))
    if as_json:
        render.print_json(result.to_dict())
        return
    _print_scores(f"rsa ({result.comparison})  ·  {model_path} → {assembly_path}", result.raw, result.ceiling,
                  result.ceiled, result.error)
    render.stdout.print("per subject: " + " ".join(f"{s} {render.number(v)}" for s, v in
                                                   zip(result.subjects, result.subject_raw, strict=True)))
    rdm_note = f"model RDM: {result.distance} distance" if result.distance else "model RDM: given"
    lower = f"; Nili lower bound {render.number(result.ceiling_lower)}" if result.ceiling_lower is not None else ""
    render.stdout.print(f"{result.n_stimuli} stimuli; {rdm_note}; ceiled = {result.ceiled_formula}{lower}; "
                        f"error: {result.error_method}")
    for note in result.notes:
        render.stdout.print(f"note: {note}")


def _evaluate_behavior(probabilities_path: str, trials_path: str, threads: int | None,
                       started: cpu_threads.Sample | None, as_json: bool) -> None:
    from brainbench.benchmarks.evaluate import I2N_CEILED_FORMULA, evaluate_i2n
    from brainbench.data.loaders.brainscore_behavior import read_probabilities, read_trials

    cpu_threads.configure(threads, since=started)
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
