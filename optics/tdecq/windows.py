"""The recorded samples in the TDECQ histogram windows, and the FFE tap inputs at them.

Step 4 of the TDECQ method (see :mod:`optics.tdecq`): a window's histogram holds recorded
samples, never values interpolated between samples; sparse records are first
FFT-upsampled, and tap inputs between samples come from a band-limited fractional delay.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.fft


#: Records sparser than this (samples per UI) are first FFT-upsampled by an integer factor
#: to at least this many: with fewer, the samples around a window can be 0.25 UI or more
#: apart, too far to stand for a 0.04 UI window.
MIN_RECORD_SAMPLES_PER_UI = 8.0

#: Block length and discarded margin (samples) of the FFT fractional delay of long records.
FRACTIONAL_DELAY_BLOCK = 1 << 16
FRACTIONAL_DELAY_MARGIN = 4096


def _upsample(x: np.ndarray, factor: int) -> np.ndarray:
    """Band-limited (FFT, periodic) upsampling by an integer factor.

    The original samples are kept; the new ones are their band-limited (periodic sinc)
    interpolants, whose white-noise variance equals the samples' (``sum sinc^2 = 1``, up to
    the halved Nyquist bin), unlike linear interpolation.
    """
    n = x.size
    spec = scipy.fft.rfft(x)
    out = np.zeros(n * factor // 2 + 1, dtype=np.complex128)
    out[: spec.size] = spec
    if n % 2 == 0:
        out[n // 2] *= 0.5  # split the Nyquist bin between +- f
    return scipy.fft.irfft(out, n * factor) * factor


def _fractional_delay(x: np.ndarray, delay_samples: float) -> np.ndarray:
    """Record delayed by ``delay_samples`` (any real number): ``x(i - delay)`` at every ``i``.

    Band-limited (ideal) delay ``X(f) exp(-j 2 pi f delay)`` of the record taken as periodic
    (like the reference filter).  An all-pass: white noise keeps its variance, unlike
    linear interpolation (up to the one Nyquist bin of an even length).  Long records are
    done in overlapping blocks of ``FRACTIONAL_DELAY_BLOCK`` samples (fast FFT lengths even
    when the record length has large prime factors), each extended by
    ``FRACTIONAL_DELAY_MARGIN`` samples either side (wrapping around the record) whose
    results are discarded: the sinc kernel is then cut at >= 4096 samples, which leaves
    ``sum_{|k| > 4096} sinc^2 < 5e-5`` of a white noise's variance out.
    """
    n = x.size
    margin = FRACTIONAL_DELAY_MARGIN + int(math.ceil(abs(delay_samples)))
    length = scipy.fft.next_fast_len(FRACTIONAL_DELAY_BLOCK + 2 * margin, real=True)
    if n <= length:
        f = np.arange(n // 2 + 1) / n  # cycles per sample
        return scipy.fft.irfft(scipy.fft.rfft(x) * np.exp(-2j * math.pi * f * delay_samples),
                               n=n)
    core = length - 2 * margin
    starts = np.arange(0, n, core)
    idx = (starts[:, None] - margin + np.arange(length)[None, :]) % n
    f = np.arange(length // 2 + 1) / length
    blocks = scipy.fft.irfft(scipy.fft.rfft(x[idx], axis=1)
                             * np.exp(-2j * math.pi * f * delay_samples), n=length, axis=1)
    return blocks[:, margin: margin + core].ravel()[:n]


class _WindowSamples:
    """The recorded samples near the histogram windows of every symbol, with FFE tap inputs.

    Row ``r`` stands for symbol ``first_symbol + r`` (numbered as in the
    :class:`~optics.timing.SymbolTiming`).  Column ``c`` holds, for every row, one recorded
    sample near the windows; ``phase[c, r]`` is its time within the UI after the eye
    crossing (0.5 = eye centre; a ``(n_cols, 1)`` array when every symbol has the same sample
    phases) and ``tap_inputs[k][c, r]`` the input of FFE tap ``k`` at that sample's time,
    ``x(t - (k - main) T)``, so the equalized sample is ``sum_k c_k tap_inputs[k][c, r]``.

    * Integer samples per UI: the tap inputs are themselves recorded samples
      (``x[i - (k - main) N]``), taken from one (columns x symbols) copy of the record.
    * Non-integer: the sample itself (main cursor) is the recorded one; the other tap inputs
      fall between samples and are taken from the record delayed by ``(k - main) sps``
      samples with a band-limited FFT delay (:func:`_fractional_delay`, one per tap).

    Only samples whose tap inputs all lie inside the record are kept (a few symbols at
    each end are dropped).
    """

    def __init__(self, x: np.ndarray, sps: float, centre: float, n_sym: int, lo_ui: float,
                 hi_ui: float, n_taps: int, main: int) -> None:
        n = x.size
        self.sps = sps
        self.grid: np.ndarray | None = None
        whole = round(sps)
        self.integer = abs(sps - whole) < 1e-9
        if self.integer:
            big_n = int(whole)
            # sample offsets o (index = j N + o for symbol j) at phases lo_ui..hi_ui, plus one
            # sample either side (the nearest sample may lie just outside)
            o_lo = math.ceil(centre + (lo_ui - 0.5) * big_n - 1.0 - 1e-9)
            o_hi = math.floor(centre + (hi_ui - 0.5) * big_n + 1.0 + 1e-9)
            g0 = max(0, -(o_lo // big_n))  # first grid symbol with j N + o_lo >= 0
            g1 = min(n_sym - 1, (n - 1 - o_hi) // big_n)
            n_cols = o_hi - o_lo + 1
            n_grid = g1 - g0 + 1
            self.rows = max(0, n_grid - n_taps + 1)
            self.first_symbol = g0 + n_taps - 1 - main
            self.phase = (0.5 + (np.arange(o_lo, o_hi + 1) - centre) / big_n)[:, None]
            if self.rows == 0:
                self.tap_inputs = [np.empty((n_cols, 0))] * n_taps
                return
            view = np.lib.stride_tricks.as_strided(
                x[g0 * big_n + o_lo:], shape=(n_cols, n_grid),
                strides=(x.strides[0], big_n * x.strides[0]), writeable=False)
            grid = np.ascontiguousarray(view)
            #: (columns x grid symbols) copy of the record the tap inputs are views of
            self.grid = grid
            # tap k weights symbol j - (k - main): grid column (row + n_taps - 1 - k)
            self.tap_inputs = [grid[:, n_taps - 1 - k: n_taps - 1 - k + self.rows]
                               for k in range(n_taps)]
            return
        # non-integer: symbol j's columns start at the sample before phase lo_ui
        n_cols = int(math.ceil((hi_ui - lo_ui) * sps)) + 3
        j = np.arange(n_sym)
        start = np.ceil(centre + (j + lo_ui - 0.5) * sps - 1.0 - 1e-9).astype(np.intp)
        d_max = n_taps - 1 - main  # the tap input furthest back: x(t - d_max T)
        d_min = -main
        ok = (start - d_max * sps >= 0.0) & (start + n_cols - 1 - d_min * sps <= n - 1.0)
        good = np.flatnonzero(ok)
        if good.size == 0:
            self.rows, self.first_symbol = 0, 0
            self.phase = np.zeros((n_cols, 0))
            self.tap_inputs = [np.empty((n_cols, 0))] * n_taps
            return
        j = j[good[0]: good[-1] + 1]
        idx = start[j][None, :] + np.arange(n_cols)[:, None]
        self.rows = j.size
        self.first_symbol = int(j[0])
        self.phase = 0.5 + (idx - centre) / sps - j[None, :]
        self.tap_inputs = []
        for k in range(n_taps):
            src = x if k == main else _fractional_delay(x, (k - main) * sps)
            self.tap_inputs.append(src[idx])

    def select(self, centre_ui: float, width_ui: float) -> tuple[tuple[int, Any, Any], ...]:
        """The samples of the window ``[centre - width/2, centre + width/2)`` (UI).

        Returns ``(column, rows, weight)`` triples: ``rows`` a slice or an index array,
        ``weight`` None (1 for every sample), a number, or one value per selected row.

        * Window at least one sample spacing wide (``width_ui * sps >= 1``): every recorded
          sample whose phase lies in it, weight 1.
        * Narrower: for every symbol, the two recorded samples bracketing the window centre
          (the nearest on each side), weighted ``1 - f`` and ``f`` where ``f`` is the
          centre's fractional position between them (the weights linear interpolation would
          give their values, applied to histogram counts instead; only one sample when the
          centre falls on it).
        """
        ph = self.phase
        tol = 1e-9
        if width_ui * self.sps >= 1.0 - 1e-9:
            lo, hi = centre_ui - 0.5 * width_ui - tol, centre_ui + 0.5 * width_ui - tol
            inside = (ph >= lo) & (ph < hi)
            if self.integer:
                return tuple((int(c), slice(None), None)
                             for c in np.flatnonzero(inside[:, 0]))
            return tuple((int(c), np.flatnonzero(inside[c]), None) for c in range(ph.shape[0])
                         if inside[c].any())
        # a = last sample at or before the centre (exists: columns reach beyond the windows)
        a = np.count_nonzero(ph <= centre_ui + tol, axis=0) - 1
        if self.integer:
            a0 = int(a[0])
            f = float((centre_ui - ph[a0, 0]) / (ph[a0 + 1, 0] - ph[a0, 0]))
            if f <= tol:
                return ((a0, slice(None), None),)
            return ((a0, slice(None), 1.0 - f), (a0 + 1, slice(None), f))
        rows = np.arange(ph.shape[1])
        pa, pb = ph[a, rows], ph[a + 1, rows]
        f = (centre_ui - pa) / (pb - pa)
        out = []
        for c in range(ph.shape[0]):
            r_a = np.flatnonzero(a == c)
            r_b = np.flatnonzero((a + 1 == c) & (f > tol))
            r = np.concatenate((r_a, r_b))
            if r.size:
                out.append((c, r, np.concatenate((1.0 - f[r_a], f[r_b]))))
        return tuple(out)
