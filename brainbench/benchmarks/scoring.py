"""``score``: a model × benchmarks → leaderboard records. The one place that joins data, models and metrics."""

from __future__ import annotations

import math
import numbers
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import torch

import brainbench
from brainbench import paths
from brainbench.benchmarks.checks import check_benchmark, data_problems, refuse_problems
from brainbench.benchmarks.kinds import KINDS, ModelProbe, Outcome
from brainbench.benchmarks.rsa import layer_rdms
from brainbench.benchmarks.spec import BenchmarkSpec, resolve_benchmarks
from brainbench.data import Dataset, load_dataset
from brainbench.data.fetch import Availability, availability
from brainbench.data.loaders import check_loader
from brainbench.data.manifest import load_manifest
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError, DataError
from brainbench.leaderboard import Leaderboard, ScoreRecord, unsaved
from brainbench.leaderboard.record import validated
from brainbench.models.activations import DEFAULT_MEMORY_BUDGET, extract_activations, layer_kernels
from brainbench.models.allocator import retain_freed_memory
from brainbench.models.device import resolve_device
from brainbench.models.electrophysiology import LayerRecording, record_gratings
from brainbench.models.registry import Model, check_request, resolve_model
from brainbench.reductions.cached import CachedReductions
from brainbench.reductions.store import ReductionStore, cache_limit
from brainbench.stages import StageClock, log_stages, measuring, stage

