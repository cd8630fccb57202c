"""Candidate layers: sensible defaults per architecture family, and checking user-given names."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from brainbench.errors import unknown

_POOL_NAMES = ("global_pool", "avgpool", "head.global_pool")


def _children(module: nn.Module, prefix: str) -> list[str]:
    return [f"{prefix}.{name}" for name, _ in module.named_children()]


def _pool(names: dict[str, nn.Module]) -> list[str]:
    return [n for n in _POOL_NAMES if n in names][:1]


def default_layers(module: nn.Module) -> list[str]:
    """A model's candidate layers for region mapping, from the stem to the pooled penultimate vector.

    Families (by module names, so timm and torchvision builds both match):
    - ResNet-like (``layer1``…``layer4``): every residual block, then the global pool;
    - EfficientNet/MobileNet/ViT-like (``blocks``): every block, ``conv_head`` if present, the pool;
    - ``features`` Sequentials (AlexNet, VGG, torchvision EfficientNet/MobileNet/DenseNet): every
      ReLU or pooling child when the model has plain conv layers, else every child; then the pool;
    - anything else: the top-level children except the final linear classifier.
    """
    names = dict(module.named_modules())
    if all(f"layer{i}" in names for i in range(1, 5)):
        blocks = [b for i in range(1, 5) for b in _children(names[f"layer{i}"], f"layer{i}")]
        return blocks + _pool(names)
    if isinstance(names.get("blocks"), nn.Sequential | nn.ModuleList):
        layers = []
        for stage_name, stage in names["blocks"].named_children():
            is_stage = isinstance(stage, nn.Sequential | nn.ModuleList)
            layers += _children(stage, f"blocks.{stage_name}") if is_stage else [f"blocks.{stage_name}"]
        layers += [n for n in ("conv_head",) if n in names]
        return layers + _pool(names)
    if isinstance(names.get("features"), nn.Sequential):
        features = names["features"]
        plain = [f"features.{n}" for n, m in features.named_children() if isinstance(m, nn.ReLU | nn.MaxPool2d)]
        layers = plain or _children(features, "features")
        return layers + _pool(names)
    children = list(module.named_children())
    if children and isinstance(children[-1][1], nn.Linear):
        children = children[:-1]
    return [name for name, _ in children]


def check_layers(module: nn.Module, layers: list[str], candidates: Sequence[str] | None = None) -> list[str]:
    """``layers`` if every name is a module of ``module``; else an error naming the nearest names and the model's
    candidate layers (``candidates``: those that apply to this model, e.g. a plugin's own; else the family default)."""
    names = [n for n, _ in module.named_modules() if n]
    known = set(names)
    for layer in layers:
        if layer not in known:
            listed = ", ".join(default_layers(module) if candidates is None else candidates)
            raise unknown("layer", layer, names, f"This model's default candidate layers: {listed}.")
    return layers
