"""``brainbench models list`` and ``brainbench benchmarks list``."""

from __future__ import annotations

import dataclasses
import fnmatch
import math

import click
from rich.table import Table
from rich.text import Text

from brainbench import paths
from brainbench.benchmarks.spec import BenchmarkSpec, list_benchmarks
from brainbench.cli import options, render
from brainbench.cli.authoring import benchmarks_add
from brainbench.cli.check import check as benchmarks_check
from brainbench.cli.lazy import LazyGroup
from brainbench.definitions import definition_fields, where


@click.group(cls=LazyGroup, lazy={"show": (
    "brainbench.cli.inspect:show",
    "Architecture, parameters, weights, visual degrees, input size and candidate layers with their RFs.")})
def models() -> None:
    """Models brainbench can score."""


@models.command("list")
@click.argument("pattern", default="*")
@options.as_json
def models_list(pattern: str, as_json: bool) -> None:
    """List model ids matching PATTERN: built-ins, or 'timm:resnet*', 'torchvision:*'."""
    from brainbench.models.registry import list_models, registered_models  # torch: only where models are used

    names = list_models(pattern)
    known = registered_models()
    if as_json:  # every field of a registered model's definition; timm/torchvision names: their origin
        render.print_json([_model_fields(known[name]) if name in known else
                           {"name": name, "origin": name.split(":")[0]} for name in names])
        return
    if not names:
        render.stdout.print(f"No model matches '{pattern}'; `brainbench models list` shows the built-ins, "
                            "'timm:*' and 'torchvision:*' the others.")
        return
    table = Table(title=f"models matching {pattern}")
    table.add_column("model", no_wrap=True)
    table.add_column("origin")
    table.add_column("description", overflow="fold")
    for name in names:
        spec = known.get(name)
        table.add_row(name, spec.origin if spec else name.split(":")[0], spec.description if spec else "")
    render.stdout.print(table)
    if ":" not in pattern:
        render.stdout.print("Any timm or torchvision model is also available as timm:NAME or torchvision:NAME.")


def _model_fields(spec: object) -> dict:
    """A ModelSpec's fields for JSON (a decorated plugin's function by its qualified name)."""
    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    entry = fields["entry"]
    fields["entry"] = entry if entry is None or isinstance(entry, str) else getattr(entry, "__qualname__", str(entry))
    return fields


def _floats(value: str | None, option: str, positive: bool = False) -> list[float] | None:
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as exc:
        raise click.BadParameter("give three numbers, e.g. 0.485,0.456,0.406", param_hint=option) from exc
    if len(numbers) != 3:
        raise click.BadParameter("give three numbers, one per colour channel", param_hint=option)
    if not all(math.isfinite(v) and (v > 0 or not positive) for v in numbers):
        raise click.BadParameter(f"give three finite numbers{' above 0' if positive else ''}", param_hint=option)
    return numbers


@models.command("register")
@click.argument("name")
@click.option("--from", "entry", help="The plugin function: FILE.py:FUNCTION or package.module:FUNCTION.")
@click.option("--timm", "timm_arch", help="A timm architecture (e.g. resnet50).")
@click.option("--torchvision", "torchvision_arch", help="A torchvision architecture (e.g. alexnet).")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False), help="A state_dict file to load.")
@click.option("--layers", multiple=True, help="Candidate layers (comma-separated or repeated).")
@click.option("--visual-degrees", type=options.PositiveFloat(), metavar="DEGREES",
              help="The model's field of view in degrees (default 8).")
@click.option("--input-size", type=click.IntRange(min=1), help="Input size in pixels (square).")
@click.option("--mean", help="Normalisation mean per channel, e.g. 0.485,0.456,0.406.")
@click.option("--std", help="Normalisation std per channel, e.g. 0.229,0.224,0.225.")
@click.option("--description", default="", help="One line shown by `models list`.")
@click.option("--replace", is_flag=True, help="Overwrite an earlier registration of NAME.")
def models_register(name: str, entry: str | None, timm_arch: str | None, torchvision_arch: str | None,
                    weights: str | None, layers: tuple[str, ...], visual_degrees: float | None,
                    input_size: int | None, mean: str | None, std: str | None, description: str,
                    replace: bool) -> None:
    """Register NAME so that `brainbench score NAME …` works; the model is built and run first.

    Example: brainbench models register mynet --from my_models.py:build_mynet
    """
    from brainbench.cli.options import split_layers
    from brainbench.models.registration import register

    given = [(s, t) for s, t in (("plugin", entry), ("timm", timm_arch), ("torchvision", torchvision_arch)) if t]
    if len(given) != 1:
        raise click.UsageError("Give exactly one of --from, --timm or --torchvision.")
    source, target = given[0]
    path, model = register(
        name, source, target, weights=weights, layers=split_layers(layers), visual_degrees=visual_degrees,
        input_size=input_size, mean=_floats(mean, "--mean"), std=_floats(std, "--std", positive=True),
        description=description, replace=replace,
    )
    render.stdout.print(
        f"registered {name}: {model.architecture}, {len(model.layers)} candidate layers, "
        f"weights {model.weights_digest[:12]} ({model.weights_origin}); entry {path}"
    )


