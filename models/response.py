"""Low-pass frequency responses of the analog blocks in a link, applied with the FFT.

Modulators, photodiodes, TIAs and drivers are modelled as linear low-pass filters with a
3 dB bandwidth and a response shape.  The filtering is done in the frequency domain on the
whole record (``rfft`` for real signals, ``fft`` for complex optical fields), i.e. the
record is treated as one period of a periodic signal.  This is exact for the periodic test
patterns (PRBSnQ, SSPRQ) the link simulation sends, and it has no start-up transient.

Shapes (``f`` in Hz, ``f3`` the 3 dB bandwidth):

``"first-order"``
    ``H = 1 / (1 + j f/f3)``: one RC pole.
``"bessel4"``
    Fourth-order Bessel-Thomson, ``H(s) = 105 / (s^4 + 10 s^3 + 45 s^2 + 105 s + 105)`` with
    ``s = j (f/f3) w3`` and ``w3 = 2.113917674`` (the 3 dB frequency of the
    delay-normalised polynomial).  The IEEE 802.3 reference-receiver shape (121.8.5.3 uses a
    4th-order Bessel-Thomson at baud/2); the TDECQ reference receiver itself comes from
    :mod:`optics.reference_receiver`, not from here.
``"gaussian"``
    ``|H| = 10^(-3/20 (f/f3)^2)``, zero phase: the smooth roll-off of many measured parts.
``"skin-effect"``
    ``H = exp(-k (1 + j) sqrt(f/f3))`` with ``k = ln(10^(3/20))``: the sqrt(f) (dB ∝ √f)
    microwave loss that limits travelling-wave electrodes (e.g. Zhou, Opt. Express 2013;
    the usual "measured-like" roll-off of a TW-MZM, falling slower than one pole past f3).

References
----------
W. E. Thomson, "Delay networks having maximally flat frequency characteristics",
Proc. IEE 96(3), 487 (1949) -- the Bessel-Thomson polynomial.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft as sfft

from models import gaussian
from models.fft_layout import FourStep, four_step
from optics import validate
from optics.errors import InvalidParameter
from optics.periodic_fft import FAST_PRIMES, pfa_plan, pfa_split, prime_powers

#: Response shapes understood by :func:`lowpass_response`.
SHAPES: tuple[str, ...] = ("first-order", "bessel4", "gaussian", "skin-effect")

_BESSEL4_W3 = 2.113917674904216  # 3 dB frequency (rad/s) of 105/(s^4+10s^3+45s^2+105s+105)
_K_3DB = math.log(10 ** (3.0 / 20.0))


def check_shape(name: str, shape: str) -> str:
    """Return ``shape`` if it is one of :data:`SHAPES`, else raise naming ``name``."""
    if shape not in SHAPES:
        raise InvalidParameter(f"{name} = {shape!r} is not a known response; allowed: {', '.join(SHAPES)}")
    return shape


def lowpass_response(freq_hz: np.ndarray, bandwidth_hz: float, shape: str = "first-order") -> np.ndarray:
    """Complex response of a low-pass filter at ``freq_hz`` (Hz, may be negative).

    Parameters
    ----------
    freq_hz : ndarray
        Frequencies in Hz.
    bandwidth_hz : float
        3 dB bandwidth in Hz, > 0.
    shape : str
        One of :data:`SHAPES` (module docstring gives the equations).

    Returns
    -------
    ndarray of complex
        ``H(f)``, with ``|H(f3)| = 10^(-3/20)`` and ``H(0) = 1``; Hermitian in ``f``.

    Raises
    ------
    InvalidParameter
        Non-positive bandwidth or unknown shape.
    """
    f3 = validate.positive("bandwidth_hz", bandwidth_hz, "Hz")
    check_shape("shape", shape)
    x = np.asarray(freq_hz, dtype=np.float64) / f3
    if shape == "first-order":
        return 1.0 / (1.0 + 1j * x)
    if shape == "bessel4":
        s = 1j * x * _BESSEL4_W3
        return 105.0 / ((((s + 10.0) * s + 45.0) * s + 105.0) * s + 105.0)
    if shape == "gaussian":
        return (10.0 ** (-0.15 * x * x)).astype(np.complex128)
    r = np.sqrt(np.abs(x))
    return np.exp(-_K_3DB * (r + 1j * np.sign(x) * r))


# The Good-Thomas plan is the analysis core's (optics.periodic_fft: the TDECQ reference
# receiver uses it too); the names stay importable from here.
_FAST_PRIMES = FAST_PRIMES
_prime_powers = prime_powers
_pfa_split = pfa_split


def real_four_step(n: int) -> FourStep | None:
    """The four-step layout real records of length ``n`` use, or None (:mod:`models.fft_layout`).

    Only when there is no Good-Thomas plan (:func:`pfa_plan`) and ``N1`` is even.
    """
    if pfa_plan(n) is not None:
        return None
    four = four_step(n)
    return four if four is not None and four.real_ok else None


def real_spectrum(x: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """Half spectrum of a real record: ``rfft(x)``, ``rfft2`` in :func:`pfa_plan` order, or
    :meth:`FourStep.real_forward` for long records of a fast length (:func:`real_four_step`)."""
    plan = pfa_plan(x.size)
    if plan is not None:
        return sfft.rfft2(x[plan[2]], workers=workers)
    four = real_four_step(x.size)
    if four is not None:
        return four.real_forward(x, workers=workers)
    return sfft.rfft(x, workers=workers)


def real_inverse(spec: np.ndarray, n: int, *, workers: int = 1, dtype: type | None = None) -> np.ndarray:
    """Inverse of :func:`real_spectrum` (overwrites ``spec``); ``dtype`` of the result (default:
    the transform's precision for the four-step and plain layouts, float64 for Good-Thomas)."""
    plan = pfa_plan(n)
    if plan is not None:
        out = np.empty(n, dtype=np.float64 if dtype is None else dtype)
        out[plan[2]] = sfft.irfft2(spec, s=(plan[0], plan[1]), overwrite_x=True, workers=workers)
        return out
    four = real_four_step(n)
    if four is not None:
        return four.real_inverse(spec, workers=workers, dtype=dtype)
    out = sfft.irfft(spec, n, overwrite_x=True, workers=workers)
    return out if dtype is None else out.astype(dtype, copy=False)


def real_spectrum_freqs(n: int, sample_rate_hz: float) -> np.ndarray:
    """Frequencies (Hz) of the bins of :func:`real_spectrum` (negative ones included in 2-D)."""
    plan = pfa_plan(n)
    if plan is not None:
        return plan[3][:, : plan[1] // 2 + 1] * sample_rate_hz
    four = real_four_step(n)
    if four is not None:
        return four.real_frequencies() * sample_rate_hz
    return sfft.rfftfreq(n, 1.0 / sample_rate_hz)


@functools.lru_cache(maxsize=4)
def staircase_grid(n_symbols: int, samples_per_symbol: int) -> tuple[np.ndarray, np.ndarray]:
    """Where a staircase's spectrum comes from in its symbols' DFT, on the :func:`real_spectrum` grid.

    A staircase ``x[i] = s[i // L]`` (``L`` samples per symbol, ``M`` symbols, ``N = M·L``)
    has the DFT ``X[k] = S[k mod M]·P[k]`` with ``S`` the ``M``-point DFT of ``s`` and the
    hold response

    ``P[k] = Σ_{j<L} exp(−2πj·k·j/N) = exp(−jπk(L−1)/N)·sin(πkL/N)/sin(πk/N)``,  ``P[0] = L``

    (split ``i = m·L + j`` in the DFT sum), evaluated at the signed bin ``k`` in
    ``(−N/2, N/2]`` where the sines are accurate.  So ``real_spectrum(np.repeat(s, L))`` is
    ``fft(s)[index]·hold`` (:func:`staircase_spectrum`): an ``M``-point transform and a gather
    instead of an ``N``-point transform.

    Returns
    -------
    index : numpy.ndarray
        ``k mod M`` (int32) for every entry of the :func:`real_spectrum` layout (read-only, kept).
    hold : numpy.ndarray
        ``P[k]`` (complex128) on the same layout (read-only, kept).
    """
    m = validate.integer("n_symbols", n_symbols, 1)
    big_l = validate.integer("samples_per_symbol", samples_per_symbol, 1)
    n = m * big_l
    k = np.rint(real_spectrum_freqs(n, float(n))).astype(np.int64)  # signed bins, exact integers
    index = (k % m).astype(np.int32)
    theta = (math.pi / n) * k
    hold = np.empty(k.shape, dtype=np.complex128)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sin(theta * big_l) / np.sin(theta)
    ratio[k == 0] = big_l
    np.cos(theta * (big_l - 1), out=hold.real)
    np.sin(theta * (1 - big_l), out=hold.imag)
    hold *= ratio
    for a in (index, hold):
        a.setflags(write=False)
    return index, hold


def staircase_spectrum(values: np.ndarray, samples_per_symbol: int, *, dtype: type = np.complex128) -> np.ndarray:
    """:func:`real_spectrum` of ``np.repeat(values, samples_per_symbol)``, from the DFT of ``values``.

    See :func:`staircase_grid`.  ``dtype`` complex64 rounds the (double-precision) result.
    """
    v = np.asarray(values, dtype=np.float64)
    index, hold = staircase_grid(v.size, samples_per_symbol)
    spec = sfft.fft(v).astype(dtype)[index]
    spec *= hold
    return spec


def white_noise_spectrum(
    n: int, sigma: float, rng: np.random.Generator, *, dtype: type = np.complex128
) -> np.ndarray:
    """:func:`real_spectrum` of a real white Gaussian record of ``n`` samples and rms ``sigma``.

    Drawn directly in the frequency domain: interior bins are complex Gaussian with
    ``E|X|² = n·σ²``; self-conjugate bins are real with variance ``n·σ²``.  In the 2-D layout
    the ``k2 = 0`` (and, for even n2, ``k2 = n2/2``) column is the DFT along axis 0 of real
    column sums, drawn as ``fft(sqrt(n2)·σ·N(0,1))``; the four-step layout is drawn by
    :meth:`FourStep.real_white_noise`.  ``dtype`` complex64 draws the same numbers in single
    precision (:func:`models.gaussian.standard_normal` with ``dtype=float32``).
    """
    cdt = np.dtype(dtype)
    if cdt not in (np.complex128, np.complex64):
        raise InvalidParameter(f"dtype = {cdt} is not supported; complex128 or complex64")
    rdt = np.float64 if cdt == np.complex128 else np.float32
    plan = pfa_plan(n)
    four = real_four_step(n) if plan is None else None
    if four is not None:
        return four.real_white_noise(sigma, rng, dtype=cdt)
    shape = (n // 2 + 1,) if plan is None else (plan[0], plan[1] // 2 + 1)
    x = np.empty(shape, dtype=cdt)
    xr = x.view(rdt).reshape(-1)
    # (real, imaginary) pairs of every bin, drawn straight into the array; then the
    # self-conjugate bins (1-D) or columns (2-D) are drawn again as real ones
    gaussian.standard_normal(rng, xr.size, out=xr, dtype=rdt)
    xr *= rdt(sigma * math.sqrt(n / 2.0))
    if plan is None:
        x[0] = sigma * math.sqrt(n) * gaussian.standard_normal(rng, 1)[0]
        if n % 2 == 0:
            x[-1] = sigma * math.sqrt(n) * gaussian.standard_normal(rng, 1)[0]
    else:
        n1, n2 = plan[0], plan[1]
        x[:, 0] = sfft.fft((sigma * math.sqrt(n2)) * gaussian.standard_normal(rng, n1))
        if n2 % 2 == 0:
            x[:, -1] = sfft.fft((sigma * math.sqrt(n2)) * gaussian.standard_normal(rng, n1))
    return x


_RESPONSE_CACHE: dict[tuple[object, ...], np.ndarray] = {}


def rfft_grid_response(
    n: int, sample_rate_hz: float, stages: tuple[tuple[float, str], ...], *, gain: float = 1.0
) -> np.ndarray:
    """``gain`` times the product of low-pass responses ``(bandwidth_hz, shape)`` on the
    :func:`real_spectrum` grid.

    Read-only and memoised (the last 4 grids), since every lane of a module shares them.
    """
    key = (n, float(sample_rate_hz), stages, float(gain))
    h = _RESPONSE_CACHE.get(key)
    if h is None:
        f = real_spectrum_freqs(n, sample_rate_hz)
        h = np.full(f.shape, gain, dtype=np.complex128)
        for bw, shape in stages:
            h *= lowpass_response(f, bw, shape)
        h.setflags(write=False)
        if len(_RESPONSE_CACHE) >= 4:
            _RESPONSE_CACHE.pop(next(iter(_RESPONSE_CACHE)))
        _RESPONSE_CACHE[key] = h
    return h


def check_sampling(name: str, bandwidth_hz: float, sample_rate_hz: float) -> None:
    """Raise unless ``sample_rate_hz >= 2 * bandwidth_hz`` (Nyquist for the modelled band)."""
    if sample_rate_hz < 2.0 * bandwidth_hz:
        raise InvalidParameter(
            f"sample_rate_hz = {sample_rate_hz:g} Hz is below twice {name} = {bandwidth_hz:g} Hz; "
            f"use at least {2.0 * bandwidth_hz:g} Hz (more samples per symbol)"
        )


def apply_lowpass(
    x: np.ndarray,
    sample_rate_hz: float,
    bandwidth_hz: float,
    shape: str = "first-order",
    *,
    name: str = "bandwidth_hz",
) -> np.ndarray:
    """Filter a real or complex record through :func:`lowpass_response` (periodic, via FFT).

    Parameters
    ----------
    x : ndarray
        Real or complex samples.
    sample_rate_hz : float
        Sample rate in Hz; must be at least ``2 * bandwidth_hz``.
    bandwidth_hz : float
        3 dB bandwidth in Hz.
    shape : str
        Response shape, one of :data:`SHAPES`.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    ndarray
        Filtered samples, same length and kind (real/complex) as ``x``.

    Raises
    ------
    InvalidParameter
        Bandwidth not positive, unknown shape, or sample rate below twice the bandwidth.
    """
    validate.positive(name, bandwidth_hz, "Hz")
    check_sampling(name, bandwidth_hz, sample_rate_hz)
    n = x.shape[-1]
    if np.iscomplexobj(x):
        f = sfft.fftfreq(n, 1.0 / sample_rate_hz)
        return sfft.ifft(sfft.fft(x) * lowpass_response(f, bandwidth_hz, shape))
    f = sfft.rfftfreq(n, 1.0 / sample_rate_hz)
    return sfft.irfft(sfft.rfft(x) * lowpass_response(f, bandwidth_hz, shape), n)


def noise_bandwidth_hz(bandwidth_hz: float, shape: str = "first-order") -> float:
    """Equivalent noise bandwidth ``ENBW = ∫0^∞ |H(f)|² df`` of a response, in Hz.

    Closed forms: first-order ``π/2 · f3``; Gaussian ``f3 · ½·sqrt(π/(0.3·ln10))``;
    Bessel-Thomson-4 by numerical integration (1.0454·f3, cf. the reference notes);
    skin-effect: ``f3/(2 k²)``.
    """
    f3 = validate.positive("bandwidth_hz", bandwidth_hz, "Hz")
    check_shape("shape", shape)
    if shape == "first-order":
        return math.pi / 2.0 * f3
    if shape == "gaussian":
        return f3 * 0.5 * math.sqrt(math.pi / (0.3 * math.log(10.0)))
    if shape == "skin-effect":
        return f3 / (2.0 * _K_3DB**2)
    return _unit_noise_bandwidth(shape) * f3


@functools.lru_cache(maxsize=None)
def _unit_noise_bandwidth(shape: str) -> float:
    """ENBW of a shape at ``f3 = 1`` Hz by numerical integration (once per shape)."""
    f = np.linspace(0.0, 200.0, 400_001)
    h2 = np.abs(lowpass_response(f, 1.0, shape)) ** 2
    return float(np.trapezoid(h2, f))
