"""``brainbench benchmarks check``: benchmark definitions checked completely, without a model."""

from __future__ import annotations

import click

from brainbench import paths
from brainbench.cli import options, render
from brainbench.errors import BrainbenchError


@click.command("check")
@click.argument("targets", nargs=-1, metavar="[FILE|ID ...]")
@options.definitions
@options.offline
@options.data_mirror
@options.as_json
def check(targets: tuple[str, ...], definitions: tuple[str, ...], offline: bool, data_mirrors: tuple[str, ...],
          as_json: bool) -> None:
    """Check benchmark definitions and their data, without a model.

    FILE|ID: benchmark TOML files (checked even outside the definition folders), ids or wildcard patterns; none:
    every benchmark, built-in and user. Checked: keys (a typo is named), kind, metric, layer selection and ceiling
    methods and values; then, with each dataset loaded once (cache, mirrors, network unless --offline), that the
    named assemblies exist, have the shape the kind needs, name stimuli of the stimulus set, and give the ceiling
    asked for. Prints one line per problem (`ID: problem`), else `ok ID` or `unavailable ID: where the data were
    looked for`; the exit status is 1 when any problem is found (unavailable data is not one).
    """
    from brainbench.benchmarks.checks import check_definitions  # torch, xarray: only when checking

    reports = check_definitions(list(targets), paths.mirror_dirs(list(data_mirrors)), not offline, definitions)
    if as_json:
        render.print_json([{"benchmark": r.name, "status": r.status, "problems": r.problems,
                            "unavailable": r.unavailable or None, "file": str(r.definition.path),
                            "origin": r.definition.origin} for r in reports])
    else:
        for report in reports:
            if report.problems:
                for problem in report.problems:
                    render.stdout.print(f"{report.name}: {problem}", markup=False, highlight=False, soft_wrap=True)
            elif report.unavailable:
                render.stdout.print(f"unavailable {report.name}: {report.unavailable} (its data were not checked)",
                                    markup=False, highlight=False, soft_wrap=True)
            else:
                render.stdout.print(f"ok {report.name}", markup=False, highlight=False, soft_wrap=True)
    bad = [r.name for r in reports if r.problems]
    if bad:
        count = sum(len(r.problems) for r in reports)
        raise BrainbenchError(f"{count} problem(s) in {len(bad)} of {len(reports)} benchmark(s): "
                              f"{', '.join(bad)}{' (listed above)' if not as_json else ''}.")
