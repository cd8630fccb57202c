"""Checks of a benchmark definition before any model work: one sentence per problem.

Static checks read the definition alone (its keys, the kind, value types and ranges, which keys go together);
data checks read the loaded dataset (the named assemblies exist, have the shape the kind needs, the stimuli they
name are in the stimulus set, a requested ceiling is computable). ``score``, ``layers`` and ``benchmarks check``
run both.

Unknown keys are found in the raw TOML: the top-level keys are read again from the file the spec came from
(:class:`BenchmarkSpec` keeps only the keys it knows), the tables (``[metric]``, ``[layer_selection]``,
``[ceiling]``) are kept verbatim in the spec. A spec built in Python has no file: its fields are its keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from brainbench.benchmarks.behavior import mapping_names, mapping_problem
from brainbench.benchmarks.kinds import KINDS
from brainbench.benchmarks.neural import neural_data, select_region, select_time_bin
from brainbench.benchmarks.rsa import subject_rdms
from brainbench.benchmarks.spec import (
    CEILING_METHODS,
    NO_COLUMN,
    PUBLISHED,
    RSA_COMPARISONS,
    BenchmarkSpec,
    parse_benchmark,
)
from brainbench.data.assemblies import RDM_DIMS, Dataset
from brainbench.definitions import DefinitionFile, read_toml
from brainbench.errors import BrainbenchError, suggest
from brainbench.leaderboard import REGIONS
from brainbench.metrics.predictivity import REGRESSION_METHODS

#: What is wrong with one value ("must be …", without the key), or None when it is fine.
Check = Callable[[Any], str | None]


def _whole(minimum: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"must be a whole number of at least {minimum}"
        return None
    return check


def _number(low: float, high: float = math.inf, high_closed: bool = False) -> Check:
    """A finite number above ``low`` and below ``high`` (or up to it, ``high_closed``)."""
    def check(value: Any) -> str | None:
        fine = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and \
            low < value and (value <= high if high_closed else value < high)
        if fine:
            return None
        if high == math.inf:
            return f"must be a number above {low:g}"
        return f"must be a number above {low:g} and {'at most' if high_closed else 'below'} {high:g}"
    return check


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _any_text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _interval(value: Any) -> str | None:
    """[start, end] in ms."""
    fine = isinstance(value, list) and len(value) == 2 and all(
        not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v) for v in value) \
        and value[0] < value[1]
    return None if fine else "must be [start, end] in ms, two numbers with start < end"


def _positive_numbers(value: Any) -> str | None:
    fine = isinstance(value, list) and value and all(
        not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in value)
    return None if fine else "must be a non-empty list of numbers above 0"


@dataclass(frozen=True)
class OneOf:
    """A value that must be one of ``choices`` (a typo gets a "did you mean"); ``choices`` may be a function giving
    them, for tables that can grow after import (the kinds)."""

    given: tuple[str, ...] | Callable[[], Sequence[str]]

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.given() if callable(self.given) else self.given)

    def __call__(self, value: Any) -> str | None:
        choices = self.choices
        return None if isinstance(value, str) and value in choices else "is not one of " + ", ".join(choices)


#: Every top-level key of a benchmark TOML, and which must be there.
TOP_LEVEL: dict[str, Check] = {
    "id": _text, "version": _whole(1), "kind": OneOf(lambda: tuple(KINDS)), "region": _text, "dataset": _text,
    "assembly": _text, "stimulus_degrees": _number(0), "description": _any_text, "citation": _any_text,
    "column": OneOf((*REGIONS, NO_COLUMN)),
}
REQUIRED = ("id", "version", "kind", "region", "dataset", "assembly", "stimulus_degrees")
TABLES = ("metric", "layer_selection", "ceiling")

_PUBLISHED = {"value": _number(0, 1, high_closed=True), "citation": _text}  # method = PUBLISHED
_SPLIT_SEED = {"n_splits": _whole(2), "seed": _whole(0)}

#: Per kind, the keys each table may hold (read from the kinds' code: grep spec.metric, spec.layer_selection,
#: spec.ceiling in brainbench/benchmarks/). A kind missing here (e.g. from a plugin) gets no key checks.
KIND_KEYS: dict[str, dict[str, dict[str, Check]]] = {
    "rsa": {
        "metric": {"comparison": OneOf(RSA_COMPARISONS), "squared": _boolean},
        "layer_selection": {"layer": OneOf(("readout",)), "stratify": _text, **_SPLIT_SEED},
        "ceiling": {"method": OneOf(CEILING_METHODS["rsa"]), **_PUBLISHED},
    },
    "neural": {
        "metric": {"regression": OneOf(REGRESSION_METHODS), "n_components": _whole(1), "n_splits": _whole(2),
                   "train_size": _number(0, 1), "random_state": _whole(0), "alphas": _positive_numbers,
                   "stratify": _text, "time_bin": _interval, "time_window": _interval},
        "layer_selection": {"assembly": _text, "method": OneOf(("stratified_half",)), "seed": _whole(0)},
        "ceiling": {"method": OneOf(CEILING_METHODS["neural"]), "repetitions": OneOf(("alternate",)),
                    "n_splits": _whole(2), "random_state": _whole(0), **_PUBLISHED},
    },
    "v1_properties": {
        "metric": {"n_bootstrap": _whole(1)},
        "layer_selection": _SPLIT_SEED,
        "ceiling": {"method": OneOf(("split_half",))},
    },
    "behavior_shape_bias": {"metric": {}, "layer_selection": {}, "ceiling": {}},
    "behavior_error_consistency": {"metric": {}, "layer_selection": {}, "ceiling": {}},
    "behavior_i2n": {"metric": {"probe_folds": _whole(2), "probe_seed": _whole(0)}, "layer_selection": {},
                     "ceiling": {}},
}


def _value_problem(where: str, key: str, value: Any, check: Check) -> str | None:
    what = check(value)
    if what is None:
        return None
    if isinstance(check, OneOf) and isinstance(value, str):
        return f"{where}{key} '{value}' {what}.{suggest(value, check.choices)}"
    return f"{where}{key} = {value!r} {what}."


def _unknown_key(where: str, key: str, known: Sequence[str], kind: str | None) -> str:
    of = f" for kind {kind}" if kind else ""
    if not known:
        return f"{where}is not read{of}; remove the key '{key}'."
    return f"{where}has no key '{key}'{of} (keys: {', '.join(known)}).{suggest(key, known)}"


def static_problems(raw: Mapping[str, Any]) -> list[str]:
    """What is wrong with a benchmark definition (parsed TOML) on its own: unknown or missing keys, an unknown kind,
    values of the wrong type or range, keys that need each other. One sentence per problem; none: fine."""
    problems = []
    for key, value in raw.items():
        if key in TABLES:
            if not isinstance(value, dict):
                problems.append(f"{key} must be a table ([{key}]).")
        elif key not in TOP_LEVEL:
            problems.append(_unknown_key("the definition ", key, [*TOP_LEVEL, *TABLES], None))
        elif (problem := _value_problem("", key, value, TOP_LEVEL[key])) is not None:
            problems.append(problem)
    problems += [f"the required key '{key}' is missing." for key in REQUIRED if key not in raw]
    kind = raw.get("kind")
    tables = {name: raw.get(name) if isinstance(raw.get(name), dict) else {} for name in TABLES}
    keys = KIND_KEYS.get(kind) if isinstance(kind, str) else None
    if keys is None:
        return problems
    for name in TABLES:
        known = keys[name]
        for key, value in tables[name].items():
            if key not in known:
                problems.append(_unknown_key(f"[{name}] ", key, list(known), kind))
            elif (problem := _value_problem(f"[{name}] ", key, value, known[key])) is not None:
                problems.append(problem)
    problems += _ceiling_problems(tables["ceiling"], keys["ceiling"])
    if kind == "neural":
        problems += _neural_problems(tables["metric"], tables["layer_selection"], tables["ceiling"])
        if tables["layer_selection"].get("assembly") == raw.get("assembly"):
            problems.append("[layer_selection] assembly is the scored assembly itself, so the layer would be chosen "
                            "on the data it is scored on; name another assembly, or method = \"stratified_half\".")
    if kind == "rsa" and tables["metric"].get("squared") is True and tables["ceiling"].get("method") != PUBLISHED:
        problems.append(f"[metric] squared = true needs a published R² ceiling ([ceiling] method = \"{PUBLISHED}\", "
                        "value, citation): the Nili bounds bound correlations, not squared correlations.")
    return problems


def _ceiling_problems(ceiling: Mapping[str, Any], known: Mapping[str, Check]) -> list[str]:
    """A published ceiling names its value and citation; computed ceilings take neither."""
    if "value" not in known or known["method"](ceiling.get("method", PUBLISHED)) is not None:
        return []  # (a misspelt method is a problem of its own)
    if ceiling.get("method") == PUBLISHED:
        return [f"[ceiling] method '{PUBLISHED}' needs {key} = {example}." for key, example in
                (("value", "0.62 (the published ceiling)"), ("citation", '"..." (where it is published)'))
                if key not in ceiling]
    return [f"[ceiling] {key} is read only with method = '{PUBLISHED}'; remove it or set that method."
            for key in ("value", "citation") if key in ceiling]


def _neural_problems(metric: Mapping[str, Any], selection: Mapping[str, Any], ceiling: Mapping[str, Any]) -> list[str]:
    problems = []
    if ("assembly" in selection) == ("method" in selection):
        problems.append("[layer_selection] needs exactly one of assembly = \"<another assembly of the dataset>\" "
                        "or method = \"stratified_half\" (how the layer is committed).")
    if "seed" in selection and "method" not in selection:
        problems.append("[layer_selection] seed is read only with method = \"stratified_half\".")
    regression = metric.get("regression", "pls")
    if regression not in REGRESSION_METHODS:  # a problem of its own
        regression = None
    if "n_components" in metric and regression == "ridge":
        problems.append(f"[metric] n_components is read only with regression = \"pls\" (this is {regression}).")
    if "alphas" in metric and regression == "pls":
        problems.append(f"[metric] alphas is read only with regression = \"ridge\" (this is {regression}).")
    if "time_bin" in metric and "time_window" in metric:
        problems.append("[metric] gives both time_bin and time_window; keep one (time_window averages the bins "
                        "inside it, time_bin picks one).")
    method = ceiling.get("method", CEILING_METHODS["neural"][0])
    for key in ("repetitions", "n_splits", "random_state"):  # (a misspelt method is a problem of its own)
        if key in ceiling and method != "internal_consistency" and method in CEILING_METHODS["neural"]:
            problems.append(f"[ceiling] {key} is read only with method = \"internal_consistency\".")
    return problems


# --- data checks ------------------------------------------------------------------------------------------------


def _sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if text.endswith((".", "?", "!")) else text + "."


def _named_assembly(dataset: Dataset, name: str, key: str) -> str | None:
    """The problem when the dataset has no assembly ``name`` (given as ``key``), listing those it has."""
    if name in dataset.assemblies:
        return None
    have = ", ".join(sorted(dataset.assemblies)) or "none"
    return (f"{key} '{name}' is not an assembly of dataset {dataset.manifest.name} (it has: {have})."
            f"{suggest(name, dataset.assemblies)}")


def _absent_stimuli(dataset: Dataset, ids: Sequence[str], name: str) -> str | None:
    known = dataset.stimuli.metadata.index
    absent = [s for s in dict.fromkeys(ids) if s not in known]
    if not absent:
        return None
    return (f"{len(absent)} stimulus id(s) of assembly {name} are not in the stimulus set of dataset "
            f"{dataset.manifest.name} (e.g. {absent[0]}).")


def _rsa_data(spec: BenchmarkSpec, dataset: Dataset) -> list[str]:
    assembly = dataset.assemblies[spec.assembly]
    if tuple(assembly.dims[-2:]) != RDM_DIMS or assembly.sizes[RDM_DIMS[0]] != assembly.sizes[RDM_DIMS[1]]:
        return [f"assembly {spec.assembly} has dims ({', '.join(map(str, assembly.dims))}) of shape "
                f"{tuple(assembly.shape)}; the rsa kind needs RDMs: [unit dims ×] stimulus_a × stimulus_b, square."]
    problems = []
    ids = [str(s) for s in assembly[RDM_DIMS[0]].values]
    if (absent := _absent_stimuli(dataset, ids, spec.assembly)) is not None:
        return [absent]
    try:
        n_subjects = subject_rdms(assembly).shape[0]
    except BrainbenchError as exc:
        problems.append(_sentence(exc))
        n_subjects = 0
    method = spec.ceiling.get("method", "none")
    if method in ("nili_upper", "nili_lower") and 0 < n_subjects < 2:
        problems.append(f"[ceiling] method '{method}' needs RDMs of at least 2 subjects, but assembly "
                        f"{spec.assembly} holds one RDM; use method = \"none\" or a published ceiling.")
    stratify = spec.layer_selection.get("stratify")
    metadata = dataset.stimuli.metadata
    if isinstance(stratify, str) and stratify not in metadata.columns:
        problems.append(f"[layer_selection] stratify '{stratify}' is not a column of the stimulus metadata of dataset "
                        f"{dataset.manifest.name} (columns: {', '.join(map(str, metadata.columns)) or 'none'})."
                        f"{suggest(stratify, map(str, metadata.columns))}")
    elif isinstance(stratify, str):
        counts = metadata.loc[ids, stratify].astype(str).value_counts()
        if (counts < 2).any():
            problems.append(f"[layer_selection] stratify '{stratify}': {int((counts < 2).sum())} value(s) have a "
                            f"single stimulus (e.g. {counts[counts < 2].index[0]}), which cannot be split in halves.")
    return problems


def _neural_assembly(spec: BenchmarkSpec, dataset: Dataset, name: str, ceiled: bool) -> list[str]:
    """Problems of one assembly the neural kind reads (the scored one, with ``ceiled``, or the selection one)."""
    try:
        assembly = select_region(select_time_bin(dataset.assemblies[name], spec.metric.get("time_bin"),
                                                 spec.metric.get("time_window")), spec.region)
        data = neural_data(assembly, spec.metric.get("stratify") or None,
                           alternate_halves=ceiled and spec.ceiling.get("repetitions") == "alternate")
    except BrainbenchError as exc:
        return [f"assembly {name}: {_sentence(exc)}"]
    problems = []
    if (absent := _absent_stimuli(dataset, data.stimulus_ids, name)) is not None:
        problems.append(absent)
    if ceiled and spec.ceiling.get("method", "internal_consistency") == "internal_consistency" \
            and data.repetitions is None:
        problems.append(f"[ceiling] method 'internal_consistency' needs at least 2 repetitions per stimulus, but "
                        f"assembly {name} has one presentation of each of its {len(data.stimulus_ids)} stimuli; use "
                        f"method = \"published\" with its value and citation, or method = \"none\".")
    return problems


def _neural_data(spec: BenchmarkSpec, dataset: Dataset) -> list[str]:
    problems = _neural_assembly(spec, dataset, spec.assembly, ceiled=True)
    other = spec.layer_selection.get("assembly")
    if isinstance(other, str):
        missing = _named_assembly(dataset, other, "[layer_selection] assembly")
        problems += [missing] if missing else _neural_assembly(spec, dataset, other, ceiled=False)
    return problems


def _properties_data(spec: BenchmarkSpec, dataset: Dataset) -> list[str]:
    from brainbench.data.gratings import CANVAS_DEGREES  # torch: only when a V1-property benchmark is checked

    problems = []
    if dataset.assemblies[spec.assembly].attrs.get("kind") != "property_histogram":
        problems.append(f"assembly {spec.assembly} is not a property histogram (attrs kind = "
                        f"{dataset.assemblies[spec.assembly].attrs.get('kind')!r}); the v1_properties kind needs one.")
    if spec.stimulus_degrees != CANVAS_DEGREES:
        problems.append(f"stimulus_degrees = {spec.stimulus_degrees:g}, but the gratings of the v1_properties kind are "
                        f"drawn on a {CANVAS_DEGREES:g}° canvas.")
    return problems


#: What each behaviour kind reads: trial coordinates, stimulus metadata columns, and the category mapping.
_BEHAVIOUR_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "behavior_shape_bias": (("subject", "response"), ("shape", "texture"), True),
    "behavior_error_consistency": (("subject",), ("shape",), True),
    "behavior_i2n": (("sample_obj", "dist_obj", "choice"), (), False),
}


def _behaviour_data(spec: BenchmarkSpec, dataset: Dataset) -> list[str]:
    trials = dataset.assemblies[spec.assembly]
    coordinates, columns, mapping = _BEHAVIOUR_NEEDS[spec.kind]
    if "stimulus_id" not in trials.coords:
        return [f"assembly {spec.assembly} has no stimulus_id coordinate; the {spec.kind} kind reads trials."]
    problems = []
    if (absent := _absent_stimuli(dataset, [str(s) for s in trials["stimulus_id"].values], spec.assembly)):
        problems.append(absent)
    if missing := [c for c in coordinates if c not in trials.coords]:
        problems.append(f"assembly {spec.assembly} has no {', '.join(missing)} coordinate(s); the {spec.kind} kind "
                        f"reads {', '.join(('stimulus_id', *coordinates))} per trial.")
    if missing := [c for c in columns if c not in dataset.stimuli.metadata.columns]:
        problems.append(f"the stimulus metadata of dataset {dataset.manifest.name} have no {', '.join(missing)} "
                        f"column(s), which the {spec.kind} kind reads.")
    if mapping and (problem := mapping_problem(dataset)):
        problems.append(problem)
    if problems or "shape" not in columns:
        return problems
    return _truth_problems(spec, dataset, trials)


def _truth_problems(spec: BenchmarkSpec, dataset: Dataset, trials: xr.DataArray) -> list[str]:
    """The Geirhos kinds score the model against each image's ``shape`` and the humans by their trials' truth
    (``category``): the two must agree, and the category mapping must offer every shape."""
    shapes = dataset.stimuli.metadata["shape"].astype(str)
    shown = shapes.loc[[str(s) for s in trials["stimulus_id"].values]].tolist()
    problems = []
    if "category" in trials.coords:
        truth = [str(t) for t in trials["category"].values]
        if wrong := [i for i, (t, s) in enumerate(zip(truth, shown, strict=True)) if t != s]:
            first = wrong[0]
            problems.append(f"{len(wrong)} trial(s) of assembly {spec.assembly} have a truth other than their image's "
                            f"shape (first: {trials['stimulus_id'].values[first]}, truth {truth[first]!r}, shape "
                            f"{shown[first]!r}); the {spec.kind} kind takes the shape as the correct answer.")
    offered = set(dataset.assemblies[mapping_names(dataset)[0]]["category"].values.astype(str))
    if unmapped := sorted(set(shown) - offered):
        problems.append(f"the shape(s) {', '.join(unmapped)} of assembly {spec.assembly}'s images are not categories "
                        f"of the category mapping {mapping_names(dataset)[0]}, so the model could never decide them.")
    return problems


DATA_CHECKS: dict[str, Callable[[BenchmarkSpec, Dataset], list[str]]] = {
    "rsa": _rsa_data,
    "neural": _neural_data,
    "v1_properties": _properties_data,
    **dict.fromkeys(_BEHAVIOUR_NEEDS, _behaviour_data),
}


def data_problems(spec: BenchmarkSpec, dataset: Dataset) -> list[str]:
    """What keeps ``spec`` from running on the loaded ``dataset``: a missing assembly, a shape its kind cannot read,
    stimuli outside the stimulus set, a ceiling the data cannot give. One sentence per problem."""
    missing = _named_assembly(dataset, spec.assembly, "assembly")
    if missing:
        return [missing]
    check = DATA_CHECKS.get(spec.kind)
    return check(spec, dataset) if check else []


def _raw(spec: BenchmarkSpec) -> dict[str, Any]:
    """The definition as written: its file's TOML, or (a spec built in Python) its fields."""
    if spec.definition is not None:
        return read_toml(spec.definition.path)
    raw = {"id": spec.id, "version": spec.version, "kind": spec.kind, "region": spec.region, "dataset": spec.dataset,
           "assembly": spec.assembly, "stimulus_degrees": spec.stimulus_degrees, "description": spec.description,
           "citation": spec.citation, "metric": spec.metric, "layer_selection": spec.layer_selection,
           "ceiling": spec.ceiling}
    return raw | ({"column": spec.column} if spec.column is not None else {})


