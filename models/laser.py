"""Continuous-wave DFB laser (the light source of a silicon-photonic transmitter) and the
complex optical field that the models pass from block to block.

A laser produces an :class:`OpticalField`: the complex envelope ``E(t)`` in sqrt(W) (so
``|E|² = P`` in W) at a carrier wavelength.  Modulators and the fibre transform it; the
photodiode squares it; :meth:`OpticalField.to_waveform` turns it into the
:class:`optics.Waveform` (optical power) that every metric takes.

Laser equations (light-current above threshold, temperature in °C, differences in K):

* ``I_th(T) = I_th,ref · exp((T − T_ref)/T0)``                      (characteristic temperature T0)
* ``η(T)    = η_ref · exp(−(T − T_ref)/T1)``                         (slope efficiency, W/A)
* ``P(T)    = η(T) · (I − I_th(T))`` for ``I > I_th``, else 0
* ``λ(T)    = λ_ref + (dλ/dT)·(T − T_ref)``                          (≈ 0.09 nm/K for a DFB)
* RIN: ``P(t) = P·(1 + n(t))`` with ``n`` of one-sided PSD ``10^(RIN/10)`` 1/Hz at low
  frequency, rolling off above ``rin_bandwidth_hz`` (a DFB's RIN falls beyond its relaxation
  oscillation; white RIN over a 1.7 THz simulation band would be unphysical).  ``n`` is white
  Gaussian noise at the rate ``f_low = 3·B_rin`` linearly interpolated to the sample rate
  (PSD shape sinc⁴(f/f_low), equivalent noise bandwidth exactly ``B_rin``), so
  ``var(n) = 10^(RIN/10)·B_rin``.  The field carries ``sqrt(P)(1 + n/2)`` (first order in
  ``n``, valid for RIN·B ≪ 1).
* Electrical power ``P_el = I·V_f + I²·R_s``; wall-plug efficiency ``P/P_el``.
* Automatic power control (APC, optional ``apc_power_w``): the bias servo (a monitor
  photodiode on the back facet and a loop that sets the drive current) holds the output at
  the set point ``P_set``, so the bias at temperature T inverts the L-I curve,
  ``I_APC(T) = I_th(T) + P_set/η(T)``, up to the driver's current limit ``I_max``
  (``max_bias_current_a``); beyond it ``I = I_max`` and ``P = η(T)·(I_max − I_th(T)) < P_set``
  (:meth:`DfbLaser.apc_limited` says so).  This is the standard APC loop of a directly or
  CW-driven laser module (e.g. G. P. Agrawal, *Fiber-Optic Communication Systems*, 4th ed.,
  Wiley 2010, §3.5.1 "Feedback control"; Maxim application note HFAN-02.0 "Biasing a laser
  diode" with the APC loop and its bias limit).  The loop is taken as ideal (no tracking error
  between the back-facet monitor and the front facet: an assumption).

Default values are from ``silicon-photonics-parameters.md`` §1: T0 = 64 K and T1 ≈ 260 K
from the CC-DFB of Chang Gung Univ., IEEE PTL 18(14) 1551 (2006) (I_th 5.3 mA at 20 °C,
15.8 mA at 90 °C); 0.09 nm/K drift (0.08-0.1 nm/K, ydfiberoptic; 0.1 nm/°C, IEEE 802.3ae
reflector); RIN of a good DFB −145 dB/Hz (UNVERIFIED range −145...−155 dB/Hz).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from models import gaussian
from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Quantity, Waveform

#: Speed of light in vacuum, m/s.
C_M_PER_S = 299_792_458.0


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class OpticalField:
    """Complex envelope of a single-polarisation optical signal (models-internal carrier).

    Parameters
    ----------
    field : ndarray of complex
        Envelope ``E(t)`` in sqrt(W): ``|E|²`` is the optical power in W.  Convention:
        the physical field is ``Re{E(t)·exp(j ω0 t)}``, so a positive ``dφ/dt`` is a
        positive frequency offset (used by chirp and dispersion).
    sample_rate_hz : float
        Sample rate in Hz.
    wavelength_m : float
        Carrier wavelength in m.
    symbol_rate_baud, pattern, meta
        Passed on to the :class:`optics.Waveform` made by :meth:`to_waveform`.
    """

    field: np.ndarray
    sample_rate_hz: float
    wavelength_m: float
    symbol_rate_baud: float | None = None
    pattern: np.ndarray | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        f = np.asarray(self.field)
        if f.ndim != 1 or f.size < 2:
            raise InvalidParameter(f"field must be a 1-D array of at least 2 samples, got shape {f.shape}")
        object.__setattr__(self, "field", f.astype(np.complex128, copy=False))
        object.__setattr__(self, "sample_rate_hz", validate.positive("sample_rate_hz", self.sample_rate_hz, "Hz"))
        object.__setattr__(self, "wavelength_m", validate.in_range("wavelength_m", self.wavelength_m, 0.2e-6, 5e-6, unit="m"))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.field.size)

    @property
    def power_w(self) -> np.ndarray:
        """Instantaneous optical power ``|E|²`` in W."""
        f = self.field
        p = np.multiply(f.real, f.real)
        p += np.multiply(f.imag, f.imag)
        return p

    @property
    def average_power_w(self) -> float:
        """Mean optical power in W."""
        return float(np.vdot(self.field, self.field).real) / self.field.size

    def with_field(self, field: np.ndarray, **meta: Any) -> OpticalField:
        """Return a copy carrying ``field`` (same rate, wavelength, pattern) and extra ``meta``."""
        m = dict(self.meta)
        m.update(meta)
        return dataclasses.replace(self, field=field, meta=m)

    def to_waveform(self, **meta: Any) -> Waveform:
        """Optical power as an :class:`optics.Waveform` (W) carrying rate, pattern and meta."""
        return power_waveform(self.power_w, sample_rate_hz=self.sample_rate_hz, wavelength_m=self.wavelength_m,
                              symbol_rate_baud=self.symbol_rate_baud, pattern=self.pattern, meta={**self.meta, **meta})


@dataclasses.dataclass(frozen=True, eq=False)
class Knots:
    """A record's values at evenly spaced knots, linearly interpolated in between.

    ``values`` holds ``n_low + 1`` knots spanning the periodic record of ``n_samples``
    samples (the last equal to the first), knot ``j`` at sample ``j·n_samples/n_low``; or,
    with ``at_samples``, the ``n_samples`` samples themselves.  Made by
    :meth:`DfbLaser.amplitude_knots`.
    """

    values: np.ndarray
    n_samples: int
    at_samples: bool = False

    def __post_init__(self) -> None:
        v, n = self.values, self.n_samples
        ok = v.size == n if self.at_samples else 3 <= v.size <= n + 1
        if v.ndim != 1 or not ok:
            need = f"{n} samples" if self.at_samples else f"3 ... {n + 1} knots"
            raise InvalidParameter(f"values has shape {v.shape}; {need} needed for n_samples = {n}")

    @functools.cached_property
    def _single(self) -> tuple[np.ndarray, np.ndarray]:
        """The knots and their differences in float32 (made once, on first use)."""
        v = self.values
        return v.astype(np.float32), np.diff(v).astype(np.float32)

    def at(self, start: int, stop: int, *, dtype: type = np.float64) -> np.ndarray:
        """The interpolated values at samples ``start ... stop − 1`` (float64 or float32).

        float64: :func:`numpy.interp`; float32: the same interpolation ``v[j] + f·(v[j+1] − v[j])``
        in single precision (a gather; ~1e-7 relative).  Parts of any size give the same values
        as the whole record, so a record can be filled in cache-sized pieces, on any thread.
        """
        n = self.n_samples
        if not 0 <= start < stop <= n:
            raise InvalidParameter(f"start, stop = {start}, {stop}; need 0 <= start < stop <= n_samples = {n}")
        single = np.dtype(dtype) == np.float32
        v = self.values
        if self.at_samples:
            return v[start:stop].astype(np.float32 if single else np.float64)
        n_low = v.size - 1
        # a float arange: the same positions as an integer one times the ratio, 8x faster
        pos = np.arange(start, stop, dtype=np.float64)
        pos *= n_low / n
        if not single:
            return np.interp(pos, np.arange(n_low + 1.0), v)
        v32, d32 = self._single
        idx = pos.astype(np.int32)
        pos -= idx  # the fraction, in double precision before rounding
        frac = pos.astype(np.float32)
        out = np.take(v32, idx)
        frac *= np.take(d32, idx)
        out += frac
        return out


def power_waveform(
    power_w: np.ndarray, *, sample_rate_hz: float, wavelength_m: float, symbol_rate_baud: float | None,
    pattern: np.ndarray | None, meta: Mapping[str, Any],
) -> Waveform:
    """The optical power ``|E|²`` (W) of a field as an :class:`optics.Waveform`, as
    :meth:`OpticalField.to_waveform` makes it (``meta`` plus ``wavelength_m`` unless given).

    ``power_w`` is handed over: the Waveform keeps it (read-only) without a copy.
    """
    m = dict(meta)
    m.setdefault("wavelength_m", wavelength_m)
    power_w.setflags(write=False)
    return Waveform(
        samples=power_w,
        sample_rate_hz=sample_rate_hz,
        quantity=Quantity.OPTICAL_POWER,
        symbol_rate_baud=symbol_rate_baud,
        pattern=pattern,
        meta=m,
    )


def rin_variance(rin_db_per_hz: float, bandwidth_hz: float) -> float:
    """Relative intensity-noise variance ``σ²/P² = 10^(RIN/10) · B`` over a one-sided band B (Hz)."""
    return 10.0 ** (rin_db_per_hz / 10.0) * bandwidth_hz


@dataclasses.dataclass(frozen=True, kw_only=True)
class DfbLaser:
    """CW DFB laser with temperature-dependent threshold, slope, wavelength and RIN.

    Parameters
    ----------
    wavelength_m : float
        Emission wavelength at ``temperature_ref_c`` in m (default 1311 nm), 0.8-2 µm.
    temperature_ref_c : float
        Reference (chip) temperature in °C of the ``*_ref`` values (default 25).
    threshold_current_a : float
        Threshold current at ``temperature_ref_c`` in A (default 8 mA), >= 0.
    t0_k : float
        Characteristic temperature T0 of the threshold in K (default 64 K), > 0.
    slope_efficiency_w_per_a : float
        Slope efficiency η_ref at ``temperature_ref_c`` in W/A (default 0.3), > 0.
    t1_k : float
        Characteristic temperature T1 of the slope in K (default 260 K), > 0.
    bias_current_a : float
        Drive current in A (default 80 mA), >= 0.
    wavelength_drift_m_per_k : float
        dλ/dT in m/K (default 0.09 nm/K), >= 0.
    rin_db_per_hz : float
        Relative intensity noise in dB/Hz (default −145), -200...−100.
    rin_bandwidth_hz : float
        Equivalent noise bandwidth of the RIN spectrum in Hz (default 100 GHz, UNVERIFIED), > 0.
    forward_voltage_v : float
        Junction forward voltage in V (default 1.2), >= 0.
    series_resistance_ohm : float
        Series resistance in Ω (default 4), >= 0.
    apc_power_w : float or None
        Automatic power control set point in W (default None: constant current
        ``bias_current_a``), > 0.  With it the bias at temperature T is
        :meth:`bias_current_at` (``I_th(T) + P_set/η(T)``, capped at ``max_bias_current_a``) and
        ``bias_current_a`` is not used for the light.
    max_bias_current_a : float or None
        Current limit of the APC driver in A (default None: no limit), > 0; only with
        ``apc_power_w``.
    held_temperature_c : float or None
        The laser's own temperature in °C when it does not sit on the optical chip: an
        external laser source (OIF ELSFP, a CPO module's faceplate laser) held by its own TEC
        at this set point, -40...120 (default None: the laser is at the chip temperature).
        Every temperature-dependent quantity (threshold, slope, wavelength, and through them
        the APC bias) is then evaluated at it, whatever temperature the caller passes: the
        wavelength stays where the laser is, not where the chip is.

    Examples
    --------
    >>> laser = DfbLaser()
    >>> round(laser.threshold_current_at(25.0 + 64.0) / laser.threshold_current_a, 4)  # e^1
    2.7183
    """

    wavelength_m: float = 1311e-9
    temperature_ref_c: float = 25.0
    threshold_current_a: float = 8e-3
    t0_k: float = 64.0
    slope_efficiency_w_per_a: float = 0.3
    t1_k: float = 260.0
    bias_current_a: float = 80e-3
    wavelength_drift_m_per_k: float = 0.09e-9
    rin_db_per_hz: float = -145.0
    rin_bandwidth_hz: float = 100e9
    forward_voltage_v: float = 1.2
    series_resistance_ohm: float = 4.0
    apc_power_w: float | None = None
    max_bias_current_a: float | None = None
    held_temperature_c: float | None = None

    def __post_init__(self) -> None:
        validate.in_range("wavelength_m", self.wavelength_m, 0.8e-6, 2.0e-6, unit="m")
        validate.in_range("temperature_ref_c", self.temperature_ref_c, -273.15, 300.0, unit="°C")
        validate.non_negative("threshold_current_a", self.threshold_current_a, "A")
        validate.positive("t0_k", self.t0_k, "K")
        validate.positive("slope_efficiency_w_per_a", self.slope_efficiency_w_per_a, "W/A")
        validate.positive("t1_k", self.t1_k, "K")
        validate.non_negative("bias_current_a", self.bias_current_a, "A")
        validate.in_range("wavelength_drift_m_per_k", self.wavelength_drift_m_per_k, 0.0, 1e-9, unit="m/K")
        validate.in_range("rin_db_per_hz", self.rin_db_per_hz, -200.0, -100.0, unit="dB/Hz")
        validate.positive("rin_bandwidth_hz", self.rin_bandwidth_hz, "Hz")
        validate.non_negative("forward_voltage_v", self.forward_voltage_v, "V")
        validate.non_negative("series_resistance_ohm", self.series_resistance_ohm, "Ω")
        if self.apc_power_w is not None:
            validate.in_range("apc_power_w", self.apc_power_w, 0.0, 1.0, low_inclusive=False, unit="W")
        if self.max_bias_current_a is not None:
            if self.apc_power_w is None:
                raise InvalidParameter(
                    f"max_bias_current_a = {self.max_bias_current_a!r} A is the APC driver's limit: "
                    "it needs apc_power_w (the power set point) as well"
                )
            validate.positive("max_bias_current_a", self.max_bias_current_a, "A")
        if self.held_temperature_c is not None:
            validate.in_range("held_temperature_c", self.held_temperature_c, -40.0, 120.0, unit="°C")

    def own_temperature_c(self, temperature_c: float) -> float:
        """The laser's temperature (°C) when the chip is at ``temperature_c``: the chip's, or
        :attr:`held_temperature_c` for a laser held at its own temperature."""
        t = validate.real("temperature_c", temperature_c)
        return t if self.held_temperature_c is None else self.held_temperature_c

    # --- static characteristics -------------------------------------------------------
    def threshold_current_at(self, temperature_c: float) -> float:
        """``I_th(T) = I_th,ref·exp((T − T_ref)/T0)`` in A (T: :meth:`own_temperature_c`)."""
        t = self.own_temperature_c(temperature_c)
        return self.threshold_current_a * math.exp((t - self.temperature_ref_c) / self.t0_k)

    def slope_efficiency_at(self, temperature_c: float) -> float:
        """``η(T) = η_ref·exp(−(T − T_ref)/T1)`` in W/A (T: :meth:`own_temperature_c`)."""
        t = self.own_temperature_c(temperature_c)
        return self.slope_efficiency_w_per_a * math.exp(-(t - self.temperature_ref_c) / self.t1_k)

    def bias_current_at(self, temperature_c: float) -> float:
        """Drive current in A at chip temperature ``temperature_c`` (°C).

        Constant current: ``bias_current_a``.  With APC: ``min(I_th(T) + P_set/η(T), I_max)``
        (module docstring).
        """
        t = validate.real("temperature_c", temperature_c)
        if self.apc_power_w is None:
            return self.bias_current_a
        needed = self.threshold_current_at(t) + self.apc_power_w / self.slope_efficiency_at(t)
        return needed if self.max_bias_current_a is None else min(needed, self.max_bias_current_a)

    def apc_limited(self, temperature_c: float) -> bool:
        """True when the APC servo is at its current limit at ``temperature_c`` (°C), so the
        output is below the set point (False for a constant-current laser)."""
        if self.apc_power_w is None or self.max_bias_current_a is None:
            return False
        t = validate.real("temperature_c", temperature_c)
        needed = self.threshold_current_at(t) + self.apc_power_w / self.slope_efficiency_at(t)
        return needed > self.max_bias_current_a

    def output_power_w(self, temperature_c: float) -> float:
        """CW output power ``η(T)·(I(T) − I_th(T))`` in W (0 at or below threshold), with
        ``I(T)`` from :meth:`bias_current_at` (the APC set point while the servo is in range)."""
        excess = self.bias_current_at(temperature_c) - self.threshold_current_at(temperature_c)
        return self.slope_efficiency_at(temperature_c) * excess if excess > 0 else 0.0

    def wavelength_at(self, temperature_c: float) -> float:
        """Emission wavelength ``λ_ref + dλ/dT·(T − T_ref)`` in m (T: :meth:`own_temperature_c`)."""
        t = self.own_temperature_c(temperature_c)
        return self.wavelength_m + self.wavelength_drift_m_per_k * (t - self.temperature_ref_c)

    def electrical_power_w(self, temperature_c: float | None = None) -> float:
        """Electrical input power ``I·V_f + I²·R_s`` in W, ``I`` the bias at ``temperature_c``
        (°C, default ``temperature_ref_c``; only an APC laser's bias depends on it)."""
        t = self.temperature_ref_c if temperature_c is None else temperature_c
        i = self.bias_current_at(t)
        return i * self.forward_voltage_v + i * i * self.series_resistance_ohm

    def wall_plug_efficiency(self, temperature_c: float) -> float:
        """Optical output over electrical input power (0 when unbiased)."""
        pel = self.electrical_power_w(temperature_c)
        return self.output_power_w(temperature_c) / pel if pel > 0 else 0.0

    def with_output_power(self, power_w: float, temperature_c: float | None = None) -> DfbLaser:
        """Copy of this laser giving ``power_w`` (W) at ``temperature_c`` (default ``temperature_ref_c``).

        Constant current: the bias is set to ``I_th(T) + P/η(T)``.  An APC laser gets ``power_w``
        as its set point (``bias_current_a`` then records the bias it takes at ``temperature_c``).
        """
        p = validate.positive("power_w", power_w, "W")
        t = self.temperature_ref_c if temperature_c is None else temperature_c
        current = self.threshold_current_at(t) + p / self.slope_efficiency_at(t)
        if self.apc_power_w is not None:
            return dataclasses.replace(self, bias_current_a=current, apc_power_w=p)
        return dataclasses.replace(self, bias_current_a=current)

    def with_apc(self, *, max_bias_current_a: float | None, power_w: float | None = None) -> DfbLaser:
        """Copy of this laser under automatic power control.

        Parameters
        ----------
        max_bias_current_a : float or None
            The APC driver's current limit in A (None: no limit).
        power_w : float, optional
            Set point in W; default the laser's present output at ``temperature_ref_c``.

        Raises
        ------
        InvalidParameter
            A laser that gives no light at ``temperature_ref_c`` and no ``power_w``, or bad values.
        """
        p = self.output_power_w(self.temperature_ref_c) if power_w is None else power_w
        if p <= 0.0:
            raise InvalidParameter(
                f"laser bias_current_a = {self.bias_current_a:g} A gives no light at {self.temperature_ref_c:g} °C: "
                "give the APC set point power_w"
            )
        return dataclasses.replace(self, apc_power_w=p, max_bias_current_a=max_bias_current_a)

    def rin_noise(
        self, n_samples: int, sample_rate_hz: float, rng: np.random.Generator | None = None,
        *, draws: np.ndarray | None = None, start: int = 0, stop: int | None = None,
    ) -> np.ndarray:
        """Relative intensity noise ``n(t)`` (dimensionless, periodic over the record).

        White samples of variance ``RIN·f_low/2`` at ``f_low = 3·rin_bandwidth_hz`` (at most
        the sample rate), linearly interpolated: one-sided PSD ``RIN`` at DC, ENBW
        ``f_low/3``, ``var = RIN·f_low/3`` (see the module docstring).  The standard normals
        come from ``rng``, or are ``draws``: what :meth:`rin_draws` took from a generator
        (e.g. ahead, on another thread).  ``start, stop``: only samples ``start ... stop − 1``
        of the record (the same values as those of the whole record, so that parts of it can
        be computed on different threads).
        """
        stop = n_samples if stop is None else stop
        if not 0 <= start < stop <= n_samples:
            raise InvalidParameter(f"start, stop = {start}, {stop}; need 0 <= start < stop <= n_samples = {n_samples}")
        if draws is None:
            if rng is None:
                raise InvalidParameter("rin_noise needs rng or draws")
            draws = self.rin_draws(n_samples, sample_rate_hz, rng)
        else:
            self._check_draws(n_samples, sample_rate_hz, draws)
        return self._knots(n_samples, sample_rate_hz, draws, 1.0, 0.0).at(start, stop)

    def _knots(self, n_samples: int, sample_rate_hz: float, draws: np.ndarray, gain: float, offset: float) -> Knots:
        # linear interpolation commutes with an affine map: the map is applied to the knots
        n_low = self._rin_points(n_samples, sample_rate_hz)
        rin = 10.0 ** (self.rin_db_per_hz / 10.0)
        f_low = n_low / (n_samples / sample_rate_hz)
        x = (gain * math.sqrt(rin * f_low / 2.0)) * draws
        x += offset
        if n_low < n_samples:
            x[-1] = x[0]  # periodic over the record
        return Knots(values=x, n_samples=n_samples, at_samples=n_low == n_samples)

    def amplitude_knots(
        self, n_samples: int, sample_rate_hz: float, draws: np.ndarray, *, temperature_c: float | None = None,
        scale: float = 1.0,
    ) -> Knots:
        """The field amplitude ``scale·sqrt(P)·(1 + n/2)`` of :meth:`amplitude` at the RIN's
        knots, with the RIN ``n`` of :meth:`rin_noise` from ``draws`` (what :meth:`rin_draws`
        took), times a real ``scale`` (e.g. a splitter's field loss).

        Linear interpolation commutes with that affine map, so :meth:`Knots.at` gives
        ``scale·amplitude(n_samples, sample_rate_hz, rin=rin_noise(..., draws=draws))`` at any
        samples, up to rounding (~1e-16 relative; ~1e-7 in single precision).  Same errors as
        :meth:`amplitude` and :meth:`rin_noise`.
        """
        p, _ = self._lit_power(temperature_c)
        self._check_draws(n_samples, sample_rate_hz, draws)
        amp = validate.real("scale", scale) * math.sqrt(p)
        return self._knots(n_samples, sample_rate_hz, draws, 0.5 * amp, amp)

    def amplitude_from_draws(
        self, n_samples: int, sample_rate_hz: float, draws: np.ndarray, *, temperature_c: float | None = None,
        start: int = 0, stop: int | None = None, scale: float = 1.0,
    ) -> np.ndarray:
        """``scale·sqrt(P)·(1 + n/2)`` at samples ``start ... stop − 1``: :meth:`amplitude_knots`
        interpolated (:meth:`Knots.at`, float64)."""
        return self.amplitude_knots(n_samples, sample_rate_hz, draws, temperature_c=temperature_c,
                                    scale=scale).at(start, n_samples if stop is None else stop)

    def _lit_power(self, temperature_c: float | None) -> tuple[float, float]:
        """Output power (W) and temperature (°C, default ``temperature_ref_c``); raises when dark."""
        t = self.temperature_ref_c if temperature_c is None else validate.real("temperature_c", temperature_c)
        p = self.output_power_w(t)
        if p <= 0.0:
            raise InvalidParameter(
                f"laser bias current {self.bias_current_at(t):g} A is not above the threshold "
                f"{self.threshold_current_at(t):g} A at {t:g} °C: no light"
            )
        return p, t

    def _check_draws(self, n_samples: int, sample_rate_hz: float, draws: np.ndarray) -> None:
        expected = self._rin_draw_count(n_samples, sample_rate_hz)
        if draws.shape != (expected,):
            raise InvalidParameter(
                f"draws has shape {draws.shape}; ({expected},) expected (from rin_draws with the same record)"
            )

    def _rin_points(self, n_samples: int, sample_rate_hz: float) -> int:
        """White RIN samples per record (``3·B_rin·T``, 2...n_samples)."""
        duration = n_samples / sample_rate_hz
        return int(min(n_samples, max(2, round(3.0 * self.rin_bandwidth_hz * duration))))

    def _rin_draw_count(self, n_samples: int, sample_rate_hz: float) -> int:
        n_low = self._rin_points(n_samples, sample_rate_hz)
        return n_samples if n_low == n_samples else n_low + 1

    def rin_draws(self, n_samples: int, sample_rate_hz: float, rng: np.random.Generator) -> np.ndarray:
        """The standard normals :meth:`rin_noise` takes from ``rng`` for a record (its ``draws``)."""
        return gaussian.standard_normal(rng, self._rin_draw_count(n_samples, sample_rate_hz))

    def skip_rin(self, n_samples: int, sample_rate_hz: float, rng: np.random.Generator) -> None:
        """Advance ``rng`` exactly as :meth:`rin_noise` would, without computing the noise.

        A temperature sweep that reuses a lane's Tx field (same draws, another laser power)
        calls it so that the receiver noise that follows gets the same draws as without reuse.
        """
        self.rin_draws(n_samples, sample_rate_hz, rng)

    # --- the emitted field -------------------------------------------------------------
    def emit(
        self,
        n_samples: int,
        sample_rate_hz: float,
        *,
        temperature_c: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> OpticalField:
        """CW field with RIN at the laser output.

        Parameters
        ----------
        n_samples : int
            Record length (>= 2).
        sample_rate_hz : float
            Sample rate in Hz (> 0).
        temperature_c : float, optional
            Chip temperature in °C (default ``temperature_ref_c``).
        rng : numpy.random.Generator, optional
            Source of the RIN noise; without it the output is noiseless.

        Returns
        -------
        OpticalField
            ``sqrt(P)·(1 + n/2)`` at ``wavelength_at(T)`` (see module docstring).

        Raises
        ------
        InvalidParameter
            If the bias current is at or below the threshold at that temperature (no light).
        """
        amp, t = self._amplitude(n_samples, sample_rate_hz, temperature_c, rng)
        fs = float(sample_rate_hz)
        field = amp.astype(np.complex128)
        return OpticalField(
            field=field,
            sample_rate_hz=fs,
            wavelength_m=self.wavelength_at(t),
            meta={"laser_power_w": self.output_power_w(t), "laser_temperature_c": t},
        )

    def amplitude(
        self,
        n_samples: int,
        sample_rate_hz: float,
        *,
        temperature_c: float | None = None,
        rng: np.random.Generator | None = None,
        rin: np.ndarray | None = None,
    ) -> np.ndarray:
        """Real field amplitude ``sqrt(P)·(1 + n/2)`` (sqrt(W)) of :meth:`emit`, without the
        complex carrier array (the link multiplies it straight into the modulator transfer).

        Same samples and the same draws from ``rng`` as :meth:`emit`; same errors.  ``rin``:
        the noise ``n(t)`` already drawn by :meth:`rin_noise` (e.g. ahead, on another thread;
        it is overwritten), used instead of drawing from ``rng``.
        """
        return self._amplitude(n_samples, sample_rate_hz, temperature_c, rng, rin)[0]

    def _amplitude(
        self, n_samples: int, sample_rate_hz: float, temperature_c: float | None, rng: np.random.Generator | None,
        rin: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        n = validate.integer("n_samples", n_samples, 2)
        fs = validate.positive("sample_rate_hz", sample_rate_hz, "Hz")
        p, t = self._lit_power(temperature_c)
        amp = math.sqrt(p)
        if rin is not None:
            if rin.shape != (n,):
                raise InvalidParameter(f"rin has shape {rin.shape}; ({n},) expected (one value per sample)")
            x = rin
        elif rng is None:
            return np.full(n, amp), t
        else:
            x = self.rin_noise(n, fs, rng)
        x *= 0.5
        x += 1.0
        x *= amp
        return x, t
