"""Two sweep jobs fetching the same dataset at the same moment (two real processes sharing one BRAINBENCH_HOME): both
succeed, and the cache holds one verified copy of each file and nothing else — from a download and from a mirror.

Each test makes the two fetches overlap for certain: the server answers a file only once both processes have asked
for it; one process stops halfway through copying a file from the mirror into the cache while the other fetches."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CONTENT = {"a.txt": b"first file of the tiny dataset\n", "sub/b.bin": bytes(range(256)) * 4096}

# One fetch of the tiny dataset in a process of its own; prints each file's origin. With a meeting folder (mirror
# test), the role "slow" stops halfway through its first copy into the cache until "fast" has fetched everything.
FETCH = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from brainbench.data import DataFile, Manifest, fetch_dataset
    from brainbench.data import fetch

    content, base, mirror, meeting, role = json.loads(sys.argv[1])
    files = tuple(DataFile(path=p, sha256=digest, size=size, url=f"{base}/{p}" if base else "")
                  for p, (digest, size) in content.items())
    manifest = Manifest(name="tiny", title="tiny", loader="none", files=files)

    def wait_for(name):
        deadline = time.monotonic() + 60
        while not (Path(meeting) / name).exists():
            assert time.monotonic() < deadline, f"waited 60 s for {name}"
            time.sleep(0.01)

    if meeting and role == "slow":
        def copy_halfway_then_wait(source, target):
            data = Path(source).read_bytes()
            with open(target, "wb") as out:
                out.write(data[: len(data) // 2])
                out.flush()
                if not (Path(meeting) / "halfway").exists():
                    (Path(meeting) / "halfway").touch()
                    wait_for("fast-done")
                out.write(data[len(data) // 2 :])

        fetch.shutil.copyfile = copy_halfway_then_wait
    if meeting and role == "fast":
        wait_for("halfway")
    fetched = fetch_dataset(manifest, mirrors=[Path(mirror)] if mirror else [])
    if meeting and role == "fast":
        (Path(meeting) / "fast-done").touch()
    print(json.dumps({path: f.origin for path, f in fetched.items()}))
""")


class MeetingServer:
    """An HTTP server on 127.0.0.1 that answers a file only once two requests for it have arrived (60 s at most)."""

    def __init__(self) -> None:
        barriers = {f"/{path}": threading.Barrier(2, timeout=60) for path in CONTENT}
        self.met: list[str] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = CONTENT.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                barriers[self.path].wait()
                served.met.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def meeting_server() -> Iterator[MeetingServer]:
    server = MeetingServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(timeout=5)


def _fetch_twice_at_once(home: Path, base: str, mirror: Path | None = None,
                         meeting: Path | None = None) -> list[dict[str, str]]:
    """The origins of each file as fetched by two processes, the first with the role "slow", the second "fast"."""
    content = {p: (hashlib.sha256(b).hexdigest(), len(b)) for p, b in CONTENT.items()}
    env = {**os.environ, "BRAINBENCH_HOME": str(home)}
    processes = [subprocess.Popen(
        [sys.executable, "-c", FETCH, json.dumps([content, base, str(mirror or ""), str(meeting or ""), role])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for role in ("slow", "fast")]
    outputs = [process.communicate(timeout=180) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    return [json.loads(out) for out, _ in outputs]


def _cache_holds_one_verified_copy(home: Path) -> None:
    root = home / "data" / "tiny"
    found = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
    assert found == sorted(CONTENT), found  # no partial file or download folder left beside them
    for path, body in CONTENT.items():
        assert (root / path).read_bytes() == body


def test_two_processes_downloading_one_dataset_at_once(home, tmp_path, meeting_server):
    origins = _fetch_twice_at_once(tmp_path / "shared-home", meeting_server.base)
    assert origins == [dict.fromkeys(CONTENT, "download")] * 2
    assert sorted(meeting_server.met) == sorted(f"/{p}" for p in CONTENT for _ in range(2))  # both were in flight
    _cache_holds_one_verified_copy(tmp_path / "shared-home")


def test_a_process_fetching_while_another_copies_from_the_mirror(home, tmp_path):
    mirror = tmp_path / "mirror"
    for path, body in CONTENT.items():
        (mirror / "tiny" / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / "tiny" / path).write_bytes(body)
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    slow, fast = _fetch_twice_at_once(tmp_path / "shared-home", "", mirror, meeting)
    # "fast" looked into the cache while half of a.txt was written there by "slow", and copied its own; "slow" then
    # finished its copy, and found the other file cached by "fast".
    assert fast == dict.fromkeys(CONTENT, "mirror")
    assert slow == {"a.txt": "mirror", "sub/b.bin": "cache"}
    _cache_holds_one_verified_copy(tmp_path / "shared-home")
