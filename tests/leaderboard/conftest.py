"""Fixtures for the leaderboard tests: making files and folders read-only, also for root."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import pytest


def writable(path: Path) -> bool:
    """Whether this process can really write ``path`` (a file opened for writing, a new file in a folder)."""
    try:
        if path.is_dir():
            with tempfile.TemporaryFile(dir=path):
                pass
        else:
            with open(path, "r+b"):
                pass
    except OSError:
        return False
    return True


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    mode = path.stat().st_mode
    path.chmod(mode & ~0o222)
    immutable = False
    try:
        if writable(path):  # root: modes do not stop writes; the immutable attribute does
            chattr = shutil.which("chattr")
            immutable = chattr is not None and subprocess.run([chattr, "+i", path], capture_output=True).returncode == 0
            if writable(path):
                pytest.skip("this process writes files whatever their modes (root) and cannot set chattr +i here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", path], check=True)
        path.chmod(mode)


@pytest.fixture
def read_only() -> Callable[..., AbstractContextManager[None]]:
    """``with read_only(path, ...):`` those files and folders cannot be written by this process (skips if that
    cannot be arranged); their modes are restored afterwards."""

    @contextmanager
    def protect(*paths: Path) -> Iterator[None]:
        with ExitStack() as stack:
            for path in paths:
                stack.enter_context(_read_only(path))
            yield

    return protect
