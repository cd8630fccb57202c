"""Model plugins: user code that builds a model, registered without touching brainbench.

Three ways in, all resolved by name like a built-in:
- ``@brainbench.register_model("name")`` on a function, in code that runs before scoring;
- an entry point in the group ``brainbench.models`` of an installed package (``name = "pkg.mod:fn"``);
- ``brainbench models register NAME --from FILE.py:FUNCTION`` (or ``--timm``/``--torchvision``), which
  writes ``<BRAINBENCH_HOME>/models/NAME.toml``.

A plugin function takes no arguments and returns a ``torch.nn.Module``, or a dict with ``module`` and
optionally ``preprocessing`` (``{"input_size", "mean", "std"}``), ``layers`` and ``visual_degrees``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from brainbench import paths
from brainbench.definitions import definitions_dir
from brainbench.errors import BrainbenchError, ModelError
from brainbench.toml_writer import toml_text

ENTRY_POINT_GROUP = "brainbench.models"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_DECORATED: dict[str, Callable[[], Any]] = {}


@dataclass(frozen=True)
class PluginModel:
    """What a plugin function gave: the module and whatever it says about itself."""

    module: nn.Module
    preprocessing: dict[str, Any]
    layers: list[str]
    visual_degrees: float | None


def check_name(name: str) -> str:
    """A plugin name: letters, digits, '_', '-', '.'; never a ``source:`` id."""
    if not _NAME.match(name):
        raise BrainbenchError(f"Model name '{name}' is not allowed; use letters, digits, '_', '-' and '.'.")
    return name


def register_model(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Decorator: make ``name`` resolve to the model the decorated function builds (timm-style)."""
    check_name(name)
    if name in {path.stem for path in definitions_dir("model_registry").glob("*.toml")}:
        raise BrainbenchError(f"'{name}' is a built-in model; choose another name for your model.")

    def decorate(function: Callable[[], Any]) -> Callable[[], Any]:
        _DECORATED[name] = function
        return function

    return decorate


def decorated_models() -> dict[str, Callable[[], Any]]:
    """Models registered with the decorator in this process."""
    return dict(_DECORATED)


def entry_point_models() -> dict[str, str]:
    """``{name: "package.module:function"}`` from installed packages' ``brainbench.models`` entry points."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def user_registry() -> Path:
    """Where ``brainbench models register`` writes its entries."""
    return paths.home() / "models"


def _load_file(path: Path, function: str, where: str) -> Callable[[], Any]:
    if not path.is_file():
        raise ModelError(f"Plugin {where}: the file {path} does not exist.")
    module_name = "brainbench_plugin_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ModelError(f"Plugin {where}: {path} is not a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ModelError(f"Plugin {where}: importing {path.name} failed ({type(exc).__name__}: {exc}).") from exc
    return _attribute(module, function, where)


def _attribute(module: object, function: str, where: str) -> Callable[[], Any]:
    found = getattr(module, function, None)
    if not callable(found):
        raise ModelError(f"Plugin {where}: there is no function '{function}' in it.")
    return found


def load_entry(entry: str | Callable[[], Any]) -> Callable[[], Any]:
    """The plugin function named by ``FILE.py:FUNCTION`` or ``package.module:FUNCTION`` (or given as is)."""
    if callable(entry):
        return entry
    target, sep, function = entry.rpartition(":")
    if not sep or not target or not function:
        raise ModelError(f"Plugin '{entry}' must read FILE.py:FUNCTION or package.module:FUNCTION.")
    if target.endswith(".py") or os.sep in target:
        return _load_file(Path(target).expanduser(), function, entry)
    try:
        module = importlib.import_module(target)
    except Exception as exc:
        raise ModelError(f"Plugin {entry}: importing {target} failed ({type(exc).__name__}: {exc}).") from exc
    return _attribute(module, function, entry)


def call_plugin(entry: str | Callable[[], Any]) -> PluginModel:
    """Run a plugin function and check what it returns."""
    function = load_entry(entry)
    where = entry if isinstance(entry, str) else getattr(function, "__qualname__", "plugin")
    try:
        result = function()
    except Exception as exc:
        raise ModelError(f"Plugin {where}: building the model failed ({type(exc).__name__}: {exc}).") from exc
    if isinstance(result, nn.Module):
        return PluginModel(result, {}, [], None)
    if isinstance(result, dict) and isinstance(result.get("module"), nn.Module):
        preprocessing = result.get("preprocessing") or {}
        if not isinstance(preprocessing, dict):
            preprocessing = {"input_size": preprocessing.input_size, "mean": preprocessing.mean,
                             "std": preprocessing.std}
        degrees = result.get("visual_degrees")
        return PluginModel(result["module"], dict(preprocessing), list(result.get("layers") or []),
                           float(degrees) if degrees is not None else None)
    raise ModelError(
        f"Plugin {where}: it returned {type(result).__name__}; a plugin must return a torch.nn.Module "
        "or a dict with a 'module' entry."
    )


def write_user_entry(name: str, fields: dict[str, Any]) -> Path:
    """Write ``<registry>/NAME.toml`` atomically (never a half-written entry)."""
    folder = user_registry()
    target = folder / f"{check_name(name)}.toml"
    text = toml_text(fields, "Written by `brainbench models register`; remove with `brainbench models unregister`.")
    partial = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".partial", delete=False, encoding="utf-8") as tmp:
            partial = Path(tmp.name)
            tmp.write(text)
        os.replace(partial, target)
    except BaseException as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BrainbenchError(
                f"Cannot write the model registry entry {target} ({exc.strerror or exc}); make {folder} writable "
                "or set BRAINBENCH_HOME to a writable folder."
            ) from exc
        raise
    return target


