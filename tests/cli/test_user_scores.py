"""A user benchmark over the same files as a built-in one scores the same (issue 11, item 1): through a user manifest
read by a built-in loader, and through a loader an installed package offers by the ``brainbench.loaders`` entry point;
a built-in loader's name cannot be taken over."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from brainbench.data import load_dataset
from tests.cli.test_bad_input import Cli, assert_one_line_error
from tests.cli.test_score_keeps import TINY, tinycnn  # noqa: F401 (a fixture)
from tests.cli.user_definitions import write_benchmark, write_manifest

PLUGIN_MODULE = "mylab_loaders"
PLUGIN_ASSEMBLY = "MyLab.monkeyIT"


def install_loader_package(site: Path, monkeypatch: pytest.MonkeyPatch, entry_points: dict[str, str],
                           module_source: str = "") -> None:
    """A real installed distribution in ``site``, put on sys.path: ``mylab_loaders-1.0.dist-info`` with METADATA and
    entry_points.txt (group ``brainbench.loaders``), and the module ``mylab_loaders.py`` (not yet imported)."""
    monkeypatch.delitem(sys.modules, PLUGIN_MODULE, raising=False)  # another test's version of the module
    info = site / "mylab_loaders-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mylab-loaders\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[brainbench.loaders]\n{lines}")
    (site / f"{PLUGIN_MODULE}.py").write_text(module_source or _LOADER_MODULE)
    monkeypatch.syspath_prepend(str(site))


# A lab's loader: the 92-images files read by brainbench's own loader, keeping only the monkey IT RDM under the lab's
# assembly name (so a benchmark that scores through it can only have been given this loader's dataset).
_LOADER_MODULE = textwrap.dedent(f"""
    import dataclasses

    from brainbench.data.loaders.kriegeskorte2008 import load as load_92_images

    CALLS = []

    def load(manifest, files):
        CALLS.append(manifest.name)
        dataset = load_92_images(manifest, files)
        return dataclasses.replace(dataset, assemblies={{"{PLUGIN_ASSEMBLY}": dataset.assemblies["Kiani2007.IT"]}})
""")


def _score(cli: Cli, benchmark: str, mirror: Path, *args: str | Path) -> dict:
    result = cli("score", "tinycnn", "--random-init", "-b", benchmark, *TINY, "--data-mirror", mirror, "--no-save",
                 "--json", *args)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    return row


@pytest.mark.mirror
@pytest.mark.slow
def test_user_benchmarks_score_as_the_built_in_one(cli: Cli, tinycnn: str, home: Path, tmp_path: Path,  # noqa: F811
                                                    mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built_in = _score(cli, "Kiani2007.IT-rsa", mirror)
    # 1. A user manifest (the same files, another dataset name) read by the built-in loader, from --definitions.
    folder = tmp_path / "lab"
    write_manifest(folder, "mylab92")
    write_benchmark(folder, "MyLab.IT-rsa", "mylab92")
    by_manifest = _score(cli, "MyLab.IT-rsa", mirror, "--definitions", folder)
    # 2. A user manifest in BRAINBENCH_HOME naming a loader an installed package offers.
    site = tmp_path / "site-packages"
    install_loader_package(site, monkeypatch, {"mylab_92": f"{PLUGIN_MODULE}:load"})
    write_manifest(home, "mylab92_plugin", loader="mylab_92")
    write_benchmark(home, "MyLab.plugin-IT-rsa", "mylab92_plugin", assembly=PLUGIN_ASSEMBLY)
    by_plugin = _score(cli, "MyLab.plugin-IT-rsa", mirror)
    assert sys.modules[PLUGIN_MODULE].CALLS == ["mylab92_plugin"]  # the module the entry point named
    assert (by_manifest["benchmark"], by_plugin["benchmark"]) == ("MyLab.IT-rsa", "MyLab.plugin-IT-rsa")
    # Same images, same RDM, same seed, same model and the same code path: equal up to float summation order.
    for row in (by_manifest, by_plugin):
        assert row["layer"] == built_in["layer"] and row["ceiling"] is None
        assert row["raw"] == pytest.approx(built_in["raw"], abs=1e-12)
        assert row["error"] == pytest.approx(built_in["error"], abs=1e-12)


@pytest.mark.mirror
def test_a_package_loader_loads_a_user_dataset(home: Path, tmp_path: Path, mirror: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site-packages"
    install_loader_package(site, monkeypatch, {"mylab_92": f"{PLUGIN_MODULE}:load"})
    write_manifest(home, "mylab92_plugin", loader="mylab_92")
    dataset = load_dataset("mylab92_plugin", mirrors=[mirror])
    reference = load_dataset("kriegeskorte2008", mirrors=[mirror])
    assert list(dataset.assemblies) == [PLUGIN_ASSEMBLY]
    np.testing.assert_array_equal(dataset.assemblies[PLUGIN_ASSEMBLY].values,  # the same array, read the same way
                                  reference.assemblies["Kiani2007.IT"].values)


@pytest.mark.mirror
@pytest.mark.parametrize(("entry_points", "module", "benchmark", "expected"), [
    ({"kriegeskorte2008": f"{PLUGIN_MODULE}:load"}, "", "Kiani2007.IT-rsa",
     "error: The loader 'kriegeskorte2008' is built into brainbench; the entry point 'kriegeskorte2008 = "
     "mylab_loaders:load' of the package mylab-loaders cannot replace it: rename that loader in its package."),
    ({"mylab_92": f"{PLUGIN_MODULE}:load"}, "import no_such_module\n", "MyLab.IT-rsa",
     "error: Cannot import the loader 'mylab_92' from the entry point 'mylab_92 = mylab_loaders:load' of the "
     "package mylab-loaders (ModuleNotFoundError: No module named 'no_such_module')."),
    ({"mylab_92": f"{PLUGIN_MODULE}:LOADER"}, "LOADER = 3\n", "MyLab.IT-rsa",
     "error: The loader 'mylab_92' from the entry point 'mylab_92 = mylab_loaders:LOADER' of the package "
     "mylab-loaders is not a function."),
])
def test_bad_package_loaders_are_one_line(cli: Cli, tinycnn: str, home: Path, tmp_path: Path,  # noqa: F811
                                          mirror: Path, monkeypatch: pytest.MonkeyPatch, entry_points: dict[str, str],
                                          module: str, benchmark: str, expected: str) -> None:
    site = tmp_path / "site-packages"
    install_loader_package(site, monkeypatch, entry_points, module)
    write_manifest(home, "mylab92", loader="mylab_92")
    write_benchmark(home, "MyLab.IT-rsa", "mylab92")
    result = cli("score", tinycnn, "-b", benchmark, *TINY, "--data-mirror", mirror, "--no-save")
    assert [line for line in result.stderr.splitlines() if line.startswith("error")] == [expected]
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_an_unknown_loader_names_the_package_ones(cli: Cli, home: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site-packages"
    install_loader_package(site, monkeypatch, {"mylab_92": f"{PLUGIN_MODULE}:load"})
    write_manifest(home, "mylab92", loader="mylab_93")
    write_benchmark(home, "MyLab.IT-rsa", "mylab92")
    line = assert_one_line_error(cli("score", "nosuchmodel", "-b", "MyLab.IT-rsa"))
    assert line.startswith("error: No loader named 'mylab_93'; known loaders: ") and "mylab_92" in line
    assert "kriegeskorte2008" in line and "brainbench.loaders" in line
