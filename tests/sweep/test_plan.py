"""The sweep's plan on a leaderboard of hand-made records: jobs per model × dataset, and the skip rule (same model
key, seed and current benchmark version), with the model's key given by a stand-in that counts its builds."""

from __future__ import annotations

import pytest

from brainbench.benchmarks.spec import resolve_benchmarks
from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard, ScoreRecord
from brainbench.leaderboard.identity import ModelEntry
from brainbench.sweep.plan import make_plan
from brainbench.sweep.requests import parse_model

KIANI, KRIEGESKORTE, MAJAJ = "Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa", "MajajHong2015.IT-pls"


def _record(benchmark: str, version: int | None = None, digest: str = "a" * 64, seed: int = 0) -> ScoreRecord:
    spec = resolve_benchmarks([benchmark])[0]
    return ScoreRecord(
        model="timm:resnet18", weights_digest=digest, random_init=True, benchmark=benchmark,
        benchmark_version=spec.version if version is None else version, region="IT", raw=0.2, ceiling=None,
        ceiled=0.2, error=None, layer="layer4", brainbench_version="0", seed=seed, device="cpu",
        started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:01+00:00",
        details={"model": {"visual_degrees": 8.0, "candidate_layers": ["layer3", "layer4"], "layers_given": False,
                           "preprocessing": {"input_size": 224, "mean": [0.5] * 3, "std": [0.25] * 3}}},
    )


class Builds:
    """A stand-in for building the model: returns the key of ``record`` (or raises), counting the calls."""

    def __init__(self, record: ScoreRecord | None = None, digest: str | None = None, fails: bool = False) -> None:
        self.record, self.digest, self.fails, self.calls = record, digest, fails, 0

    def __call__(self, request) -> ModelEntry:
        self.calls += 1
        if self.fails:
            raise BrainbenchError("The weights in w.pth do not fit timm:resnet18.")
        entry = ModelEntry.of(self.record)
        return entry if self.digest is None else ModelEntry(**{**entry.__dict__, "weights_digest": self.digest})


REQUEST = parse_model("timm:resnet18 --random-init")


def test_one_job_per_model_and_dataset_and_nothing_built_on_an_empty_leaderboard(tmp_path):
    builds = Builds()
    plan = make_plan([REQUEST, parse_model("timm:vgg11")], [KIANI, KRIEGESKORTE, MAJAJ],
                     Leaderboard(tmp_path / "board.sqlite"), key_of=builds)
    assert [(j.index, j.model.model, j.benchmarks) for j in plan.jobs] == [
        (0, "timm:resnet18", (KIANI, KRIEGESKORTE)), (1, "timm:resnet18", (MAJAJ,)),
        (2, "timm:vgg11", (KIANI, KRIEGESKORTE)), (3, "timm:vgg11", (MAJAJ,))]
    assert plan.skipped == () and builds.calls == 0


def test_a_score_of_the_same_key_seed_and_version_is_skipped_and_only_that(tmp_path):
    board = Leaderboard(tmp_path / "board.sqlite")
    stored = _record(KIANI)
    ids = board.append([stored, _record(KRIEGESKORTE, version=1), _record(MAJAJ, seed=1)])
    builds = Builds(stored)
    plan = make_plan([REQUEST], [KIANI, KRIEGESKORTE, MAJAJ], board, key_of=builds)
    # Kriegeskorte2008's record is of an older version, MajajHong2015's of another seed: both still to do.
    assert [j.benchmarks for j in plan.jobs] == [(KRIEGESKORTE,), (MAJAJ,)]
    assert [(s.benchmark, s.record) for s in plan.skipped] == [(KIANI, ids[0])]
    assert builds.calls == 1  # built once, for the one benchmark with a record to compare with

    # Other weights (another digest) are another model; --force (no leaderboard) skips nothing and builds nothing.
    assert [j.benchmarks for j in make_plan([REQUEST], [KIANI], board, key_of=Builds(stored, "b" * 64)).jobs] == [
        (KIANI,)]
    forced = Builds(stored)
    assert [j.benchmarks for j in make_plan([REQUEST], [KIANI], None, key_of=forced).jobs] == [(KIANI,)]
    assert forced.calls == 0


def test_a_model_that_cannot_be_built_here_is_planned_for_its_job_to_report(tmp_path):
    board = Leaderboard(tmp_path / "board.sqlite")
    board.append([_record(KIANI)])
    plan = make_plan([REQUEST], [KIANI], board, key_of=Builds(fails=True))
    assert [j.benchmarks for j in plan.jobs] == [(KIANI,)] and plan.skipped == ()


@pytest.mark.parametrize(("models", "patterns", "says"), [
    ([], [KIANI], "at least one model"), ([REQUEST], [], "needs benchmarks"), ([REQUEST], ["Nope.*"], "Unknown"),
])
def test_refusals(tmp_path, models, patterns, says):
    with pytest.raises(BrainbenchError, match=says):
        make_plan(models, patterns, Leaderboard(tmp_path / "board.sqlite"), key_of=Builds())
