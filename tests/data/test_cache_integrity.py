"""The caches survive what happens to real machines: kill -9 mid-write, bit rot, a full disk, a shared folder.

Drills run the writer in a child process and kill it with SIGKILL at a known point (the child signals when
it is there); leftovers must be recognised as stale, listed, and swept by the next write — while the partial
files of live writers (this process, a live child) are never touched.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pooch
import pytest

from brainbench.data import DataFile, Manifest, cache_files, fetch_dataset, gratings
from brainbench.errors import DataError
from tests.data.test_fetch import CONTENT, make_mirror, tiny_manifest

if TYPE_CHECKING:
    from tests.conftest import LocalServer

REPO = Path(__file__).resolve().parents[2]
HOST = cache_files.partial_prefix().split("@")[1].rstrip("-")
DAY = 24 * 3600


def fresh(name: str, degrees: float, size: int) -> np.ndarray:
    """The experiment drawn without any cache: the reference every cached read must equal."""
    batches = gratings.model_input_batches(gratings.experiment(name).table, degrees, size)
    return np.concatenate([b.numpy() for b in batches]).astype(np.uint8)


def through_cache(name: str, degrees: float, size: int, cache: Path) -> np.ndarray:
    batches = gratings.experiment_batches(name, degrees, size, batch_size=500, cache_dir=cache)
    return np.concatenate([b.numpy() for b in batches]).astype(np.uint8)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_child() -> Iterator[int]:
    """The pid of a running child process (another live writer on this host)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def child_env(home: Path) -> dict[str, str]:
    return {**os.environ, "BRAINBENCH_HOME": str(home), "PYTHONPATH": str(REPO)}


