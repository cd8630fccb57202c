"""Holm's correction, against a hand-computed example and Holm's (1979) sequentially rejective procedure."""

from __future__ import annotations

import random

import pytest

from brainbench.comparison.table import holm


def test_holm_matches_a_hand_computed_example() -> None:
    # m = 4; sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to the running max 0.06.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    # Tolerance 1e-12: products of a few decimals, only rounding of the last bit can differ.
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)


def test_entries_without_a_test_are_kept_as_none_and_do_not_count() -> None:
    adjusted = holm([None, 0.02, None, 0.5])
    assert adjusted[0] is None and adjusted[2] is None
    assert adjusted[1:4:2] == pytest.approx([0.04, 0.5], abs=1e-12)  # m = 2, not 4


def test_adjusted_values_are_capped_at_one() -> None:
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0], abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_rejections_are_those_of_holms_sequential_procedure(seed: int) -> None:
    """Holm (1979): with p sorted ascending, reject H_(1) … H_(k-1) where k is the first with p_(k) > α/(m − k + 1)."""
    rng = random.Random(seed)
    p = [rng.random() ** 3 for _ in range(rng.randint(1, 12))]
    alpha = 0.05
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = set()
    for k, i in enumerate(order):
        if p[i] > alpha / (len(p) - k):
            break
        rejected.add(i)
    adjusted = holm(p)
    assert {i for i, a in enumerate(adjusted) if a <= alpha} == rejected
