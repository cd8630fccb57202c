"""Brain-Score's splits against scikit-learn's splitters called directly, as Brain-Score 2.4.2 calls them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from brainbench.metrics.splits import brainscore_splits, repetition_halves


def _assert_same(got: list[tuple[np.ndarray, np.ndarray]], want: list[tuple[np.ndarray, np.ndarray]]) -> None:
    assert len(got) == len(want)
    for (a, b), (c, d) in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_unstratified_splits_are_shufflesplit_with_seed_1():
    got = brainscore_splits(137)
    want = list(ShuffleSplit(n_splits=10, train_size=0.9, test_size=None, random_state=1).split(np.zeros(137)))
    _assert_same(got, want)
    for train, test in got:
        assert len(train) == 123 and len(test) == 14  # floor(0.9·137) train, the rest test
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(137))


def test_stratified_splits_are_stratifiedshufflesplit_over_object_names():
    rng = np.random.default_rng(0)
    objects = rng.choice([f"obj{i:02d}" for i in range(8)], size=400)
    got = brainscore_splits(400, stratify=list(objects))
    splitter = StratifiedShuffleSplit(n_splits=10, train_size=0.9, test_size=None, random_state=1)
    _assert_same(got, list(splitter.split(np.zeros(400), objects)))
    # Every object is represented in every test set.
    for _, test in got:
        assert set(objects[test]) == set(objects)


def test_stratified_splits_keep_the_labels_dtype():
    # Integer labels order differently from their strings (9 < 10 but "10" < "9"), which moves the draws.
    labels = np.repeat([10, 9, 100, 11], 25)
    got = brainscore_splits(100, n_splits=4, train_size=0.8, stratify=labels, random_state=3)
    splitter = StratifiedShuffleSplit(n_splits=4, train_size=0.8, test_size=None, random_state=3)
    _assert_same(got, list(splitter.split(np.zeros(100), labels)))


def test_other_seed_and_sizes_follow_sklearn():
    got = brainscore_splits(50, n_splits=3, train_size=0.5, random_state=7)
    want = list(ShuffleSplit(n_splits=3, train_size=0.5, test_size=None, random_state=7).split(np.zeros(50)))
    _assert_same(got, want)
    assert all(a.dtype == np.int64 and b.dtype == np.int64 for a, b in got)


def test_unsplittable_strata_raise_one_clear_sentence():
    with pytest.raises(ValueError, match="stratum 'lonely' has a single stimulus"):
        brainscore_splits(5, stratify=["a", "a", "b", "b", "lonely"], train_size=0.5)
    with pytest.raises(ValueError, match="30 strata do not fit"):
        brainscore_splits(60, stratify=np.repeat(np.arange(30), 2))  # 6 test stimuli for 30 strata
    with pytest.raises(ValueError, match="labels for"):
        brainscore_splits(10, stratify=["a", "b"])
    with pytest.raises(ValueError, match="cannot split 1 stimuli"):
        brainscore_splits(1)


def test_repetition_halves_split_sorted_unique_values():
    repetitions = [5, 0, 3, 3, 1, 7, 0, 2, 9]  # duplicates and gaps; 7 unique values
    got = repetition_halves(repetitions)
    values = np.unique(repetitions)
    want = [(values[a], values[b]) for a, b in
            ShuffleSplit(n_splits=10, train_size=0.5, test_size=None, random_state=1).split(np.zeros(7))]
    _assert_same(got, want)
    for first, second in got:
        assert len(first) == 3 and len(second) == 4
        assert sorted([*first, *second]) == values.tolist()


def test_repetition_halves_of_strings_and_a_single_repetition():
    got = repetition_halves(["r1", "r0"], n_splits=2, random_state=0)
    assert all(len(a) == 1 and len(b) == 1 and {a[0], b[0]} == {"r0", "r1"} for a, b in got)
    with pytest.raises(ValueError, match="a single repetition: no ceiling"):
        repetition_halves([4, 4, 4])


@pytest.mark.parametrize("case", range(40))
def test_splits_equal_sklearn_over_random_designs(case):
    # Our draws replace scikit-learn's (no import at start-up); they must coincide draw for draw, including the
    # tie-breaking of equal remainders (equal-sized strata) and uneven strata.
    rng = np.random.default_rng(case)
    n_strata = int(rng.integers(2, 12))
    sizes = rng.integers(2, 40, n_strata) if case % 2 else np.full(n_strata, int(rng.integers(2, 30)))
    labels = rng.permutation(np.repeat([f"s{i}" for i in range(n_strata)], sizes))
    n = len(labels)
    train_size = float(rng.choice([0.5, 0.8, 0.9, 0.75]))
    seed = int(rng.integers(0, 1000))
    splitter = StratifiedShuffleSplit(n_splits=5, train_size=train_size, test_size=None, random_state=seed)
    n_train = int(np.floor(train_size * n))
    if min(n_train, n - n_train) >= n_strata:
        _assert_same(brainscore_splits(n, 5, train_size, labels, seed), list(splitter.split(np.zeros(n), labels)))
    plain = ShuffleSplit(n_splits=5, train_size=train_size, test_size=None, random_state=seed)
    _assert_same(brainscore_splits(n, 5, train_size, None, seed), list(plain.split(np.zeros(n))))
