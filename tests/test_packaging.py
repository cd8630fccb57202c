"""A wheel carries the TOML definitions, and an installed brainbench finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_carries_and_finds_definitions(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("brainbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("benchmarks", "model_registry", "data_manifests"):
        shipped = {p.name for p in (REPO / folder).glob("*.toml")}
        assert shipped and {f"brainbench/_definitions/{folder}/{n}" for n in shipped} <= names

    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = (
        "import brainbench, brainbench.definitions as d, brainbench.benchmarks.spec as s;"
        "print(brainbench.__file__); print(d.definitions_dir('benchmarks')); print(sorted(s.list_benchmarks()));"
        "from brainbench.data import fetch; print(sorted(fetch.fetch_dataset('marques2020', mirrors=[])))"
    )
    out = subprocess.run([sys.executable, "-c", probe], env={"PYTHONPATH": str(site)}, cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert out[0].startswith(str(site))
    assert out[1] == str(site / "brainbench" / "_definitions" / "benchmarks")
    assert "Kiani2007.IT-rsa" in out[2]
    assert out[3] == "['v1_properties.json']"  # the embedded histograms ship, verified, inside the wheel
