"""Rajalingham2018 (objectome) behavioural data: the shipped manifest names Brain-Score's public files exactly, and
files generated in Brain-Score's layout, served over HTTP at the manifest's URL paths, load into a Dataset.

The published files cannot be downloaded in the test environment; every file here is generated in the layout
Brain-Score publishes (an objectome BehavioralAssembly written by brainio's ``write_netcdf``, a stimulus CSV with
``filename`` column and a flat ZIP of PNGs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

import brainbench.data
from brainbench.benchmarks.evaluate import evaluate_i2n
from brainbench.data import Manifest, load_dataset, load_manifest, verify_dataset
from brainbench.data.brainscore_format import assembly_filename, s3_url, stimulus_set_filenames
from brainbench.data.loaders import get_loader
from brainbench.errors import DataError
from brainbench.metrics.behavior import TwoAfcTrials, i2n

if TYPE_CHECKING:
    from tests.conftest import LocalServer

# brainscore_vision 2.4.2, data/rajalingham2018/__init__.py: the public assembly and its stimulus set.
BUCKET = "brainscore-storage/brainio-brainscore"
PUBLISHED = {
    "assembly": ("dicarlo.Rajalingham2018.public", "null", "34c6a8b6f7c523589c1861e4123232e5f7c7df4c"),
    "csv": ("objectome.public", "null", "47884e17106a3be471d6481279cab33889b80850"),
    "zip": ("objectome.public", "null", "064f2955f98e63867755fee2e3ead8cddf6bfab8"),
}
NAMES = ("assy_dicarlo_Rajalingham2018_public.nc", "stimulus_objectome_public.csv", "stimulus_objectome_public.zip")
KEY = "Rajalingham2018.behavior"

OBJECTS = ["lo_poly_animal_RHINO_2", "MB30203", "lo_poly_animal_CHICKDEE", "weimaraner", "Hanger_02", "zebra"]
IMAGES_PER_OBJECT = 4


# --- the shipped manifest --------------------------------------------------------------------------------------------


def test_shipped_manifest_names_brainscores_public_files() -> None:
    manifest = load_manifest("rajalingham2018")
    assert manifest.loader == "brainscore_behavior"
    assert manifest.assembly == KEY and manifest.stimulus_set == "objectome.public"
    assert manifest.mirror_folder == "rajalingham2018"
    assert manifest.title and manifest.licence and len(manifest.citations) == 1 and "rajalingham2018" in manifest.source
    assert [f.path for f in manifest.files] == list(NAMES)
    for f, kind in zip(manifest.files, ("assembly", "csv", "zip"), strict=True):
        identifier, version_id, digest = PUBLISHED[kind]
        storage_name = (assembly_filename(identifier) if kind == "assembly"
                        else stimulus_set_filenames(identifier)[kind == "zip"])
        assert f.path == storage_name
        assert (f.sha1, f.sha256, f.size, f.algorithm) == (digest, "", 0, "sha1"), f.path
        assert manifest.checksums[f.path] == f"sha1:{digest}"
        url = urlparse(f.url)
        assert url.scheme == "https" and url.netloc == "brainscore-storage.s3.amazonaws.com", f.url
        assert url.path == f"/brainio-brainscore/{f.path}" and url.query == f"versionId={version_id}", f.url
        assert f.url == s3_url(BUCKET, f.path, version_id)


# --- generating files in Brain-Score's layout ------------------------------------------------------------------------


def _image(i: int) -> np.ndarray:
    return np.random.default_rng(100 + i).integers(0, 256, size=(10, 10, 3), dtype=np.uint8)


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def objectome_like(seed: int = 0) -> dict[str, object]:
    """Images (40-hex ids), their objects, and shuffled human trials covering every image × distractor cell."""
    rng = np.random.default_rng(seed)
    n_images = len(OBJECTS) * IMAGES_PER_OBJECT
    ids = np.array([hashlib.sha1(f"objectome-image-{i}".encode()).hexdigest() for i in range(n_images)])
    image_object = np.repeat(np.arange(len(OBJECTS)), IMAGES_PER_OBJECT)
    cells = [(i, d) for i in range(n_images) for d in range(len(OBJECTS)) if d != image_object[i]]
    counts = rng.integers(10, 16, len(cells))
    image = np.repeat([i for i, _ in cells], counts)
    dist = np.repeat([d for _, d in cells], counts)
    order = rng.permutation(len(image))
    image, dist = image[order], dist[order]
    difficulty = rng.uniform(0.05, 0.45, (n_images, len(OBJECTS)))
    chose_distractor = rng.random(len(image)) < difficulty[image, dist]
    objects = np.array(OBJECTS, dtype=object)
    sample_obj, dist_obj = objects[image_object[image]], objects[dist]
    return {"ids": ids, "image_object": objects[image_object], "stimulus_id": ids[image], "sample_obj": sample_obj,
            "dist_obj": dist_obj, "choice": np.where(chose_distractor, dist_obj, sample_obj),
            "worker_id": np.array([f"A{w:05d}" for w in rng.integers(0, 300, len(image))], dtype=object),
            "enough_human_data": rng.random(len(image)) < 0.8}


def write_trials_like_brainio(data: dict, path: Path, legacy: bool = True) -> None:
    """The objectome BehavioralAssembly (values: the chosen object; every trial column a level of the
    presentation MultiIndex) as brainio's write_netcdf stores it: indexes reset, one variable. ``legacy``: as the
    published file was packaged — ``image_id`` and the bare DataArray's ``__xarray_dataarray_variable__``."""
    id_name = "image_id" if legacy else "stimulus_id"
    levels = {id_name: data["stimulus_id"], "sample_obj": data["sample_obj"], "dist_obj": data["dist_obj"],
              "choice": data["choice"], "truth": data["sample_obj"], "worker_id": data["worker_id"],
              "enough_human_data": data["enough_human_data"]}
    index = pd.MultiIndex.from_arrays(list(levels.values()), names=list(levels))
    assembly = xr.DataArray(data["choice"], dims=["presentation"])
    assembly = assembly.assign_coords(xr.Coordinates.from_pandas_multiindex(index, "presentation"))
    plain = assembly.reset_index("presentation")
    if legacy:
        plain.to_netcdf(path)
    else:
        plain.to_dataset(name="data").to_netcdf(path)


