"""The electrical path of a PAM4 transmitter: a driver model and a measured channel.

:class:`Pam4Driver` turns PAM4 symbols (0..3) into the voltage waveform a modulator driver
puts out: four levels (optionally pre-distorted to undo a compressive modulator), a
T-spaced pre-emphasis FFE, random edge jitter, a Gaussian rise time and additive noise.

:class:`TouchstoneChannel` reads a measured or simulated S-parameter file (scikit-rf), takes
its single-ended through path or its mixed-mode SDD21, and filters a waveform with it.

Both treat the record as one period of a periodic signal (FFT filtering, circular FFE),
which is exact for the repeating test patterns (PRBSnQ, SSPRQ) of IEEE 802.3 and has no
start-up transient.

Gaussian rise time
------------------
The driver's low-pass is a zero-phase Gaussian with half-power bandwidth ``f3``::

    |H(f)| = exp(-(ln 2 / 2) (f / f3)^2)                    (|H(f3)|^2 = 1/2)

Its impulse response is a Gaussian of standard deviation ``sigma = sqrt(ln 2) / (2 pi f3)``
and its step response is the normal CDF ``Phi(t / sigma)``.  The 20-80 % rise time is
therefore ``2 Phi^-1(0.8) sigma``::

    t_r(20-80) = 2 * 0.8416212 * sqrt(ln 2) / (2 pi f3) = 0.22304 / f3

(and ``t_r(10-90) = 0.33955 / f3``, the familiar "0.34").  See e.g. H. Johnson and
M. Graham, *High-Speed Digital Design* (1993), sec. 1.1 and App. B, for the Gaussian
rise-time/bandwidth relation.

Edge jitter
-----------
The edge before symbol ``k`` (nominally at ``t_k = k T``, ``T = 1/baud``) is displaced by::

    d_k = RJ_k + (-1)^k EOJ/2 + (SJ/2) sin(2 pi f_SJ k T)

``RJ_k`` independent Gaussian of rms ``rj_rms_s`` (random jitter); ``EOJ`` the even-odd
jitter, peak-to-peak (``eoj_pp_s``: even edges late by EOJ/2, odd edges early by EOJ/2, the
two interleaved half-rate clocks of a SerDes; the "even-odd jitter" of IEEE 802.3 electrical
transmitter specifications, 802.3bj 94.3.12.6.2 and later); ``SJ`` sinusoidal jitter
peak-to-peak (``sj_pp_s``) at ``f_SJ`` rounded to a whole number of cycles per record (the
record is one period of a circular pattern).  The rms of the displacement is therefore::

    sigma_d = sqrt(rj_rms^2 + (EOJ/2)^2 + SJ^2/8)

(the EOJ term exactly for an even number of symbols; a record of odd length, e.g. one
PRBS13Q period, has one pair of same-parity neighbours at its wrap).  The edge is placed
within a sample by box-averaging (:func:`jittered_staircase`); after the low-pass, the
crossing time of an isolated transition moves by ``d_k`` (to first order in ``d_k`` times
the signal bandwidth; ``tests/models/test_jitter.py`` checks the rms against ``sigma_d``).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.optimize
import scipy.special

from optics import validate
from optics.errors import FileFormatError, InvalidParameter, InvalidType, InvalidWaveform
from optics.waveform import Quantity, Waveform

#: ``t_r(20-80) * f3`` of a Gaussian low-pass (derived in the module docstring).
GAUSSIAN_RISE_BANDWIDTH_PRODUCT = float(
    2.0 * math.sqrt(2.0) * scipy.special.erfinv(0.6) * math.sqrt(math.log(2.0)) / (2.0 * math.pi)
)

#: FFE normalisations understood by :class:`Pam4Driver`.
FFE_NORMALIZATIONS: tuple[str, ...] = ("sum_abs", "none")

#: Above-band extrapolations understood by :class:`TouchstoneChannel`.
EXTRAPOLATIONS: tuple[str, ...] = ("linear-db", "error")

_EQUAL_LEVELS = (0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0)
_MAX_RJ_UI = 0.05
#: Largest even-odd and sinusoidal jitter (UI peak-to-peak) a driver model accepts.
_MAX_DJ_UI = 0.2
#: Largest swing, offset and noise (V) a driver model accepts (far beyond any real driver;
#: it keeps the arithmetic finite).
_MAX_VOLTAGE_V = 1e3
#: Largest |FFE tap| accepted (practical pre-emphasis taps are within +-2).
_MAX_TAP = 1e6
#: Largest waveform :meth:`Pam4Driver.drive` builds (samples; 2**28 float64 = 2 GiB).
_MAX_SAMPLES = 2**28


def gaussian_bandwidth_hz(rise_time_s: float) -> float:
    """3 dB bandwidth (Hz) of the Gaussian low-pass with 20-80 % rise time ``rise_time_s`` (s).

    ``f3 = 0.22304 / t_r(20-80)`` (derivation in the module docstring).

    Raises
    ------
    InvalidParameter
        ``rise_time_s`` not > 0.

    Examples
    --------
    >>> round(gaussian_bandwidth_hz(10e-12) / 1e9, 2)
    22.3
    """
    t_r = validate.positive("rise_time_s", rise_time_s, "s")
    return GAUSSIAN_RISE_BANDWIDTH_PRODUCT / t_r


def gaussian_response(freq_hz: np.ndarray, bandwidth_hz: float) -> np.ndarray:
    """Zero-phase Gaussian response ``exp(-(ln2/2) (f/f3)^2)`` at ``freq_hz`` (Hz).

    Raises
    ------
    InvalidParameter
        ``bandwidth_hz`` not > 0.
    """
    f3 = validate.positive("bandwidth_hz", bandwidth_hz, "Hz")
    f = np.asarray(freq_hz, dtype=np.float64)
    with np.errstate(over="ignore"):  # (f/f3)^2 -> inf far above f3: the response is exactly 0 there
        return np.exp(-0.5 * math.log(2.0) * (f / f3) ** 2)


def predistortion_levels(
    transfer: Callable[[np.ndarray], np.ndarray],
    *,
    x_low: float = 0.0,
    x_high: float = 1.0,
    n_grid: int = 1001,
) -> tuple[float, float, float, float]:
    """Normalised drive levels that make a monotonic transfer give equally spaced outputs.

    The outer levels stay at the ends of the drive range; the inner two are solved so that
    ``transfer(x_k)`` for ``k = 0..3`` are equally spaced::

        transfer(x_k) = y0 + k (y3 - y0) / 3,   y0 = transfer(x_low),  y3 = transfer(x_high)

    (each root found with Brent's method on the bracketing grid interval).  The result is
    what :class:`Pam4Driver` takes as ``level_predistortion``: ``(x_k - x_low) /
    (x_high - x_low)``, i.e. 0, two inner values, 1.

    Parameters
    ----------
    transfer : callable
        Vectorised, strictly monotonic (increasing or decreasing) map from drive ``x`` to
        output (e.g. modulator power versus voltage).
    x_low, x_high : float
        The drive range the outer symbols use (any unit; e.g. ``-swing/2, +swing/2`` in V).
    n_grid : int
        Points on which monotonicity is checked and roots bracketed (>= 16).

    Returns
    -------
    tuple of 4 float
        Normalised levels in [0, 1], strictly increasing.

    Raises
    ------
    InvalidParameter
        ``x_high <= x_low``; the transfer is not finite or not strictly monotonic on the range.

    Examples
    --------
    >>> import numpy as np
    >>> mzm = lambda v: 0.5 * (1 + np.sin(np.pi * v / 2.0))   # quadrature-biased, Vpi = 2 V
    >>> lv = predistortion_levels(mzm, x_low=-0.8, x_high=0.8)
    >>> [round(v, 4) for v in lv]
    [0.0, 0.3716, 0.6284, 1.0]
    """
    lo = validate.real("x_low", x_low)
    hi = validate.real("x_high", x_high)
    if not hi > lo:
        raise InvalidParameter(f"x_high = {hi!r} must be greater than x_low = {lo!r}")
    n = validate.integer("n_grid", n_grid, 16)
    if not callable(transfer):
        raise InvalidType(f"transfer must be callable, got {type(transfer).__name__}")
    grid = np.linspace(lo, hi, n)
    y = np.asarray(transfer(grid), dtype=np.float64)
    if y.shape != grid.shape or not np.all(np.isfinite(y)):
        raise InvalidParameter("transfer must return one finite value per drive value")
    dy = np.diff(y)
    sign = 1.0 if y[-1] > y[0] else -1.0
    if not np.all(sign * dy > 0):
        bad = int(np.flatnonzero(sign * dy <= 0)[0])
        raise InvalidParameter(
            f"transfer is not strictly monotonic on [{lo:g}, {hi:g}]: it turns near x = {grid[bad]:g}"
        )
    levels = [0.0]
    for k in (1, 2):
        target = y[0] + k * (y[-1] - y[0]) / 3.0
        i = int(np.searchsorted(sign * y, sign * target))  # y[i-1] < target <= y[i] (in sign order)
        a, b = grid[i - 1], grid[i]
        root = scipy.optimize.brentq(
            lambda x, t=target: float(np.asarray(transfer(np.array([x])), dtype=np.float64)[0]) - t,
            a,
            b,
            xtol=1e-14 * max(1.0, abs(hi - lo)),
        )
        levels.append((root - lo) / (hi - lo))
    levels.append(1.0)
    return tuple(float(v) for v in levels)  # type: ignore[return-value]


def _seed_of(rng: np.random.Generator) -> Any:
    seq = getattr(rng.bit_generator, "seed_seq", None)
    entropy = getattr(seq, "entropy", None)
    return int(entropy) if isinstance(entropy, (int, np.integer)) else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pam4Driver:
    """A PAM4 modulator driver: levels, pre-distortion, FFE, jitter, rise time, noise.

    Signal chain for symbols ``s_n`` (0..3), unit interval ``T = 1/symbol_rate_baud``:

    1. normalised level ``L[s_n]`` (default ``0, 1/3, 2/3, 1``, or ``level_predistortion``),
    2. centred voltage ``a_n = swing_v (L[s_n] - 1/2)``,
    3. T-spaced FFE ``b_n = sum_k c_k a_(n - k + m)`` with main-cursor index ``m``
       (circular); taps divided by ``sum |c_k|`` when ``ffe_normalization = "sum_abs"``
       (802.3-style: the peak output never exceeds ``swing_v/2``), used as given for
       ``"none"``.  The pulse response, read in time order, is the tap vector,
    4. a staircase at ``samples_per_symbol`` with each edge displaced by random (Gaussian,
       ``rj_rms_s``), even-odd (``eoj_pp_s``) and sinusoidal (``sj_pp_s`` at
       ``sj_frequency_hz``) jitter (:meth:`edge_shifts_s`; the module docstring gives the
       equation; edge position resolved within a sample by box-averaging),
    5. the zero-phase Gaussian low-pass with 20-80 % rise time ``rise_time_s``
       (``f3 = 0.22304 / rise_time_s``; ``rise_time_s = 0`` skips it),
    6. ``+ offset_v`` and white Gaussian noise of rms ``noise_rms_v`` per sample.

    Parameters
    ----------
    swing_v : float
        Output swing between the outer levels (peak-to-peak, V) before FFE, in (0, 1000].
    rise_time_s : float
        20-80 % rise time of the output low-pass (s), >= 0.
    level_predistortion : sequence of 4 float, optional
        Normalised levels in [0, 1], strictly increasing (see :func:`predistortion_levels`).
    ffe_taps : sequence of float
        T-spaced pre-emphasis taps, default ``(1.0,)`` (none); e.g. ``(-0.1, 1.0, -0.05)``.
    ffe_main_index : int, optional
        Index of the main cursor in ``ffe_taps``; default the largest ``|tap|``.
    ffe_normalization : str
        ``"sum_abs"`` (default) or ``"none"``.
    rj_rms_s : float
        Random jitter (s rms) of every edge, 0 to 5 % of a UI (checked in :meth:`drive`).
    eoj_pp_s : float
        Even-odd jitter (s peak-to-peak: even edges ``+eoj/2``, odd ``-eoj/2``), 0 to 20 % UI.
    sj_pp_s : float
        Sinusoidal jitter (s peak-to-peak), 0 to 20 % UI.
    sj_frequency_hz : float
        Frequency of the sinusoidal jitter (Hz), >= 0; rounded to a whole number of cycles per
        record (at least one when ``sj_pp_s > 0``).
    noise_rms_v : float
        Additive white output noise (V rms per sample), >= 0.
    offset_v : float
        DC offset added to the output (V).

    Raises
    ------
    InvalidParameter, InvalidType
        Out-of-range or ill-typed fields (an unknown keyword is a ``TypeError``).

    Examples
    --------
    >>> import numpy as np
    >>> drv = Pam4Driver(swing_v=0.8, rise_time_s=12e-12, ffe_taps=(-0.1, 1.0, -0.05))
    >>> wf = drv.drive(np.array([0, 1, 2, 3] * 64), symbol_rate_baud=53.125e9,
    ...                samples_per_symbol=16)
    >>> wf.n_samples, wf.unit
    (4096, 'V')
    """

    swing_v: float
    rise_time_s: float
    level_predistortion: Sequence[float] | None = None
    ffe_taps: Sequence[float] = (1.0,)
    ffe_main_index: int | None = None
    ffe_normalization: str = "sum_abs"
    rj_rms_s: float = 0.0
    eoj_pp_s: float = 0.0
    sj_pp_s: float = 0.0
    sj_frequency_hz: float = 0.0
    noise_rms_v: float = 0.0
    offset_v: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        vmax = _MAX_VOLTAGE_V
        set_(self, "swing_v", validate.in_range("swing_v", self.swing_v, 0.0, vmax, low_inclusive=False, unit="V"))
        set_(self, "rise_time_s", validate.non_negative("rise_time_s", self.rise_time_s, "s"))
        set_(self, "rj_rms_s", validate.non_negative("rj_rms_s", self.rj_rms_s, "s"))
        set_(self, "eoj_pp_s", validate.non_negative("eoj_pp_s", self.eoj_pp_s, "s"))
        set_(self, "sj_pp_s", validate.non_negative("sj_pp_s", self.sj_pp_s, "s"))
        set_(self, "sj_frequency_hz", validate.non_negative("sj_frequency_hz", self.sj_frequency_hz, "Hz"))
        set_(self, "noise_rms_v", validate.in_range("noise_rms_v", self.noise_rms_v, 0.0, vmax, unit="V"))
        set_(self, "offset_v", validate.in_range("offset_v", self.offset_v, -vmax, vmax, unit="V"))
        if self.level_predistortion is not None:
            lv = validate.finite_array("level_predistortion", self.level_predistortion, min_size=4)
            if lv.size != 4:
                raise InvalidParameter(f"level_predistortion needs exactly 4 levels, got {lv.size}")
            if lv[0] < 0.0 or lv[3] > 1.0 or not np.all(np.diff(lv) > 0):
                raise InvalidParameter(
                    f"level_predistortion = {tuple(lv.tolist())} must be strictly increasing within [0, 1]"
                )
            set_(self, "level_predistortion", tuple(float(v) for v in lv))
        taps = validate.finite_array("ffe_taps", self.ffe_taps, min_size=1)
        if not np.any(taps != 0.0):
            raise InvalidParameter("ffe_taps must not all be zero")
        if np.max(np.abs(taps)) > _MAX_TAP:
            raise InvalidParameter(f"ffe_taps must lie within +-{_MAX_TAP:g}, got max |tap| = {np.max(np.abs(taps)):g}")
        set_(self, "ffe_taps", tuple(float(v) for v in taps))
        if self.ffe_main_index is None:
            set_(self, "ffe_main_index", int(np.argmax(np.abs(taps))))
        else:
            set_(self, "ffe_main_index", validate.integer("ffe_main_index", self.ffe_main_index, 0, taps.size - 1))
        if self.ffe_normalization not in FFE_NORMALIZATIONS:
            raise InvalidParameter(
                f"ffe_normalization = {self.ffe_normalization!r}; allowed: {', '.join(FFE_NORMALIZATIONS)}"
            )

    # ------------------------------------------------------------------------------
    @property
    def bandwidth_hz(self) -> float:
        """3 dB bandwidth of the Gaussian output filter (Hz); ``inf`` if ``rise_time_s = 0``."""
        return math.inf if self.rise_time_s == 0.0 else gaussian_bandwidth_hz(self.rise_time_s)

    @property
    def has_jitter(self) -> bool:
        """True if any edge jitter (random, even-odd or sinusoidal) is non-zero."""
        return self.rj_rms_s > 0.0 or self.eoj_pp_s > 0.0 or self.sj_pp_s > 0.0

    def jitter_rms_s(self) -> float:
        """rms edge displacement ``sqrt(rj^2 + (eoj/2)^2 + sj^2/8)`` (s), module docstring."""
        return math.sqrt(self.rj_rms_s**2 + (0.5 * self.eoj_pp_s) ** 2 + self.sj_pp_s**2 / 8.0)

    def edge_shifts_s(
        self, n_symbols: int, symbol_rate_baud: float, rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Displacement (s) of the edge before each of ``n_symbols`` symbols (module docstring).

        ``d_k = RJ_k + (-1)^k eoj/2 + (sj/2) sin(2 pi c k / n)`` with ``c`` the whole number of
        sinusoidal-jitter cycles per record nearest ``sj_frequency_hz n / baud`` (at least 1).
        The random part is ``rng.normal(0, rj_rms_s fs)`` in samples divided by ``fs`` in
        :meth:`drive`; here in seconds, ``rng.normal(0, rj_rms_s, n_symbols)``.

        Raises
        ------
        InvalidParameter
            Jitter above its limit in UI at this rate (5 % rms random, 20 % pk-pk even-odd and
            sinusoidal), or random jitter without ``rng``.
        """
        n = validate.integer("n_symbols", n_symbols, 2)
        baud = validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
        return self._edge_shifts(n, baud, 1.0, rng)

    def edge_shifts_samples(
        self, n_symbols: int, symbol_rate_baud: float, samples_per_symbol: int, rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """:meth:`edge_shifts_s` in samples of ``symbol_rate_baud * samples_per_symbol`` (the
        displacements :meth:`drive` uses: the same draws from ``rng`` in the same order)."""
        n = validate.integer("n_symbols", n_symbols, 2)
        baud = validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
        sps = validate.integer("samples_per_symbol", samples_per_symbol, 2)
        return self._edge_shifts(n, baud, baud * sps, rng)

    def _check_jitter(self, baud: float) -> None:
        if self.rj_rms_s * baud > _MAX_RJ_UI:
            raise InvalidParameter(
                f"rj_rms_s = {self.rj_rms_s:g} s is {self.rj_rms_s * baud:.3g} UI rms at {baud:g} Bd; "
                f"the model allows at most {_MAX_RJ_UI} UI rms"
            )
        for name in ("eoj_pp_s", "sj_pp_s"):
            value = getattr(self, name)
            if value * baud > _MAX_DJ_UI:
                raise InvalidParameter(
                    f"{name} = {value:g} s is {value * baud:.3g} UI pk-pk at {baud:g} Bd; "
                    f"the model allows at most {_MAX_DJ_UI} UI pk-pk"
                )

    def _edge_shifts(self, n: int, baud: float, scale: float, rng: np.random.Generator | None) -> np.ndarray:
        """Edge displacements in units of ``1/scale`` s (``scale = fs``: samples)."""
        self._check_jitter(baud)
        if self.rj_rms_s > 0.0:
            if rng is None:
                raise InvalidParameter("rj_rms_s is non-zero: pass rng=numpy.random.default_rng(seed)")
            d = rng.normal(0.0, self.rj_rms_s * scale, size=n)
        else:
            d = np.zeros(n)
        if self.eoj_pp_s > 0.0:
            d[0::2] += 0.5 * self.eoj_pp_s * scale
            d[1::2] -= 0.5 * self.eoj_pp_s * scale
        if self.sj_pp_s > 0.0:
            d += 0.5 * self.sj_pp_s * scale * np.sin(2.0 * np.pi * self.sj_cycles(n, baud) * np.arange(n) / n)
        return d

    def sj_cycles(self, n_symbols: int, symbol_rate_baud: float) -> int:
        """Whole sinusoidal-jitter cycles in a record of ``n_symbols`` (nearest to
        ``sj_frequency_hz n / baud``, at least 1; 0 without sinusoidal jitter)."""
        if self.sj_pp_s == 0.0:
            return 0
        return max(1, int(round(self.sj_frequency_hz * n_symbols / symbol_rate_baud)))

    @property
    def levels(self) -> tuple[float, float, float, float]:
        """Normalised levels of symbols 0..3 (pre-distorted or equally spaced)."""
        if self.level_predistortion is None:
            return _EQUAL_LEVELS  # type: ignore[return-value]
        return self.level_predistortion  # type: ignore[return-value]

    @property
    def normalized_taps(self) -> np.ndarray:
        """The FFE taps after the documented normalisation."""
        taps = np.asarray(self.ffe_taps, dtype=np.float64)
        if self.ffe_normalization == "sum_abs":
            taps = taps / np.sum(np.abs(taps))
        return taps

    def symbol_voltages(self, symbols: np.ndarray) -> np.ndarray:
        """Per-symbol voltages after levels and FFE (steps 1-3, before offset), V."""
        sym = _check_symbols(symbols)
        a = self.swing_v * (np.asarray(self.levels)[sym] - 0.5)
        taps = self.normalized_taps
        if taps.size == 1:
            return taps[0] * a
        b = np.zeros_like(a)
        for k, c in enumerate(taps):
            b += c * np.roll(a, k - self.ffe_main_index)
        return b

    def drive(
        self,
        symbols: np.ndarray | Sequence[int],
        *,
        symbol_rate_baud: float,
        samples_per_symbol: int,
        rng: np.random.Generator | None = None,
        jitter_rng: np.random.Generator | None = None,
    ) -> Waveform:
        """Voltage waveform (V) for one period of the symbol sequence ``symbols``.

        Parameters
        ----------
        symbols : array_like of int
            PAM4 symbols 0..3, at least 2; treated as one period of a repeating pattern and
            stored as the waveform's ``pattern``.
        symbol_rate_baud : float
            Symbol rate (Bd), > 0.
        samples_per_symbol : int
            Integer >= 2 (an integral float such as ``16.0`` is accepted).
        rng : numpy.random.Generator, optional
            Needed when ``rj_rms_s`` or ``noise_rms_v`` is non-zero; its seed (if known) is
            recorded in ``meta["seed"]``.
        jitter_rng : numpy.random.Generator, optional
            Source of the random jitter instead of ``rng`` (a stream of its own, as
            :func:`models.lane_simulation.simulate_lane` uses, so the jitter does not move the
            other draws).

        Returns
        -------
        Waveform
            ``quantity="voltage"``, ``sample_rate_hz = symbol_rate_baud * samples_per_symbol``,
            ``meta`` with ``source="model"``, ``model="Pam4Driver"``, the settings and seed.

        Raises
        ------
        InvalidParameter
            Symbols outside 0..3, ``samples_per_symbol`` not an integer >= 2, jitter above
            5 % UI, missing rng.
        InvalidType
            Non-numeric arguments or a non-Generator ``rng``.
        """
        sym = _check_symbols(symbols)
        baud = validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
        sps_f = validate.real("samples_per_symbol", samples_per_symbol)
        if sps_f != round(sps_f):
            raise InvalidParameter(f"samples_per_symbol = {sps_f!r} must be an integer >= 2")
        sps = int(round(sps_f))
        if sps < 2:
            raise InvalidParameter(f"samples_per_symbol = {sps} is too small; it must be an integer >= 2")
        if not math.isfinite(baud * sps):
            raise InvalidParameter(
                f"symbol_rate_baud = {baud:g} Bd x samples_per_symbol = {sps} gives a sample rate that is not finite"
            )
        if sym.size * sps > _MAX_SAMPLES:
            raise InvalidParameter(
                f"{sym.size} symbols x samples_per_symbol = {sps} is {sym.size * sps:g} samples; "
                f"the model builds at most {_MAX_SAMPLES} samples"
            )
        jit_rng = rng if jitter_rng is None else jitter_rng
        if (self.rj_rms_s > 0.0 and jit_rng is None) or (self.noise_rms_v > 0.0 and rng is None):
            raise InvalidParameter("rj_rms_s / noise_rms_v are non-zero: pass rng=numpy.random.default_rng(seed)")
        for label, g in (("rng", rng), ("jitter_rng", jitter_rng)):
            if g is not None and not isinstance(g, np.random.Generator):
                raise InvalidType(f"{label} must be a numpy.random.Generator, got {type(g).__name__}")
        self._check_jitter(baud)
        fs = baud * sps
        values = self.symbol_voltages(sym)
        if self.has_jitter:
            x = jittered_staircase(values, sps, self._edge_shifts(values.size, baud, fs, jit_rng))
        else:
            x = np.repeat(values, sps)
        if self.rise_time_s > 0.0:
            spec = np.fft.rfft(x)
            spec *= gaussian_response(np.fft.rfftfreq(x.size, 1.0 / fs), self.bandwidth_hz)
            x = np.fft.irfft(spec, n=x.size)
        x = x + self.offset_v
        if self.noise_rms_v > 0.0:
            x = x + rng.normal(0.0, self.noise_rms_v, size=x.size)  # type: ignore[union-attr]
        meta = {
            "source": "model",
            "model": "Pam4Driver",
            "settings": dataclasses.asdict(self),
            "seed": _seed_of(rng) if rng is not None else None,
        }
        return Waveform(
            samples=x,
            sample_rate_hz=fs,
            quantity=Quantity.VOLTAGE,
            symbol_rate_baud=baud,
            pattern=sym,
            meta=meta,
        )


def _check_symbols(symbols: Any) -> np.ndarray:
    arr = np.asarray(symbols)
    if arr.ndim != 1 or arr.size < 2:
        raise InvalidParameter(f"symbols must be a 1-D sequence of at least 2 PAM4 symbols, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise InvalidType(f"symbols must be integers 0..3, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise InvalidParameter("symbols must be integers 0..3")
    if arr.min() < 0 or arr.max() > 3:
        raise InvalidParameter(f"symbols must be in 0..3, got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.intp)


def jittered_staircase(values: np.ndarray, samples_per_symbol: int, shift_samples: np.ndarray) -> np.ndarray:
    """``np.repeat(values, samples_per_symbol)`` with the edge before symbol ``k`` moved by
    ``shift_samples[k]`` samples (box-averaged, circular).

    Sample ``n`` stands for the interval ``[n - 1/2, n + 1/2)``; the undisplaced edge before
    symbol ``k`` sits at ``k sps - 1/2``.  A displaced edge gives sample ``k sps + j`` the
    fraction ``clip(j + 1 - d, 0, 1)`` of the step, instead of ``1 if j >= 0 else 0``; the
    record's sum therefore changes by ``-sum_k step_k d_k`` (the area the moved edges take).
    Displacements must stay below half a symbol (the edges keep their order).

    Raises
    ------
    InvalidParameter
        Shapes that differ, or a displacement of half a symbol or more.
    """
    values = np.asarray(values, dtype=np.float64)
    shift_samples = np.asarray(shift_samples, dtype=np.float64)
    sps = int(samples_per_symbol)
    if shift_samples.shape != values.shape:
        raise InvalidParameter(f"shift_samples has shape {shift_samples.shape}, values {values.shape}")
    peak = float(np.max(np.abs(shift_samples))) if shift_samples.size else 0.0
    if not peak < 0.5 * sps:
        raise InvalidParameter(f"an edge moves by {peak:g} samples; it must stay below half a symbol ({0.5 * sps:g})")
    x = np.repeat(values, sps)
    step = values - np.roll(values, 1)
    w = int(math.ceil(peak)) + 1
    j = np.arange(-w, w + 1)
    frac = np.clip(j[None, :] + 1.0 - shift_samples[:, None], 0.0, 1.0) - (j[None, :] >= 0)
    idx = (np.arange(values.size)[:, None] * sps + j[None, :]) % x.size
    np.add.at(x, idx.ravel(), (step[:, None] * frac).ravel())
    return x


# ======================================================================================
@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class TouchstoneChannel:
    """A linear electrical channel given by a sampled transfer function (S21 or SDD21).

    Build it with :meth:`from_file` or :meth:`from_network`.  Between data points the
    transfer is interpolated linearly in magnitude and in unwrapped phase (scikit-rf's
    ``coords="polar"``).

    Below the first data frequency ``f0`` (if > 0) the magnitude is held at ``|H(f0)|`` and
    the phase runs linearly from the nearest multiple of pi at DC (the straight line through
    the first two points, shifted by 2 pi k) to the phase at ``f0``: a real DC value.

    Above the last frequency ``f_max``, with ``extrapolation="linear-db"``, the loss in dB
    continues with the least-squares slope over the top 20 % of the band (never falling:
    a negative slope is taken as 0) and the phase continues with the fitted group delay; with
    ``"error"`` :meth:`apply` refuses waveforms whose Nyquist frequency exceeds ``f_max``.

    No causality is enforced: the channel is what the data say, and the extrapolations may
    add small non-causal tails.

    Parameters
    ----------
    freq_hz : array_like
        Strictly increasing frequencies (Hz), >= 0, at least 2.
    transfer : array_like of complex
        The transfer function at ``freq_hz`` (dimensionless).
    name : str
        Label for messages and metadata.
    mode : str
        ``"single-ended"`` or ``"differential"`` (informative).
    extrapolation : str
        ``"linear-db"`` (default) or ``"error"``.

    Raises
    ------
    InvalidParameter
        Non-increasing or negative frequencies, non-finite or mismatched transfer.
    """

    freq_hz: np.ndarray
    transfer: np.ndarray
    name: str = "channel"
    mode: str = "single-ended"
    extrapolation: str = "linear-db"

    def __post_init__(self) -> None:
        f = validate.finite_array("freq_hz", self.freq_hz, min_size=2)
        if f[0] < 0 or not np.all(np.diff(f) > 0):
            raise InvalidParameter("freq_hz must be >= 0 and strictly increasing")
        h = np.asarray(self.transfer, dtype=np.complex128)
        if h.shape != f.shape or not np.all(np.isfinite(h)):
            raise InvalidParameter(f"transfer must be {f.size} finite complex values matching freq_hz")
        if np.any(np.abs(h) == 0):
            raise InvalidParameter("transfer has an exact zero; its loss in dB is undefined")
        if self.extrapolation not in EXTRAPOLATIONS:
            raise InvalidParameter(f"extrapolation = {self.extrapolation!r}; allowed: {', '.join(EXTRAPOLATIONS)}")
        phase = np.unwrap(np.angle(h))
        # choose the 2*pi branch so that the low-frequency trend meets DC at 0 or pi
        slope0 = (phase[1] - phase[0]) / (f[1] - f[0])
        dc = phase[0] - slope0 * f[0]
        phase = phase - 2.0 * np.pi * np.round(dc / (2.0 * np.pi))
        for name, arr in (("freq_hz", f), ("transfer", h), ("_phase", phase), ("_mag", np.abs(h))):
            arr = np.array(arr, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "_dc_phase", float(np.pi * np.round((phase[0] - slope0 * f[0]) / np.pi)))

    def __repr__(self) -> str:
        return (
            f"TouchstoneChannel({self.name!r}, {self.mode}, {self.freq_hz.size} points "
            f"{self.freq_hz[0]:g}-{self.f_max_hz:g} Hz, extrapolation={self.extrapolation!r})"
        )

    # --- constructors -----------------------------------------------------------------
    @classmethod
    def from_network(
        cls,
        network: Any,
        *,
        differential: bool = True,
        ports: Sequence[int] | Sequence[Sequence[int]] | None = None,
        name: str | None = None,
        extrapolation: str = "linear-db",
    ) -> TouchstoneChannel:
        """Channel from a :class:`skrf.Network`.

        Parameters
        ----------
        network : skrf.Network
            At least 2 ports (4 for ``differential``).
        differential : bool
            ``True``: mixed-mode SDD21 of the pair ``ports = ((in_p, in_n), (out_p, out_n))``
            (1-based Touchstone numbers, default ``((1, 3), (2, 4))``: ports 1->2 and 3->4
            are the two through lines, the numbering of the bundled host-channel file).
            The four ports are taken in the order ``in_p, in_n, out_p, out_n`` and converted
            with ``Network.se2gmm(p=2)``, so SDD21 = ``(S_pp - S_pn - S_np + S_nn)/2`` of the
            single-ended out/in terms.
            ``False``: single-ended ``S[out, in]`` with ``ports = (in, out)``, default ``(1, 2)``.
        ports : sequence, optional
            See ``differential``.
        name : str, optional
            Label; default the network's name.
        extrapolation : str
            See the class docstring.

        Raises
        ------
        FileFormatError
            Too few ports for the request.
        InvalidParameter
            Port numbers out of range or repeated, or a chosen "through" path that carries
            less than half the signal at the lowest frequency while another path carries
            more (the numbering is probably wrong).
        """
        try:
            import skrf
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ImportError("TouchstoneChannel needs scikit-rf (pip install scikit-rf)") from exc
        if not isinstance(network, skrf.Network):
            raise InvalidType(f"network must be an skrf.Network, got {type(network).__name__}")
        label = name if name is not None else (network.name or "channel")
        nports = int(network.nports)
        if differential:
            need = 4
            pairs = ports if ports is not None else ((1, 3), (2, 4))
            try:
                (ip, in_), (op, on) = pairs  # type: ignore[misc]
                flat = [int(ip), int(in_), int(op), int(on)]
            except (TypeError, ValueError):
                raise InvalidParameter(
                    f"differential ports must be ((in_p, in_n), (out_p, out_n)), got {pairs!r}"
                ) from None
        else:
            need = 2
            pair = ports if ports is not None else (1, 2)
            try:
                pi, po = pair  # type: ignore[misc]
                flat = [int(pi), int(po)]
            except (TypeError, ValueError):
                raise InvalidParameter(f"single-ended ports must be (in, out), got {pair!r}") from None
        if nports < need:
            kind = "differential (SDD21)" if differential else "single-ended"
            raise FileFormatError(
                f"{label}: a {kind} channel needs at least {need} ports, the network has {nports}"
            )
        if len(set(flat)) != len(flat) or min(flat) < 1 or max(flat) > nports:
            raise InvalidParameter(f"ports {flat} must be distinct Touchstone port numbers in 1..{nports}")
        idx = [p - 1 for p in flat]
        s = network.s
        if differential:
            from skrf.network import subnetwork

            sub = subnetwork(network, idx)
            sub.se2gmm(p=2)
            h = sub.s[:, 1, 0]
            through_lf = [abs(s[0, idx[2], idx[0]]), abs(s[0, idx[3], idx[1]])]
        else:
            h = s[:, idx[1], idx[0]]
            through_lf = [abs(s[0, idx[1], idx[0]])]
        if min(through_lf) < 0.5:
            mags = np.abs(s[0])
            np.fill_diagonal(mags, 0.0)
            if mags.max() >= 0.5:
                out_p, in_p = np.unravel_index(int(np.argmax(mags)), mags.shape)
                raise InvalidParameter(
                    f"{label}: the chosen through path passes only {min(through_lf):.3g} of the signal at "
                    f"{network.f[0]:g} Hz while S{out_p + 1}{in_p + 1} passes {mags.max():.3g}; "
                    f"check the port numbering (ports={pairs if differential else pair!r})"
                )
        return cls(
            freq_hz=np.asarray(network.f, dtype=np.float64),
            transfer=h,
            name=label,
            mode="differential" if differential else "single-ended",
            extrapolation=extrapolation,
        )

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        differential: bool = True,
        ports: Sequence[int] | Sequence[Sequence[int]] | None = None,
        extrapolation: str = "linear-db",
    ) -> TouchstoneChannel:
        """Channel from a Touchstone file (``.sNp``), read with scikit-rf.

        Read the file's header comments for its port numbering and pass ``ports`` if it is
        not the default (see :meth:`from_network`).

        Raises
        ------
        FileFormatError
            Missing or unreadable file, or too few ports; the message names the file.
        InvalidParameter
            Bad ``ports`` (see :meth:`from_network`).

        Examples
        --------
        >>> ch = TouchstoneChannel.from_file("tests/data/touchstone/host-smt-io-4in-42ghz.s4p")
        ... # doctest: +SKIP
        >>> ch.insertion_loss_db(26.5625e9)  # doctest: +SKIP
        """
        import skrf

        p = os.fspath(path)
        try:
            net = skrf.Network(p)
        except Exception as exc:  # skrf raises many types for a bad file
            raise FileFormatError(f"cannot read Touchstone file {p!r}: {type(exc).__name__}: {exc}") from None
        try:
            return cls.from_network(
                net,
                differential=differential,
                ports=ports,
                name=os.path.basename(p),
                extrapolation=extrapolation,
            )
        except FileFormatError as exc:
            raise FileFormatError(f"Touchstone file {p!r}: {exc}") from None

    # --- evaluation -------------------------------------------------------------------
    @property
    def f_max_hz(self) -> float:
        """Highest frequency of the data (Hz)."""
        return float(self.freq_hz[-1])

    @property
    def delay_s(self) -> float:
        """Bulk delay (s): least-squares slope ``-d(phase)/d(2 pi f)`` over the lower half-band."""
        f = self.freq_hz
        sel = f <= 0.5 * f[-1]
        if np.count_nonzero(sel) < 2:
            sel = slice(None)
        slope = np.polyfit(f[sel], self._phase[sel], 1)[0]  # type: ignore[attr-defined]
        return float(-slope / (2.0 * np.pi))

    def response(self, freq_hz: np.ndarray | float, *, extrapolate: bool = False) -> np.ndarray:
        """Complex transfer at ``freq_hz`` (Hz, >= 0), interpolated as documented.

        Raises
        ------
        InvalidParameter
            Negative or non-finite frequencies, or frequencies above ``f_max_hz`` when
            ``extrapolate`` is False.
        """
        try:
            f = np.atleast_1d(np.asarray(freq_hz, dtype=np.float64))
        except (TypeError, ValueError):
            raise InvalidType(f"freq_hz must be real numbers (Hz), got {freq_hz!r}") from None
        if not np.all(np.isfinite(f)) or np.any(f < 0):
            raise InvalidParameter("freq_hz must be finite and >= 0")
        fd, mag, ph = self.freq_hz, self._mag, self._phase  # type: ignore[attr-defined]
        above = f > fd[-1]
        if np.any(above) and not extrapolate:
            raise InvalidParameter(
                f"{self.name}: frequency {f[above].max():g} Hz is above the data range "
                f"[{fd[0]:g}, {fd[-1]:g}] Hz"
            )
        m = np.interp(f, fd, mag)
        p = np.interp(f, fd, ph)
        below = f < fd[0]
        if np.any(below):
            p[below] = self._dc_phase + (ph[0] - self._dc_phase) * f[below] / fd[0]  # type: ignore[attr-defined]
        if np.any(above):
            top = fd >= fd[-1] - 0.2 * (fd[-1] - fd[0])
            if np.count_nonzero(top) < 2:
                top = np.zeros(fd.size, dtype=bool)
                top[-2:] = True
            loss_slope = max(np.polyfit(fd[top], -20.0 * np.log10(mag[top]), 1)[0], 0.0)
            ph_slope = np.polyfit(fd[top], ph[top], 1)[0]
            df = f[above] - fd[-1]
            m[above] = mag[-1] * 10.0 ** (-loss_slope * df / 20.0)
            p[above] = ph[-1] + ph_slope * df
        return m * np.exp(1j * p)

    def insertion_loss_db(self, freq_hz: np.ndarray | float) -> np.ndarray | float:
        """Insertion loss ``-20 log10 |H(f)|`` (dB, positive for loss) at ``freq_hz`` (Hz).

        Frequencies must lie in ``[0, f_max_hz]``; below the first data point the DC
        extrapolation of the class docstring is used.

        Raises
        ------
        InvalidParameter
            Frequencies outside ``[0, f_max_hz]``.
        """
        h = self.response(freq_hz, extrapolate=False)
        il = -20.0 * np.log10(np.abs(h))
        return float(il[0]) if np.ndim(freq_hz) == 0 else il

    def apply(self, wf: Waveform, *, remove_delay: bool = False) -> Waveform:
        """Filter a voltage or current waveform with the channel (FFT, circular).

        ``y = irfft(rfft(x) H(f_k))`` on the waveform's own grid ``f_k = k fs / N``.  The
        record is treated as one period of a periodic signal, so the channel's propagation
        delay shows up as a circular shift; ``remove_delay=True`` multiplies by
        ``exp(+j 2 pi f delay_s)`` to keep the output aligned with the input.

        Parameters
        ----------
        wf : Waveform
            ``quantity`` voltage or current.
        remove_delay : bool
            Remove the bulk delay :attr:`delay_s`.

        Returns
        -------
        Waveform
            Same grid, quantity, rates and pattern; ``meta`` gains ``channel``,
            ``channel_delay_s`` and ``channel_delay_removed``.

        Raises
        ------
        InvalidWaveform
            Optical-power waveforms (an electrical channel carries V or A).
        InvalidParameter
            ``extrapolation="error"`` and the waveform's Nyquist frequency exceeds ``f_max_hz``.
        """
        if not isinstance(wf, Waveform):
            raise InvalidType(f"wf must be a Waveform, got {type(wf).__name__}")
        if wf.quantity is Quantity.OPTICAL_POWER:
            raise InvalidWaveform("an electrical channel filters voltage or current waveforms, not optical power")
        f = np.fft.rfftfreq(wf.n_samples, wf.dt_s)
        if self.extrapolation == "error" and f[-1] > self.f_max_hz:
            raise InvalidParameter(
                f"{self.name}: the waveform reaches {f[-1]:g} Hz, above the data's {self.f_max_hz:g} Hz "
                "(extrapolation='error')"
            )
        h = self.response(f, extrapolate=True)
        delay = self.delay_s
        if remove_delay:
            h = h * np.exp(2j * np.pi * f * delay)
        if wf.n_samples % 2 == 0:
            h[-1] = h[-1].real  # the Nyquist bin of a real signal is real
        y = np.fft.irfft(np.fft.rfft(wf.samples) * h, n=wf.n_samples)
        meta = dict(wf.meta)
        meta.update(channel=self.name, channel_delay_s=delay, channel_delay_removed=bool(remove_delay))
        return wf.with_samples(y, meta=meta)
