"""An interrupted score keeps the records saved before it, and says so (they are saved one by one)."""

from __future__ import annotations

from pathlib import Path

import pytest

import brainbench
from brainbench.benchmarks.kinds import KINDS
from brainbench.leaderboard import Leaderboard

pytestmark = pytest.mark.mirror
PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "my_plugin.py"


@pytest.fixture
def tinycnn(monkeypatch: pytest.MonkeyPatch) -> str:
    import importlib.util

    monkeypatch.setattr("brainbench.models.plugins._DECORATED", {})

    def build() -> dict:
        spec = importlib.util.spec_from_file_location("my_plugin", PLUGIN)
        plugin = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(plugin)
        return plugin.build_tinycnn()

    brainbench.register_model("tinycnn")(build)
    return "tinycnn"


def test_interrupt_after_a_saved_record_keeps_it_and_does_not_claim_nothing_was_written(
    cli, tinycnn: str, mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = tmp_path / "board.sqlite"
    run_rsa = KINDS["rsa"]

    def interrupted_at_kriegeskorte(spec, *args, **kwargs):
        if spec.id == "Kriegeskorte2008.IT-rsa":
            raise KeyboardInterrupt
        return run_rsa(spec, *args, **kwargs)

    monkeypatch.setitem(KINDS, "rsa", interrupted_at_kriegeskorte)
    result = cli("score", tinycnn, "-b", "Kiani2007.IT-rsa", "-b", "Kriegeskorte2008.IT-rsa", "--layers", "3,5",
                 "--device", "cpu", "--data-mirror", mirror, "--leaderboard", board, "--json")
    assert result.exit_code == 130
    assert [r.benchmark for r in Leaderboard(board).records()] == ["Kiani2007.IT-rsa"]
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: interrupted; ") and "kept" in line and "nothing was written" not in line
