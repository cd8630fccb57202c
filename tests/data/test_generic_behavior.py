"""Generic behaviour data for the Geirhos kinds (shape bias, error consistency): a trials CSV, a stimulus CSV with
``shape``/``texture`` columns and a ``format = "category_mapping"`` JSON, as a lab writes them.

References: closed forms for the mapping's weights; the built-in geirhos2019 loader (its own parsing of the published
file names, trial tables and mapping JSON) for the same files; the built-in benchmarks' scores for the user's copies
of their TOMLs. The user's stimulus and trial CSVs are written here from the published files with pandas and regular
expressions, not through brainbench.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

import brainbench
from brainbench.benchmarks.behavior import run_error_consistency
from brainbench.benchmarks.checks import data_problems
from brainbench.data import load_dataset, load_manifest
from brainbench.errors import BrainbenchError, DataError
from tests.benchmarks.test_behavior_kinds import spec
from tests.data.test_generic_loader import _images, _load, _manifest

GEIRHOS = "geirhos2019_shape_bias"
MAPPING = "imagenet_16class_indices.json"
REPO = Path(__file__).resolve().parents[2]


def _mapping_table(**extra) -> dict:
    return {"name": "Mapping", "format": "category_mapping", "file": "map.json", **extra}


def _with_mapping(tmp_path: Path, content: object, **extra):
    (tmp_path / "map.json").write_text(content if isinstance(content, str) else json.dumps(content))
    files = {**_images(tmp_path), "map.json": tmp_path / "map.json"}
    return _load(_manifest("mine", files, [{"images": "imgs/"}], [_mapping_table(**extra)]), files)


def test_category_mapping_weights_each_class_by_one_over_its_category_size(tmp_path):
    dataset = _with_mapping(tmp_path, {"about": "x", "map": {"cat": [283, 281, 282], "dog": [151]}}, variable="map",
                            species="human")
    mapping = dataset.assemblies["Mapping"]
    assert mapping.dims == ("imagenet_index",)
    assert list(mapping["imagenet_index"].values) == [151, 281, 282, 283]  # sorted by class index
    assert list(mapping["category"].values) == ["dog", "cat", "cat", "cat"]
    np.testing.assert_allclose(mapping.values, [1, 1 / 3, 1 / 3, 1 / 3], rtol=0, atol=0)  # the same divisions
    assert mapping.attrs["kind"] == "category_mapping" and mapping.attrs["species"] == "human"


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("{not json", {}, r"^Cannot read map\.json as JSON \("),
    ({"a": [1]}, {"variable": "categories"}, r"^map\.json:categories: the JSON has no key 'categories' there "
                                             r"\(its keys: a\)\.$"),
    ([1, 2], {}, r"^map\.json is not an object of category → list of ImageNet-1k class indices; name the key"),
    ({"a": [1], "b": "2"}, {}, r"^map\.json: category 'b' maps to '2', not a list of class indices"),
    ({"a": [1], "b": [True]}, {}, r"^map\.json: category 'b' maps to \[True\], not a list of class indices"),
    ({"a": [1], "b": [1000]}, {}, r"^map\.json: the class index 1000 is outside ImageNet-1k's 0-999\.$"),
    ({"a": [1, 7], "b": [7]}, {}, r"^map\.json: the class index 7 is listed twice; each class belongs to one "
                                  r"category\.$"),
    ({"a": [1]}, {"stimuli": "main"}, r"assembly Mapping: a category mapping is read from its JSON alone; remove "
                                      r"stimuli\.$"),
])
def test_category_mapping_problems_are_one_sentence(tmp_path, content, extra, message):
    with pytest.raises(DataError, match=message):
        _with_mapping(tmp_path, content, **extra)


def _trials_dataset(tmp_path: Path, truth: list[str], mappings: int = 1):
    """Four images (shapes cat, cat, dog, dog; texture = shape) with two observers' trials on each."""
    files = _images(tmp_path)
    pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(4)], "filename": [f"s{i}.png" for i in range(4)],
                  "shape": ["cat", "cat", "dog", "dog"], "texture": ["cat", "cat", "dog", "dog"]}) \
        .to_csv(tmp_path / "stimuli.csv", index=False)
    pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(4)] * 2, "choice": ["cat", "dog", "dog", "dog"] * 2,
                  "truth": truth, "subject": ["a"] * 4 + ["b"] * 4}).to_csv(tmp_path / "trials.csv", index=False)
    (tmp_path / "map.json").write_text(json.dumps({"cat": [281, 282], "dog": [151]}))
    files |= {"stimuli.csv": tmp_path / "stimuli.csv", "trials.csv": tmp_path / "trials.csv",
              "map.json": tmp_path / "map.json"}
    tables = [{"name": "Test.trials", "format": "trials", "file": "trials.csv"}]
    tables += [_mapping_table(name=f"Mapping{k}") for k in range(mappings)]
    return _load(_manifest("mine", files, [{"images": "imgs/", "csv": "stimuli.csv"}], tables), files)


