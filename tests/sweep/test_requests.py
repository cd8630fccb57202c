"""What a sweep is asked to score: -m text and sweep files parsed by score's own options; bad input is one sentence."""

from __future__ import annotations

import pytest

from brainbench.cli.sweep import TimeLimit
from brainbench.errors import BrainbenchError
from brainbench.sweep.requests import ModelRequest, model_requests, parse_model, read_sweep_file


def test_model_text_takes_scores_model_options():
    request = parse_model("timm:resnet18 --random-init --layers layer3,layer4 --visual-degrees 10 --seed 3 "
                          "--batch-size 8 --device cpu --max-memory 2")
    assert request == ModelRequest("timm:resnet18", None, True, ("layer3", "layer4"), 10.0, 3, "cpu", 8, 2.0)
    assert parse_model(request.label) == request  # a request's label is -m text for the same request
    assert parse_model("efficientnet_lite0") == ModelRequest("efficientnet_lite0")


@pytest.mark.parametrize(("text", "says"), [
    ("timm:resnet18 --random", "No such option '--random'. Did you mean '--random-init'?"),
    ("timm:resnet18 --seed -1", "-1 is not in the range"),
    ("timm:resnet18 --visual-degrees nan", "not a finite number"),
    ("timm:resnet18 'open", "check its quotes"),
    ("", "is empty"),
])
def test_bad_model_text_is_one_sentence_naming_it(text, says):
    with pytest.raises(BrainbenchError) as caught:
        parse_model(text)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_a_sweep_file_gives_the_same_requests_as_the_command_line(tmp_path):
    file = tmp_path / "sweep.toml"
    file.write_text('benchmarks = ["Kiani2007.*", "Kriegeskorte2008.*"]\n'
                    '[[models]]\nid = "efficientnet_lite0"\n'
                    '[[models]]\nid = "timm:resnet18"\nrandom_init = true\nlayers = ["layer3", "layer4"]\nseed = 2\n')
    read = read_sweep_file(file)
    assert read.benchmarks == ("Kiani2007.*", "Kriegeskorte2008.*")
    same = [parse_model("efficientnet_lite0"),
            parse_model("timm:resnet18 --random-init --layers layer3,layer4 --seed 2")]
    assert list(read.models) == same
    # The file's models first, then -m's, each once.
    assert model_requests(["timm:resnet18 --random-init --layers layer3,layer4 --seed 2", "timm:vgg11"], read) == [
        *same, parse_model("timm:vgg11")]


@pytest.mark.parametrize(("content", "says"), [
    ('benchmark = ["Kiani2007.*"]\n', "Unknown key in the sweep file"),
    ('[[models]]\nid = "x"\nrandom_int = true\n', "model 1: 'random_int'. Did you mean random_init?"),
    ('[[models]]\nrandom_init = true\n', "has no id"),
    ('[[models]]\nid = "x"\nrandom_init = "yes"\n', "random_init must be true or false"),
    ('[[models]]\nid = "x"\nseed = -3\n', "-3 is not in the range"),
    ('benchmarks = "Kiani2007.*"\n', "benchmarks must be a list"),
    ('models = [', "Cannot read the sweep file"),
])
def test_bad_sweep_files_are_one_sentence(tmp_path, content, says):
    file = tmp_path / "sweep.toml"
    file.write_text(content)
    with pytest.raises(BrainbenchError) as caught:
        read_sweep_file(file)
    assert says in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("given", "minutes"), [("90", 90), ("2:00", 120), ("2:00:00", 120), ("1-00:00", 1440),
                                                ("0:00:30", 1)])
def test_time_limits(given, minutes):
    assert TimeLimit().convert(given, None, None) == minutes


def test_command_line_refusals_are_one_line(cli, tmp_path):
    for args, says in [
        (["-m", "timm:resnet18 --bogus", "-b", "Kiani2007.*"], "No such option '--bogus'"),
        (["-m", "timm:resnet18", "-b", "NoSuchBenchmark.*"], "Unknown benchmark"),
        (["-m", "timm:resnet18"], "A sweep needs benchmarks"),
        (["-b", "Kiani2007.*"], "A sweep needs at least one model"),
        (["--resume", str(tmp_path), "-m", "timm:resnet18"], "drop -m"),
        (["--resume", str(tmp_path)], "is not a sweep's job folder"),
        (["-m", "timm:resnet18", "-b", "Kiani2007.*", "--executor", "local", "--gpus", "a,b"], "--gpus takes"),
    ]:
        board = [] if "--resume" in args else ["--leaderboard", tmp_path / "board.sqlite"]
        result = cli("sweep", *args, *board)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1 and says in lines[0], (args, result.stderr)


def test_weights_paths_are_made_absolute(tmp_path, monkeypatch):
    # A job may run in another folder: -m's path is taken from the current folder, a sweep file's from its own.
    monkeypatch.chdir(tmp_path)
    assert parse_model("tinycnn --weights w.pth").weights == str(tmp_path / "w.pth")
    (tmp_path / "sweeps").mkdir()
    file = tmp_path / "sweeps" / "sweep.toml"
    file.write_text('[[models]]\nid = "tinycnn"\nweights = "../checkpoints/w.pth"\n')
    assert read_sweep_file(file).models[0].weights == str(tmp_path / "checkpoints" / "w.pth")
