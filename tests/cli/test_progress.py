"""Progress for the long stages: regression steps, layer selection, scoring and ceiling tasks, and how they print."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.model_selection import ShuffleSplit

from brainbench.benchmarks.kinds import run_neural_kind
from brainbench.benchmarks.rsa import layer_rdms, rsa_score
from brainbench.cli import render
from brainbench.metrics.predictivity import layers_predictivity, regression_input
from brainbench.models.activations import layer_kernels

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from test_activations import _model as _tiny_model  # a 3-layer CNN
from test_activations import _stimuli as _tiny_stimuli
from test_neural_kind import _dataset, _probe, _spec  # the synthetic neural benchmark


class Recorder:
    """A progress factory that keeps every task's total and the sum of its advances."""

    def __init__(self) -> None:
        self.tasks: list[dict] = []

    def __call__(self, description: str, total: int):
        task = {"description": description, "total": total, "done": 0, "calls": 0}
        self.tasks.append(task)

        def advance(n: int) -> None:
            task["done"] += n
            task["calls"] += 1

        return advance


def _layers(n: int, widths: tuple[int, ...], seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor]:
    rng = np.random.default_rng(seed)
    layers = [regression_input(torch.from_numpy(rng.standard_normal((n, p)))) for p in widths]
    return layers, torch.from_numpy(rng.standard_normal((n, 3)))


@pytest.mark.parametrize(("method", "widths", "expected"), [
    # PLS: one step per layer and component (3 Gram layers × 4 components, solved together, one step per component)
    ("pls", (50, 60, 70), 3 * 4),
    # narrow layers (features < stimuli) run one by one in feature space: still one step per layer and component
    ("pls", (10, 12), 2 * 4),
    # ridge: one step per layer and split
    ("ridge", (50, 60, 70), 3 * 5),
])
def test_regression_reports_layer_steps_and_reaches_them(method, widths, expected):
    n = 40
    layers, responses = _layers(n, widths)
    splits = list(ShuffleSplit(n_splits=5, train_size=0.9, random_state=1).split(np.arange(n)))
    recorder = Recorder()
    advance = recorder("regression", expected)
    layers_predictivity(layers, responses, splits, method=method, n_components=4,
                        alphas=[0.1, 1.0, 10.0] if method == "ridge" else None, progress=advance)
    task = recorder.tasks[0]
    assert task["done"] == expected
    assert task["calls"] > 1  # it moves during the work, not only at the end


def test_neural_benchmark_reports_selection_scoring_and_ceiling():
    dataset, features, _, ids = _dataset()
    recorder = Recorder()
    probe = _probe(features, ids)
    probe = type(probe)(**{**probe.__dict__, "progress": recorder})
    run_neural_kind(_spec(assembly="selection"), dataset, probe)
    by_stage = {t["description"].split(": ", 1)[1].split(",")[0]: t for t in recorder.tasks}
    assert set(by_stage) == {"layer selection", "scoring", "ceiling"}
    # 3 candidate layers × 5 PLS components for selection; the committed layer alone × 5 for scoring; 10 halvings.
    assert by_stage["layer selection"]["total"] == 3 * 5 and "3 layers × 10 splits" in by_stage["layer selection"][
        "description"]
    assert by_stage["scoring"]["total"] == 5 and "layer good" in by_stage["scoring"]["description"]
    assert by_stage["ceiling"]["total"] == 10
    assert all(t["done"] == t["total"] for t in recorder.tasks)


def test_plain_lines_when_not_a_terminal(capsys):
    with render.progress_bars() as progress:  # pytest's captured stderr is not a terminal
        advance = progress("stage A", 100)
        for _ in range(100):
            advance(1)
        progress("stage B", 5)(2)  # left unfinished, as when an error stops the work
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "stage A …" and err[1].startswith("stage A: done in ") and err[1].endswith(" s")
    assert err[2:] == ["stage B …"]  # no per-item lines, and nothing after an unfinished task


def test_disabled_prints_nothing(capsys):
    with render.progress_bars(enabled=False) as progress:
        progress("stage", 3)(3)
    assert capsys.readouterr().err == ""


@pytest.mark.mirror
def test_piped_score_prints_start_and_end_lines_and_json_has_none(cli, mirror):
    common = ["score", "timm:resnet18", "--random-init", "--layers", "layer1.0,layer2.0", "-b", "Kiani2007.IT-rsa",
              "--data-mirror", mirror, "--no-save", "--device", "cpu"]
    piped = cli(*common)
    assert piped.exit_code == 0, piped.stderr
    lines = piped.stderr.splitlines()
    starts = [line for line in lines if line.endswith(" …")]
    ends = [line for line in lines if ": done in " in line]
    assert starts and len(ends) == len(starts), lines
    assert any("activations (92 images)" in line for line in starts)
    assert len(lines) == len(starts) + len(ends)  # nothing per image or per batch

    as_json = cli(*common, "--json")
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0]["benchmark"] == "Kiani2007.IT-rsa"
    assert as_json.stderr == ""


def test_rsa_reports_rdms_and_folds():
    rng = np.random.default_rng(0)
    activations = {name: torch.from_numpy(rng.standard_normal((20, 15))) for name in ("a", "b", "c")}
    rdms_task, folds_task = Recorder(), Recorder()
    layers, model_rdms = layer_rdms(activations, torch.device("cpu"), rdms_task("rdms", 3))
    subjects = layer_rdms({s: torch.from_numpy(rng.standard_normal((20, 15))) for s in "xy"}, torch.device("cpu"))[1]
    rsa_score(layers, model_rdms, subjects, ["p", "q"] * 10, n_splits=3, progress=folds_task("folds", 6))
    assert rdms_task.tasks[0]["done"] == 3 and rdms_task.tasks[0]["calls"] == 3  # one step per layer
    assert folds_task.tasks[0]["done"] == 6 and folds_task.tasks[0]["calls"] == 6  # 3 halvings × 2 directions


def test_gram_passes_report_images_then_layers():
    model, stimuli = _tiny_model(), _tiny_stimuli()
    recorder = Recorder()
    # Layer "0" holds 7 × 196 float32 (5488 bytes), "2" and "4" together 532: a 5600-byte budget makes two passes.
    layer_kernels(model, stimuli, 8.0, device="cpu", batch_size=3, memory_budget=5600, progress=recorder)
    assert [(t["description"].split(": ", 1)[1].split(" (")[0], t["total"]) for t in recorder.tasks] == [
        ("activations, pass 1/2", 7), ("Gram matrices, pass 1/2", 1),
        ("activations, pass 2/2", 7), ("Gram matrices, pass 2/2", 2),
    ]
    assert all(t["done"] == t["total"] for t in recorder.tasks)


def test_drawing_the_gratings_reports_each_stimulus_once(tmp_path: Path) -> None:
    """The first run draws an experiment's stimuli into the cache with a task of its own (one step per stimulus);
    a later run reads the cache and opens no drawing task."""
    from brainbench.data import gratings

    tasks: dict[str, list[int]] = {}
    factory = lambda description, total: tasks.setdefault(f"{description}|{total}", []).append  # noqa: E731
    n = len(gratings.experiment("orientation").table)
    list(gratings.experiment_batches("orientation", 8.0, 16, batch_size=500, cache_dir=tmp_path, progress=factory))
    (key,) = tasks
    assert key.startswith("drawing ") and key.endswith(f"|{n}") and sum(tasks[key]) == n and len(tasks[key]) > 1
    tasks.clear()
    list(gratings.experiment_batches("orientation", 8.0, 16, batch_size=500, cache_dir=tmp_path, progress=factory))
    assert tasks == {}
