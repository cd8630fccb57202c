"""Re-scoring through the reduction cache, whole process: a second ``score`` (and ``layers`` after ``score``) against
the same command computing everything, on the same machine, back to back.

In a fresh BRAINBENCH_HOME, with the data mirror (BRAINBENCH_DATA_MIRROR or --data-mirror) and one thread setting for
every run (--threads, default 1: runs under other engineers' load stay comparable), it runs:
  0. ``score --no-cache --no-save``: fills the data, model-input and grating caches (reported, not compared);
  1. ``score``: every reduction computed and written into the empty reduction cache (the first run);
  2. ``score`` again: the second run, reading the cache;
  3. ``layers --no-cache``: every layer profile computed;
  4. ``layers``: after ``score``, reading the cache.
and prints each wall time with the load average around it, the ratios first/second and (3)/(4) (target ≥ 10×), and
the cache's size. The model defaults to efficientnet_lite0 (random-init), whose forward passes (9 097 gratings at
224 px, two 92-image sets) make most of a first run, as a real model's do; ``--model tinycnn`` (the example plugin,
registered in the temporary home) shows the floor instead: a run of it is mostly start-up (~3 s of imports here),
which no cache removes. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 10.0
BIN = Path(sys.executable).parent / "brainbench"
PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "my_plugin.py"
BENCHMARKS = ("Kriegeskorte2008.IT-rsa", "Kiani2007.IT-rsa", "Marques2020.V1-preferred_orientation")


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, 1-min load average before, after) of ``brainbench ARGS`` as its own process."""
    before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"brainbench {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds, before, os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet_lite0",
                        help="model id (default efficientnet_lite0; tinycnn: the example plugin, registered here)")
    parser.add_argument("--trained", action="store_true", help="published weights (default: --random-init)")
    parser.add_argument("-b", "--benchmark", action="append", dest="benchmarks",
                        help=f"benchmark id, repeatable (default: {', '.join(BENCHMARKS)})")
    parser.add_argument("--threads", default="1", help="BRAINBENCH_THREADS for every run (default 1)")
    parser.add_argument("--data-mirror", default=os.environ.get("BRAINBENCH_DATA_MIRROR", "/work/shared/data"))
    options = parser.parse_args()
    benchmarks = [arg for b in options.benchmarks or BENCHMARKS for arg in ("-b", b)]
    model = [options.model] + ([] if options.trained else ["--random-init"])
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BRAINBENCH_HOME": home, "BRAINBENCH_DATA_MIRROR": options.data_mirror,
               "BRAINBENCH_THREADS": options.threads}
        env.pop("BRAINBENCH_CACHE_SIZE", None)
        env.pop("BRAINBENCH_LEADERBOARD", None)
        if options.model == "tinycnn":
            run(["models", "register", "tinycnn", "--from", f"{PLUGIN}:build_tinycnn"], env)
        score = ["score", *model, *benchmarks, "--offline", "--json"]
        rsa_and_v1 = [arg for arg in benchmarks if not arg.startswith("Geirhos")]
        layers = ["layers", *model, *rsa_and_v1, "--offline", "--json"]
        steps = {
            "score, no reduction cache, cold input caches": [*score, "--no-cache", "--no-save"],
            "score, first run (computes, fills the cache)": score,
            "score, second run (reads the cache)": score,
            "layers --no-cache": [*layers, "--no-cache"],
            "layers after score (reads the cache)": layers,
        }
        times = {name: run(args, env) for name, args in steps.items()}
        info = json.loads(subprocess.run([str(BIN), "cache", "info", "--json"], env=env, capture_output=True,
                                         text=True, check=True).stdout)
    print(f"Re-scoring, whole process: {' '.join(model)} on {', '.join(benchmarks[1::2])}; {os.cpu_count()} CPUs, "
          f"BRAINBENCH_THREADS={options.threads}")
    print(f"  {'run':<48} {'seconds':>8}  load average before → after")
    for name, (seconds, before, after) in times.items():
        print(f"  {name:<48} {seconds:8.1f}  {before:.2f} → {after:.2f}")
    first, second = times["score, first run (computes, fills the cache)"][0], \
        times["score, second run (reads the cache)"][0]
    profile, cached = times["layers --no-cache"][0], times["layers after score (reads the cache)"][0]
    for name, ratio in (("score: first / second run", first / second), ("layers: --no-cache / after score",
                                                                      profile / cached)):
        print(f"  {name:<48} {ratio:8.1f}×  target ≥ {TARGET:g}×{'' if ratio >= TARGET else '  below target'}")
    kinds = ", ".join(f"{kind} {counts['entries']}" for kind, counts in info["by_kind"].items())
    print(f"  reduction cache: {info['entries']} entries, {info['bytes'] / 2**20:.1f} MiB ({kinds})")


if __name__ == "__main__":
    main()
