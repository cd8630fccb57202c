"""extract asks for --stimulus-degrees before it loads (or downloads) a dataset whose benchmarks disagree on size."""

from __future__ import annotations

import pytest


def test_size_question_comes_before_the_dataset_is_loaded(cli, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dataset was loaded before the size was asked for")

    monkeypatch.setattr("brainbench.benchmarks.extraction.load_dataset", never)
    output = tmp_path / "k92.nc"
    result = cli("extract", "timm:resnet18", "--random-init", "--stimuli", "kriegeskorte2008", "-o", output)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    # Kriegeskorte2008.IT-rsa shows the 92 images at 2.9 degrees, Kiani2007.IT-rsa at 7 (benchmarks/*.toml).
    assert line.startswith("error: ") and "2.9" in line and "7" in line and "--stimulus-degrees" in line
    assert not output.exists()