def write_stimuli_like_brainio(data: dict, folder: Path, legacy: bool = True) -> tuple[Path, Path]:
    """objectome's StimulusSet (image_id, image_sample_obj, image_label) + ``filename`` as the CSV, a flat ZIP."""
    csv_name, zip_name = stimulus_set_filenames("objectome.public")
    table = pd.DataFrame({"image_id" if legacy else "stimulus_id": data["ids"],
                          "image_sample_obj": data["image_object"], "image_label": data["image_object"],
                          "filename": [f"{s}.png" for s in data["ids"]]})
    table.to_csv(folder / csv_name, index=False)
    with zipfile.ZipFile(folder / zip_name, "w") as archive:
        for i, name in enumerate(table["filename"]):
            archive.writestr(name, _png(_image(i)))
    return folder / csv_name, folder / zip_name


def published_files(folder: Path, data: dict | None = None, legacy: bool = True) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = objectome_like() if data is None else data
    write_trials_like_brainio(data, folder / NAMES[0], legacy=legacy)
    write_stimuli_like_brainio(data, folder, legacy=legacy)
    return {name: folder / name for name in NAMES}


def served(server: LocalServer, files: dict[str, Path]) -> Manifest:
    """Serve the files at the shipped manifest's URL paths (query included); the manifest with their SHA-1s."""
    manifest = load_manifest("rajalingham2018")
    entries = []
    for f in manifest.files:
        url = urlparse(f.url)
        key = f"{url.path}?{url.query}"
        server.files[key] = files[f.path].read_bytes()
        entries.append(dataclasses.replace(f, url=server.base + key,
                                           sha1=hashlib.sha1(files[f.path].read_bytes()).hexdigest()))
    return dataclasses.replace(manifest, files=tuple(entries))


