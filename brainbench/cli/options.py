"""Options shared by several commands."""

from __future__ import annotations

import math

import click

data_mirror = click.option(
    "--data-mirror", "data_mirrors", multiple=True, type=click.Path(exists=True, file_okay=False),
    help="A folder holding copies of the datasets (checked like downloads); repeatable, tried in order before "
    "those of BRAINBENCH_DATA_MIRROR (colon-separated). A copy failing its checksum is skipped when a later "
    "mirror has a good one.",
)
leaderboard_path = click.option(
    "--leaderboard", "leaderboard_path", type=click.Path(dir_okay=False),
    help="The leaderboard file (default: BRAINBENCH_LEADERBOARD or <BRAINBENCH_HOME>/leaderboard.sqlite).",
)
as_json = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")


class PositiveFloat(click.FloatRange):
    """A finite number above 0 (click's FloatRange lets nan and inf through)."""

    name = "positive number"

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


#: Seeds numpy's legacy RandomState and torch both accept.
SEED = click.IntRange(0, 2**32 - 1)
