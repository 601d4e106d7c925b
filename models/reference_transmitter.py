"""A reference PAM4 optical transmitter: four equally spaced levels, a Bessel-Thomson
bandwidth, additive Gaussian noise and linear temperature coefficients.

This is the idealised source of a test bench -- the calibrated reference transmitter behind a
BERT, or a golden transmitter a scope is verified with -- and the signal whose metrics have
closed forms (TDECQ of a noise-only eye, ``-5 log10(1 - (σ/σ_ideal)²)``).  The virtual bench
uses it when no module of a population is in its socket; a module's own lanes come from the
link models (:mod:`models.population`, :func:`models.population.lane_tx_waveform`).

Equations (outer levels from the average power and the extinction ratio ``r``):
``P0 = 2 Pavg/(r + 1)``, ``P3 = r P0``, ``Pk = P0 + k (P3 - P0)/3``; the NRZ-held symbols
pass a 4th-order Bessel-Thomson response (:func:`optics.reference_receiver.bessel_thomson`)
of bandwidth ``B(T)``; white Gaussian noise of rms ``noise_rms_rel_oma · OMA`` is added.
Temperature: ``Pavg(T) = Pavg(25 °C)·10^(k_P ΔT/10)``, ``ER(T) = ER + k_ER ΔT``,
``B(T) = B·(1 + k_B ΔT)``, ``λ(T) = λ + dλ/dT·ΔT`` (linear datasheet coefficients).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Quantity, Waveform


def _dbm_to_w(power_dbm: float) -> float:
    return 1e-3 * 10.0 ** (power_dbm / 10.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReferenceTransmitterParams:
    """A reference PAM4 optical transmitter (values at 25 °C plus linear temperature coefficients).

    Parameters
    ----------
    symbol_rate_baud : float
        Symbol rate, Bd (default 53.125 GBd, 100G per lane).
    samples_per_symbol : int
        Samples per symbol of the generated pattern waveform, 4..64 (default 16).
    pattern_name : str
        :func:`optics.patterns.pattern` name (default ``"PRBS13Q"``, 8191 symbols).
    average_power_dbm : float
        Launch average power at 25 °C, dBm.
    extinction_ratio_db : float
        Outer extinction ratio ``10 log10(P3/P0)`` at 25 °C, dB, > 0.
    bandwidth_hz : float
        -3 dB bandwidth of the 4th-order Bessel-Thomson transmitter response at 25 °C, Hz.
    power_tempco_db_per_k, extinction_tempco_db_per_k : float
        Changes of average power and ER per kelvin, dB/K.
    bandwidth_tempco_per_k : float
        Relative bandwidth change per kelvin, 1/K (-0.004 = -0.4 %/K).
    noise_rms_rel_oma : float
        Additive Gaussian noise, rms, as a fraction of the outer OMA, >= 0.
    bandwidth_limited : bool
        True (default): the levels pass the Bessel-Thomson response of ``bandwidth_hz``.
        False: ideal NRZ-held levels plus the white noise only -- a "noise-only" waveform
        whose TDECQ has a closed form, ``-5 log10(1 - (σ/σ_ideal)²)`` with
        ``σ_ideal = OMA/(6 Q_t)`` (IEEE 802.3 121.8.5.3 with an ideal eye).
    noise_per_symbol : bool
        False (default): an independent noise value per sample.  True: one value per symbol,
        held for its samples (white at the symbol rate), so every sampling phase inside a
        symbol sees the full σ -- a TDECQ analysis that interpolates between samples
        (``optics.tdecq`` does) would average sample-independent noise down by
        ``sqrt(w² + (1 - w)²)`` at a fractional position ``w``.
    wavelength_m, wavelength_tempco_m_per_k : float
        Lasing wavelength at 25 °C (m) and its drift (m/K; ~0.09 nm/K for a DFB).
    smsr_db : float
        Side-mode suppression ratio of the laser, dB.
    seed : int
        Seed of the noise generator (with the temperature bin, see :meth:`ReferenceTransmitter.waveform`).
    """

    symbol_rate_baud: float = 53.125e9
    samples_per_symbol: int = 16
    pattern_name: str = "PRBS13Q"
    average_power_dbm: float = 2.0
    extinction_ratio_db: float = 5.0
    bandwidth_hz: float = 32e9
    power_tempco_db_per_k: float = -0.03
    extinction_tempco_db_per_k: float = -0.01
    bandwidth_tempco_per_k: float = -0.004
    noise_rms_rel_oma: float = 0.02
    wavelength_m: float = 1311e-9
    wavelength_tempco_m_per_k: float = 0.09e-9
    smsr_db: float = 45.0
    seed: int = 1
    bandwidth_limited: bool = True
    noise_per_symbol: bool = False

    def __post_init__(self) -> None:
        validate.positive("symbol_rate_baud", self.symbol_rate_baud, "Bd")
        validate.integer("samples_per_symbol", self.samples_per_symbol, 4, 64)
        if not isinstance(self.pattern_name, str):
            raise InvalidParameter(f"pattern_name must be a string, got {self.pattern_name!r}")
        validate.in_range("average_power_dbm", self.average_power_dbm, -30.0, 20.0, unit="dBm")
        validate.in_range("extinction_ratio_db", self.extinction_ratio_db, 0.5, 30.0, unit="dB")
        validate.positive("bandwidth_hz", self.bandwidth_hz, "Hz")
        validate.in_range("power_tempco_db_per_k", self.power_tempco_db_per_k, -1.0, 1.0, unit="dB/K")
        validate.in_range("extinction_tempco_db_per_k", self.extinction_tempco_db_per_k, -1.0, 1.0, unit="dB/K")
        validate.in_range("bandwidth_tempco_per_k", self.bandwidth_tempco_per_k, -0.01, 0.01, unit="1/K")
        validate.in_range("noise_rms_rel_oma", self.noise_rms_rel_oma, 0.0, 0.5)
        validate.in_range("wavelength_m", self.wavelength_m, 600e-9, 1700e-9, unit="m")
        validate.in_range("wavelength_tempco_m_per_k", self.wavelength_tempco_m_per_k, -1e-9, 1e-9, unit="m/K")
        validate.in_range("smsr_db", self.smsr_db, 0.0, 80.0, unit="dB")
        validate.integer("seed", self.seed, 0)
        for name in ("bandwidth_limited", "noise_per_symbol"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidType(f"{name} must be True or False, got {getattr(self, name)!r}")



class ReferenceTransmitter:
    """A reference PAM4 transmitter: pattern, four equal levels, Bessel-Thomson bandwidth, noise.

    Level equations (outer levels from average power and extinction ratio ``r``):
    ``P0 = 2 Pavg/(r + 1)``, ``P3 = r P0``, ``Pk = P0 + k (P3 - P0)/3``.  The NRZ-held
    symbol sequence is filtered (periodically, one pattern period) by a 4th-order
    Bessel-Thomson response of bandwidth ``B(T)`` (:func:`optics.reference_receiver.bessel_thomson`;
    skipped when ``bandwidth_limited`` is False), then white Gaussian noise of rms
    ``noise_rms_rel_oma · OMA`` is added (one value per sample, or per symbol with
    ``noise_per_symbol``).

    Parameters
    ----------
    params : ReferenceTransmitterParams
    """

    def __init__(self, params: ReferenceTransmitterParams | None = None) -> None:
        self.params = params or ReferenceTransmitterParams()
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
        return _dbm_to_w(p.average_power_dbm + p.power_tempco_db_per_k * self._dt(temperature_c))

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
            "source": "model",
            "model": "models.reference_transmitter",
            "seed": seed,
            "temperature_c": float(temperature_c),
            "settings": dataclasses.asdict(p),
        }
        return filtered.with_samples(filtered.samples + noise, meta=meta)


__all__ = ["ReferenceTransmitter", "ReferenceTransmitterParams"]
