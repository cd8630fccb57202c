"""Data manifests: the shipped one matches the published files; malformed ones are clear errors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from brainbench.data import DataFile, Manifest, list_manifests, load_manifest
from brainbench.data.manifest import parse_manifest
from brainbench.errors import BrainbenchError, UnknownNameError

GOOD_SHA = "0" * 63 + "1"


def raw_manifest(**file_fields: object) -> dict:
    """A valid parsed-TOML manifest with one file, whose fields ``file_fields`` override."""
    file = {"path": "a.mat", "sha256": GOOD_SHA, "size": 10, "url": "https://example.org/a.mat"} | file_fields
    return {"name": "tiny", "title": "A tiny dataset", "loader": "kriegeskorte2008", "files": [file]}


def sha256sums(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` from a folder's SHA256SUMS (``<hash>  ./<name>`` lines)."""
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().removeprefix("./")] = digest
    return sums


def test_shipped_manifest_parses() -> None:
    manifest = load_manifest("kriegeskorte2008")
    assert isinstance(manifest, Manifest)
    assert manifest.name == "kriegeskorte2008"
    assert manifest.loader == "kriegeskorte2008"
    assert manifest.mirror_folder == "kriegeskorte2008_92images"
    assert [f.path for f in manifest.files] == [
        "Kriegeskorte_Neuron2008_supplementalData.mat", "92_brainRDMs.mat", "92_behavRDMs.mat",
    ]
    assert all(isinstance(f, DataFile) and f.size > 0 for f in manifest.files)
    assert manifest.checksums == {f.path: f.sha256 for f in manifest.files}
    assert len(manifest.citations) == 3 and manifest.licence
    assert "kriegeskorte2008" in [m.name for m in list_manifests()]


@pytest.mark.mirror
def test_shipped_checksums_match_the_mirror(mirror: Path) -> None:
    manifest = load_manifest("kriegeskorte2008")
    folder = mirror / manifest.mirror_folder
    published = sha256sums(folder)
    for f in manifest.files:
        assert f.sha256 == published[f.path], f.path
        assert f.size == (folder / f.path).stat().st_size, f.path
        assert hashlib.sha256((folder / f.path).read_bytes()).hexdigest() == f.sha256, f.path


@pytest.mark.mirror
def test_shipped_urls_are_raw_github_at_the_fixed_commit(mirror: Path) -> None:
    readme = (mirror / "kriegeskorte2008_92images" / "README.md").read_text()
    commits = set(re.findall(r"commit `([0-9a-f]{40})`", readme))
    assert len(commits) == 1, "the mirror README should name exactly one snapshot commit"
    commit = commits.pop()
    manifest = load_manifest("kriegeskorte2008")
    assert commit in manifest.source
    for f in manifest.files:
        url = urlparse(f.url)
        assert url.scheme == "https" and url.netloc == "raw.githubusercontent.com", f.url
        assert url.path == f"/rsagroup/rsatoolbox/{commit}/demos/92imageData/{f.path}", f.url


def test_parse_manifest_accepts_a_minimal_one_and_normalises_the_hash() -> None:
    manifest = parse_manifest(raw_manifest(sha256=GOOD_SHA.upper(), path="sub/a.mat"))
    assert manifest.files == (DataFile("sub/a.mat", GOOD_SHA, 10, "https://example.org/a.mat"),)
    assert manifest.mirror_folder == "tiny"  # defaults to the dataset name


@pytest.mark.parametrize(
    "drop", ["name", "title", "loader", "files"],
)
def test_manifest_missing_a_top_level_field(drop: str) -> None:
    raw = raw_manifest()
    del raw[drop]
    with pytest.raises(BrainbenchError, match=rf"malformed.*{drop}"):
        parse_manifest(raw, "broken.toml")


@pytest.mark.parametrize("drop", ["path", "sha256"])
def test_manifest_file_missing_a_field(drop: str) -> None:
    raw = raw_manifest()
    del raw["files"][0][drop]
    with pytest.raises(BrainbenchError, match=r"broken\.toml is malformed"):
        parse_manifest(raw, "broken.toml")


def test_manifest_file_size_is_optional() -> None:
    raw = raw_manifest()
    del raw["files"][0]["size"]
    assert parse_manifest(raw).files[0].size == 0  # 0: not published; only the hash is checked


def test_manifest_bad_size() -> None:
    with pytest.raises(BrainbenchError, match="malformed"):
        parse_manifest(raw_manifest(size="ten"), "broken.toml")


@pytest.mark.parametrize(
    "sha256", ["", "abc", GOOD_SHA[:-1], GOOD_SHA + "0", "g" * 64, "sha256:" + GOOD_SHA[7:]],
)
def test_manifest_bad_sha256(sha256: str) -> None:
    with pytest.raises(BrainbenchError, match="valid sha256"):
        parse_manifest(raw_manifest(sha256=sha256), "broken.toml")


@pytest.mark.parametrize("path", ["../escape.mat", "sub/../../escape.mat", "/etc/passwd"])
def test_manifest_path_must_stay_inside_the_dataset(path: str) -> None:
    with pytest.raises(BrainbenchError, match="must stay inside the dataset"):
        parse_manifest(raw_manifest(path=path), "broken.toml")


def test_unknown_dataset_suggests_the_close_name() -> None:
    with pytest.raises(UnknownNameError) as caught:
        load_manifest("kriegeskorte2009")
    message = str(caught.value)
    assert message.startswith("Unknown dataset 'kriegeskorte2009'.")
    assert "Did you mean kriegeskorte2008?" in message
    assert "brainbench data list" in message
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, BrainbenchError)


def test_unknown_dataset_without_a_close_name() -> None:
    with pytest.raises(UnknownNameError, match="Unknown dataset 'zzz'") as caught:
        load_manifest("zzz")
    assert "Did you mean" not in str(caught.value)
