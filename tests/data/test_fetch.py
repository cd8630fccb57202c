"""Fetching: cache → mirror → download, always checksum-verified; served locally, never from the internet."""

from __future__ import annotations

import hashlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pooch
import pytest

from brainbench import paths
from brainbench.data import DataFile, Manifest, fetch_dataset, verify_dataset
from brainbench.data.fetch import cache_path, fetch_file
from brainbench.errors import DataError

if TYPE_CHECKING:
    from tests.conftest import LocalServer

CONTENT = {
    "a.txt": b"first file of the tiny dataset\n",
    "sub/b.bin": bytes(range(256)) * 8,
}


@pytest.fixture
def server(http_server: LocalServer) -> LocalServer:
    """The local server, holding the tiny dataset's files."""
    http_server.files.update({f"/{path}": body for path, body in CONTENT.items()})
    return http_server


def tiny_manifest(base_url: str, content: dict[str, bytes] = CONTENT) -> Manifest:
    files = tuple(
        DataFile(path=path, sha256=hashlib.sha256(body).hexdigest(), size=len(body), url=f"{base_url}/{path}")
        for path, body in content.items()
    )
    return Manifest(name="tiny", title="A tiny test dataset", loader="none", files=files, mirror_folder="tiny_mirror")


@pytest.fixture
def manifest(server: LocalServer) -> Manifest:
    return tiny_manifest(server.base)


def cache_tree(home: Path) -> list[str]:
    """Every file and folder under the data cache, relative to it (hidden temporaries included)."""
    root = home / "data"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def cached_files(home: Path) -> list[str]:
    root = home / "data"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()) if root.exists() else []


def make_mirror(root: Path, folder: str, content: dict[str, bytes] = CONTENT) -> Path:
    for path, body in content.items():
        target = root / folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return root


@pytest.fixture
def pooch_log() -> Iterator[list[logging.LogRecord]]:
    """What pooch logs (it writes to stderr on its own), recorded."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = pooch.get_logger()
    level = logger.level
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        assert logger.level == level, "fetching must restore pooch's log level"


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingBar:
    """pooch's progress-bar protocol, recording what was done to it."""

    def __init__(self, file: DataFile) -> None:
        self.file = file
        self.total: int | None = None
        self.done = 0
        self.closed = False

    def update(self, n: int) -> None:
        self.done += n

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        self.closed = True


def test_download_lands_in_the_cache_verified(
    home: Path, server: LocalServer, manifest: Manifest, pooch_log: list[logging.LogRecord]
) -> None:
    bars: list[RecordingBar] = []

    def progress(file: DataFile) -> RecordingBar:
        bars.append(RecordingBar(file))
        return bars[-1]

    fetched = fetch_dataset(manifest, mirrors=[], progress=progress)

    assert {path: f.origin for path, f in fetched.items()} == {"a.txt": "download", "sub/b.bin": "download"}
    for path, body in CONTENT.items():
        assert fetched[path].path == home / "data" / "tiny" / path == cache_path(manifest, fetched[path].file)
        assert fetched[path].path.read_bytes() == body
    assert sorted(server.requests) == ["/a.txt", "/sub/b.bin"]
    assert cache_tree(home) == ["tiny", "tiny/a.txt", "tiny/sub", "tiny/sub/b.bin"]  # no temporaries left
    assert verify_dataset(manifest) == {"a.txt": "ok", "sub/b.bin": "ok"}
    assert [b.file.path for b in bars] == ["a.txt", "sub/b.bin"]
    assert all(b.closed and b.done == b.file.size for b in bars)
    assert pooch_log == []  # no stray "Downloading data from … to file <temporary>" lines on stderr


def test_second_fetch_comes_from_the_cache(home: Path, server: LocalServer, manifest: Manifest) -> None:
    fetch_dataset(manifest, mirrors=[])
    server.requests.clear()
    server.files.clear()  # the server could not serve them any more

    fetched = fetch_dataset(manifest, mirrors=[])

    assert {f.origin for f in fetched.values()} == {"cache"}
    assert server.requests == []


