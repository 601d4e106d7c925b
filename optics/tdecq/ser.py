"""Symbol error ratio of a histogram window and the noise sigma that meets the target.

Step 6 of the TDECQ method (see :mod:`optics.tdecq`): each window's histogram (values binned
with their weights, each bin represented by the weighted mean of its samples) gives
``SER(s)``; ``s`` solves ``SER(s) = target_ser`` by safeguarded Newton root finding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special

from optics import validate
from optics.errors import InvalidParameter, InvalidWaveform
from optics.tdecq.kernel import newton_log_sigma, ser_and_slope

#: Default target symbol error ratio (BER 2.4e-4 with Gray coding).
DEFAULT_TARGET_SER = 4.8e-4

#: Histogram bins per window.
HISTOGRAM_BINS = 1000

#: Most bins :func:`histogram_ser` / :func:`solve_sigma` accept (a bin-count array of this
#: size is allocated whatever the data).
MAX_HISTOGRAM_BINS = 1_000_000


def q_function(x: Any) -> Any:
    """Gaussian tail probability ``Q(x) = 0.5 erfc(x / sqrt 2)``."""
    return scipy.special.ndtr(-np.asarray(x, dtype=np.float64))


def q_target(target_ser: float) -> float:
    """``Q_t = Q^-1(target_ser / 1.5)``; 3.4141 for the default SER 4.8e-4.

    Raises
    ------
    InvalidParameter
        ``target_ser`` outside (0, 0.75).
    """
    ser = validate.in_range("target_ser", target_ser, 0.0, 0.75, low_inclusive=False,
                            high_inclusive=False)
    return float(-scipy.special.ndtri(ser / 1.5))


# --------------------------------------------------------------------------------------
# histogram SER engine
# --------------------------------------------------------------------------------------
def _binned(values: np.ndarray, n_bins: int, weights: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_histogram` without the final remap: (centroids of non-empty bins, their
    weights, raw bin of each value in ``0..n_bins-1``, non-empty mask of the raw bins)."""
    lo = float(values.min())
    span = float(values.max()) - lo
    if span <= 0.0:
        return (np.array([lo]), np.array([1.0]), np.zeros(values.size, dtype=np.intp),
                np.ones(1, dtype=bool))
    scaled = values - lo
    scaled *= n_bins / span  # the same two roundings as (values - lo) * (n_bins / span)
    idx = scaled.astype(np.intp)
    np.minimum(idx, n_bins - 1, out=idx)
    if weights is None:
        counts = np.bincount(idx, minlength=n_bins)
        sums = np.bincount(idx, weights=values, minlength=n_bins)
        total = float(values.size)
    else:
        counts = np.bincount(idx, weights=weights, minlength=n_bins)
        sums = np.bincount(idx, weights=weights * values, minlength=n_bins)
        total = float(weights.sum())
    nz = counts > 0
    return sums[nz] / counts[nz], counts[nz] / total, idx, nz


