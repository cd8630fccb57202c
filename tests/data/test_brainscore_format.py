"""Brain-Score's file formats (netCDF assemblies, CSV + ZIP stimulus sets), SHA-1 manifests and the brainscore loader.

Every file here is generated in the test, in the layout Brain-Score publishes (brainio's ``write_netcdf`` and
``package_stimulus_set``): the published files themselves cannot be downloaded in the test environment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner, Result
from PIL import Image

from brainbench.data import DataFile, Manifest, fetch_dataset, load_manifest, verify_dataset
from brainbench.data.brainscore_format import (
    assembly_filename,
    read_assembly,
    read_stimulus_set,
    s3_url,
    stimulus_set_filenames,
    write_assembly,
    write_stimulus_set,
)
from brainbench.data.fetch import cache_path, fetch_file
from brainbench.data.loaders import get_loader
from brainbench.data.manifest import parse_manifest
from brainbench.data.stimuli import StimulusSet, in_memory_stimuli
from brainbench.errors import BrainbenchError, DataError

if TYPE_CHECKING:
    from tests.conftest import LocalServer

N_STIMULI, N_REPETITIONS, N_NEUROIDS = 30, 3, 5

# What Brain-Score's data plugins publish (brainscore_vision 2.4.2: data/majajhong2015/__init__.py and
# data/freemanziemba2013/__init__.py): identifier, bucket/folder, version_id and SHA-1 of each file.
BUCKET = "brainscore-storage/brainio-brainscore"
PUBLISHED = {
    "majajhong2015": {
        "assembly": ("dicarlo.MajajHong2015.public", "null", "13d28ca0ce88ee550b54db3004374ae19096e9b9"),
        "csv": ("hvm-public", "null", "5ca7a3da00d8e9c694a9cd725df5ba0ad6d735af"),
        "zip": ("hvm-public", "null", "8aa44e038d7b551efa8077467622f9d48d72e473"),
    },
    "freemanziemba2013": {
        "assembly": (
            "movshon.FreemanZiemba2013.public", "W2vx7jdh9utZdVumHHarXa4L1zOrA8Fd",
            "761c08f796db4e342555cdb60eef23a4f19ead43",
        ),
        "csv": ("FreemanZiemba2013.aperture-public", "null", "194c9b301a4e3e9cff02481d4c19b39331d52660"),
        "zip": ("FreemanZiemba2013.aperture-public", "null", "3a6fec1fc28c212882d6833e267ea8654d289611"),
    },
}
PUBLISHED_NAMES = {
    "majajhong2015": (
        "assy_dicarlo_MajajHong2015_public.nc", "stimulus_hvm-public.csv", "stimulus_hvm-public.zip",
    ),
    "freemanziemba2013": (
        "assy_movshon_FreemanZiemba2013_public.nc",
        "stimulus_FreemanZiemba2013_aperture-public.csv",
        "stimulus_FreemanZiemba2013_aperture-public.zip",
    ),
}


# --- generating files in Brain-Score's layout ------------------------------------------------------------------------


def stimulus_ids(n: int = N_STIMULI) -> list[str]:
    """HvM-style ids: 40-hex strings (SHA-1 of the image), here of the index."""
    return [hashlib.sha1(str(i).encode()).hexdigest() for i in range(n)]


def majaj_like(id_name: str = "stimulus_id") -> xr.DataArray:
    """30 stimuli × 3 repetitions, 5 neuroids, 1 time bin, with MultiIndexes on every dim (as brainio holds it)."""
    rng = np.random.default_rng(7)
    ids = stimulus_ids()
    presentation = pd.MultiIndex.from_arrays(
        [
            np.tile(ids, N_REPETITIONS),
            np.repeat(np.arange(N_REPETITIONS), N_STIMULI),
            np.tile([f"object{i % 4}" for i in range(N_STIMULI)], N_REPETITIONS),
            np.tile([(0, 3)[i % 2] for i in range(N_STIMULI)], N_REPETITIONS),
        ],
        names=[id_name, "repetition", "object_name", "variation"],
    )
    neuroid = pd.MultiIndex.from_arrays(
        [
            [f"Chabo_L_M_{i}_{i + 2}" for i in range(N_NEUROIDS)],
            ["V4", "V4", "IT", "IT", "IT"],
            ["Chabo"] * 3 + ["Tito"] * 2,
            np.arange(N_NEUROIDS, dtype=np.int64) * 8,
        ],
        names=["neuroid_id", "region", "animal", "elec"],
    )
    time_bin = pd.MultiIndex.from_arrays([[70], [170]], names=["time_bin_start", "time_bin_end"])
    values = rng.normal(size=(N_STIMULI * N_REPETITIONS, N_NEUROIDS, 1)).astype(np.float32)
    values[4, 2, 0] = np.nan  # published assemblies can hold NaNs
    assembly = xr.DataArray(values, dims=("presentation", "neuroid", "time_bin"))
    for index, dim in ((presentation, "presentation"), (neuroid, "neuroid"), (time_bin, "time_bin")):
        assembly = assembly.assign_coords(xr.Coordinates.from_pandas_multiindex(index, dim))
    assembly.attrs = {"stimulus_set_identifier": "hvm-public"}
    return assembly


def write_like_brainio(assembly: xr.DataArray, path: Path, legacy: bool = False) -> None:
    """brainio's write_netcdf: reset every index (netCDF holds no MultiIndex), then one variable ``data``, zlib;
    ``legacy``: an older brainio that wrote the bare DataArray (``__xarray_dataarray_variable__``)."""
    plain = assembly.reset_index(list(assembly.indexes))
    if legacy:
        plain.to_netcdf(path)
    else:
        ds = plain.to_dataset(name="data", promote_attrs=True)
        ds.to_netcdf(path, encoding={"data": {"zlib": True, "complevel": 9}})


def image(i: int, size: int = 12) -> np.ndarray:
    rng = np.random.default_rng(i)
    return rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)


def png(pixels: np.ndarray, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(out, format="PNG")
    return out.getvalue()


def stimulus_table(id_name: str = "stimulus_id") -> pd.DataFrame:
    ids = stimulus_ids()
    return pd.DataFrame({
        id_name: ids,
        "object_name": [f"object{i % 4}" for i in range(N_STIMULI)],
        "category_name": [("Animals", "Cars")[i % 2] for i in range(N_STIMULI)],
        "image_size_degree": [8] * N_STIMULI,
        "ty": np.linspace(-0.5, 0.5, N_STIMULI),
        "filename": [f"{s}.png" for s in ids],
    })


def write_stimuli_like_brainio(folder: Path, table: pd.DataFrame | None = None, name: str = "hvm-public",
                               images: dict[str, bytes] | None = None) -> tuple[Path, Path]:
    """A CSV (metadata + ``filename``) and a flat ZIP of PNGs, as brainio's package_stimulus_set writes them."""
    table = stimulus_table() if table is None else table
    csv_name, zip_name = stimulus_set_filenames(name)
    csv_path, zip_path = folder / csv_name, folder / zip_name
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(csv_path, index=False)
    if images is None:
        images = {f: png(image(i)) for i, f in enumerate(table["filename"])}
    with zipfile.ZipFile(zip_path, "w") as archive:
        for member, body in images.items():
            archive.writestr(member, body)
    return csv_path, zip_path


