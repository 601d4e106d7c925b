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

The tap search evaluates a window in one call, :func:`window_sigma` (or
:func:`window_sigma_grid`, which reads a window of whole columns of an integer-sps record
straight from the record's (columns x symbols) grid instead of ``n_taps`` gathered copies of
it), and its gradient in another (:func:`ser_gradient`, :func:`ser_gradient_grid`).  Their
pairs are :func:`window_pairs`' bit for bit; the gradient's sums run in another order than
numpy's, so the tap search's path agrees with the numpy path to rounding (TDECQ within
1e-9 dB, ``tests/optics/test_tdecq_kernel.py``), not bit for bit.

``numba`` is a dependency for this alone: the cost is evaluated some 45 times per TDECQ
measurement and yield prediction makes millions of measurements (issue 12).  Measured
(``benchmarks/bench_yield_lane.py``, the same run interleaving both versions on a machine
loaded ~2): TDECQ of a yield lane (PRBS13Q at 16 samples/UI) 33.7 -> 19.6 ms (medians of
three runs) with the one-call window evaluation, the grid reads, FFE loops LLVM vectorises
(:func:`_equalize`) and the looser stop of the search (``optics.tdecq.search.OPT_FTOL``); an
SSPRQ capture at 32 samples/UI (``benchmarks/bench_tdecq.py``'s) 141 -> 96 ms with 5 taps and
288 -> 157 ms with 15 (medians of two interleaved runs each, load 0.6).  No kernel calls BLAS
(``np.dot`` in numba would use scipy's OpenBLAS, whose thread pool then competes with numpy's).
The functions are compiled on first use and cached on disk (``cache=True``), so a new worker
process loads them instead of compiling them again.
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


#: Samples per block of :func:`_equalize` (the block of the output stays in the L1 cache while
#: every tap adds to it).
_BLOCK = 2048


@numba.njit(cache=True, nogil=True)
def _equalize(taps: np.ndarray, inputs: np.ndarray, out: np.ndarray) -> tuple[float, float]:
    """``out = taps @ inputs`` (tap by tap, in order); returns ``(min, max)`` of ``out``.

    Block by block of :data:`_BLOCK` samples, one plain loop per tap over views of the block
    (``o[i] = o[i] + c_k x_k[i]``), which LLVM vectorises; measured on 5 x 16 372 samples:
    10.7 us, against 16.1 us unblocked and 68 us for loops indexed by the block's offsets."""
    n_taps, m = inputs.shape
    for start in range(0, m, _BLOCK):
        stop = min(start + _BLOCK, m)
        _taps_into(taps, inputs, start, stop, out[start:stop])
    return _min_max(out)


@numba.njit(cache=True, nogil=True, inline="always")
def _taps_into(taps: np.ndarray, inputs: np.ndarray, start: int, stop: int, o: np.ndarray) -> None:
    x0 = inputs[0, start:stop]
    c0 = taps[0]
    for i in range(o.size):
        o[i] = c0 * x0[i]
    for k in range(1, taps.size):
        xk = inputs[k, start:stop]
        ck = taps[k]
        for i in range(o.size):
            o[i] = o[i] + ck * xk[i]


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
    ser, slope_sum = ser_and_slope(d, w, math.exp(t))
    return _newton_from(d, w, log_target, t, a, ser, slope_sum)


@numba.njit(cache=True, nogil=True)
def _newton_from(d: np.ndarray, w: np.ndarray, log_target: float, t: float, a: float,
                 ser: float, slope_sum: float) -> float:
    """:func:`newton_log_sigma` given :func:`ser_and_slope` at its start ``exp(t)``."""
    b = math.inf
    for it in range(200):
        if it > 0:
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


# --- one compiled evaluation of a window for the tap search: equalize, bin, pair, solve ---------

#: :func:`window_sigma` status: sigma solved (by Newton from the warm start).
SOLVED = 0
#: :func:`window_sigma` status: the compiled path does not apply here (every sample equal, no
#: pair, or a target the histogram cannot reach); the caller takes the Python path
#: (:func:`window_pairs`, :func:`optics.tdecq.ser._solve_sigma`), which also raises the errors
#: those cases call for.
FALL_BACK = 1
#: :func:`window_sigma` status: the pairs are returned but there was no usable warm start; the
#: caller solves sigma from them (:func:`optics.tdecq.ser._solve_sigma` without a start).
NEEDS_START = 2


@numba.njit(cache=True, nogil=True)
def _equalize_grid(taps: np.ndarray, grid: np.ndarray, cols: np.ndarray, rows: int,
                   out: np.ndarray) -> tuple[float, float]:
    """:func:`_equalize` of whole grid columns: tap ``k``'s input in row ``r`` of column ``c``
    is ``grid[c, n_taps - 1 - k + r]`` (:class:`optics.tdecq.windows._WindowSamples`), the
    columns one after the other in ``out``; the same operations in the same order, reading one
    sequence per column instead of ``n_taps`` copies of it."""
    n_taps = taps.size
    a = n_taps - 1
    for j in range(cols.size):
        g = grid[cols[j]]
        for start in range(0, rows, _BLOCK):
            stop = min(start + _BLOCK, rows)
            o = out[j * rows + start: j * rows + stop]
            g0 = g[a + start: a + stop]
            c0 = taps[0]
            for r in range(o.size):
                o[r] = c0 * g0[r]
            for k in range(1, n_taps):
                gk = g[a - k + start: a - k + stop]
                ck = taps[k]
                for r in range(o.size):
                    o[r] = o[r] + ck * gk[r]
    return _min_max(out)


@numba.njit(cache=True, nogil=True)
def _solve_window(y: np.ndarray, lo: float, hi: float, weights: np.ndarray, weighted: bool,
                  total: float, thresholds: np.ndarray, n_bins: int, target: float,
                  t_start: float):
    """Bin and pair the equalized window ``y`` (:func:`_histogram_pairs`) and solve its sigma
    (:func:`optics.tdecq.ser._solve_sigma`) from ``exp(t_start)``: see :func:`window_sigma`."""
    raw = np.empty(y.size, dtype=np.intp)
    empty = np.empty(0)
    if not hi - lo > 0.0:
        return (FALL_BACK, math.nan, empty, empty, empty, np.empty(0, dtype=np.int64), raw,
                np.empty(0, dtype=np.bool_))
    counts = np.zeros(n_bins)
    sums = np.zeros(n_bins)
    _bin(y, weights, weighted, lo, n_bins / (hi - lo), n_bins, raw, counts, sums)
    d, w, sign, bins, nz = _pairs(counts, sums, total, thresholds)
    if d.size == 0 or 0.5 * w.sum() <= target:
        return FALL_BACK, math.nan, d, w, sign, bins, raw, nz
    if not math.isfinite(t_start):
        return NEEDS_START, math.nan, d, w, sign, bins, raw, nz
    d_max = d.max()
    if d_max <= 0.0:
        return SOLVED, 0.0, d, w, sign, bins, raw, nz
    floor = 1e-9 * d_max
    if not math.exp(t_start) > floor:
        return NEEDS_START, math.nan, d, w, sign, bins, raw, nz
    # the SER grows with sigma: below the target at the start, it is below it at the floor,
    # so the closed-eye test at the floor is needed only when the start is above the target
    ser, slope_sum = ser_and_slope(d, w, math.exp(t_start))
    if ser >= target and ser_and_slope(d, w, floor)[0] >= target:
        return SOLVED, 0.0, d, w, sign, bins, raw, nz
    s = _newton_from(d, w, math.log(target), t_start, math.log(floor), ser, slope_sum)
    return SOLVED, s, d, w, sign, bins, raw, nz


@numba.njit(cache=True, nogil=True)
def window_sigma(taps: np.ndarray, inputs: np.ndarray, weights: np.ndarray, weighted: bool,
                 total: float, thresholds: np.ndarray, n_bins: int, target: float,
                 t_start: float):
    """:func:`window_pairs` and the sigma solve of :func:`optics.tdecq.ser._solve_sigma` in one
    compiled call, from the warm start ``sigma = exp(t_start)`` (NaN: none).

    ``weights`` is the per-sample histogram weight array when ``weighted`` (else ignored).
    Returns ``(status, sigma, d, w, sign, bins, raw, nz)``: with ``status`` :data:`SOLVED`, the
    largest sigma whose SER meets ``target`` (0.0 for a closed eye) and the pairs of
    :func:`window_pairs`, bit for bit; with :data:`NEEDS_START` those pairs and a NaN sigma;
    with :data:`FALL_BACK` a NaN sigma.  The solve is
    :func:`optics.tdecq.ser._solve_sigma`'s (its guards, then :func:`newton_log_sigma`), with
    ``sum(w)`` summed in order instead of pairwise (it only decides whether the target can be
    reached).
    """
    y = np.empty(inputs.shape[1])
    lo, hi = _equalize(taps, inputs, y)
    return _solve_window(y, lo, hi, weights, weighted, total, thresholds, n_bins, target, t_start)


@numba.njit(cache=True, nogil=True)
def window_sigma_grid(taps: np.ndarray, grid: np.ndarray, cols: np.ndarray, rows: int,
                      weights: np.ndarray, weighted: bool, total: float,
                      thresholds: np.ndarray, n_bins: int, target: float, t_start: float):
    """:func:`window_sigma` of a window of whole grid columns (:func:`_equalize_grid`)."""
    y = np.empty(cols.size * rows)
    lo, hi = _equalize_grid(taps, grid, cols, rows, y)
    return _solve_window(y, lo, hi, weights, weighted, total, thresholds, n_bins, target, t_start)


@numba.njit(cache=True, nogil=True)
def _sample_slopes(weights: np.ndarray, weighted: bool, total: float, raw: np.ndarray,
                   nz: np.ndarray, d: np.ndarray, w: np.ndarray, sign: np.ndarray,
                   bins: np.ndarray, sigma: float) -> tuple[float, np.ndarray]:
    """``(dSER/dsigma, dSER/dy_n for every sample n)``: see :func:`ser_gradient`."""
    n_nz = 0
    for b in range(nz.size):
        if nz[b]:
            n_nz += 1
    per_bin = np.zeros(n_nz)
    dser_ds = 0.0
    for p in range(d.size):
        z = d[p] / sigma
        pdf = math.exp(-0.5 * z * z) * _INV_SQRT_2PI
        dser_ds += w[p] * (pdf * z)
        per_bin[bins[p]] += sign[p] * pdf
    per_raw = np.zeros(nz.size)
    j = 0
    for b in range(nz.size):
        if nz[b]:
            per_raw[b] = per_bin[j] / (sigma * total)
            j += 1
    share = np.empty(raw.size)
    for n in range(raw.size):
        share[n] = per_raw[raw[n]] * weights[n] if weighted else per_raw[raw[n]]
    return dser_ds / sigma, share


@numba.njit(cache=True, nogil=True)
def ser_gradient(inputs: np.ndarray, weights: np.ndarray, weighted: bool, total: float,
                 raw: np.ndarray, nz: np.ndarray, d: np.ndarray, w: np.ndarray,
                 sign: np.ndarray, bins: np.ndarray, sigma: float) -> tuple[float, np.ndarray]:
    """``(dSER/dsigma, dSER/dc)`` of a window's histogram SER at ``sigma`` for FFE taps ``c``.

    ``SER = sum_p w_p Q(d_p / sigma)`` over the (bin, threshold) pairs ``p`` of
    :func:`window_sigma` (``d_p = +-(centroid - threshold)``), so
    ``dSER/dsigma = sum_p w_p phi(z_p) z_p / sigma``; a sample ``n`` of bin ``b`` moves the
    bin's centroid by its share ``weight_n / total`` of the bin's weight, so
    ``dSER/dy_n = (weight_n / total) sum_{p in b} sign_p phi(z_p) / sigma``, and with
    ``y_n = sum_k c_k x_kn``, ``dSER/dc_k = sum_n x_kn dSER/dy_n`` (``phi`` the standard normal
    density, ``z = d/sigma``).  The sums of the numpy path of
    :meth:`optics.tdecq.search._Engine._grad`, in another order (equal up to rounding).
    """
    dser_ds, share = _sample_slopes(weights, weighted, total, raw, nz, d, w, sign, bins, sigma)
    grad = np.empty(inputs.shape[0])
    for k in range(inputs.shape[0]):
        grad[k] = _dot(inputs[k], share)
    return dser_ds, grad


@numba.njit(cache=True, nogil=True)
def ser_gradient_grid(grid: np.ndarray, cols: np.ndarray, rows: int, n_taps: int,
                      weights: np.ndarray, weighted: bool, total: float, raw: np.ndarray,
                      nz: np.ndarray, d: np.ndarray, w: np.ndarray, sign: np.ndarray,
                      bins: np.ndarray, sigma: float) -> tuple[float, np.ndarray]:
    """:func:`ser_gradient` of a window of whole grid columns (:func:`_equalize_grid`)."""
    dser_ds, share = _sample_slopes(weights, weighted, total, raw, nz, d, w, sign, bins, sigma)
    grad = np.zeros(n_taps)
    a = n_taps - 1
    for j in range(cols.size):
        part = share[j * rows: (j + 1) * rows]
        g = grid[cols[j]]
        for k in range(n_taps):
            grad[k] += _dot(g[a - k: a - k + rows], part)
    return dser_ds, grad


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dot(x: np.ndarray, y: np.ndarray) -> float:
    """``sum x_i y_i``, reassociated so that LLVM vectorises it (the gradient is not bit for bit
    anyway).  Not ``np.dot``: in numba that calls the BLAS scipy ships, whose own thread pool
    then competes with numpy's (measured: 2.5 ms per gradient of an SSPRQ x 32 window instead
    of 0.06 ms)."""
    s = 0.0
    for i in range(x.size):
        s += x[i] * y[i]
    return s
