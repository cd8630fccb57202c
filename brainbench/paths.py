"""Where brainbench keeps its cache and leaderboard on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from brainbench.errors import DataError


def home() -> Path:
    """brainbench's user directory: ``$BRAINBENCH_HOME`` or the platform's user data directory."""
    override = os.environ.get("BRAINBENCH_HOME")
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir("brainbench"))


def data_cache() -> Path:
    """Verified dataset files, one folder per dataset."""
    return home() / "data"


def default_leaderboard() -> Path:
    """The leaderboard file: ``$BRAINBENCH_LEADERBOARD`` or ``<home>/leaderboard.sqlite``."""
    override = os.environ.get("BRAINBENCH_LEADERBOARD")
    return Path(override).expanduser() if override else home() / "leaderboard.sqlite"


def mirror_dirs(extra: list[str | Path] | tuple[str | Path, ...] = ()) -> list[Path]:
    """Mirror folders to look in: those given (``--data-mirror``) first, then ``$BRAINBENCH_DATA_MIRROR``.

    A given folder that does not exist is an error (a typo should not quietly mean "download"); the variable's
    entries that do not exist on this machine are skipped, as one variable may serve several machines.
    """
    found = [Path(p).expanduser() for p in extra]
    for folder in found:
        if not folder.is_dir():
            raise DataError(f"The data mirror {folder} is not a folder on this machine; check the path given "
                            "to --data-mirror.")
    env = os.environ.get("BRAINBENCH_DATA_MIRROR", "")
    found += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return found


def stimulus_cache() -> Path:
    """Generated stimuli as a model sees them (e.g. the Marques2020 gratings), one file per geometry."""
    return home() / "stimuli"
