"""evaluate: --device is for pls/ridge (torch regressions); rsa and i2n refuse it rather than ignore it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args", [
    ("--metric", "rsa", "--features", "f.nc", "--assembly", "a.nc"),
    ("--metric", "i2n", "--probabilities", "p.nc", "--trials", "t.nc"),
])
def test_device_refused_where_it_does_nothing(cli, args: tuple[str, ...]) -> None:
    result = cli("evaluate", *args, "--device", "cuda")
    assert result.exit_code != 0
    assert "--device does not apply to --metric" in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
