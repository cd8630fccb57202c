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