def brainio_open(path: Path) -> xr.DataArray:
    """What brainio's AssemblyLoader does: ``xr.open_dataarray`` then gather_indexes (MultiIndex per dim)."""
    with xr.open_dataarray(path) as opened:
        assembly = opened.load()
    per_dim = {dim: [str(c) for c in assembly.coords if assembly[c].dims == (dim,) and c not in assembly.indexes]
               for dim in assembly.dims}
    return assembly.set_index(append=True, **{d: c for d, c in per_dim.items() if c})


def sha1(path_or_bytes: Path | bytes) -> str:
    body = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return hashlib.sha1(body).hexdigest()


# --- assemblies ------------------------------------------------------------------------------------------------------


def test_read_assembly_as_brainio_writes_it(tmp_path: Path) -> None:
    expected = majaj_like()
    path = tmp_path / assembly_filename("dicarlo.MajajHong2015.public")
    write_like_brainio(expected, path)

    assembly = read_assembly(path, name="MajajHong2015.public")

    assert assembly.name == "MajajHong2015.public"
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    assert assembly.shape == (N_STIMULI * N_REPETITIONS, N_NEUROIDS, 1)
    np.testing.assert_array_equal(assembly.values, expected.values)  # NaN at the same place
    assert np.isnan(assembly.values[4, 2, 0])
    assert not any(isinstance(i, pd.MultiIndex) for i in assembly.indexes.values())
    for dim in expected.dims:
        for level in expected.indexes[dim].names:
            assert assembly[level].dims == (dim,), level
            assert assembly[level].values.tolist() == expected.indexes[dim].get_level_values(level).tolist(), level
    assert assembly.attrs["stimulus_set_identifier"] == "hvm-public"


