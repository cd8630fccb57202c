"""Writing a user benchmark definition from a few choices (``brainbench benchmarks add``).

Defaults (each written into the TOML, so the file says everything that moves the score):
- rsa: Spearman comparison of the model's 1 − Pearson RDM with the data RDMs; the layer chosen on one half of the
  stimuli and scored on the other, both ways, over 10 seeded halvings (stratified by ``stratify`` when given);
  ceiling: Nili et al.'s upper bound when the assembly holds ≥ 2 subjects, else none.
- neural: PLS with 25 components (or ridge), 10 shuffle splits of 90 % train, random_state 1; the layer committed
  on ``layer_assembly`` when given, else on a stratified half of the stimuli (scored on the other half); ceiling:
  internal consistency when the assembly holds ≥ 2 repetitions of its stimuli, else it must be given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brainbench.benchmarks.spec import CEILING_METHODS, PUBLISHED, BenchmarkSpec, parse_benchmark
from brainbench.data.authoring import check_name, refuse_clash, target_folder, toml_text, write_definition
from brainbench.definitions import DefinitionFile
from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    import xarray as xr

    from brainbench.data.assemblies import Dataset

KINDS = ("rsa", "neural")
REGRESSIONS = ("pls", "ridge")
NO_CEILING = "none"
REPETITION_HALVES = ("random", "alternate")
N_SPLITS = 10
PLS_COMPONENTS = 25


@dataclass(frozen=True)
class BenchmarkChoices:
    """What a user chooses for a new benchmark; None or '' means the documented default (module docstring)."""

    kind: str
    dataset: str
    region: str
    stimulus_degrees: float
    assembly: str = ""
    column: str | None = None
    comparison: str | None = None
    squared: bool = False
    ceiling: str | None = None
    ceiling_value: float | None = None
    ceiling_citation: str = ""
    regression: str = "pls"
    repetition_halves: str = "random"  # internal consistency: random split-halves, or "alternate" (even/odd trials)
    n_components: int | None = None
    layer_assembly: str = ""
    stratify: str = ""
    citation: str = ""
    description: str = ""


def _assembly(dataset: Dataset, name: str, option: str) -> tuple[str, xr.DataArray]:
    names = sorted(dataset.assemblies)
    if not name:
        if len(names) != 1:
            raise BrainbenchError(f"Dataset {dataset.manifest.name} has {len(names)} assemblies ({', '.join(names)}); "
                                  f"choose one with {option}.")
        name = names[0]
    if name not in dataset.assemblies:
        raise BrainbenchError(f"Dataset {dataset.manifest.name} has no assembly '{name}' (it has "
                              f"{', '.join(names)}); check {option}.")
    return name, dataset.assemblies[name]


def _repetitions(assembly: xr.DataArray) -> int:
    """The most repetitions of one stimulus in a neural assembly (presentation rows with one stimulus_id)."""
    if "presentation" not in assembly.dims or "stimulus_id" not in assembly.coords:
        return 1
    return max(Counter(str(s) for s in assembly["stimulus_id"].values).values(), default=1)


def _ceiling(choices: BenchmarkChoices, default: str | None, why_none: str) -> dict[str, Any]:
    method = choices.ceiling or (PUBLISHED if choices.ceiling_value is not None else default)
    if method is None:
        raise BrainbenchError(why_none)
    if method not in CEILING_METHODS[choices.kind]:
        raise BrainbenchError(f"Ceiling '{method}' is not one a {choices.kind} benchmark has; use one of "
                              f"{', '.join(CEILING_METHODS[choices.kind])}.")
    if method == PUBLISHED:
        if choices.ceiling_value is None or not choices.ceiling_citation:
            raise BrainbenchError("A published ceiling needs its value and its source: give --ceiling-value and "
                                  "--ceiling-citation.")
        return {"method": PUBLISHED, "value": choices.ceiling_value, "citation": choices.ceiling_citation}
    if choices.ceiling_value is not None or choices.ceiling_citation:
        raise BrainbenchError(f"--ceiling-value and --ceiling-citation are for --ceiling published, not '{method}'.")
    if choices.kind == "neural" and method == "internal_consistency":
        halves = {"repetitions": "alternate"} if choices.repetition_halves == "alternate" else {}
        return {"method": method, **halves, "n_splits": N_SPLITS, "random_state": 1}
    if choices.repetition_halves != "random":
        raise BrainbenchError("--repetition-halves is for the internal-consistency ceiling of a neural benchmark.")
    return {"method": method}


def _check_stratify(dataset: Dataset, column: str) -> None:
    if column and column not in dataset.stimuli.metadata.columns:
        raise BrainbenchError(f"The stimuli of {dataset.manifest.name} have no column '{column}' to stratify by "
                              f"(they have {', '.join(map(str, dataset.stimuli.metadata.columns)) or 'none'}).")


def _rsa_tables(choices: BenchmarkChoices, assembly: xr.DataArray) -> dict[str, Any]:
    if choices.regression != "pls" or choices.n_components is not None or choices.layer_assembly:
        raise BrainbenchError("--regression, --n-components and --layer-assembly are for neural benchmarks; an rsa "
                              "benchmark chooses its layer on held-out halves of its stimuli.")
    subjects = int(assembly.sizes.get("subject", 1))
    metric: dict[str, Any] = {"comparison": choices.comparison or "spearman"}
    if choices.squared:
        metric["squared"] = True
    selection: dict[str, Any] = {"n_splits": N_SPLITS, "seed": 0}
    if choices.stratify:
        selection["stratify"] = choices.stratify
    default = None if choices.squared else "nili_upper" if subjects >= 2 else NO_CEILING
    ceiling = _ceiling(choices, default, "--squared scores squared correlations, which only a published R² ceiling "
                                         "bounds: give --ceiling-value and --ceiling-citation.")
    return {"metric": metric, "layer_selection": selection, "ceiling": ceiling}


def _neural_tables(choices: BenchmarkChoices, dataset: Dataset, name: str, assembly: xr.DataArray) -> dict[str, Any]:
    if choices.comparison or choices.squared:
        raise BrainbenchError("--comparison and --squared are for rsa benchmarks.")
    if choices.regression not in REGRESSIONS:
        raise BrainbenchError(f"Unknown regression '{choices.regression}'; use one of {', '.join(REGRESSIONS)}.")
    metric: dict[str, Any] = {"regression": choices.regression}
    if choices.regression == "pls":
        metric["n_components"] = choices.n_components or PLS_COMPONENTS
    elif choices.n_components is not None:
        raise BrainbenchError("--n-components is for --regression pls.")
    metric |= {"n_splits": N_SPLITS, "train_size": 0.9, "random_state": 1}
    if choices.stratify:
        metric["stratify"] = choices.stratify
    if choices.layer_assembly:
        layer_name, _ = _assembly(dataset, choices.layer_assembly, "--layer-assembly")
        if layer_name == name:
            raise BrainbenchError("--layer-assembly must differ from the scored assembly (a layer committed on the "
                                  "scored data would be chosen on its own test set).")
        selection: dict[str, Any] = {"assembly": layer_name}
    else:
        selection = {"method": "stratified_half", "seed": 0}
    repetitions = _repetitions(assembly)
    why = (f"Assembly {name} holds one repetition per stimulus, so its internal-consistency ceiling cannot be "
           "computed; give --ceiling none (raw scores, fed to no leaderboard column unless --column) or --ceiling "
           "published with --ceiling-value and --ceiling-citation.")
    if choices.ceiling == "internal_consistency" and repetitions < 2:
        raise BrainbenchError(why)
    ceiling = _ceiling(choices, "internal_consistency" if repetitions >= 2 else None, why)
    return {"metric": metric, "layer_selection": selection, "ceiling": ceiling}


def benchmark_fields(identifier: str, choices: BenchmarkChoices, dataset: Dataset) -> dict[str, Any]:
    """The TOML-ready fields of benchmark ``identifier`` over the loaded ``dataset`` (nothing written)."""
    if choices.kind not in KINDS:
        raise BrainbenchError(f"`benchmarks add` writes {' and '.join(KINDS)} benchmarks, not '{choices.kind}'; "
                              "write other kinds' TOML by hand (see the built-in benchmarks).")
    name, assembly = _assembly(dataset, choices.assembly, "--assembly")
    _check_stratify(dataset, choices.stratify)
    if choices.kind == "rsa":
        tables = _rsa_tables(choices, assembly)
    else:
        tables = _neural_tables(choices, dataset, name, assembly)
    fields: dict[str, Any] = {
        "id": identifier, "version": 1, "kind": choices.kind, "region": choices.region,
        "dataset": dataset.manifest.name, "assembly": name, "stimulus_degrees": choices.stimulus_degrees,
        "description": choices.description or f"{choices.region} ({dataset.manifest.name}, assembly {name}): "
                                               f"{_what(choices.kind, tables)}.",
    }
    if choices.citation or dataset.manifest.citations:
        fields["citation"] = choices.citation or "; ".join(dataset.manifest.citations)
    if choices.column is not None:
        fields["column"] = choices.column
    return fields | tables


def _what(kind: str, tables: dict[str, Any]) -> str:
    ceiling = tables["ceiling"]["method"]
    if kind == "rsa":
        comparison = tables["metric"]["comparison"] + (" squared" if tables["metric"].get("squared") else "")
        return f"RSA ({comparison}) of the model's RDM, ceiling {ceiling}"
    metric = tables["metric"]
    regression = f"PLS-{metric['n_components']}" if metric["regression"] == "pls" else "ridge"
    return f"{regression} predictivity, {metric['n_splits']} splits, ceiling {ceiling}"


def add_benchmark(
    identifier: str,
    choices: BenchmarkChoices,
    folder: str | Path | None = None,
    force: bool = False,
    definitions: Sequence[str | Path] = (),
    mirrors: Sequence[Path] | None = None,
    allow_download: bool = True,
) -> tuple[Path, BenchmarkSpec]:
    """Write ``<folder>/benchmarks/<identifier>.toml`` (``folder``: default ``<BRAINBENCH_HOME>``).

    The dataset is loaded (``definitions``: extra definition folders to find it in; ``mirrors``/``allow_download``
    as for scoring) so that the defaults can follow its assemblies; the written definition is then parsed and
    checked as ``benchmarks check`` checks it. A problem is one sentence and nothing is written; an id taken by
    another definition is refused; an existing file needs ``force``.
    """
    from brainbench.data import load_dataset

    check_name(identifier, "benchmark")
    root, origin = target_folder(folder)
    target = root / "benchmarks" / f"{identifier}.toml"
    refuse_clash("benchmarks", "id", identifier, target, root, force)
    searched = [*definitions, *([root] if root.is_dir() and folder else [])]
    dataset = load_dataset(choices.dataset, mirrors, allow_download, definitions=searched)
    text = toml_text(benchmark_fields(identifier, choices, dataset),
                     "Written by `brainbench benchmarks add`; edit it freely (bump version when a change can move "
                     "a score) and check it with `brainbench benchmarks check`.")
    spec = _checked(text, target, origin, dataset)
    write_definition(target, text)
    return target, spec


def _checked(text: str, target: Path, origin: str, dataset: Dataset) -> BenchmarkSpec:
    """Parse the definition text as the commands will and run `benchmarks check`'s checks on it (static: the text
    as written; data: the loaded dataset); any problem refuses it, one sentence each."""
    import tomllib

    from brainbench.benchmarks.checks import data_problems, static_problems

    raw = tomllib.loads(text)
    problems = static_problems(raw)
    spec = parse_benchmark(raw, target, DefinitionFile(target, origin))
    problems = problems or data_problems(spec, dataset)
    if problems:
        raise BrainbenchError(f"Benchmark {spec.id} would not run, so nothing was written: {' '.join(problems)}")
    return spec