def test_checks_refuse_trials_whose_truth_is_not_the_shape_and_a_missing_or_second_mapping(tmp_path):
    shapes = ["cat", "cat", "dog", "dog"] * 2
    good = _trials_dataset(tmp_path, shapes)
    for kind in ("behavior_error_consistency", "behavior_shape_bias"):
        assert data_problems(spec(kind), good) == []
    wrong = _trials_dataset(tmp_path, [*shapes[:6], "cat", *shapes[7:]])  # observer b's trial on s2 (a dog)
    (problem,) = data_problems(spec("behavior_error_consistency"), wrong)
    assert problem == ("1 trial(s) of assembly Test.trials have a truth other than their image's shape (first: s2, "
                       "truth 'cat', shape 'dog'); the behavior_error_consistency kind takes the shape as the correct "
                       "answer.")
    (problem,) = data_problems(spec("behavior_shape_bias"), _trials_dataset(tmp_path, shapes, mappings=0))
    assert problem.startswith("dataset mine has no category mapping (an assembly 'imagenet_16class' or one of format "
                              "category_mapping")
    (problem,) = data_problems(spec("behavior_shape_bias"), _trials_dataset(tmp_path, shapes, mappings=2))
    assert problem == ("dataset mine has 2 category mappings (Mapping0, Mapping1); the model's decisions need one, so "
                       "keep one of them in the data manifest.")
    with pytest.raises(BrainbenchError, match=r"^Dataset mine has 2 category mappings"):  # the kind itself refuses too
        run_error_consistency(spec("behavior_error_consistency"), _trials_dataset(tmp_path, shapes, mappings=2),
                              lambda s, d: torch.zeros((len(s), 1000)), "m")


# --- The Geirhos 2019 mirror files as a lab's own generic dataset ----------------------------------------------------

EXPERIMENTS = {"cue-conflict": "stimuli/cue-conflict", "edge": "stimuli/edges"}
_NAME = re.compile(r"^(?P<shape>[a-z]+)\d+(-(?P<texture>[a-z]+)\d+)?$")  # bird3-clock3, oven10


