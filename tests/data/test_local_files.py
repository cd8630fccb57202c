"""Local files in data manifests: ``local = PATH`` and ``file://`` URLs read in place and verified on every fetch,
per-file mirror folders, availability, and the three sentences (bad URL scheme, missing file, changed file)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from brainbench.data.fetch import STATUSES, availability, fetch_dataset, fetch_file, verify_dataset
from brainbench.data.manifest import DataFile, Manifest, load_manifest, parse_manifest
from brainbench.errors import BrainbenchError, DataError

if TYPE_CHECKING:
    from tests.conftest import LocalServer

BODY = b"one session of my lab's recordings\n"
SHA = hashlib.sha256(BODY).hexdigest()
KRIEGESKORTE = "kriegeskorte2008_92images"
# Phrases that tell the three sentences apart (each must appear in its own sentence only).
SCHEME, MISSING, CHANGED = "is not supported", "does not exist", "changed since the manifest was written"


def toml_value(value: object) -> str:
    """A TOML value: JSON's strings, numbers and booleans are valid TOML; lists and tables written inline."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def write_manifest(folder: Path, name: str, files: list[dict[str, object]], loader: str = "none",
                   **top: object) -> Path:
    """``<folder>/data_manifests/<name>.toml`` with the given ``[[files]]`` entries; returns its path."""
    lines = [f"name = {toml_value(name)}", 'title = "A user dataset"', f"loader = {toml_value(loader)}"]
    lines += [f"{key} = {toml_value(value)}" for key, value in top.items()]
    for entry in files:
        lines += ["", "[[files]]"] + [f"{key} = {toml_value(value)}" for key, value in entry.items()]
    path = folder / "data_manifests" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def entry(path: str = "session1.bin", body: bytes = BODY, **fields: object) -> dict[str, object]:
    return {"path": path, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body), **fields}


def cached_files(home: Path) -> list[Path]:
    root = home / "data"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """The lab's file, outside any brainbench folder (a space in its name, as real folders have)."""
    path = tmp_path / "lab" / "recordings" / "session 1.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(BODY)
    return path


# --- reading local files in place ------------------------------------------------------------------------------------

def test_absolute_local_file_is_read_in_place_and_never_copied(home: Path, tmp_path: Path, recording: Path) -> None:
    folder = tmp_path / "defs"
    write_manifest(folder, "mylab", [entry(local=str(recording))])
    manifest = load_manifest("mylab", [folder])
    assert manifest.files[0].local == recording.resolve()
    assert manifest.checksums == {"session1.bin": SHA}  # the provenance records the checksum, not the place

    fetched = fetch_dataset(manifest, [])
    assert fetched["session1.bin"].origin == "local"
    assert fetched["session1.bin"].path == recording.resolve()
    assert cached_files(home) == []


