"""The transmitter behind the virtual bench: the :class:`Transmitter` interface :class:`~instruments.virtual.physics.BenchLink`
uses, and :class:`SimpleTransmitter`, the documented stand-in (see :mod:`instruments.virtual.physics`)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from instruments.virtual.bench_params import TransmitterParams, dbm_to_w
from optics import validate
from optics.waveform import Quantity, Waveform


# --- transmitter --------------------------------------------------------------------------
class Transmitter(Protocol):
    """What :class:`BenchLink` needs from a transmitter model (temperatures in °C).

    Implementations: :class:`SimpleTransmitter`,
    :class:`instruments.virtual.model_transmitter.ModelTransmitter` (:mod:`models.link`).
    """

    @property
    def symbol_rate_baud(self) -> float:
        """Symbol rate, Bd."""

    def waveform(self, temperature_c: float) -> Waveform:
        """Optical power waveform (W), one or more whole periods of a known pattern."""

    def average_power_w(self, temperature_c: float) -> float:
        """Average launched power, W."""

    def oma_outer_w(self, temperature_c: float) -> float:
        """Outer OMA ``P3 - P0``, W."""

    def wavelength_m(self, temperature_c: float) -> float:
        """Lasing wavelength, m."""


class SimpleTransmitter:
    """The stand-in transmitter: pattern, four equal levels, Bessel-Thomson bandwidth, noise.

    Level equations (outer levels from average power and extinction ratio ``r``):
    ``P0 = 2 Pavg/(r + 1)``, ``P3 = r P0``, ``Pk = P0 + k (P3 - P0)/3``.  The NRZ-held
    symbol sequence is filtered (periodically, one pattern period) by a 4th-order
    Bessel-Thomson response of bandwidth ``B(T)`` (:func:`optics.reference_receiver.bessel_thomson`;
    skipped when ``bandwidth_limited`` is False), then white Gaussian noise of rms
    ``noise_rms_rel_oma · OMA`` is added (one value per sample, or per symbol with
    ``noise_per_symbol``).

    Parameters
    ----------
    params : TransmitterParams
    """

    def __init__(self, params: TransmitterParams | None = None) -> None:
        self.params = params or TransmitterParams()
        from optics.patterns import pattern

        self._symbols = np.asarray(pattern(self.params.pattern_name), dtype=np.uint8)

    @property
    def symbols(self) -> np.ndarray:
        """The repeating PAM4 pattern (one period)."""
        return self._symbols

    @property
    def symbol_rate_baud(self) -> float:
        """Symbol rate, Bd."""
        return self.params.symbol_rate_baud

    def _dt(self, temperature_c: float) -> float:
        return validate.in_range("temperature_c", temperature_c, -60.0, 200.0, unit="°C") - 25.0

    def average_power_w(self, temperature_c: float) -> float:
        """``Pavg(T) = Pavg(25 °C) · 10^(k_P (T - 25)/10)``, W."""
        p = self.params
        return dbm_to_w(p.average_power_dbm + p.power_tempco_db_per_k * self._dt(temperature_c))

    def extinction_ratio_db(self, temperature_c: float) -> float:
        """``ER(T) = ER(25 °C) + k_ER (T - 25)``, dB, never below 0.5 dB."""
        p = self.params
        return max(0.5, p.extinction_ratio_db + p.extinction_tempco_db_per_k * self._dt(temperature_c))

    def levels_w(self, temperature_c: float) -> np.ndarray:
        """The four nominal power levels, W, lowest first."""
        r = 10.0 ** (self.extinction_ratio_db(temperature_c) / 10.0)
        p0 = 2.0 * self.average_power_w(temperature_c) / (r + 1.0)
        return p0 + (r * p0 - p0) * np.arange(4) / 3.0

    def oma_outer_w(self, temperature_c: float) -> float:
        """Nominal outer OMA ``P3 - P0``, W."""
        lv = self.levels_w(temperature_c)
        return float(lv[3] - lv[0])

    def bandwidth_hz(self, temperature_c: float) -> float:
        """``B(T) = B(25 °C) · (1 + k_B (T - 25))``, Hz (at least 10 % of B(25 °C))."""
        p = self.params
        return p.bandwidth_hz * max(0.1, 1.0 + p.bandwidth_tempco_per_k * self._dt(temperature_c))

    def wavelength_m(self, temperature_c: float) -> float:
        """``λ(T) = λ(25 °C) + dλ/dT · (T - 25)``, m."""
        p = self.params
        return p.wavelength_m + p.wavelength_tempco_m_per_k * self._dt(temperature_c)

    def waveform(self, temperature_c: float) -> Waveform:
        """One pattern period of the transmitter's optical power, W.

        The noise generator is ``numpy.random.default_rng([seed, round(4 T) + 10000])``, so a
        given temperature always gives the same record (recorded in ``meta``).
        """
        from optics.reference_receiver import bessel_thomson

        p = self.params
        sps = p.samples_per_symbol
        levels = self.levels_w(temperature_c)
        held = np.repeat(levels[self._symbols], sps)
        clean = Waveform(
            samples=held,
            sample_rate_hz=p.symbol_rate_baud * sps,
            quantity=Quantity.OPTICAL_POWER,
            symbol_rate_baud=p.symbol_rate_baud,
            pattern=self._symbols,
        )
        if p.bandwidth_limited:
            filtered = bessel_thomson(clean, self.bandwidth_hz(temperature_c), order=4)
        else:
            filtered = clean
        seed = [p.seed, int(round(4.0 * temperature_c)) + 10000]
        rng = np.random.default_rng(seed)
        sigma = p.noise_rms_rel_oma * float(levels[3] - levels[0])
        if p.noise_per_symbol:
            noise = np.repeat(rng.normal(0.0, sigma, self._symbols.size), sps)
        else:
            noise = rng.normal(0.0, sigma, held.size)
        meta = {
            "source": "virtual-bench",
            "model": "SimpleTransmitter",
            "seed": seed,
            "temperature_c": float(temperature_c),
            "settings": dataclasses.asdict(p),
        }
        return filtered.with_samples(filtered.samples + noise, meta=meta)
