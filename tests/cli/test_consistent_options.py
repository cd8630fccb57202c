"""Consistent options and honest small commands (issue 15, item 5): each command takes only the options it uses,
`rf` and `models show` need no weights, `layers` takes several benchmarks and refuses those without layers, the
offline-weights advice is true for `models register`, shape bias shows its parts, plugins honour --seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import torch

import brainbench.benchmarks.scoring
import brainbench.models.registration  # before any test patches resolve_model (it imports the name)
import brainbench.models.registry
from brainbench.benchmarks.behavior import run_shape_bias
from brainbench.cli.main import cli as root
from brainbench.models.plugins import load_entry
from brainbench.models.registry import resolve_model
from tests.benchmarks.test_behavior_kinds import dataset, logits_for, spec
from tests.cli.test_bad_input import Cli, assert_one_line_error

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "examples" / "my_plugin.py"
MODEL_OPTIONS = {"--layers", "--weights", "--random-init", "--visual-degrees", "--seed", "--device", "--batch-size",
                 "--max-memory", "--threads"}
USED = {  # the model options each command uses
    ("score",): MODEL_OPTIONS,
    ("layers",): MODEL_OPTIONS,
    ("extract",): MODEL_OPTIONS,
    ("rf",): {"--layers", "--visual-degrees"},  # the graph alone: no weights, no seed, no forward batches
    ("models", "show"): {"--layers", "--weights", "--random-init", "--visual-degrees", "--seed"},
    ("visualize",): {"--weights", "--random-init", "--seed", "--device", "--threads"},  # --layer: its one layer
}


@pytest.mark.parametrize("path", list(USED))
def test_each_command_takes_only_the_model_options_it_uses(path: tuple[str, ...]) -> None:
    taken = {opt for param in _command(*path).params for opt in param.opts} & MODEL_OPTIONS
    assert taken == USED[path]


def _command(*path: str) -> click.Command:
    command = root
    for name in path:
        command = command.get_command(click.Context(command), name)
    return command


@pytest.mark.parametrize(("option", "args"), [
    ("--batch-size", ("rf", "tinycnn", "--batch-size", "4")), ("--seed", ("rf", "tinycnn", "--seed", "1")),
    ("--max-memory", ("models", "show", "tinycnn", "--max-memory", "1")),
    ("--layers", ("visualize", "tinycnn", "--layer", "1", "--layers", "3", "-o", "x.png")),
])
def test_an_option_a_command_does_not_use_is_refused(cli: Cli, option: str, args: tuple[str, ...]) -> None:
    line = assert_one_line_error(cli(*args))
    assert f"No such option '{option}'" in line


@pytest.mark.parametrize("command", [("layers", "tinycnn", "-b", "Geirhos2019.cue_conflict-shape_bias"),
                                     ("visualize", "tinycnn", "--layer", "1", "-o", "x.png")])
def test_threads_is_applied_before_the_work(cli: Cli, command: tuple[str, ...]) -> None:
    """--threads takes effect while the options are parsed, so even a command refused afterwards has set it."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2 if before == 1 else 1)
        assert_one_line_error(cli(*command, "--threads", str(before)))  # tinycnn is not registered here
        assert torch.get_num_threads() == before
    finally:
        torch.set_num_threads(before)


