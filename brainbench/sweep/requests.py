"""What a sweep scores: model requests (a model id with the options of ``brainbench score``) and benchmark patterns,
from the command line (``-m 'timm:resnet18 --random-init'``) or a sweep file (TOML)."""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from brainbench.cli import options
from brainbench.errors import BrainbenchError, unknown


@dataclass(frozen=True)
class ModelRequest:
    """One model as ``brainbench score`` takes it: its id and the options that change what is built or computed."""

    model: str
    weights: str | None = None
    random_init: bool = False
    layers: tuple[str, ...] | None = None
    visual_degrees: float | None = None
    seed: int = 0
    device: str = "auto"
    batch_size: int = 32
    max_memory_gb: float | None = None

    @property
    def label(self) -> str:
        """The request as ``-m`` would take it, options that differ from the defaults only."""
        words = [self.model]
        if self.weights is not None:
            words += ["--weights", self.weights]
        if self.random_init:
            words.append("--random-init")
        if self.layers:
            words += ["--layers", ",".join(self.layers)]
        if self.visual_degrees is not None:
            words += ["--visual-degrees", f"{self.visual_degrees:g}"]
        defaults = ModelRequest(self.model)
        for name, flag in (("seed", "--seed"), ("device", "--device"), ("batch_size", "--batch-size"),
                           ("max_memory_gb", "--max-memory")):
            if getattr(self, name) != getattr(defaults, name):
                words += [flag, str(getattr(self, name))]
        return shlex.join(words)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelRequest:
        layers = data.get("layers")
        return cls(**{**data, "layers": tuple(layers) if layers is not None else None})


@click.command(add_help_option=False, context_settings={"ignore_unknown_options": False})
@click.argument("model")
@options.candidate_layers
@options.weights
@options.visual_degrees
@options.device
@options.seed
@options.batching
def _model_options(model: str, layers: tuple[str, ...], weights: str | None, random_init: bool,
                   visual_degrees: float | None, device: str, seed: int, batch_size: int,
                   max_memory: float | None) -> ModelRequest:
    """The model options of ``brainbench score``, parsed by the same click options."""
    chosen = options.split_layers(layers)
    # Absolute: a job may run in another folder (a Slurm node's), and reads the file from the shared file system.
    absolute = str(Path(weights).expanduser().resolve()) if weights is not None else None
    return ModelRequest(model, absolute, random_init, tuple(chosen) if chosen else None, visual_degrees, seed, device,
                        batch_size, max_memory)


def parse_model(text: str, where: str = "-m") -> ModelRequest:
    """A request from ``-m`` text: a model id followed by ``score``'s model options, e.g.
    ``'timm:resnet18 --random-init --layers layer3,layer4'``. Bad text is one sentence naming ``where``."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise BrainbenchError(f"{where} '{text}' cannot be split into words ({exc}); check its quotes.") from exc
    if not words:
        raise BrainbenchError(f"{where} is empty; give a model id, e.g. -m 'timm:resnet18 --random-init'.")
    try:
        return _model_options.main(words, prog_name="MODEL", standalone_mode=False)
    except click.ClickException as exc:
        message = " ".join(exc.format_message().split()).rstrip(".")
        raise BrainbenchError(f"{where} '{text}': {message} (a model is an id followed by score's model options: "
                              "--weights, --random-init, --layers, --visual-degrees, --seed, --device, --batch-size, "
                              "--max-memory).") from exc


#: Sweep-file model keys → the ``score`` option each stands for (None: the model id itself).
MODEL_KEYS: dict[str, str | None] = {
    "id": None, "weights": "--weights", "random_init": "--random-init", "layers": "--layers",
    "visual_degrees": "--visual-degrees", "seed": "--seed", "device": "--device", "batch_size": "--batch-size",
    "max_memory": "--max-memory",
}
FILE_KEYS = ("benchmarks", "models")


@dataclass(frozen=True)
class SweepFile:
    """A sweep file's content: benchmark patterns and model requests."""

    benchmarks: tuple[str, ...]
    models: tuple[ModelRequest, ...]


def read_sweep_file(path: str | Path) -> SweepFile:
    """Read a sweep file (TOML)::

        benchmarks = ["Kiani2007.*", "Kriegeskorte2008.*"]
        [[models]]
        id = "efficientnet_lite0"
        [[models]]
        id = "timm:resnet18"
        random_init = true

    Each model table takes the keys of :data:`MODEL_KEYS`, checked by the same options as ``score``'s.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BrainbenchError(f"Cannot read the sweep file {path}: {exc}.") from exc
    for key in raw:
        if key not in FILE_KEYS:
            raise unknown(f"key in the sweep file {path}:", key, FILE_KEYS)
    benchmarks = raw.get("benchmarks", [])
    if not isinstance(benchmarks, list) or not all(isinstance(b, str) for b in benchmarks):
        raise BrainbenchError(f"The sweep file {path}: benchmarks must be a list of benchmark ids or patterns.")
    tables = raw.get("models", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BrainbenchError(f"The sweep file {path}: models must be [[models]] tables.")
    return SweepFile(tuple(benchmarks), tuple(_model_from_table(t, f"{path}, model {i}", path.parent)
                                              for i, t in enumerate(tables, 1)))


def _model_from_table(table: dict[str, Any], where: str, folder: Path) -> ModelRequest:
    """A ``[[models]]`` table as a request, by writing it as ``-m`` words: the same checks as the command line. A
    relative weights path is relative to ``folder``, the sweep file's."""
    for key in table:
        if key not in MODEL_KEYS:
            raise unknown(f"model key in {where}:", key, MODEL_KEYS)
    model = table.get("id")
    if not isinstance(model, str) or not model.strip():
        raise BrainbenchError(f"{where} has no id; give the model's id, e.g. id = \"timm:resnet18\".")
    words = [model]
    for key, value in table.items():
        flag = MODEL_KEYS[key]
        if flag is None:
            continue
        if key == "weights" and isinstance(value, str):  # relative to the sweep file's folder
            words += [flag, str(folder / Path(value).expanduser())]
        elif key == "random_init":
            if not isinstance(value, bool):
                raise BrainbenchError(f"{where}: random_init must be true or false (got {value!r}).")
            words += [flag] if value else []
        elif key == "layers" and isinstance(value, list):
            words += [flag, ",".join(str(layer) for layer in value)]
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BrainbenchError(f"{where}: {key} must be a string or a number (got {value!r}).")
        else:
            words += [flag, str(value)]
    return parse_model(shlex.join(words), where)


def model_requests(texts: Sequence[str], sweep_file: SweepFile | None) -> list[ModelRequest]:
    """The sweep file's models, then those of ``-m``, without repeats (in order)."""
    found = list(sweep_file.models if sweep_file else ())
    found += [parse_model(text) for text in texts]
    return list(dict.fromkeys(found))
