"""Theoretical receptive fields: closed forms, TF-Slim reference networks against the published table,
and real timm/torchvision graphs.

Reference values: the receptive-field table of Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill, 2019), computed with their library on the TF-Slim models
(github.com/google-research/receptive_field, RECEPTIVE_FIELD_TABLE.md). Each entry is (RF size r,
effective stride j, effective padding P); P relates to our centre offset by start = (r − 1)/2 − P.
The Slim networks are rebuilt here from plain torch layers with Slim's padding and stride placement,
so these tests do not depend on how timm or torchvision place them. Channel widths are irrelevant to
receptive fields and kept small; the big real models are built on the meta device.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from brainbench.errors import BrainbenchError, ModelError, UnknownNameError
from brainbench.models.receptive_fields import ReceptiveField, receptive_fields, to_degrees


def fields(module: nn.Module, layers: list[str], input_size: int = 224) -> dict[str, ReceptiveField]:
    return {rf.layer: rf for rf in receptive_fields(module, layers, input_size)}


def effective_padding(rf: ReceptiveField) -> float:
    """Araujo et al.'s effective padding P: how far the first unit's field reaches left of the input."""
    return (rf.size_px - 1) / 2 - rf.start_px


def check_table(module: nn.Module, table: dict[str, tuple[int, int, int]], input_size: int) -> None:
    got = fields(module, list(table), input_size)
    assert {k: (rf.size_px, rf.jump_px, effective_padding(rf)) for k, rf in got.items()} == table


class Seq(nn.Sequential):
    """A Sequential with named layers."""

    def __init__(self, **layers: nn.Module) -> None:
        super().__init__(OrderedDict(layers))


class SamePad(nn.Module):
    """TensorFlow's 'SAME' padding for a k×k window of stride s, from the input size as TF computes it."""

    def __init__(self, k: int, s: int) -> None:
        super().__init__()
        self.k, self.s = k, s

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for n in (x.shape[-1], x.shape[-2]):  # F.pad lists the last dim first
            total = max(self.k - (self.s if n % self.s == 0 else n % self.s), 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads)


def same_conv(cin: int, cout: int, k: int, s: int = 1, groups: int = 1) -> nn.Module:
    return nn.Sequential(SamePad(k, s), nn.Conv2d(cin, cout, k, s, groups=groups), nn.ReLU())


# --- closed forms ------------------------------------------------------------------------------------


def test_to_degrees():
    assert to_degrees(112, 224, 8.0) == 4.0
    assert to_degrees(35, 224, 8.0) == pytest.approx(1.25, abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_stack_of_3x3_stride_1_convs_grows_by_2_per_conv(k):
    net = nn.Sequential(*[nn.Conv2d(3 if i == 0 else 4, 4, 3, padding=1) for i in range(k)])
    rf = fields(net, [str(k - 1)], 32)[str(k - 1)]
    assert (rf.size_px, rf.jump_px, rf.start_px) == (1 + 2 * k, 1, 0)
    assert rf.output_shape == (1, 4, 32, 32) and rf.spatial and not rf.global_context


def test_conv_7x7_stride_2_then_maxpool_3x3_stride_2():
    net = Seq(conv=nn.Conv2d(3, 8, 7, 2, padding=3), pool=nn.MaxPool2d(3, 2, padding=1))
    got = fields(net, ["conv", "pool"])
    assert (got["conv"].size_px, got["conv"].jump_px) == (7, 2)
    assert (got["pool"].size_px, got["pool"].jump_px, got["pool"].start_px) == (11, 4, 0)
    assert got["pool"].output_shape == (1, 8, 56, 56)


@pytest.mark.parametrize(
    ("layer", "size", "jump", "start"),
    [
        (nn.Conv2d(3, 4, 3, 2), 3, 2, 1.0),  # no padding: the first field is pixels 0..2
        (nn.Conv2d(3, 4, 3, 2, padding=1), 3, 2, 0.0),  # centred on pixel 0
        (nn.Conv2d(3, 4, 2, 2), 2, 2, 0.5),  # an even kernel: centred between pixels 0 and 1
        (nn.Conv2d(3, 4, 3, dilation=2, padding=1), 5, 1, 1.0),  # dilation 2: 5 px, 1 px of padding
        (nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 4, 3, 2)), 3, 2, 1.0),  # TF 'SAME', even input
        (nn.Sequential(nn.ZeroPad2d((1, 0, 1, 0)), nn.Conv2d(3, 4, 3, 2)), 3, 2, 0.0),
        (nn.Sequential(nn.ZeroPad2d(-2), nn.Conv2d(3, 4, 1)), 1, 1, 2.0),  # a crop
        (nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 4, 7)), 7, 1, 0.0),
    ],
)
def test_centre_offset_of_padded_convolutions(layer, size, jump, start):
    rf = receptive_fields(nn.Sequential(layer), ["0"], 32)[0]
    assert (rf.size_px, rf.jump_px, rf.start_px) == (size, jump, start)


