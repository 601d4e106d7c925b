"""The one physical link shared by every virtual instrument of a bench: :class:`BenchLink`.

Topology (what each virtual instrument sees), default ``ScopeParams(position="transmitter")``::

    ThermoStream ──heat──> module (DUT) ──> tap ──> VOA (N7764A) ──> power meter (N7744A)
                              │              │                 └──> receiver + BERT (M8040A)
                              │              ├──> PM100D (Tx monitor)
                              │              └──> OSA (AQ6370)
                              └──> scope (FlexDCA, the transmitter waveform)

With ``ScopeParams(position="receiver")`` (bench TOML ``[virtual.scope] position =
"receiver"``) the scope sits behind the attenuator, as on a receiver-sensitivity bench::

    module ──> tap ──> VOA ──> splitter ──(ratio r)──────> scope (FlexDCA)
                                   └──────(1 - r)──> power meter
                                                     └──> receiver + BERT

both splitter arms carrying its excess loss, so an attenuation sweep moves the scope's
OMA dB-for-dB with the power meter and the BER.

* The thermal forcer drives the air temperature toward its set point (first order,
  ``tau_air``); the module follows the air (first order, ``tau_dut``).  Time runs
  ``time_scale`` times faster than the wall clock (and :meth:`BenchLink.advance` jumps).
* The module temperature sets the transmitter: average power, extinction ratio, bandwidth
  and wavelength (linear temperature coefficients, :class:`TransmitterParams`).
* The attenuator sets what reaches the receiver and the power meter (and the scope in the
  ``"receiver"`` position); the OSA and the Tx monitor see the transmitter directly.
* The scope adds its own noise, rms ``ScopeParams.noise_rms_w`` (σ_S), to what it records.
* The BER follows the received OMA (closed form, :func:`pam4_ber`).

The transmitter sits behind a small interface, :class:`Transmitter` (``symbol_rate_baud``,
``waveform``, ``average_power_w``, ``oma_outer_w``, ``wavelength_m``, temperatures in °C):
:class:`SimpleTransmitter` is the documented stand-in (pattern from :mod:`optics.patterns`,
four equally spaced levels, a 4th-order Bessel-Thomson bandwidth, additive Gaussian noise
from a seeded generator); :class:`~instruments.virtual.model_transmitter.ModelTransmitter`
puts a lane of :mod:`models.link` behind the same interface (``BenchParams.model_preset``).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import OrderedDict
from typing import Protocol

import numpy as np
import scipy.special

from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Quantity, Waveform

#: Temperatures are quantised to this step (K) when waveforms are cached.
WAVEFORM_TEMPERATURE_STEP_K = 0.25
#: Speed of light in vacuum, m/s.
C_M_PER_S = 299_792_458.0


def dbm_to_w(power_dbm: float) -> float:
    """Convert dBm to W: ``P = 1 mW · 10^(dBm/10)``."""
    return 1e-3 * 10.0 ** (power_dbm / 10.0)


def w_to_dbm(power_w: float) -> float:
    """Convert W to dBm (``-inf`` is never returned: powers <= 1e-20 W give -170 dBm)."""
    return 10.0 * math.log10(max(power_w, 1e-20) / 1e-3)


# --- parameter sets ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class TransmitterParams:
    """The stand-in PAM4 transmitter (values at 25 °C plus linear temperature coefficients).

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
        Seed of the noise generator (with the temperature bin, see :meth:`SimpleTransmitter.waveform`).
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiverParams:
    """Receiver behind the attenuator (the BERT's error detector input).

    Parameters
    ----------
    responsivity_a_per_w : float
        Photodiode responsivity, A/W.
    noise_current_a_rms : float
        Input-referred rms noise current, A (sets the sensitivity, see :func:`pam4_ber`).
    los_threshold_dbm : float
        Below this average power the receiver reports loss of signal, dBm.
    """

    responsivity_a_per_w: float = 0.8
    noise_current_a_rms: float = 3e-6
    los_threshold_dbm: float = -30.0

    def __post_init__(self) -> None:
        validate.positive("responsivity_a_per_w", self.responsivity_a_per_w, "A/W")
        validate.positive("noise_current_a_rms", self.noise_current_a_rms, "A")
        validate.in_range("los_threshold_dbm", self.los_threshold_dbm, -80.0, 0.0, unit="dBm")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PathParams:
    """Fixed optical losses of the bench, dB (all >= 0)."""

    attenuator_insertion_loss_db: float = 1.5
    rx_path_loss_db: float = 0.5
    meter_path_loss_db: float = 0.0
    monitor_path_loss_db: float = 10.0
    osa_path_loss_db: float = 10.0
    scope_path_loss_db: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            validate.in_range(f.name, getattr(self, f.name), 0.0, 60.0, unit="dB")