# --- end to end ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [True, False], ids=["image_id-as-published", "stimulus_id"])
def test_fetch_over_http_then_load(home: Path, tmp_path: Path, http_server: LocalServer,
                                   monkeypatch: pytest.MonkeyPatch, legacy: bool) -> None:
    data = objectome_like()
    manifest = served(http_server, published_files(tmp_path / "published", data, legacy=legacy))
    monkeypatch.setattr(brainbench.data, "load_manifest", lambda name, definitions=(): manifest)

    dataset = load_dataset("rajalingham2018", mirrors=[])

    assert sorted(http_server.requests) == sorted(f"/brainio-brainscore/{n}?versionId=null" for n in NAMES)
    assert verify_dataset(manifest) == dict.fromkeys(NAMES, "ok")
    assert list(dataset.assemblies) == [KEY]
    trials = dataset.assemblies[KEY]
    assert trials.name == KEY and trials.dims == ("presentation",)
    assert trials.attrs["stimulus_set_identifier"] == "objectome.public"
    for coord in ("stimulus_id", "sample_obj", "dist_obj", "choice", "worker_id", "enough_human_data"):
        np.testing.assert_array_equal(trials[coord].values, data[coord], err_msg=coord)  # in the file's trial order
    np.testing.assert_array_equal(trials.values, data["choice"])
    np.testing.assert_array_equal(trials["truth"].values, data["sample_obj"])
    if legacy:
        np.testing.assert_array_equal(trials["image_id"].values, data["stimulus_id"])
    # stimulus metadata joined on stimulus_id, as Brain-Score's StimulusMergeAssemblyLoader does
    np.testing.assert_array_equal(trials["image_label"].values, data["sample_obj"])
    assert "filename" not in trials.coords

    stimuli = dataset.stimuli
    assert stimuli.identifier == "objectome.public"
    assert stimuli.stimulus_ids == list(data["ids"])
    assert list(stimuli.metadata.columns) == (["image_id"] if legacy else []) + ["image_sample_obj", "image_label"]
    np.testing.assert_array_equal(stimuli.metadata["image_sample_obj"], data["image_object"])
    for i in (0, len(data["ids"]) - 1):
        np.testing.assert_array_equal(np.asarray(stimuli.load(data["ids"][i])), _image(i))

    # the loaded trials feed i2n as they are, giving the metric's own numbers
    rng = np.random.default_rng(3)
    probabilities = xr.DataArray(rng.dirichlet(np.ones(len(OBJECTS)), len(data["ids"])),
                                 dims=("presentation", "choice"),
                                 coords={"stimulus_id": ("presentation", data["ids"]), "choice": OBJECTS})
    scored = evaluate_i2n(probabilities, trials)
    direct = i2n(probabilities.values, data["ids"], OBJECTS,
                 TwoAfcTrials(data["stimulus_id"], data["sample_obj"], data["dist_obj"], data["choice"]))
    assert (scored.raw, scored.ceiling, scored.ceiled) == (direct.raw, direct.ceiling, direct.ceiled)
    assert scored.n_trials == len(data["choice"]) and scored.n_images == len(data["ids"])


# --- wrong layouts ---------------------------------------------------------------------------------------------------


def _load(files: dict[str, Path]):
    return get_loader("brainscore_behavior")(load_manifest("rajalingham2018"), files)


def _rewrite_trials(files: dict[str, Path], change) -> dict[str, Path]:
    with xr.open_dataarray(files[NAMES[0]]) as opened:
        trials = opened.load()
    changed = change(trials)
    files[NAMES[0]].unlink()
    changed.to_netcdf(files[NAMES[0]])
    return files


BROKEN = {
    "two-dims": (lambda t: t.expand_dims(choice_option=["left", "right"]).transpose(),
                 r"has dimensions \(presentation, choice_option\); behavioural trials are a 1-D assembly"),
    "no-dist_obj": (lambda t: t.drop_vars("dist_obj"),
                    r"lacks the trial coordinate\(s\) dist_obj along presentation; behavioural trials need"),
    "no-ids": (lambda t: t.drop_vars("image_id"),
               r"lacks the trial coordinate\(s\) stimulus_id along presentation \(or legacy image_id\)"),
    "numeric-values-no-choice": (lambda t: xr.zeros_like(t, dtype=float).drop_vars("choice"),
                                 r"has no choice coordinate and its values are not object labels"),
    "truth-differs": (lambda t: t.assign_coords(truth=("presentation", t["dist_obj"].values)),
                      r"trials whose truth differs from their sample_obj"),
    "unknown-image": (lambda t: t.assign_coords(image_id=("presentation", ["f" * 40, *t["image_id"].values[1:]])),
                      r"1 images of the trials in assy_dicarlo_Rajalingham2018_public\.nc \(first: 'f{40}'\) are not "
                      r"in stimulus set objectome\.public"),
    "choice-disagrees": (lambda t: t.copy(data=t["dist_obj"].values),
                         r"has \d+ trials whose value \(the chosen object\) differs from their choice coordinate"),
    "empty": (lambda t: t.isel(presentation=slice(0, 0)).drop_vars("enough_human_data"), r"holds no trials"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_wrong_trial_layouts_are_one_sentence_data_errors(tmp_path: Path, case: str) -> None:
    change, message = BROKEN[case]
    files = _rewrite_trials(published_files(tmp_path), change)
    with pytest.raises(DataError, match=message) as caught:
        _load(files)
    assert "\n" not in str(caught.value) and str(caught.value).endswith(".")


def test_loader_needs_one_file_of_each_kind(tmp_path: Path) -> None:
    files = published_files(tmp_path)
    with pytest.raises(DataError, match=r"needs exactly one \.nc file in dataset rajalingham2018, found 2"):
        _load({**files, "other.nc": files[NAMES[0]]})
    with pytest.raises(DataError, match=r"needs exactly one \.zip file"):
        _load({k: v for k, v in files.items() if not k.endswith(".zip")})


def test_unreadable_trials_file(tmp_path: Path) -> None:
    files = published_files(tmp_path)
    files[NAMES[0]].write_bytes(b"not netcdf")
    with pytest.raises(DataError, match=r"Cannot read assy_dicarlo_Rajalingham2018_public\.nc as a netCDF"):
        _load(files)
