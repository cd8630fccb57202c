"""Light commands import no heavy library, and the lazily loaded commands' help cannot drift from the real one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from brainbench.cli.lazy import LazyGroup, load
from brainbench.cli.main import COMMANDS

HEAVY = ("torch", "torchvision", "timm", "xarray", "matplotlib", "scipy", "netCDF4", "sklearn", "h5py")
LIGHT_COMMANDS = (
    ("--version",),
    ("--help",),
    ("leaderboard",),
    ("leaderboard", "--json"),
    ("history", "--help"),
    ("benchmarks", "list"),
    ("data", "list"),
    ("models", "--help"),
    ("data", "--help"),
    ("cache", "info"),
)
# Runs the console script's main() and writes the names of every imported module to the file in argv[1].
_WRAPPER = """
import json, sys
from brainbench.cli.main import main
out = sys.argv.pop(1)
try:
    main()
finally:
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
"""


@pytest.mark.parametrize("args", LIGHT_COMMANDS, ids=" ".join)
def test_light_commands_import_no_heavy_library(args: tuple[str, ...], home: Path, tmp_path: Path) -> None:
    modules_file = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", _WRAPPER, str(modules_file), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the command printed nothing"
    imported = {name.partition(".")[0] for name in json.loads(modules_file.read_text())}
    assert not imported & set(HEAVY), f"`brainbench {' '.join(args)}` imported {sorted(imported & set(HEAVY))}"


def test_an_unexpected_error_is_explained_without_importing_torch() -> None:
    code = ("import sys; from brainbench.cli.main import _explain; "
            "print(_explain(ValueError('boom'))[1], 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["2", "False"]


def _lazy_groups() -> list[tuple[str, LazyGroup]]:
    from brainbench.cli.main import cli

    models = load(COMMANDS["models"][0])
    assert isinstance(cli, LazyGroup) and isinstance(models, LazyGroup)
    return [("brainbench", cli), ("brainbench models", models)]


LAZY_ENTRIES = [(path, name, target, help) for path, group in _lazy_groups()
                for name, (target, help) in group.lazy.items()]
LAZY_IDS = [f"{path} {name}" for path, name, *_ in LAZY_ENTRIES]


@pytest.mark.parametrize(("path", "name", "target", "help"), LAZY_ENTRIES, ids=LAZY_IDS)
def test_lazy_short_help_is_the_commands_own(path: str, name: str, target: str, help: str) -> None:
    command = load(target)
    assert command.get_short_help_str(limit=10**6) == help, f"update the help of '{path} {name}' in its lazy table"


@pytest.mark.parametrize("width", [60, 80, 200])
@pytest.mark.parametrize(("path", "group"), _lazy_groups(), ids=["root", "models"])
def test_lazy_help_equals_the_help_of_the_loaded_commands(path: str, group: LazyGroup, width: int) -> None:
    eager = {name: command for name, command in group.commands.items() if name not in group.lazy}
    lazy = LazyGroup(group.name, commands=eager, lazy=group.lazy, help=group.help)
    loaded = click.Group(group.name, commands={**eager, **{n: load(t) for n, (t, _) in group.lazy.items()}},
                         help=group.help)
    runner = CliRunner()
    shown = [runner.invoke(g, ["--help"], terminal_width=width, max_content_width=width).output for g in (lazy, loaded)]
    assert shown[0] == shown[1]
    assert all(f"\n  {name} " in shown[0] for name in group.lazy)


def test_every_lazy_command_runs_its_own_help(cli: Callable[..., Result]) -> None:
    for name in COMMANDS:
        result = cli(name, "--help", prog_name="brainbench")
        assert result.exit_code == 0, result.output
        assert f"Usage: brainbench {name} [OPTIONS]" in result.output