#: Called with a task's description and total; returns a function that advances it by n items.
ProgressFactory = Callable[[str, int], Callable[[int], None]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _environment() -> dict[str, str]:
    # timm's version read from its metadata: importing timm (and torchvision with it) takes ~2-3 s
    return {"python": platform.python_version(), "torch": torch.__version__, "timm": version("timm")}


@dataclass
class _Session:
    """One model on one device: the datasets (loaded and checked before the model was built) and memoised
    activations/regression kernels shared by benchmarks."""

    model: Model
    device: torch.device
    datasets: dict[str, Dataset]
    batch_size: int
    memory_budget: int
    progress: ProgressFactory | None
    reductions: CachedReductions | None = None  # the on-disk reduction cache (None: --no-cache)

    def __post_init__(self) -> None:
        self._activations: dict[tuple, dict[str, torch.Tensor]] = {}
        self._kernels: dict[tuple, dict[str, torch.Tensor]] = {}
        self._recordings: dict[str, LayerRecording] | None = None
        self.clock = StageClock()  # exclusive seconds per stage over the session (brainbench/stages.py)
        self.unreported: dict[str, float] = {}  # stages before the first benchmark, reported by the first record

    def activations(self, stimuli: StimulusSet, degrees: float, layers: Sequence[str] | None = None,
                    what: str = "activations") -> dict[str, torch.Tensor]:
        """Memoised ``extract_activations`` of ``layers`` (default: the candidate layers)."""
        key = (stimuli.identifier, tuple(stimuli.stimulus_ids), degrees, tuple(layers or ()))
        if key not in self._activations:
            label = f"{self.model.identifier}: {what} ({len(stimuli)} images)"
            advance = self.progress(label, len(stimuli)) if self.progress else None
            self._activations[key] = extract_activations(
                self.model, stimuli, degrees, layers=layers, device=self.device, batch_size=self.batch_size,
                progress=advance, stimulus_cache=paths.stimulus_cache(),
            )
        return self._activations[key]

    def kernels(self, stimuli: StimulusSet, degrees: float, layers: Sequence[str] | None) -> dict[str, torch.Tensor]:
        key = (stimuli.identifier, tuple(stimuli.stimulus_ids), degrees)
        have = self._kernels.setdefault(key, {})
        wanted = list(layers or self.model.layers)
        missing = [layer for layer in wanted if layer not in have]
        if missing:
            def compute(layers: list[str]) -> dict[str, torch.Tensor]:
                return layer_kernels(self.model, stimuli, degrees, layers, device=self.device,
                                     batch_size=self.batch_size, memory_budget=self.memory_budget,
                                     progress=self.progress, stimulus_cache=paths.stimulus_cache())

            have |= self.reductions.per_layer("regression_input", stimuli, degrees, missing, compute) \
                if self.reductions else compute(missing)
        return {layer: have[layer] for layer in wanted}

    def electrophysiology(self) -> dict[str, LayerRecording]:
        if self._recordings is None:
            def compute() -> dict[str, LayerRecording]:
                with stage("gratings", self.device):
                    return record_gratings(
                        self.model, self.model.layers, self.device, progress=self.progress,
                        skip_without_map=not self.model.layers_given, stimulus_cache=paths.stimulus_cache(),
                        memory_budget=self.memory_budget,
                    )

            self._recordings = self.reductions.recordings(self.model.layers, not self.model.layers_given, compute) \
                if self.reductions else compute()
        return self._recordings

    def outputs(self, stimuli: StimulusSet, degrees: float) -> torch.Tensor:
        """The network's own output per stimulus: the root module, hooked like any layer."""
        def compute(layers: list[str]) -> dict[str, torch.Tensor]:
            return self.activations(stimuli, degrees, layers, what="outputs")

        return (self.reductions.per_layer("outputs", stimuli, degrees, [""], compute) if self.reductions
                else compute([""]))[""]

    def rdms(self, stimuli: StimulusSet, degrees: float, layers: Sequence[str] | None,
             progress: Callable[[int], None] | None = None) -> tuple[list[str], torch.Tensor]:
        """``layers`` (default: the candidate layers) and their (n_layers, n, n) RDMs on the session's device."""
        wanted = list(layers or self.model.layers)
        computed: list[str] = []

        def compute(missing: list[str]) -> dict[str, torch.Tensor]:
            computed.extend(missing)
            activations = self.activations(stimuli, degrees)
            with stage("rdms", self.device):
                names, rdms = layer_rdms({layer: activations[layer] for layer in missing}, self.device, progress)
            return dict(zip(names, rdms, strict=True))

        found = self.reductions.per_layer("rdm", stimuli, degrees, wanted, compute) if self.reductions \
            else compute(wanted)
        if progress and self.reductions:  # layers read from the cache count as done
            progress(len(wanted) - len(computed))
        return wanted, torch.stack([found[layer].to(self.device) for layer in wanted])

    def probe(self) -> ModelProbe:
        return ModelProbe(self.model.layers, self.device, self.activations, self.kernels, self.electrophysiology,
                          self.outputs, self.model.label, self.progress, self.rdms)


def _run_options(device: str | None, seed: object, batch_size: object,
                 max_memory_gb: object) -> tuple[torch.device, int]:
    """The device and the activation budget (bytes) a session runs with, each bad value refused in one sentence; run
    first, before any data is loaded."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BrainbenchError(f"batch_size must be a whole number of images, at least 1 (got {batch_size!r}).")
    if max_memory_gb is not None and not (isinstance(max_memory_gb, int | float) and 0 < max_memory_gb < math.inf):
        raise BrainbenchError(f"max_memory_gb must be a finite number of GiB above 0 (got {max_memory_gb!r}).")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:  # as --seed
        raise BrainbenchError(f"seed must be a whole number from 0 to 2**32 - 1 (got {seed!r}); a record keeps it.")
    budget = int(max_memory_gb * 2**30) if max_memory_gb is not None else DEFAULT_MEMORY_BUDGET
    cache_limit()  # a bad BRAINBENCH_CACHE_SIZE is refused before any work
    return resolve_device(device), budget


def _session(model: str | Model, weights, random_init, layers, visual_degrees, device: torch.device, budget: int,
             seed, datasets: dict[str, Dataset], batch_size, progress, cache: bool = True) -> _Session:
    """The model built on ``device`` (options checked by :func:`_run_options`), over the loaded ``datasets``; its
    reductions kept in the on-disk cache unless ``cache`` is false."""
    retain_freed_memory()  # CPU passes fault far less; see models/allocator.py
    resolved = model if isinstance(model, Model) else resolve_model(
        model, weights=weights, random_init=random_init, layers=layers, visual_degrees=visual_degrees, seed=seed
    )
    store = ReductionStore() if cache else None
    reductions = CachedReductions(store, resolved, device, batch_size) if store and store.limit > 0 else None
    return _Session(resolved, device, datasets, batch_size, budget, progress, reductions)


def _specs(benchmarks: Sequence[str], definitions: Sequence[str | Path] = ()) -> list[BenchmarkSpec]:
    """The benchmarks named, each definition checked on its own (:func:`checks.check_benchmark`; all problems of all
    of them are one :class:`checks.BenchmarkProblems`)."""
    specs = resolve_benchmarks(benchmarks, definitions)
    refuse_problems({spec.id: check_benchmark(spec) for spec in specs})
    return specs


def _load_datasets(specs: Sequence[BenchmarkSpec], mirrors: Sequence[Path], allow_download: bool,
                   definitions: Sequence[str | Path]) -> tuple[dict[str, Dataset], dict[str, Exception]]:
    """Each dataset ``specs`` need, loaded once, before the model is built: ``({name: Dataset}, {name: the error that
    kept it from loading})``. Then every benchmark whose dataset loaded is checked against it
    (:func:`checks.data_problems`); any problem of any benchmark raises :class:`checks.BenchmarkProblems`."""
    datasets: dict[str, Dataset] = {}
    failed: dict[str, Exception] = {}
    for name in dict.fromkeys(spec.dataset for spec in specs):
        try:
            datasets[name] = load_dataset(name, mirrors=list(mirrors), allow_download=allow_download,
                                          definitions=definitions)
        except Exception as exc:  # a dataset that cannot be loaded fails its benchmarks, not the others
            failed[name] = exc
    refuse_problems({spec.id: data_problems(spec, datasets[spec.dataset]) for spec in specs
                     if spec.dataset in datasets})
    return datasets, failed


class DataUnavailable(DataError):
    """Datasets that selected benchmarks need are neither cached, nor in a mirror, nor downloadable.

    ``datasets``: each one's :class:`Availability` (``where()`` says where it was looked for); ``skippable``: the
    command offers --skip-unavailable.
    """

    def __init__(self, datasets: Sequence[Availability], skippable: bool = True) -> None:
        self.datasets = list(datasets)
        names = ", ".join(a.dataset for a in self.datasets)
        local = any(a.local_trouble for a in self.datasets)
        fixes = ("put back the local files named above or fix their manifest; " if local else "") + (
            "add a data mirror that holds them (--data-mirror), fetch them with `brainbench data fetch NAME`, or "
            "pass --skip-unavailable to score the other benchmarks" if skippable else
            "add a data mirror that holds them (--data-mirror) or fetch them with `brainbench data fetch NAME`")
        super().__init__(f"{len(self.datasets)} dataset(s) the benchmarks need are not available ({names}); nothing "
                         f"was computed: {fixes}.")


@dataclass(frozen=True)
class Failure:
    """A benchmark that could not be scored, and why (``error``'s one sentence: :attr:`reason`)."""

    benchmark: str
    error: Exception

    @property
    def reason(self) -> str:
        if isinstance(self.error, BrainbenchError):
            return str(self.error)
        first = str(self.error).strip().splitlines()[0] if str(self.error).strip() else ""
        return f"unexpected {type(self.error).__name__}: {first}"


class ScoringFailures(BrainbenchError):
    """Some benchmarks failed; ``records`` holds those scored (saved, with ids, unless ``save=False``; with
    ``records.skipped``), ``failures`` the others, in benchmark order."""

    def __init__(self, records: Scores, failures: list[Failure]) -> None:
        self.records, self.failures = records, failures
        saved = "" if not records else f"; the {len(records)} finished score(s) are kept"
        super().__init__(f"{len(failures)} of {len(records) + len(failures)} benchmark(s) failed "
                         f"({', '.join(f.benchmark for f in failures)}){saved}.")


class Scores(list[ScoreRecord]):
    """The records of a :func:`score` call, in benchmark order; ``skipped`` maps each benchmark passed over for
    want of data (``skip_unavailable=True``) to its dataset's :class:`Availability` (where it was looked for)."""

    def __init__(self, records: Sequence[ScoreRecord] = (), skipped: dict[str, Availability] | None = None) -> None:
        super().__init__(records)
        self.skipped = dict(skipped or {})


def check_data(specs: Sequence[BenchmarkSpec], mirrors: Sequence[Path],
               allow_download: bool = True, definitions: Sequence[str | Path] = ()) -> dict[str, Availability]:
    """Each dataset that ``specs`` need, checked before any work: its manifest and loader exist, and where its files
    would come from (:func:`brainbench.data.fetch.availability`). ``{dataset name: Availability}``."""
    found = {}
    for name in dict.fromkeys(spec.dataset for spec in specs):
        manifest = load_manifest(name, definitions)
        check_loader(manifest.loader)
        found[name] = availability(manifest, mirrors, allow_download)
    return found


def score(
    model: str | Model,
    benchmarks: Sequence[str],
    *,
    weights: str | Path | None = None,
    random_init: bool = False,
    layers: Sequence[str] | None = None,
    visual_degrees: float | None = None,
    device: str | None = None,
    seed: int = 0,
    data_mirrors: Sequence[str | Path] = (),
    leaderboard: Leaderboard | str | Path | None = None,
    save: bool = True,
    batch_size: int = 32,
    max_memory_gb: float | None = None,
    progress: ProgressFactory | None = None,
    skip_unavailable: bool = False,
    allow_download: bool = True,
    definitions: Sequence[str | Path] = (),
    cache: bool = True,
) -> Scores:
    """Score ``model`` on each benchmark (ids or wildcard patterns), appending each record as soon as it is computed.

    Before the model is built: every definition is checked (:mod:`brainbench.benchmarks.checks`), every dataset
    located (cache → mirrors → network, :func:`check_data`) — one that is not available raises
    :class:`DataUnavailable` (nothing computed), or with ``skip_unavailable`` its benchmarks are passed over
    (``Scores.skipped``) —, the model id (:func:`~brainbench.models.registry.check_request`) and that the leaderboard
    can be written; then every dataset is loaded and each benchmark checked against its data. Any problem found by
    the checks raises :class:`checks.BenchmarkProblems`, listing all of them (nothing computed); a dataset that fails
    to load fails its benchmarks only. ``allow_download=False``: only cached and mirrored data count.

    Each record is appended on its own (atomic); if the leaderboard refuses it, it is kept in a file to import
    (:func:`_save`). A failing benchmark does not stop the others: when any fails, :class:`ScoringFailures` is
    raised at the end, carrying the finished records and each failure — except when one benchmark was asked for
    and it failed, which raises its own error. ``max_memory_gb`` bounds the activations held at once (default
    4 GiB). ``definitions``: extra definition folders (``--definitions``; see :mod:`brainbench.definitions`).
    ``cache``: read and keep per-layer reductions in the on-disk cache (:mod:`brainbench.reductions`).
    Returns the records in benchmark order (with ids when saved).
    """
    torch_device, budget = _run_options(device, seed, batch_size, max_memory_gb)
    specs = _specs(benchmarks, definitions)
    mirrors = paths.mirror_dirs(list(data_mirrors))
    found = check_data(specs, mirrors, allow_download, definitions)
    unavailable = [a for a in found.values() if not a.available]
    if unavailable and not skip_unavailable:
        raise DataUnavailable(unavailable)
    skipped = {spec.id: found[spec.dataset] for spec in specs if not found[spec.dataset].available}
    specs = [spec for spec in specs if spec.id not in skipped]
    if not isinstance(model, Model) and specs:  # a misspelt model id is refused before any data is read
        check_request(model, weights, random_init, visual_degrees)
    board = None
    if save and specs:  # fail before the work, not after it, when the leaderboard cannot be written
        board = leaderboard if isinstance(leaderboard, Leaderboard) else Leaderboard(leaderboard)
        board.check_writable()
    records, failures = Scores(skipped=skipped), []
    if not specs:
        return records
    clock = StageClock()  # before the session: data loading and building the model
    with clock.stage("data_loading"):
        datasets, unloaded = _load_datasets(specs, mirrors, allow_download, definitions)
    if len(specs) == 1 and unloaded:
        raise unloaded[specs[0].dataset]
    session = None
    for spec in specs:
        if spec.dataset in unloaded:
            failures.append(Failure(spec.id, unloaded[spec.dataset]))
            continue
        if session is None:  # built once, and only when some benchmark's data loaded
            with clock.stage("model_building"):
                session = _session(model, weights, random_init, layers, visual_degrees, torch_device, budget, seed,
                                   datasets, batch_size, progress, cache)
            session.clock, session.unreported = clock, dict(clock.seconds)
        try:
            record = _score_one(session, spec, seed)
            if board is not None:
                with clock.stage("record_writing"):
                    _save(board, [record])
        except Exception as exc:  # one benchmark's failure, of any kind, must not stop the others
            if len(specs) == 1:
                raise
            failures.append(Failure(spec.id, exc))
            continue
        records.append(record)
    log_stages(clock)
    if failures:
        raise ScoringFailures(records, failures)
    return records


def _score_one(session: _Session, spec: BenchmarkSpec, seed: int) -> ScoreRecord:
    started, start = _now(), time.perf_counter()
    before = dict(session.clock.seconds)
    dataset = session.datasets[spec.dataset]
    with measuring(session.clock), session.clock.stage("other"):  # "other": what no inner stage claims
        outcome = KINDS[spec.kind](spec, dataset, session.probe())
    seconds = {name: value - before.get(name, 0.0) for name, value in session.clock.seconds.items()
               if value != before.get(name, 0.0)}
    # The first record also carries the data loading and model building before it, and counts them in its total.
    seconds |= session.unreported
    start -= sum(session.unreported.values())
    session.unreported = {}
    return _record(session, spec, dataset, outcome, seed, started, start, seconds)


def _save(board: Leaderboard, records: list[ScoreRecord]) -> None:
    """Append ``records`` and set their ids; if the leaderboard refuses them, keep them in a file to import."""
    for record in records:
        validated(record)  # a record the leaderboard can never take is refused, not kept
    try:
        ids = board.append(records)
    except BrainbenchError as exc:
        try:
            kept = unsaved.keep(records, board.path)
        except OSError as keep_error:
            raise BrainbenchError(f"{str(exc).rstrip('.')}; the {len(records)} computed score(s) could not be kept "
                                  f"either ({keep_error}).") from exc
        target = "" if board.path == paths.default_leaderboard() else f" --leaderboard {board.path}"
        raise BrainbenchError(
            f"{str(exc).rstrip('.')}; the {len(records)} computed score(s) are kept in {kept}: once the leaderboard "
            f"can be written, run `brainbench leaderboard import {kept}{target}`."
        ) from exc
    for record, record_id in zip(records, ids, strict=True):
        record.id = record_id


def layer_profile(
    model: str | Model,
    benchmarks: str | Sequence[str],
    **options,
) -> list[tuple[Outcome, BenchmarkSpec]]:
    """Every candidate layer of ``model`` scored on each benchmark (ids or wildcard patterns; nothing is written).

    Returns, per benchmark in order, the outcome (with the committed layer) whose ``profile`` maps each layer to its
    values. One model session serves every benchmark, so activations on shared stimuli are computed once. Before the
    model is built, every definition is checked, a benchmark without per-layer scores (:func:`has_layer_profile`) is
    refused, and so is data that is not available (:func:`check_data`; :class:`DataUnavailable`); then the datasets are
    loaded and each benchmark checked against its data, as :func:`score` does. Options as for :func:`score` (weights,
    random_init, layers, device, data_mirrors, allow_download, …).
    """
    definitions = options.get("definitions", ())
    batch_size, seed = options.get("batch_size", 32), options.get("seed", 0)
    torch_device, budget = _run_options(options.get("device"), seed, batch_size, options.get("max_memory_gb"))
    models = [] if isinstance(model, Model) else [
        (model, options.get("weights"), options.get("random_init", False), options.get("visual_degrees"))]
    specs = check_layer_profile(benchmarks, models, **options)
    allow_download = options.get("allow_download", True)
    mirrors = paths.mirror_dirs(list(options.get("data_mirrors", ())))
    datasets, unloaded = _load_datasets(specs, mirrors, allow_download, definitions)
    if unloaded:
        raise next(iter(unloaded.values()))
    session = _session(model, options.get("weights"), options.get("random_init", False), options.get("layers"),
                       options.get("visual_degrees"), torch_device, budget, seed, datasets, batch_size,
                       options.get("progress"), options.get("cache", True))
    return [(KINDS[spec.kind](spec, datasets[spec.dataset], session.probe(), profile=True), spec)
            for spec in specs]


def check_layer_profile(
    benchmarks: str | Sequence[str],
    models: Sequence[tuple[str, str | None, bool, float | None]] = (),
    **options,
) -> list[BenchmarkSpec]:
    """What :func:`layer_profile` checks before any model is built, for several models at once, in :func:`score`'s
    order: the definitions, that each has a layer profile, that its data are available (:class:`DataUnavailable`),
    then each model request (id, weights, random_init, visual_degrees). Returns the specs."""
    definitions = options.get("definitions", ())
    specs = _specs([benchmarks] if isinstance(benchmarks, str) else list(benchmarks), definitions)
    without = [spec for spec in specs if not has_layer_profile(spec)]
    if without:
        named = ", ".join(spec.id for spec in without)
        raise BrainbenchError(f"{named} {'scores' if len(without) == 1 else 'score'} the model's output or readout "
                              "layer, so there is no layer profile; `brainbench layers` takes RSA, neural and "
                              "V1-property benchmarks.")
    mirrors = paths.mirror_dirs(list(options.get("data_mirrors", ())))
    found = check_data(specs, mirrors, options.get("allow_download", True), definitions)
    unavailable = [a for a in found.values() if not a.available]
    if unavailable:
        raise DataUnavailable(unavailable, skippable=False)
    for request in models:  # a misspelt model id is refused before any data is read or any model built
        check_request(*request)
    return specs


#: Kinds that score every candidate layer (``Outcome.profile``); behaviour kinds read the output or one readout.
_PROFILED_KINDS = ("rsa", "neural", "v1_properties")


def has_layer_profile(spec: BenchmarkSpec) -> bool:
    """Whether ``spec`` scores each candidate layer, rather than the network's output or its readout layer."""
    return spec.kind in _PROFILED_KINDS and spec.layer_selection.get("layer") != "readout"


def _record(session: _Session, spec: BenchmarkSpec, dataset: Dataset, outcome: Outcome, seed: int,
            started: str, start: float, seconds: dict[str, float]) -> ScoreRecord:
    model = session.model
    return ScoreRecord(
        model=model.identifier,
        weights_digest=model.weights_digest,
        random_init=model.random_init,
        benchmark=spec.id,
        benchmark_version=spec.version,
        region=spec.region,
        raw=outcome.raw,
        ceiling=outcome.ceiling,
        ceiled=outcome.ceiled,
        error=outcome.error,
        layer=outcome.layer,
        units=outcome.units,
        brainbench_version=brainbench.__version__,
        seed=seed,
        device=str(session.device),
        started_at=started,
        finished_at=_now(),
        details={
            **outcome.details,
            "column": spec.feeds(outcome.ceiling),  # the leaderboard column it is averaged into (None: none)
            "column_explicit": spec.column is not None,  # named by the benchmark's TOML, not the default rule
            "model": {
                "architecture": model.architecture, "weights_origin": model.weights_origin,
                "visual_degrees": model.visual_degrees, "preprocessing": model.preprocessing.to_dict(),
                "candidate_layers": model.layers, "layers_given": model.layers_given,
            },
            "benchmark_parameters": spec.parameters(),
            "dataset": {"name": dataset.manifest.name, "checksums": dataset.manifest.checksums},
            "seconds": {**seconds, "total": time.perf_counter() - start},  # per stage (brainbench/stages.py)
            "memory_budget_gib": session.memory_budget / 2**30,
            "batch_size": session.batch_size,  # bit-identical scores need the same batch size (README: Reproducibility)
            "torch_threads": torch.get_num_threads(),
            "environment": _environment(),
        },
    )
