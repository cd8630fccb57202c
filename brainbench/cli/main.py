"""The ``brainbench`` command: a thin layer that parses, calls the library, and renders."""

from __future__ import annotations

import sys
import traceback

import click

import brainbench
from brainbench.errors import BrainbenchError


class _Group(click.Group):
    """Turns errors into one line on stderr and a non-zero exit (``--debug`` shows the traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted; nothing was written.", err=True)
            ctx.exit(130)
        except Exception as exc:
            if ctx.find_root().params.get("debug"):
                traceback.print_exc()
            click.echo(f"error: {_sentence(exc)}", err=True)
            ctx.exit(1 if isinstance(exc, BrainbenchError) else 2)


def _sentence(exc: Exception) -> str:
    if isinstance(exc, BrainbenchError):
        return str(exc)
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return "the GPU ran out of memory; lower --batch-size or pass --device cpu."
    if isinstance(exc, MemoryError):
        return "this machine ran out of memory; lower --batch-size or score fewer layers (--layers)."
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected {type(exc).__name__}: {first} (rerun with --debug for the traceback)."


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(brainbench.__version__, prog_name="brainbench")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def cli(debug: bool) -> None:
    """brainbench: how brain-like is this vision model?

    Scores vision models against primate visual cortex and behaviour, and ranks them in a local
    leaderboard.
    """


def _register() -> None:
    from brainbench.cli import catalog, data, evaluate, inspect, layers, leaderboard, score, visualize

    cli.add_command(score.score)
    cli.add_command(evaluate.evaluate)
    cli.add_command(layers.layers)
    cli.add_command(visualize.visualize)
    cli.add_command(inspect.rf)
    catalog.models.add_command(inspect.show)
    cli.add_command(leaderboard.leaderboard)
    cli.add_command(data.data)
    cli.add_command(catalog.models)
    cli.add_command(catalog.benchmarks)


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(prog_name="brainbench"))
