"""``brainbench data add`` and ``brainbench benchmarks add``: user definitions written from the terminal."""

from __future__ import annotations

from pathlib import Path

import click

from brainbench import paths
from brainbench.cli import options, render
from brainbench.leaderboard.record import REGIONS

_WRITE_INTO = click.option(
    "--definitions", "folder", type=click.Path(file_okay=False), metavar="DIR",
    help="The user definitions folder to write into (created if needed; default: <BRAINBENCH_HOME>). Use it "
    "later with --definitions DIR or BRAINBENCH_DEFINITIONS.",
)


def _per_assembly(values: tuple[str, ...], count: int, option: str, once_for_all: bool) -> list[str]:
    """One value per assembly, in order ('' where none was given); one value may stand for all."""
    if not values:
        return [""] * count
    if once_for_all and len(values) == 1:
        return list(values) * count
    if len(values) != count:
        raise click.BadParameter(f"give it once per assembly ({count}, in the order --rdms, --responses, --trials)"
                                 + (" or once for all" if once_for_all else ""), param_hint=option)
    return list(values)


@click.command("add")
@click.argument("name")
@click.option("--stimuli", required=True, multiple=True, type=click.Path(exists=True), metavar="DIR|ZIP",
              help="The images: a folder (.png/.jpg, searched recursively) or a .zip file. Repeatable: then once per "
              "assembly in order, and each source's stimulus_ids are prefixed with its zip or folder name and '_'.")
@click.option("--stimulus-csv", "stimulus_csvs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="FILE", help="A CSV with columns stimulus_id, filename (inside the folder or zip) and any "
              "metadata; its row order is the stimulus order (without it: file names sorted, stimulus_id = the file's "
              "stem). Once per --stimuli, in order.")
@click.option("--category", metavar="COLUMN",
              help="A column of the stimulus CSV to stratify splits by (checked to exist).")
@click.option("--rdms", multiple=True, metavar="FILE[:VAR]",
              help="An RDM or a stack of RDMs (.npy, .npz, .nc, .mat; VAR: the variable, a struct field as var.field); "
              "repeatable.")
@click.option("--responses", multiple=True, metavar="FILE[:VAR]",
              help="Responses: stimulus × neuroid [× repetition] [× time_bin] (.npy, .npz, .nc, .mat); repeatable.")
@click.option("--trials", multiple=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="A CSV of behavioural trials (stimulus_id, choice, truth, subject); repeatable.")
@click.option("--dims", multiple=True, metavar="D1,D2,...",
              help="The array's axis names, one per axis (e.g. subject,stimulus,stimulus); once per assembly in order "
              "('-' keeps the default) or once for all. Default by axes: rdm n×n → stimulus,stimulus; s×n×n → "
              "subject,stimulus,stimulus; s×k×n×n → subject,session,stimulus,stimulus; responses 2 axes → "
              "stimulus,neuroid; 3 → stimulus,neuroid,repetition.")
@click.option("--assembly", "assembly_names", multiple=True, metavar="NAME",
              help="The assemblies' names, once per assembly in order (default: NAME.<file stem>).")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="The brain region recorded (free text: V4, IT, EVC, FFA, ...); once for all or once per assembly.")
@click.option("--title", default="", help="One line shown by `brainbench data list`.")
@click.option("--citation", "citations", multiple=True, help="Whom to cite; repeatable.")
@click.option("--licence", default="", help="The data's licence (e.g. CC-BY-4.0).")
@click.option("--copy", is_flag=True,
              help="Copy the files into brainbench's data cache (the manifest then needs no local path).")
@_WRITE_INTO
@click.option("--force", is_flag=True, help="Replace an existing manifest of that name in the folder.")
def data_add(name: str, stimuli: tuple[str, ...], stimulus_csvs: tuple[str, ...], category: str | None,
             rdms: tuple[str, ...],
             responses: tuple[str, ...], trials: tuple[str, ...], dims: tuple[str, ...],
             assembly_names: tuple[str, ...], regions: tuple[str, ...], title: str, citations: tuple[str, ...],
             licence: str, copy: bool, folder: str | None, force: bool) -> None:
    """Add dataset NAME from your own files: writes its manifest (sha256 of every file) after loading it once.

    Assemblies are taken in the order --rdms, --responses, --trials (each in the order given); --assembly, --dims and
    --region follow that order. Example: brainbench data add mylab_it --stimuli images/ --stimulus-csv stimuli.csv
    --rdms it_rdms.mat:RDMs.RDM --dims group,subject,session,stimulus,stimulus --region IT
    """
    from brainbench.data.authoring import AssemblySource, ImageSource, add_dataset, split_variable, summary

    given = [("rdm", v) for v in rdms] + [("responses", v) for v in responses] + [("trials", v) for v in trials]
    if not given:
        raise click.UsageError("Give the data: --rdms, --responses or --trials (each repeatable).")
    names = _per_assembly(assembly_names, len(given), "--assembly", once_for_all=False)
    axes = _per_assembly(dims, len(given), "--dims", once_for_all=True)
    places = _per_assembly(regions, len(given), "--region", once_for_all=True)
    sources = []
    for (kind, value), assembly, dim, region in zip(given, names, axes, places, strict=True):
        file, variable = (Path(value), "") if kind == "trials" else split_variable(value)
        order = tuple(d.strip() for d in dim.split(",") if d.strip()) if dim not in ("", "-") else None
        sources.append(AssemblySource(kind, file, variable, order, assembly, region))
    if stimulus_csvs and len(stimulus_csvs) != len(stimuli):
        raise click.BadParameter(f"give it once per --stimuli ({len(stimuli)}), in the same order",
                                 param_hint="--stimulus-csv")
    images = [ImageSource(Path(s), Path(c) if c else None)
              for s, c in zip(stimuli, stimulus_csvs or [""] * len(stimuli), strict=True)]
    added = add_dataset(name, images, sources, category, title, citations, licence, copy, folder, force)
    render.stdout.print(f"wrote {added.path}", markup=False, soft_wrap=True)
    if added.copied:
        render.stdout.print(f"copied {len(added.copied)} file(s) into {paths.data_cache() / name}", markup=False,
                            soft_wrap=True)
    render.stdout.print(summary(added), markup=False, soft_wrap=True)


