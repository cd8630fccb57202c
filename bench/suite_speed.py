"""The suite: one model on every benchmark whose data are present offline, whole process, with a per-stage breakdown.

Runs ``brainbench score MODEL -b … --offline --skip-unavailable --json`` as its own process in a fresh BRAINBENCH_HOME
(cold: no cached stimuli or reductions), then ``--runs - 1`` more times in the same home with ``--no-cache`` (warm
stimulus caches, every reduction recomputed), each into a scratch leaderboard so that record writing is timed.
The child appends its stage seconds to ``$BRAINBENCH_STAGE_LOG`` (brainbench/stages.py); start-up, the checks before
any data is loaded and the CLI's own work are the whole process's wall time less the stages. Peak RSS is the
child's (``os.wait4``); on a machine with ``nvidia-smi``, GPU utilisation and memory are sampled every 0.2 s while it
runs. The load average is printed with each run. The issue-16 targets: < 60 s on one H100 for
``timm:resnet50 --random-init``; on a CPU, the forward passes the dominant stage and everything else together < 25 %
of the wall time. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from brainbench.leaderboard import Leaderboard
from brainbench.stages import LOG_VARIABLE, STAGES

BIN = Path(sys.executable).parent
SUITE = ("Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa", "Mur2013.behavior-rsa", "Cowley2023.V4-pls",
         "Cowley2023.V4-ridge", "Marques2020.V1-*", "Geirhos2019.*")
TARGET_OTHER_SHARE = 0.25  # of the wall time, on a CPU
STAGE_LABELS = {
    "data_loading": "data loading and verification", "model_building": "model building",
    "decode_preprocess": "image decoding and preprocessing", "forward_passes": "forward passes",
    "grams": "Gram matrices", "rdms": "RDMs", "layer_selection": "layer selection (regressions)",
    "regressions": "regressions on the scored stimuli", "ceilings": "ceilings",
    "gratings": "gratings (drawing, RF maps, tuning)", "record_writing": "record writing",
    "other": "other work of the benchmarks",
}


class GpuSampler:
    """Utilisation (%) and memory used (MiB) of the GPUs, from ``nvidia-smi`` every ``period`` s, until stopped."""

    def __init__(self, period: float = 0.2) -> None:
        self.period, self.samples = period, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = shutil.which("nvidia-smi") is not None

    def _run(self) -> None:
        query = ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"]
        while not self._stop.wait(self.period):
            try:
                out = subprocess.run(query, capture_output=True, text=True, timeout=5).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            rows = [[float(v) for v in line.split(",")] for line in out.strip().splitlines() if "," in line]
            if rows:
                self.samples.append((max(r[0] for r in rows), sum(r[1] for r in rows)))

    def __enter__(self) -> GpuSampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()

    def summary(self) -> str:
        if not self.samples:
            return "GPU: none sampled (no nvidia-smi)" if not self.available else "GPU: no sample"
        busy = [u for u, _ in self.samples]
        return (f"GPU utilisation mean {sum(busy) / len(busy):.0f} % (busy > 0 in {sum(u > 0 for u in busy)}/"
                f"{len(busy)} samples), peak memory used {max(m for _, m in self.samples) / 1024:.1f} GiB")


def run_suite(model: list[str], benchmarks: list[str], env: dict[str, str], extra: list[str]) -> dict:
    """One whole-process ``brainbench score``: wall seconds, peak RSS (GiB), summed stage seconds, records, GPU."""
    log = Path(env["BRAINBENCH_HOME"]) / "stages.jsonl"
    log.unlink(missing_ok=True)
    board = Path(env["BRAINBENCH_HOME"]) / "bench-board.sqlite"
    argv = [str(BIN / "brainbench"), "score", *model, *(a for b in benchmarks for a in ("-b", b)), "--offline",
            "--skip-unavailable", "--json", "--leaderboard", str(board), *extra]
    load = os.getloadavg()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, GpuSampler() as gpu:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env={**env, LOG_VARIABLE: str(log)}, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    try:
        rows = json.loads(stdout)  # one row per benchmark: scored, failed (exit status 1) or skipped
    except json.JSONDecodeError:
        sys.exit(f"brainbench score failed ({child.returncode}): {stderr.strip()[-2000:]}")
    stages: dict[str, float] = {}
    for line in log.read_text().splitlines():
        for name, seconds in json.loads(line)["seconds"].items():
            stages[name] = stages.get(name, 0.0) + seconds
    per_benchmark = {record.benchmark: record.details["seconds"] for record in Leaderboard(board).records()}
    board.unlink(missing_ok=True)  # the next run starts from an empty leaderboard
    return {"wall": wall, "rss_gib": usage.ru_maxrss / 2**20, "stages": stages, "load": load,
            "load_after": os.getloadavg(), "rows": rows, "gpu": gpu.summary(), "per_benchmark": per_benchmark}


def report(title: str, result: dict) -> None:
    wall, stages = result["wall"], result["stages"]
    in_process = sum(stages.values())
    scored = [row["benchmark"] for row in result["rows"] if row["status"] == "scored"]
    print(f"\n{title}: {len(scored)} benchmark(s) scored, {wall:.1f} s wall, peak RSS {result['rss_gib']:.2f} GiB; "
          f"load average {result['load'][0]:.2f} before, {result['load_after'][0]:.2f} after; {result['gpu']}")
    for row in result["rows"]:
        if row["status"] != "scored":
            print(f"  {row['status']}: {row['benchmark']} ({row['reason']})")
    rows = [("start-up, imports, checks before work, CLI (whole − stages)", wall - in_process)]
    rows += [(STAGE_LABELS.get(name, name), stages[name]) for name in STAGES if name in stages]
    rows += [(name, seconds) for name, seconds in stages.items() if name not in STAGES]
    for label, seconds in rows:
        print(f"  {label:<62} {seconds:8.2f} s {100 * seconds / wall:5.1f} %")
    print("  per benchmark (its record's seconds; the first carries data loading and model building): total, then "
          "its largest stages")
    for benchmark, seconds in result["per_benchmark"].items():
        largest = sorted(((v, k) for k, v in seconds.items() if k != "total"), reverse=True)[:3]
        print(f"    {benchmark:<52} {seconds['total']:7.1f} s  " + ", ".join(f"{k} {v:.1f}" for v, k in largest))
    forward = stages.get("forward_passes", 0.0)
    other = wall - forward
    verdict = "meets" if other / wall < TARGET_OTHER_SHARE else "misses"
    print(f"  everything but forward passes: {other:.1f} s = {100 * other / wall:.1f} % of the wall time ({verdict} "
          f"the CPU target < {100 * TARGET_OTHER_SHARE:.0f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="timm:resnet50 --random-init",
                        help="model id and its options, one string (default: %(default)s)")
    parser.add_argument("--benchmark", "-b", action="append", help="benchmark ids or patterns (default: the suite)")
    parser.add_argument("--runs", type=int, default=2, help="1 cold run, then warm ones (default: %(default)s)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    benchmarks = args.benchmark or list(SUITE)
    extra = ["--device", args.device, "--batch-size", str(args.batch_size)]
    print(f"Suite: {args.model} on {', '.join(benchmarks)} (those with data offline), {os.cpu_count()} CPUs, "
          f"device {args.device}, batch {args.batch_size}")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BRAINBENCH_HOME": home}
        env.pop("BRAINBENCH_LEADERBOARD", None)
        for run in range(args.runs):
            warm = run > 0
            result = run_suite(args.model.split(), benchmarks, env, extra + (["--no-cache"] if warm else []))
            report("warm stimulus caches, reductions recomputed (--no-cache)" if warm else
                   "cold (fresh BRAINBENCH_HOME: stimuli decoded, gratings drawn)", result)


if __name__ == "__main__":
    main()