def test_tf_same_padding_depends_on_the_input_size():
    net = Seq(conv=same_conv(3, 4, 3, 2))
    assert fields(net, ["conv"], 224)["conv"].start_px == 1.0  # even: pads (0, 1)
    assert fields(net, ["conv"], 225)["conv"].start_px == 0.0  # odd: pads (1, 1)


def test_non_square_kernels_report_both_axes():
    net = Seq(wide=nn.Conv2d(3, 4, (1, 7), padding=(0, 3)), tall=nn.Conv2d(4, 4, (7, 1), padding=(3, 0)))
    got = fields(net, ["wide", "tall"], 32)
    assert got["wide"].size_hw == (1, 7) and got["wide"].size_px == 7
    assert got["tall"].size_hw == (7, 7) and got["tall"].jump_hw == (1, 1) and got["tall"].start_hw == (0, 0)


class TwoBranches(nn.Module):
    """Branch a: 2×2 conv (unit 0 sees pixels 0–1). Branch b: crop 2 px, pad 1 px at the end, 1×1 conv
    (unit 0 sees pixel 2). Concatenated, unit 0 sees pixels 0–2: 3 px centred on 1, not max(2, 1) = 2."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 2)
        self.b = nn.Conv2d(3, 4, 1)
        self.join = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.b(F.pad(x[:, :, 2:, 2:], (0, 1, 0, 1)))
        return self.join(torch.cat([self.a(x), b], dim=1))


def test_concatenated_branches_take_the_union_of_misaligned_fields():
    got = fields(TwoBranches(), ["a", "b", "join"], 32)
    assert (got["a"].size_px, got["a"].start_px) == (2, 0.5)
    assert (got["b"].size_px, got["b"].start_px) == (1, 2.0)
    assert (got["join"].size_px, got["join"].jump_px, got["join"].start_px) == (3, 1, 1.0)
    assert got["join"].output_shape == (1, 8, 31, 31)


class InceptionLike(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b1, self.b3, self.b5 = nn.Conv2d(3, 2, 1), nn.Conv2d(3, 2, 3, padding=1), nn.Conv2d(3, 2, 5, padding=2)
        self.pool = nn.MaxPool2d(3, 1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], dim=1)


def test_multi_branch_block_covers_its_largest_branch():
    rf = receptive_fields(Seq(block=InceptionLike()), ["block"], 32)[0]
    assert (rf.size_px, rf.jump_px, rf.start_px) == (5, 1, 0)


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 2, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.shortcut = nn.Conv2d(3, 4, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(torch.relu(self.conv1(x)))
        out += self.shortcut(x)  # in place, as torchvision's ResNet does
        return torch.relu(out)


def test_residual_add_with_a_strided_1x1_shortcut():
    got = fields(Seq(block=Residual()), ["block", "block.shortcut"], 32)
    assert (got["block.shortcut"].size_px, got["block.shortcut"].jump_px) == (1, 2)
    assert (got["block"].size_px, got["block"].jump_px, got["block"].start_px) == (3 + 2 * 2, 2, 0)


class Gated(nn.Module):
    """A squeeze-and-excitation gate: the map times a function of its global mean."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x * torch.sigmoid(self.fc(x.mean((2, 3), keepdim=True)))


