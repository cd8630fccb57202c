"""A user's own input file that does not exist is named as missing, not blamed on a dataset download."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Cli = Callable[..., Result]


@pytest.mark.parametrize("metric", ["pls", "i2n"])
def test_evaluate_with_a_file_that_does_not_exist(cli: Cli, tmp_path: Path, metric: str) -> None:
    first, second = tmp_path / "features.nc", tmp_path / "assembly.nc"
    options = ("--probabilities", first, "--trials", second) if metric == "i2n" else ("--features", first,
                                                                                    "--assembly", second)
    result = cli("evaluate", "--metric", metric, *options)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [f"error: Cannot read {first.name}: there is no file {first}; check the path."]
