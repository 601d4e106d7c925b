"""The optical reference receiver of IEEE 802.3 TDECQ: a Bessel-Thomson low-pass response.

IEEE 802.3 clause 121.8.5.2 (and the PMD clauses that reuse it) measures TDECQ through an
O/E converter and oscilloscope whose combined response is a 4th-order Bessel-Thomson (BT4)
low-pass filter, with its -3 dB frequency at half the signalling rate (26.5625 GHz for
53.125 GBd).  :func:`bessel_thomson` applies that response to any :class:`~optics.Waveform`.

How it is applied
-----------------
A TDECQ capture is a pattern-locked record of whole pattern repeats, i.e. one period of a
periodic signal, so the filter output wanted is the *steady-state periodic* response (a
circular convolution), with no start-up transient and no truncated tail.  Two exact-enough
ways are used (``method="auto"`` picks one):

* ``"fft"``: multiply the record's FFT by the exact analog response ``H(j 2 pi f_k)`` at
  every bin and transform back.  No frequency warping (the bilinear transform compresses the
  response toward Nyquist, which matters at 2-8 samples per symbol) and no aliasing of the
  impulse response (impulse invariance).  Cost: one real FFT pair of the record length; a
  length with a large prime factor (PRBS13Q x 16 = 16 x 8191, SSPRQ x 32 = 257 x 8160) is
  transformed as a Good-Thomas 2-D DFT (:mod:`optics.periodic_fft`, the same DFT: the
  filter takes ~7 ms instead of ~21 ms for 131 056 samples, ``benchmarks/bench_yield_lane.py``),
  and the response at the bins is kept per record length, sample rate, bandwidth and order.
* ``"iir"``: bilinear transform with the -3 dB frequency pre-warped
  (``scipy.signal.bessel(..., fs=...)``), run as second-order sections over the record
  preceded by its own last ``10/f_3dB`` seconds, which puts the recursion in the periodic
  steady state (the BT impulse response has decayed below 1e-12 of its peak after
  ~4.6/f_3dB).  The relative frequency warping is ``(pi f/f_s)^2/3``: 0.08 % at f_3dB
  when ``f_s >= 64 f_3dB``; cost ~20 ms for 2 M samples.  The DC group
  delay is removed by a whole-sample rotation plus linear interpolation of the fraction.

``"auto"`` uses ``"iir"`` when the sample rate is at least 64 times the bandwidth (32
samples per symbol at baud/2) and ``"fft"`` otherwise.  On an ideal PAM4 signal the two
give TDECQ within 0.003 dB of each other at 32 samples per symbol (0.02 dB at 16, which is
why the IIR path is not used there).

For a record that is *not* a whole number of periods, the wrap-around joins its two ends;
the error is confined to the first and last few unit intervals.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.signal

from optics import periodic_fft, validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Waveform

#: Orders accepted by :func:`bessel_thomson`.
MAX_ORDER = 10

#: ``method="auto"`` uses the IIR path when sample rate >= this many times the bandwidth.
IIR_MIN_OVERSAMPLING = 64.0

#: Periodic-wrap prefix of the IIR path, in units of 1/bandwidth.
SETTLE_PERIODS = 10.0


def bessel_thomson_coefficients(
    bandwidth_hz: float, order: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(b, a)`` of the analog Bessel-Thomson low-pass with -3 dB at ``bandwidth_hz``.

    ``H(s) = b(s)/a(s)`` in the Laplace variable ``s`` (rad/s), from
    ``scipy.signal.bessel(order, 2 pi bandwidth_hz, analog=True, norm='mag')``.  For order 4
    it equals ``105/(105 + 105 y + 45 y^2 + 10 y^3 + y^4)`` with ``y = 2.1139 s/omega_r``
    (IEEE 802.3 121.8.5.2 reference receiver form).

    Parameters
    ----------
    bandwidth_hz : float
        -3 dB frequency in Hz, > 0.
    order : int, optional
        Filter order, 1..10 (default 4).

    Returns
    -------
    b, a : numpy.ndarray
        Numerator and denominator coefficients, highest power of ``s`` first.

    Raises
    ------
    InvalidParameter, InvalidType
        Non-positive bandwidth, or order outside 1..10.
    """
    bw = validate.positive("bandwidth_hz", bandwidth_hz, "Hz")
    n = validate.integer("order", order, 1, MAX_ORDER)
    b, a = _coefficients(float(bw), int(n))
    return b.copy(), a.copy()