def test_relative_local_file_starts_from_the_manifest_folder_not_the_working_one(
        home: Path, tmp_path: Path, recording: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "lab" / "definitions"
    write_manifest(folder, "mylab", [entry(local="../../recordings/session 1.bin")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a path taken from the working folder would miss the file
    manifest = load_manifest("mylab", [folder])
    assert manifest.files[0].local == recording.resolve()
    assert fetch_file(manifest, manifest.files[0]).origin == "local"


def test_relative_local_file_found_through_brainbench_home(home: Path, cli: Callable, recording: Path) -> None:
    relative = Path("..") / ".." / "lab" / "recordings" / recording.name  # from <home>/data_manifests
    assert (home / "data_manifests" / relative).resolve() == recording.resolve()
    write_manifest(home, "mylab", [entry(local=str(relative))])
    result = cli("data", "fetch", "mylab")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "mylab/session1.bin: verified (local)"
    assert cached_files(home) == []


def test_file_url_is_a_local_file_not_a_checksum_mismatch(home: Path, tmp_path: Path, recording: Path) -> None:
    url = recording.as_uri()
    assert "%20" in url  # percent-encoded: the space must be decoded back
    write_manifest(tmp_path / "defs", "mylab", [entry(url=url)])
    manifest = load_manifest("mylab", [tmp_path / "defs"])
    assert manifest.files[0].url == url and manifest.files[0].local == recording.resolve()
    fetched = fetch_file(manifest, manifest.files[0], allow_download=False)  # no network involved either way
    assert (fetched.origin, fetched.path) == ("local", recording.resolve())
    assert cached_files(home) == []


def test_data_fetch_of_a_file_url_is_no_longer_a_checksum_mismatch(home: Path, recording: Path, cli: Callable) -> None:
    """Before local files, pooch fetched the file:// URL with its HTTP downloader and the failure read as a sha256
    mismatch of a "downloaded" file."""
    write_manifest(home, "mylab", [entry(url=recording.as_uri())])
    result = cli("data", "fetch", "mylab")
    assert "does not match" not in result.stderr
    assert (result.exit_code, result.stdout.strip()) == (0, "mylab/session1.bin: verified (local)"), result.stderr


def test_file_url_on_localhost_is_this_machine(home: Path, tmp_path: Path, recording: Path) -> None:
    url = recording.as_uri().replace("file://", "file://localhost")
    write_manifest(tmp_path / "defs", "mylab", [entry(url=url)])
    assert load_manifest("mylab", [tmp_path / "defs"]).files[0].local == recording.resolve()


def test_every_fetch_verifies_a_local_file_and_never_removes_it(home: Path, tmp_path: Path, recording: Path) -> None:
    write_manifest(tmp_path / "defs", "mylab", [entry(local=str(recording))])
    manifest = load_manifest("mylab", [tmp_path / "defs"])
    assert fetch_file(manifest, manifest.files[0]).origin == "local"
    edited = BODY.replace(b"one", b"two")  # same size: only the hash can tell
    assert len(edited) == len(BODY)
    recording.write_bytes(edited)
    with pytest.raises(DataError, match=CHANGED):
        fetch_file(manifest, manifest.files[0])
    assert recording.read_bytes() == edited  # a user's file is theirs: reported, never deleted as a cached copy is


@pytest.mark.mirror
def test_real_files_of_the_mirror_as_a_labs_local_files(home: Path, tmp_path: Path, mirror: Path) -> None:
    """The human IT RDMs of the 92 images, named in place by a user manifest; the sha256 come from the mirror's own
    SHA256SUMS (published beside the files), not from brainbench."""
    folder = mirror / KRIEGESKORTE
    sums = {name.removeprefix("./"): digest for digest, name in
            (line.split() for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip())}
    files = [{"path": name, "sha256": sums[name], "size": (folder / name).stat().st_size, "local": str(folder / name)}
             for name in ("92_brainRDMs.mat", "92_behavRDMs.mat")]
    write_manifest(tmp_path / "defs", "mylab_it", files)
    manifest = load_manifest("mylab_it", [tmp_path / "defs"])
    fetched = fetch_dataset(manifest, [])
    assert {path: (f.origin, f.path) for path, f in fetched.items()} == {
        name: ("local", (folder / name).resolve()) for name in ("92_brainRDMs.mat", "92_behavRDMs.mat")}
    assert availability(manifest, []).status == "local"
    assert verify_dataset(manifest) == {"92_brainRDMs.mat": "ok", "92_behavRDMs.mat": "ok"}


@pytest.mark.mirror
def test_a_generic_dataset_of_local_files_loads_as_the_builtin_one(home: Path, tmp_path: Path, mirror: Path) -> None:
    """The whole path a lab takes: a user manifest whose files are local (the images by paths relative to the
    manifest, the RDMs by an absolute one), fetched in place and loaded by the generic loader, gives the assembly and
    stimuli of the built-in kriegeskorte2008 dataset read from the mirror (an independent loader and fetch path)."""
    import xarray as xr

    from brainbench.data import load_dataset
    from tests.data.test_generic_loader import IT_ASSEMBLY, IT_STIMULI, write_92_images

    rdms = mirror / KRIEGESKORTE / "92_brainRDMs.mat"
    files = {**write_92_images(mirror, tmp_path / "lab"), "92_brainRDMs.mat": rdms}
    folder = tmp_path / "defs"
    entries = [{**entry(name, path.read_bytes()), "local": str(path) if name.endswith(".mat")
                else os.path.relpath(path, folder / "data_manifests")} for name, path in files.items()]
    write_manifest(folder, "mylab_it", entries, loader="generic", stimuli=IT_STIMULI, assemblies=[IT_ASSEMBLY])

    dataset = load_dataset("mylab_it", mirrors=[], allow_download=False, definitions=[folder])
    builtin = load_dataset("kriegeskorte2008", mirrors=[mirror], allow_download=False)
    # The same float32 file values through two loaders: identical, not merely close.
    xr.testing.assert_identical(dataset.assemblies["MyLab.IT"], builtin.assemblies["Kriegeskorte2008.IT"])
    assert dataset.stimuli.stimulus_ids == builtin.stimuli.stimulus_ids
    assert not (home / "data" / "mylab_it").exists()  # read in place: nothing of the lab's copied into the cache


# --- the three sentences ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://example.org/session1.bin", "s3://bucket/session1.bin",
                                 "recordings/session1.bin", "/abs/path/without/scheme.bin"])
def test_an_unsupported_url_scheme_is_refused_when_the_manifest_is_read(home: Path, tmp_path: Path, url: str) -> None:
    path = write_manifest(tmp_path / "defs", "mylab", [entry(url=url)])
    with pytest.raises(BrainbenchError) as caught:
        load_manifest("mylab", [tmp_path / "defs"])
    message = str(caught.value)
    assert message.startswith(f"Data manifest {path}: file session1.bin has the url {url}, ")
    assert SCHEME in message and "http://, https:// or file://" in message and 'local = "PATH"' in message
    assert MISSING not in message and CHANGED not in message and "checksum" not in message


def test_the_scheme_sentence_on_the_command_line(home: Path, cli: Callable) -> None:
    path = write_manifest(home, "mylab", [entry(url="ftp://example.org/session1.bin")])
    result = cli("data", "fetch", "mylab")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: Data manifest {path}: ")
    assert SCHEME in result.stderr and "Traceback" not in result.stderr


def test_a_missing_local_file(home: Path, tmp_path: Path, cli: Callable) -> None:
    gone = tmp_path / "lab" / "moved-away.bin"
    path = write_manifest(home, "mylab", [entry(local=str(gone))])
    manifest = load_manifest("mylab")
    with pytest.raises(DataError) as caught:
        fetch_dataset(manifest, [])
    message = str(caught.value)
    assert message.startswith(f"Data manifest {path}: file session1.bin: its local file {gone} {MISSING}")
    assert SCHEME not in message and CHANGED not in message

    result = cli("data", "fetch", "mylab")
    assert result.exit_code == 1 and result.stderr == f"error: {message}\n"


def test_a_local_file_edited_after_the_manifest(home: Path, recording: Path, cli: Callable) -> None:
    path = write_manifest(home, "mylab", [entry(local=str(recording))])
    recording.write_bytes(BODY + b"one more line\n")
    with pytest.raises(DataError) as caught:
        fetch_dataset("mylab", [])
    message = str(caught.value)
    assert message == (f"Data manifest {path}: file session1.bin: its local file {recording.resolve()} does not match "
                       "the manifest's sha256: it changed since the manifest was written; re-run `brainbench data add` "
                       "or fix the sha256.")
    assert SCHEME not in message and MISSING not in message

    result = cli("data", "fetch", "mylab")
    assert result.exit_code == 1 and result.stderr == f"error: {message}\n"

    # `data verify` names the local file and asks for the manifest to be redone, not for a re-fetch into the cache.
    verified = cli("data", "verify")
    assert verified.exit_code == 1
    assert f"mylab/session1.bin: corrupt (local file {recording.resolve()})" in verified.stdout
    assert verified.stderr == ("error: 1 local file(s) changed since their manifest was written: re-run "
                               "`brainbench data add` or fix the sha256.\n")


@pytest.mark.parametrize(("fields", "says"), [
    ({"url": "https://example.org/a.bin", "local": "/data/a.bin"}, "gives url and local; give only one"),
    ({"local": "/data/a.bin", "embedded": True}, "gives local and embedded; give only one"),
    ({"local": ""}, "empty or non-text local path"),
    ({"url": "file://labserver/data/a.bin"}, "names another host (labserver)"),
    ({"url": "file:relative/a.bin"}, "whose path is not absolute"),
    ({"local": "/data/a.bin", "mirror_folder": "../elsewhere"}, "must be a folder inside the data mirror"),
])
def test_other_bad_file_entries_are_one_sentence(fields: dict[str, object], says: str) -> None:
    raw = {"name": "mylab", "title": "t", "loader": "none", "files": [entry(**fields)]}
    with pytest.raises(BrainbenchError, match=rf"^Data manifest broken\.toml: file session1\.bin .*{re.escape(says)}"):
        parse_manifest(raw, "broken.toml")


def test_a_relative_local_path_needs_a_manifest_file() -> None:
    raw = {"name": "mylab", "title": "t", "loader": "none", "files": [entry(local="recordings/a.bin")]}
    with pytest.raises(BrainbenchError, match=r"relative local path recordings/a\.bin, but the manifest was not read"):
        parse_manifest(raw)
    absolute = parse_manifest({**raw, "files": [entry(local="/data/a.bin")]})
    assert absolute.files[0].local == Path("/data/a.bin").resolve()


# --- per-file mirror folders -----------------------------------------------------------------------------------------

def test_two_datasets_share_a_file_through_its_mirror_folder(home: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shared, own = mirror / "shared_stimuli" / "stimuli.bin", mirror / "lab_b" / "rdms.bin"
    for path, body in ((shared, b"the images both datasets use"), (own, b"dataset b's own file")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    folder = tmp_path / "defs"
    write_manifest(folder, "lab_a", [entry("stimuli.bin", shared.read_bytes(), mirror_folder="shared_stimuli")])
    write_manifest(folder, "lab_b", [entry("stimuli.bin", shared.read_bytes(), mirror_folder="shared_stimuli"),
                                     entry("rdms.bin", own.read_bytes())], mirror_folder="lab_b")
    for name in ("lab_a", "lab_b"):
        manifest = load_manifest(name, [folder])
        found = availability(manifest, [mirror], allow_download=False)
        assert (found.status, found.in_mirrors) == ("mirror", (mirror,))
        fetched = fetch_dataset(manifest, [mirror], allow_download=False)
        assert {f.origin for f in fetched.values()} == {"mirror"}
        assert fetched["stimuli.bin"].path.read_bytes() == shared.read_bytes()
    assert (home / "data" / "lab_b" / "rdms.bin").read_bytes() == own.read_bytes()  # the dataset's folder still serves


def test_a_missing_shared_file_names_its_own_mirror_folder(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "defs"
    write_manifest(folder, "lab_a", [entry("stimuli.bin", mirror_folder="shared_stimuli")])
    with pytest.raises(DataError, match="shared_stimuli"):
        fetch_dataset(load_manifest("lab_a", [folder]), [tmp_path / "mirror"], allow_download=False)


@pytest.mark.mirror
def test_a_user_dataset_uses_a_file_of_the_real_mirror_by_its_folder(home: Path, tmp_path: Path,
                                                                     mirror: Path) -> None:
    target = mirror / KRIEGESKORTE / "92_brainRDMs.mat"
    sha = hashlib.sha256(target.read_bytes()).hexdigest()
    write_manifest(tmp_path / "defs", "mylab_it", [{"path": "92_brainRDMs.mat", "sha256": sha,
                                                    "size": target.stat().st_size, "mirror_folder": KRIEGESKORTE}])
    manifest = load_manifest("mylab_it", [tmp_path / "defs"])
    assert availability(manifest, [mirror], allow_download=False).status == "mirror"
    assert fetch_dataset(manifest, [mirror], allow_download=False)["92_brainRDMs.mat"].origin == "mirror"


# --- availability and verification -----------------------------------------------------------------------------------

def test_local_status_ranks_between_embedded_and_cached() -> None:
    assert STATUSES == ("embedded", "local", "cached", "mirror", "network", "unavailable")


def test_availability_of_local_files_is_a_stat(home: Path, tmp_path: Path, recording: Path) -> None:
    folder = tmp_path / "defs"
    write_manifest(folder, "mylab", [entry(local=str(recording))])
    found = availability(load_manifest("mylab", [folder]), [])
    assert (found.status, found.local_files) == ("local", (recording.resolve(),))
    assert found.where() == f"mylab: local files, read in place ({recording.resolve()})"

    recording.write_bytes(BODY.replace(b"one", b"two"))  # same size: availability does not read, fetch will tell
    assert availability(load_manifest("mylab", [folder]), []).status == "local"

    recording.write_bytes(BODY + b"!")
    found = availability(load_manifest("mylab", [folder]), [])
    assert found.status == "unavailable"
    assert found.where() == (f"mylab: the local file {recording.resolve()} (session1.bin) has {len(BODY) + 1} bytes, "
                             f"not the {len(BODY)} of the manifest: it changed since the manifest was written")

    recording.unlink()
    found = availability(load_manifest("mylab", [folder]), [])
    assert found.status == "unavailable"
    assert found.where() == f"mylab: the local file {recording.resolve()} (session1.bin) does not exist"


def test_availability_of_a_dataset_mixing_local_cached_and_downloaded_files(home: Path, recording: Path) -> None:
    local = DataFile("session1.bin", SHA, len(BODY), local=recording.resolve())
    remote = DataFile("session2.bin", SHA, len(BODY), url="https://example.org/session2.bin")
    manifest = Manifest(name="mylab", title="t", loader="none", files=(local, remote))
    found = availability(manifest, [])
    assert found.status == "network" and found.urls == ("https://example.org/session2.bin",)
    assert found.where().startswith("mylab: to download (1 of 2 files local) from https://example.org/session2.bin")

    found = availability(manifest, [], allow_download=False)
    assert found.status == "unavailable" and found.where().startswith("mylab: 1 of 2 files not in the cache")

    (home / "data" / "mylab").mkdir(parents=True)
    (home / "data" / "mylab" / "session2.bin").write_bytes(BODY)
    assert availability(manifest, [], allow_download=False).status == "cached"  # everything is on this machine

    recording.unlink()
    found = availability(manifest, [])
    assert found.status == "unavailable"
    assert found.where() == f"mylab: the local file {recording.resolve()} (session1.bin) does not exist"


def test_verify_checks_local_files_where_they_lie(home: Path, tmp_path: Path, recording: Path) -> None:
    folder = tmp_path / "defs"
    write_manifest(folder, "mylab", [entry(local=str(recording))])
    assert verify_dataset("mylab", [folder]) == {"session1.bin": "ok"}
    recording.write_bytes(BODY.replace(b"one", b"two"))
    assert verify_dataset("mylab", [folder]) == {"session1.bin": "corrupt"}
    assert recording.exists()  # left for the user to inspect
    recording.unlink()
    assert verify_dataset("mylab", [folder]) == {"session1.bin": "missing"}
    assert cached_files(home) == []


# --- downloads as before ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["http", "HTTP"])
def test_http_downloads_still_work_from_a_parsed_manifest(home: Path, tmp_path: Path, http_server: LocalServer,
                                                          scheme: str) -> None:
    http_server.files["/session1.bin"] = BODY
    url = http_server.url("session1.bin").replace("http", scheme, 1)
    write_manifest(tmp_path / "defs", "mylab", [entry(url=url)])
    manifest = load_manifest("mylab", [tmp_path / "defs"])
    assert manifest.files[0].local is None
    assert availability(manifest, []).status == "network"
    fetched = fetch_dataset(manifest, [])["session1.bin"]
    assert fetched.origin == "download" and fetched.path == home / "data" / "mylab" / "session1.bin"
    assert fetched.path.read_bytes() == BODY and http_server.requests == ["/session1.bin"]


def test_score_with_a_missing_local_file_says_to_put_it_back(home: Path, tmp_path: Path, cli: Callable) -> None:
    gone = tmp_path / "moved_away.bin"
    write_manifest(home, "mylab", [entry(local=str(gone))], loader="generic")
    benchmark = (Path(__file__).parents[2] / "benchmarks" / "Kiani2007.IT-rsa.toml").read_text()
    (home / "benchmarks").mkdir()
    (home / "benchmarks" / "MyLab.IT-rsa.toml").write_text(
        benchmark.replace('id = "Kiani2007.IT-rsa"', 'id = "MyLab.IT-rsa"')
        .replace('dataset = "kriegeskorte2008"', 'dataset = "mylab"'))
    result = cli("score", "efficientnet_lite0", "-b", "MyLab.IT-rsa", "--offline")
    assert result.exit_code == 1
    assert str(gone) in result.stderr  # the where() line names the missing file
    assert "put back the local files named above or fix their manifest" in result.stderr.splitlines()[-1]
