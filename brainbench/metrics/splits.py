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
    ``object_name``), ``ShuffleSplit`` with the same arguments otherwise. Index ``i`` is the i-th stimulus
    in the caller's order, which must be the order of the presentations of Brain-Score's (repetition-
    averaged) target assembly for the splits to coincide. Arrays are int64 indices, in scikit-learn's
    (shuffled) order; train holds ``floor(train_size·n)`` stimuli and test the rest.

    ``stratify`` labels are compared as given (their own dtype and sort order, as scikit-learn does).
    Raises ValueError when the stimuli cannot be split: a stratum with a single stimulus, more strata
    than the train or test set can hold, or a train/test set that would be empty.
    """
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    if n_splits < 1:
        raise ValueError("n_splits must be at least 1")
    if not 0 < train_size < 1:
        raise ValueError(f"train_size must lie strictly between 0 and 1, got {train_size}")
    placeholder = np.zeros(n_stimuli)
    if stratify is None:
        splitter = ShuffleSplit(n_splits=n_splits, train_size=train_size, test_size=None, random_state=random_state)
        args: tuple[np.ndarray, ...] = ()
    else:
        labels = np.asarray(stratify)
        if labels.shape != (n_stimuli,):
            raise ValueError(f"stratify has {labels.size} labels for {n_stimuli} stimuli")
        values, counts = np.unique(labels, return_counts=True)
        if counts.size and counts.min() < 2:
            raise ValueError(
                f"stratum {values[counts.argmin()].item()!r} has a single stimulus; every stratum needs at least 2 "
                "to be split between train and test"
            )
        n_train = int(np.floor(train_size * n_stimuli))  # as scikit-learn sizes the sets
        if min(n_train, n_stimuli - n_train) < len(values):
            raise ValueError(
                f"{len(values)} strata do not fit in a train set of {n_train} and a test set of "
                f"{n_stimuli - n_train} stimuli; use fewer strata or another train_size"
            )
        splitter = StratifiedShuffleSplit(
            n_splits=n_splits, train_size=train_size, test_size=None, random_state=random_state
        )
        args = (labels,)
    try:
        return [(np.asarray(a, np.int64), np.asarray(b, np.int64)) for a, b in splitter.split(placeholder, *args)]
    except ValueError as error:  # e.g. too few stimuli for a non-empty train and test set
        raise ValueError(f"cannot split {n_stimuli} stimuli with train_size={train_size}: {error}") from None


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
    from sklearn.model_selection import ShuffleSplit

    if n_splits < 1:
        raise ValueError("n_splits must be at least 1")
    values = np.unique(np.asarray(repetitions))
    if len(values) < 2:
        raise ValueError("a single repetition: no ceiling (split-half consistency needs at least 2 repetitions)")
    splitter = ShuffleSplit(n_splits=n_splits, train_size=0.5, test_size=None, random_state=random_state)
    return [(values[a], values[b]) for a, b in splitter.split(np.zeros(len(values)))]