def test_a_global_gate_keeps_the_local_field_and_flags_global_context():
    got = fields(Seq(se=Gated()), ["se", "se.conv"], 32)
    assert (got["se"].size_px, got["se"].spatial, got["se"].global_context) == (3, True, True)
    assert not got["se.conv"].global_context


def tiny_classifier() -> nn.Module:
    return Seq(conv=nn.Conv2d(3, 4, 3, 2), pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(4, 2))


def test_pooled_and_linear_layers_have_no_spatial_map():
    got = fields(tiny_classifier(), ["conv", "pool", "flat", "fc"], 64)
    assert got["conv"].spatial and got["conv"].size_px == 3
    for layer in ("pool", "flat", "fc"):
        rf = got[layer]
        assert not rf.spatial, layer
        assert (rf.size_px, rf.jump_px, rf.start_px) == (64, 64, 31.5)  # one unit, covering the whole input
    assert got["fc"].output_shape == (1, 2)


def test_adaptive_pooling_to_a_divisor_is_a_regular_pool():
    net = Seq(conv=nn.Conv2d(3, 4, 3, padding=1), pool=nn.AdaptiveAvgPool2d(4))
    rf = fields(net, ["pool"], 32)["pool"]
    assert (rf.size_px, rf.jump_px, rf.start_px) == (3 + 7, 8, 3.5)


def test_no_spatial_map_in_any_requested_layer_is_an_error():
    with pytest.raises(BrainbenchError, match="spatial map"):
        receptive_fields(tiny_classifier(), ["pool", "fc"], 64)


def test_unknown_layer_names_the_nearest_modules():
    with pytest.raises(UnknownNameError, match="Unknown layer 'cnv'"):
        receptive_fields(tiny_classifier(), ["cnv"])


def test_an_op_it_cannot_follow_is_an_error_for_the_layers_behind_it():
    net = Seq(conv=nn.Conv2d(3, 4, 3, padding=1), up=nn.Upsample(scale_factor=2), head=nn.Conv2d(4, 4, 1))
    assert fields(net, ["conv"], 16)["conv"].size_px == 3
    with pytest.raises(ModelError, match=r"layer 'head'.*upsample"):
        receptive_fields(net, ["conv", "head"], 16)


