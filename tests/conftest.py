"""Shared fixtures: an isolated brainbench home, the offline data mirror, and an in-process CLI runner."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brainbench.models.allocator import retain_freed_memory

retain_freed_memory()  # as `score` does: batched CPU passes without page-fault churn
REPO = Path(__file__).resolve().parents[1]
KRIEGESKORTE_FOLDER = "kriegeskorte2008_92images"


def _find_mirror() -> Path:
    """The mirror holding the 92-images folder: the first of $BRAINBENCH_DATA_MIRROR that has it, else ../shared/data.

    Read at import time, before the ``home`` fixture unsets the variable.
    """
    candidates = [Path(p).expanduser() for p in os.environ.get("BRAINBENCH_DATA_MIRROR", "").split(os.pathsep) if p]
    for candidate in candidates:
        if (candidate / KRIEGESKORTE_FOLDER).is_dir():
            return candidate.resolve()
    return (candidates[0] if candidates else REPO.parent / "shared" / "data").resolve()


MIRROR = _find_mirror()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh BRAINBENCH_HOME; no mirror or leaderboard from the environment; Hugging Face hub offline."""
    path = tmp_path / "brainbench-home"
    path.mkdir()
    monkeypatch.setenv("BRAINBENCH_HOME", str(path))
    monkeypatch.delenv("BRAINBENCH_DATA_MIRROR", raising=False)
    monkeypatch.delenv("BRAINBENCH_LEADERBOARD", raising=False)
    monkeypatch.delenv("BRAINBENCH_DEFINITIONS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    # huggingface_hub reads these once, at import; another test may already have imported it.
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(hub_cache))
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline data mirror (skips the test when it does not hold the 92-images dataset)."""
    if not (MIRROR / KRIEGESKORTE_FOLDER).is_dir():
        if os.environ.get("BRAINBENCH_REQUIRE_MIRROR"):  # CI has the mirror: its tests must run, not skip
            pytest.fail(f"BRAINBENCH_REQUIRE_MIRROR is set but {MIRROR} has no {KRIEGESKORTE_FOLDER}/")
        pytest.skip(
            f"offline data mirror {MIRROR} has no {KRIEGESKORTE_FOLDER}/; "
            "set BRAINBENCH_DATA_MIRROR to a folder that holds it"
        )
    return MIRROR


@pytest.fixture
def cli(home: Path) -> Callable[..., Result]:
    """Run ``brainbench ARGS...`` in-process (isolated home); returns click's Result (stdout/stderr apart)."""
    from brainbench.cli.main import cli as command

    runner = CliRunner()

    def run(*args: str | os.PathLike[str], **kwargs: object) -> Result:
        return runner.invoke(command, [str(a) for a in args], **kwargs)

    return run


class LocalServer:
    """An HTTP server on 127.0.0.1 serving ``files`` keyed by request path (query included, e.g.
    ``/a.txt`` or ``/f.nc?versionId=null``) and recording every request. Never the internet."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.requests.append(self.path)
                body = served.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A running LocalServer, shut down after the test."""
    served = LocalServer()
    served.thread.start()
    try:
        yield served
    finally:
        served.httpd.shutdown()
        served.httpd.server_close()
        served.thread.join(timeout=5)
