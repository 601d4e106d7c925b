"""Parameter sets of the virtual bench (:class:`BenchParams` and its parts) and the dBm/W
conversions they are written in.  The link they describe is :class:`instruments.virtual.physics.BenchLink`."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

from models.reference_transmitter import ReferenceTransmitterParams as TransmitterParams
from optics import validate
from optics.errors import InvalidParameter, InvalidType


def dbm_to_w(power_dbm: float) -> float:
    """Convert dBm to W: ``P = 1 mW · 10^(dBm/10)``."""
    return 1e-3 * 10.0 ** (power_dbm / 10.0)


def w_to_dbm(power_w: float) -> float:
    """Convert W to dBm (``-inf`` is never returned: powers <= 1e-20 W give -170 dBm)."""
    return 10.0 * math.log10(max(power_w, 1e-20) / 1e-3)



@functools.lru_cache(maxsize=64)
def _model_receiver(responsivity_a_per_w: float, noise_current_a_rms: float) -> Any:
    from models import response
    from models.receiver import Photodiode, Receiver, Tia

    tia = Tia()
    density = noise_current_a_rms / math.sqrt(response.noise_bandwidth_hz(tia.bandwidth_hz, tia.shape))
    return Receiver(photodiode=Photodiode(responsivity_a_per_w=responsivity_a_per_w, dark_current_a=0.0,
                                          shot_noise=False),
                    tia=dataclasses.replace(tia, input_noise_density_a_per_rthz=density))


# --- parameter sets ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiverParams:
    """Receiver behind the attenuator (the BERT's error detector input).

    Parameters
    ----------
    responsivity_a_per_w : float
        Photodiode responsivity, A/W.
    noise_current_a_rms : float
        Input-referred rms noise current, A (sets the sensitivity).
    los_threshold_dbm : float
        Below this average power the receiver reports loss of signal, dBm.

    The receiver itself is a models one (:meth:`model`); its BER is
    :func:`models.receiver.pam4_ber`, ``0.75·Q(R·OMA/(6σ))`` for this thermal-noise receiver.
    """

    responsivity_a_per_w: float = 0.8
    noise_current_a_rms: float = 3e-6
    los_threshold_dbm: float = -30.0

    def __post_init__(self) -> None:
        validate.positive("responsivity_a_per_w", self.responsivity_a_per_w, "A/W")
        validate.positive("noise_current_a_rms", self.noise_current_a_rms, "A")
        validate.in_range("los_threshold_dbm", self.los_threshold_dbm, -80.0, 0.0, unit="dBm")

    def model(self) -> Any:
        """The models receiver with this responsivity and rms noise current: a photodiode
        without dark current or shot noise and a TIA whose input noise density gives
        ``noise_current_a_rms`` over its noise bandwidth (:meth:`models.receiver.Tia.noise_rms_a`)."""
        return _model_receiver(self.responsivity_a_per_w, self.noise_current_a_rms)


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
    compliance_dispersion_ps_per_nm : float
        The compliance fibre spool on the scope's TDECQ path, accumulated dispersion ``D L``
        in ps/nm (|D L| <= 1000): TDECQ/Ceq are measured on the transmitter through it
        (:func:`models.compliance.through_compliance_fibre`), OMA, ER, power and RLM on the
        back-to-back record (TP2).  0 (default): no spool, the bench's TDECQ is then measured
        back-to-back (a TECQ).  A PHY's value: :func:`models.compliance.compliance_channel`.
    compliance_wavelength_m : float
        The wavelength the spool's dispersion is taken at, m, 1.0e-6 ... 1.7e-6 (default 1311 nm).
    """

    position: str = "transmitter"
    splitter_ratio: float = 0.5
    splitter_excess_loss_db: float = 0.3
    noise_rms_w: float = 0.0
    noise_bandwidth_hz: float | None = None
    noise_compensation: bool = False
    noise_seed: int = 7
    compliance_dispersion_ps_per_nm: float = 0.0
    compliance_wavelength_m: float = 1311e-9

    def __post_init__(self) -> None:
        validate.in_range("compliance_dispersion_ps_per_nm", self.compliance_dispersion_ps_per_nm, -1000.0, 1000.0,
                          unit="ps/nm")
        validate.in_range("compliance_wavelength_m", self.compliance_wavelength_m, 1.0e-6, 1.7e-6, unit="m")
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

    def compliance_channel(self) -> object | None:
        """The spool as a :class:`models.compliance.ComplianceChannel` (None without one)."""
        if self.compliance_dispersion_ps_per_nm == 0.0:
            return None
        from models.compliance import ComplianceChannel

        return ComplianceChannel(dispersion_ps_per_nm=self.compliance_dispersion_ps_per_nm,
                                 wavelength_m=self.compliance_wavelength_m, source="bench [virtual.scope] spool")

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
    population : str or None
        A population file (:mod:`models.population`; a path, or a shipped name such as
        ``"800g-dr8"``): the module in the socket is the one the station's serial names
        (:func:`optics.station.dut.socket_module`), built by the link models.
    """

    transmitter: TransmitterParams = dataclasses.field(default_factory=TransmitterParams)
    receiver: ReceiverParams = dataclasses.field(default_factory=ReceiverParams)
    path: PathParams = dataclasses.field(default_factory=PathParams)
    thermal: ThermalParams = dataclasses.field(default_factory=ThermalParams)
    scope: ScopeParams = dataclasses.field(default_factory=ScopeParams)
    time_scale: float = 100.0
    model_preset: str | None = None
    model_lane: int = 0
    population: str | None = None

    def __post_init__(self) -> None:
        if self.population is not None and not isinstance(self.population, str):
            raise InvalidParameter(f"population must be a population file or name, got {self.population!r}")
        validate.in_range("time_scale", self.time_scale, 1.0, 1e6)
        if self.model_preset is not None and not isinstance(self.model_preset, str):
            raise InvalidParameter(f"model_preset must be a preset name, got {self.model_preset!r}")
        validate.integer("model_lane", self.model_lane, 0)