def _histogram(values: np.ndarray, n_bins: int, weights: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin ``values``; return (centroids of non-empty bins, their weights, bin of each value).

    ``weights`` (> 0, one per value; default all 1) weigh the samples; bin weights are
    normalised to sum 1.
    """
    cen, h, idx, nz = _binned(values, n_bins, weights)
    remap = np.cumsum(nz) - 1  # bin index -> index among non-empty bins
    return cen, h, remap[idx]


def _distances(
    centroids: np.ndarray, weights: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distances to the bracketing thresholds.

    Returns ``(d, w, sign, bin)`` for every (bin, bracketing threshold) pair: distance >= 0,
    the bin's weight, ``-1`` for the threshold below (moving up increases the distance) or
    ``+1`` for the one above, and the bin index.
    """
    th = np.sort(thresholds)
    k = np.searchsorted(th, centroids, side="right")  # thresholds <= value
    lo = np.flatnonzero(k > 0)
    hi = np.flatnonzero(k < th.size)
    d = np.concatenate((centroids[lo] - th[k[lo] - 1], th[k[hi]] - centroids[hi]))
    w = np.concatenate((weights[lo], weights[hi]))
    sign = np.concatenate((-np.ones(lo.size), np.ones(hi.size)))
    bins = np.concatenate((lo, hi))
    return np.maximum(d, 0.0), w, sign, bins


def histogram_ser(
    values: Any, thresholds: Any, sigma: float, *, n_bins: int = HISTOGRAM_BINS
) -> float:
    """SER of a vertical histogram with added Gaussian noise (section 2.1 step 8).

    ``SER = sum_b h_b [Q((y_b - P_lo)/sigma) + Q((P_hi - y_b)/sigma)]``.

    Parameters
    ----------
    values : array_like
        Samples in the histogram window (unit of the waveform).
    thresholds : array_like
        The three decision thresholds (same unit).
    sigma : float
        RMS of the added Gaussian noise at the decision point, > 0.
    n_bins : int, optional
        Histogram bins (each bin is represented by the mean of its samples).

    Returns
    -------
    float
    """
    v = validate.finite_array("values", values, min_size=1)
    th = validate.finite_array("thresholds", thresholds, min_size=1)
    s = validate.positive("sigma", sigma)
    c, h, _ = _histogram(v, validate.integer("n_bins", n_bins, 1, MAX_HISTOGRAM_BINS))
    d, w, _, _ = _distances(c, h, th)
    return float(w @ q_function(d / s))


#: Q(z) is below 1e-300 beyond this z: such terms are left out of SER sums (exactly 0 in
#: double precision from z = 38.5 on).
_Z_NEGLIGIBLE = 37.0


def _solve_sigma(d: np.ndarray, w: np.ndarray, target: float, start: float | None = None
                 ) -> float:
    """Largest sigma with ``sum w Q(d/sigma) <= target``; 0.0 when even sigma -> 0 fails.

    Safeguarded Newton iteration on ``F(t) = ln SER(e^t) - ln target`` (``t = ln sigma``;
    F increases monotonically with t), started from ``start`` (e.g. the sigma of a nearby
    histogram) when given: ``F'(t) = sum w phi(z) z / SER`` with ``z = d/sigma``.  Every
    evaluated point narrows a bracket ``[a, b]`` around the root; a Newton step leaving it
    (or longer than a factor e^2 in sigma) is replaced by bisection (or that capped step).
    Without ``start``, starts from an upper bound of the root (see the code).  Stops after
    a Newton step below 1e-6 in ``t`` (leaving a relative error ~1e-12 in sigma), or when
    the bracket is narrower than 1e-11.  Every term is summed, in the histogram's order
    (those with ``z >= 37`` are below 1e-300 and vanish in the sum; the eye's bins all lie
    within a few sigma of a threshold, so leaving them out saved nothing).
    """
    if d.size == 0:
        raise InvalidWaveform("no samples between the thresholds: no eye")
    ser_inf = 0.5 * float(w.sum())
    if ser_inf <= target:
        raise InvalidParameter(
            f"target_ser = {target:g} cannot be reached: the SER of this eye saturates at "
            f"{ser_inf:.3g} for infinite noise; use a smaller target_ser"
        )
    d_max = float(d.max())
    if d_max <= 0.0:
        return 0.0
    floor = 1e-9 * d_max
    # one compiled pass per point (optics.tdecq.kernel); the closed-eye test at the floor sums
    # every term (those with z >= 37 are below 1e-300 and vanish)
    if ser_and_slope(d, w, floor)[0] >= target:
        return 0.0
    if start is not None and start > floor:
        t = math.log(start)
    else:
        # SER(s) >= w_b Q(d_b/s) for every bin b, so the root is at most the least
        # d_b / Q^-1(target/w_b) over bins heavier than 2 target: Newton from there
        # (F is concave in t: one step lands left of the root, then it climbs monotonically)
        heavy = w > 2.0 * target
        if heavy.any():
            bound = float(np.min(d[heavy] / -scipy.special.ndtri(target / w[heavy])))
            t = math.log(max(bound, 2.0 * floor))
        else:
            t = math.log(d_max)
    # F(ln floor) < 0 (checked above): the bracket's lower end; the iteration is compiled
    # (optics.tdecq.kernel), one pass over the pairs per point
    return newton_log_sigma(d, w, math.log(target), t, math.log(floor))


def solve_sigma(
    values: Any, thresholds: Any, target_ser: float, *, n_bins: int = HISTOGRAM_BINS
) -> float:
    """Gaussian noise RMS at which a histogram's SER equals ``target_ser``.

    Root of ``histogram_ser(values, thresholds, s) = target_ser`` (monotone in ``s``), by
    a safeguarded Newton iteration on ``ln SER`` against ``ln s`` (relative accuracy about
    1e-12).  Returns 0.0 for a closed eye (no ``s > 0`` meets the target).

    Raises
    ------
    InvalidParameter
        ``target_ser`` outside (0, 0.75) or above the SER the histogram can reach.
    """
    v = validate.finite_array("values", values, min_size=1)
    th = validate.finite_array("thresholds", thresholds, min_size=1)
    q_target(target_ser)
    c, h, _ = _histogram(v, validate.integer("n_bins", n_bins, 1, MAX_HISTOGRAM_BINS))
    d, w, _, _ = _distances(c, h, th)
    return _solve_sigma(d, w, float(target_ser))


def _window_ser(values: np.ndarray, weights: np.ndarray | None, thresholds: np.ndarray,
                sigma: float) -> float:
    """:func:`histogram_ser` of a window whose samples carry histogram weights."""
    c, h, _ = _histogram(values, HISTOGRAM_BINS, weights)
    d, w, _, _ = _distances(c, h, thresholds)
    return float(w @ q_function(d / sigma))
