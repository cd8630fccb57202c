"""The Geirhos et al. 2019 dataset (cue-conflict subset, edge, silhouette; human trials), against the mirror's files."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brainbench.data import Dataset, load_dataset, load_manifest
from brainbench.data.loaders import geirhos2019, get_loader
from brainbench.errors import DataError

pytestmark = pytest.mark.mirror

FOLDER = "geirhos2019_shape_bias"
TEXTURE_VS_SHAPE = "https://raw.githubusercontent.com/rgeirhos/texture-vs-shape/ccd0c01d42c0a8a834e90ec141e7f24fa915dc23/"
MODEL_VS_HUMAN = "https://raw.githubusercontent.com/bethgelab/model-vs-human/79ed7cd1d9ac3a114e71b6638f0a98bdd627316c/"
MAPPING = "imagenet_16class_indices.json"
TRIALS = {
    "cue-conflict": "Geirhos2019.cue_conflict",
    "edge": "Geirhos2019.edge",
    "silhouette": "Geirhos2019.silhouette",
}
CATEGORIES = [
    "airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat",
    "chair", "clock", "dog", "elephant", "keyboard", "knife", "oven", "truck",
]


@pytest.fixture(scope="module")
def folder(mirror: Path) -> Path:
    """The mirror's geirhos2019 folder (skips, or fails under BRAINBENCH_REQUIRE_MIRROR, when absent)."""
    if not (mirror / FOLDER).is_dir():
        if os.environ.get("BRAINBENCH_REQUIRE_MIRROR"):
            pytest.fail(f"BRAINBENCH_REQUIRE_MIRROR is set but {mirror} has no {FOLDER}/")
        pytest.skip(f"offline data mirror {mirror} has no {FOLDER}/")
    return mirror / FOLDER