@models.command("unregister")
@click.argument("name")
def models_unregister(name: str) -> None:
    """Remove NAME from the user registry."""
    from brainbench.models.registration import unregister

    render.stdout.print(f"unregistered {name} ({unregister(name)} removed)")


@click.group()
def benchmarks() -> None:
    """Benchmarks brainbench can run."""


benchmarks.add_command(benchmarks_add)
benchmarks.add_command(benchmarks_check)


@benchmarks.command("list")
@click.argument("pattern", default="*")
@click.option("--region", help="Only the benchmarks of this region (e.g. V4, IT, or a user benchmark's EVC).")
@options.definitions
@options.data_mirror
@options.as_json
def benchmarks_list(pattern: str, region: str | None, definitions: tuple[str, ...], data_mirrors: tuple[str, ...],
                    as_json: bool) -> None:
    """List the benchmarks whose id matches PATTERN, and whether each can run now.

    PATTERN is an id or a wildcard pattern, e.g. 'Marques2020.*'. data: where its dataset would come from
    (embedded, cached, mirror, network) or unavailable; see `brainbench data list`. from: built-in, or the file
    of a user definition (BRAINBENCH_HOME, BRAINBENCH_DEFINITIONS, --definitions).
    """
    from brainbench.data.fetch import availability
    from brainbench.data.manifest import list_manifests

    known = list_benchmarks(definitions)
    regions = sorted({s.region for s in known.values()})
    if region is not None and region not in regions:
        raise click.BadParameter(f"no benchmark has region '{region}'; the regions are {', '.join(regions)}",
                                 param_hint="--region")
    specs = [s for s in known.values()
             if fnmatch.fnmatchcase(s.id, pattern) and (region is None or s.region == region)]
    mirrors = paths.mirror_dirs(list(data_mirrors))
    manifests = {m.name: m for m in list_manifests(definitions)}
    status = {name: availability(manifests[name], mirrors).status if name in manifests else "unavailable"
              for name in {s.dataset for s in specs}}
    if as_json:
        render.print_json([{**_spec_fields(s), "parameters": s.parameters(), "availability": status[s.dataset]}
                           for s in specs])
        return
    if not specs:
        render.stdout.print(f"No benchmark matches '{pattern}'" + (f" in {region}" if region else "")
                            + "; `brainbench benchmarks list` shows them all.")
        return
    # Ids are never cut or folded (they are copied and grepped): one row per benchmark when the table fits,
    # else one block per benchmark. Descriptions only where they fit.
    console = render.console_now()
    rows = [(s.id, str(s.version), s.kind, s.region, s.dataset, status[s.dataset], where(s.definition))
            for s in specs]
    for with_description in (True, False):
        table = render.compact_table(title=f"benchmarks matching {pattern}" + (f" in {region}" if region else ""))
        for column in ("benchmark", "v", "kind", "region", "dataset", "data", "from",
                       *(("description",) if with_description else ())):
            table.add_column(column, no_wrap=True)
        for row, s in zip(rows, specs, strict=True):
            table.add_row(*(Text(cell) for cell in row), *((Text(s.description),) if with_description else ()))
        if render.natural_width(console, table) <= console.width:
            console.print(table)
            if not with_description:
                console.print("Descriptions: `brainbench benchmarks list --json`, or a wider terminal.")
            return
    for identifier, version, kind, region_, dataset, data, origin in rows:
        console.print(Text(f"{identifier}  v{version}"))
        source = origin if origin == "built-in" else f"from {origin}"
        console.print(Text(f"    {kind} · {region_} · dataset {dataset} · data: {data} · {source}"))
    console.print("Descriptions: `brainbench benchmarks list --json`, or a wider terminal.")


def _spec_fields(spec: BenchmarkSpec) -> dict:
    """A benchmark's fields for JSON, with where it was defined: ``origin`` ('built-in', 'home',
    'BRAINBENCH_DEFINITIONS', '--definitions') and ``file`` (the TOML's path)."""
    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "definition"}
    return {**fields, **definition_fields(spec.definition)}
