"""Start-up time of the light commands, whole process, beside bare Python and ``import torch`` on the same machine.

Each command runs ``--runs`` times (default 7) as its own process, in a fresh BRAINBENCH_HOME (no leaderboard, no
cached data), and the median wall time is printed with its ratio to ``python -c pass`` and to ``import torch``.
The goal is < 0.5 s for each light command (issue 15). Also timed: importing what ``brainbench evaluate`` imports
before its work (torch, xarray, the metrics; not a light command, so not held to the target), beside ``import torch``.
Run with `make bench`. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5
BIN = Path(sys.executable).parent
REFERENCES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "evaluate's imports": [sys.executable, "-c", "import brainbench.cli.evaluate, brainbench.benchmarks.evaluate"],
}
LIGHT = ("--version", "--help", "leaderboard", "benchmarks list", "data list", "models list")


def wall_times(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Seconds from start to exit of ``command``, ``runs`` times (one untimed warm-up run first, for the disk cache)."""
    subprocess.run(command, env=env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (median reported)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BRAINBENCH_HOME": home}
        env.pop("BRAINBENCH_LEADERBOARD", None)
        commands = {**REFERENCES, **{f"brainbench {c}": [str(BIN / "brainbench"), *c.split()] for c in LIGHT}}
        medians = {name: statistics.median(wall_times(argv, runs, env)) for name, argv in commands.items()}
    bare, torch = medians["python -c pass"], medians["python -c 'import torch'"]
    print(f"Start-up, whole process: median of {runs} runs, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; target < {TARGET_S} s for the brainbench commands")
    print(f"  {'command':<28} {'seconds':>8} {'× bare python':>14} {'÷ import torch':>15}")
    for name, seconds in medians.items():
        flag = "  over target" if name.startswith("brainbench") and seconds >= TARGET_S else ""
        print(f"  {name:<28} {seconds:8.3f} {seconds / bare:14.1f} {seconds / torch:15.2f}{flag}")


if __name__ == "__main__":
    main()