def test_read_legacy_assembly_renames_image_id(tmp_path: Path) -> None:
    expected = majaj_like(id_name="image_id")
    path = tmp_path / "legacy.nc"
    write_like_brainio(expected, path, legacy=True)
    with xr.open_dataset(path) as raw:
        assert list(raw.data_vars) == ["__xarray_dataarray_variable__"]

    assembly = read_assembly(path)

    assert assembly.name is None
    ids = expected.indexes["presentation"].get_level_values("image_id").tolist()
    assert assembly["stimulus_id"].values.tolist() == ids
    assert assembly["image_id"].values.tolist() == ids
    np.testing.assert_array_equal(assembly.values, expected.values)


def test_read_assembly_with_any_single_variable_name(tmp_path: Path) -> None:
    expected = majaj_like().isel(time_bin=0, drop=True)
    path = tmp_path / "named.nc"
    expected.reset_index(list(expected.indexes)).rename("dicarlo.MajajHong2015.public").to_netcdf(path)

    assembly = read_assembly(path)

    assert assembly.name == "dicarlo.MajajHong2015.public"
    assert assembly.dims == ("presentation", "neuroid")
    np.testing.assert_array_equal(assembly.values, expected.values)


def model_features() -> xr.DataArray:
    """What a model hands over: presentation × neuroid features with stimulus_id, neuroid_id and layer."""
    rng = np.random.default_rng(3)
    return xr.DataArray(
        rng.normal(size=(N_STIMULI, 8)),
        dims=("presentation", "neuroid"),
        coords={
            "stimulus_id": ("presentation", stimulus_ids()),
            "neuroid_id": ("neuroid", [f"layer3.{i}" for i in range(8)]),
            "layer": ("neuroid", ["layer3"] * 8),
            "channel": ("neuroid", np.arange(8)),
        },
        attrs={"model": "resnet18", "pretrained": True, "skipped": None, "options": {"a": 1}},
    )


def test_write_assembly_round_trips_and_opens_in_brainio(tmp_path: Path) -> None:
    features = model_features()
    path = tmp_path / "out" / "features.nc"

    write_assembly(features, path)

    assert features.attrs["options"] == {"a": 1} and "skipped" in features.attrs  # the caller's copy untouched
    with xr.open_dataset(path) as raw:
        assert list(raw.data_vars) == ["data"]
        assert {str(c): raw[c].dims for c in raw.coords} == {
            "stimulus_id": ("presentation",), "neuroid_id": ("neuroid",), "layer": ("neuroid",),
            "channel": ("neuroid",),
        }
        assert raw.attrs == {"model": "resnet18", "pretrained": 1}  # None and dicts cannot be netCDF attributes
    again = read_assembly(path)
    xr.testing.assert_equal(again, features.drop_attrs())
    assert [p.name for p in path.parent.iterdir()] == ["features.nc"]  # no temporaries left

    rebuilt = brainio_open(path)  # Brain-Score's reader opens it unchanged
    # one coordinate on a dim: xarray's set_index makes it the dim's plain index (as it does in brainio)
    assert rebuilt.indexes["presentation"].tolist() == stimulus_ids()
    assert rebuilt.indexes["neuroid"].names == ["neuroid_id", "layer", "channel"]
    np.testing.assert_array_equal(rebuilt.values, features.values)


def test_write_assembly_keeps_a_multiindexed_assembly_unchanged(tmp_path: Path) -> None:
    expected = majaj_like()
    path = tmp_path / "again.nc"

    write_assembly(expected, path)

    assembly = read_assembly(path)
    xr.testing.assert_identical(assembly, expected.reset_index(list(expected.indexes)))
    rebuilt = brainio_open(path)
    for dim in expected.dims:
        assert rebuilt.indexes[dim].equals(expected.indexes[dim]), dim


def test_read_then_write_then_read_is_identical(tmp_path: Path) -> None:
    write_like_brainio(majaj_like(id_name="image_id"), tmp_path / "a.nc", legacy=True)
    first = read_assembly(tmp_path / "a.nc", name="x")
    write_assembly(first, tmp_path / "b.nc")
    xr.testing.assert_identical(read_assembly(tmp_path / "b.nc", name="x"), first)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.rename(neuroid="unit"), r"no neuroid dimension"),
        (lambda a: a.isel(neuroid=0), r"no neuroid dimension"),
        (lambda a: a.rename(time_bin="trial"), r"unexpected dimension\(s\) trial"),
        (lambda a: a.drop_vars("stimulus_id"), r"no stimulus_id \(or legacy image_id\) coordinate"),
        (lambda a: a.drop_vars(["neuroid_id", "region", "animal", "elec"]), r"no coordinate along its neuroid dim"),
    ],
)
def test_assembly_with_the_wrong_layout_is_a_data_error(
    tmp_path: Path, change: Callable[[xr.DataArray], xr.DataArray], message: str
) -> None:
    wrong = change(majaj_like().reset_index(["presentation", "neuroid", "time_bin"]))
    path = tmp_path / "wrong.nc"
    wrong.to_dataset(name="data").to_netcdf(path)

    with pytest.raises(DataError, match=message):
        read_assembly(path)
    with pytest.raises(DataError, match=message):
        write_assembly(wrong, tmp_path / "never.nc")
    assert not (tmp_path / "never.nc").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wrong.nc"]


