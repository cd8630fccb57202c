"""A sweep's job folder: its plan (``plan.json``), what happened to each job (``events.jsonl``, appended as it
happens), and submitit's folder (``jobs/``: each job's pickled call, result and logs).

The folder is all a later ``brainbench sweep --resume DIR`` needs; on a cluster it must be on a file system that
the submitting machine and the nodes share.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from brainbench import paths
from brainbench.errors import BrainbenchError
from brainbench.sweep.job import DataSettings
from brainbench.sweep.plan import Job

PLAN_FILE = "plan.json"
EVENTS_FILE = "events.jsonl"
JOBS_FOLDER = "jobs"
FORMAT = 1


def default_folder() -> Path:
    """``<BRAINBENCH_HOME>/sweeps/<UTC time>``, e.g. ``sweeps/20261206-013000``."""
    return paths.home() / "sweeps" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


@dataclass(frozen=True)
class Collected:
    """A job whose result was collected: its status ('done' or 'failed'), the uids of its records (on the
    leaderboard), each failed benchmark's reason, its seconds and host."""

    status: str
    records: tuple[str, ...]
    failures: dict[str, str]
    seconds: float
    host: str


@dataclass
class History:
    """What ``events.jsonl`` says: per job index, its submitit job ids (latest last) and its collected result."""

    submitted: dict[int, list[str]] = field(default_factory=dict)
    collected: dict[int, Collected] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepFolder:
    """The job folder of one sweep (see the module docstring)."""

    path: Path

    @property
    def jobs(self) -> Path:
        return self.path / JOBS_FOLDER

    def create(self, jobs: tuple[Job, ...], leaderboard: Path, data: DataSettings,
               executor: dict[str, Any]) -> None:
        """Write the plan into a new (or empty) folder; a folder that holds a sweep already is refused."""
        if (self.path / PLAN_FILE).exists():
            raise BrainbenchError(f"{self.path} holds a sweep already; continue it with --resume {self.path}, or "
                                  "pass another --folder.")
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise BrainbenchError(f"The job folder {self.path} exists and is not an empty folder; pass another "
                                  "--folder.")
        self.jobs.mkdir(parents=True, exist_ok=True)
        plan = {"format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "leaderboard": str(leaderboard.resolve()), "data": asdict(data), "executor": executor,
                "jobs": [job.to_dict() for job in jobs]}
        partial = self.path / f".{PLAN_FILE}.partial"
        partial.write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, self.path / PLAN_FILE)

    def read_plan(self) -> tuple[tuple[Job, ...], Path, DataSettings, dict[str, Any]]:
        """The jobs, leaderboard, data settings and executor settings written by :meth:`create`."""
        file = self.path / PLAN_FILE
        if not file.is_file():
            raise BrainbenchError(f"{self.path} is not a sweep's job folder (it has no {PLAN_FILE}); pass the "
                                  "folder a sweep printed when it started.")
        try:
            plan = json.loads(file.read_text(encoding="utf-8"))
            if plan.get("format") != FORMAT:
                raise ValueError(f"format {plan.get('format')!r}")
            data = plan["data"]
            settings = DataSettings(tuple(data["data_mirrors"]), bool(data["allow_download"]),
                                    tuple(data["definitions"]))
            jobs = tuple(Job.from_dict(job) for job in plan["jobs"])
            return jobs, Path(plan["leaderboard"]), settings, dict(plan["executor"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BrainbenchError(f"The sweep plan {file} cannot be read ({exc}); it was not written by this "
                                  "brainbench, or was changed by hand.") from exc

    def record_submitted(self, job: int, job_id: str) -> None:
        self._append({"job": job, "event": "submitted", "id": job_id})

    def record_collected(self, job: int, collected: Collected) -> None:
        self._append({"job": job, "event": "collected", **asdict(collected)})

    def history(self) -> History:
        """Every event so far; a last line cut short (the submitting process killed while writing it) is ignored."""
        found = History()
        file = self.path / EVENTS_FILE
        if not file.exists():
            return found
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            job = int(event["job"])
            if event["event"] == "submitted":
                found.submitted.setdefault(job, []).append(str(event["id"]))
            elif event["event"] == "collected":
                found.collected[job] = Collected(event["status"], tuple(event["records"]), dict(event["failures"]),
                                                 float(event["seconds"]), str(event["host"]))
        return found

    def _append(self, event: dict[str, Any]) -> None:
        """One line, written whole and flushed to disk before the caller goes on; a line cut short by a killed
        writer is ended first, so that it spoils no other."""
        file = self.path / EVENTS_FILE
        cut_short = file.exists() and file.stat().st_size > 0 and file.read_bytes()[-1:] != b"\n"
        with open(file, "a", encoding="utf-8") as handle:
            handle.write(("\n" if cut_short else "") + json.dumps(event) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
