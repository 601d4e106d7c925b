"""Compiled inner loop of the TDECQ tap search: equalize a window, bin it, pair bins with thresholds.

One evaluation of the tap search's cost (:meth:`optics.tdecq.search._Engine._cost_state`)
equalizes the samples of each histogram window with the FFE taps, bins them
(:func:`optics.tdecq.ser._binned`) and pairs every non-empty bin with its bracketing
thresholds (:func:`optics.tdecq.ser._distances`).  In numpy that is about ten passes over the
window's samples (the FFE sum, min, max, shift, scale, truncation, clamp, two bincounts and a
product for weighted windows) and a dozen small arrays for the pairs; :func:`window_pairs` does
it in two passes compiled by numba (the FFE sum with min/max, then the binning), and the
pairing in one pass over the bins.

It performs the same floating-point operations in the same order as the numpy path, so the
results agree with it bit for bit (``tests/optics/test_tdecq_kernel.py`` checks this on
records with and without histogram weights):

* the FFE sum ``y_n = ((c_0 x_0n + c_1 x_1n) + c_2 x_2n) + ...`` (the order of
  :meth:`~optics.tdecq.search._Engine.equalized_windows`; numba is not allowed to contract it
  into fused multiply-adds, ``fastmath`` being off);
* the bin of a value ``floor((y - lo) * (n_bins / span))``, clamped to ``n_bins - 1``;
* per bin, counts and weighted sums accumulated in sample order, as ``numpy.bincount`` does;
* centroids ``sums / counts``, bin weights ``counts / total`` and the threshold pairs in the
  order of :func:`~optics.tdecq.ser._distances` (every bin's pair with the threshold below,
  then every bin's pair with the threshold above), distances clipped at 0.

The sigma solve's Newton iteration (:func:`newton_log_sigma`, one pass of
:func:`ser_and_slope` per point) is compiled too; its ``erfc`` sum agrees with scipy's
``ndtr`` to ~1e-13 relative (not bit for bit), so both paths of the tap search share it.

``numba`` is a dependency for this alone: the cost is evaluated some 60 times per TDECQ
measurement and yield prediction makes millions of measurements (issue 12).  Measured: the
window step (FFE sum, binning, pairs) 2.2x faster than numpy on 16 382 samples; TDECQ of a
yield lane (PRBS13Q at 16 samples/UI) 35.6 -> 30.5 ms on a quiet machine
(``benchmarks/bench_yield_lane.py``; ``benchmarks/bench_tdecq.py`` prints the interleaved
ratio).  The functions are compiled on first use and cached on disk (``cache=True``), so a
new worker process loads them instead of compiling them again.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _min_max(values: np.ndarray) -> tuple[float, float]:
    lo = math.inf
    hi = -math.inf
    for n in range(values.size):
        v = values[n]
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


#: Samples per block of :func:`_equalize` (its output block stays in the L1 cache while every
#: tap adds to it).
_BLOCK = 1024


@numba.njit(cache=True, nogil=True)
def _equalize(taps: np.ndarray, inputs: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    """``out = taps @ inputs`` (tap by tap, in order); returns ``(min, max)`` of ``out``."""
    n_taps, m = inputs.shape
    for start in range(0, m, _BLOCK):
        stop = min(start + _BLOCK, m)
        x, c = inputs[0], taps[0]
        for n in range(start, stop):  # a row at a time: contiguous, vectorised loops
            out[n] = c * x[n]
        for k in range(1, n_taps):
            x, c = inputs[k], taps[k]
            for n in range(start, stop):
                out[n] += c * x[n]
    return _min_max(out)


@numba.njit(cache=True, nogil=True)
def _bin(values: np.ndarray, weights: np.ndarray, weighted: bool, lo: float, scale: float,
         n_bins: int, raw: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> None:
    """Raw bin of each value, and per bin the (weighted) count and sum, in sample order."""
    top = n_bins - 1
    m = values.size
    for n in range(m):  # the bins first (vectorised), then the scatter
        s = values[n] - lo
        s = s * scale
        i = int(s)
        raw[n] = i if i < top else top
    if weighted:
        for n in range(m):
            i = raw[n]
            w = weights[n]
            counts[i] += w
            sums[i] += w * values[n]
    else:
        for n in range(m):
            i = raw[n]
            counts[i] += 1.0
            sums[i] += values[n]


@numba.njit(cache=True, nogil=True)
def _pairs(counts: np.ndarray, sums: np.ndarray, total: float, thresholds: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Threshold pairs of the non-empty bins: ``(d, w, sign, bin, non-empty mask)``."""
    n_bins = counts.size
    nt = thresholds.size
    nz = counts > 0.0
    n_nz = 0
    for b in range(n_bins):
        if nz[b]:
            n_nz += 1
    cen = np.empty(n_nz)
    h = np.empty(n_nz)
    above = np.empty(n_nz, dtype=np.int64)  # thresholds <= centroid (searchsorted, right)
    j = 0
    n_lo = 0
    n_hi = 0
    for b in range(n_bins):
        if nz[b]:
            c = sums[b] / counts[b]
            cen[j] = c
            h[j] = counts[b] / total
            k = 0
            while k < nt and thresholds[k] <= c:
                k += 1
            above[j] = k
            if k > 0:
                n_lo += 1
            if k < nt:
                n_hi += 1
            j += 1
    size = n_lo + n_hi
    d = np.empty(size)
    w = np.empty(size)
    sign = np.empty(size)
    bins = np.empty(size, dtype=np.int64)
    p = 0
    for j in range(n_nz):
        k = above[j]
        if k > 0:
            v = cen[j] - thresholds[k - 1]
            d[p] = v if v > 0.0 else 0.0
            w[p] = h[j]
            sign[p] = -1.0
            bins[p] = j
            p += 1
    for j in range(n_nz):
        k = above[j]
        if k < nt:
            v = thresholds[k] - cen[j]
            d[p] = v if v > 0.0 else 0.0
            w[p] = h[j]
            sign[p] = 1.0
            bins[p] = j
            p += 1
    return d, w, sign, bins, nz