def test_rf_needs_no_weights(cli: Cli) -> None:
    """timm:resnet18 offline (the home fixture) has no published weights; its RF comes from the graph. Closed form:
    7×7/2 conv (7 px, jump 2), 3×3/2 pool (11, 4), then each 3×3 conv adds 2·jump: 4 convs at jump 4 (43), a
    strided one at 4 (51, jump 8) and 3 at 8 (99), 115 and 3 at 16 (211), 243 and 3 at 32: 435 px, jump 32."""
    result = cli("rf", "timm:resnet18", "--layers", "layer4.1", "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["receptive_field_px"], row["jump_px"]) == (435, 32)


def test_models_show_without_weights_says_it_uses_random_init(cli: Cli) -> None:
    result = cli("models", "show", "timm:resnet18", "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["random_init"] is True and info["weights_origin"].startswith("random-init")
    assert info["weights_unavailable"] and info["parameters"] == 11_689_512  # ResNet-18 (He et al. 2016): 11.7 M
    table = cli("models", "show", "timm:resnet18")
    assert table.exit_code == 0 and "pretrained weights not available" in table.stdout and "random" in table.stdout


def test_models_show_asked_for_published_weights_that_exist_keeps_them(cli: Cli) -> None:
    info = json.loads(cli("models", "show", "efficientnet_lite0", "--json").stdout)
    assert info["random_init"] is False and info["weights_unavailable"] is None


def test_register_offline_suggests_what_register_takes(cli: Cli, home: Path) -> None:
    line = assert_one_line_error(cli("models", "register", "x", "--timm", "resnet18"))
    taken = {opt for param in _command("models", "register").params for opt in param.opts}
    before_score = line.split("brainbench score")[0]  # what it suggests for `register` itself
    suggested = {word.strip("(),.;") for word in before_score.split() if word.startswith("--")}
    assert suggested and suggested <= taken, line
    assert "brainbench score timm:resnet18 --random-init" in line
    assert not (home / "models" / "x.toml").exists()


@pytest.fixture
def no_model_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was built")

    for module in (brainbench.models.registry, brainbench.benchmarks.scoring):
        monkeypatch.setattr(module, "resolve_model", refuse)


@pytest.mark.parametrize("benchmarks", [("Geirhos2019.cue_conflict-shape_bias",), ("Mur2013.behavior-rsa",),
                                        ("Kriegeskorte2008.IT-rsa", "Geirhos2019.*")])
def test_layers_refuses_benchmarks_without_layers_before_the_model(cli: Cli, no_model_is_built: None,
                                                                   benchmarks: tuple[str, ...]) -> None:
    result = cli("layers", "timm:resnet18", "--random-init", *(a for b in benchmarks for a in ("-b", b)))
    line = assert_one_line_error(result)
    assert result.exit_code == 1 and "no layer profile" in line and ("Geirhos2019" in line or "Mur2013" in line)


@pytest.mark.mirror
def test_layers_profiles_each_benchmark(cli: Cli, home: Path, mirror: Path, tmp_path: Path) -> None:
    assert cli("models", "register", "tinycnn", "--from", f"{PLUGIN}:build_tinycnn").exit_code == 0
    ids = ["Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"]  # one stimulus set, so one activation pass
    plot = tmp_path / "profile.png"
    common = ("tinycnn", "--random-init", "--data-mirror", mirror, "--device", "cpu")
    result = cli("layers", *common, "-b", "Kiani2007.*", "-b", ids[1], "--json", "--plot", plot)
    assert result.exit_code == 0, result.stderr
    reports = {report["benchmark"]: report for report in json.loads(result.stdout)}
    assert list(reports) == ids
    for benchmark in ids:
        assert [row["layer"] for row in reports[benchmark]["layers"]] == ["1", "3", "5", "6"]
        assert (tmp_path / f"profile.{benchmark}.png").is_file()
        # Invariance: one benchmark alone gives the same profile (same model, same data; 1e-9 allows for BLAS
        # summation order between the shared and the separate activation passes).
        (alone,) = json.loads(cli("layers", *common, "-b", benchmark, "--json").stdout)
        for shared, single in zip(reports[benchmark]["layers"], alone["layers"], strict=True):
            assert shared["raw"] == pytest.approx(single["raw"], abs=1e-9)


def test_shape_bias_details_hold_the_models_and_humans_values() -> None:
    """Counting, as in test_behavior_kinds: of the 5 cue-conflict images (all but image 4) the model decides 2 by their
    shape (0, 3), 2 by their texture (1, 2) and 1 as neither (5): shape and texture accuracy 2/5, shape bias 2/4."""
    shapes = ["airplane", "bear", "bicycle", "bird", "bear", "bird"]
    textures = ["bear", "bicycle", "bird", "airplane", "bear", "bicycle"]  # image 4: no conflict
    model = ["airplane", "bicycle", "bird", "bird", "bear", "bear"]  # conflict images: S, T, T, S, other
    humans = np.array([shapes, shapes, ["airplane", "bicycle", "bicycle", "bird", "bear", "bird"]])
    out = run_shape_bias(spec("behavior_shape_bias"), dataset(shapes, textures, humans),
                         lambda s, d: logits_for(model), "m")
    # ratios of small counts: exact up to an ulp
    assert out["details"]["shape_bias"] == pytest.approx(
        {"model": 2 / 4, "human": 14 / 15, "shape_accuracy": 2 / 5, "texture_accuracy": 2 / 5}, abs=1e-15)


SELF_SEEDING = '''
import torch
from torch import nn


def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
'''


def test_random_init_of_a_self_seeding_plugin_follows_seed(home: Path, tmp_path: Path) -> None:
    plugin = tmp_path / "self_seeding.py"
    plugin.write_text(SELF_SEEDING)
    from brainbench.models.registration import register

    register("selfseeding", "plugin", f"{plugin}:build")
    digests = {seed: resolve_model("selfseeding", random_init=True, seed=seed).weights_digest for seed in (1, 2)}
    assert digests[1] != digests[2]
    assert resolve_model("selfseeding", random_init=True, seed=1).weights_digest == digests[1]  # and reproducible


def test_the_example_plugin_does_not_reseed_torch() -> None:
    build_tinycnn = load_entry(f"{PLUGIN}:build_tinycnn")
    weights = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        weights.append(build_tinycnn()["module"][0].weight.detach().clone())
    assert not torch.equal(weights[0], weights[1])


WARNING_PLUGIN = '''
import warnings

from torch import nn


def build():
    warnings.warn("this plugin's weights are a draft\\nsecond line", UserWarning, stacklevel=1)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
'''


def test_one_prefix_for_errors_and_warnings_in_a_real_process(tmp_path: Path) -> None:
    """`python -m brainbench`: a library's warning is one `warning:` line (not Python's two lines with a source
    path), and an error in a nested group is one `error:` line."""
    plugin = tmp_path / "warns.py"
    plugin.write_text(WARNING_PLUGIN)
    env = {**os.environ, "BRAINBENCH_HOME": str(tmp_path / "home"), "PYTHONWARNINGS": "always"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "brainbench", *args], capture_output=True, text=True, env=env,
                              timeout=300, check=False)

    registered = run("models", "register", "warns", "--from", f"{plugin}:build")
    assert registered.returncode == 0, registered.stderr
    assert registered.stderr == "warning: this plugin's weights are a draft\n"
    shown = run("rf", "warns", "--json")
    assert shown.returncode == 0 and shown.stderr == "warning: this plugin's weights are a draft\n", shown.stderr
    missing = run("models", "show")
    assert missing.returncode == 2 and missing.stderr.startswith("error: Missing argument 'NAME'.")
    assert missing.stderr.count("\n") == 1


ONE_THOUSAND_OUTPUTS = '''
from torch import nn


def build():
    module = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(48, 1000))
    return {"module": module, "layers": ["1"], "preprocessing": {"input_size": 32}}
'''


@pytest.mark.mirror
def test_score_table_shows_the_shape_bias_parts(cli: Cli, home: Path, mirror: Path, tmp_path: Path) -> None:
    """A tiny untrained 1000-way classifier (cheap): the line under the table shows the record's own values."""
    plugin = tmp_path / "thousand.py"
    plugin.write_text(ONE_THOUSAND_OUTPUTS)
    assert cli("models", "register", "thousand", "--from", f"{plugin}:build").exit_code == 0
    board = tmp_path / "lb.sqlite"
    result = cli("score", "thousand", "--random-init", "-b", "Geirhos2019.cue_conflict-shape_bias",
                 "--data-mirror", mirror, "--device", "cpu", "--leaderboard", board)
    assert result.exit_code == 0, result.stderr
    from brainbench.leaderboard import Leaderboard

    (record,) = Leaderboard(board).records()
    parts = record.details["shape_bias"]
    assert record.raw == pytest.approx(1 - abs(parts["model"] - parts["human"]), abs=1e-12)  # one subtraction
    # The humans' pooled shape bias on these trials is high (Geirhos et al. 2019, Fig. 4: about 0.96).
    assert 0.9 < parts["human"] < 1
    line = next(line for line in result.stdout.splitlines() if "model shape bias" in line)
    assert (f"model shape bias {parts['model']:.3f} (humans {parts['human']:.3f})" in line
            and f"{parts['shape_accuracy']:.1%} decided by shape, {parts['texture_accuracy']:.1%} by texture" in line)