def test_unreadable_assembly_files_are_data_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"this is not a netCDF file at all" * 10)
    with pytest.raises(DataError, match=r"Cannot read garbage\.nc as a netCDF assembly"):
        read_assembly(garbage)

    good = tmp_path / "good.nc"
    write_like_brainio(majaj_like(), good)
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match=r"truncated\.nc"):
        read_assembly(truncated)

    with pytest.raises(DataError, match=r"Cannot read absent\.nc"):
        read_assembly(tmp_path / "absent.nc")


def test_assembly_with_two_unnamed_variables_is_a_data_error(tmp_path: Path) -> None:
    plain = majaj_like().reset_index(["presentation", "neuroid", "time_bin"])
    path = tmp_path / "two.nc"
    xr.Dataset({"rates": plain, "counts": plain * 2}).to_netcdf(path)
    with pytest.raises(DataError, match=r"two\.nc holds 2 data variables \(rates, counts\)"):
        read_assembly(path)


def test_errors_are_brainbench_errors() -> None:
    assert issubclass(DataError, BrainbenchError)


# --- stimulus sets ---------------------------------------------------------------------------------------------------


def test_read_stimulus_set_as_brainio_packages_it(tmp_path: Path) -> None:
    table = stimulus_table()
    csv_path, zip_path = write_stimuli_like_brainio(tmp_path, table)

    stimuli = read_stimulus_set(csv_path, zip_path, "hvm-public")

    assert stimuli.identifier == "hvm-public"
    assert stimuli.stimulus_ids == table["stimulus_id"].tolist()
    assert list(stimuli.metadata.columns) == ["object_name", "category_name", "image_size_degree", "ty"]
    pd.testing.assert_frame_equal(
        stimuli.metadata.reset_index(), table.drop(columns="filename"), check_dtype=False
    )
    assert stimuli.metadata["ty"].dtype == np.float64 and stimuli.metadata["image_size_degree"].dtype.kind == "i"
    for i, (stimulus_id, loaded) in enumerate(zip(stimuli.stimulus_ids, stimuli.images(), strict=True)):
        assert loaded.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(loaded), image(i), err_msg=stimulus_id)
    subset = stimuli.subset(stimuli.stimulus_ids[5:2:-1])
    np.testing.assert_array_equal(np.asarray(next(subset.images())), image(5))


def test_read_legacy_stimulus_set_with_image_id_and_grayscale_images(tmp_path: Path) -> None:
    ids = ["0001", "0002", "NA"]  # kept verbatim: no numbers, no missing values
    table = pd.DataFrame({"image_id": ids, "object_name": ["a", "b", "c"], "filename": [f"{i}.png" for i in ids]})
    images = {f"{i}.png": png(image(k), mode="L") for k, i in enumerate(ids)}
    csv_path, zip_path = write_stimuli_like_brainio(tmp_path, table, "legacy", images)

    stimuli = read_stimulus_set(csv_path, zip_path, "legacy")

    assert stimuli.stimulus_ids == ids
    assert stimuli.metadata["image_id"].tolist() == ids  # brainio keeps the legacy column too
    gray = np.asarray(Image.fromarray(image(2)).convert("L"))
    np.testing.assert_array_equal(np.asarray(stimuli.load("NA")), np.stack([gray] * 3, axis=-1))


def test_stimulus_path_within_store_names_members_without_extension(tmp_path: Path) -> None:
    table = pd.DataFrame({"stimulus_id": ["s1", "s2"], "stimulus_path_within_store": ["sub/s1", "sub/s2"]})
    images = {"sub/s1.png": png(image(1)), "sub/s2.png": png(image(2))}
    csv_path, zip_path = write_stimuli_like_brainio(tmp_path, table, "nested", images)
    stimuli = read_stimulus_set(csv_path, zip_path, "nested")
    np.testing.assert_array_equal(np.asarray(stimuli.load("s2")), image(2))


