#!/usr/bin/env python
"""Regenerate the Brain-Score fixtures that ``tests/metrics/test_brainscore_fixtures.py`` compares brainbench with.

One command, from the checkout, in the project venv::

    .venv/bin/python bench/brainscore_fixtures.py --bsenv /tmp/bsenv

``--bsenv`` is a virtual environment with brainscore-vision 2.4.2 (the recipe is in the docstring of
``bench/brainscore_reference.py``). The command writes ``--out`` (default ``tests/fixtures/brainscore``):

* ``neural/``: ``assembly.nc``, ``features.nc`` and ``generate_summary.json`` from
  ``brainscore_reference.generate`` (here, seed 0, no legacy file), and ``brainscore_result.json``: Brain-Score's
  PLS, ridge, internal-consistency ceiling and RDM numbers from ``brainscore_reference.reference`` run in --bsenv;
* ``i2n/``: ``probabilities.nc``, ``trials.nc`` and ``generate_summary.json`` from
  ``brainscore_i2n_reference.generate``, and ``brainscore_i2n.json`` from its ``reference`` run in --bsenv.

Each result file keeps the versions of the Brain-Score environment that computed it (``versions``) and gains
``command`` (this command line) and ``inputs_generated_with`` (the versions that wrote the inputs). All is built
in a temporary folder beside the output and moved into place only when every step succeeded, so a failure
leaves the previous fixtures as they were.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import brainscore_i2n_reference
import brainscore_reference

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "brainscore"
SEED = 0

# folder -> (script, the JSON its `reference` writes, how its inputs are generated)
PARTS: dict[str, tuple[Path, str, Callable[[Path], None]]] = {
    "neural": (Path(brainscore_reference.__file__), "brainscore_result.json",
               lambda folder: brainscore_reference.generate(folder, seed=SEED, legacy=False)),
    "i2n": (Path(brainscore_i2n_reference.__file__), "brainscore_i2n.json",
            lambda folder: brainscore_i2n_reference.generate(folder, seed=SEED)),
}


def regenerate(out: Path, bsenv: Path, command: str) -> None:
    """Generate the inputs here, run Brain-Score on them in ``bsenv``, then replace ``out`` with the result."""
    python = bsenv / "bin" / "python"
    if not python.is_file():
        sys.exit(f"error: {python} does not exist; build the Brain-Score venv first (bench/brainscore_reference.py).")
    inputs_generated_with = {k: v for k, v in brainscore_reference.versions().items() if v is not None}
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp:
        staged = Path(tmp) / out.name
        for name, (script, result_name, generate) in PARTS.items():
            folder = staged / name
            generate(folder)
            subprocess.run([str(python), str(script), "reference", str(folder)], check=True)
            result = folder / result_name
            numbers = json.loads(result.read_text())
            numbers = {"command": command, "inputs_generated_with": inputs_generated_with, **numbers}
            result.write_text(json.dumps(numbers, indent=1) + "\n")
        if out.exists():
            out.rename(Path(tmp) / "previous")  # removed with the temporary folder
        staged.rename(out)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bsenv", type=Path, required=True, help="virtual environment with brainscore-vision 2.4.2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture folder (default: %(default)s)")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    regenerate(args.out.resolve(), args.bsenv, shlex.join(["python", "bench/brainscore_fixtures.py", *given]))


if __name__ == "__main__":
    main()