def wait_for(condition, what: str, deadline_s: float = 300) -> None:
    """Poll until ``condition()`` (a generous deadline only guards against a hung child; no timing is asserted)."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def kill_hard(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL


# --- stale partials ------------------------------------------------------------------------------------------------


def test_partial_names_carry_this_process_and_host() -> None:
    assert cache_files.partial_prefix() == f".partial-{os.getpid()}@{HOST}-"
    assert cache_files.partial_prefix("download") == f".download-{os.getpid()}@{HOST}-"
    assert HOST and "-" not in HOST and "@" not in HOST


def test_sweep_removes_only_the_leftovers_of_writers_that_are_gone(tmp_path: Path, live_child: int) -> None:
    gone = dead_pid()
    now = time.time()
    names = {
        f".partial-{os.getpid()}@{HOST}-mine.npy": ("keep", 0),  # this process is writing it
        f".partial-{live_child}@{HOST}-a.mat": ("keep", 0),  # a live concurrent writer on this host
        f".partial-{gone}@{HOST}-b.mat": ("stale", 0),  # killed: its pid is gone
        f".partial-{gone}-orientation-v1-8deg-96px.npy": ("stale", 0),  # older versions' stimulus partial
        f".download-{gone}@{HOST}-k3j2x": ("stale", 0),  # pooch's scratch folder of a killed download
        f".partial-{gone}@other.node-c.mat": ("keep", 0),  # another host sharing the cache: judged by age only
        f".partial-{live_child}@other.node-d.mat": ("stale", 25 * 3600),
        ".partial-k2j4_x9a": ("keep", 3600),  # older versions' untagged temporaries: by age only
        ".download-abc12345": ("stale", 25 * 3600),
        f".partial-{live_child}@{HOST}-idle.mat": ("stale", 25 * 3600),  # pid reused (containers): no write for a day
    }
    for name, (_fate, age) in names.items():
        path = tmp_path / name
        if name.startswith(".download-"):
            path.mkdir()
            (path / "tmpabcd").write_bytes(b"x" * 1000)
            os.utime(path / "tmpabcd", (now - age, now - age))
        else:
            path.write_bytes(b"x" * 1000)
        os.utime(path, (now - age, now - age))
    (tmp_path / "a.mat").write_bytes(b"finished file")  # not a partial: never touched

    found = {p.path.name: p for p in cache_files.partials(tmp_path)}
    assert set(found) == set(names)
    assert {n: ("stale" if p.stale else "keep") for n, p in found.items()} == {n: f for n, (f, _) in names.items()}
    assert found[f".partial-{gone}@{HOST}-b.mat"].reason == f"its writer, process {gone}, is gone"
    assert found[f".download-{gone}@{HOST}-k3j2x"].size == 1000

    swept = cache_files.sweep(tmp_path)

    assert sorted(p.path.name for p in swept) == sorted(n for n, (f, _) in names.items() if f == "stale")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["a.mat", *(n for n, (f, _) in names.items() if f == "keep")])


def test_kill_during_download_leaves_a_partial_that_the_next_fetch_sweeps(home: Path) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    release = threading.Event()
    stalled = []

    class Stalling(BaseHTTPRequestHandler):
        """Sends the first half, then waits for ``release`` before the rest (the first request only)."""

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not stalled:
                stalled.append(self.path)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                release.wait(300)
                return
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/big.bin"
    digest = hashlib.sha256(body).hexdigest()
    script = textwrap.dedent(f"""
        from brainbench.data import DataFile, Manifest, fetch_dataset
        file = DataFile(path="big.bin", sha256="{digest}", size={len(body)}, url="{url}")
        fetch_dataset(Manifest(name="tiny", title="t", loader="none", files=(file,)), mirrors=[])
    """)
    folder = home / "data" / "tiny"
    try:
        child = subprocess.Popen([sys.executable, "-c", script], env=child_env(home))

        def half_written() -> bool:
            return any(p.stat().st_size >= len(body) // 4 for p in folder.glob(".download-*/*"))

        wait_for(half_written, "the download's first half to arrive")
        kill_hard(child)
        (left,) = cache_files.partials(home / "data", recursive=True)
        assert left.path.name.startswith(f".download-{child.pid}@{HOST}-") and left.stale
        assert len(body) // 4 <= left.size <= len(body) // 2
        assert not (folder / "big.bin").exists()

        file = DataFile(path="big.bin", sha256=digest, size=len(body), url=url)
        fetched = fetch_dataset(Manifest(name="tiny", title="t", loader="none", files=(file,)), mirrors=[])
    finally:
        release.set()
        server.shutdown()
        server.server_close()

    assert fetched["big.bin"].path.read_bytes() == body
    assert sorted(p.name for p in folder.iterdir()) == ["big.bin"]  # the killed run's scratch folder is gone


def test_kill_during_drawing_leaves_a_partial_that_the_next_drawing_sweeps(tmp_path: Path, live_child: int) -> None:
    cache = tmp_path / "stimuli"
    ready = tmp_path / "first-batch-written"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from brainbench.data import gratings

        drawing = gratings.model_input_batches

        def stalled(*args, **kwargs):
            batches = drawing(*args, **kwargs)
            yield next(batches)
            yield next(batches)  # the first batch is in the memory-mapped partial file by now
            Path({str(ready)!r}).touch()
            time.sleep(300)

        gratings.model_input_batches = stalled
        list(gratings.experiment_batches("receptive_field", 8.0, 32, cache_dir=Path({str(cache)!r})))
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env=child_env(tmp_path / "home"))
    wait_for(ready.exists, "the child to draw its first batch")
    kill_hard(child)
    partial = cache / f".partial-{child.pid}@{HOST}-receptive_field-v{gratings.DRAWING_VERSION}-8deg-32px.npy"
    assert [p.name for p in cache.iterdir()] == [partial.name]  # nothing under the final name
    version = gratings.DRAWING_VERSION
    concurrent = cache / f".partial-{live_child}@{HOST}-size-v{version}-8deg-32px.npy"  # another live session's drawing
    concurrent.write_bytes(b"being drawn")

    drawn = through_cache("receptive_field", 8.0, 32, cache)

    assert np.array_equal(drawn, fresh("receptive_field", 8.0, 32))
    assert not partial.exists()
    assert concurrent.read_bytes() == b"being drawn"
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [concurrent.name, f"receptive_field-v{version}-8deg-32px.npy", f"receptive_field-v{version}-8deg-32px.npy.json"]
    )


# --- the stimulus cache is verified on read --------------------------------------------------------------------------


def test_cached_stimuli_carry_their_sha256(tmp_path: Path) -> None:
    through_cache("orientation", 8.0, 32, tmp_path)
    data = tmp_path / f"orientation-v{gratings.DRAWING_VERSION}-8deg-32px.npy"
    record = json.loads((tmp_path / f"orientation-v{gratings.DRAWING_VERSION}-8deg-32px.npy.json").read_text())
    assert record == {"sha256": hashlib.sha256(data.read_bytes()).hexdigest(), "bytes": data.stat().st_size,
                      "shape": [1152, 32, 32], "dtype": "uint8", "drawing_version": gratings.DRAWING_VERSION}


@pytest.mark.parametrize("damage", ["bit flip", "checksum removed", "checksum garbled", "truncated"])
def test_a_damaged_stimulus_cache_is_drawn_again_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    expected = fresh("orientation", 8.0, 32)
    through_cache("orientation", 8.0, 32, tmp_path)
    data = tmp_path / f"orientation-v{gratings.DRAWING_VERSION}-8deg-32px.npy"
    checksum = tmp_path / f"orientation-v{gratings.DRAWING_VERSION}-8deg-32px.npy.json"
    good_record = checksum.read_text()
    if damage == "bit flip":  # the case: one pixel of one grating changes, the file still loads
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 0x08
        data.write_bytes(bytes(raw))
    elif damage == "checksum removed":  # as a cache written by an older brainbench
        checksum.unlink()
    elif damage == "checksum garbled":
        checksum.write_text("{not json")
    else:
        data.write_bytes(data.read_bytes()[:-100])
    drawn = []
    render = gratings._render

    def counting(*args, **kwargs):
        drawn.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(gratings, "_render", counting)
    caplog.set_level(logging.WARNING, logger="brainbench")

    again = through_cache("orientation", 8.0, 32, tmp_path)

    assert np.array_equal(again, expected)
    assert drawn  # drawn again, not read
    warnings = [r for r in caplog.records if r.name.startswith("brainbench")]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()
    reason = {"bit flip": "failed their sha256 check", "checksum removed": "have no checksum beside them",
              "checksum garbled": "have an unreadable checksum file", "truncated": "failed their sha256 check"}[damage]
    assert warnings[0].getMessage().startswith(f"Cached stimuli {data} {reason}")
    assert warnings[0].getMessage().endswith("; drawing them again.")
    assert checksum.read_text() == good_record  # the same drawing, so the same digest
    caplog.clear()
    drawn.clear()
    assert np.array_equal(through_cache("orientation", 8.0, 32, tmp_path), expected)
    assert not drawn and not caplog.records  # verified and read from then on


# --- file modes ----------------------------------------------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_cached_files_get_the_umask_mode(home: Path, tmp_path: Path, http_server: LocalServer, umask: int) -> None:
    expected = 0o666 & ~umask  # what open() gives a new file; a shared lab cache needs group/other read
    http_server.files.update({f"/{path}": body for path, body in CONTENT.items()})
    downloaded = fetch_dataset(tiny_manifest(http_server.base), mirrors=[])
    assert {f.origin for f in downloaded.values()} == {"download"}
    assert {p: mode(f.path) for p, f in downloaded.items()} == {p: expected for p in CONTENT}

    for f in downloaded.values():
        f.path.unlink()
    mirror = make_mirror(tmp_path / "mirror", "tiny_mirror")
    for path in CONTENT:
        os.chmod(mirror / "tiny_mirror" / path, 0o400)  # a read-only mirror copy does not pass its mode on
    copied = fetch_dataset(tiny_manifest(http_server.base), mirrors=[mirror])
    assert {f.origin for f in copied.values()} == {"mirror"}
    assert {p: mode(f.path) for p, f in copied.items()} == {p: expected for p in CONTENT}

    stimuli = home / "stimuli"
    through_cache("blank", 8.0, 16, stimuli)
    assert {p.name: mode(p) for p in stimuli.iterdir()} == {
        f"blank-v{gratings.DRAWING_VERSION}-8deg-16px.npy": expected,
        f"blank-v{gratings.DRAWING_VERSION}-8deg-16px.npy.json": expected}


# --- a disk that refuses the write ---------------------------------------------------------------------------------


def run_with_file_size_limit(script: str, home: Path, limit: int) -> subprocess.CompletedProcess:
    """Run ``script`` in a child whose files may not grow past ``limit`` bytes (Python ignores SIGXFSZ, so the
    write that would pass the limit fails with EFBIG, as on a file system whose largest file it is)."""
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return subprocess.run([sys.executable, "-c", script], env=child_env(home), preexec_fn=limited,
                          capture_output=True, text=True, timeout=600)


def test_file_size_limit_while_drawing_is_one_sentence_and_leaves_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "stimuli"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from brainbench.data import gratings
        from brainbench.errors import DataError
        try:
            list(gratings.experiment_batches("receptive_field", 8.0, 32, cache_dir=Path({str(cache)!r})))
        except DataError as exc:
            print(exc)
            sys.exit(3)
    """)
    result = run_with_file_size_limit(script, tmp_path / "home", 1_000_000)  # the file needs 3.6 MB
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == (
        f"Cannot write the receptive_field stimuli (8 deg, 32 px) into {cache}: the file would exceed the file-size "
        "limit; raise the limit (ulimit -f), or set BRAINBENCH_HOME to a folder on another file system. "
        "Nothing of it was kept."
    )
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EROFS])
def test_disk_errors_while_downloading_are_one_sentence_and_leave_nothing(
    home: Path, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def failing(url: str, known_hash: str, fname: str, path: Path, **kwargs: object) -> str:
        Path(path, "tmp1234").write_bytes(b"half of it")  # as pooch's temporary file when the disk fills up
        raise OSError(code, os.strerror(code), str(Path(path, "tmp1234")))

    monkeypatch.setattr(pooch, "retrieve", failing)
    with pytest.raises(DataError) as caught:
        fetch_dataset(tiny_manifest(http_server.base), mirrors=[])
    message = str(caught.value)
    assert message.startswith(f"Cannot write tiny/a.txt into {home / 'data' / 'tiny'}: ")
    assert "\n" not in message and message.endswith("Nothing of it was kept.")
    fix = "free some space" if code in (errno.ENOSPC, errno.EDQUOT) else (
        "ulimit -f" if code == errno.EFBIG else "BRAINBENCH_HOME to a writable folder")
    assert fix in message and "BRAINBENCH_HOME" in message
    assert [p.name for p in (home / "data" / "tiny").iterdir()] == []  # no scratch folder, no partial


def test_disk_full_while_copying_from_a_mirror(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    copy = shutil.copyfile

    def filling(source: Path, target: Path) -> None:
        copy(source, target)  # the partial file is there, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(shutil, "copyfile", filling)
    mirror = make_mirror(tmp_path / "mirror", "tiny_mirror")
    with pytest.raises(DataError, match=r"Cannot write tiny/a\.txt into .*: the disk is full; free some space"):
        fetch_dataset(tiny_manifest("http://127.0.0.1:9"), mirrors=[mirror], allow_download=False)
    assert [p.name for p in (home / "data" / "tiny").iterdir()] == []


def test_an_unwritable_home_is_one_sentence(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = make_mirror(tmp_path / "mirror", "tiny_mirror")
    if os.geteuid() == 0:  # root writes anywhere: refuse the cache folder as a read-only home would
        mkdir = Path.mkdir

        def refused(self: Path, *args: object, **kwargs: object) -> None:
            if self.is_relative_to(home):
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", refused)
    else:
        home.chmod(0o500)
    try:
        with pytest.raises(DataError) as caught:
            fetch_dataset(tiny_manifest("http://127.0.0.1:9"), mirrors=[mirror], allow_download=False)
    finally:
        home.chmod(0o700)
    assert str(caught.value) == (
        f"Cannot write tiny/a.txt into {home / 'data' / 'tiny'}: permission denied; make it writable, or set "
        "BRAINBENCH_HOME to a writable folder. Nothing of it was kept."
    )
    assert not (home / "data" / "tiny").exists()


def test_other_os_errors_are_not_dressed_up(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    def broken(source: Path, target: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))

    monkeypatch.setattr(shutil, "copyfile", broken)
    mirror = make_mirror(tmp_path / "mirror", "tiny_mirror")
    with pytest.raises(OSError) as caught:
        fetch_dataset(tiny_manifest("http://127.0.0.1:9"), mirrors=[mirror], allow_download=False)
    assert caught.value.errno == errno.EIO and not isinstance(caught.value, DataError)
    assert [p.name for p in (home / "data" / "tiny").iterdir()] == []


def test_host_name_is_safe_in_a_file_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "node-7.lab@uni")
    assert cache_files.partial_prefix() == f".partial-{os.getpid()}@node_7.lab_uni-"
