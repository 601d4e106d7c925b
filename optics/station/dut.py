"""Simulated modules under test: multi-lane PAM4 transceivers with a spread from unit to unit.

A :class:`SimulatedModule` is what the virtual bench tests: a serial number and one
:class:`LaneParams` per lane.  Each lane's transmitter is a silicon-photonics ring
modulator driven by a DFB laser; its receiver is a photodiode with an input-referred noise
current.  :class:`LaneTransmitter` turns a lane into the four-method transmitter interface of
:class:`instruments.virtual.physics.Transmitter`, so the bench physics (scope, power meter,
attenuator, BERT) sees exactly this lane.

Ring detuning model
-------------------
A ring modulator is held on its resonance by a heater.  Above ``ring_lock_max_c`` the
heater has no range left and the resonance walks away from the laser line by
``δ = ring_drift_m_per_k · (T - ring_lock_max_c)`` (silicon: about 0.07-0.08 nm/K,
Bogaerts et al., "Silicon microring resonators", Laser Photonics Rev. 6, 47 (2012)).
The modulation depth follows the Lorentzian resonance slope,
``η(δ) = 1 / (1 + (2δ / FWHM)²)``, so the outer OMA scales by ``η`` at constant average
power.  With ``m = OMA / (2 P_avg) = (r - 1)/(r + 1)`` (``r`` the linear extinction ratio,
from ``P0 = 2P/(r+1)``, ``P3 = r P0``) the detuned ER follows from ``m η``; the additive
noise of the optical path does not shrink, so its level relative to the OMA grows as
``1/η`` (TDECQ rises).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np

from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Waveform


@dataclasses.dataclass(frozen=True, kw_only=True)
class LaneParams:
    """One lane of a simulated module (transmitter at 25 °C plus temperature behaviour, receiver).

    Parameters
    ----------
    average_power_dbm : float
        Launch average power at 25 °C, dBm.
    extinction_ratio_db : float
        Outer extinction ratio at 25 °C (ring on resonance), dB.
    bandwidth_hz : float
        Transmitter -3 dB bandwidth at 25 °C, Hz.
    noise_rms_rel_oma : float
        Additive optical noise, rms, relative to the on-resonance OMA.
    wavelength_m : float
        Laser wavelength at 25 °C, m.
    power_tempco_db_per_k : float
        Laser power change per kelvin, dB/K.
    ring_lock_max_c : float
        Highest case temperature the ring heater can hold resonance at, °C.
    ring_drift_m_per_k : float
        Resonance drift per kelvin beyond that, m/K.
    ring_fwhm_m : float
        Ring resonance full width at half maximum, m.
    rx_noise_current_a_rms : float
        Receiver input-referred rms noise current, A (sets the sensitivity).
    rx_responsivity_a_per_w : float
        Receiver photodiode responsivity, A/W.
    seed : int
        Seed of this lane's waveform noise.
    """

    average_power_dbm: float = 2.0
    extinction_ratio_db: float = 5.0
    bandwidth_hz: float = 32e9
    noise_rms_rel_oma: float = 0.02
    wavelength_m: float = 1311e-9
    power_tempco_db_per_k: float = -0.03
    ring_lock_max_c: float = 95.0
    ring_drift_m_per_k: float = 0.075e-9
    ring_fwhm_m: float = 0.4e-9
    rx_noise_current_a_rms: float = 6.5e-6
    rx_responsivity_a_per_w: float = 0.8
    seed: int = 1

    def __post_init__(self) -> None:
        validate.in_range("average_power_dbm", self.average_power_dbm, -30.0, 20.0, unit="dBm")
        validate.in_range("extinction_ratio_db", self.extinction_ratio_db, 0.5, 30.0, unit="dB")
        validate.positive("bandwidth_hz", self.bandwidth_hz, "Hz")
        validate.in_range("noise_rms_rel_oma", self.noise_rms_rel_oma, 0.0, 0.5)
        validate.in_range("wavelength_m", self.wavelength_m, 600e-9, 1700e-9, unit="m")
        validate.in_range("power_tempco_db_per_k", self.power_tempco_db_per_k, -1.0, 1.0, unit="dB/K")
        validate.in_range("ring_lock_max_c", self.ring_lock_max_c, -60.0, 200.0, unit="°C")
        validate.in_range("ring_drift_m_per_k", self.ring_drift_m_per_k, 0.0, 1e-9, unit="m/K")
        validate.positive("ring_fwhm_m", self.ring_fwhm_m, "m")
        validate.positive("rx_noise_current_a_rms", self.rx_noise_current_a_rms, "A")
        validate.positive("rx_responsivity_a_per_w", self.rx_responsivity_a_per_w, "A/W")
        validate.integer("seed", self.seed, 0)

    def ring_efficiency(self, temperature_c: float) -> float:
        """Modulation efficiency ``η = 1/(1 + (2δ/FWHM)²)`` at a case temperature (1 when locked)."""
        t = validate.in_range("temperature_c", temperature_c, -60.0, 200.0, unit="°C")
        detuning_m = self.ring_drift_m_per_k * max(0.0, t - self.ring_lock_max_c)
        return 1.0 / (1.0 + (2.0 * detuning_m / self.ring_fwhm_m) ** 2)

    def average_power_dbm_at(self, temperature_c: float) -> float:
        """``P(T) = P(25 °C) + k_P (T - 25)``, dBm."""
        return self.average_power_dbm + self.power_tempco_db_per_k * (float(temperature_c) - 25.0)

    def extinction_ratio_db_at(self, temperature_c: float) -> float:
        """Outer ER with the ring detuning applied (see the module docstring), dB."""
        r0 = 10.0 ** (self.extinction_ratio_db / 10.0)
        m = (r0 - 1.0) / (r0 + 1.0) * self.ring_efficiency(temperature_c)
        r = (1.0 + m) / (1.0 - m)
        return max(0.5, 10.0 * math.log10(r))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimulatedModule:
    """A module under test on the virtual bench.

    Parameters
    ----------
    serial : str
        Serial number (also what its CMIS page 00h reports).
    lanes : sequence of LaneParams
        One entry per lane (1..8).
    vendor_name, part_number : str
        CMIS identity.
    note : str
        What is special about this unit (for the demo's printout), e.g. ``"weak laser L3"``.
    """

    serial: str
    lanes: tuple[LaneParams, ...]
    vendor_name: str = "OPTICS-SIM"
    part_number: str = "OSFP-800G-DR8S"
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.serial, str) or not self.serial.strip() or len(self.serial) > 16:
            raise InvalidParameter(f"serial {self.serial!r} must be a non-empty string of at most 16 characters")
        lanes = tuple(self.lanes)
        if not 1 <= len(lanes) <= 8 or not all(isinstance(x, LaneParams) for x in lanes):
            raise InvalidParameter(f"lanes must hold 1..8 LaneParams, got {len(lanes)} item(s)")
        object.__setattr__(self, "lanes", lanes)

    @property
    def n_lanes(self) -> int:
        """Number of lanes."""
        return len(self.lanes)


class LaneTransmitter:
    """One lane of a :class:`SimulatedModule` as a bench transmitter (W, °C, m).

    Implements the interface of :class:`instruments.virtual.physics.Transmitter` with the
    bench's :class:`~instruments.virtual.physics.SimpleTransmitter` evaluated at the lane's
    parameters for the given temperature (ring detuning included).

    Parameters
    ----------
    lane : LaneParams
    symbol_rate_baud : float
        Symbol rate, Bd.
    pattern_name : str
        Transmitted pattern (:func:`optics.patterns.pattern` name).
    samples_per_symbol : int
        Samples per symbol of the waveform.
    """

    def __init__(self, lane: LaneParams, *, symbol_rate_baud: float = 53.125e9, pattern_name: str = "PRBS13Q",
                 samples_per_symbol: int = 16) -> None:
        self.lane = lane
        self.symbol_rate_baud = float(symbol_rate_baud)
        self.pattern_name = pattern_name
        self.samples_per_symbol = int(samples_per_symbol)

    def params_at(self, temperature_c: float):
        """The bench's :class:`TransmitterParams` describing this lane at ``temperature_c``."""
        from instruments.virtual.physics import TransmitterParams

        ln = self.lane
        eta = ln.ring_efficiency(temperature_c)
        return TransmitterParams(
            symbol_rate_baud=self.symbol_rate_baud,
            samples_per_symbol=self.samples_per_symbol,
            pattern_name=self.pattern_name,
            average_power_dbm=ln.average_power_dbm_at(temperature_c),
            extinction_ratio_db=ln.extinction_ratio_db_at(temperature_c),
            bandwidth_hz=ln.bandwidth_hz,
            power_tempco_db_per_k=0.0,
            extinction_tempco_db_per_k=0.0,
            bandwidth_tempco_per_k=-0.002,
            noise_rms_rel_oma=min(0.5, ln.noise_rms_rel_oma / eta),
            wavelength_m=ln.wavelength_m,
            seed=ln.seed,
        )

    def _simple(self, temperature_c: float):
        from instruments.virtual.physics import SimpleTransmitter

        return SimpleTransmitter(self.params_at(temperature_c))

    def waveform(self, temperature_c: float) -> Waveform:
        """One pattern period of the lane's optical power, W."""
        wf = self._simple(temperature_c).waveform(temperature_c)
        return wf.with_meta(model="LaneTransmitter (ring modulator)",
                            ring_efficiency=self.lane.ring_efficiency(temperature_c))

    def average_power_w(self, temperature_c: float) -> float:
        """Launched average power, W."""
        return 1e-3 * 10.0 ** (self.lane.average_power_dbm_at(temperature_c) / 10.0)

    def oma_outer_w(self, temperature_c: float) -> float:
        """Outer OMA ``P3 - P0``, W."""
        r = 10.0 ** (self.lane.extinction_ratio_db_at(temperature_c) / 10.0)
        return 2.0 * self.average_power_w(temperature_c) * (r - 1.0) / (r + 1.0)

    def wavelength_m(self, temperature_c: float) -> float:
        """Laser wavelength (DFB drift 0.09 nm/K), m."""
        return self.lane.wavelength_m + 0.09e-9 * (float(temperature_c) - 25.0)


def _serial_seed(serial: str) -> int:
    return int.from_bytes(hashlib.sha256(serial.encode()).digest()[:4], "big")


def nominal_module(serial: str, *, n_lanes: int = 8, rng: np.random.Generator | None = None) -> SimulatedModule:
    """A good module with the production spread (seeded by the serial if ``rng`` is None).

    Spread (1σ, typical of a 800G DR8 silicon-photonics line): launch power 0.35 dB around
    +2.0 dBm, ER 0.25 dB around 5.0 dB, Tx bandwidth 5 % around 32 GHz, noise 10 % around
    2 % of OMA, receiver noise current 8 % around 6.5 µA, ring lock limit 4 K around 95 °C.
    """
    rng = rng if rng is not None else np.random.default_rng(_serial_seed(serial))
    validate.integer("n_lanes", n_lanes, 1, 8)
    lanes = []
    for k in range(n_lanes):
        lanes.append(LaneParams(
            average_power_dbm=float(rng.normal(2.0, 0.35)),
            extinction_ratio_db=float(rng.normal(5.0, 0.25)),
            bandwidth_hz=float(32e9 * rng.normal(1.0, 0.05)),
            noise_rms_rel_oma=float(0.02 * rng.normal(1.0, 0.10)),
            wavelength_m=float(rng.normal(1311e-9, 1.0e-9)),
            ring_lock_max_c=float(rng.normal(95.0, 4.0)),
            rx_noise_current_a_rms=float(6.5e-6 * rng.normal(1.0, 0.08)),
            seed=int(rng.integers(0, 2**31)),
        ))
    return SimulatedModule(serial=serial, lanes=tuple(lanes))


def with_lane(module: SimulatedModule, lane: int, note: str, **changes: float) -> SimulatedModule:
    """A copy of ``module`` with lane ``lane``'s parameters changed (a defect), noted."""
    lanes = list(module.lanes)
    if not 0 <= lane < len(lanes):
        raise InvalidParameter(f"lane = {lane} not in 0..{len(lanes) - 1}")
    lanes[lane] = dataclasses.replace(lanes[lane], **changes)
    return dataclasses.replace(module, lanes=tuple(lanes), note=note)


def demo_population(n_modules: int, *, rng: np.random.Generator, n_lanes: int = 8,
                    serial_prefix: str = "DR8") -> list[SimulatedModule]:
    """A lot of ``n_modules`` modules with production spread, two physical defects and a marginal unit.

    Module 2 (if present) has a weak laser on lane 3 (-3.4 dBm launch: the average power and
    OMA fail); module 4 (or the last one when fewer than five) has a ring on lane 5 whose
    heater runs out at 66 °C, so at 70 °C the ring is detuned by 0.3 nm (η ≈ 0.31): OMA and
    ER fail hot while the module passes at 25 °C; module 5 (if present) has a slow
    modulator driver on lane 2 (19.3 GHz, 3 % noise, +3 dBm launch): its TDECQ (about 3.2 dB
    at 70 °C) is inside the 3.4 dB limit but within the plan's 0.3 dB guard band -> MARGINAL.
    """
    validate.integer("n_modules", n_modules, 1, 10000)
    mods: list[SimulatedModule] = []
    for i in range(n_modules):
        mods.append(nominal_module(f"{serial_prefix}{i + 1:05d}", n_lanes=n_lanes, rng=rng))
    if n_modules >= 2:
        k = 1
        mods[k] = with_lane(mods[k], min(3, n_lanes - 1), f"weak laser on lane {min(3, n_lanes - 1)}",
                            average_power_dbm=-3.4)
    if n_modules >= 3:
        k = 3 if n_modules >= 5 else n_modules - 1
        mods[k] = with_lane(mods[k], min(5, n_lanes - 1),
                            f"ring on lane {min(5, n_lanes - 1)} detunes above 66 °C (heater out of range)",
                            ring_lock_max_c=66.0)
    if n_modules >= 5:
        mods[4] = with_lane(mods[4], min(2, n_lanes - 1),
                            f"slow driver on lane {min(2, n_lanes - 1)} (19.3 GHz): TDECQ near the limit when hot",
                            bandwidth_hz=19.3e9, noise_rms_rel_oma=0.03, average_power_dbm=3.0, extinction_ratio_db=5.0)
    return mods


__all__ = ["LaneParams", "LaneTransmitter", "SimulatedModule", "demo_population",
           "nominal_module", "with_lane"]