def check_benchmark(spec: BenchmarkSpec, dataset: Dataset | None = None) -> list[str]:
    """Every problem of ``spec``, one sentence each (empty: none): its definition alone, and with ``dataset`` (its
    loaded dataset) what the data must hold for it. Pure: no model, no download."""
    problems = static_problems(_raw(spec))
    if dataset is not None and not problems:  # the data checks read the values the static checks vouch for
        problems = data_problems(spec, dataset)
    return problems


@dataclass(frozen=True)
class DefinitionCheck:
    """One benchmark file checked on its own: the spec (None when it could not be parsed) and its problems."""

    file: DefinitionFile
    spec: BenchmarkSpec | None
    problems: list[str] = field(default_factory=list)
    identifier: str | None = None  # the id the file gives, even when it cannot be parsed into a spec

    @property
    def name(self) -> str:
        """The benchmark id, or the file when it gives none."""
        return self.identifier or str(self.file.path)


def check_file(file: DefinitionFile) -> DefinitionCheck:
    """Parse and statically check one benchmark TOML (a syntax error or a refused field is one problem)."""
    try:
        raw = read_toml(file.path)
    except BrainbenchError as exc:
        return DefinitionCheck(file, None, [_sentence(exc)])
    problems = static_problems(raw)
    try:
        spec = parse_benchmark(raw, file.path, file)
    except BrainbenchError as exc:
        spec = None
        if not problems:  # otherwise the static problems already say what the parser refuses
            problems = [_sentence(exc)]
    identifier = raw.get("id") if isinstance(raw.get("id"), str) and raw["id"].strip() else None
    return DefinitionCheck(file, spec, problems, identifier)


