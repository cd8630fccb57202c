"""``availability``: where a dataset's files would come from, decided from the file system alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from brainbench.data.fetch import availability
from brainbench.data.manifest import DataFile, Manifest, load_manifest

BODY = b"some published bytes"


def manifest(*urls: str) -> Manifest:
    digest = hashlib.sha256(BODY).hexdigest()
    files = tuple(DataFile(f"f{i}.bin", sha256=digest, size=len(BODY), url=url) for i, url in enumerate(urls))
    return Manifest(name="tiny", title="t", loader="none", files=files, mirror_folder="tiny_mirror")


def test_statuses_from_cache_mirror_network_and_nowhere(home: Path, tmp_path: Path) -> None:
    m = manifest("https://example.org/f0.bin", "https://example.org/f1.bin")
    mirror = tmp_path / "mirror"
    assert availability(m, [mirror]).status == "network"
    assert availability(m, [mirror], allow_download=False).status == "unavailable"

    (mirror / "tiny_mirror").mkdir(parents=True)
    (mirror / "tiny_mirror" / "f0.bin").write_bytes(BODY)
    assert availability(m, [mirror]).status == "network"  # one file still to download
    (mirror / "tiny_mirror" / "f1.bin").write_bytes(BODY[:-1])  # the wrong size: not a copy of it
    assert availability(m, [mirror], allow_download=False).status == "unavailable"
    (mirror / "tiny_mirror" / "f1.bin").write_bytes(BODY)
    found = availability(m, [mirror], allow_download=False)
    assert found.status == "mirror" and found.in_mirrors == (mirror,)

    (home / "data" / "tiny").mkdir(parents=True)
    for name in ("f0.bin", "f1.bin"):
        (home / "data" / "tiny" / name).write_bytes(BODY)
    assert availability(m, [], allow_download=False).status == "cached"


@pytest.mark.parametrize("url", ["", "ftp://example.org/f0.bin", "s3://bucket/f0.bin"])
def test_no_usable_address_is_unavailable_and_says_where_it_looked(home: Path, tmp_path: Path, url: str) -> None:
    found = availability(manifest(url), [tmp_path / "m1", tmp_path / "m2"])
    assert not found.available
    line = found.where()
    assert line.startswith(f"tiny: 1 of 1 files not in the cache ({home / 'data' / 'tiny'}), not in the data mirror(s) "
                           f"{tmp_path / 'm1'}, {tmp_path / 'm2'}, ")
    assert (url in line) if url else line.endswith("no address to download from")


def test_embedded_dataset(home: Path) -> None:
    assert availability(load_manifest("marques2020"), []).status == "embedded"
