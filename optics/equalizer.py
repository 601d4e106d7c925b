"""The TDECQ reference equalizer: a T-spaced feed-forward equalizer (FFE) and its noise gain.

IEEE 802.3 clause 121.8.5.4 (802.3bs; reused by 802.3cd/cu/df PMDs) specifies a 5-tap,
symbol-spaced (T-spaced) FFE whose tap weights sum to 1 (unity DC gain) and are chosen to
minimise TDECQ.  It acts on the whole waveform, not only at the sampling instants:

    y(t) = sum_k c_k x(t - (k - m) T),    k = 0 .. n_taps - 1,

with ``m`` = the number of precursor taps (``c_m`` is the main cursor; taps ``k < m``
weight *later* samples).  The position of the main cursor is not fixed by the clause as far
as we could check (UNVERIFIED, see :data:`DEFAULT_PRECURSORS`); it is a parameter here.

The noise-enhancement coefficient ``C_eq`` (802.3-2018 121.8.5.3, its equation is not
reproduced in any source available to us) is reconstructed as the RMS gain of the FFE for
white noise filtered by the reference receiver:

    C_eq^2 = sum_i sum_j c_i c_j r((i - j) T),   r(tau) = R(tau)/R(0),
    R(tau) = integral_0^inf |H_BT(f)|^2 cos(2 pi f tau) df,

equivalently ``C_eq = sqrt(int |H_BT H_FFE|^2 df / int |H_BT|^2 df)``.  Without the filter
(white noise, uncorrelated at T spacing) it reduces to ``sqrt(sum c_k^2)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft
import scipy.integrate
import scipy.signal

from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Waveform

#: Default number of taps of the TDECQ reference FFE (802.3bs/cd/cu/df).
DEFAULT_N_TAPS = 5

#: Most taps accepted (802.3dj references use longer, constrained FFEs).
MAX_TAPS = 41


def default_precursors(n_taps: int) -> int:
    """Default number of precursor taps: the main cursor in the middle, ``(n_taps - 1)//2``.

    For the 5-tap reference FFE this is 2 precursors.  UNVERIFIED against the IEEE text
    (which, as we recall it, only fixes the tap count and the sum-to-1 constraint); a
    centred main cursor makes the FFE able to cancel the symmetric pre/post-cursor ISI of a
    linear-phase (Bessel) response, and unused taps are simply optimised to ~0.
    """
    return (int(n_taps) - 1) // 2


def check_taps(taps: object) -> np.ndarray:
    """Return ``taps`` as a float64 1-D array of 1..MAX_TAPS finite values, or raise."""
    arr = validate.finite_array("taps", taps, ndim=1, min_size=1)
    if arr.size > MAX_TAPS:
        raise InvalidParameter(f"taps has {arr.size} values; at most {MAX_TAPS} are allowed")
    return arr


def check_precursors(n_precursors: int | None, n_taps: int) -> int:
    """Validate the number of precursor taps for an FFE of ``n_taps`` taps."""
    if n_precursors is None:
        return default_precursors(n_taps)
    return validate.integer("n_precursors", n_precursors, 0, n_taps - 1)


def apply_ffe(wf: Waveform, taps: object, *, n_precursors: int | None = None) -> Waveform:
    """Apply a T-spaced FFE to the whole waveform (every sample phase).

    ``y(t) = sum_k c_k x(t - (k - m) T)`` evaluated in the frequency domain,
    ``Y(f) = X(f) sum_k c_k exp(-j 2 pi f (k - m) T)``, which gives exact fractional-sample
    delays for any (non-integer) number of samples per symbol.  The record is treated as
    periodic (a pattern-locked capture), as in
    :func:`optics.reference_receiver.bessel_thomson`.

    Parameters
    ----------
    wf : Waveform
        Waveform with ``symbol_rate_baud``.
    taps : array_like
        Tap weights ``c_0 .. c_{n-1}`` (dimensionless).
    n_precursors : int, optional
        Main-cursor index ``m`` (default :func:`default_precursors`).

    Returns
    -------
    Waveform
        The equalized waveform, same timing; ``meta["ffe_taps"]`` records the taps.

    Raises
    ------
    InvalidWaveform
        No symbol rate on ``wf``.
    InvalidParameter, InvalidType
        Bad taps or precursor count.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> wf = Waveform(samples=np.repeat([0.0, 1.0, 0.0, 0.0], 8), sample_rate_hz=8e9,
    ...               symbol_rate_baud=1e9, quantity="voltage")
    >>> y = apply_ffe(wf, [0.0, 1.0, 0.0])      # the identity FFE
    >>> bool(np.allclose(y.samples, wf.samples))
    True
    """
    if not isinstance(wf, Waveform):
        raise InvalidType(f"wf must be an optics.Waveform, got {type(wf).__name__}")
    c = check_taps(taps)
    m = check_precursors(n_precursors, c.size)
    period_s = 1.0 / wf.require_symbol_rate()
    n = wf.n_samples
    f = scipy.fft.rfftfreq(n, d=wf.dt_s)
    delays = (np.arange(c.size) - m) * period_s
    h = np.zeros(f.size, dtype=np.complex128)
    for ck, dk in zip(c, delays):
        if ck != 0.0:
            h += ck * np.exp(-2j * math.pi * f * dk)
    y = scipy.fft.irfft(scipy.fft.rfft(wf.samples) * h, n=n)
    meta = dict(wf.meta)
    meta["ffe_taps"] = [float(v) for v in c]
    return wf.with_samples(y, meta=meta)


@functools.lru_cache(maxsize=64)
def _bt_autocorrelation(n_lags: int, bandwidth_ui: float, order: int) -> tuple[float, ...]:
    # |H(u)|^2 with u = f / f_3dB; cos(2 pi f k T) = cos(2 pi u k bandwidth_ui)
    b, a = scipy.signal.bessel(order, 1.0, btype="low", analog=True, norm="mag")

    def power(u: float) -> float:
        s = 1j * u
        return float(abs(np.polyval(b, s) / np.polyval(a, s)) ** 2)

    r0 = scipy.integrate.quad(power, 0.0, np.inf, limit=200)[0]
    out = [1.0]
    for k in range(1, n_lags):
        w = 2.0 * math.pi * k * bandwidth_ui
        if w < 1.0:
            # slow oscillation (bandwidth << baud): QAWF returns ~0 here instead of ~1, but
            # |H|^2 (~u^-8) is negligible long before cos(w u) turns, so plain quadrature works
            rk = scipy.integrate.quad(lambda u: power(u) * math.cos(w * u), 0.0, np.inf,
                                      limit=200)[0]
        else:
            rk = scipy.integrate.quad(power, 0.0, np.inf, weight="cos", wvar=w, limlst=100)[0]
        out.append(rk / r0)
    return tuple(out)


def noise_autocorrelation(
    n_lags: int,
    *,
    symbol_rate_baud: float,
    bandwidth_hz: float | None = None,
    order: int = 4,
) -> np.ndarray:
    """Normalised autocorrelation ``r(kT)``, k = 0..n_lags-1, of filtered white noise.

    ``r(tau) = R(tau)/R(0)`` with ``R(tau) = int_0^inf |H_BT(f)|^2 cos(2 pi f tau) df`` for
    the Bessel-Thomson response of :mod:`optics.reference_receiver`; computed by adaptive
    Fourier-integral quadrature (QUADPACK QAWF).

    Parameters
    ----------
    n_lags : int
        Number of lags (>= 1).
    symbol_rate_baud : float
        Symbol rate 1/T in Bd.
    bandwidth_hz : float or None, optional
        -3 dB bandwidth of the reference receiver in Hz; None means unfiltered white noise
        (``r = [1, 0, 0, ...]``).
    order : int, optional
        Bessel-Thomson order (default 4).

    Returns
    -------
    numpy.ndarray
        ``r[0] = 1``.

    Raises
    ------
    InvalidParameter, InvalidType
        Non-positive rates, bad lag count or order.
    """
    n = validate.integer("n_lags", n_lags, 1, MAX_TAPS)
    baud = validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
    if bandwidth_hz is None:
        out = np.zeros(n)
        out[0] = 1.0
        return out
    bw = validate.positive("bandwidth_hz", bandwidth_hz, "Hz")
    order = validate.integer("order", order, 1, 10)
    return np.array(_bt_autocorrelation(n, bw / baud, order))


def correlation_matrix(r: np.ndarray) -> np.ndarray:
    """Toeplitz matrix ``M[i, j] = r(|i - j|)`` from a normalised autocorrelation."""
    r = np.asarray(r, dtype=np.float64)
    idx = np.abs(np.subtract.outer(np.arange(r.size), np.arange(r.size)))
    return r[idx]


def noise_enhancement(
    taps: object,
    *,
    symbol_rate_baud: float | None = None,
    bandwidth_hz: float | None = None,
    order: int = 4,
) -> float:
    """Noise-enhancement coefficient ``C_eq`` of a T-spaced FFE (dimensionless, > 0).

    ``C_eq = sqrt(sum_i sum_j c_i c_j r((i - j) T))`` with ``r`` from
    :func:`noise_autocorrelation` (a reconstruction of 802.3-2018 121.8.5.3, see the module
    notes).  With ``bandwidth_hz=None`` (white noise) ``C_eq = sqrt(sum c_k^2)``.
    ``10 log10(C_eq)`` is the ``ceq_db`` reported with TDECQ.

    Parameters
    ----------
    taps : array_like
        FFE tap weights.
    symbol_rate_baud : float, optional
        Needed when ``bandwidth_hz`` is given.
    bandwidth_hz : float or None, optional
        Reference-receiver bandwidth in Hz, or None for white noise.
    order : int, optional
        Bessel-Thomson order (default 4).

    Returns
    -------
    float

    Raises
    ------
    InvalidParameter, InvalidType
        Bad taps; ``bandwidth_hz`` without ``symbol_rate_baud``; all-zero taps.

    Examples
    --------
    >>> round(noise_enhancement([0.1, 0.8, 0.1]), 4)      # white noise: sqrt(0.66)
    0.8124
    """
    c = check_taps(taps)
    if bandwidth_hz is None:
        r = np.zeros(c.size)
        r[0] = 1.0
    else:
        if symbol_rate_baud is None:
            raise InvalidParameter("noise_enhancement with bandwidth_hz needs symbol_rate_baud")
        r = noise_autocorrelation(
            c.size, symbol_rate_baud=symbol_rate_baud, bandwidth_hz=bandwidth_hz, order=order
        )
    g2 = float(c @ correlation_matrix(r) @ c)
    if g2 <= 0.0:
        raise InvalidParameter("taps are all zero: the FFE has no noise gain to report")
    return math.sqrt(g2)


def constrained_least_squares(
    basis: np.ndarray, target: np.ndarray, main: int
) -> np.ndarray:
    """Least-squares FFE taps with ``sum(c) = 1``.

    Minimises ``|c @ basis - target|^2`` subject to ``sum_k c_k = 1`` by eliminating the
    main tap, ``c_main = 1 - sum_{k != main} c_k``.

    Parameters
    ----------
    basis : numpy.ndarray, shape (n_taps, n_points)
        Row ``k`` holds the waveform delayed by ``(k - m) T`` at each point.
    target : numpy.ndarray, shape (n_points,)
        Desired equalized values (e.g. the nominal PAM4 levels of the decided symbols).
    main : int
        Index of the main tap.

    Returns
    -------
    numpy.ndarray
        Taps summing to 1.
    """
    n_taps = basis.shape[0]
    if n_taps == 1:
        return np.ones(1)
    others = [k for k in range(n_taps) if k != main]
    a = (basis[others] - basis[main]).T
    rhs = target - basis[main]
    # normal equations (an (n_taps-1)^2 system) with einsum: no multi-threaded BLAS call on
    # the long (n_points x n_taps) matrix
    gram = np.einsum("ni,nj->ij", a, a)
    # lstsq, not solve: the delayed copies are linearly dependent for a short periodic
    # pattern (e.g. the 0,1,2,3 staircase), where solve raises "Singular matrix"; lstsq
    # then returns the minimum-norm taps (the same solution when gram is regular)
    u = np.linalg.lstsq(gram, np.einsum("ni,n->i", a, rhs), rcond=None)[0]
    c = np.empty(n_taps)
    c[others] = u
    c[main] = 1.0 - u.sum()
    return c


def constrained_least_squares_moments(
    gram: np.ndarray, cross: np.ndarray, main: int
) -> np.ndarray:
    """:func:`constrained_least_squares` from the data's moments instead of the data.

    With ``B`` the basis (``n_taps x n_points``) and ``t`` the target, ``gram = B B^T`` and
    ``cross = B t`` (weighted sums for weighted least squares).  Eliminating the main tap
    gives the normal equations of ``a_i = B_i - B_m``: ``a a^T = G_oo - G_om - G_mo + G_mm``
    and ``a (t - B_m) = h_o - h_m - G_om + G_mm``, solved as there (minimum-norm taps for
    a singular system).  The same taps up to rounding (the moments of several sample sets
    add, so a caller can keep them per set and combine them without revisiting the data).

    Parameters
    ----------
    gram : numpy.ndarray, shape (n_taps, n_taps)
    cross : numpy.ndarray, shape (n_taps,)
    main : int
        Index of the main tap.

    Returns
    -------
    numpy.ndarray
        Taps summing to 1.
    """
    n_taps = gram.shape[0]
    if n_taps == 1:
        return np.ones(1)
    others = [k for k in range(n_taps) if k != main]
    g_om = gram[others, main]
    normal = (gram[np.ix_(others, others)] - g_om[:, None] - gram[main, others][None, :]
              + gram[main, main])
    rhs = cross[others] - cross[main] - g_om + gram[main, main]
    u = np.linalg.lstsq(normal, rhs, rcond=None)[0]
    c = np.empty(n_taps)
    c[others] = u
    c[main] = 1.0 - u.sum()
    return c


__all__ = [
    "DEFAULT_N_TAPS",
    "MAX_TAPS",
    "apply_ffe",
    "check_precursors",
    "check_taps",
    "constrained_least_squares",
    "constrained_least_squares_moments",
    "correlation_matrix",
    "default_precursors",
    "noise_autocorrelation",
    "noise_enhancement",
]