def test_write_stimulus_set_round_trips(tmp_path: Path) -> None:
    metadata = pd.DataFrame(
        {"object_name": ["x", "y", "z"], "degrees": [8.0, 8.0, 4.0]},
        index=pd.Index(["a", "b", "c"], name="stimulus_id"),
    )
    pixels = np.stack([image(i) for i in range(3)])
    original = in_memory_stimuli("mine", pixels, metadata)
    csv_path, zip_path = tmp_path / "set" / "stimulus_mine.csv", tmp_path / "set" / "stimulus_mine.zip"

    write_stimulus_set(original, csv_path, zip_path)

    written = pd.read_csv(csv_path)
    assert list(written.columns) == ["stimulus_id", "object_name", "degrees", "filename"]
    assert written["filename"].tolist() == ["a.png", "b.png", "c.png"]
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ["a.png", "b.png", "c.png"]
    again = read_stimulus_set(csv_path, zip_path, "mine")
    pd.testing.assert_frame_equal(again.metadata, metadata)
    for expected, loaded in zip(pixels, again.images(), strict=True):
        np.testing.assert_array_equal(np.asarray(loaded), expected)
    assert sorted(p.name for p in csv_path.parent.iterdir()) == ["stimulus_mine.csv", "stimulus_mine.zip"]


def test_write_stimulus_set_failure_leaves_nothing(tmp_path: Path) -> None:
    def broken(stimulus_id: str) -> Image.Image:
        raise DataError(f"cannot load {stimulus_id}")

    stimuli = StimulusSet("broken", pd.DataFrame(index=pd.Index(["a"], name="stimulus_id")), broken)
    with pytest.raises(DataError, match="cannot load a"):
        write_stimulus_set(stimuli, tmp_path / "s.csv", tmp_path / "s.zip")
    assert list(tmp_path.iterdir()) == []


def bad_stimulus_sets() -> dict[str, tuple[Callable[[Path], tuple[Path, Path]], str]]:
    def with_table(table: pd.DataFrame) -> Callable[[Path], tuple[Path, Path]]:
        images = {f"{s}.png": png(image(0)) for s in stimulus_ids()}
        return lambda folder: write_stimuli_like_brainio(folder, table, images=images)

    def binary_csv(folder: Path) -> tuple[Path, Path]:
        csv_path, zip_path = write_stimuli_like_brainio(folder)
        csv_path.write_bytes(bytes(range(256)) * 4)
        return csv_path, zip_path

    def empty_csv(folder: Path) -> tuple[Path, Path]:
        csv_path, zip_path = write_stimuli_like_brainio(folder)
        csv_path.write_bytes(b"")
        return csv_path, zip_path

    def not_a_zip(folder: Path) -> tuple[Path, Path]:
        csv_path, zip_path = write_stimuli_like_brainio(folder)
        zip_path.write_bytes(b"PK not really a zip")
        return csv_path, zip_path

    def missing_image(folder: Path) -> tuple[Path, Path]:
        table = stimulus_table()
        images = {f: png(image(i)) for i, f in enumerate(table["filename"]) if i != 7}
        return write_stimuli_like_brainio(folder, table, images=images)

    table = stimulus_table()
    return {
        "binary csv": (binary_csv, r"Cannot read stimulus_hvm-public\.csv as a stimulus-set CSV"),
        "empty csv": (empty_csv, r"Cannot read stimulus_hvm-public\.csv as a stimulus-set CSV"),
        "no id column": (with_table(table.drop(columns="stimulus_id")), r"has no stimulus_id \(or legacy image_id\)"),
        "no file column": (with_table(table.drop(columns="filename")), r"has no column naming the image files"),
        "duplicate id": (
            with_table(table.assign(stimulus_id=[*table["stimulus_id"][:-1], table["stimulus_id"][0]])),
            r"lists stimulus_id '.*' more than once",
        ),
        "not a zip": (not_a_zip, r"Cannot read stimulus_hvm-public\.zip as a zip of stimuli"),
        "image missing from zip": (
            missing_image,
            r"1 of 30 images listed in stimulus_hvm-public\.csv are not in stimulus_hvm-public\.zip "
            r"\(first: '.*\.png'\)",
        ),
    }


@pytest.mark.parametrize("case", list(bad_stimulus_sets()))
def test_bad_stimulus_set_is_a_data_error(tmp_path: Path, case: str) -> None:
    make, message = bad_stimulus_sets()[case]
    csv_path, zip_path = make(tmp_path)
    with pytest.raises(DataError, match=message) as caught:
        read_stimulus_set(csv_path, zip_path, "hvm-public")
    assert "\n" not in str(caught.value)


