"""`models.allocator.retain_freed_memory` asks torch for huge pages for large CPU tensors, unless the user chose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import os
from brainbench.models.allocator import retain_freed_memory
retain_freed_memory()
print(os.environ.get("THP_MEM_ALLOC_ENABLE"))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the malloc and huge-page settings are Linux's")
@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("0", "0")])
def test_huge_pages_are_asked_for_unless_the_user_said_otherwise(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if given is not None:
        env["THP_MEM_ALLOC_ENABLE"] = given
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == expected