def write_user_csvs(folder: Path, out: Path) -> dict[str, Path]:
    """The lab's stimulus CSV (cue-conflict and edge images: stimulus_id, filename under stimuli/, shape, texture)
    and one trials CSV per experiment: the published trial tables, concatenated, with a stimulus_id column, on the
    images the mirror holds (its cue-conflict folder is a subset)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for experiment, images in EXPERIMENTS.items():
        for png in sorted((folder / images).glob("*/*.png")):
            match = _NAME.match(png.stem)
            rows.append({"stimulus_id": f"{experiment}/{png.stem}",
                         "filename": png.relative_to(folder / "stimuli").as_posix(),
                         "shape": match["shape"], "texture": match["texture"] or match["shape"]})
    stimuli = pd.DataFrame(rows)
    stimuli.to_csv(out / "stimuli.csv", index=False)
    written = {"stimuli.csv": out / "stimuli.csv"}
    for experiment in EXPERIMENTS:
        tables = sorted((folder / "human_raw_data" / experiment).glob("*.csv"))
        trials = pd.concat([pd.read_csv(t, dtype=str, keep_default_na=False) for t in tables], ignore_index=True)
        stems = trials["imagename"].str.rsplit("_", n=1).str[-1].str.removesuffix(".png")
        trials.insert(0, "stimulus_id", experiment + "/" + stems)
        name = f"{experiment}_trials.csv"
        trials[trials["stimulus_id"].isin(stimuli["stimulus_id"])].to_csv(out / name, index=False)
        written[name] = out / name
    return written


USER_MANIFEST = f"""
name = "mylab_geirhos"
title = "Geirhos et al. 2019 cue-conflict and edge trials, as a lab's own files"
loader = "generic"
mirror_folder = "{GEIRHOS}"

[[stimuli]]
images = "stimuli/"
csv = "stimuli.csv"

[[assemblies]]
name = "MyLab.cue_conflict"
format = "trials"
file = "cue-conflict_trials.csv"
species = "human"
[assemblies.columns]
choice = "object_response"
truth = "category"
subject = "subj"

[[assemblies]]
name = "MyLab.edge"
format = "trials"
file = "edge_trials.csv"
[assemblies.columns]
choice = "object_response"
truth = "category"
subject = "subj"