@pytest.fixture(scope="module")
def dataset(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    """The dataset, fetched from the mirror into a fresh home (loaded once for this module)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRAINBENCH_HOME", str(tmp_path_factory.mktemp("home")))
        patch.delenv("BRAINBENCH_DATA_MIRROR", raising=False)
        yield load_dataset("geirhos2019", mirrors=[folder.parent], allow_download=False)


def human_csvs(folder: Path, experiment: str) -> pd.DataFrame:
    """All trials of one experiment, read straight from the CSVs."""
    paths = sorted((folder / "human_raw_data" / experiment).glob("*.csv"))
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True)


def real_files(folder: Path) -> dict[str, Path]:
    return {f.path: folder / f.path for f in load_manifest("geirhos2019").files}


# ---------------------------------------------------------------- manifest


def test_manifest_paths_urls_and_speed() -> None:
    start = time.perf_counter()
    manifest = load_manifest("geirhos2019")
    assert time.perf_counter() - start < 1.0  # ~1000 [[files]] entries must not slow `data list`
    assert manifest.loader == "geirhos2019" and manifest.mirror_folder == FOLDER
    assert "CC BY 4.0" in manifest.licence and len(manifest.citations) == 2
    paths = [f.path for f in manifest.files]
    assert paths == sorted(paths) and len(set(paths)) == len(paths) == 992
    prefixes = {"stimuli/cue-conflict/": 640, "stimuli/edges/": 160, "stimuli/filled-silhouettes/": 160,
                "human_raw_data/cue-conflict/": 10, "human_raw_data/edge/": 10, "human_raw_data/silhouette/": 10}
    for prefix, count in prefixes.items():
        assert sum(p.startswith(prefix) for p in paths) == count, prefix
    upstream = {"stimuli/cue-conflict/": "stimuli/style-transfer-preprocessed-512/"}
    for f in manifest.files:
        assert f.size > 0 and len(f.sha256) == 64 and not f.embedded
        if f.path == MAPPING:
            assert f.url == ""  # no public copy of the JSON: mirror or cache only
        elif f.path == "DATASET_LICENSE.txt":
            assert f.url == TEXTURE_VS_SHAPE + "DATASET_LICENSE"
        elif f.path.startswith("stimuli/"):
            folder = next((new for old, new in upstream.items() if f.path.startswith(old)), None)
            expected = f.path.replace("stimuli/cue-conflict/", folder) if folder else f.path
            assert f.url == TEXTURE_VS_SHAPE + expected
        else:
            assert f.url == MODEL_VS_HUMAN + f.path.replace("human_raw_data/", "raw-data/")
    urls = [f.url for f in manifest.files if f.path != MAPPING]
    assert all(u.startswith("https://raw.githubusercontent.com/") for u in urls)
    assert all(u.startswith((TEXTURE_VS_SHAPE, MODEL_VS_HUMAN)) for u in urls)  # the README's fixed commits


def test_manifest_matches_the_mirror_checksums(folder: Path) -> None:
    published = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        published[name.removeprefix("./")] = digest
    manifest = {f.path: f for f in load_manifest("geirhos2019").files}
    assert set(manifest) == set(published) | {MAPPING}
    for path, f in manifest.items():
        assert f.size == (folder / path).stat().st_size, path
        if path in published:
            assert f.sha256 == published[path], path


# ---------------------------------------------------------------- stimuli


def test_stimulus_counts_and_ids(dataset: Dataset) -> None:
    metadata = dataset.stimuli.metadata
    assert len(dataset.stimuli) == 960
    assert metadata["experiment"].value_counts().to_dict() == {"cue-conflict": 640, "edge": 160, "silhouette": 160}
    for experiment, per_shape in (("cue-conflict", 40), ("edge", 10), ("silhouette", 10)):
        rows = metadata[metadata["experiment"] == experiment]
        assert set(rows["shape"].value_counts()) == {per_shape} and sorted(rows["shape"].unique()) == CATEGORIES
        assert all(s.startswith(f"{experiment}/") for s in rows.index)
    single = metadata[metadata["experiment"] != "cue-conflict"]
    assert (single["texture"] == single["shape"]).all()
    conflict = metadata[metadata["experiment"] == "cue-conflict"]
    assert sorted(conflict["texture"].unique()) == CATEGORIES
    assert (conflict["shape"] == conflict["texture"]).sum() == 39  # shape = texture images of the subset


def test_labels_of_known_files(dataset: Dataset) -> None:
    metadata = dataset.stimuli.metadata
    assert metadata.loc["cue-conflict/bird10-clock1"].to_dict() == {
        "experiment": "cue-conflict", "shape": "bird", "texture": "clock",
        "file": "stimuli/cue-conflict/bird/bird10-clock1.png",
    }
    assert metadata.loc["cue-conflict/airplane10-airplane1", ["shape", "texture"]].tolist() == ["airplane", "airplane"]
    assert metadata.loc["edge/oven10"].to_dict() == {
        "experiment": "edge", "shape": "oven", "texture": "oven", "file": "stimuli/edges/oven/oven10.png"}
    assert metadata.loc["silhouette/keyboard3", "file"] == "stimuli/filled-silhouettes/keyboard/keyboard3.png"
    assert "cue-conflict/bird2-clock3" not in metadata.index  # a README example outside the mirror's subset


def test_images_load_lazily_as_rgb(dataset: Dataset, folder: Path) -> None:
    for stimulus_id in ("cue-conflict/bird10-clock1", "edge/oven10", "silhouette/oven10"):
        image = dataset.stimuli.load(stimulus_id)
        assert image.size == (224, 224) and image.mode == "RGB"
    from PIL import Image

    with Image.open(folder / "stimuli/edges/oven/oven10.png") as published:
        assert np.array_equal(np.asarray(dataset.stimuli.load("edge/oven10")), np.asarray(published.convert("RGB")))


# ---------------------------------------------------------------- human trials


def test_trial_counts(dataset: Dataset) -> None:
    expected = {"cue-conflict": (6400, 6400), "edge": (1600, 0), "silhouette": (1600, 0)}
    for experiment, (kept, dropped) in expected.items():
        trials = dataset.assemblies[TRIALS[experiment]]
        assert trials.dims == ("presentation",) and trials.sizes["presentation"] == kept
        assert trials.attrs["kind"] == "behavioral_trials" and trials.attrs["experiment"] == experiment
        assert trials.attrs["n_trials_dropped_absent_stimulus"] == dropped
        subjects = pd.Series(trials["subject"].values).value_counts()
        assert len(subjects) == 10 and set(subjects) == {kept // 10}
        assert set(trials["session"].values.tolist()) == {1}
        assert set(np.unique(trials.values)) <= {0.0, 1.0}


def test_every_trial_shows_a_stimulus_of_its_experiment(dataset: Dataset) -> None:
    metadata = dataset.stimuli.metadata
    for experiment, name in TRIALS.items():
        trials = dataset.assemblies[name]
        ids = trials["stimulus_id"].values
        assert set(ids) == set(metadata.index[metadata["experiment"] == experiment])  # every image seen …
        per_image = pd.DataFrame({"id": ids, "subject": trials["subject"].values})
        assert not per_image.duplicated().any()  # … once by each observer
        assert set(per_image["id"].value_counts()) == {10}
        assert (metadata.loc[ids, "shape"].to_numpy() == trials["category"].values).all()


def test_trials_are_the_published_rows(dataset: Dataset, folder: Path) -> None:
    trials = dataset.assemblies["Geirhos2019.edge"]
    first = trials.isel(presentation=0)
    assert first["subject"].item() == "subject-01" and first["trial"].item() == 1
    assert first["stimulus_id"].item() == "edge/oven10"
    assert (first["response"].item(), first["category"].item(), first.item()) == ("knife", "oven", 0.0)
    for experiment, name in TRIALS.items():
        raw = human_csvs(folder, experiment)
        raw["stimulus_id"] = experiment + "/" + raw["imagename"].str.split("_").str[-1].str.removesuffix(".png")
        raw = raw[raw["stimulus_id"].isin(dataset.stimuli.metadata.index)]
        trials = dataset.assemblies[name]
        assert list(trials["stimulus_id"].values) == raw["stimulus_id"].tolist()
        assert list(trials["response"].values) == raw["object_response"].tolist()
        assert list(trials["trial"].values) == raw["trial"].astype(int).tolist()
        np.testing.assert_array_equal(trials.values, (raw["object_response"] == raw["category"]).to_numpy(float))


def test_human_accuracy_on_edges_and_silhouettes(dataset: Dataset) -> None:
    """README: humans 0.871 on edges and 0.753 on silhouettes (no answer, 'na', counts as wrong)."""
    assert dataset.assemblies["Geirhos2019.edge"].mean().item() == pytest.approx(0.871, abs=5e-4)
    assert dataset.assemblies["Geirhos2019.silhouette"].mean().item() == pytest.approx(0.753, abs=5e-4)


def test_human_shape_bias_on_the_present_cue_conflict_images(dataset: Dataset) -> None:
    trials = dataset.assemblies["Geirhos2019.cue_conflict"]
    texture = dataset.stimuli.metadata.loc[trials["stimulus_id"].values, "texture"].to_numpy()
    shape, response = trials["category"].values, trials["response"].values
    conflict = shape != texture
    shape_decisions = int((response[conflict] == shape[conflict]).sum())
    texture_decisions = int((response[conflict] == texture[conflict]).sum())
    assert conflict.sum() == 6010  # 601 conflicting images × 10 observers
    assert (shape_decisions, texture_decisions) == (4690, 178)
    assert shape_decisions / (shape_decisions + texture_decisions) == pytest.approx(0.96, abs=0.005)  # README: 0.959


def test_responses_outside_the_categories_are_only_no_answers(dataset: Dataset) -> None:
    outside = {name: sorted(set(a["response"].values) - set(CATEGORIES)) for name, a in dataset.assemblies.items()
               if name in TRIALS.values()}
    assert outside == {name: ["na"] for name in TRIALS.values()}
    counts = {name: int((dataset.assemblies[name]["response"] == "na").sum()) for name in TRIALS.values()}
    assert counts == {"Geirhos2019.cue_conflict": 65, "Geirhos2019.edge": 34, "Geirhos2019.silhouette": 22}


# ---------------------------------------------------------------- ImageNet → 16 categories


def test_imagenet_16class_mapping(dataset: Dataset, folder: Path) -> None:
    mapping = dataset.assemblies["imagenet_16class"]
    assert mapping.dims == ("imagenet_index",)
    categories = pd.Series(mapping["category"].values)
    assert sorted(categories.unique()) == CATEGORIES
    indices = mapping["imagenet_index"].values
    assert len(set(indices)) == len(indices) == 207 and indices.min() >= 0 and indices.max() < 1000
    published = json.loads((folder / MAPPING).read_text())["categories"]
    for category, expected in published.items():
        assert sorted(indices[(categories == category).to_numpy()].tolist()) == sorted(expected)
    assert mapping.sel(imagenet_index=404)["category"].item() == "airplane"
    np.testing.assert_allclose(mapping.groupby("category").sum().values, 1.0)  # mean = weighted sum


# ---------------------------------------------------------------- refusals


def test_corrupted_mirror_file_is_refused(home: Path, folder: Path, tmp_path: Path) -> None:
    """A copy failing its checksum is never taken; with no good copy in any mirror it is an error naming it."""
    name = "human_raw_data/edge/edge_subject-01_session_1.csv"
    for good in folder.rglob("*"):  # every other file of the dataset, as it is
        if good.is_file():
            link = tmp_path / "mirror" / FOLDER / good.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(good)
    bad = tmp_path / "mirror" / FOLDER / name
    bad.unlink()
    bad.write_bytes((folder / name).read_bytes().replace(b"knife", b"spoon", 1))
    with pytest.raises(DataError, match=r"does not match the sha256 of geirhos2019/human_raw_data/edge/edge_subj"):
        load_dataset("geirhos2019", mirrors=[tmp_path / "mirror"], allow_download=False)
    assert not (home / "data" / "geirhos2019" / name).exists()


def test_corrupted_mirror_file_is_skipped_for_a_good_copy(home: Path, folder: Path, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    name = "human_raw_data/edge/edge_subject-01_session_1.csv"
    bad = tmp_path / "mirror" / FOLDER / name
    bad.parent.mkdir(parents=True)
    bad.write_bytes((folder / name).read_bytes().replace(b"knife", b"spoon", 1))
    load_dataset("geirhos2019", mirrors=[tmp_path / "mirror", folder.parent], allow_download=False)
    assert (home / "data" / "geirhos2019" / name).read_bytes() == (folder / name).read_bytes()
    assert [r.getMessage() for r in caplog.records if str(bad) in r.getMessage()] != []


def test_loader_is_registered() -> None:
    assert get_loader("geirhos2019") is geirhos2019.load


@pytest.mark.parametrize(
    ("which", "content", "message"),
    [
        ("human_raw_data/edge/edge_subject-03_session_1.csv", b"subj,trial\nsubject-03,1\n",
         r"edge_subject-03_session_1\.csv lacks the column\(s\) session, rt, object_response"),
        ("human_raw_data/silhouette/silhouette_subject-02_session_1.csv", b"",
         r"Cannot read silhouette_subject-02_session_1\.csv as a CSV table of trials"),
        (MAPPING, b"{not json", r"Cannot read imagenet_16class_indices\.json as JSON"),
        (MAPPING, b'{"categories": {"dog": [1, 2]}}', r"does not map exactly the 16 categories"),
    ],
)
def test_malformed_file_is_a_data_error(
    folder: Path, tmp_path: Path, which: str, content: bytes, message: str
) -> None:
    broken = tmp_path / Path(which).name
    broken.write_bytes(content)
    with pytest.raises(DataError, match=message):
        geirhos2019.load(load_manifest("geirhos2019"), real_files(folder) | {which: broken})


def test_badly_named_stimulus_and_unreadable_image_are_data_errors(folder: Path, tmp_path: Path) -> None:
    files = real_files(folder)
    png = files["stimuli/edges/oven/oven10.png"]
    with pytest.raises(DataError, match=r"stimuli/edges/oven/toaster1\.png is not named as published"):
        geirhos2019.load(load_manifest("geirhos2019"), files | {"stimuli/edges/oven/toaster1.png": png})
    garbage = tmp_path / "oven10.png"
    garbage.write_bytes(b"not a png" * 10)
    loaded = geirhos2019.load(load_manifest("geirhos2019"), files | {"stimuli/edges/oven/oven10.png": garbage})
    with pytest.raises(DataError, match=r"Stimulus edge/oven10 \(oven10\.png\) is not a readable image"):
        loaded.stimuli.load("edge/oven10")
