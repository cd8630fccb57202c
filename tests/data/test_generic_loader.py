"""The generic loader (no Python needed): real published files through it give the built-in loaders' assemblies and
stimuli; .npz/.nc/.mat v5/.mat v7.3 variables round trip; every check is one sentence naming the file.

The reference for (a) and (b) is the built-in loader of the same files (kriegeskorte2008, cowley2023), an
independent path (files named in its code, struct names parsed) to the same arrays; the images written for (a) are
read from the published .mat with scipy, not through brainbench.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import xarray as xr
from PIL import Image

from brainbench.data.arrays import read_array
from brainbench.data.assemblies import check_neural_assembly
from brainbench.data.loaders import get_loader
from brainbench.data.manifest import Manifest, parse_manifest
from brainbench.errors import DataError

KRIEGESKORTE = "kriegeskorte2008_92images"
COWLEY = "cowley2023_v4"
SUBJECTS = ["BE", "KO", "SN", "TI"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file_entries(files: dict[str, Path]) -> list[dict]:
    return [{"path": name, "sha256": _sha256(path), "size": path.stat().st_size} for name, path in files.items()]


def _manifest(name: str, files: dict[str, Path], stimuli: list[dict], assemblies: list[dict], **extra) -> Manifest:
    return parse_manifest({"name": name, "title": name, "loader": "generic", "files": _file_entries(files),
                           "stimuli": stimuli, "assemblies": assemblies, **extra})


def _load(manifest: Manifest, files: dict[str, Path]):
    return get_loader("generic")(manifest, files)


def write_92_images(mirror: Path, folder: Path) -> dict[str, Path]:
    """The 92 images of the published supplement as PNGs plus a stimulus CSV, as a lab would have them:
    ``{dataset path: local file}`` for ``images/imageNN.png`` and ``stimuli.csv``."""
    supplement = scipy.io.loadmat(mirror / KRIEGESKORTE / "Kriegeskorte_Neuron2008_supplementalData.mat")
    records = supplement["stimuli_92objs"].ravel()
    (folder / "images").mkdir(parents=True)
    files, rows = {}, []
    for i, record in enumerate(records):
        name = f"image{i + 1:02d}.png"
        Image.fromarray(record["image"].astype(np.uint8)).save(folder / "images" / name)
        files[f"images/{name}"] = folder / "images" / name
        rows.append({"stimulus_id": f"image{i + 1:02d}", "filename": name, "category": str(record["category"][0])})
    pd.DataFrame(rows).to_csv(folder / "stimuli.csv", index=False)
    files["stimuli.csv"] = folder / "stimuli.csv"
    return files


IT_STIMULI = [{"name": "main", "images": "images/", "csv": "stimuli.csv"}]
IT_ASSEMBLY = {
    "name": "MyLab.IT", "format": "rdm", "file": "92_brainRDMs.mat", "variable": "RDMs.RDM",
    "dims": ["group", "subject", "session", "stimulus", "stimulus"], "region": "IT", "species": "human",
    "measurement": "fMRI (316 most visually responsive voxels)", "distance": "1 - Pearson r",
    "coords": {"subject": SUBJECTS, "session": ["1", "2"]},
}


@pytest.fixture(scope="module")
def builtin_92(mirror):
    from brainbench.data import load_manifest

    folder = mirror / KRIEGESKORTE
    manifest = load_manifest("kriegeskorte2008")
    return get_loader("kriegeskorte2008")(manifest, {f.path: folder / f.path for f in manifest.files})


@pytest.mark.mirror
def test_it_rdms_of_the_92_images_equal_the_builtin_assembly_and_images(mirror, tmp_path, builtin_92):
    files = {**write_92_images(mirror, tmp_path), "92_brainRDMs.mat": mirror / KRIEGESKORTE / "92_brainRDMs.mat"}
    dataset = _load(_manifest("mylab_it", files, IT_STIMULI, [IT_ASSEMBLY]), files)

    # Same float32 values widened to float64 both ways, same labels and attributes: identical, not merely close.
    xr.testing.assert_identical(dataset.assemblies["MyLab.IT"], builtin_92.assemblies["Kriegeskorte2008.IT"])
    assert dataset.stimuli.stimulus_ids == builtin_92.stimuli.stimulus_ids
    assert list(dataset.stimuli.metadata["category"]) == list(builtin_92.stimuli.metadata["category"])
    for stimulus_id in dataset.stimuli.stimulus_ids:  # PNG is lossless: the same pixels
        np.testing.assert_array_equal(np.asarray(dataset.stimuli.load(stimulus_id)),
                                      np.asarray(builtin_92.stimuli.load(stimulus_id)))


@pytest.mark.mirror
def test_without_csv_the_stimuli_are_the_sorted_file_stems(mirror, tmp_path):
    files = {k: v for k, v in write_92_images(mirror, tmp_path).items() if k != "stimuli.csv"}
    files["92_brainRDMs.mat"] = mirror / KRIEGESKORTE / "92_brainRDMs.mat"
    dataset = _load(_manifest("mylab_it", files, [{"images": "images"}], [IT_ASSEMBLY]), files)
    assert dataset.stimuli.stimulus_ids == [f"image{i:02d}" for i in range(1, 93)]
    assert list(dataset.stimuli.metadata.columns) == ["filename"]


def _cowley_files(mirror: Path) -> dict[str, Path]:
    names = ["images/images_210325.zip", "images/images_210225.zip", "responses_raw/responses_210325.npy",
             "responses_repeat_averaged/responses_210225.npy"]
    return {name: mirror / COWLEY / name for name in names}


V4_STIMULI = [
    {"name": "s210325", "images": "images/images_210325.zip", "id_prefix": "210325_"},
    {"name": "s210225", "images": "images/images_210225.zip", "id_prefix": "210225_"},
]
V4_ASSEMBLIES = [
    {"name": "MyLab.210325.V4", "format": "responses", "file": "responses_raw/responses_210325.npy",
     "dims": ["neuroid", "stimulus", "repetition"], "stimuli": "s210325", "region": "V4", "species": "macaque"},
    {"name": "MyLab.210225.V4", "format": "responses", "file": "responses_repeat_averaged/responses_210225.npy",
     "dims": ["neuroid", "stimulus"], "stimuli": "s210225", "region": "V4", "species": "macaque"},
]


@pytest.mark.mirror
def test_cowley_sessions_equal_the_builtin_assemblies(mirror):
    from brainbench.data import load_manifest

    files = _cowley_files(mirror)
    dataset = _load(_manifest("mylab_v4", files, V4_STIMULI, V4_ASSEMBLIES), files)
    manifest = load_manifest("cowley2023")
    builtin = get_loader("cowley2023")(manifest, {f.path: mirror / COWLEY / f.path for f in manifest.files})
    for mine, theirs in [("MyLab.210325.V4", "Cowley2023.210325.V4"), ("MyLab.210225.V4", "Cowley2023.210225.V4")]:
        generic, reference = dataset.assemblies[mine], builtin.assemblies[theirs]
        check_neural_assembly(generic)
        assert generic.dims == reference.dims and generic.shape == reference.shape
        np.testing.assert_array_equal(generic.values, reference.values)  # the same numbers, copied, not computed
        assert list(generic["stimulus_id"].values) == list(reference["stimulus_id"].values)
        assert list(generic["region"].values) == list(reference["region"].values)
        assert ("repetition" in generic.coords) == ("repetition" in reference.coords)
        if "repetition" in reference.coords:
            np.testing.assert_array_equal(generic["repetition"].values, reference["repetition"].values)
    assert sorted(dataset.stimuli.stimulus_ids) == sorted(builtin.stimuli.stimulus_ids)
    for stimulus_id in ["210325_image0001", "210225_image1200"]:
        np.testing.assert_array_equal(np.asarray(dataset.stimuli.load(stimulus_id)),
                                      np.asarray(builtin.stimuli.load(stimulus_id)))


# --- Reading variables: each format against the arrays written (numpy, xarray, scipy and h5py write them) ---------

STACK = np.random.default_rng(0).normal(size=(2, 3, 5, 5))


def test_npy_npz_and_netcdf_round_trip(tmp_path):
    np.save(tmp_path / "a.npy", STACK)
    np.savez(tmp_path / "b.npz", rdms=STACK, other=np.zeros(3))
    xr.Dataset({"rdms": (("s", "k", "i", "j"), STACK)}).to_netcdf(tmp_path / "c.nc")
    np.testing.assert_array_equal(read_array(tmp_path / "a.npy"), STACK)
    np.testing.assert_array_equal(read_array(tmp_path / "b.npz", "rdms"), STACK)
    np.testing.assert_array_equal(read_array(tmp_path / "c.nc", "rdms"), STACK)
    np.testing.assert_array_equal(read_array(tmp_path / "c.nc"), STACK)  # the only variable


def test_mat_v5_struct_array_field_is_stacked_after_the_struct_axes(tmp_path):
    struct = np.empty((1, 2, 3), dtype=[("RDM", object), ("name", object)])
    for index in np.ndindex(struct.shape):
        struct[index] = (STACK[index[1], index[2]], "x")
    scipy.io.savemat(tmp_path / "s.mat", {"RDMs": struct, "single": {"RDM": STACK[0, 0]}})
    np.testing.assert_array_equal(read_array(tmp_path / "s.mat", "RDMs.RDM"), STACK[None])
    np.testing.assert_array_equal(read_array(tmp_path / "s.mat", "single.RDM"), STACK[0, 0])  # scalar struct: no axes


def _matlab_v73(path: Path, arrays: dict[str, np.ndarray], struct_array: np.ndarray) -> None:
    """Write as MATLAB's save -v7.3 does: a 512-byte user block, every array with its axes reversed (column-major),
    a struct array ``S`` as a group whose field ``RDM`` holds object references (in the reversed struct shape)."""
    with h5py.File(path, "w", userblock_size=512) as handle:
        for name, values in arrays.items():
            handle.create_dataset(name, data=values.T).attrs["MATLAB_class"] = np.bytes_("double")
        refs = handle.create_group("#refs#")
        group = handle.create_group("S")
        group.attrs["MATLAB_class"] = np.bytes_("struct")
        field = np.empty(struct_array.shape[:-2][::-1], dtype=h5py.ref_dtype)
        for index in np.ndindex(struct_array.shape[:-2]):
            element = refs.create_dataset("r" + "_".join(map(str, index)), data=struct_array[index].T)
            field[index[::-1]] = element.ref
        group.create_dataset("RDM", data=field)
    with open(path, "r+b") as handle:
        handle.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Sat Dec  5 12:00:00 2026 HDF5 schema 1.00 .")


def test_mat_v73_arrays_are_transposed_back_and_struct_fields_dereferenced(tmp_path):
    path = tmp_path / "v73.mat"
    asymmetric = np.arange(24.0).reshape(2, 3, 4)  # no axis of equal length: a missing transpose cannot pass
    _matlab_v73(path, {"X": asymmetric}, STACK)
    assert h5py.is_hdf5(path)
    np.testing.assert_array_equal(read_array(path, "X"), asymmetric)
    np.testing.assert_array_equal(read_array(path, "S.RDM"), STACK)
    with pytest.raises(DataError, match=r"^v73\.mat has no variable 'Y' \(its variables: S, X\)\.$"):
        read_array(path, "Y")
    with pytest.raises(DataError, match=r"^v73\.mat: S has no field 'rdm' \(its fields: RDM\)\.$"):
        read_array(path, "S.rdm")


# --- Small synthetic datasets: layouts and every check's sentence ---------------------------------------------------

N = 4


def _images(folder: Path, n: int = N) -> dict[str, Path]:
    (folder / "imgs").mkdir(parents=True, exist_ok=True)
    files = {}
    for i in range(n):
        path = folder / "imgs" / f"s{i}.png"
        Image.fromarray(np.full((8, 8, 3), 40 * i, dtype=np.uint8)).save(path)
        files[f"imgs/s{i}.png"] = path
    return files


def _rdm(n: int = N) -> np.ndarray:
    points = np.random.default_rng(1).normal(size=(n, 3))
    return np.linalg.norm(points[:, None] - points[None], axis=-1)


def _dataset_with(tmp_path: Path, array: np.ndarray, **assembly):
    np.save(tmp_path / "data.npy", array)
    files = {**_images(tmp_path), "data.npy": tmp_path / "data.npy"}
    table = {"name": "A", "format": "rdm", "file": "data.npy", "dims": ["stimulus", "stimulus"], **assembly}
    return _load(_manifest("mine", files, [{"images": "imgs/"}], [table]), files)


def test_single_rdm_with_nan_diagonal_is_stored_with_zeros(tmp_path):
    rdm = _rdm()
    np.fill_diagonal(rdm, np.nan)
    assembly = _dataset_with(tmp_path, rdm, region="EVC").assemblies["A"]
    assert assembly.dims == ("stimulus_a", "stimulus_b") and assembly.attrs == {"kind": "rdm", "region": "EVC"}
    np.testing.assert_array_equal(assembly.values, np.nan_to_num(rdm, nan=0.0))
    assert list(assembly["stimulus_a"].values) == [f"s{i}" for i in range(N)]


@pytest.mark.parametrize(("array", "assembly", "message"), [
    (_rdm() + np.triu(np.full((N, N), 0.5), 1), {},
     r"^data\.npy: RDM 0 is not symmetric \(row 0, column 1: .* vs .*; tolerance 1e-06 of the largest value\)\.$"),
    (_rdm() + np.eye(N), {}, r"^data\.npy: RDM 0 has 1\.0 on its diagonal \(row 0\); a dissimilarity matrix has zero "
                             r"\(or NaN\) there\.$"),
    (_rdm(N + 1), {}, r"^data\.npy holds 5×5 RDMs but stimulus source 'main' has 4 stimuli\.$"),
    (np.stack([_rdm()] * 3), {}, r"^data\.npy has 3 axes \(shape \(3, 4, 4\)\) but dims names 2 \(stimulus, "
                                 r"stimulus\); name each axis: leading unit dims"),
    (np.stack([_rdm()] * 3), {"dims": ["stimulus", "subject", "stimulus"]},
     r"^data\.npy: dims \(stimulus, subject, stimulus\) must be leading unit dims \(subject, session, \.\.\.\) then "
     r"stimulus, stimulus, each name once\.$"),
    (np.stack([_rdm()] * 3), {"dims": ["subject", "stimulus", "stimulus"], "coords": {"subject": ["a", "b"]}},
     r"^data\.npy: coords subject has 2 labels for an axis of length 3\.$"),
])
def test_rdm_checks_are_one_sentence_naming_the_file(tmp_path, array, assembly, message):
    with pytest.raises(DataError, match=message):
        _dataset_with(tmp_path, array, **assembly)


def test_tiny_asymmetry_within_the_stated_tolerance_is_accepted(tmp_path):
    rdm = _rdm()
    rdm[0, 1] *= 1 + 1e-8  # float32 storage moves a value by ~6e-8 of itself; 1e-8 is well inside 1e-6
    assert _dataset_with(tmp_path, rdm).assemblies["A"].shape == (N, N)


def test_missing_variables_and_fields_list_what_there_is(tmp_path):
    struct = np.empty((1, 2), dtype=[("RDM", object)])
    struct[0, 0], struct[0, 1] = (_rdm(),), (_rdm(),)
    scipy.io.savemat(tmp_path / "r.mat", {"RDMs": struct, "other": np.zeros(2)})
    with pytest.raises(DataError, match=r"^r\.mat has no variable 'rdms' \(its variables: RDMs, other\)\.$"):
        read_array(tmp_path / "r.mat", "rdms.RDM")
    with pytest.raises(DataError, match=r"^r\.mat: RDMs has no field 'rdm' \(its fields: RDM\)\.$"):
        read_array(tmp_path / "r.mat", "RDMs.rdm")
    with pytest.raises(DataError, match=r"^r\.mat: RDMs is a struct, not an array; name one of its fields \(RDM\)\.$"):
        read_array(tmp_path / "r.mat", "RDMs")
    np.savez(tmp_path / "z.npz", a=np.zeros(2), b=np.ones(2))
    with pytest.raises(DataError, match=r"^z\.npz has no variable 'c' \(its variables: a, b\)\.$"):
        read_array(tmp_path / "z.npz", "c")
    with pytest.raises(DataError, match=r"^z\.npz holds several arrays \(a, b\); name one as variable\.$"):
        read_array(tmp_path / "z.npz")
    np.save(tmp_path / "y.npy", np.zeros(2))
    with pytest.raises(DataError, match=r"^y\.npy is a \.npy file holding one array; drop variable = 'x'"):
        read_array(tmp_path / "y.npy", "x")


def _responses(tmp_path: Path, array: np.ndarray, dims: list[str], **assembly):
    return _dataset_with(tmp_path, array, format="responses", dims=dims, region="MT", **assembly)


def test_responses_in_any_axis_order_with_time_bins_match_a_loop_over_slots(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.normal(size=(N, 3, 5, 2))  # stimulus, repetition, neuroid, time_bin
    data[1, 2], data[3, 0] = np.nan, np.nan  # two slots not recorded
    stored = data.transpose(3, 2, 1, 0)  # as the file holds it: time_bin, neuroid, repetition, stimulus
    assembly = _responses(tmp_path, stored, ["time_bin", "neuroid", "repetition", "stimulus"],
                          coords={"time_bin_start": [70, 120], "time_bin_end": [120, 170],
                                  "animal": ["M"] * 5}).assemblies["A"]
    rows = [(s, r) for s in range(N) for r in range(3) if not np.isnan(data[s, r]).all()]
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    np.testing.assert_array_equal(assembly.values, np.stack([data[s, r] for s, r in rows]))
    assert list(assembly["stimulus_id"].values) == [f"s{s}" for s, _ in rows]
    assert list(assembly["repetition"].values) == [r for _, r in rows]
    assert list(assembly["region"].values) == ["MT"] * 5 and list(assembly["animal"].values) == ["M"] * 5
    assert list(assembly["time_bin_start"].values) == [70, 120]
    check_neural_assembly(assembly)


@pytest.mark.parametrize(("array", "dims", "message"), [
    (np.ones((N, 3)), ["stimulus", "cell"], r"^data\.npy: dims \(stimulus, cell\) must name stimulus and neuroid "
                                            r"\(required\), repetition and time_bin \(optional\)"),
    (np.ones((N + 1, 3)), ["stimulus", "neuroid"],
     r"^data\.npy has 5 stimuli along its stimulus axis but stimulus source 'main' has 4\.$"),
    (np.where(np.eye(N, 3) > 0, np.nan, 1.0), ["stimulus", "neuroid"],
     r"^data\.npy: stimulus s0 has NaN for some neuroids only; NaN marks a presentation that was not recorded"),
    (np.vstack([np.ones((N - 1, 3)), np.full((1, 3), np.nan)]), ["stimulus", "neuroid"],
     r"^data\.npy has NaN responses but no repetition axis; give every stimulus a response\.$"),
    (np.ones((N, 3, 2)), ["stimulus", "neuroid", "time_bin"],
     r"^data\.npy: a time_bin axis needs coords time_bin_start and time_bin_end \(ms\), one value per bin"),
])
def test_response_checks_are_one_sentence(tmp_path, array, dims, message):
    with pytest.raises(DataError, match=message):
        _responses(tmp_path, array, dims)


def test_trials_csv_becomes_the_assembly_the_behaviour_kinds_read(tmp_path):
    from brainbench.data.loaders.brainscore_behavior import check_trials

    files = _images(tmp_path)
    pd.DataFrame({"image": ["s0", "s1", "s2", "s0"], "response": ["dog", "cat", "dog", "cat"],
                  "truth": ["dog", "dog", "dog", "dog"], "distractor": ["cat"] * 4, "subject": ["a", "a", "b", "b"],
                  "rt": [0.5, 0.6, 0.7, 0.8]}).to_csv(tmp_path / "trials.csv", index=False)
    files["trials.csv"] = tmp_path / "trials.csv"
    table = {"name": "T", "format": "trials", "file": "trials.csv", "columns": {"stimulus_id": "image",
                                                                                "choice": "response"}}
    trials = _load(_manifest("mine", files, [{"images": "imgs", "id_prefix": "x_"}], [table]), files).assemblies["T"]
    np.testing.assert_array_equal(trials.values, [1.0, 0.0, 1.0, 0.0])  # 1.0 where the choice is the truth
    assert list(trials["stimulus_id"].values) == ["x_s0", "x_s1", "x_s2", "x_s0"]
    assert list(trials["sample_obj"].values) == ["dog"] * 4 and list(trials["dist_obj"].values) == ["cat"] * 4
    assert list(trials["subject"].values) == ["a", "a", "b", "b"] and list(trials["rt"].values) == ["0.5", "0.6",
                                                                                                     "0.7", "0.8"]
    check_trials(trials, "trials")  # the 2AFC layout i2n reads

    pd.DataFrame({"stimulus_id": ["s9"], "choice": ["a"], "truth": ["a"], "subject": ["a"]}).to_csv(
        tmp_path / "trials.csv", index=False)
    table["columns"] = {}
    with pytest.raises(DataError, match=r"^trials\.csv has trials on 1 stimuli not in stimulus source 'main' "
                                        r"\(first: s9\)\.$"):
        _load(_manifest("mine", files, [{"images": "imgs"}], [table]), files)
    table["columns"] = {"choice": "answer"}
    with pytest.raises(DataError, match=r"^trials\.csv lacks the column\(s\) answer; a trials CSV needs stimulus_id, "
                                        r"choice, truth, subject"):
        _load(_manifest("mine", files, [{"images": "imgs"}], [table]), files)


def test_zip_source_with_csv_and_the_stimulus_checks(tmp_path):
    import zipfile

    files = _images(tmp_path)
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as archive:
        for name, path in files.items():
            archive.write(path, name)
    pd.DataFrame({"stimulus_id": ["b", "a"], "filename": ["imgs/s3.png", "imgs/s1.png"], "category": ["x", "y"]}) \
        .to_csv(tmp_path / "more.csv", index=False)
    files |= {"more.zip": tmp_path / "more.zip", "more.csv": tmp_path / "more.csv"}
    np.save(tmp_path / "r.npy", _rdm(2))
    files["r.npy"] = tmp_path / "r.npy"
    sources = [{"images": "imgs/"}, {"name": "zip", "images": "more.zip", "csv": "more.csv", "id_prefix": "z_"}]
    rdm = {"name": "R", "format": "rdm", "file": "r.npy", "dims": ["stimulus", "stimulus"], "stimuli": "zip"}
    dataset = _load(_manifest("mine", files, sources, [rdm]), files)
    assert dataset.stimuli.stimulus_ids == ["s0", "s1", "s2", "s3", "z_b", "z_a"]  # sources in order; CSV row order
    assert list(dataset.assemblies["R"]["stimulus_a"].values) == ["z_b", "z_a"]
    np.testing.assert_array_equal(np.asarray(dataset.stimuli.load("z_b")), np.asarray(dataset.stimuli.load("s3")))
    assert dataset.stimuli.metadata.loc["z_a", "category"] == "y"

    def refused(sources: list[dict], assemblies: list[dict], message: str) -> None:
        with pytest.raises(DataError, match=message):
            _load(_manifest("mine", files, sources, assemblies), files)

    refused([{"images": "imgs/"}, {"name": "again", "images": "imgs/"}], [rdm | {"stimuli": "again"}],
            r"^The stimulus_id 's0' is in the stimulus sources mine:main and mine:again; give one of them an id_prefix")
    refused(sources, [{k: v for k, v in rdm.items() if k != "stimuli"}],
            r"assembly R: the dataset has several stimulus sources \(main, zip\); say which one")
    refused([{"images": "more.zip", "csv": "more.csv"}], [rdm | {"stimuli": "main", "file": "absent.npy"}],
            r"assembly R names absent\.npy, which is not among the dataset's \[\[files\]\]\.$")
    refused([{"images": "imgs/", "csv": "r.npy"}], [rdm | {"stimuli": "main"}], r"^Cannot read r\.npy as a CSV table")
    pd.DataFrame({"stimulus_id": ["a"], "file": ["s0.png"]}).to_csv(tmp_path / "bad.csv", index=False)
    files["bad.csv"] = tmp_path / "bad.csv"
    refused([{"images": "imgs/", "csv": "bad.csv"}], [rdm | {"stimuli": "main"}],
            r"^bad\.csv lacks the column\(s\) filename; a stimulus CSV needs stimulus_id, filename")
    pd.DataFrame({"stimulus_id": ["a"], "filename": ["s7.png"]}).to_csv(tmp_path / "bad.csv", index=False)
    refused([{"images": "imgs/", "csv": "bad.csv"}], [rdm | {"stimuli": "main"}],
            r"^bad\.csv names 1 file\(s\) not in the folder imgs/ \(first: s7\.png\)\.$")
    refused([{"images": "nothing/"}], [rdm | {"stimuli": "main"}],
            r"^Dataset mine: stimulus source 'main' finds no images \(\.jpg, \.jpeg, \.png\) in the folder nothing/\.$")
    refused([], [rdm], r"uses the generic loader but has no \[\[stimuli\]\] table; add at least one\.$")


def test_trials_csv_scores_i2n_as_the_brainscore_objectome_files(tmp_path, monkeypatch):
    """The same objectome-like trials as Brain-Score's netCDF (built-in brainscore_behavior loader) and as a user's
    CSV + zip (generic loader): equal trial coordinates, and the i2n kind on the same features gives the same score."""
    import torch

    from brainbench.benchmarks.behavior import run_i2n
    from tests.benchmarks.test_behavior_kinds import spec
    from tests.data import test_rajalingham2018 as objectome

    monkeypatch.setattr(objectome, "IMAGES_PER_OBJECT", 5)  # 5 probe folds need 5 images per object
    data = objectome.objectome_like()
    published = objectome.published_files(tmp_path / "published", data, legacy=False)
    builtin = get_loader("brainscore_behavior")(parse_manifest(
        {"name": "objectome", "title": "t", "loader": "brainscore_behavior", "assembly": "Test.trials",
         "files": _file_entries(published)}), published)

    pd.DataFrame({"stimulus_id": data["stimulus_id"], "choice": data["choice"], "truth": data["sample_obj"],
                  "distractor": data["dist_obj"], "subject": data["worker_id"]}).to_csv(tmp_path / "trials.csv",
                                                                                        index=False)
    csv, archive = objectome.NAMES[1], objectome.NAMES[2]
    files = {csv: published[csv], archive: published[archive], "trials.csv": tmp_path / "trials.csv"}
    generic = _load(_manifest("mine", files, [{"images": archive, "csv": csv}],
                              [{"name": "Test.trials", "format": "trials", "file": "trials.csv"}]), files)
    theirs, mine = builtin.assemblies["Test.trials"], generic.assemblies["Test.trials"]
    for coord in ("stimulus_id", "sample_obj", "dist_obj", "choice"):
        assert [str(v) for v in mine[coord].values] == [str(v) for v in theirs[coord].values], coord
    assert generic.stimuli.stimulus_ids == builtin.stimuli.stimulus_ids

    features = np.random.default_rng(3).normal(size=(len(data["ids"]), 16))
    row = {stimulus_id: i for i, stimulus_id in enumerate(data["ids"])}

    def activations(stimuli, degrees):
        return {"readout": torch.from_numpy(features[[row[s] for s in stimuli.stimulus_ids]])}

    expected, got = (run_i2n(spec("behavior_i2n"), d, activations, "readout") for d in (builtin, generic))
    for field in ("raw", "ceiling", "ceiled"):  # the same trials and features through the same code: rounding at most
        assert got[field] == pytest.approx(expected[field], abs=1e-12), field