@click.command("add")
@click.argument("identifier", metavar="ID")
@click.option("--dataset", required=True, help="The dataset it scores on (see `brainbench data list`).")
@click.option("--kind", required=True, type=click.Choice(["rsa", "neural"]),
              help="rsa: the model's RDM vs the data RDMs; neural: regression from a layer to the responses.")
@click.option("--region", required=True, help="The brain region, free text (V4, IT, EVC, FFA, hV4, MT, ...).")
@click.option("--stimulus-degrees", required=True, type=options.PositiveFloat(), metavar="DEGREES",
              help="How large the stimuli were shown, in degrees of visual angle.")
@click.option("--assembly", default="", help="The assembly scored (default: the dataset's only one).")
@click.option("--column", type=click.Choice([*REGIONS, "none"]),
              help="The leaderboard column it feeds (default: the region if it is a column and the score is ceiled).")
@click.option("--comparison", type=click.Choice(["spearman", "kendall_tau_a", "pearson"]),
              help="rsa: how RDMs are compared (default spearman).")
@click.option("--squared", is_flag=True, help="rsa: score the squared correlation (with a published R² ceiling).")
@click.option("--ceiling", type=click.Choice(["nili_upper", "nili_lower", "internal_consistency", "published", "none"]),
              help="The noise ceiling (default: rsa nili_upper with ≥ 2 subjects, else none; neural "
              "internal_consistency when the data hold repetitions, else required).")
@click.option("--ceiling-value", type=options.PositiveFloat(), metavar="X", help="A published ceiling's value.")
@click.option("--ceiling-citation", default="", help="Where the published ceiling comes from.")
@click.option("--regression", type=click.Choice(["pls", "ridge"]), default="pls", show_default=True,
              help="neural: the regression from a layer to the responses.")
@click.option("--repetition-halves", type=click.Choice(["random", "alternate"]), default="random",
              show_default=True, help="neural, internal-consistency ceiling: split each stimulus's repetitions into "
              "random halves, or alternate (even/odd trials).")
@click.option("--n-components", type=click.IntRange(min=1), help="neural, pls: components (default 25).")
@click.option("--layer-assembly", default="",
              help="neural: commit the layer on this other assembly of the dataset (default: on a stratified half "
              "of the stimuli, scoring the other half).")
@click.option("--stratify", default="", metavar="COLUMN", help="A stimulus metadata column to stratify splits by.")
@click.option("--citation", default="", help="Whom to cite (default: the dataset's citations).")
@click.option("--description", default="", help="One line shown by `brainbench benchmarks list --json`.")
@_WRITE_INTO
@click.option("--force", is_flag=True, help="Replace an existing definition of that id in the folder.")
@options.data_mirror
@options.offline
def benchmarks_add(identifier: str, dataset: str, kind: str, region: str, stimulus_degrees: float, assembly: str,
                   column: str | None, comparison: str | None, squared: bool, ceiling: str | None,
                   ceiling_value: float | None, ceiling_citation: str, regression: str, repetition_halves: str,
                   n_components: int | None,
                   layer_assembly: str, stratify: str, citation: str, description: str, folder: str | None,
                   force: bool, data_mirrors: tuple[str, ...], offline: bool) -> None:
    """Add benchmark ID over a dataset: writes its TOML with documented defaults, after checking it.

    Example: brainbench benchmarks add MyLab.IT-rsa --dataset mylab_it --kind rsa --region IT
    --stimulus-degrees 2.9 --stratify category
    """
    from brainbench.benchmarks.authoring import BenchmarkChoices, add_benchmark

    choices = BenchmarkChoices(
        kind=kind, dataset=dataset, region=region, stimulus_degrees=stimulus_degrees, assembly=assembly,
        column=column, comparison=comparison, squared=squared, ceiling=ceiling, ceiling_value=ceiling_value,
        ceiling_citation=ceiling_citation, regression=regression, repetition_halves=repetition_halves,
        n_components=n_components, layer_assembly=layer_assembly, stratify=stratify, citation=citation,
        description=description,
    )
    path, spec = add_benchmark(identifier, choices, folder, force, mirrors=paths.mirror_dirs(list(data_mirrors)),
                               allow_download=not offline)
    ceiling_method = spec.ceiling.get("method", "none")
    render.stdout.print(f"wrote {path}", markup=False, soft_wrap=True)
    render.stdout.print(f"{spec.id}: {spec.kind} on {spec.dataset} (assembly {spec.assembly}), region {spec.region}, "
                        f"ceiling {ceiling_method}; score it with `brainbench score MODEL -b {spec.id}`",
                        markup=False, soft_wrap=True)
