"""The fold-level paired test: two records' per-fold ceiled scores, differenced fold by fold.

Used where per-unit results are missing (records written before they were stored) or do not line up. Folds whose
training sets overlap (cross-validation splits, halvings of the same stimuli) make a plain paired t-test
anti-conservative, so the variance of the mean fold difference is corrected as Nadeau & Bengio (2003) propose
for resampled train/test splits: s² · (1/J + n_test/n_train) over J folds, with a t distribution of J − 1 degrees of
freedom; for repeated halvings (both directions of each) this is Bouckaert & Frank's (2004) corrected repeated
cross-validation test with n_test/n_train = 1. Observers are independent units: a plain paired t-test over them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from brainbench.comparison.estimate import Estimate
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.record import ScoreRecord

LEVEL = 1 - 0.05  # the interval's coverage
DEFAULT_TRAIN_SIZE = 0.9  # neural benchmarks' train fraction when their definition names none (metrics.splits)


@dataclass(frozen=True)
class Folds:
    """A record's per-fold ceiled scores and the design they come from.

    values: (J,) ceiled score per fold, in the benchmark's fold order; keys: what each fold is (its index, or an
    observer's name), equal for two records only when their folds are the same; design: what the folds are, in words;
    overlap: n_test/n_train of a fold (0 for independent units such as observers).
    """

    values: tuple[float, ...]
    keys: tuple[str, ...]
    design: str
    overlap: float
    alignment: tuple[tuple[str, Any], ...]  # what must be equal for two records' folds to be the same folds


def folds_of(record: ScoreRecord) -> Folds | None:
    """The per-fold ceiled scores ``record`` carries in its details, or None when it carries none."""
    d = record.details
    same = (("benchmark", record.benchmark), ("benchmark version", record.benchmark_version))
    if isinstance(d.get("fold_ceiled"), list) and len(d["fold_ceiled"]) >= 2:  # RSA, V1 properties
        n = len(d["fold_ceiled"]) // 2
        return Folds(_floats(d["fold_ceiled"]), _indices(len(d["fold_ceiled"])),
                     f"{n} halvings × 2 directions (layer chosen on one half, scored on the other)", 1.0,
                     (*same, ("split seed", d.get("split_seed")), ("number of stimuli", d.get("n_stimuli"))))
    if isinstance(d.get("split_ceiled"), list) and "split_medians" in d:  # neural predictivity
        train = _train_size(record)
        return Folds(_floats(d["split_ceiled"]), _indices(len(d["split_ceiled"])),
                     f"{len(d['split_ceiled'])} cross-validation splits (train {train:.0%} of the stimuli)",
                     (1 - train) / train,
                     (*same, ("number of stimuli", d.get("n_stimuli")), ("number of neuroids", d.get("n_neuroids"))))
    if isinstance(d.get("split_ceiled"), list):  # i2n: halvings of the human trials
        return Folds(_floats(d["split_ceiled"]), _indices(len(d["split_ceiled"])),
                     f"{len(d['split_ceiled'])} random halvings of the human trials", 1.0,
                     (*same, ("number of images", d.get("n_images"))))
    if isinstance(d.get("kappa_per_observer"), dict) and record.ceiling:  # error consistency: κ / ceiling each
        kappas = d["kappa_per_observer"]
        return Folds(tuple(float(kappas[o]) / record.ceiling for o in sorted(kappas)), tuple(sorted(kappas)),
                     f"{len(kappas)} observers (each one's κ with the model over the human ceiling)", 0.0,
                     (*same, ("number of images", d.get("n_images"))))
    biases = d.get("human_shape_bias_per_observer")
    if isinstance(biases, dict) and isinstance(d.get("model_shape_bias"), int | float):  # shape bias
        model = float(d["model_shape_bias"])
        return Folds(tuple(1 - abs(model - float(biases[o])) for o in sorted(biases)), tuple(sorted(biases)),
                     f"{len(biases)} observers (1 − |model − that observer's shape bias|)", 0.0,
                     (*same, ("number of images", d.get("n_images"))))
    return None


def fold_test(first: ScoreRecord, other: ScoreRecord) -> Estimate:
    """``other − first`` at fold level: the difference of the ceiled scores, with an interval and a two-sided p
    from the corrected variance of the per-fold differences (module docstring).

    BrainbenchError (one sentence: why) when either record has no per-fold scores or their folds are not the same
    folds (another benchmark version, split seed, fold count or set of observers).
    """
    from scipy import stats

    a, b = folds_of(first), folds_of(other)
    if a is None or b is None:
        which = " and ".join(f"'{r.model_label}'" for r, f in ((first, a), (other, b)) if f is None)
        raise BrainbenchError(f"No per-fold scores are recorded for {which} on {first.benchmark}, so no test "
                              "could be made.")
    for (what, x), (_, y) in zip(a.alignment, b.alignment, strict=True):
        if x != y:
            raise BrainbenchError(f"The two records of {first.benchmark} differ in {what} ({x} vs {y}), so their "
                                  "folds are not the same and no paired test could be made.")
    if a.keys != b.keys or a.design != b.design:
        raise BrainbenchError(f"The two records of {first.benchmark} have different folds ({a.design} vs "
                              f"{b.design}), so no paired test could be made.")
    differences = [y - x for x, y in zip(a.values, b.values, strict=True) if math.isfinite(x) and math.isfinite(y)]
    n = len(differences)
    if n < 2:
        raise BrainbenchError(f"The records of {first.benchmark} share {n} fold(s) with a finite score, fewer than "
                              "the 2 a paired test needs.")
    mean = sum(differences) / n
    variance = sum((d - mean) ** 2 for d in differences) / (n - 1)
    se = math.sqrt(variance * (1 / n + a.overlap))
    difference = other.ceiled - first.ceiled
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * se
    # se = 0: every fold differs by the same amount.
    p = float(2 * stats.t.sf(abs(difference) / se, n - 1)) if se > 0 else 1.0 if difference == 0 else 0.0
    correction = ("a paired t-test over independent observers" if a.overlap == 0 else
                  f"a paired t-test with the variance corrected for overlapping training sets (× (1/{n} + "
                  f"{a.overlap:.3g}); Nadeau & Bengio 2003{', Bouckaert & Frank 2004' if a.overlap == 1 else ''})")
    return Estimate(
        difference=difference, ci_low=difference - half, ci_high=difference + half, p_value=min(p, 1.0),
        method=f"only fold-level error was available: {correction} over {a.design}, {n - 1} degrees of freedom; "
               "the interval is centred on the difference of the ceiled scores",
        level="folds",
    )


def _train_size(record: ScoreRecord) -> float:
    """The train fraction of a neural benchmark's splits, from its definition when it is of the record's version."""
    try:
        from brainbench.benchmarks.spec import list_benchmarks

        spec = list_benchmarks().get(record.benchmark)
    except BrainbenchError:
        spec = None
    if spec is not None and spec.version == record.benchmark_version:
        return float(spec.metric.get("train_size", DEFAULT_TRAIN_SIZE))
    return DEFAULT_TRAIN_SIZE


def _floats(values: list[Any]) -> tuple[float, ...]:
    return tuple(float("nan") if v is None else float(v) for v in values)


def _indices(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(n))
