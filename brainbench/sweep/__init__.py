"""Sweeps: many models × benchmarks as jobs of the same ``score()`` a user calls, run through submitit on worker
processes or a Slurm cluster; the submitting process is the leaderboard's only writer.

``brainbench.sweep.sweep(["efficientnet_lite0", "timm:resnet18 --random-init"], ["Kiani2007.*"])`` does what
``brainbench sweep`` does; :func:`resume` continues a stopped one from its job folder.
"""

from brainbench.sweep.api import resume, sweep
from brainbench.sweep.executors import LocalSettings, SlurmSettings
from brainbench.sweep.job import DataSettings
from brainbench.sweep.plan import Job, Plan, make_plan
from brainbench.sweep.requests import ModelRequest, parse_model, read_sweep_file
from brainbench.sweep.run import JobStatus

__all__ = ["DataSettings", "Job", "JobStatus", "LocalSettings", "ModelRequest", "Plan", "SlurmSettings", "make_plan",
           "parse_model", "read_sweep_file", "resume", "sweep"]
