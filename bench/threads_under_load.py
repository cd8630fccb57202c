"""torch's intra-op threads under load: torch's default vs brainbench's choice vs 1 thread, idle and beside busy CPUs.

Two fixed workloads on a random-init resnet18 (torchvision, seed 0): a forward pass of 16 images at 224 px
(no grad), and a `visualize`-like gradient loop (8 steps of gradient ascent on one 128 px image). Each cell runs in a
fresh process; the table shows the workload's own time and the whole process's, median of ``--runs``. "Loaded" runs
start one busy-loop process per available CPU first (killed afterwards). Run with `make bench`; a measurement only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SETTINGS = ("torch default", "brainbench", "1 thread")
WORKLOADS = ("forward 16×224", "gradient 8×128")


def worker(workload: str, setting: str) -> None:
    """Run one workload in this process and print {threads, seconds} as JSON."""
    import torch
    import torchvision

    from brainbench import threads

    if setting == "brainbench":
        threads.configure(None)
    elif setting == "1 thread":
        torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    start = time.perf_counter()
    if workload.startswith("forward"):
        with torch.no_grad():
            model(torch.randn(16, 3, 224, 224))
    else:
        image = torch.randn(1, 3, 128, 128, requires_grad=True)
        for _ in range(8):
            model(image)[0, 1].backward()
            with torch.no_grad():
                image += 0.01 * image.grad
            image.grad = None
    print(json.dumps({"threads": torch.get_num_threads(), "seconds": time.perf_counter() - start}))


def cell(workload: str, setting: str, runs: int) -> tuple[int, float, float]:
    """(threads, median workload seconds, median whole-process seconds) over ``runs`` fresh processes."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "BRAINBENCH_THREADS")}
    inner, whole, count = [], [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--worker", workload, setting], env=env,
                              capture_output=True, text=True, check=True)
        whole.append(time.perf_counter() - start)
        result = json.loads(done.stdout.splitlines()[-1])
        inner.append(result["seconds"])
        count = result["threads"]
    return count, statistics.median(inner), statistics.median(whole)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per cell (median reported)")
    parser.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "SETTING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    from brainbench.threads import available_cpus, measured_busy_cpus

    cpus = available_cpus()
    measured = measured_busy_cpus()
    busy = f"{measured[0]:.2f} CPUs busy now" if measured else f"load average {os.getloadavg()[0]:.2f}"
    print(f"{os.cpu_count()} CPUs, {cpus} available to this process; before: {busy}; "
          f"loaded = {cpus} busy-loop processes beside the workload")
    print(f"  {'workload':<16} {'load':<10} {'setting':<14} {'threads':>7} {'work s':>8} {'× 1 thread':>10} "
          f"{'process s':>9}")
    for load in ("idle", "loaded"):
        hogs = ([subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cpus)]
                if load == "loaded" else [])
        try:
            for workload in WORKLOADS:
                rows = {setting: cell(workload, setting, args.runs) for setting in SETTINGS}
                single = rows["1 thread"][1]
                for setting, (count, work, whole) in rows.items():
                    print(f"  {workload:<16} {load:<10} {setting:<14} {count:7d} {work:8.2f} "
                          f"{work / single:10.2f} {whole:9.2f}")
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()


if __name__ == "__main__":
    main()
