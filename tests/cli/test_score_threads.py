"""``brainbench score`` records the torch thread count it ran with (the figure a timing depends on)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from brainbench.leaderboard import Leaderboard

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"


@pytest.mark.mirror
def test_score_records_torch_threads(cli, home: Path, mirror: Path, tmp_path: Path) -> None:
    before = torch.get_num_threads()
    chosen = 2 if before == 1 else 1  # a count that differs from torch's own, so only --threads can explain it
    assert cli("models", "register", "tinycnn", "--from", f"{EXAMPLE}:build_tinycnn").exit_code == 0
    board = tmp_path / "board.sqlite"
    try:
        done = cli("score", "tinycnn", "-b", "Kiani2007.IT-rsa", "--layers", "3", "--visual-degrees", "10",
                   "--device", "cpu", "--threads", str(chosen), "--data-mirror", mirror, "--leaderboard", board)
    finally:
        torch.set_num_threads(before)
    assert done.exit_code == 0, done.output
    (stored,) = Leaderboard(board).records()
    assert stored.details["torch_threads"] == chosen