_NO_WEIGHTS = np.empty(0)


def window_pairs(taps: np.ndarray, inputs: np.ndarray, weights: np.ndarray | None,
                 total: float, thresholds: np.ndarray, n_bins: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Equalize, bin and pair one histogram window.

    Parameters
    ----------
    taps : numpy.ndarray
        FFE taps ``c`` (n_taps,).
    inputs : numpy.ndarray
        Tap inputs of the window's samples, C-contiguous float64 ``(n_taps, M)``.
    weights : numpy.ndarray or None
        Histogram weight of each sample (M,), or None for equal weights.
    total : float
        Sum of the weights (``M`` without weights), as the numpy path computes it
        (``weights.sum()``: numpy's pairwise sum, which this module does not repeat).
    thresholds : numpy.ndarray
        The decision thresholds, sorted ascending.
    n_bins : int
        Histogram bins.

    Returns
    -------
    tuple
        ``(d, w, sign, bin, raw, nz)`` as :func:`optics.tdecq.ser._distances` and
        :func:`optics.tdecq.ser._binned` give them: distance of each (bin, threshold) pair,
        the bin's weight, -1/+1 for the threshold below/above, the index of the bin among the
        non-empty ones, the raw bin (0..n_bins-1) of each sample and the non-empty mask.
    """
    y = np.empty(inputs.shape[1])
    lo, hi = _equalize(taps, inputs, y)
    return _histogram_pairs(y, lo, hi, weights, total, thresholds, n_bins)


def histogram_pairs(values: np.ndarray, weights: np.ndarray | None, total: float,
                    thresholds: np.ndarray, n_bins: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`window_pairs` of samples already equalized (``values``, float64)."""
    lo, hi = _min_max(values)
    return _histogram_pairs(values, lo, hi, weights, total, thresholds, n_bins)


def _histogram_pairs(y: np.ndarray, lo: float, hi: float, weights: np.ndarray | None,
                     total: float, thresholds: np.ndarray, n_bins: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m = y.size
    span = hi - lo
    if not span > 0.0:  # every sample equal: one bin of weight 1 (as _binned)
        d, w, sign, bins, nz = _pairs(np.ones(1), np.array([lo]), 1.0, thresholds)
        return d, w, sign, bins, np.zeros(m, dtype=np.intp), nz
    raw = np.empty(m, dtype=np.intp)
    counts = np.zeros(n_bins)
    sums = np.zeros(n_bins)
    weighted = weights is not None
    _bin(y, weights if weighted else _NO_WEIGHTS, weighted, lo, n_bins / span, n_bins, raw,
         counts, sums)
    d, w, sign, bins, nz = _pairs(counts, sums, total, thresholds)
    return d, w, sign, bins, raw, nz


_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@numba.njit(cache=True, nogil=True)
def ser_and_slope(d: np.ndarray, w: np.ndarray, sigma: float) -> tuple[float, float]:
    """``(sum w Q(z), sum w phi(z) z sqrt(2 pi))`` with ``z = d / sigma``, in one pass.

    ``Q(z) = erfc(z / sqrt 2) / 2`` (libm's ``erfc``, accurate to about an ulp, as
    ``scipy.special.ndtr`` is) and ``phi(z) sqrt(2 pi) = exp(-z^2/2)``: the SER of a histogram
    with added Gaussian noise of RMS ``sigma`` and the sum that gives its slope
    (:func:`optics.tdecq.ser._solve_sigma`).
    """
    ser = 0.0
    slope = 0.0
    for i in range(d.size):
        z = d[i] / sigma
        ser += w[i] * (0.5 * math.erfc(z * _INV_SQRT2))
        slope += w[i] * (math.exp(-0.5 * z * z) * z)
    return ser, slope


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG_TINY = math.log(5e-324)  # Q underflows to 0 far below a very small target (e.g. 1e-200)


@numba.njit(cache=True, nogil=True)
def newton_log_sigma(d: np.ndarray, w: np.ndarray, log_target: float, t: float, a: float
                     ) -> float:
    """Root ``sigma`` of ``ln SER(sigma) = log_target`` by the safeguarded Newton iteration of
    :func:`optics.tdecq.ser._solve_sigma` in ``t = ln sigma``, from ``t`` with the bracket's
    lower end ``a`` (``F(a) < 0``); see there for the method and its stopping rules."""
    b = math.inf
    for _ in range(200):
        ser, slope_sum = ser_and_slope(d, w, math.exp(t))
        if ser <= 5e-324:
            f, slope = _LOG_TINY - log_target, 1.0
        else:
            f, slope = math.log(ser) - log_target, slope_sum * _INV_SQRT_2PI / ser
        if f == 0.0:
            return math.exp(t)
        if f < 0.0:
            a = max(a, t)
        else:
            b = min(b, t)
        step = -f / slope if slope > 0.0 else (2.0 if f < 0.0 else -2.0)
        newton = abs(step) <= 2.0
        step = max(-2.0, min(2.0, step))
        t_new = t + step
        if newton and abs(step) < 1e-6:
            return math.exp(t_new)
        if not (a < t_new < b):
            t_new = 0.5 * (a + b) if math.isfinite(b) else a + 2.0
        if b - a < 1e-11 * max(1.0, abs(t)):
            return math.exp(t_new)
        t = t_new
    return math.exp(t)
