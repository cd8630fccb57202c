"""README's list of commands is the CLI's: every command, and each one's help line, exactly as `--help` gives them."""

from __future__ import annotations

import re
from pathlib import Path

import click

from brainbench.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- commands: kept equal to --help by tests/cli/test_readme_commands.py -->", "<!-- /commands -->"


def leaf_commands(group: click.Group, prefix: str = "brainbench") -> dict[str, str]:
    """Every runnable command path → its whole help line (click's short help, never cut)."""
    ctx = click.Context(group, info_name=prefix)
    found = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            if command.invoke_without_command:  # `leaderboard` runs by itself and has subcommands
                found[path] = command.get_short_help_str(limit=10_000)
            found |= leaf_commands(command, path)
        else:
            found[path] = command.get_short_help_str(limit=10_000)
    return found


def readme_commands() -> dict[str, str]:
    """The README's table between the markers: `| `command` | help |` rows."""
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, "README.md lost its command table markers"
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows = {}
    for line in block.splitlines():
        match = re.fullmatch(r"\| `([^`]+)` \| (.+) \|", line.strip())
        if match:
            assert match[1] not in rows, f"{match[1]} is listed twice in README.md"
            rows[match[1]] = match[2].replace("\\|", "|")
    return rows


def test_readme_lists_every_command_with_its_help_line() -> None:
    expected, listed = leaf_commands(cli), readme_commands()
    assert sorted(listed) == sorted(expected), "README.md's command table and the CLI's commands differ"
    for path, help_line in expected.items():
        assert listed[path] == help_line, f"README.md's line for `{path}` differs from its --help"


def test_the_table_is_not_trivially_empty() -> None:
    # The comparison above could pass on two empty lists if the walk broke; the CLI has at least these.
    assert {"brainbench score", "brainbench leaderboard", "brainbench models list"} <= set(leaf_commands(cli))
