"""Comparing distributions of single-neuron properties: binned KS similarity, bootstrapped (Marques et al. 2021).

A property distribution is compared on the bins its data were published with. Values outside the
bins are clipped into the first or last bin, NaN values (a property a unit does not have) are left
out. Similarity = 1 − KS distance / the largest KS distance any distribution could have from the
reference (all mass in its first or its last bin), so 1 is identical and 0 is as far as possible.
"""

from __future__ import annotations

import numpy as np

SCALES = ("linear", "log2", "binary")


def sample_histogram(edges: np.ndarray, counts: np.ndarray, scale: str, rng: np.random.Generator) -> np.ndarray:
    """Neurons drawn from a published histogram: ``counts[i]`` values uniform within bin ``i``.

    ``scale``: 'linear' (uniform in the value), 'log2' (uniform in log2 of the value) or 'binary'
    (bins [0, 0.5, 1]: ``counts[0]`` zeros and ``counts[1]`` ones). Returns (sum(counts),) values in bin order.
    """
    edges, counts = np.asarray(edges, dtype=float), np.asarray(counts, dtype=np.int64)
    if scale == "binary":
        return np.repeat(np.arange(len(counts), dtype=float), counts)
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    lo, hi = np.repeat(edges[:-1], counts), np.repeat(edges[1:], counts)
    u = rng.random(lo.shape)
    if scale == "log2":
        return 2 ** (np.log2(lo) + u * (np.log2(hi) - np.log2(lo)))
    return lo + u * (hi - lo)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each non-NaN value (as numpy.histogram: left-closed bins, the last one closed), clipped into range."""
    values = np.asarray(values, dtype=float)
    values = np.clip(values[~np.isnan(values)], edges[0], edges[-1])
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def binned(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(n_bins,) fractions of the non-NaN ``values`` per bin; all zero when there are none."""
    counts = np.bincount(bin_index(values, edges), minlength=len(edges) - 1).astype(float)
    total = counts.sum()
    return counts / total if total else counts


def ks_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """1 − max|P − Q| / max over the two extreme distributions of their distance to Q.

    ``p``: (..., n_bins) fractions (rows of a bootstrap, or one distribution); ``q``: (n_bins,)
    reference fractions. P, Q are the cumulative sums. Returns (...,) similarities in [0, 1].
    """
    cq = np.cumsum(q)
    distance = np.max(np.abs(np.cumsum(p, axis=-1) - cq), axis=-1)
    first, last = np.zeros_like(q), np.zeros_like(q)
    first[0], last[-1] = 1, 1
    worst = max(np.max(np.abs(np.cumsum(first) - cq)), np.max(np.abs(np.cumsum(last) - cq)))
    return 1 - distance / worst


def bootstrap_similarity(
    values: np.ndarray, reference: np.ndarray, edges: np.ndarray, n_draw: int, n_samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """KS similarity to ``reference``'s binned distribution of ``n_samples`` resamples of ``values``.

    Each resample draws ``n_draw`` of the non-NaN ``values`` with replacement (as many neurons as the
    reference has). Returns (n_samples,) similarities, or an empty array when ``values`` has none.
    """
    bins = bin_index(values, edges)
    if len(bins) == 0 or n_draw < 1:
        return np.empty(0)
    n_bins = len(edges) - 1
    drawn = bins[rng.integers(0, len(bins), size=(n_samples, n_draw))]
    offsets = np.arange(n_samples)[:, None] * n_bins
    counts = np.bincount((drawn + offsets).ravel(), minlength=n_samples * n_bins).reshape(n_samples, n_bins)
    return ks_similarity(counts / n_draw, binned(reference, edges))