@pytest.mark.parametrize("bad", ["a.txt", "sub/b.bin"])
@pytest.mark.parametrize("same_size", [True, False])
def test_download_with_wrong_bytes_is_not_kept(
    home: Path, server: LocalServer, manifest: Manifest, bad: str, same_size: bool
) -> None:
    body = CONTENT[bad]
    server.files[f"/{bad}"] = bytes([body[0] ^ 1]) + body[1:] if same_size else body + b"extra"
    bars: list[RecordingBar] = []

    with pytest.raises(DataError, match="does not match its sha256") as caught:
        fetch_dataset(manifest, mirrors=[], progress=lambda f: bars.append(RecordingBar(f)) or bars[-1])

    assert bad in str(caught.value)
    good = [f"tiny/{p}" for p in CONTENT if p != bad and list(CONTENT).index(p) < list(CONTENT).index(bad)]
    assert cached_files(home) == good  # only files verified before the bad one; no partial copy
    assert not [p for p in cache_tree(home) if Path(p).name.startswith(".")]
    assert all(b.closed for b in bars)


def test_mirror_takes_precedence_over_download(
    home: Path, tmp_path: Path, server: LocalServer, manifest: Manifest
) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    mirror = make_mirror(tmp_path / "mirror", manifest.mirror_folder)

    fetched = fetch_dataset(manifest, mirrors=[empty, mirror])

    assert {f.origin for f in fetched.values()} == {"mirror"}
    assert server.requests == []
    for path, body in CONTENT.items():
        copy = fetched[path].path
        assert copy == home / "data" / "tiny" / path and not copy.is_symlink()
        assert copy.read_bytes() == body
    assert cache_tree(home) == ["tiny", "tiny/a.txt", "tiny/sub", "tiny/sub/b.bin"]
    assert {f.origin for f in fetch_dataset(manifest, mirrors=[mirror]).values()} == {"cache"}


def test_mirror_folder_named_after_the_dataset_also_counts(home: Path, tmp_path: Path, manifest: Manifest) -> None:
    mirror = make_mirror(tmp_path / "mirror", manifest.name)
    fetched = fetch_dataset(manifest, mirrors=[mirror], allow_download=False)
    assert {f.origin for f in fetched.values()} == {"mirror"}