def test_corrupt_image_is_a_data_error_when_loaded(tmp_path: Path) -> None:
    table = stimulus_table()
    images = {f: png(image(i)) for i, f in enumerate(table["filename"])}
    images[table["filename"][3]] = b"\x89PNG broken"
    csv_path, zip_path = write_stimuli_like_brainio(tmp_path, table, images=images)

    stimuli = read_stimulus_set(csv_path, zip_path, "hvm-public")  # lazy: images are not read yet

    np.testing.assert_array_equal(np.asarray(stimuli.load(table["stimulus_id"][2])), image(2))
    with pytest.raises(DataError, match=rf"Stimulus {table['stimulus_id'][3]} .* is not a readable image"):
        stimuli.load(table["stimulus_id"][3])


# --- the brainscore loader -------------------------------------------------------------------------------------------


def majaj_like_files(folder: Path) -> dict[str, Path]:
    """The three files of a majaj-like dataset under their Brain-Score names."""
    assembly_name, csv_name, zip_name = PUBLISHED_NAMES["majajhong2015"]
    folder.mkdir(parents=True, exist_ok=True)
    write_like_brainio(majaj_like(), folder / assembly_name)
    write_stimuli_like_brainio(folder)
    return {name: folder / name for name in (assembly_name, csv_name, zip_name)}


def test_loader_returns_the_named_assembly_with_stimulus_metadata(tmp_path: Path) -> None:
    files = majaj_like_files(tmp_path)
    manifest = load_manifest("majajhong2015")

    dataset = get_loader("brainscore")(manifest, files)

    assert list(dataset.assemblies) == ["MajajHong2015.public"]
    assembly = dataset.assemblies["MajajHong2015.public"]
    assert assembly.name == "MajajHong2015.public"
    assert assembly.attrs["stimulus_set_identifier"] == "hvm-public"
    assert dataset.stimuli.identifier == "hvm-public" and len(dataset.stimuli) == N_STIMULI
    expected = majaj_like()
    np.testing.assert_array_equal(assembly.values, expected.values)
    table = stimulus_table().set_index("stimulus_id")
    ids = assembly["stimulus_id"].values
    # stimulus metadata the assembly lacks are merged in along presentation, as Brain-Score's loader does
    assert assembly["category_name"].dims == ("presentation",)
    assert assembly["category_name"].values.tolist() == table.loc[ids, "category_name"].tolist()
    np.testing.assert_array_equal(assembly["ty"].values, table.loc[ids, "ty"].to_numpy())
    assert assembly["object_name"].values.tolist() == expected["object_name"].values.tolist()  # its own kept


def test_loader_rejects_stimuli_missing_from_the_set(tmp_path: Path) -> None:
    files = majaj_like_files(tmp_path)
    table = stimulus_table().iloc[:-2]
    write_stimuli_like_brainio(tmp_path, table, images={f: png(image(0)) for f in table["filename"]})
    with pytest.raises(DataError, match=r"2 stimulus ids of assy_dicarlo_MajajHong2015_public\.nc .* not in stimulus"):
        get_loader("brainscore")(load_manifest("majajhong2015"), files)


def test_loader_needs_one_file_of_each_kind(tmp_path: Path) -> None:
    files = majaj_like_files(tmp_path)
    del files["stimulus_hvm-public.zip"]
    with pytest.raises(DataError, match=r"needs exactly one \.zip file in dataset majajhong2015, found 0"):
        get_loader("brainscore")(load_manifest("majajhong2015"), files)


def test_loader_defaults_names_to_the_file_stems(tmp_path: Path) -> None:
    files = majaj_like_files(tmp_path)
    manifest = dataclasses.replace(load_manifest("majajhong2015"), assembly="", stimulus_set="")
    dataset = get_loader("brainscore")(manifest, files)
    assert list(dataset.assemblies) == ["assy_dicarlo_MajajHong2015_public"]
    assert dataset.stimuli.identifier == "stimulus_hvm-public"


# --- shipped manifests -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_brainscore_manifests(name: str) -> None:
    manifest = load_manifest(name)
    assert manifest.loader == "brainscore"
    assert manifest.mirror_folder == name
    assert manifest.title and manifest.licence and len(manifest.citations) == 1
    assert [f.path for f in manifest.files] == list(PUBLISHED_NAMES[name])
    published = PUBLISHED[name]
    for f, kind in zip(manifest.files, ("assembly", "csv", "zip"), strict=True):
        identifier, version_id, digest = published[kind]
        assert f.sha1 == digest and len(f.sha1) == 40, f.path
        assert f.sha256 == "" and f.size == 0 and f.algorithm == "sha1", f.path
        assert manifest.checksums[f.path] == f"sha1:{digest}"
        storage_name = assembly_filename(identifier) if kind == "assembly" else stimulus_set_filenames(identifier)[
            kind == "zip"]
        assert storage_name == f.path
        url = urlparse(f.url)
        assert url.scheme == "https" and url.netloc == "brainscore-storage.s3.amazonaws.com", f.url
        assert url.path == f"/brainio-brainscore/{f.path}" and url.query == f"versionId={version_id}", f.url
        assert f.url == s3_url(BUCKET, f.path, version_id)
    assert manifest.assembly == {"majajhong2015": "MajajHong2015.public",
                                 "freemanziemba2013": "FreemanZiemba2013.public"}[name]
    assert manifest.stimulus_set == published["csv"][0]