class WritesIntoAView(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        out = y.new_zeros(y.shape[0], 8, *y.shape[2:])
        out[:, :4] = y
        return self.head(out)


def test_a_write_into_a_view_is_not_followed_silently():
    with pytest.raises(ModelError, match="layer 'head': it depends on a write into a view"):
        receptive_fields(WritesIntoAView(), ["head"], 16)
    assert receptive_fields(WritesIntoAView(), [], 16) == []


class DataDependent(nn.Module):
    """Runs only on real tensors (``.item()``), and attends over its map's positions."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.attn = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        scale = 1.0 if x.abs().sum().item() >= 0 else 2.0
        n, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2).unsqueeze(1).contiguous()  # (n, 1 head, h·w, c): a fused kernel
        mixed = F.scaled_dot_product_attention(tokens, tokens, tokens * scale)
        return self.attn(mixed.squeeze(1).transpose(1, 2).reshape(n, c, h, w))


def test_falls_back_to_a_real_forward_pass_and_keeps_the_training_mode():
    net = DataDependent().train()
    got = fields(net, ["conv", "attn"], 16)
    assert got["conv"].size_px == 3 and not got["conv"].global_context
    assert (got["attn"].size_px, got["attn"].spatial, got["attn"].global_context) == (3, True, True)
    assert net.training and net.conv.training


# --- TF-Slim reference networks against the published table --------------------------------------------


class SlimBottleneck(nn.Module):
    """TF-Slim resnet_v1 bottleneck: the stride is on the 3×3 conv (``conv2d_same``: explicit symmetric pad)."""

    def __init__(self, cin: int, depth: int, stride: int) -> None:
        super().__init__()
        mid = depth // 4
        self.shortcut = nn.MaxPool2d(1, stride) if cin == depth else nn.Conv2d(cin, depth, 1, stride)
        self.residual = nn.Sequential(
            nn.Conv2d(cin, mid, 1), nn.ReLU(), nn.Conv2d(mid, mid, 3, stride, padding=1), nn.ReLU(),
            nn.Conv2d(mid, depth, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.shortcut(x) + self.residual(x))


def slim_block(cin: int, depth: int, units: int, stride: int) -> nn.Module:
    """A Slim resnet_v1 block: its stride on the *last* unit."""
    return nn.Sequential(*[SlimBottleneck(cin if i == 0 else depth, depth, stride if i == units - 1 else 1)
                           for i in range(units)])


def slim_resnet_v1_50() -> nn.Module:
    return Seq(
        conv1=nn.Conv2d(3, 8, 7, 2, padding=3),  # conv2d_same, stride 2
        pool1=nn.Sequential(SamePad(3, 2), nn.MaxPool2d(3, 2)),
        block1=slim_block(8, 16, 3, 2), block2=slim_block(16, 32, 4, 2),
        block3=slim_block(32, 64, 6, 2), block4=slim_block(64, 128, 3, 1),
    )


def test_slim_resnet_v1_50_matches_the_table():
    table = {"block1": (35, 8, 15), "block2": (99, 16, 47), "block3": (291, 32, 143), "block4": (483, 32, 239)}
    check_table(slim_resnet_v1_50(), table, 224)


def slim_vgg_16() -> nn.Module:
    layers, cin = {}, 3
    for stage, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, convs + 1):
            layers[f"conv{stage}_{i}"] = nn.Sequential(nn.Conv2d(cin, 8, 3, padding=1), nn.ReLU())  # 'SAME'
            cin = 8
        layers[f"pool{stage}"] = nn.MaxPool2d(2, 2)  # 'VALID'
    return Seq(**layers)


def test_slim_vgg_16_matches_the_table():
    table = {
        "conv1_1": (3, 1, 1), "pool1": (6, 2, 2), "conv2_1": (10, 2, 4), "pool2": (16, 4, 6),
        "conv3_1": (24, 4, 10), "conv3_2": (32, 4, 14), "pool3": (44, 8, 18), "conv4_1": (60, 8, 26),
        "conv4_2": (76, 8, 34), "pool4": (100, 16, 42), "conv5_1": (132, 16, 58), "conv5_2": (164, 16, 74),
        "conv5_3": (196, 16, 90),  # not in the table: by hand, 164 + 2·16, P = 74 + 16
        "pool5": (212, 32, 90),
    }
    check_table(slim_vgg_16(), table, 224)


def slim_alexnet_v2() -> nn.Module:
    return Seq(
        conv1=nn.Sequential(nn.Conv2d(3, 8, 11, 4), nn.ReLU()),  # 'VALID'
        pool1=nn.MaxPool2d(3, 2), conv2=same_conv(8, 8, 5), pool2=nn.MaxPool2d(3, 2),
        conv3=same_conv(8, 8, 3), conv4=same_conv(8, 8, 3), conv5=same_conv(8, 8, 3), pool5=nn.MaxPool2d(3, 2),
    )


def test_slim_alexnet_v2_matches_the_table():
    table = {
        "conv1": (11, 4, 0), "pool1": (19, 8, 0), "conv2": (51, 8, 16), "conv3": (99, 16, 32),
        "conv4": (131, 16, 48), "conv5": (163, 16, 64), "pool5": (195, 32, 64),
    }
    check_table(slim_alexnet_v2(), table, 224)


def slim_mobilenet_v1() -> nn.Module:
    layers = {"Conv2d_0": same_conv(3, 8, 3, 2)}
    for i, stride in enumerate((1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1), start=1):
        layers[f"Conv2d_{i}_depthwise"] = same_conv(8, 8, 3, stride, groups=8)
        layers[f"Conv2d_{i}_pointwise"] = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU())
    return Seq(**layers)


@pytest.mark.parametrize(
    ("input_size", "table"),
    [
        (224, {"Conv2d_4_pointwise": (27, 8, 6), "Conv2d_5_pointwise": (43, 8, 14),
               "Conv2d_6_pointwise": (59, 16, 14), "Conv2d_7_pointwise": (91, 16, 30),
               "Conv2d_11_pointwise": (219, 16, 94), "Conv2d_12_pointwise": (251, 32, 94),
               "Conv2d_13_pointwise": (315, 32, 126)}),
        (321, {"Conv2d_0": (3, 2, 1), "Conv2d_1_pointwise": (7, 2, 3), "Conv2d_2_pointwise": (11, 4, 5),
               "Conv2d_3_pointwise": (19, 4, 9), "Conv2d_4_pointwise": (27, 8, 13), "Conv2d_5_pointwise": (43, 8, 21),
               "Conv2d_6_pointwise": (59, 16, 29), "Conv2d_7_pointwise": (91, 16, 45),
               "Conv2d_13_pointwise": (315, 32, 157)}),
    ],
)
def test_slim_mobilenet_v1_matches_the_table_at_two_resolutions(input_size, table):
    """'SAME' padding pads (0, 1) at even sizes and (1, 1) at odd ones: the effective padding differs."""
    check_table(slim_mobilenet_v1(), table, input_size)


# --- real graphs ----------------------------------------------------------------------------------------


def torchvision_model(name: str, **kwargs: object) -> nn.Module:
    import torchvision

    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None, **kwargs)


def timm_model(name: str) -> nn.Module:
    import timm

    with torch.device("meta"):
        return timm.create_model(name)


def test_torchvision_inception_v3_matches_the_slim_table():
    """Same architecture and padding as Slim's inception_v3 (VALID in the stem and reductions); the table's
    values are the same at 224 and 321 px, so also at the model's 299."""
    table = {
        "Conv2d_1a_3x3": (3, 2, 0), "Conv2d_2a_3x3": (7, 2, 0), "Conv2d_2b_3x3": (11, 2, 2),
        "maxpool1": (15, 4, 2), "Conv2d_3b_1x1": (15, 4, 2), "Conv2d_4a_3x3": (23, 4, 2), "maxpool2": (31, 8, 2),
        "Mixed_5b": (63, 8, 18), "Mixed_5c": (95, 8, 34), "Mixed_5d": (127, 8, 50), "Mixed_6a": (159, 16, 58),
        "Mixed_6b": (351, 16, 154), "Mixed_6c": (543, 16, 250), "Mixed_6d": (735, 16, 346),
        "Mixed_6e": (927, 16, 442), "Mixed_7a": (1055, 32, 490), "Mixed_7b": (1183, 32, 554),
        "Mixed_7c": (1311, 32, 618),
    }
    check_table(torchvision_model("inception_v3", init_weights=False), table, 299)


def test_torchvision_vgg16_and_alexnet():
    """VGG-16 pads like Slim's (table values); AlexNet's first conv pads 2 px where Slim's pads none."""
    vgg = fields(torchvision_model("vgg16"), ["features.23", "features.29", "features.30", "avgpool"])
    assert (vgg["features.23"].size_px, vgg["features.23"].jump_px, effective_padding(vgg["features.23"])) == (
        100, 16, 42)
    assert vgg["features.29"].size_px == 196
    assert (vgg["features.30"].size_px, vgg["features.30"].jump_px, effective_padding(vgg["features.30"])) == (
        212, 32, 90)
    assert vgg["avgpool"].size_px == 212 and vgg["avgpool"].spatial  # adaptive 7×7 → 7×7: the identity
    alex = fields(torchvision_model("alexnet"), ["features.0", "features.12"])
    assert (alex["features.0"].size_px, alex["features.0"].jump_px, alex["features.0"].start_px) == (11, 4, 3)
    assert (alex["features.12"].size_px, alex["features.12"].jump_px, alex["features.12"].start_px) == (195, 32, 31)


def test_timm_resnet50_against_a_hand_derivation():
    """Stem: 7×7/2 pad 3 (r 7, j 2), max-pool 3×3/2 pad 1 (r 11, j 4); each bottleneck adds its 3×3 conv,
    2·j; the stride sits on the first block of stages 2–4 (unlike Slim), so the last layer has 427, not 483.
    Odd kernels with symmetric padding keep every field centred on pixel 0."""
    got = fields(timm_model("resnet50"), ["conv1", "maxpool", "layer1.0.conv1", "layer1.0", "layer1", "layer2.0",
                                          "layer3", "layer4", "global_pool"])
    expected = {"conv1": (7, 2), "maxpool": (11, 4), "layer1.0.conv1": (11, 4), "layer1.0": (19, 4),
                "layer1": (35, 4), "layer2.0": (43, 8), "layer3": (267, 16), "layer4": (427, 32)}
    assert {k: (got[k].size_px, got[k].jump_px) for k in expected} == expected
    assert all(got[k].start_px == 0 and not got[k].global_context for k in expected)
    assert not got["global_pool"].spatial and got["global_pool"].size_px == 224


def test_timm_tf_efficientnet_b0_same_padding_and_squeeze_excitation():
    """TF 'SAME' via F.pad: the 3×3/2 stem pads (0, 1) at 224, so its first field is centred on pixel 1;
    each block's squeeze-and-excitation gate flags global context."""
    got = fields(timm_model("tf_efficientnet_b0"), ["conv_stem", "blocks.0.0", "blocks.1.0", "conv_head"])
    assert (got["conv_stem"].size_px, got["conv_stem"].jump_px, got["conv_stem"].start_px) == (3, 2, 1)
    assert (got["blocks.0.0"].size_px, got["blocks.0.0"].start_px, got["blocks.0.0"].global_context) == (7, 1, True)
    assert (got["blocks.1.0"].size_px, got["blocks.1.0"].jump_px, got["blocks.1.0"].start_px) == (11, 4, 3)
    assert got["conv_head"].jump_px == 32 and got["conv_head"].spatial


def test_timm_convnext_follows_channels_last_linear_layers():
    """ConvNeXt's blocks run their MLP as Linear layers on (N, H, W, C) tensors: 4×4/4 stem, then three
    7×7 depth-wise convs at j = 4 in stage 0."""
    rf = fields(timm_model("convnext_tiny"), ["stages.0"])["stages.0"]
    assert (rf.size_px, rf.jump_px, rf.start_px, rf.spatial) == (4 + 3 * 6 * 4, 4, 1.5, True)


def test_vision_transformer_tokens_have_no_spatial_map():
    vit = timm_model("vit_tiny_patch16_224")
    patches = fields(vit, ["patch_embed.proj", "blocks.0"])
    assert (patches["patch_embed.proj"].size_px, patches["patch_embed.proj"].jump_px) == (16, 16)
    assert not patches["blocks.0"].spatial
    with pytest.raises(BrainbenchError, match="No requested layer of VisionTransformer has a spatial map"):
        receptive_fields(vit, ["blocks.0", "blocks.11"])
