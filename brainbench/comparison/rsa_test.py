"""Paired bootstrap test of two models' RSA scores: stimuli (and subjects) resampled alike for both models.

Each resample draws the stimuli with replacement (Efron & Tibshirani 1993; for RSA Nili et al. 2014, Schütt et al.
2023) and, where the data hold RDMs of several subjects, the subjects too (the two-factor bootstrap of Schütt et al.
2023). Every fold keeps its layer and scores the resampled stimuli that lie in its scoring half. A stimulus drawn k
times enters the RDM k times; the dissimilarities between a stimulus and its own copies are left out (they are not
measured pairs; rsatoolbox sets them to NaN), so the resampled RDM vector holds pair (i, j) k_i·k_j times — which is
what the weighted correlations below compute without building it. With several subjects the interval is Schütt et
al.'s: a normal one from the two-factor bootstrap's variance corrected for counting the residual twice (one subject:
the stimulus bootstrap's percentile interval). Both are conservative in simulation (the stimulus bootstrap gives a
pair of stimuli k_i·k_j copies, which overcounts pair-level noise). The noise ceiling is held at the record's: it is
the same for both models, so it scales their difference and never changes its sign (the p-value is the same either
way), and the Nili lower bound is not defined on resamples that repeat a subject.

Schütt, Kipnis, Diedrichsen & Kriegeskorte (2023), "Statistical inference on representational geometries", eLife
12:e82566. Nili et al. (2014), PLoS Comput Biol 10(4): e1003553. Efron & Tibshirani (1993), An Introduction to
the Bootstrap, Chapman & Hall.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brainbench.comparison.estimate import Estimate, UnitsMismatch
from brainbench.comparison.resampling import LEVEL, resample_counts, two_factor_estimate
from brainbench.leaderboard.record import ScoreRecord

_CHUNK = 128  # resamples computed at once (bounds the (resamples, subjects, pairs) temporaries)


def percentile_estimate(observed: float, replicates: np.ndarray, method: str, level: float = LEVEL) -> Estimate:
    """An Estimate from a difference and its one-factor paired bootstrap replicates (B,): the percentile interval and
    p = 2·min(#(d ≤ 0) + 1, #(d ≥ 0) + 1) / (B + 1), capped at 1 — the smallest α at which the percentile interval
    excludes 0 (Efron & Tibshirani 1993, ch. 13 and 15–16). Non-finite replicates are left out and counted."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size < 2:
        raise UnitsMismatch("fewer than 2 bootstrap resamples gave both models a defined score.")
    low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    p = min(1.0, 2 * (min(int((finite <= 0).sum()), int((finite >= 0).sum())) + 1) / (finite.size + 1))
    dropped = replicates.size - finite.size
    note = f" ({dropped} without a finite score left out)" if dropped else ""
    return Estimate(difference=float(observed), ci_low=float(low), ci_high=float(high), p_value=p,
                    method=f"{method}, {replicates.size} resamples{note}, percentile {level:.0%} interval",
                    level="units", n_resamples=int(replicates.size))


def weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average ranks of `values` (m,) in the vector that repeats value p weights[b, p] times: (B, m) float64.

    Ties (equal values) share the mean of the positions they fill, as scipy.stats.rankdata 'average'; a value of
    weight 0 gets the rank it would have, which the weighted correlations ignore.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1
    filled = np.cumsum(weights[:, order], axis=1)
    before = np.concatenate([np.zeros((weights.shape[0], 1)), filled], axis=1)[:, starts]
    ends = np.r_[starts[1:], len(values)] - 1
    tied = filled[:, ends] - before
    ranks = np.empty_like(filled)
    ranks[:, order] = (before + (tied + 1) / 2)[:, group]
    return ranks


def weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r of the vectors that repeat element p weights[..., p] times; x, y, weights broadcast (..., m)."""
    total = weights.sum(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where a resample leaves fewer than 2 pairs
        xc = x - (weights * x).sum(-1, keepdims=True) / total
        yc = y - (weights * y).sum(-1, keepdims=True) / total
        wx = weights * xc
        return (wx * yc).sum(-1) / np.sqrt((wx * xc).sum(-1) * (weights * yc * yc).sum(-1))


def weighted_kendall_tau_a(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kendall τa of the vectors that repeat element p weights[b, p] times: x (m,), y (s, m), weights (B, m) → (B, s).

    Copies of one element are tied pairs (counted in the denominator, not the numerator), so τa = wᵀSw / (N(N−1))
    with S the sign-product matrix of the distinct elements and N = Σw.
    """
    sign_x = np.sign(x[:, None] - x[None, :])
    total = weights.sum(-1)
    out = np.empty((weights.shape[0], y.shape[0]))
    for s, subject in enumerate(y):
        concordance = sign_x * np.sign(subject[:, None] - subject[None, :])
        out[:, s] = ((weights @ concordance) * weights).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / (total * (total - 1))[:, None]


def _pair_index(members: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows i, columns j (i < j, both in `members`) and their positions in a condensed (squareform) RDM of n items."""
    i, j = np.triu_indices(len(members), 1)
    i, j = members[i], members[j]
    return i, j, n * i - i * (i + 1) // 2 + (j - i - 1)


def fold_similarities(units: Sequence[dict[str, np.ndarray]], comparison: str,
                      stimulus_counts: np.ndarray) -> np.ndarray:
    """Per model, resample, fold and subject, the comparison of the fold's model RDM with the subject's on the
    resampled stimuli of the fold's scoring half: (n_models, B, n_folds, n_subjects).

    units: per model its record's units, all on the same stimuli, folds and data RDMs (the first's are used);
    stimulus_counts: (B, n) how often each stimulus was drawn (all ones: the records themselves). The data's ranks
    are computed once per resample for all models.
    """
    n = units[0]["fold_scored"].shape[1]
    data = units[0]["data_rdms"].astype(np.float64)
    out = np.empty((len(units), stimulus_counts.shape[0], len(units[0]["fold_layer"]), data.shape[0]))
    for fold, scored in enumerate(units[0]["fold_scored"]):
        i, j, pairs = _pair_index(np.flatnonzero(scored), n)
        models = [u["model_rdms"][u["fold_layer"][fold], pairs].astype(np.float64) for u in units]
        subjects = data[:, pairs]
        for start in range(0, stimulus_counts.shape[0], _CHUNK):
            counts = stimulus_counts[start:start + _CHUNK].astype(np.float64)
            weights = counts[:, i] * counts[:, j]
            chunk = slice(start, start + _CHUNK)
            if comparison == "spearman":
                data_ranks = np.stack([weighted_ranks(s, weights) for s in subjects], axis=1)
                for m, model in enumerate(models):
                    out[m, chunk, fold] = weighted_pearson(weighted_ranks(model, weights)[:, None, :], data_ranks,
                                                           weights[:, None, :])
            elif comparison == "pearson":
                for m, model in enumerate(models):
                    out[m, chunk, fold] = weighted_pearson(model[None, None, :], subjects[None], weights[:, None, :])
            else:
                for m, model in enumerate(models):
                    out[m, chunk, fold] = weighted_kendall_tau_a(model, subjects, weights)
    return out


def ceiled_scores(records: Sequence[ScoreRecord], stimulus_counts: np.ndarray,
                  subject_counts: np.ndarray) -> np.ndarray:
    """Each record's ceiled score on each resample: (n_records, B). The records share stimuli, folds, data RDMs and
    options (`_check_aligned`)."""
    values = fold_similarities([r.units for r in records], records[0].details.get("comparison", "spearman"),
                               stimulus_counts)
    return _ceiled(values, subject_counts, records[0])


def _ceiled(values: np.ndarray, subject_counts: np.ndarray, record: ScoreRecord) -> np.ndarray:
    """(n_models, B, n_folds, n_subjects) comparisons → (n_models, B) ceiled scores. Fold score = subject-weighted
    mean of the (squared, if the benchmark squares) comparison; raw = mean over folds; ceiled = raw / the record's
    ceiling (None: raw)."""
    if record.details.get("squared"):
        values = values**2
    weights = np.broadcast_to(subject_counts, (values.shape[1], values.shape[3]))[None, :, None, :].astype(np.float64)
    raw = ((values * weights).sum(-1) / weights.sum(-1)).mean(-1)
    return raw if record.ceiling is None else raw / record.ceiling


def _check_aligned(first: ScoreRecord, other: ScoreRecord) -> None:
    """UnitsMismatch (one sentence) unless both records were scored on the same stimuli, folds and data RDMs."""
    a, b = first.units, other.units
    for key in ("model_rdms", "fold_layer", "fold_scored", "data_rdms", "stimulus_ids"):
        if key not in a or key not in b:
            raise UnitsMismatch(f"the RSA per-unit results lack '{key}' in one of the records.")
    same = (a["stimulus_ids"].shape == b["stimulus_ids"].shape and (a["stimulus_ids"] == b["stimulus_ids"]).all()
            and a["fold_scored"].shape == b["fold_scored"].shape and (a["fold_scored"] == b["fold_scored"]).all())
    if not same:
        raise UnitsMismatch("the two records' RSA scores were computed on different stimuli or different halvings.")
    if a["data_rdms"].shape != b["data_rdms"].shape or not np.array_equal(a["data_rdms"], b["data_rdms"]):
        raise UnitsMismatch("the two records' RSA scores were computed against different data RDMs.")
    for key in ("comparison", "squared"):
        if first.details.get(key) != other.details.get(key):
            raise UnitsMismatch(f"the two records' RSA scores differ in their '{key}' option.")
    if first.ceiling != other.ceiling:
        raise UnitsMismatch("the two records' RSA scores have different ceilings.")


def rsa_paired_test(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> Estimate:
    """`other − first` ceiled RSA score, paired bootstrap over stimuli (and subjects when there are ≥ 2).

    One subject: percentile interval of the stimulus bootstrap. Several: the two-factor bootstrap counts the
    stimulus × subject residual more than once, so the variance is Schütt et al. (2023)'s corrected
    2·V(stimuli) + 2·V(subjects) − V(both), each V from the same resamples, with a normal interval and p-value.
    """
    _check_aligned(first, other)
    n_stimuli = first.units["fold_scored"].shape[1]
    n_subjects = first.units["data_rdms"].shape[0]
    rng = np.random.default_rng(seed)
    stimulus_counts = resample_counts(rng, n_stimuli, n_resamples)
    comparison = first.details.get("comparison", "spearman")
    resampled = fold_similarities([first.units, other.units], comparison, stimulus_counts)
    observed = other.ceiled - first.ceiled
    common = ("the same resamples for both models, each fold's layer kept and the pairs of a stimulus with its own "
              "copies left out (Schütt et al. 2023), the ceiling held at the record's")
    if n_subjects == 1:
        replicates = np.diff(_ceiled(resampled, np.ones((1, 1)), first), axis=0)[0]
        return percentile_estimate(observed, replicates, f"paired bootstrap over {n_stimuli} stimuli, {common}")
    subject_counts = resample_counts(rng, n_subjects, n_resamples)
    unresampled = fold_similarities([first.units, other.units], comparison, np.ones((1, n_stimuli), dtype=np.int64))

    def differences(values: np.ndarray, subjects: np.ndarray) -> np.ndarray:
        return np.diff(_ceiled(values, subjects, first), axis=0)[0]

    try:
        return two_factor_estimate(
            observed, differences(resampled, subject_counts), differences(resampled, np.ones((1, n_subjects))),
            differences(np.broadcast_to(unresampled, resampled.shape), subject_counts),
            f"paired two-factor bootstrap over {n_stimuli} stimuli and {n_subjects} subjects, {common}; variance "
            "2·V(stimuli) + 2·V(subjects) − V(both) (Schütt et al. 2023)")
    except ValueError as exc:
        raise UnitsMismatch(f"{exc}.") from None