def test_s3_url_without_a_folder_or_version() -> None:
    assert s3_url("bucket", "assy_x.nc") == "https://bucket.s3.amazonaws.com/assy_x.nc"
    assert s3_url("bucket/a/b/", "f.csv", "v+1") == "https://bucket.s3.amazonaws.com/a/b/f.csv?versionId=v%2B1"


def test_manifest_with_sha1_only_and_both_hashes() -> None:
    good1, good256 = "ab" * 20, "cd" * 32
    raw = {"name": "t", "title": "t", "loader": "brainscore", "assembly": "T.public", "files": [
        {"path": "a.nc", "sha1": good1.upper(), "url": "https://example.org/a.nc"},
        {"path": "b.csv", "sha1": good1, "sha256": good256, "size": 12},
    ]}
    manifest = parse_manifest(raw)
    assert manifest.files[0] == DataFile("a.nc", url="https://example.org/a.nc", sha1=good1)
    assert manifest.checksums == {"a.nc": f"sha1:{good1}", "b.csv": good256}
    assert (manifest.files[1].algorithm, manifest.files[1].digest) == ("sha256", good256)
    assert manifest.assembly == "T.public" and manifest.stimulus_set == ""

    for bad in ("ab" * 19, "zz" * 20, "sha1:" + good1):
        broken = {**raw, "files": [{"path": "a.nc", "sha1": bad}]}
        with pytest.raises(BrainbenchError, match=r"file a\.nc has no valid sha1"):
            parse_manifest(broken, "broken.toml")
    with pytest.raises(BrainbenchError, match=r"broken\.toml is malformed \(file a\.nc has neither a sha256 nor a"):
        parse_manifest({**raw, "files": [{"path": "a.nc"}]}, "broken.toml")
    with pytest.raises(BrainbenchError, match=r"malformed"):
        parse_manifest({**raw, "files": [{"path": "a.nc", "sha1": good1, "size": -1}]}, "broken.toml")
    with pytest.raises(ValueError, match="needs a sha256 or a sha1"):
        DataFile("a.nc")


# --- fetching with SHA-1 over HTTP, from mirrors, and the data CLI ---------------------------------------------------


@pytest.fixture
def server(http_server: LocalServer) -> LocalServer:
    return http_server


def served_majaj_like(server: LocalServer, folder: Path) -> Manifest:
    """Serve generated majaj-like files under S3-like keys with versionIds; a SHA-1-only manifest of them."""
    files = majaj_like_files(folder)
    entries = []
    for (name, path), version in zip(files.items(), ("W2vx7jdh9utZdVumHHarXa4L1zOrA8Fd", "null", "null"), strict=True):
        key = f"/brainio-brainscore/{name}?versionId={version}"
        server.files[key] = path.read_bytes()
        entries.append(DataFile(path=name, sha1=sha1(path), url=server.base + key))
    return dataclasses.replace(load_manifest("majajhong2015"), name="majaj_like", files=tuple(entries),
                               mirror_folder="majaj_like_mirror")


def test_fetch_over_http_with_sha1_then_load(home: Path, tmp_path: Path, server: LocalServer) -> None:
    manifest = served_majaj_like(server, tmp_path / "published")

    fetched = fetch_dataset(manifest, mirrors=[])

    assert {f.origin for f in fetched.values()} == {"download"}
    assert sorted(server.requests) == sorted(server.files)  # exactly the versioned objects, query included
    assert verify_dataset(manifest) == dict.fromkeys(PUBLISHED_NAMES["majajhong2015"], "ok")
    dataset = get_loader(manifest.loader)(manifest, {p: f.path for p, f in fetched.items()})
    np.testing.assert_array_equal(dataset.assemblies["MajajHong2015.public"].values, majaj_like().values)
    server.requests.clear()
    assert {f.origin for f in fetch_dataset(manifest, mirrors=[]).values()} == {"cache"}
    assert server.requests == []


