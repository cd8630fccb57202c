"""Cross-validation splits over stimuli."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def stratified_halves(strata: Sequence[object], n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` random halvings of ``len(strata)`` items, each stratum split as evenly as possible.

    Returns ``[(half_a, half_b), …]`` of sorted index arrays that partition ``range(len(strata))``.
    Odd-sized strata give their extra item alternately to a and b, so the halves differ by at most
    one item. Deterministic for a seed (numpy's PCG64).
    """
    if n_splits < 1:
        raise ValueError("n_splits must be at least 1")
    labels = np.asarray([str(s) for s in strata])
    groups = [np.flatnonzero(labels == value) for value in np.unique(labels)]
    if any(len(g) < 2 for g in groups):
        raise ValueError("every stratum needs at least 2 items to be split in halves")
    rng = np.random.default_rng(seed)
    splits = []
    for _ in range(n_splits):
        half_a, extra_to_a = [], True
        for group in groups:
            take = len(group) // 2 + (len(group) % 2 if extra_to_a else 0)
            extra_to_a ^= bool(len(group) % 2)
            half_a.append(rng.permutation(group)[:take])
        a = np.sort(np.concatenate(half_a))
        splits.append((a, np.setdiff1d(np.arange(len(labels)), a)))
    return splits


def brainscore_splits(
    n_stimuli: int,
    n_splits: int = 10,
    train_size: float = 0.9,
    stratify: Sequence[object] | None = None,
    random_state: int = 1,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Brain-Score's cross-validation splits: ``[(train_idx, test_idx), …]`` over ``range(n_stimuli)``.

    Drawn exactly as Brain-Score 2.4.2 draws them (``metric_helpers/transformations.py``, ``Split``):
    scikit-learn's ``StratifiedShuffleSplit(n_splits, train_size=train_size, test_size=None,
    random_state=random_state)`` over the strata labels when ``stratify`` is given (e.g. each stimulus's
    ``object_name``), ``ShuffleSplit`` with the same arguments otherwise -- the same draws from the same
    ``np.random.RandomState``, computed here without importing scikit-learn (over a second of start-up;
    `tests/metrics/test_splits_brainscore.py` checks them equal to scikit-learn's). Index ``i`` is the i-th
    stimulus in the caller's order, which must be the order of the presentations of Brain-Score's (repetition-
    averaged) target assembly for the splits to coincide. Arrays are int64 indices, in scikit-learn's
    (shuffled) order; train holds ``floor(train_size·n)`` stimuli and test the rest.

    ``stratify`` labels are compared as given (their own dtype and sort order, as scikit-learn does).
    Raises ValueError when the stimuli cannot be split: a stratum with a single stimulus, more strata
    than the train or test set can hold, or a train/test set that would be empty.
    """
    if n_splits < 1:
        raise ValueError("n_splits must be at least 1")
    if not 0 < train_size < 1:
        raise ValueError(f"train_size must lie strictly between 0 and 1, got {train_size}")
    n_train = int(np.floor(train_size * n_stimuli))  # as scikit-learn sizes the sets
    n_test = n_stimuli - n_train
    if n_train == 0 or n_test == 0:
        raise ValueError(f"cannot split {n_stimuli} stimuli with train_size={train_size}: the "
                         f"{'train' if n_train == 0 else 'test'} set would be empty")
    rng = np.random.RandomState(random_state)
    if stratify is None:
        splits = []
        for _ in range(n_splits):
            permutation = rng.permutation(n_stimuli)
            splits.append((permutation[n_test:], permutation[:n_test]))
        return [(train.astype(np.int64), test.astype(np.int64)) for train, test in splits]
    labels = np.asarray(stratify)
    if labels.shape != (n_stimuli,):
        raise ValueError(f"stratify has {labels.size} labels for {n_stimuli} stimuli")
    values, label_index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"stratum {values[counts.argmin()].item()!r} has a single stimulus; every stratum needs at least 2 "
            "to be split between train and test"
        )
    if min(n_train, n_test) < len(values):
        raise ValueError(
            f"{len(values)} strata do not fit in a train set of {n_train} and a test set of "
            f"{n_test} stimuli; use fewer strata or another train_size"
        )
    members = np.split(np.argsort(label_index.ravel(), kind="stable"), np.cumsum(counts)[:-1])
    splits = []
    for _ in range(n_splits):
        in_train = _approximate_mode(counts, n_train, rng)
        in_test = _approximate_mode(counts - in_train, n_test, rng)
        train, test = [], []
        for stratum, (n_a, n_b) in enumerate(zip(in_train, in_test, strict=True)):
            shuffled = members[stratum][rng.permutation(counts[stratum])]
            train.append(shuffled[:n_a])
            test.append(shuffled[n_a:n_a + n_b])
        splits.append((rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))))
    return [(train.astype(np.int64), test.astype(np.int64)) for train, test in splits]


def _approximate_mode(counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Items per stratum when ``n_draws`` of them are drawn (the mode of the multivariate hypergeometric,
    approximately): proportional shares floored, the shortfall given to the largest remainders, ties broken by
    ``rng`` -- scikit-learn's rule and draws (``utils.extmath._approximate_mode``), so the splits coincide."""
    share = counts / counts.sum() * n_draws
    taken = np.floor(share)
    missing = int(n_draws - taken.sum())
    remainder = share - taken
    for value in np.unique(remainder)[::-1]:
        if missing <= 0:
            break
        (tied,) = np.where(remainder == value)
        chosen = rng.choice(tied, size=min(len(tied), missing), replace=False)
        taken[chosen] += 1
        missing -= len(chosen)
    return taken.astype(int)


def repetition_halves(
    repetitions: Sequence[object], n_splits: int = 10, random_state: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Brain-Score's split-half draws of repetition values: ``[(half_1_values, half_2_values), …]``.

    As Brain-Score 2.4.2's internal-consistency ceiling (``metrics/internal_consistency/ceiling.py``:
    ``CrossValidationSingle(train_size=0.5, stratification_coord=None, unique_split_values=True)``): the
    unique repetition values, sorted (``np.unique``), are shuffled by scikit-learn's
    ``ShuffleSplit(n_splits, train_size=0.5, test_size=None, random_state)``; half 1 holds
    ``floor(k/2)`` of the k values and half 2 the other ``ceil(k/2)``. Returned arrays hold the
    repetition values themselves (not indices), in scikit-learn's order.

    Raises ValueError when there are fewer than 2 distinct repetition values.
    """
    if n_splits < 1:
        raise ValueError("n_splits must be at least 1")
    values = np.unique(np.asarray(repetitions))
    if len(values) < 2:
        raise ValueError("a single repetition: no ceiling (split-half consistency needs at least 2 repetitions)")
    return [(values[a], values[b]) for a, b in brainscore_splits(len(values), n_splits, 0.5, None, random_state)]