def test_mirrors_default_to_the_environment(
    home: Path, tmp_path: Path, server: LocalServer, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = make_mirror(tmp_path / "mirror", manifest.mirror_folder)
    monkeypatch.setenv("BRAINBENCH_DATA_MIRROR", f"{tmp_path / 'nowhere'}:{mirror}")

    fetched = fetch_dataset(manifest)

    assert {f.origin for f in fetched.values()} == {"mirror"}
    assert server.requests == []


def test_corrupted_mirror_file_is_an_error_naming_it(
    home: Path, tmp_path: Path, server: LocalServer, manifest: Manifest
) -> None:
    mirror = make_mirror(tmp_path / "mirror", manifest.mirror_folder, {**CONTENT, "sub/b.bin": b"not the data"})

    with pytest.raises(DataError, match="does not match the sha256") as caught:
        fetch_dataset(manifest, mirrors=[mirror])

    assert str(mirror / "tiny_mirror" / "sub" / "b.bin") in str(caught.value)
    assert "tiny/sub/b.bin" in str(caught.value)
    assert server.requests == []  # a bad mirror copy is reported, not silently replaced by a download
    assert cached_files(home) == ["tiny/a.txt"]


def test_a_bad_mirror_copy_is_skipped_for_a_good_one_with_one_warning(
    home: Path, tmp_path: Path, server: LocalServer, manifest: Manifest, caplog: pytest.LogCaptureFixture
) -> None:
    bad = make_mirror(tmp_path / "bad", manifest.mirror_folder, {**CONTENT, "sub/b.bin": b"not the data"})
    good = make_mirror(tmp_path / "good", manifest.name)
    caplog.set_level(logging.WARNING, logger="brainbench")

    fetched = fetch_dataset(manifest, mirrors=[bad, good])

    assert {path: f.origin for path, f in fetched.items()} == {"a.txt": "mirror", "sub/b.bin": "mirror"}
    assert {path: f.path.read_bytes() for path, f in fetched.items()} == CONTENT
    assert server.requests == []
    (warning,) = [r.getMessage() for r in caplog.records if r.name.startswith("brainbench")]
    assert warning == (f"Skipped {bad / 'tiny_mirror' / 'sub' / 'b.bin'}: does not match the sha256 of tiny/sub/b.bin; "
                       f"copied {good / 'tiny' / 'sub' / 'b.bin'} instead.")


def test_bad_copies_in_every_mirror_are_all_named_and_nothing_is_downloaded(
    home: Path, tmp_path: Path, server: LocalServer, manifest: Manifest
) -> None:
    first = make_mirror(tmp_path / "first", manifest.mirror_folder, {"a.txt": b"wrong"})
    second = make_mirror(tmp_path / "second", manifest.name, {"a.txt": b"also wrong"})

    with pytest.raises(DataError) as caught:
        fetch_dataset(manifest, mirrors=[first, tmp_path / "nowhere", second])

    assert str(caught.value) == (
        f"Mirror files {first / 'tiny_mirror' / 'a.txt'}, {second / 'tiny' / 'a.txt'} do not match the sha256 of "
        "tiny/a.txt; replace them with the published file."
    )
    assert server.requests == [] and cached_files(home) == []


@pytest.mark.parametrize("same_size", [True, False])
def test_corrupted_cached_file_is_an_error_and_removed(
    home: Path, server: LocalServer, manifest: Manifest, same_size: bool
) -> None:
    fetch_dataset(manifest, mirrors=[])
    cached = home / "data" / "tiny" / "a.txt"
    cached.write_bytes(b"X" * len(CONTENT["a.txt"]) if same_size else b"truncated")
    assert verify_dataset(manifest)["a.txt"] == "corrupt"
    server.requests.clear()

    with pytest.raises(DataError, match=r"Cached tiny/a\.txt failed its sha256 check and was removed"):
        fetch_dataset(manifest, mirrors=[])

    assert not cached.exists()
    assert server.requests == []
    refetched = fetch_dataset(manifest, mirrors=[])  # the advice in the message works
    assert refetched["a.txt"].origin == "download" and cached.read_bytes() == CONTENT["a.txt"]


def test_offline_with_a_mirror_that_lacks_the_dataset_names_the_mirror(
    home: Path, tmp_path: Path, server: LocalServer, manifest: Manifest
) -> None:
    # The mirror is set: the message names it and says it lacks the dataset (issue 15: it said "set the variable").
    with pytest.raises(DataError) as caught:
        fetch_dataset(manifest, mirrors=[tmp_path / "nowhere"], allow_download=False)
    message = str(caught.value)
    assert "tiny/a.txt cannot be fetched: downloads are off" in message
    nowhere = tmp_path / "nowhere"
    assert f"the data mirror(s) tried lack it (no {nowhere / 'tiny_mirror'} or {nowhere / 'tiny'})" in message
    assert "BRAINBENCH_DATA_MIRROR" not in message
    assert server.requests == []
    assert cached_files(home) == []


def test_offline_without_a_mirror_names_the_mirror_variable(home: Path, manifest: Manifest) -> None:
    with pytest.raises(DataError, match="no data mirror is set: if this machine is offline, set BRAINBENCH_DATA_MIR"):
        fetch_dataset(manifest, mirrors=[], allow_download=False)


def test_failed_download_names_the_mirrors_that_lack_the_dataset(home: Path, tmp_path: Path) -> None:
    manifest = tiny_manifest(f"http://127.0.0.1:{closed_port()}")
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with pytest.raises(DataError) as caught:
        fetch_dataset(manifest, mirrors=[empty])
    assert "Cannot download a.txt" in str(caught.value)
    assert f"the data mirror(s) tried lack it (no {empty / 'tiny_mirror'} or {empty / 'tiny'})" in str(caught.value)
    assert "BRAINBENCH_DATA_MIRROR" not in str(caught.value)


def test_unreachable_server_names_the_mirror_variable(home: Path, pooch_log: list[logging.LogRecord]) -> None:
    manifest = tiny_manifest(f"http://127.0.0.1:{closed_port()}")
    bars: list[RecordingBar] = []

    with pytest.raises(DataError, match="BRAINBENCH_DATA_MIRROR") as caught:
        fetch_dataset(manifest, mirrors=[], progress=lambda f: bars.append(RecordingBar(f)) or bars[-1])

    assert "Cannot download a.txt" in str(caught.value)
    assert cached_files(home) == []
    assert not [p for p in cache_tree(home) if Path(p).name.startswith(".")]
    assert bars and all(b.closed for b in bars)  # a failed download leaves no progress bar drawing
    assert pooch_log == []  # the error is the one line the user sees


def test_missing_file_on_the_server_is_a_data_error(home: Path, server: LocalServer, manifest: Manifest) -> None:
    del server.files["/sub/b.bin"]
    with pytest.raises(DataError, match=r"Cannot download sub/b\.bin .*HTTPError"):
        fetch_dataset(manifest, mirrors=[])
    assert cached_files(home) == ["tiny/a.txt"]


def test_file_without_url_must_come_from_cache_or_mirror(home: Path, tmp_path: Path) -> None:
    body = CONTENT["a.txt"]
    file = DataFile("a.txt", hashlib.sha256(body).hexdigest(), len(body))
    manifest = Manifest(name="tiny", title="t", loader="none", files=(file,))
    with pytest.raises(DataError, match="it has no download address, and it is not cached and no data mirror is set"):
        fetch_file(manifest, file, mirrors=[], allow_download=True)
    mirror = make_mirror(tmp_path / "mirror", "tiny", {"a.txt": body})
    assert fetch_file(manifest, file, mirrors=[mirror]).origin == "mirror"


def test_verify_dataset_statuses(home: Path, server: LocalServer, manifest: Manifest) -> None:
    assert verify_dataset(manifest) == {"a.txt": "missing", "sub/b.bin": "missing"}
    fetch_dataset(manifest, mirrors=[])
    assert verify_dataset(manifest) == {"a.txt": "ok", "sub/b.bin": "ok"}

    corrupt = home / "data" / "tiny" / "sub" / "b.bin"
    corrupt.write_bytes(b"\0" * len(CONTENT["sub/b.bin"]))
    (home / "data" / "tiny" / "a.txt").unlink()

    assert verify_dataset(manifest) == {"a.txt": "missing", "sub/b.bin": "corrupt"}
    assert corrupt.exists()  # left for inspection


def test_mirror_dirs_reads_colon_separated_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paths.mirror_dirs() == []
    given = tmp_path / "given"
    given.mkdir()
    assert paths.mirror_dirs([given, tmp_path]) == [given, tmp_path]

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("BRAINBENCH_DATA_MIRROR", "/srv/a::/srv/b:~/c:")  # entries need not exist on this machine
    assert paths.mirror_dirs() == [Path("/srv/a"), Path("/srv/b"), tmp_path / "c"]
    assert paths.mirror_dirs(("~/given",)) == [given, Path("/srv/a"), Path("/srv/b"), tmp_path / "c"]


@pytest.mark.parametrize("given", ["no-such-folder", "a-file"])
def test_a_given_mirror_that_is_not_a_folder_is_an_error_naming_it(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("BRAINBENCH_DATA_MIRROR", str(tmp_path))  # a good mirror does not excuse a typo
    with pytest.raises(DataError, match=f"The data mirror {given} is not a folder on this machine; check the path"):
        paths.mirror_dirs([given])


def test_cache_lives_under_brainbench_home(home: Path) -> None:
    assert paths.home() == home
    assert paths.data_cache() == home / "data"
    assert paths.default_leaderboard() == home / "leaderboard.sqlite"
