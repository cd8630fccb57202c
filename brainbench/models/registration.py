"""Registering a model in the user registry: validate it by building and running it, then write the entry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from brainbench.errors import BrainbenchError, ModelError
from brainbench.models.plugins import check_name, user_registry, write_user_entry
from brainbench.models.registry import (
    PLUGIN,
    Model,
    WeightsUnavailable,
    builtin_models,
    registered_models,
    resolve_model,
)


def register(
    name: str,
    source: str,
    target: str,
    weights: str | Path | None = None,
    layers: Sequence[str] | None = None,
    visual_degrees: float | None = None,
    input_size: int | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    description: str = "",
    replace: bool = False,
) -> tuple[Path, Model]:
    """Validate and write ``<BRAINBENCH_HOME>/models/NAME.toml``; ``brainbench score NAME`` works from then on.

    ``source`` is 'plugin' (``target`` = FILE.py:FUNCTION or package.module:FUNCTION), 'timm' or
    'torchvision' (``target`` = the architecture). The model is built (with its weights) and run on a
    gray image before anything is written; a file path is stored absolute.
    """
    check_name(name)
    if name in builtin_models():
        raise BrainbenchError(f"'{name}' is a built-in model; choose another name for your model.")
    existing = registered_models().get(name)
    if existing is not None and not (replace and existing.origin == "user registry"):
        raise BrainbenchError(
            f"A model named '{name}' is already registered ({existing.origin}); "
            + ("pass --replace to overwrite it." if existing.origin == "user registry" else "choose another name.")
        )
    if source == PLUGIN:
        file, sep, function = target.rpartition(":")
        if sep and (file.endswith(".py") or "/" in file):
            target = f"{Path(file).expanduser().resolve()}:{function}"
    preprocessing = {"input_size": input_size, "mean": list(mean) if mean else None,
                     "std": list(std) if std else None}
    fields = {
        "name": name, "source": source, "description": description or f"{source} {target}",
        ("entry" if source == PLUGIN else "architecture"): target,
        "visual_degrees": visual_degrees,
        "weights": {"path": str(Path(weights).expanduser().resolve())} if weights else None,
        "preprocessing": {k: v for k, v in preprocessing.items() if v is not None} or None,
        "layers": {"candidates": list(layers)} if layers else None,
    }
    path = write_user_entry(name, {k: v for k, v in fields.items() if v is not None})
    try:
        model = resolve_model(name)
        _check_forward(model)
    except BaseException as exc:
        path.unlink(missing_ok=True)  # nothing is left behind for a model that does not work
        if isinstance(exc, WeightsUnavailable):
            raise ModelError(
                f"Could not obtain pretrained weights for {source}:{target} ({exc.why}); register it with --weights "
                f"PATH (a state_dict file), or use its untrained network without registering it "
                f"(brainbench score {source}:{target} --random-init …)."
            ) from exc
        raise
    return path, model


def _check_forward(model: Model) -> None:
    size = model.preprocessing.input_size
    try:
        with torch.inference_mode():
            model.module(torch.zeros((1, 3, size, size)))
    except Exception as exc:
        raise ModelError(
            f"Model {model.identifier} ({model.weights_origin}): a forward pass on a {size}×{size} image failed "
            f"({type(exc).__name__}: {exc})."
        ) from exc


def unregister(name: str) -> Path:
    """Remove a user-registry entry (built-ins and installed plugins cannot be removed here)."""
    path = user_registry() / f"{check_name(name)}.toml"
    if not path.is_file():
        known = registered_models().get(name)
        why = f"it is a {known.origin} model" if known else "no such model is registered"
        raise BrainbenchError(f"Cannot unregister '{name}': {why}.")
    path.unlink()
    return path
