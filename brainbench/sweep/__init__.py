"""Sweeps: many models × benchmarks as jobs of the same ``score()`` a user calls, run through submitit on worker
processes or a Slurm cluster; the submitting process is the leaderboard's only writer."""

from brainbench.sweep.executors import LocalSettings, SlurmSettings
from brainbench.sweep.plan import Job, Plan, make_plan
from brainbench.sweep.requests import ModelRequest, parse_model, read_sweep_file

__all__ = ["Job", "LocalSettings", "ModelRequest", "Plan", "SlurmSettings", "make_plan", "parse_model",
           "read_sweep_file"]