#: Where the scope can sit (see :class:`ScopeParams`).
SCOPE_POSITIONS = ("transmitter", "receiver")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScopeParams:
    """Where the scope (FlexDCA) is connected and the noise it adds (bench TOML ``[virtual.scope]``).

    Parameters
    ----------
    position : str
        ``"transmitter"`` (default): the scope sees the transmitter through
        ``PathParams.scope_path_loss_db`` (transmitter compliance: TDECQ, OMA, ER at TP2).
        ``"receiver"``: the attenuator output goes through a 1x2 splitter; the fraction
        ``splitter_ratio`` goes to the scope (then ``scope_path_loss_db``), ``1 - splitter_ratio``
        on to the power meter and the receiver, each arm with ``splitter_excess_loss_db``
        (a receiver-sensitivity bench, where the scope reads the OMA the receiver gets).
    splitter_ratio : float
        Power fraction of the scope arm, in (0, 1) (default 0.5, a 3 dB coupler).
    splitter_excess_loss_db : float
        Excess (insertion) loss of each splitter arm beyond the split, dB, 0..10.
    noise_rms_w : float
        The scope's own noise σ_S: rms (W, >= 0) of the Gaussian noise the O/E and sampler
        add to the record, specified as it appears in the record (after the SIRC reference
        receiver when that is on), as IEEE 802.3 121.8.5.3 defines σ_S.  Default 0.
    noise_bandwidth_hz : float or None
        The scope noise is white noise shaped by a 4th-order Bessel-Thomson response of this
        -3 dB bandwidth (None, default: half the symbol rate, the reference receiver's),
        then scaled to rms ``noise_rms_w`` over the record.  Band-limited noise keeps its rms
        when an analysis interpolates between samples (``optics.tdecq`` does).
    noise_compensation : bool
        True: the scope credits σ_S in TDECQ (``optics.tdecq.tdecq(..., sigma_scope=noise_rms_w)``,
        i.e. ``TDECQ = 10 log10(OMA/(6 Q_t sqrt(σ_G² + σ_S²)))``), so its own noise does not
        count against the transmitter.  False (default): σ_S is reported as transmitter noise.
    noise_seed : int
        Seed of the scope-noise generator (with the temperature bin and the scope's input
        power, so a given state always gives the same record; recorded in ``meta``).
    """

    position: str = "transmitter"
    splitter_ratio: float = 0.5
    splitter_excess_loss_db: float = 0.3
    noise_rms_w: float = 0.0
    noise_bandwidth_hz: float | None = None
    noise_compensation: bool = False
    noise_seed: int = 7

    def __post_init__(self) -> None:
        if self.position not in SCOPE_POSITIONS:
            raise InvalidParameter(f"scope position {self.position!r} unknown; allowed: {', '.join(SCOPE_POSITIONS)}")
        validate.in_range("splitter_ratio", self.splitter_ratio, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        validate.in_range("splitter_excess_loss_db", self.splitter_excess_loss_db, 0.0, 10.0, unit="dB")
        validate.in_range("noise_rms_w", self.noise_rms_w, 0.0, 1e-2, unit="W")
        if self.noise_bandwidth_hz is not None:
            validate.in_range("noise_bandwidth_hz", self.noise_bandwidth_hz, 1e8, 1e12, unit="Hz")
        if not isinstance(self.noise_compensation, bool):
            raise InvalidType(f"noise_compensation must be True or False, got {self.noise_compensation!r}")
        validate.integer("noise_seed", self.noise_seed, 0)

    @property
    def at_receiver(self) -> bool:
        """True when the scope sits behind the attenuator (``position == "receiver"``)."""
        return self.position == "receiver"

    def scope_arm_factor(self) -> float:
        """Linear power factor of the splitter's scope arm, ``r · 10^(-IL/10)``."""
        return self.splitter_ratio * 10.0 ** (-self.splitter_excess_loss_db / 10.0)

    def through_arm_factor(self) -> float:
        """Linear power factor of the splitter's other arm, ``(1 - r) · 10^(-IL/10)``."""
        return (1.0 - self.splitter_ratio) * 10.0 ** (-self.splitter_excess_loss_db / 10.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ThermalParams:
    """Thermal forcer and module (two cascaded first-order lags).

    Parameters
    ----------
    ambient_c : float
        Room temperature, °C (where the air goes with the flow off).
    air_time_constant_s, dut_time_constant_s : float
        Time constants of the air stream and of the module, s (must differ).
    module_power_w, module_power_tempco_w_per_k : float
        Module electrical power at 25 °C (W) and its change per kelvin (W/K), drawn from
        the supply.
    """

    ambient_c: float = 25.0
    air_time_constant_s: float = 10.0
    dut_time_constant_s: float = 40.0
    module_power_w: float = 12.0
    module_power_tempco_w_per_k: float = 0.02

    def __post_init__(self) -> None:
        validate.in_range("ambient_c", self.ambient_c, -40.0, 60.0, unit="°C")
        a = validate.positive("air_time_constant_s", self.air_time_constant_s, "s")
        d = validate.positive("dut_time_constant_s", self.dut_time_constant_s, "s")
        if abs(a - d) < 1e-6 * max(a, d):
            raise InvalidParameter(f"air_time_constant_s and dut_time_constant_s must differ, both are {a} s")
        validate.positive("module_power_w", self.module_power_w, "W")
        validate.real("module_power_tempco_w_per_k", self.module_power_tempco_w_per_k)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchParams:
    """Everything that defines a virtual bench's physics.

    Parameters
    ----------
    transmitter, receiver, path, thermal, scope
        The parameter sets above.
    time_scale : float
        Simulated seconds per wall-clock second (default 100), >= 1.
    model_preset : str or None
        If given, the transmitter is lane ``model_lane`` of this :func:`models.presets.preset`
        (:class:`~instruments.virtual.model_transmitter.ModelTransmitter`, using the pattern,
        samples per symbol and seed of ``transmitter``); otherwise :class:`SimpleTransmitter`.
    model_lane : int
        Lane of the preset, 0-based.
    """

    transmitter: TransmitterParams = dataclasses.field(default_factory=TransmitterParams)
    receiver: ReceiverParams = dataclasses.field(default_factory=ReceiverParams)
    path: PathParams = dataclasses.field(default_factory=PathParams)
    thermal: ThermalParams = dataclasses.field(default_factory=ThermalParams)
    scope: ScopeParams = dataclasses.field(default_factory=ScopeParams)
    time_scale: float = 100.0
    model_preset: str | None = None
    model_lane: int = 0

    def __post_init__(self) -> None:
        validate.in_range("time_scale", self.time_scale, 1.0, 1e6)
        if self.model_preset is not None and not isinstance(self.model_preset, str):
            raise InvalidParameter(f"model_preset must be a preset name, got {self.model_preset!r}")
        validate.integer("model_lane", self.model_lane, 0)


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


# --- receiver --------------------------------------------------------------------------------
def pam4_ber(oma_outer_w: float, *, responsivity_a_per_w: float, noise_current_a_rms: float) -> float:
    """Bit error ratio of a Gray-coded PAM4 receiver with Gaussian noise.

    Equally spaced levels with thresholds midway: each of the 3 eyes is ``R·OMA/3`` high,
    so the distance to a threshold is ``d = R·OMA/6``.  With ``M = 4`` levels,
    ``SER = 2 (M-1)/M · Q(d/σ) = 1.5 Q(d/σ)`` and, Gray-coded, ``BER = SER / log2 M``
    (one bit per symbol error).  ``Q(x) = erfc(x/√2)/2``.  (Proakis, *Digital
    Communications*, 5th ed., §4.3-2, PAM symbol error probability.)

    Parameters
    ----------
    oma_outer_w : float
        Received outer OMA, W (>= 0; 0 gives 0.375).
    responsivity_a_per_w, noise_current_a_rms : float
        Photodiode responsivity (A/W) and rms noise current (A).

    Returns
    -------
    float
        BER in [0, 0.375].

    Examples
    --------
    >>> round(pam4_ber(0.0, responsivity_a_per_w=0.8, noise_current_a_rms=3e-6), 3)
    0.375
    """
    oma = validate.non_negative("oma_outer_w", oma_outer_w, "W")
    r = validate.positive("responsivity_a_per_w", responsivity_a_per_w, "A/W")
    sigma = validate.positive("noise_current_a_rms", noise_current_a_rms, "A")
    q = r * oma / 6.0 / sigma
    ser = 1.5 * 0.5 * float(scipy.special.erfc(q / math.sqrt(2.0)))
    return ser / 2.0


@dataclasses.dataclass(frozen=True)
class ReceivedSignal:
    """What reaches the receiver (after the attenuator and the receive path)."""

    average_power_w: float
    oma_outer_w: float
    ber: float
    loss_of_signal: bool

    @property
    def average_power_dbm(self) -> float:
        """Average power in dBm."""
        return w_to_dbm(self.average_power_w)


# --- the device under test -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DutLane:
    """One lane of a multi-lane device under test: its transmitter and its receiver.

    Parameters
    ----------
    transmitter : Transmitter
        What the scope, power meters and OSA see when this lane is routed to them.
    receiver : ReceiverParams
        The lane's receiver (what the BERT's signal reaches when this lane is routed).
    tx_bias_a : float
        Laser bias current the module reports for this lane (CMIS monitor), A.
    """

    transmitter: Transmitter
    receiver: ReceiverParams
    tx_bias_a: float = 40e-3

    def __post_init__(self) -> None:
        if not isinstance(self.receiver, ReceiverParams):
            raise InvalidType(f"receiver must be a ReceiverParams, got {type(self.receiver).__name__}")
        for name in ("waveform", "average_power_w", "oma_outer_w", "wavelength_m"):
            if not callable(getattr(self.transmitter, name, None)):
                raise InvalidType(f"transmitter {type(self.transmitter).__name__} has no {name}() (see Transmitter)")
        validate.in_range("tx_bias_a", self.tx_bias_a, 0.0, 0.131, unit="A")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DutIdentity:
    """What a module reports about itself on its management interface (CMIS page 00h).

    ``vcc_v`` is the supply voltage its monitor reads, V.
    """

    serial: str = "VIRTUAL00001"
    vendor_name: str = "OPTICS-SIM"
    part_number: str = "VIRTUAL-DUT"
    revision: str = "A1"
    date_code: str = "261123  "
    vcc_v: float = 3.3

    def __post_init__(self) -> None:
        for name, length in (("serial", 16), ("vendor_name", 16), ("part_number", 16), ("revision", 2),
                             ("date_code", 8)):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > length:
                raise InvalidParameter(f"{name} = {value!r} must be a string of at most {length} characters")
        validate.in_range("vcc_v", self.vcc_v, 0.0, 6.5, unit="V")


#: ``select_lane`` sides: both switches, only the transmit or only the receive direction.
LANE_SIDES = ("both", "tx", "rx")


# --- the shared link ---------------------------------------------------------------------
class BenchLink:
    """The physical state shared by all virtual instruments of one bench (thread-safe).

    Instruments write their settings (thermal set point and flow, attenuation, shutter) and
    read what they would measure (temperatures, powers, the waveform, the BER).

    A multi-lane device under test (an 8-lane module behind 1xN optical switches) is put in
    with :meth:`insert_module`; :meth:`select_lane` routes one lane's transmitter to the
    transmit-side instruments and the receive-side signal to one lane's receiver, as the
    switches of a single-scope station do.  Until then the bench holds one lane built from
    ``params`` (or ``transmitter``).

    Parameters
    ----------
    params : BenchParams, optional
    transmitter : Transmitter, optional
        Replaces the :class:`SimpleTransmitter` built from ``params.transmitter``.

    Examples
    --------
    >>> link = BenchLink()
    >>> link.set_attenuation(10.0)
    >>> round(link.received().average_power_dbm - link.received_at(0.0).average_power_dbm, 6)
    -10.0
    """

    def __init__(self, params: BenchParams | None = None, *, transmitter: Transmitter | None = None) -> None:
        self.params = params or BenchParams()
        if transmitter is None and self.params.model_preset is not None:
            from instruments.virtual.model_transmitter import ModelTransmitter

            tx = self.params.transmitter
            transmitter = ModelTransmitter(self.params.model_preset, lane=self.params.model_lane,
                                           pattern_name=tx.pattern_name,
                                           samples_per_symbol=tx.samples_per_symbol, seed=tx.seed)
        self.transmitter: Transmitter = transmitter or SimpleTransmitter(self.params.transmitter)
        self._lock = threading.RLock()
        self._t_wall0 = time.perf_counter()
        self._offset_s = 0.0
        th = self.params.thermal
        self._t_state = 0.0
        self._air_c = th.ambient_c
        self._dut_c = th.ambient_c
        self.setpoint_c = th.ambient_c
        self.flow_on = False
        self.control_on_dut = True
        self.window_k = 1.0
        self._in_window_since: float | None = 0.0
        self.attenuation_db = 0.0
        self.shutter_open = True
        self._waveforms: OrderedDict[tuple, Waveform] = OrderedDict()
        self._listeners: list = []
        self.dut = DutIdentity()
        self.lanes: tuple[DutLane, ...] = (DutLane(self.transmitter, self.params.receiver),)
        self.tx_lane = 0
        self.rx_lane = 0

    # --- the device under test and its lanes ------------------------------------------------
    @property
    def n_lanes(self) -> int:
        """Number of lanes of the device under test."""
        return len(self.lanes)

    @property
    def lane(self) -> int:
        """The lane routed to the instruments (the transmit side's when the two differ)."""
        return self.tx_lane

    def insert_module(self, lanes, *, identity: DutIdentity | None = None, lane: int = 0) -> None:
        """Put a device with ``len(lanes)`` lanes in the test socket and route lane ``lane``.

        Parameters
        ----------
        lanes : sequence of DutLane
            Per-lane transmitter and receiver, 1..16 lanes.
        identity : DutIdentity, optional
            What its management interface reports (default: a generic identity).
        lane : int
            Lane routed afterwards (both sides).

        Raises
        ------
        InvalidParameter, InvalidType
            No lanes, more than 16, an entry that is not a :class:`DutLane`, a bad ``lane``.
        """
        lanes = tuple(lanes)
        if not 1 <= len(lanes) <= 16:
            raise InvalidParameter(f"a module needs 1..16 lanes, got {len(lanes)}")
        for k, item in enumerate(lanes):
            if not isinstance(item, DutLane):
                raise InvalidType(f"lanes[{k}] must be a DutLane, got {type(item).__name__}")
        if identity is not None and not isinstance(identity, DutIdentity):
            raise InvalidType(f"identity must be a DutIdentity, got {type(identity).__name__}")
        validate.integer("lane", lane, 0, len(lanes) - 1)
        with self._lock:
            self.lanes = lanes
            self.dut = identity or DutIdentity()
            self._route(lane, lane)
        self._notify()

    def select_lane(self, lane: int, *, side: str = "both") -> None:
        """Route lane ``lane`` (0-based) to the instruments.

        ``side = "tx"`` moves only the transmit side (scope, power meters, OSA see this
        lane's transmitter), ``"rx"`` only the receive side (the attenuated signal reaches
        this lane's receiver), ``"both"`` (default) both.  Cached waveforms are dropped
        when the transmitter changes.

        Raises
        ------
        InvalidParameter
            ``lane`` not in ``0 .. n_lanes - 1`` or an unknown ``side``.
        """
        if side not in LANE_SIDES:
            raise InvalidParameter(f"side {side!r} unknown; allowed: {', '.join(LANE_SIDES)}")
        if isinstance(lane, bool) or not isinstance(lane, (int, np.integer)) or not 0 <= lane < self.n_lanes:
            raise InvalidParameter(f"lane = {lane!r} not in 0..{self.n_lanes - 1} of the module {self.dut.serial}")
        lane = int(lane)
        with self._lock:
            tx = lane if side in ("both", "tx") else self.tx_lane
            rx = lane if side in ("both", "rx") else self.rx_lane
            if (tx, rx) == (self.tx_lane, self.rx_lane):
                return
            self._route(tx, rx)
        self._notify()

    def _route(self, tx: int, rx: int) -> None:
        if tx != self.tx_lane or self.lanes[tx].transmitter is not self.transmitter:
            self.transmitter = self.lanes[tx].transmitter
            self._waveforms.clear()
        self.params = dataclasses.replace(self.params, receiver=self.lanes[rx].receiver)
        self.tx_lane, self.rx_lane = tx, rx

    def invalidate_cache(self) -> None:
        """Drop the cached waveforms (after changing a transmitter model in place)."""
        with self._lock:
            self._waveforms.clear()
        self._notify()

    def on_change(self, callback):
        """Call ``callback()`` after the module, the routed lane or the cache changes.

        Returns a function that removes the callback again.
        """
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    def lane_tx_power_w(self, lane: int, temperature_c: float | None = None) -> float:
        """Launch average power of lane ``lane`` (routed or not), W (the module's Tx power monitor)."""
        validate.integer("lane", lane, 0, self.n_lanes - 1)
        return self.lanes[lane].transmitter.average_power_w(self._temperature(temperature_c))

    def lane_rx_power_w(self, lane: int) -> float:
        """Average optical power at lane ``lane``'s receiver, W (0 unless it is the routed Rx lane)."""
        validate.integer("lane", lane, 0, self.n_lanes - 1)
        return self.received().average_power_w if lane == self.rx_lane else 0.0

    @property
    def symbol_rate_baud(self) -> float:
        """The transmitter's symbol rate, Bd (``params.transmitter`` if the model has none)."""
        return float(getattr(self.transmitter, "symbol_rate_baud", self.params.transmitter.symbol_rate_baud))

    # --- clock ------------------------------------------------------------------------
    @property
    def sim_time_s(self) -> float:
        """Simulated time since the bench started, s."""
        return self._offset_s + (time.perf_counter() - self._t_wall0) * self.params.time_scale

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward by ``seconds`` (>= 0), e.g. to finish a soak in a test."""
        dt = validate.non_negative("seconds", seconds, "s")
        with self._lock:
            self._offset_s += dt
            self._update()

    # --- thermal ------------------------------------------------------------------------
    def set_thermal(
        self,
        *,
        setpoint_c: float | None = None,
        flow_on: bool | None = None,
        control_on_dut: bool | None = None,
        window_k: float | None = None,
    ) -> None:
        """Change the thermal forcer's settings (set point °C, air flow, control sensor, window K)."""
        with self._lock:
            self._update()
            before = (self.setpoint_c, self.flow_on, self.control_on_dut)
            if setpoint_c is not None:
                self.setpoint_c = validate.in_range("setpoint_c", setpoint_c, -99.0, 225.0, unit="°C")
            if flow_on is not None:
                self.flow_on = bool(flow_on)
            if control_on_dut is not None:
                self.control_on_dut = bool(control_on_dut)
            if window_k is not None:
                self.window_k = validate.positive("window_k", window_k, "K")
            if not self._in_window():
                self._in_window_since = None
            elif self._in_window_since is None or before != (self.setpoint_c, self.flow_on, self.control_on_dut):
                self._in_window_since = self._t_state

    def _target_c(self) -> float:
        return self.setpoint_c if self.flow_on else self.params.thermal.ambient_c

    def _in_window(self) -> bool:
        if not self.flow_on:
            return False
        t = self._dut_c if self.control_on_dut else self._air_c
        return abs(t - self.setpoint_c) <= self.window_k

    def _update(self) -> None:
        """Advance the thermal state to the current simulated time (exact per sub-step)."""
        now = self.sim_time_s
        h_total = now - self._t_state
        if h_total <= 0:
            return
        th = self.params.thermal
        ta, td = th.air_time_constant_s, th.dut_time_constant_s
        target = self._target_c()
        n = int(min(4000, max(1, math.ceil(h_total / 0.5))))
        h = h_total / n
        ea, ed = math.exp(-h / ta), math.exp(-h / td)
        for _ in range(n):
            a0, d0 = self._air_c, self._dut_c
            k = (a0 - target) * ta / (ta - td)
            self._air_c = target + (a0 - target) * ea
            self._dut_c = target + k * ea + (d0 - target - k) * ed
            self._t_state += h
            if self._in_window():
                if self._in_window_since is None:
                    self._in_window_since = self._t_state
            else:
                self._in_window_since = None
        self._t_state = now

    @property
    def air_temperature_c(self) -> float:
        """Air stream temperature, °C."""
        with self._lock:
            self._update()
            return self._air_c

    @property
    def module_temperature_c(self) -> float:
        """Module (DUT) temperature, °C: the transmitter's temperature."""
        with self._lock:
            self._update()
            return self._dut_c

    def soaked_for_s(self) -> float:
        """How long the controlled temperature has been within the window, s (0 if outside)."""
        with self._lock:
            self._update()
            if self._in_window_since is None:
                return 0.0
            return self._t_state - self._in_window_since

    def module_power_w(self) -> float:
        """Electrical power the module draws at its present temperature, W."""
        th = self.params.thermal
        return th.module_power_w + th.module_power_tempco_w_per_k * (self.module_temperature_c - 25.0)

    # --- attenuator -----------------------------------------------------------------------
    def set_attenuation(self, attenuation_db: float) -> None:
        """Set the attenuator's excess attenuation above its insertion loss, dB (0..60)."""
        with self._lock:
            self.attenuation_db = validate.in_range("attenuation_db", attenuation_db, 0.0, 60.0, unit="dB")

    def set_shutter(self, open_: bool) -> None:
        """Open (True) or close the attenuator's shutter."""
        with self._lock:
            self.shutter_open = bool(open_)

    # --- transmitter side ---------------------------------------------------------------------
    def _temperature(self, temperature_c: float | None) -> float:
        return self.module_temperature_c if temperature_c is None else float(temperature_c)

    def transmitter_waveform(self, temperature_c: float | None = None) -> Waveform:
        """The transmitter's optical waveform (W) at a temperature (default: the module's).

        The temperature is rounded to :data:`WAVEFORM_TEMPERATURE_STEP_K` and the result
        cached, so repeated reads are identical and cheap.
        """
        t = self._temperature(temperature_c)
        t = round(t / WAVEFORM_TEMPERATURE_STEP_K) * WAVEFORM_TEMPERATURE_STEP_K
        return self._cached(("tx", t), lambda: self.transmitter.waveform(t))

    def _cached(self, key: tuple, make) -> Waveform:
        with self._lock:
            hit = self._waveforms.get(key)
            if hit is not None:
                self._waveforms.move_to_end(key)
                return hit
        wf = make()
        with self._lock:
            self._waveforms[key] = wf
            while len(self._waveforms) > 24:
                self._waveforms.popitem(last=False)
        return wf

    def scope_input_factor(self, attenuation_db: float | None = None, shutter_open: bool | None = None) -> float:
        """Linear power factor from the transmitter to the scope's input.

        ``10^(-scope_path_loss_db/10)`` with the scope at the transmitter; behind the
        attenuator (``ScopeParams.position == "receiver"``) also the attenuator (insertion
        loss + ``attenuation_db``, 0 with the shutter closed) and the splitter's scope arm.
        ``attenuation_db`` / ``shutter_open`` default to the present settings.
        """
        factor = 10.0 ** (-self.params.path.scope_path_loss_db / 10.0)
        sp = self.params.scope
        if not sp.at_receiver:
            return factor
        with self._lock:
            shutter = self.shutter_open if shutter_open is None else bool(shutter_open)
            att = self.attenuation_db if attenuation_db is None else float(attenuation_db)
        if not shutter:
            return 0.0
        il = self.params.path.attenuator_insertion_loss_db
        return factor * 10.0 ** (-(il + att) / 10.0) * sp.scope_arm_factor()

    def scope_power_w(self, attenuation_db: float | None = None, shutter_open: bool | None = None) -> float:
        """Average optical power at the scope's input, W (see :meth:`scope_input_factor`)."""
        return self.tx_average_power_w() * self.scope_input_factor(attenuation_db, shutter_open)

    def scope_waveform(self, *, sirc_bandwidth_hz: float | None = None, temperature_c: float | None = None,
                       attenuation_db: float | None = None, shutter_open: bool | None = None) -> Waveform:
        """What the scope channel records, W.

        The transmitter waveform scaled by :meth:`scope_input_factor` (the scope path, and
        with the scope behind the attenuator the attenuator and splitter; ``attenuation_db``
        and ``shutter_open`` default to the present settings), optionally through the SIRC
        (4th-order Bessel-Thomson at ``sirc_bandwidth_hz``), plus the scope's own Gaussian
        noise of rms ``ScopeParams.noise_rms_w`` (σ_S, band-limited to
        ``ScopeParams.noise_bandwidth_hz``; from
        ``numpy.random.default_rng([noise_seed, temperature bin, input-power bin])``,
        recorded in ``meta["scope_noise_seed"]``), rounded to float32 (the precision of the
        scope's waveform export).  Cached per state.
        """
        from optics.reference_receiver import bessel_thomson

        tx = self.transmitter_waveform(temperature_c)
        t = float(tx.meta.get("temperature_c", self._temperature(temperature_c)))
        factor = self.scope_input_factor(attenuation_db, shutter_open)
        sp = self.params.scope

        def make() -> Waveform:
            wf = tx.with_samples(tx.samples * factor)
            if sirc_bandwidth_hz is not None:
                wf = bessel_thomson(wf, sirc_bandwidth_hz, order=4)
            meta = {**wf.meta, "sirc_bandwidth_hz": sirc_bandwidth_hz, "scope_position": sp.position,
                    "scope_noise_rms_w": sp.noise_rms_w}
            samples = wf.samples
            if sp.noise_rms_w > 0:
                power_bin = int(round(w_to_dbm(factor * 1e-3) * 1000.0)) + 1_000_000
                seed = [sp.noise_seed, int(round(4.0 * t)) + 10000, power_bin]
                rng = np.random.default_rng(seed)
                bw = sp.noise_bandwidth_hz or 0.5 * self.symbol_rate_baud
                shaped = bessel_thomson(wf.with_samples(rng.normal(0.0, 1.0, samples.size)), bw, order=4).samples
                samples = samples + shaped * (sp.noise_rms_w / float(np.sqrt(np.mean(shaped**2))))
                meta["scope_noise_seed"] = seed
            samples = samples.astype(np.float32).astype(np.float64)
            return wf.with_samples(samples, meta=meta)

        return self._cached(("scope", t, sirc_bandwidth_hz, factor), make)

    def tx_average_power_w(self, temperature_c: float | None = None) -> float:
        """Launched average power, W."""
        return self.transmitter.average_power_w(self._temperature(temperature_c))

    def tx_oma_outer_w(self, temperature_c: float | None = None) -> float:
        """Launched outer OMA, W."""
        return self.transmitter.oma_outer_w(self._temperature(temperature_c))

    def wavelength_m(self, temperature_c: float | None = None) -> float:
        """Lasing wavelength, m."""
        return self.transmitter.wavelength_m(self._temperature(temperature_c))

    def monitor_power_w(self) -> float:
        """Average power at the Tx monitor tap (PM100D), W."""
        return self.tx_average_power_w() * 10.0 ** (-self.params.path.monitor_path_loss_db / 10.0)

    def osa_power_w(self) -> float:
        """Average power at the OSA input, W."""
        return self.tx_average_power_w() * 10.0 ** (-self.params.path.osa_path_loss_db / 10.0)

    # --- receive side ---------------------------------------------------------------------------
    def attenuator_output_w(self, attenuation_db: float | None = None) -> float:
        """Average power leaving the attenuator, W (0 with the shutter closed)."""
        with self._lock:
            if not self.shutter_open:
                return 0.0
            att = self.attenuation_db if attenuation_db is None else float(attenuation_db)
            il = self.params.path.attenuator_insertion_loss_db
        return self.tx_average_power_w() * 10.0 ** (-(il + att) / 10.0)

    def attenuator_input_w(self) -> float:
        """Average power entering the attenuator, W."""
        return self.tx_average_power_w()

    def through_arm_factor(self) -> float:
        """Linear factor between the attenuator and the meter/receiver paths: 1, or with the
        scope behind the attenuator the splitter's through arm ``(1 - r) · 10^(-IL/10)``."""
        sp = self.params.scope
        return sp.through_arm_factor() if sp.at_receiver else 1.0

    def meter_power_w(self) -> float:
        """Average power at the power meter (after the attenuator), W."""
        return (self.attenuator_output_w() * self.through_arm_factor()
                * 10.0 ** (-self.params.path.meter_path_loss_db / 10.0))

    def received(self) -> ReceivedSignal:
        """What reaches the receiver now: average power, OMA, BER, loss of signal."""
        return self.received_at(None)

    def received_at(self, attenuation_db: float | None) -> ReceivedSignal:
        """As :meth:`received` but for a given attenuation (None: the present one)."""
        out_w = self.attenuator_output_w(attenuation_db)
        ratio = out_w / self.tx_average_power_w() if out_w > 0 else 0.0
        loss = 10.0 ** (-self.params.path.rx_path_loss_db / 10.0) * self.through_arm_factor()
        p_avg = out_w * loss
        oma = self.tx_oma_outer_w() * ratio * loss
        rx = self.params.receiver
        los = w_to_dbm(p_avg) < rx.los_threshold_dbm
        ber = 0.5 if los else pam4_ber(
            oma, responsivity_a_per_w=rx.responsivity_a_per_w, noise_current_a_rms=rx.noise_current_a_rms
        )
        return ReceivedSignal(average_power_w=p_avg, oma_outer_w=oma, ber=ber, loss_of_signal=los)

    # --- spectrum ----------------------------------------------------------------------------------
    def spectrum_dbm(self, wavelength_m: np.ndarray, resolution_m: float, rng: np.random.Generator) -> np.ndarray:
        """OSA trace (dBm per resolution bandwidth) of the modulated DFB laser.

        Main mode: Gaussian of rms width ``σ = sqrt(σ_mod² + σ_res²)`` with
        ``σ_mod = λ² B_sym / (2.355 c)`` (modulation, FWHM ≈ symbol rate) and
        ``σ_res = resolution/2.355``; the displayed level is the power in one resolution
        bandwidth, at most the total.  Two side modes at ±0.8 nm (the DFB stop band edges),
        ``smsr_db`` and ``smsr_db + 3`` below the peak; floor -75 dBm with 0.5 dB rms noise
        from ``rng``.
        """
        lam = np.asarray(wavelength_m, dtype=np.float64)
        p = self.params.transmitter
        lam0 = self.wavelength_m()
        total = self.osa_power_w()
        sig_mod = lam0**2 * self.symbol_rate_baud / (2.355 * C_M_PER_S)
        sig = math.hypot(sig_mod, resolution_m / 2.355)
        in_rbw = min(1.0, resolution_m / (math.sqrt(2.0 * math.pi) * sig))
        density = np.zeros_like(lam)
        for offset, rel_db in ((0.0, 0.0), (0.8e-9, -p.smsr_db), (-0.8e-9, -p.smsr_db - 3.0)):
            density += total * 10.0 ** (rel_db / 10.0) * in_rbw * np.exp(-0.5 * ((lam - lam0 - offset) / sig) ** 2)
        floor_w = dbm_to_w(-75.0)
        trace_w = density + floor_w * 10.0 ** (rng.normal(0.0, 0.5, lam.size) / 10.0)
        return 10.0 * np.log10(trace_w / 1e-3)


__all__ = [
    "BenchLink",
    "BenchParams",
    "DutIdentity",
    "DutLane",
    "LANE_SIDES",
    "PathParams",
    "ReceivedSignal",
    "ReceiverParams",
    "SCOPE_POSITIONS",
    "ScopeParams",
    "SimpleTransmitter",
    "ThermalParams",
    "Transmitter",
    "TransmitterParams",
    "dbm_to_w",
    "pam4_ber",
    "w_to_dbm",
]
