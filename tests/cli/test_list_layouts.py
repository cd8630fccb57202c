"""`benchmarks list` and `data list` never cut an id, a dataset name or a mirror path, at any width or in a pipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from brainbench.benchmarks.spec import list_benchmarks
from brainbench.cli.main import cli
from brainbench.data.manifest import list_manifests

WIDTHS = (50, 80, 120, 250)


def _run(args: list[str], columns: int, tmp_path: Path, mirror: Path) -> list[str]:
    env = {"COLUMNS": str(columns), "BRAINBENCH_HOME": str(tmp_path / "home"), "BRAINBENCH_DATA_MIRROR": str(mirror)}
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _words(lines: list[str]) -> set[str]:
    return {word for line in lines for word in line.split()}


@pytest.mark.parametrize("columns", WIDTHS)
def test_every_benchmark_id_is_whole_on_one_line(columns: int, tmp_path: Path) -> None:
    lines = _run(["benchmarks", "list"], columns, tmp_path, tmp_path)
    ids = set(list_benchmarks())
    assert ids <= _words(lines)  # a folded id would appear as two pieces, neither equal to the id
    if columns > max(map(len, ids)) + 4:  # where an id fits, its line fits too
        assert all(len(line.rstrip()) <= columns for line in lines if ids & set(line.split()))


@pytest.mark.parametrize("columns", WIDTHS)
def test_every_dataset_and_its_mirror_path_are_whole(columns: int, tmp_path: Path) -> None:
    mirror = tmp_path / "a_rather_long_mirror_folder_name"
    (mirror / "kriegeskorte2008").mkdir(parents=True)  # not a complete copy: the status must still be honest
    lines = _run(["data", "list"], columns, tmp_path, mirror)
    names = {m.name for m in list_manifests()}
    assert names <= _words(lines)
    assert str(mirror) not in " ".join(lines) or str(mirror) in _words(lines)


def test_a_full_mirror_is_named_whole(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror_with_a_long_name_to_force_folding"
    manifest = next(m for m in list_manifests() if m.name == "kriegeskorte2008")
    for f in manifest.files:  # copies of the published size count as present (availability reads sizes)
        path = mirror / manifest.name / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * f.size)
    for columns in (60, 80):
        lines = _run(["data", "list"], columns, tmp_path, mirror)
        (line,) = [line for line in lines if line.split()[:1] == ["kriegeskorte2008"]]
        assert f"mirror {mirror}" in line


def test_no_match_says_so(tmp_path: Path) -> None:
    for args in (["benchmarks", "list", "nosuch*"], ["models", "list", "nosuch*"]):
        lines = _run(args, 80, tmp_path, tmp_path)
        assert lines and lines[0].startswith("No ") and "nosuch*" in lines[0], lines
