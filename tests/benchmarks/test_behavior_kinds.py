"""Behaviour kinds on a small synthetic 16-category experiment with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch
import xarray as xr
from sklearn.metrics import cohen_kappa_score

from brainbench.benchmarks.behavior import category_probabilities, run_error_consistency, run_shape_bias
from brainbench.benchmarks.spec import parse_benchmark
from brainbench.data import load_dataset
from brainbench.data.assemblies import Dataset
from brainbench.data.manifest import DataFile, Manifest
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import BrainbenchError

CATEGORIES = ["airplane", "bear", "bicycle", "bird"]
MAPPING = xr.DataArray(np.zeros(7), dims="imagenet_index",
                       coords={"imagenet_index": [10, 11, 20, 30, 31, 32, 40],
                               "category": ("imagenet_index", ["airplane", "airplane", "bear", "bicycle", "bicycle",
                                                               "bicycle", "bird"])})


def spec(kind: str) -> object:
    return parse_benchmark({"id": f"Test.{kind}", "version": 1, "kind": kind, "region": "behavior",
                            "dataset": "test", "assembly": "Test.trials", "stimulus_degrees": 8.0})


def dataset(shapes: list[str], textures: list[str], responses: np.ndarray) -> Dataset:
    """responses: (n_observers, n_images) category names chosen by each observer."""
    ids = [f"img{i}" for i in range(len(shapes))]
    meta = pd.DataFrame({"shape": shapes, "texture": textures}, index=pd.Index(ids, name="stimulus_id"))
    stimuli = StimulusSet("test", meta, lambda s: None)
    n_obs, n_img = responses.shape
    trials = xr.DataArray(
        (responses == np.array(shapes)[None]).astype(float).ravel(), dims="presentation",
        coords={"subject": ("presentation", np.repeat([f"s{k}" for k in range(n_obs)], n_img)),
                "stimulus_id": ("presentation", np.tile(ids, n_obs)),
                "response": ("presentation", responses.ravel()),
                "category": ("presentation", np.tile(shapes, n_obs))})
    manifest = Manifest("test", "test", "none", (DataFile("x", sha256="0" * 64),))
    return Dataset(manifest, stimuli, {"Test.trials": trials, "imagenet_16class": MAPPING})


def logits_for(decisions: list[str]) -> torch.Tensor:
    """ImageNet logits whose 16-class decision is ``decisions`` (one strong class per image)."""
    logits = torch.zeros((len(decisions), 1000))
    first = {c: int(MAPPING["imagenet_index"].values[MAPPING["category"].values == c][0]) for c in CATEGORIES}
    for i, d in enumerate(decisions):
        logits[i, first[d]] = 12.0
    return logits


def test_category_probability_is_the_mean_softmax_over_its_classes() -> None:
    logits = np.random.default_rng(0).normal(0, 2, (5, 1000))
    categories, p = category_probabilities(logits, MAPPING)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert categories == CATEGORIES
    assert p[:, 2] == pytest.approx(softmax[:, [30, 31, 32]].mean(axis=1), rel=1e-12)  # softmax two ways: rounding


def test_shape_bias_by_counting() -> None:
    shapes = ["airplane", "bear", "bicycle", "bird", "bear", "bird"]
    textures = ["bear", "bicycle", "bird", "airplane", "bear", "bicycle"]  # image 4: no conflict
    model = ["airplane", "bicycle", "bird", "bird", "bear", "bear"]  # conflict images: S, T, T, S, other
    humans = np.array([shapes, shapes, ["airplane", "bicycle", "bicycle", "bird", "bear", "bird"]])
    data = dataset(shapes, textures, humans)
    out = run_shape_bias(spec("behavior_shape_bias"), data, lambda s, d: logits_for(model), "m")
    # Ratios of counts (one division each) and 1 − |difference|: exact up to an ulp; no ceiling, so ceiled is raw.
    assert out["details"]["model_shape_bias"] == pytest.approx(2 / 4, abs=1e-15)
    assert out["details"]["human_shape_bias"] == pytest.approx(14 / 15, abs=1e-15)  # 3 observers × 5 conflict images
    assert out["raw"] == pytest.approx(1 - abs(2 / 4 - 14 / 15), abs=1e-15) and out["ceiled"] == out["raw"]
    # The error: SEM over observers of 1 − |model − observer's shape bias|; observers 0 and 1 decide every conflict
    # image by its shape (bias 1), observer 2 four of five (0.8): per observer 0.5, 0.5, 0.7.
    assert out["details"]["human_shape_bias_per_observer"] == pytest.approx({"s0": 1, "s1": 1, "s2": 0.8}, abs=1e-15)
    assert out["error"] == pytest.approx(scipy.stats.sem([0.5, 0.5, 0.7]), abs=1e-15)
    assert out["details"]["ceiling_convention"] == "none" and "3 observers" in out["details"]["error_method"]


def test_error_consistency_against_sklearn_kappa() -> None:
    rng = np.random.default_rng(4)
    shapes = list(rng.choice(CATEGORIES, 40))
    wrong = {c: CATEGORIES[(CATEGORIES.index(c) + 1) % 4] for c in CATEGORIES}
    humans = np.array([[s if rng.random() < 0.7 else wrong[s] for s in shapes] for _ in range(4)])
    model = [s if rng.random() < 0.6 else wrong[s] for s in shapes]
    out = run_error_consistency(spec("behavior_error_consistency"), dataset(shapes, shapes, humans),
                                lambda s, d: logits_for(model), "m")
    model_correct = np.array(model) == np.array(shapes)
    human_correct = humans == np.array(shapes)[None]
    kappas = [cohen_kappa_score(model_correct, h) for h in human_correct]
    pairs = [cohen_kappa_score(human_correct[a], human_correct[b]) for a in range(4) for b in range(a + 1, 4)]
    # κ from counts here, from scikit-learn's confusion matrix there: rounding only.
    assert out["raw"] == pytest.approx(np.mean(kappas), abs=1e-12)
    assert out["ceiling"] == pytest.approx(np.mean(pairs), abs=1e-12)
    assert out["ceiled"] == pytest.approx(np.mean(kappas) / np.mean(pairs), abs=1e-12)
    # The error: SEM (ddof=1) over the observers of κ_observer / ceiling.
    assert out["error"] == pytest.approx(scipy.stats.sem(np.array(kappas) / np.mean(pairs)), abs=1e-12)
    assert out["details"]["ceiling_convention"] == "ratio"
    assert out["details"]["model_accuracy"] == pytest.approx(model_correct.mean(), abs=1e-15)


def test_perfect_model_on_perfect_observers_is_undefined() -> None:
    shapes = CATEGORIES * 3
    with pytest.raises(BrainbenchError, match="undefined"):
        run_error_consistency(spec("behavior_error_consistency"), dataset(shapes, shapes, np.array([shapes] * 3)),
                              lambda s, d: logits_for(shapes), "m")


def test_model_without_imagenet_head_is_told_to_use_the_probe() -> None:
    shapes = CATEGORIES
    with pytest.raises(BrainbenchError, match=r"no ImageNet-1k classifier head.*linear-probe"):
        run_shape_bias(spec("behavior_shape_bias"), dataset(shapes, shapes[::-1], np.array([shapes] * 2)),
                       lambda s, d: torch.zeros((4, 10)), "tiny")


def test_trials_naming_absent_images() -> None:
    shapes = CATEGORIES
    data = dataset(shapes, shapes, np.array([shapes] * 2))
    data.assemblies["Test.trials"] = data.assemblies["Test.trials"].assign_coords(
        stimulus_id=("presentation", ["img0", "img1", "img2", "gone"] * 2))
    with pytest.raises(BrainbenchError, match=r"2 human trial image\(s\)|not among the stimuli"):
        run_error_consistency(spec("behavior_error_consistency"), data, lambda s, d: logits_for(shapes), "m")


def test_imagenet_trained_model_recognises_edge_drawings(home, mirror) -> None:
    """End to end on the real Geirhos stimuli: the trained EfficientNet-Lite0 is far above chance (1/16)."""
    import brainbench

    (record,) = brainbench.score("efficientnet_lite0", ["Geirhos2019.edge-error_consistency"], save=False,
                                 data_mirrors=[mirror])
    details = record.details
    # 1394 of 1600 human trials correct (a count ratio).
    assert details["model_accuracy"] > 0.25 and details["human_accuracy"] == pytest.approx(0.87125, abs=1e-15)
    assert details["n_images"] == 160 and details["n_observers"] == 10 and details["n_human_pairs"] == 45
    # The ceiling from the trials with scikit-learn: mean Cohen's κ over the 45 pairs of observers (rounding only).
    trials = load_dataset("geirhos2019", mirrors=[mirror]).assemblies["Geirhos2019.edge"]
    images = sorted(set(trials["stimulus_id"].values.tolist()))
    correct = {}
    for subject, image, value in zip(trials["subject"].values, trials["stimulus_id"].values, trials.values,
                                     strict=True):
        correct.setdefault(subject, {})[image] = bool(value)
    rows = [[correct[subject][image] for image in images] for subject in sorted(correct)]
    ceiling = np.mean([cohen_kappa_score(rows[a], rows[b]) for a in range(10) for b in range(a + 1, 10)])
    assert record.ceiling == pytest.approx(ceiling, abs=1e-12) and 0 < ceiling < 1
    assert record.ceiled == pytest.approx(record.raw / ceiling, abs=1e-12)


def test_i2n_kind_scores_a_cross_fitted_probe_of_the_readout_layer() -> None:
    from brainbench.benchmarks.behavior import run_i2n
    from brainbench.metrics.behavior import TwoAfcTrials, i2n
    from brainbench.metrics.probe import cross_fitted_probabilities

    rng = np.random.default_rng(0)
    objects = np.array(["apple", "car", "dog", "face"])
    image_objects = np.repeat(objects, 6)
    ids = [f"im{i:02d}" for i in range(len(image_objects))]
    features = rng.normal(0, 1, (len(ids), 12)) + np.repeat(rng.normal(0, 1.5, (4, 12)), 6, axis=0)
    rows = []
    for _ in range(30):  # every image against every distractor, 30 times
        for stimulus, obj in zip(ids, image_objects, strict=True):
            for dist in objects[objects != obj]:
                rows.append((stimulus, obj, dist, obj if rng.random() < 0.8 else dist))
    order = rng.permutation(len(rows))
    s, o, d, c = (np.array(col)[order] for col in zip(*rows, strict=True))
    trials = xr.DataArray(np.zeros(len(s)), dims="presentation",
                          coords={"stimulus_id": ("presentation", s), "sample_obj": ("presentation", o),
                                  "dist_obj": ("presentation", d), "choice": ("presentation", c)})
    meta = pd.DataFrame(index=pd.Index(ids, name="stimulus_id"))
    data = Dataset(Manifest("t", "t", "none", (DataFile("x", sha256="0" * 64),)),
                   StimulusSet("t", meta, lambda i: None), {"Test.trials": trials})
    row = {stimulus: i for i, stimulus in enumerate(ids)}

    def activations(stimuli: StimulusSet, degrees: float) -> dict[str, torch.Tensor]:
        return {"readout": torch.from_numpy(features[[row[i] for i in stimuli.stimulus_ids]])}

    out = run_i2n(spec("behavior_i2n"), data, activations, "readout")
    shown = list(dict.fromkeys(s))  # the kind takes the images in the order the trials first show them
    classes, p = cross_fitted_probabilities(features[[row[i] for i in shown]], image_objects[[row[i] for i in shown]],
                                            n_folds=5, seed=0)
    expected = i2n(p, np.array(shown), classes, TwoAfcTrials(s, o, d, c))
    assert out["layer"] == "readout" and "cross-fitted over 5 image folds" in out["details"]["readout"]
    expected_values = (expected.raw, expected.ceiling, expected.ceiled)
    # The same probe and i2n on the same features, reached through the kind: rounding only.
    assert (out["raw"], out["ceiling"], out["ceiled"]) == pytest.approx(expected_values, abs=1e-12)
    # The error: SEM (ddof=1) of the two per-split ceiled values = |a − b| / 2.
    assert out["error"] == pytest.approx(abs(np.subtract(*expected.split_ceiled)) / 2, abs=1e-12)


def test_rajalingham_i2n_end_to_end_from_served_files(home, tmp_path, http_server, monkeypatch) -> None:
    """Brain-Score-layout objectome files over HTTP → loader → a plugin model's cross-fitted probe → i2n."""
    import brainbench
    import brainbench.data
    from tests.data import test_rajalingham2018 as objectome

    monkeypatch.setattr(objectome, "IMAGES_PER_OBJECT", 5)  # 5 probe folds need 5 images per object
    manifest = objectome.served(http_server, objectome.published_files(tmp_path / "published"))
    monkeypatch.setattr(brainbench.data, "load_manifest", lambda name, definitions=(): manifest)
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})

    @brainbench.register_model("tiny-probe-net")
    def build():
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                                     torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())
        return {"module": module, "layers": ["1", "3"], "preprocessing": {"input_size": 32}}

    (record,) = brainbench.score("tiny-probe-net", ["Rajalingham2018.behavior-i2n"], save=False)
    details = record.details
    assert record.layer == "3" and record.region == "behavior"  # the readout: the last candidate layer
    assert details["n_images"] == 30 and details["n_objects"] == 6
    # ceiled = mean over splits of r / √ceiling: `ceil` is checked against closed forms in tests/metrics/test_ceiling.py
    # and i2n split by split against Brain-Score's own numbers in tests/metrics/test_brainscore_fixtures.py.
    assert details["ceiling_convention"] == "sqrt_ratio" and "2 random halvings" in details["error_method"]
    assert -1 <= record.raw <= 1 and 0 < record.ceiling <= 1
