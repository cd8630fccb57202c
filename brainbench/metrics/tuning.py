"""Single-neuron tuning properties from grating responses: Marques et al. (2021) in-silico electrophysiology.

Marques, Schrimpf & DiCarlo (2021), "Multi-scale hierarchical neural network models that bridge from single
neurons in the primate primary visual cortex to object recognition behavior", bioRxiv 2021.03.01.433495.

Every function takes firing rates (spikes/s) of n units at once as float arrays whose first axis is the unit
and, where a drifting/phase-shifted grating was shown, whose last axis is the grating phase (equally spaced
over one cycle). Nothing here loops over units: per-unit choices (which condition is preferred, where a
curve crosses a threshold) are made with array indexing, and the cubic interpolating splines are fitted to
all units at once.

Brain-Score 2.4.2 is the reference (paths under ``brainscore_vision/``):

- ``benchmark_helpers/properties_common.py``: ``calc_bandwidth`` (orientation curve: tiled over three
  periods, smoothed with the kernel (0, 1/5, 1, 1/5, 0)/1.4 in ``np.convolve(mode='same')``, i.e. zero
  beyond the tiled ends, interpolated by ``UnivariateSpline(s=0)``, read on a 1° grid);
  ``calc_spatial_frequency_tuning`` (SF curve padded with two copies of each end value, smoothed with the
  same kernel in ``mode='valid'``, spline in log2 SF read on 100 points from the lowest to the highest SF,
  cutoffs at 0.707 of the fitted peak); ``calc_size_tuning``.
- ``benchmarks/marques2020/benchmarks/``: ``devalois1982a`` (preferred orientation), ``devalois1982b``
  (peak SF), ``schiller1976`` (SF bandwidth and selectivity), ``cavanaugh2002a`` (surround suppression):
  which response component is used, how the preferred condition is picked, which units are kept.

``UnivariateSpline(x, y, k=3, s=0)`` is the interpolating cubic spline whose interior knots are x[2:-2],
which is the not-a-knot cubic spline: ``scipy.interpolate.CubicSpline(bc_type='not-a-knot')`` computes the
same function for all units in one call (checked against UnivariateSpline in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import CubicSpline

RESPONSE_THRESHOLD = 5.0
"""Spikes/s a unit's best response must exceed (above its baseline) to be kept (Brain-Score's RESPONSE_THRESHOLD)."""

ORIENTATION_BIN_LIMIT = 157.5
"""Preferred orientations at or above this many degrees are reported as value − 180 (DeValois 1982a's bins)."""

SF_CUTOFF_FRACTION = 0.707
"""Fraction of the fitted peak at which spatial-frequency cutoffs are read (Brain-Score's thrsh=0.707)."""

SF_GRID_POINTS = 100
"""Points of the log2-SF grid on which the SF spline is read (lowest to highest SF inclusive)."""

# Brain-Score's 'smooth' kernel, normalised as Brain-Score normalises it (w / w.sum()).
_SMOOTH = np.array([0.0, 1 / 5, 1.0, 1 / 5, 0.0])
_SMOOTH = _SMOOTH / _SMOOTH.sum()

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


# --------------------------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------------------------


def _as_responses(responses: ArrayLike, ndim: int, name: str) -> FloatArray:
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axes, got shape {r.shape}")
    if r.shape[0] == 0:
        raise ValueError(f"{name} has no units")
    return r


def _as_baseline(baseline: ArrayLike, n: int) -> FloatArray:
    """Baseline as (n,): a scalar is shared by all units; (n,) or (n, 1) are taken per unit."""
    b = np.asarray(baseline, dtype=np.float64)
    if b.ndim == 0:
        return np.full(n, float(b))
    if b.size != n:
        raise ValueError(f"baseline must hold one value per unit ({n}), got shape {b.shape}")
    return b.reshape(n)


def _as_axis_values(values: ArrayLike, length: int, name: str) -> FloatArray:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size != length:
        raise ValueError(f"{name} has {v.size} values for an axis of length {length}")
    if v.size > 1 and not np.all(np.diff(v) > 0):
        raise ValueError(f"{name} must be strictly increasing")
    return v


def phase_components(responses: ArrayLike, baseline: ArrayLike | None = None) -> tuple[FloatArray, FloatArray]:
    """Mean (DC) and first-harmonic amplitude (AC, F1) of responses over grating phase.

    responses: (n, ..., n_phases) firing rates (spikes/s), phases equally spaced over one cycle on the last axis.
    baseline: (n,) or scalar spikes/s subtracted from the DC component (None: nothing subtracted).
    Returns dc, ac: each (n, ...) spikes/s. dc = mean over phases − baseline; ac = 2·|DFT over phases at
    frequency 1| / n_phases, the amplitude b of a + b·cos(phase − φ) sampled over the cycle (as Brain-Score's
    ``2 * abs(fft(responses))[..., 1] / n_phases``). The AC needs n_phases ≥ 2 (≥ 3 for a meaningful F1).
    """
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim < 2:
        raise ValueError(f"responses must be (n, ..., n_phases), got shape {r.shape}")
    n_phases = r.shape[-1]
    if n_phases < 2:
        raise ValueError(f"need at least 2 phases for an F1 component, got {n_phases}")
    dc = r.mean(axis=-1)
    if baseline is not None:
        b = _as_baseline(baseline, r.shape[0])
        dc = dc - b.reshape((-1,) + (1,) * (dc.ndim - 1))
    # |DFT coefficient 1| from two dot products: the full FFT would hold n_phases/2 + 1 complex values per curve.
    angle = 2 * np.pi * np.arange(n_phases) / n_phases
    ac = 2.0 * np.hypot(r @ np.cos(angle), r @ np.sin(angle)) / n_phases
    return dc, ac


def preferred_curve(responses: ArrayLike, curve_axis: int) -> tuple[FloatArray, FloatArray]:
    """Each unit's tuning curve along `curve_axis` through its strongest response.

    responses: (n, d1, ..., dk) firing rates. Per unit, the condition of the maximum over all of (d1, ..., dk)
    is found (ties: the first in C order, as ``np.argmax`` over the flattened conditions in Brain-Score); the
    curve is the slice along `curve_axis` (1..k, or negative) through that condition.
    Returns curves (n, d_curve_axis) and the maximum response (n,).
    """
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim < 2:
        raise ValueError(f"responses must be (n, d1, ...), got shape {r.shape}")
    axis = curve_axis % r.ndim
    if axis == 0:
        raise ValueError("the curve axis cannot be the unit axis")
    n = r.shape[0]
    best = r.reshape(n, -1).argmax(axis=1)
    condition = np.unravel_index(best, r.shape[1:])
    max_response = r.reshape(n, -1)[np.arange(n), best]
    # Move the curve axis last; index every other axis at the preferred condition.
    moved = np.moveaxis(r, axis, -1)
    others = [c for i, c in enumerate(condition, start=1) if i != axis]
    curves = moved[(np.arange(n), *others)]
    return curves, max_response


def _convolve_valid(x: FloatArray, w: FloatArray) -> FloatArray:
    """``np.convolve(w, row, mode='valid')`` for every row of x (..., m) → (..., m − len(w) + 1)."""
    k = len(w)
    m = x.shape[-1] - k + 1
    out = np.zeros((*x.shape[:-1], m))
    for j in range(k):
        # convolution: out[i] = Σ_j w[j] · x[i + k − 1 − j]
        out += w[j] * x[..., k - 1 - j : k - 1 - j + m]
    return out


def fit_orientation_curves(curves: ArrayLike, orientations_deg: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Brain-Score's smoothed spline fit of orientation curves (``calc_bandwidth(filt_type='smooth')``), on 1°.

    curves: (n, n_orientations) firing rates at `orientations_deg`, increasing within [0, 180).
    The curve is tiled over orientations − 180, orientations, orientations + 180, smoothed with
    (0, 1/5, 1, 1/5, 0)/1.4 as ``np.convolve(mode='same')`` (zeros beyond the two outer ends), and
    interpolated by a not-a-knot cubic spline (= ``UnivariateSpline(s=0)``).
    Returns grid (180,) = 0, 1, ..., 179 degrees and the fitted curves (n, 180) there.
    """
    y = np.asarray(curves, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"curves must be (n, n_orientations), got shape {y.shape}")
    o = _as_axis_values(orientations_deg, y.shape[1], "orientations_deg")
    if o.size < 2 or o[0] < 0 or o[-1] >= 180:
        raise ValueError("orientations_deg must be at least 2 increasing values within [0, 180)")
    x_ext = np.concatenate([o - 180, o, o + 180])
    y_ext = np.tile(y, (1, 3))
    half = (len(_SMOOTH) - 1) // 2
    smoothed = _convolve_valid(np.pad(y_ext, ((0, 0), (half, half))), _SMOOTH)
    spline = CubicSpline(x_ext, smoothed, axis=1, bc_type="not-a-knot")
    # Brain-Score reads np.linspace(-180, 359, 540)[180:360], which is exactly 0.0, 1.0, ..., 179.0.
    grid = np.arange(180, dtype=np.float64)
    return grid, spline(grid)


def fit_spatial_frequency_curves(curves: ArrayLike, sf_cpd: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Brain-Score's smoothed spline fit of SF curves (``calc_spatial_frequency_tuning(filt_type='smooth')``).

    curves: (n, n_sf) firing rates at spatial frequencies `sf_cpd` (cycles/degree, increasing, n_sf ≥ 4).
    Each curve is padded with two copies of its first and last value, smoothed with (0, 1/5, 1, 1/5, 0)/1.4
    ('valid', so the length is kept) and interpolated by a not-a-knot cubic spline in log2(SF).
    Returns grid_log2 (100,) = linspace(log2 sf[0], log2 sf[-1], 100) and the fitted curves (n, 100).
    """
    y = np.asarray(curves, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"curves must be (n, n_sf), got shape {y.shape}")
    sf = _as_axis_values(sf_cpd, y.shape[1], "sf_cpd")
    if sf.size < 4 or sf[0] <= 0:
        raise ValueError("sf_cpd must be at least 4 increasing positive spatial frequencies")
    log_sf = np.log2(sf)
    half = (len(_SMOOTH) - 1) // 2
    smoothed = _convolve_valid(np.pad(y, ((0, 0), (half, half)), mode="edge"), _SMOOTH)
    spline = CubicSpline(log_sf, smoothed, axis=1, bc_type="not-a-knot")
    grid = np.linspace(log_sf[0], log_sf[-1], num=SF_GRID_POINTS, endpoint=True)
    return grid, spline(grid)


@dataclass(frozen=True)
class SpatialFrequencyTuning:
    """Peak and 0.707 cutoffs of fitted SF curves (Brain-Score's ``calc_spatial_frequency_tuning``), each (n,).

    peak: cycles/degree at the maximum of the fitted curve (2 ** grid point; the first on ties).
    low_cutoff / high_cutoff: cycles/degree at the last grid point below / first grid point above the peak
    whose fitted value is ≤ fraction · peak value; NaN where the curve does not fall that far on that side.
    bandwidth: 100 · low_cutoff / high_cutoff (percent; Brain-Score's mode='ratio'), NaN if either is NaN.
    """

    peak: FloatArray
    low_cutoff: FloatArray
    high_cutoff: FloatArray
    bandwidth: FloatArray


def spatial_frequency_tuning(
    curves: ArrayLike, sf_cpd: ArrayLike, fraction: float = SF_CUTOFF_FRACTION
) -> SpatialFrequencyTuning:
    """Peak SF, cutoffs and bandwidth ratio of SF curves (n, n_sf) at `sf_cpd`; see `SpatialFrequencyTuning`."""
    grid, fitted = fit_spatial_frequency_curves(curves, sf_cpd)
    n, m = fitted.shape
    rows = np.arange(n)
    index = np.arange(m)
    peak_index = fitted.argmax(axis=1)
    below = fitted <= (fitted[rows, peak_index] * fraction)[:, None]
    lower = below & (index < peak_index[:, None])
    upper = below & (index > peak_index[:, None])
    low_index = m - 1 - lower[:, ::-1].argmax(axis=1)  # last True
    high_index = upper.argmax(axis=1)  # first True
    low_log = np.where(lower.any(axis=1), grid[low_index], np.nan)
    high_log = np.where(upper.any(axis=1), grid[high_index], np.nan)
    low, high = 2.0**low_log, 2.0**high_log
    return SpatialFrequencyTuning(
        peak=np.power(2.0, grid[peak_index]), low_cutoff=low, high_cutoff=high, bandwidth=low / high * 100
    )


@dataclass(frozen=True)
class SizeCurveProperties:
    """Brain-Score's ``calc_size_tuning`` of size curves, each (n,).

    surround_suppression_index: (peak − last) / peak of the curve (NaN for 0/0, ±inf for x/0, as numpy).
    grating_summation_field: degrees, 2 · the first radius whose response ≥ 0.95 · peak.
    surround_diameter: degrees, 2 · the first radius beyond the preferred (first maximal) radius whose
    response ≤ last + 0.05 · |last|.
    surround_grating_summation_field_ratio: surround_diameter / grating_summation_field.
    The last three are NaN unless peak > 0 and surround_suppression_index > 0.1.
    """

    surround_suppression_index: FloatArray
    grating_summation_field: FloatArray
    surround_diameter: FloatArray
    surround_grating_summation_field_ratio: FloatArray


def size_curve_properties(curves: ArrayLike, radius_deg: ArrayLike) -> SizeCurveProperties:
    """Surround suppression of size curves (n, n_radius) at `radius_deg` (increasing); see `SizeCurveProperties`."""
    y = np.asarray(curves, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"curves must be (n, n_radius), got shape {y.shape}")
    radius = _as_axis_values(radius_deg, y.shape[1], "radius_deg")
    n = y.shape[0]
    rows = np.arange(n)
    preferred = y.argmax(axis=1)
    peak = y[rows, preferred]
    plateau = y[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ssi = (peak - plateau) / peak
    suppressed = (peak > 0) & (ssi > 0.1)
    # Always found: the peak itself is ≥ 0.95·peak when peak > 0.
    gsf = radius[(y >= (peak * 0.95)[:, None]).argmax(axis=1)] * 2
    # Found whenever `suppressed`: the last radius (≤ its own threshold) lies beyond the preferred one,
    # since peak > last there.
    threshold = plateau + 0.05 * np.abs(plateau)
    beyond = (y <= threshold[:, None]) & (radius[None, :] > radius[preferred][:, None])
    surround = radius[beyond.argmax(axis=1)] * 2
    gsf = np.where(suppressed, gsf, np.nan)
    surround = np.where(suppressed, surround, np.nan)
    return SizeCurveProperties(
        surround_suppression_index=ssi,
        grating_summation_field=gsf,
        surround_diameter=surround,
        surround_grating_summation_field_ratio=surround / gsf,
    )


# --------------------------------------------------------------------------------------------------------------------
# Experiments (one per Marques 2020 benchmark family)
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Properties:
    """Per-unit properties of one experiment; every field is (n,). Subclasses list PROPERTY_NAMES."""

    PROPERTY_NAMES: ClassVar[tuple[str, ...]] = ()

    def properties(self) -> dict[str, FloatArray]:
        """All units' properties, by Brain-Score's property name, in Brain-Score's order."""
        return {name: getattr(self, name) for name in self.PROPERTY_NAMES}

    def responsive_properties(self) -> dict[str, FloatArray]:
        """The properties of the responsive units only (the units Brain-Score keeps), in unit order."""
        keep = self.responsive  # type: ignore[attr-defined]
        return {name: values[keep] for name, values in self.properties().items()}

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))


@dataclass(frozen=True)
class PreferredOrientation(_Properties):
    """DeValois et al. (1982a) preferred orientation.

    preferred_orientation: (n,) degrees, integer-valued in [−22, 157] (values ≥ 157.5 reported as value − 180).
    max_response: (n,) spikes/s, the largest phase-averaged response (baseline not subtracted).
    responsive: (n,) bool, max_response > baseline + threshold.
    """

    PROPERTY_NAMES: ClassVar[tuple[str, ...]] = ("preferred_orientation",)
    preferred_orientation: FloatArray
    max_response: FloatArray
    responsive: BoolArray


def preferred_orientation(
    responses: ArrayLike,
    baseline: ArrayLike,
    orientations_deg: ArrayLike,
    threshold: float = RESPONSE_THRESHOLD,
) -> PreferredOrientation:
    """Preferred orientation as Brain-Score's DeValois1982a benchmark measures it.

    responses: (n, n_cycles, n_sf, n_orientations, n_phases) firing rates (spikes/s); n_cycles indexes the
    grating sizes (Brain-Score: 3 sizes per SF). baseline: (n,) spikes/s to a blank. orientations_deg:
    (n_orientations,) increasing within [0, 180).
    Phase-averaged responses (no baseline subtraction); per unit the orientation curve at the (cycle, SF) of
    the strongest response, fitted by `fit_orientation_curves`; preferred = the 1° grid point of its maximum
    within [0, 180) (the first on ties), then ≥ 157.5 → − 180.
    """
    r = _as_responses(responses, 5, "responses")
    b = _as_baseline(baseline, r.shape[0])
    mean = r.mean(axis=-1)
    curves, max_response = preferred_curve(mean, curve_axis=3)
    grid, fitted = fit_orientation_curves(curves, orientations_deg)
    preferred = grid[fitted.argmax(axis=1)]
    preferred = np.where(preferred >= ORIENTATION_BIN_LIMIT, preferred - 180, preferred)
    return PreferredOrientation(
        preferred_orientation=preferred, max_response=max_response, responsive=max_response > b + threshold
    )


def _dc_ac_stack(responses: FloatArray, baseline: FloatArray) -> FloatArray:
    """(n, a, b, c, n_phases) → (n, a, b, c, 2): DC − baseline in [..., 0], AC in [..., 1] (Brain-Score's layout)."""
    dc, ac = phase_components(responses, baseline)
    return np.stack([dc, ac], axis=-1)


@dataclass(frozen=True)
class PeakSpatialFrequency(_Properties):
    """DeValois et al. (1982b) peak spatial frequency.

    peak_spatial_frequency: (n,) cycles/degree, a point of the 100-point log2 grid (see `spatial_frequency_tuning`).
    max_response: (n,) spikes/s, the largest of the DC − baseline and AC components over all conditions.
    responsive: (n,) bool, max_response > threshold.
    """

    PROPERTY_NAMES: ClassVar[tuple[str, ...]] = ("peak_spatial_frequency",)
    peak_spatial_frequency: FloatArray
    max_response: FloatArray
    responsive: BoolArray


def peak_spatial_frequency(
    responses: ArrayLike, baseline: ArrayLike, sf_cpd: ArrayLike, threshold: float = RESPONSE_THRESHOLD
) -> PeakSpatialFrequency:
    """Peak SF as Brain-Score's DeValois1982b benchmark measures it.

    responses: (n, n_radius, n_sf, n_orientations, n_phases) firing rates (spikes/s); baseline: (n,) spikes/s;
    sf_cpd: (n_sf,) cycles/degree, increasing.
    Components DC − baseline and AC (`phase_components`); per unit the SF curve of the component, radius and
    orientation holding the largest component value, then the peak of its fit (`spatial_frequency_tuning`).
    """
    r = _as_responses(responses, 5, "responses")
    b = _as_baseline(baseline, r.shape[0])
    components = _dc_ac_stack(r, b)
    curves, max_response = preferred_curve(components, curve_axis=2)
    tuning = spatial_frequency_tuning(curves, sf_cpd)
    return PeakSpatialFrequency(
        peak_spatial_frequency=tuning.peak, max_response=max_response, responsive=max_response > threshold
    )


@dataclass(frozen=True)
class SpatialFrequencyBandwidth(_Properties):
    """Schiller et al. (1976) spatial-frequency selectivity and bandwidth.

    spatial_frequency_selective: (n,) 1.0 where the bandwidth is defined, 0.0 where it is NaN.
    spatial_frequency_bandwidth: (n,) percent, 100 · low cutoff / high cutoff at 0.707 of the peak; NaN when
    the fitted curve does not fall to 0.707 of its peak on both sides within the SF range.
    max_response: (n,) spikes/s, the largest phase-averaged response (baseline not subtracted).
    responsive: (n,) bool, max_response > baseline + threshold.
    """

    PROPERTY_NAMES: ClassVar[tuple[str, ...]] = ("spatial_frequency_selective", "spatial_frequency_bandwidth")
    spatial_frequency_selective: FloatArray
    spatial_frequency_bandwidth: FloatArray
    max_response: FloatArray
    responsive: BoolArray


def spatial_frequency_bandwidth(
    responses: ArrayLike, baseline: ArrayLike, sf_cpd: ArrayLike, threshold: float = RESPONSE_THRESHOLD
) -> SpatialFrequencyBandwidth:
    """SF bandwidth and selectivity as Brain-Score's Schiller1976 benchmark measures them.

    responses: (n, n_radius, n_sf, n_orientations, n_phases) firing rates (spikes/s); baseline: (n,) spikes/s;
    sf_cpd: (n_sf,) cycles/degree, increasing.
    Phase-averaged responses only (no AC, no baseline subtraction); per unit the SF curve at the (radius,
    orientation) of the strongest response, then the bandwidth of its fit (`spatial_frequency_tuning`).
    """
    r = _as_responses(responses, 5, "responses")
    b = _as_baseline(baseline, r.shape[0])
    mean = r.mean(axis=-1)
    curves, max_response = preferred_curve(mean, curve_axis=2)
    bandwidth = spatial_frequency_tuning(curves, sf_cpd).bandwidth
    return SpatialFrequencyBandwidth(
        spatial_frequency_selective=np.where(np.isnan(bandwidth), 0.0, 1.0),
        spatial_frequency_bandwidth=bandwidth,
        max_response=max_response,
        responsive=max_response > b + threshold,
    )


@dataclass(frozen=True)
class SizeTuning(_Properties):
    """Cavanaugh et al. (2002) size tuning and surround suppression; see `SizeCurveProperties` for the first five.

    strongly_suppressed: (n,) 1.0 where surround_suppression_index ≥ 0.1, else 0.0 (NaN index → 0.0).
    max_response: (n,) spikes/s, the largest of the DC − baseline and AC components over all conditions.
    responsive: (n,) bool, max_response > threshold.
    """

    PROPERTY_NAMES: ClassVar[tuple[str, ...]] = (
        "surround_suppression_index",
        "strongly_suppressed",
        "grating_summation_field",
        "surround_diameter",
        "surround_grating_summation_field_ratio",
    )
    surround_suppression_index: FloatArray
    strongly_suppressed: FloatArray
    grating_summation_field: FloatArray
    surround_diameter: FloatArray
    surround_grating_summation_field_ratio: FloatArray
    max_response: FloatArray
    responsive: BoolArray


def size_tuning(
    responses: ArrayLike, baseline: ArrayLike, radius_deg: ArrayLike, threshold: float = RESPONSE_THRESHOLD
) -> SizeTuning:
    """Size tuning as Brain-Score's Cavanaugh2002a benchmark measures it.

    responses: (n, n_radius, n_sf, n_orientations, n_phases) firing rates (spikes/s); baseline: (n,) spikes/s;
    radius_deg: (n_radius,) grating radii in degrees, increasing.
    Components DC − baseline and AC; per unit the size curve (over radius) of the component, SF and orientation
    holding the largest component value, then `size_curve_properties`.
    """
    r = _as_responses(responses, 5, "responses")
    b = _as_baseline(baseline, r.shape[0])
    components = _dc_ac_stack(r, b)
    curves, max_response = preferred_curve(components, curve_axis=1)
    size = size_curve_properties(curves, radius_deg)
    with np.errstate(invalid="ignore"):
        strongly = np.where(size.surround_suppression_index >= 0.1, 1.0, 0.0)
    return SizeTuning(
        surround_suppression_index=size.surround_suppression_index,
        strongly_suppressed=strongly,
        grating_summation_field=size.grating_summation_field,
        surround_diameter=size.surround_diameter,
        surround_grating_summation_field_ratio=size.surround_grating_summation_field_ratio,
        max_response=max_response,
        responsive=max_response > threshold,
    )


# Firing rates: Marques et al. (2021) map a layer's (rectified) activations affinely onto spikes/s so that,
# over the units that respond to gratings, the median peak response and the median spontaneous rate match
# macaque V1's (Ringach et al. 2002 as used by Brain-Score's V1 property benchmarks).
MEDIAN_MAX_RESPONSE = 33.8  # spikes/s
MEDIAN_SPONTANEOUS = 0.82  # spikes/s
SINGLE_MAX_RESPONSE = 243.1  # spikes/s: the strongest V1 response, which sets the 5 spikes/s criterion's scale


def firing_rate_affine(orientation_responses: ArrayLike, blank: ArrayLike) -> tuple[float, float] | None:
    """``(slope, offset)`` turning activations into spikes/s, or None when no unit responds above baseline.

    orientation_responses: (n, ..., n_phases) activations to the orientation experiment; blank: (n,)
    activations to the gray screen. Both are rectified; a unit's peak is its largest phase-averaged
    response. Units count as responsive when peak − blank exceeds (5 / 243.1) of the largest such
    difference; the medians over them of blank and peak map onto 0.82 and 33.8 spikes/s.
    """
    r = np.clip(np.asarray(orientation_responses, dtype=np.float64), 0, None)
    b = np.clip(np.asarray(blank, dtype=np.float64), 0, None)
    peak = r.mean(axis=-1).reshape(r.shape[0], -1).max(axis=1) if r.shape[0] else np.empty(0)
    gain = peak - b
    if gain.size == 0 or not gain.max() > 0:
        return None
    responsive = gain > RESPONSE_THRESHOLD / SINGLE_MAX_RESPONSE * gain.max()
    median_blank, median_peak = np.median(b[responsive]), np.median(peak[responsive])
    if not median_peak > median_blank:
        return None
    slope = (MEDIAN_MAX_RESPONSE - MEDIAN_SPONTANEOUS) / (median_peak - median_blank)
    return float(slope), float(MEDIAN_SPONTANEOUS - slope * median_blank)


def firing_rates(activations: ArrayLike, affine: tuple[float, float]) -> FloatArray:
    """Rectified activations through ``affine`` = (slope, offset), rectified again: spikes/s, same shape."""
    slope, offset = affine
    return np.clip(slope * np.clip(np.asarray(activations, dtype=np.float64), 0, None) + offset, 0, None)