@functools.lru_cache(maxsize=16)
def _coefficients(bandwidth_hz: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bessel_thomson_coefficients` of validated arguments, kept (a parameter-only
    result: ``scipy.signal.bessel`` takes ~2 ms, as long as the filtering of a yield lane's
    record; read-only)."""
    b, a = scipy.signal.bessel(order, 2.0 * math.pi * bandwidth_hz, btype="low", analog=True,
                               norm="mag")
    b, a = np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64)
    b.setflags(write=False)
    a.setflags(write=False)
    return b, a


def bessel_thomson_response(
    frequency_hz: np.ndarray, bandwidth_hz: float, order: int = 4, *, remove_delay: bool = True
) -> np.ndarray:
    """Complex frequency response of the Bessel-Thomson reference receiver.

    Parameters
    ----------
    frequency_hz : array_like
        Frequencies in Hz.
    bandwidth_hz : float
        -3 dB frequency in Hz, > 0.
    order : int, optional
        Filter order (default 4).
    remove_delay : bool, optional
        If True (default), multiply by ``exp(+j 2 pi f tau0)`` where ``tau0`` is the
        filter's DC group delay (``a[-2]/a[-1]`` s), so the filtered waveform stays aligned
        in time with its input.  The magnitude response is unchanged.

    Returns
    -------
    numpy.ndarray of complex
        ``H(j 2 pi f)``, unity at DC, ``|H| = 1/sqrt(2)`` at ``bandwidth_hz``.

    Raises
    ------
    InvalidParameter, InvalidType
        As :func:`bessel_thomson_coefficients`.
    """
    b, a = bessel_thomson_coefficients(bandwidth_hz, order)
    if np.iscomplexobj(frequency_hz):
        raise InvalidType("frequency_hz must be real frequencies in Hz, got complex values")
    try:
        f = np.asarray(frequency_hz, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidType(f"frequency_hz must be real numbers in Hz: {exc}") from None
    if not np.all(np.isfinite(f)):
        raise InvalidParameter("frequency_hz contains NaN or inf; frequencies must be finite")
    s = 2j * math.pi * f
    h = np.polyval(b, s) / np.polyval(a, s)
    if remove_delay:
        tau0 = a[-2] / a[-1]
        h = h * np.exp(1j * 2.0 * math.pi * f * tau0)
    return h


@functools.lru_cache(maxsize=8)
def _periodic_response(n: int, sample_rate_hz: float, bandwidth_hz: float, order: int,
                       remove_delay: bool) -> np.ndarray:
    """``H(j 2 pi f)`` at the bins of :func:`optics.periodic_fft.real_spectrum` of ``n``
    samples (a parameter-only response: kept for the next record of that length and rate;
    read-only)."""
    freq = periodic_fft.real_spectrum_freqs(n, sample_rate_hz)
    h = bessel_thomson_response(freq, bandwidth_hz, order, remove_delay=remove_delay)
    h.setflags(write=False)
    return h


def _filter_fft(wf: Waveform, bandwidth_hz: float, order: int, remove_delay: bool) -> np.ndarray:
    # the record's DFT in the Good-Thomas layout when its length has a large prime factor
    # (PRBS13Q x 16: 16 x 8191), the plain rfft otherwise; the same circular convolution
    n = wf.n_samples
    spec = periodic_fft.real_spectrum(np.asarray(wf.samples, dtype=np.float64))
    spec *= _periodic_response(n, float(wf.sample_rate_hz), float(bandwidth_hz), int(order), bool(remove_delay))
    return periodic_fft.real_inverse(spec, n)


def _filter_iir(wf: Waveform, bandwidth_hz: float, order: int, delay_s: float) -> np.ndarray:
    sos = scipy.signal.bessel(order, bandwidth_hz, btype="low", norm="mag", output="sos",
                              fs=wf.sample_rate_hz)
    x = wf.samples
    n = x.size
    n_pre = int(math.ceil(SETTLE_PERIODS * wf.sample_rate_hz / bandwidth_hz))
    pre = x[np.arange(-n_pre, 0) % n]  # the record's own end, repeated as needed
    y = scipy.signal.sosfilt(sos, np.concatenate((pre, x)))[n_pre:]
    if delay_s == 0.0:
        return y
    # advance by the DC group delay: whole samples by rotation, the fraction by linear
    # interpolation (its low-pass effect is cos(pi f/f_s): < 0.1 % at f <= f_s/64)
    d = delay_s * wf.sample_rate_hz
    whole = int(math.floor(d))
    frac = d - whole
    y = np.roll(y, -whole)
    return (1.0 - frac) * y + frac * np.roll(y, -1)


def bessel_thomson(
    wf: Waveform,
    bandwidth_hz: float | None = None,
    order: int = 4,
    *,
    remove_delay: bool = True,
    method: str = "auto",
) -> Waveform:
    """Filter a waveform with the Bessel-Thomson reference-receiver response.

    The record is treated as one period of a periodic signal (a pattern-locked capture)
    and the steady-state periodic response is returned; see the module notes for the two
    methods and their accuracy.

    Parameters
    ----------
    wf : Waveform
        Any waveform (optical power, voltage, current; simulated or measured).
    bandwidth_hz : float, optional
        -3 dB frequency in Hz, > 0.  Default: half the symbol rate (IEEE 802.3 121.8.5.2:
        26.5625 GHz at 53.125 GBd), which needs ``wf.symbol_rate_baud``.
    order : int, optional
        Filter order, 1..10 (default 4, the IEEE reference receiver).
    remove_delay : bool, optional
        Remove the filter's DC group delay (default True) so that symbol timing is kept
        (exactly with ``"fft"``; with ``"iir"`` the fractional sample by linear
        interpolation).
    method : {"auto", "fft", "iir"}, optional
        How the analog response is applied (module notes).  Default ``"auto"``.  ``"iir"``
        falls back to ``"fft"`` (recorded in ``meta``) when the bandwidth is at or above half
        the sample rate, or so low that the settling prefix ``10/bandwidth_hz`` is longer
        than the record.

    Returns
    -------
    Waveform
        Same sample rate, quantity, symbol rate and pattern; ``meta`` gains
        ``reference_receiver = {"type": "bessel-thomson", "order", "bandwidth_hz"}``.

    Raises
    ------
    InvalidWaveform
        No bandwidth given and no symbol rate on the waveform.
    InvalidParameter, InvalidType
        Non-positive bandwidth, order outside 1..10, unknown method, ``wf`` not a
        Waveform.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> wf = Waveform(samples=np.repeat([0.0, 1e-3, 0.0, 1e-3], 32), sample_rate_hz=32e9,
    ...               symbol_rate_baud=1e9)
    >>> out = bessel_thomson(wf)          # -3 dB at 0.5 GHz
    >>> round(float(out.samples.mean()), 6)
    0.0005
    """
    if not isinstance(wf, Waveform):
        raise InvalidType(f"wf must be an optics.Waveform, got {type(wf).__name__}")
    if bandwidth_hz is None:
        bandwidth_hz = 0.5 * wf.require_symbol_rate()
    if method not in ("auto", "fft", "iir"):
        raise InvalidParameter(f"method = {method!r}; allowed: 'auto', 'fft', 'iir'")
    b, a = bessel_thomson_coefficients(bandwidth_hz, order)  # validates bandwidth and order
    bw = float(bandwidth_hz)
    if method == "auto":
        method = "iir" if wf.sample_rate_hz >= IIR_MIN_OVERSAMPLING * bw else "fft"
    # The IIR path settles on SETTLE_PERIODS / bw of the record's own end; when that is
    # longer than the record (a bandwidth far below the symbol rate) the FFT path gives the
    # same periodic response without building a prefix longer than the record.
    too_slow = SETTLE_PERIODS * wf.sample_rate_hz / bw > wf.n_samples
    if method == "fft" or bw >= 0.5 * wf.sample_rate_hz or too_slow:
        y = _filter_fft(wf, bw, order, remove_delay)
        method = "fft"
    else:
        y = _filter_iir(wf, bw, order, (a[-2] / a[-1]) if remove_delay else 0.0)
    meta = dict(wf.meta)
    meta["reference_receiver"] = {
        "type": "bessel-thomson",
        "order": int(order),
        "bandwidth_hz": float(bandwidth_hz),
        "method": method,
    }
    return wf.with_samples(y, meta=meta)


__all__ = [
    "bessel_thomson",
    "bessel_thomson_coefficients",
    "bessel_thomson_response",
]