@pytest.mark.parametrize("bad", range(3))
def test_download_failing_its_sha1_is_not_kept(home: Path, tmp_path: Path, server: LocalServer, bad: int) -> None:
    manifest = served_majaj_like(server, tmp_path / "published")
    key = urlparse(manifest.files[bad].url)
    body = server.files[f"{key.path}?{key.query}"]
    server.files[f"{key.path}?{key.query}"] = bytes([body[0] ^ 1]) + body[1:]

    with pytest.raises(DataError, match=r"does not match its sha1 checksum; it was not kept") as caught:
        fetch_dataset(manifest, mirrors=[])

    assert manifest.files[bad].path in str(caught.value)
    root = home / "data"
    kept = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    assert kept == [f"majaj_like/{f.path}" for f in manifest.files[:bad]]  # only files verified before it


def test_cached_and_mirrored_copies_are_checked_by_sha1(home: Path, tmp_path: Path, server: LocalServer) -> None:
    manifest = served_majaj_like(server, tmp_path / "published")
    mirror = tmp_path / "mirror"
    for f in manifest.files:
        (mirror / "majaj_like_mirror").mkdir(parents=True, exist_ok=True)
        (mirror / "majaj_like_mirror" / f.path).write_bytes((tmp_path / "published" / f.path).read_bytes())
    bad_mirror = mirror / "majaj_like_mirror" / "stimulus_hvm-public.csv"
    bad_mirror.write_bytes(bad_mirror.read_bytes() + b"\n")

    with pytest.raises(DataError, match=r"does not match the sha1 of majaj_like/stimulus_hvm-public\.csv"):
        fetch_dataset(manifest, mirrors=[mirror])
    assert server.requests == []

    bad_mirror.write_bytes((tmp_path / "published" / "stimulus_hvm-public.csv").read_bytes())
    origins = {path: f.origin for path, f in fetch_dataset(manifest, mirrors=[mirror]).items()}
    assert origins == dict(zip(PUBLISHED_NAMES["majajhong2015"], ("cache", "mirror", "mirror"), strict=True))
    cached = cache_path(manifest, manifest.files[0])
    cached.write_bytes(b"\0" * cached.stat().st_size)
    assert verify_dataset(manifest)[manifest.files[0].path] == "corrupt"
    with pytest.raises(DataError, match=r"failed its sha1 check and was removed"):
        fetch_dataset(manifest, mirrors=[])
    assert not cached.exists()


def test_published_size_is_checked_when_given(home: Path, tmp_path: Path) -> None:
    body = b"some published bytes"
    mirror = tmp_path / "mirror"
    (mirror / "t").mkdir(parents=True)
    (mirror / "t" / "a.csv").write_bytes(body)
    wrong_size = DataFile("a.csv", size=len(body) + 1, sha1=sha1(body))
    manifest = Manifest(name="t", title="t", loader="brainscore", files=(wrong_size,))
    with pytest.raises(DataError, match="does not match the sha1"):
        fetch_file(manifest, wrong_size, mirrors=[mirror])
    right = DataFile("a.csv", size=len(body), sha1=sha1(body))
    assert fetch_file(manifest, right, mirrors=[mirror]).origin == "mirror"


def test_sha256_wins_over_sha1_when_both_are_given(home: Path, tmp_path: Path) -> None:
    body = b"bytes with two hashes"
    mirror = tmp_path / "mirror"
    (mirror / "t").mkdir(parents=True)
    (mirror / "t" / "a.bin").write_bytes(body)
    stale_sha1 = DataFile("a.bin", sha256=hashlib.sha256(body).hexdigest(), sha1="0" * 40)
    manifest = Manifest(name="t", title="t", loader="none", files=(stale_sha1,))
    assert fetch_file(manifest, stale_sha1, mirrors=[mirror]).origin == "mirror"
    assert manifest.checksums == {"a.bin": hashlib.sha256(body).hexdigest()}  # the provenance form is unchanged


@pytest.fixture
def data_cli(home: Path) -> Callable[..., Result]:
    """``brainbench data ARGS...`` in-process (only the data commands: no models or metrics imported)."""
    from brainbench.cli.data import data

    return lambda *args: CliRunner().invoke(data, list(args))


def test_data_cli_with_sha1_only_datasets(data_cli: Callable[..., Result]) -> None:
    listed = data_cli("list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    for name in PUBLISHED:
        assert rows[name]["files"] == 3 and rows[name]["cached_files"] == 0
    table = data_cli("list")
    assert table.exit_code == 0 and "majajhong2015" in table.stdout and "freemanziemba2013" in table.stdout

    for name in PUBLISHED:
        verified = data_cli("verify", name)
        assert verified.exit_code == 0, verified.output
        assert verified.stdout.splitlines() == [f"{name}/{path}: missing" for path in PUBLISHED_NAMES[name]]