def as_file(path: str | Path) -> DefinitionFile:
    """A benchmark TOML given by its path (checked even outside the definition folders)."""
    return DefinitionFile(Path(path), "file")


class BenchmarkProblems(BrainbenchError):
    """Problems in the selected benchmarks, found before any model work; ``problems``: (benchmark id, sentence)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        listed = " ".join(f"{benchmark}: {sentence}" for benchmark, sentence in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the selected benchmark(s), so nothing was computed "
                         f"(`brainbench benchmarks check` lists them): {listed}")


def refuse_problems(found: Mapping[str, Sequence[str]]) -> None:
    """Raise :class:`BenchmarkProblems` when any benchmark (``{id: problems}``) has a problem."""
    problems = [(benchmark, sentence) for benchmark, sentences in found.items() for sentence in sentences]
    if problems:
        raise BenchmarkProblems(problems)


@dataclass
class CheckReport:
    """What ``benchmarks check`` found for one benchmark file.

    ``problems``: one sentence each (the definition, then its data); ``unavailable``: where its dataset was looked
    for when it is not available (its data were then not checked).
    """

    name: str  # the benchmark id, or the file when it cannot be parsed
    definition: DefinitionFile
    problems: list[str] = field(default_factory=list)
    unavailable: str = ""

    @property
    def status(self) -> str:
        """'problems', 'unavailable' (the definition is fine, the data could not be checked) or 'ok'."""
        return "problems" if self.problems else "unavailable" if self.unavailable else "ok"


def _selected(checks: list[DefinitionCheck], targets: Sequence[str]) -> list[DefinitionCheck]:
    """The checks named by ``targets`` (ids, wildcard patterns or TOML files; none: all), in order, without repeats."""
    import fnmatch

    from brainbench.errors import unknown

    if not targets:
        return checks
    by_path = {c.file.path.resolve(): c for c in checks}
    ids = [c.identifier for c in checks if c.identifier]
    chosen: dict[int, DefinitionCheck] = {}
    for target in targets:
        path = Path(target).expanduser()
        if path.is_file():
            found = by_path.get(path.resolve()) or check_file(as_file(path))
            chosen.setdefault(id(found), found)
            continue
        matches = [c for c in checks if c.identifier and fnmatch.fnmatchcase(c.identifier, target)]
        if not matches:
            raise unknown("benchmark", target, ids, "Give an id, a pattern or a TOML file; see `brainbench benchmarks "
                          "list`.")
        for found in matches:
            chosen.setdefault(id(found), found)
    return list(chosen.values())


def check_definitions(targets: Sequence[str] = (), mirrors: Sequence[Path] = (), allow_download: bool = True,
                      definitions: Sequence[str | Path] = ()) -> list[CheckReport]:
    """Check benchmark definitions completely, without a model: each file on its own, then against its dataset.

    ``targets``: ids, wildcard patterns or paths of TOML files (a file is checked even outside the definition
    folders); none: every benchmark, built-in and user (``definitions``: the ``--definitions`` folders). Each dataset
    is loaded once (cache → ``mirrors`` → download unless ``allow_download`` is False); a dataset that is not
    available is reported (:attr:`CheckReport.unavailable`), not failed. An id defined twice is a problem of its
    second file.
    """
    from brainbench.data import load_dataset
    from brainbench.data.fetch import availability
    from brainbench.data.loaders import check_loader
    from brainbench.data.manifest import load_manifest
    from brainbench.definitions import definition_files

    checks = [check_file(f) for f in definition_files("benchmarks", definitions)]
    first: dict[str, DefinitionCheck] = {}
    for check in checks:
        if check.identifier is None:
            continue
        earlier = first.setdefault(check.identifier, check)
        if earlier is not check:
            check.problems.append(f"the id is also defined in {earlier.file.path} ({earlier.file.origin}); rename or "
                                  "remove one of them.")
    selected = _selected(checks, targets)
    inside = {id(c) for c in checks}
    for check in selected:  # a file given by its path, outside the definition folders
        earlier = first.get(check.identifier) if check.identifier and id(check) not in inside else None
        if earlier is not None:
            check.problems.append(f"the id is also defined in {earlier.file.path} ({earlier.file.origin}); give this "
                                  "benchmark an id of its own.")
    reports = {id(c): CheckReport(c.name, c.file, list(c.problems)) for c in selected}
    runnable: dict[str, list[DefinitionCheck]] = {}
    for check in selected:
        if check.spec is not None and not check.problems:
            runnable.setdefault(check.spec.dataset, []).append(check)
    for name, group in runnable.items():  # one dataset at a time: loaded once, then let go
        try:
            manifest = load_manifest(name, definitions)
            check_loader(manifest.loader)
            found = availability(manifest, list(mirrors), allow_download)
            dataset = load_dataset(name, list(mirrors), allow_download, definitions=definitions) \
                if found.available else None
        except BrainbenchError as exc:
            for check in group:
                reports[id(check)].problems.append(f"dataset {name}: {_sentence(exc)}")
            continue
        for check in group:
            if dataset is None:
                reports[id(check)].unavailable = found.where()
            else:
                reports[id(check)].problems += data_problems(check.spec, dataset)
    return list(reports.values())