[[assemblies]]
name = "MyLab.16class"
format = "category_mapping"
file = "{MAPPING}"
variable = "categories"
"""


def _user_definitions(mirror: Path, tmp_path: Path) -> Path:
    """A --definitions folder: the manifest (images and mapping found in the mirror's geirhos folder, the CSVs as
    local files) and copies of three built-in Geirhos benchmark TOMLs on its assemblies."""
    definitions = tmp_path / "definitions"
    (definitions / "data_manifests").mkdir(parents=True)
    (definitions / "benchmarks").mkdir()
    published = {f.path: f for f in load_manifest("geirhos2019").files}
    entries = [f'\n[[files]]\npath = "{path}"\nsha256 = "{f.sha256}"\nsize = {f.size}\n'
               for path, f in published.items() if path == MAPPING or path.startswith(tuple(EXPERIMENTS.values()))]
    for name, path in write_user_csvs(mirror / GEIRHOS, tmp_path / "lab").items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        entries.append(f'\n[[files]]\npath = "{name}"\nlocal = "{path}"\nsha256 = "{digest}"\n'
                       f"size = {path.stat().st_size}\n")
    (definitions / "data_manifests" / "mylab_geirhos.toml").write_text(USER_MANIFEST + "".join(entries))
    for builtin, assembly in PAIRS.items():
        text = (REPO / "benchmarks" / f"{builtin}.toml").read_text(encoding="utf-8")
        for old, new in ((builtin, "MyLab." + builtin.split(".", 1)[1]), ('"geirhos2019"', '"mylab_geirhos"'),
                         (f'"{builtin.split("-")[0]}"', f'"{assembly}"')):
            assert old in text
            text = text.replace(old, new)
        (definitions / "benchmarks" / f"MyLab.{builtin.split('.', 1)[1]}.toml").write_text(text)
    return definitions


PAIRS = {  # built-in benchmark → the user's assembly its copy scores
    "Geirhos2019.cue_conflict-shape_bias": "MyLab.cue_conflict",
    "Geirhos2019.cue_conflict-error_consistency": "MyLab.cue_conflict",
    "Geirhos2019.edge-error_consistency": "MyLab.edge",
}


@pytest.fixture
def geirhos(mirror: Path) -> Path:
    if not (mirror / GEIRHOS).is_dir():
        pytest.skip(f"offline data mirror {mirror} has no {GEIRHOS}/")
    return mirror / GEIRHOS


@pytest.mark.mirror
def test_user_dataset_holds_the_builtin_trials_stimuli_and_mapping(home, mirror, geirhos, tmp_path):
    definitions = _user_definitions(mirror, tmp_path)
    mine = load_dataset("mylab_geirhos", mirrors=[mirror], allow_download=False, definitions=[definitions])
    builtin = load_dataset("geirhos2019", mirrors=[mirror], allow_download=False)
    theirs_map, my_map = builtin.assemblies["imagenet_16class"], mine.assemblies["MyLab.16class"]
    assert list(my_map["imagenet_index"].values) == list(theirs_map["imagenet_index"].values)
    assert list(my_map["category"].values) == list(theirs_map["category"].values)
    np.testing.assert_allclose(my_map.values, theirs_map.values, rtol=0, atol=0)  # 1/n, the same divisions
    for builtin_name, my_name in (("Geirhos2019.cue_conflict", "MyLab.cue_conflict"), ("Geirhos2019.edge",
                                                                                        "MyLab.edge")):
        theirs, trials = builtin.assemblies[builtin_name], mine.assemblies[my_name]
        assert trials.sizes["presentation"] == theirs.sizes["presentation"] > 0
        for coord in ("stimulus_id", "subject", "response", "category"):
            assert [str(v) for v in trials[coord].values] == [str(v) for v in theirs[coord].values], coord
        np.testing.assert_array_equal(trials.values, theirs.values)  # 1.0 / 0.0 from the same string comparison
    ids = [s for s in builtin.stimuli.stimulus_ids if not s.startswith("silhouette/")]
    assert mine.stimuli.stimulus_ids == ids
    for column in ("shape", "texture"):
        assert mine.stimuli.metadata.loc[ids, column].tolist() == builtin.stimuli.metadata.loc[ids, column].tolist()
    for stimulus_id in (ids[0], ids[-1]):
        np.testing.assert_array_equal(np.asarray(mine.stimuli.load(stimulus_id)),
                                      np.asarray(builtin.stimuli.load(stimulus_id)))


def _build_tinynet1k() -> dict:
    """A small random network with an ImageNet-1k-sized output (what the Geirhos kinds decide from); its read-out
    weights are scaled up so that its decisions differ between images rather than being one category everywhere."""
    module = nn.Sequential(
        nn.Conv2d(3, 8, 5, stride=4, padding=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(256, 1000),
    )
    with torch.no_grad():
        module[-1].weight.mul_(30.0)
    return {"module": module, "layers": ["1", "3"], "visual_degrees": 8,
            "preprocessing": {"input_size": 64, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}


@pytest.mark.mirror
@pytest.mark.slow
def test_user_geirhos_benchmarks_score_as_the_builtin_ones(home, mirror, geirhos, tmp_path, monkeypatch):
    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})  # the registration stays inside the test
    brainbench.register_model("tinynet1k")(_build_tinynet1k)
    definitions = _user_definitions(mirror, tmp_path)
    mine = {builtin: "MyLab." + builtin.split(".", 1)[1] for builtin in PAIRS}
    records = brainbench.score("tinynet1k", [*PAIRS, *mine.values()], save=False, device="cpu",
                               data_mirrors=[mirror], definitions=[definitions])
    by_id = {r.benchmark: r for r in records}
    for builtin, user_id in mine.items():
        reference, user = by_id[builtin], by_id[user_id]
        # The same trials, images and mapping through the same code: equal up to summation order (1e-12 of a score).
        for field in ("raw", "ceiling", "ceiled"):
            expected, got = getattr(reference, field), getattr(user, field)
            assert (got is None and expected is None) or got == pytest.approx(expected, abs=1e-12), (builtin, field)
        assert user.details["n_images"] == reference.details["n_images"]
    # The comparison is not vacuous: real ceilings, and decisions that vary between images (one category everywhere
    # would be right on exactly 10 of the 160 edge images, 1/16; this network decides six categories there).
    assert by_id["MyLab.edge-error_consistency"].ceiling is not None
    assert by_id["MyLab.edge-error_consistency"].details["model_accuracy"] != pytest.approx(1 / 16, abs=1e-9)
