"""Options shared by several commands."""

from __future__ import annotations

import math
from collections.abc import Callable

import click

data_mirror = click.option(
    "--data-mirror", "data_mirrors", multiple=True, type=click.Path(exists=True, file_okay=False),
    help="A folder holding copies of the datasets (checked like downloads); repeatable, tried in order before "
    "those of BRAINBENCH_DATA_MIRROR (colon-separated). A copy failing its checksum is skipped when a later "
    "mirror has a good one.",
)
definitions = click.option(
    "--definitions", "definitions", multiple=True, type=click.Path(exists=True, file_okay=False), metavar="DIR",
    help="A folder of user definitions (benchmarks/*.toml, data_manifests/*.toml); repeatable, read after the "
    "built-ins, <BRAINBENCH_HOME> and the folders of BRAINBENCH_DEFINITIONS (path-separated).",
)
offline = click.option("--offline", is_flag=True, help="Never download: data must be cached or in a data mirror.")
leaderboard_path = click.option(
    "--leaderboard", "leaderboard_path", type=click.Path(dir_okay=False),
    help="The leaderboard file (default: BRAINBENCH_LEADERBOARD or <BRAINBENCH_HOME>/leaderboard.sqlite).",
)
as_json = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")
no_cache = click.option("--no-cache", is_flag=True, help="Neither read nor keep per-layer reductions in the "
                        "reduction cache (see brainbench cache info).")


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


def _apply(*decorators: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """One decorator applying ``decorators`` so that ``--help`` lists their options in the order given."""
    def apply(command: Callable) -> Callable:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return apply


def split_layers(values: tuple[str, ...]) -> list[str] | None:
    """``--layers`` values, comma-separated or repeated, as one list (None when not given)."""
    layers = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return layers or None


# Which model: every command that builds one takes the options below that change what it builds or computes.
candidate_layers = click.option(
    "--layers", multiple=True,
    help="Candidate layers (comma-separated or repeated); default: a sensible set per architecture family.",
)
visual_degrees = click.option("--visual-degrees", type=PositiveFloat(), metavar="DEGREES",
                              help="The model's field of view in degrees (default: 8).")
weights = _apply(
    click.option("--weights", type=click.Path(dir_okay=False), help="A state_dict file to load into the model."),
    click.option("--random-init", is_flag=True, help="Use the untrained, randomly initialised network (recorded)."),
)
seed = click.option("--seed", type=SEED, default=0, show_default=True,
                    help="Seed for random initialisation and any sampling.")

# How to run it: only commands that pass images through the model in batches.
device = click.option("--device", default="auto", show_default=True,
                      help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:N, mps.")
batching = _apply(
    click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
                 help="Images per forward pass."),
    click.option("--max-memory", type=PositiveFloat(), metavar="GIB",
                 help="GiB of activations held at once (default 4): score and layers run the layers in as many "
                 "passes as this needs; extract refuses features larger than this."),
)


def _configure_threads(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    from brainbench.threads import configure

    configure(value)


_THREADS_HELP = ("CPU threads for torch (default: BRAINBENCH_THREADS, else OMP_NUM_THREADS, else the CPUs this process "
                 "may use, by affinity and cgroup quota, that other processes leave idle).")
# How many CPU threads torch uses: every command that runs a model (the callback also runs for the default).
threads = click.option("--threads", type=click.IntRange(min=1), expose_value=False, callback=_configure_threads,
                       help=_THREADS_HELP)
#: The same option for a command that sets the threads itself, later (`brainbench.threads.configure`): its value.
threads_value = click.option("--threads", type=click.IntRange(min=1), help=_THREADS_HELP)

#: Everything the commands that score or extract use: which model (layers, weights, degrees, seed) and how to run it.
model_options = _apply(candidate_layers, weights, visual_degrees, device, seed, batching, threads)
