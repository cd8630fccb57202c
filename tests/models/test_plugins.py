"""Model plugins: the README's example file, entry points of an installed package, the decorator, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import torch

import brainbench
from brainbench.errors import BrainbenchError
from brainbench.models.registry import registered_models, resolve_model

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "my_plugin.py"


def _one_line_error(result) -> str:
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


@pytest.mark.mirror
def test_readme_plugin_is_registered_and_scored_end_to_end(cli, home, mirror, tmp_path):
    registered = cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn")
    assert registered.exit_code == 0, registered.stderr
    assert (home / "models" / "tinycnn.toml").is_file()
    assert "tinycnn" in cli("models", "list").stdout
    board = tmp_path / "board.sqlite"
    scored = cli("score", "tinycnn", "-b", "Kiani2007.IT-rsa", "--data-mirror", mirror, "--leaderboard", board,
                 "--json", "--device", "cpu")
    assert scored.exit_code == 0, scored.stderr
    record = json.loads(scored.stdout)[0]
    assert record["model"] == "tinycnn" and record["layer"] in {"1", "3", "5", "6"} and 0 < record["raw"] < 1
    model = resolve_model("tinycnn")
    assert model.preprocessing.input_size == 96 and model.weights_origin.startswith("plugin ")
    assert cli("models", "unregister", "tinycnn").exit_code == 0
    assert "tinycnn" not in registered_models()


def test_register_timm_entry_with_weights(cli, home, tmp_path):
    source = resolve_model("timm:resnet18", random_init=True, seed=5)
    torch.save(source.module.state_dict(), tmp_path / "r18.pth")
    result = cli("models", "register", "myresnet", "--timm", "resnet18", "--weights", tmp_path / "r18.pth",
                 "--layers", "layer3.1,layer4.1", "--visual-degrees", "10")
    assert result.exit_code == 0, result.stderr
    model = resolve_model("myresnet")
    assert model.weights_digest == source.weights_digest and model.layers == ["layer3.1", "layer4.1"]
    assert model.visual_degrees == 10 and model.architecture == "timm:resnet18"


def test_installed_package_entry_point_is_picked_up(home, tmp_path, monkeypatch):
    package = tmp_path / "bbplug_pkg"
    (package / "bbplug").mkdir(parents=True)
    (package / "bbplug" / "__init__.py").write_text(textwrap.dedent('''
        from torch import nn

        def build():
            return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    '''))
    (package / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "bbplug"
        version = "0.0.1"

        [project.entry-points."brainbench.models"]
        entry-net = "bbplug:build"
    '''))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", site, package], check=True, capture_output=True)
    monkeypatch.syspath_prepend(str(site))
    assert registered_models()["entry-net"].origin == "entry point"
    model = resolve_model("entry-net")
    assert model.architecture == "plugin:bbplug:build" and model.layers == ["0", "1", "2"]


def test_decorator_registers_and_refuses_builtin_names(home, monkeypatch):
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})  # keep this registration to this test
    @brainbench.register_model("decorated-net")
    def build():
        return {"module": torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()), "visual_degrees": 6}

    model = resolve_model("decorated-net")
    assert model.visual_degrees == 6 and registered_models()["decorated-net"].origin == "decorator"
    trained, untrained = model.weights_digest, resolve_model("decorated-net", random_init=True, seed=1)
    assert untrained.random_init and untrained.weights_digest != trained
    with pytest.raises(BrainbenchError, match="built-in"):
        brainbench.register_model("efficientnet_lite0")


@pytest.mark.parametrize(("source", "reason"), [
    ("def build(:\n", "importing broken.py failed (SyntaxError"),
    ("import no_such_module_xyz\ndef build():\n    pass\n", "ModuleNotFoundError"),
    ("def build():\n    return 42\n", "returned int; a plugin must return a torch.nn.Module"),
    ("from torch import nn\nclass M(nn.Module):\n    def forward(self, x):\n        raise ValueError('boom')\n"
     "def build():\n    return M()\n", "forward pass on a 224×224 image failed (ValueError: boom)"),
    ("def other():\n    pass\n", "there is no function 'build'"),
])
def test_broken_plugins_are_one_line_errors_and_leave_nothing(cli, home, tmp_path, source, reason):
    plugin = tmp_path / "broken.py"
    plugin.write_text(source)
    line = _one_line_error(cli("models", "register", "broken", "--from", f"{plugin}:build"))
    assert str(plugin) in line and reason in line
    assert not (home / "models" / "broken.toml").exists()


def test_registration_refusals(cli, home):
    assert "built-in" in _one_line_error(cli("models", "register", "efficientnet_lite0", "--timm", "resnet18"))
    assert "exactly one" in cli("models", "register", "x", "--timm", "a", "--torchvision", "b").stderr
    assert "not allowed" in _one_line_error(cli("models", "register", "timm:x", "--timm", "resnet18"))
    assert "no such model" in _one_line_error(cli("models", "unregister", "ghost"))


# Every character TOML's basic strings must escape (quote, backslash, U+0000–U+001F, U+007F), the multi-line and
# literal string delimiters, and non-ASCII text of one to four UTF-8 bytes.
AWKWARD = ['two\nlines', 'say "hi"', "C:\\models\\net.py", "tab\there", "".join(map(chr, range(0x20))) + "\x7f",
           '"""', "'''", "\\u0041 is not A", "Déjà vu, 視覚野, 🧠", "trailing backslash \\", "# not a comment", ""]


def test_registry_entries_round_trip_through_a_toml_parser():
    """The writer against Python's own TOML parser: every value comes back as it was given."""
    from brainbench.toml_writer import toml_text

    fields = {"name": "net", "description": AWKWARD[0], "visual_degrees": 1e-7, "count": -3, "flag": True,
              "odd key = 1": "x", "inf": float("inf"),
              "layers": {"candidates": AWKWARD}, "preprocessing": {"mean": [0.485, 0.456, 0.406], "input_size": 96}}
    for text in AWKWARD:
        parsed = tomllib.loads(toml_text({**fields, "description": text}, "header"))
        assert parsed == {**fields, "description": text}


def test_register_with_a_multiline_description(cli, home):
    description = 'A "tiny" CNN\nsecond line \\ with a backslash, a\ttab and 視覚野'
    result = cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn", "--description", description)
    assert result.exit_code == 0, result.stderr
    with open(home / "models" / "tinycnn.toml", "rb") as file:
        assert tomllib.load(file)["description"] == description
    assert registered_models()["tinycnn"].description == description
    listed = cli("models", "list")
    assert listed.exit_code == 0 and "tinycnn" in listed.stdout


def test_undecodable_description_is_refused_and_nothing_is_written(cli, home):
    line = _one_line_error(cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn",
                               "--description", "bad byte \udcff"))  # how Python decodes the byte 0xff in argv
    assert "not valid Unicode" in line
    assert not (home / "models" / "tinycnn.toml").exists()


@pytest.mark.parametrize("degrees", [0, -5, float("nan")])
def test_a_plugin_with_a_bad_visual_degrees_is_refused(home, monkeypatch, degrees):
    """A plugin's own field of view of 0 was silently replaced by the default 8; now it is an error naming it."""
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})

    @brainbench.register_model("degrees-net")
    def build():
        return {"module": torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), "visual_degrees": degrees}

    with pytest.raises(BrainbenchError, match=r"visual degrees must be a number above 0; plugin .*build"):
        resolve_model("degrees-net")
