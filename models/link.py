"""Link simulation: transmitter → channel → receiver per lane, and modules of N lanes.

A :class:`Lane` is a :class:`Transmitter` (PAM4 driver, CW laser, modulator; optionally a
host channel from a Touchstone file and level pre-distortion, as in a linear pluggable (LPO)
lane), a :class:`~models.fiber.Channel` and a :class:`~models.receiver.Receiver`.  A
:class:`LinkModule` is N lanes on their wavelength grid plus a power model
(:mod:`models.power`).  :func:`simulate` runs every lane at one case temperature and
returns, per lane, the optical waveform at the Tx output and the electrical waveform after
the receiver, both :class:`optics.Waveform`, plus the metrics measured on them by
:mod:`optics` (never re-implemented here):

* Tx (optical, W): ``average_power``, ``oma_outer``, ``extinction_ratio_db``, ``rlm``,
  ``levels_w`` (:func:`optics.levels.measure_levels`) and ``tdecq_db``/``ceq_db``
  (:func:`optics.tdecq.tdecq`, reference receiver at baud/2);
* Rx (V): ``ber_counted`` (:func:`optics.ber.count_errors`) and ``ber_estimate``
  (:func:`optics.ber.estimate_ber`).

Temperatures: the case temperature ``T_case`` is an input; lasers, rings and photodiodes sit
at ``T_chip = T_case + chip_temperature_rise_k`` (a module parameter, UNVERIFIED default
10 K; the reference notes quote "the laser sees about −5…95 °C" for a 0–70 °C case).

All filtering is circular (FFT) on a record of whole pattern periods, so the pattern repeats
seamlessly; randomness comes from ``numpy.random.SeedSequence(seed)`` spawned per lane.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.fft as sfft

from models import power as power_model
from models import response
from models.electrical import Pam4Driver, TouchstoneChannel, gaussian_response, predistortion_levels
from models.fiber import Channel
from models.laser import DfbLaser, OpticalField
from models.modulator import IdealIntensityModulator, MachZehnderModulator, MicroringModulator
from models.receiver import Receiver, adapt_ffe_taps, apply_ffe_taps
from optics import validate
from optics.errors import InvalidParameter, InvalidType, InvalidWaveform
from optics.waveform import Quantity, Waveform

Modulator = MachZehnderModulator | MicroringModulator | IdealIntensityModulator


def dbm_to_w(power_dbm: float) -> float:
    """``10^(dBm/10)·1 mW`` in W."""
    return 1e-3 * 10.0 ** (power_dbm / 10.0)


def w_to_dbm(power_w: float) -> float:
    """``10·log10(P/1 mW)`` in dBm (``-inf`` for 0 W is refused)."""
    if power_w <= 0.0:
        raise InvalidParameter(f"power {power_w!r} W has no dBm value (must be > 0)")
    return 10.0 * math.log10(power_w / 1e-3)


def check_modulator_sampling(modulator: Modulator, sample_rate_hz: float) -> None:
    """Raise InvalidParameter if ``sample_rate_hz`` is below twice the modulator's EO bandwidth."""
    bw = getattr(modulator, "eo_bandwidth_hz", None)
    if bw is None:
        bw = getattr(modulator, "bandwidth_hz", None)
    if bw is not None:
        response.check_sampling("eo_bandwidth_hz", bw, sample_rate_hz)


#: Values of :attr:`Transmitter.level_predistortion` besides None and 4 explicit levels.
PREDISTORTION_MODES: tuple[str, ...] = ("auto",)


def host_channel_response(channel: TouchstoneChannel, freq_hz: np.ndarray) -> np.ndarray:
    """Response of a host channel on an rfft grid, as :meth:`TouchstoneChannel.apply` with
    ``remove_delay=True`` uses it: ``H(f)·exp(+j2πf·τ)`` (``τ`` its bulk delay, removed so the
    drive stays aligned with the symbols), the Nyquist bin of an even record made real.

    Raises
    ------
    InvalidParameter
        The channel's ``extrapolation = "error"`` and ``freq_hz`` goes above its data.
    """
    f = np.asarray(freq_hz, dtype=np.float64)
    if channel.extrapolation == "error" and f[-1] > channel.f_max_hz:
        raise InvalidParameter(
            f"host_channel {channel.name}: the drive reaches {f[-1]:g} Hz, above the data's "
            f"{channel.f_max_hz:g} Hz (extrapolation='error')"
        )
    h = channel.response(f, extrapolate=True)
    h *= np.exp(2j * np.pi * channel.delay_s * f)
    return h


@dataclasses.dataclass(frozen=True, kw_only=True)
class Transmitter:
    """PAM4 driver, CW laser and modulator of one lane, with an optional host channel.

    Electrical chain, in signal order (a linear pluggable, LPO, lane: host SerDes → host
    channel → linear driver → modulator)::

        symbols → levels (pre-distorted or equal) and FFE   (host SerDes / driver, Pam4Driver)
                → host_channel H_host(f)                    (Touchstone, bulk delay removed)
                → driver swing and Gaussian rise time        (Pam4Driver)
                → modulator EO response                      (modulator.eo_response)
                → + offset_v → modulator transfer t(v)

    The stages up to the EO response are linear and time-invariant, so they are one product
    of responses on the rfft grid of the circular record (one FFT pass); the host channel
    therefore sits *before* the modulator's EO response, on the electrical drive, and its
    loss at Nyquist shows up in the drive as ``|H_host(baud/2)|``.  With driver jitter or
    noise (:meth:`Pam4Driver.drive`) the host channel also filters them (they are generated
    at the driver output: an approximation of that path).

    Parameters
    ----------
    driver : models.electrical.Pam4Driver
        Electrical PAM4 driver (swing, rise time, pre-distortion, FFE).
    laser : DfbLaser
        CW source; with ``lasers_shared_by > 1`` one laser feeds several lanes.
    modulator : MachZehnderModulator, MicroringModulator or IdealIntensityModulator
        The modulator (an IdealIntensityModulator with chirp makes an EML-like lane).
    lasers_shared_by : int
        Number of modulators fed by one laser through a splitter, 1..16 (default 1).
        The lane receives ``1/N`` of the laser power, less ``splitter_excess_loss_db``.
    splitter_excess_loss_db : float
        Splitter excess loss in dB (default 0.5 dB when shared, UNVERIFIED), >= 0.
    host_channel : models.electrical.TouchstoneChannel or None
        Host (or package) channel between the SerDes and the driver, e.g.
        ``TouchstoneChannel.from_file("host.s4p")`` (default None: none).
    level_predistortion : None, "auto" or 4 floats
        Driver level pre-distortion (default None: the driver's own ``level_predistortion``).
        ``"auto"``: the levels that make the modulator's static power transfer
        ``|t(v)|²`` give four equally spaced optical levels (RLM → 1), solved by
        :func:`models.electrical.predistortion_levels` over the static drive range
        ``v = offset_v ± g0·swing_v/2``, where ``g0`` is the DC gain of the linear chain
        (normalised FFE taps summed × ``H_host(0)`` × EO response at DC); 4 floats: those
        normalised levels.  Either way it replaces the driver's ``level_predistortion``,
        which must then be None.

    Raises
    ------
    InvalidParameter
        Bad field values; ``"auto"`` on a transfer that is not monotonic over the drive range
        (the swing passes a peak of the modulator's transfer); pre-distortion given both here
        and in the driver.

    Examples
    --------
    >>> from models.modulator import MachZehnderModulator
    >>> tx = Transmitter(modulator=MachZehnderModulator(length_m=8e-3), level_predistortion="auto")
    >>> [round(x, 3) for x in tx.effective_driver.levels]
    [0.0, 0.372, 0.628, 1.0]
    """

    driver: Pam4Driver = dataclasses.field(default_factory=lambda: Pam4Driver(swing_v=2.0, rise_time_s=8e-12))
    laser: DfbLaser = dataclasses.field(default_factory=DfbLaser)
    modulator: Modulator = dataclasses.field(default_factory=MachZehnderModulator)
    lasers_shared_by: int = 1
    splitter_excess_loss_db: float = 0.5
    host_channel: TouchstoneChannel | None = None
    level_predistortion: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.driver, Pam4Driver):
            raise InvalidType(f"driver must be a Pam4Driver, got {type(self.driver).__name__}")
        if not isinstance(self.laser, DfbLaser):
            raise InvalidType(f"laser must be a DfbLaser, got {type(self.laser).__name__}")
        if not isinstance(self.modulator, (MachZehnderModulator, MicroringModulator, IdealIntensityModulator)):
            raise InvalidType(f"modulator must be a modulator model, got {type(self.modulator).__name__}")
        validate.integer("lasers_shared_by", self.lasers_shared_by, 1, 16)
        validate.in_range("splitter_excess_loss_db", self.splitter_excess_loss_db, 0.0, 20.0, unit="dB")
        if self.host_channel is not None and not isinstance(self.host_channel, TouchstoneChannel):
            raise InvalidType(
                f"host_channel must be a models.electrical.TouchstoneChannel or None, got {type(self.host_channel).__name__}"
            )
        eff = self.driver
        lp = self.level_predistortion
        if lp is not None:
            if self.driver.level_predistortion is not None:
                raise InvalidParameter(
                    "level_predistortion is set both on the transmitter and on its driver; set one of them"
                )
            if isinstance(lp, str):
                if lp not in PREDISTORTION_MODES:
                    raise InvalidParameter(
                        f"level_predistortion = {lp!r}; allowed: None, {', '.join(map(repr, PREDISTORTION_MODES))} "
                        "or 4 strictly increasing levels in [0, 1]"
                    )
                levels = self._auto_levels()
            else:
                # Pam4Driver validates the 4 levels (count, order, range) and names the parameter
                levels = dataclasses.replace(self.driver, level_predistortion=lp).levels
                object.__setattr__(self, "level_predistortion", tuple(levels))
            eff = dataclasses.replace(self.driver, level_predistortion=levels)
        # the driver the transmitter really uses (dataclass field-free attribute)
        object.__setattr__(self, "_effective_driver", eff)

    def _static_gain(self) -> float:
        """DC gain ``g0`` from the driver's centred level voltage to the modulator drive."""
        drv = self.driver
        g0 = float(np.sum(drv.normalized_taps)) * float(np.real(self.modulator.eo_response(np.zeros(1))[0]))
        if self.host_channel is not None:
            g0 *= float(np.real(self.host_channel.response(0.0)[0]))
        return g0

    def _auto_levels(self) -> tuple[float, float, float, float]:
        g0 = self._static_gain()
        if not g0 > 0.0:
            raise InvalidParameter(
                f"level_predistortion = 'auto' needs a positive DC gain of the drive chain, got {g0:.3g} "
                "(FFE taps summing to <= 0 or an inverting host channel)"
            )
        drv = self.driver
        half = 0.5 * g0 * drv.swing_v
        mod = self.modulator

        def power(v: np.ndarray) -> np.ndarray:
            t = mod.transfer(np.asarray(v, dtype=np.float64))
            return t.real**2 + t.imag**2

        try:
            return predistortion_levels(power, x_low=drv.offset_v - half, x_high=drv.offset_v + half)
        except InvalidParameter as exc:
            raise InvalidParameter(f"level_predistortion = 'auto' for the {type(mod).__name__}: {exc}") from None

    @property
    def effective_driver(self) -> Pam4Driver:
        """The driver with :attr:`level_predistortion` applied (the driver itself if None)."""
        return self._effective_driver  # type: ignore[attr-defined, no-any-return]

    @property
    def split_loss_db(self) -> float:
        """Loss from the laser to this lane's modulator in dB (``10·log10 N`` + excess, 0 if N = 1)."""
        n = self.lasers_shared_by
        return 0.0 if n == 1 else 10.0 * math.log10(n) + self.splitter_excess_loss_db

    @property
    def transfer_key(self) -> tuple[Any, ...]:
        """What the noise-free modulator transfer depends on (for caches): driver in use,
        modulator, host channel (by identity)."""
        return (self._effective_driver, self.modulator, self.host_channel)  # TouchstoneChannel hashes by identity

    def drive(self, symbols: np.ndarray, symbol_rate_baud: float, samples_per_symbol: int) -> tuple[np.ndarray, Waveform]:
        """Drive voltage after the driver, the host channel and the modulator's EO response,
        and that drive as a waveform.

        With no jitter and no driver noise the driver's staircase (levels and FFE from
        :meth:`Pam4Driver.symbol_voltages`) is filtered by the host channel (if any), the
        driver's Gaussian and the modulator's EO response in one FFT pass; otherwise
        :meth:`Pam4Driver.drive` is used and then filtered.  Both give the same samples
        (tests/models/test_link.py).
        """
        drv = self._effective_driver
        sps = samples_per_symbol
        fs = symbol_rate_baud * sps
        n_sym = symbols.size
        n = n_sym * sps
        check_modulator_sampling(self.modulator, fs)
        f = sfft.rfftfreq(n, 1.0 / fs)
        h = self.modulator.eo_response(f)
        if drv.rise_time_s > 0.0:
            h = h * gaussian_response(f, drv.bandwidth_hz)
        if self.host_channel is not None:
            h = h * host_channel_response(self.host_channel, f)
            if n % 2 == 0:
                h[-1] = h[-1].real  # the Nyquist bin of a real signal is real
        if drv.rj_rms_s > 0.0 or drv.noise_rms_v > 0.0:
            raise InvalidParameter(
                "driver jitter/noise needs an rng: simulate_lane calls Pam4Driver.drive(..., rng=rng) for it"
            )
        spec = sfft.rfft(np.repeat(drv.symbol_voltages(symbols), sps))
        spec *= h
        v = sfft.irfft(spec, n, overwrite_x=True)
        if drv.offset_v != 0.0:
            v += drv.offset_v
        meta: dict[str, Any] = {"source": "model", "model": "Pam4Driver+EO"}
        if self.host_channel is not None:
            meta.update(model="Pam4Driver+host channel+EO", host_channel=self.host_channel.name)
        if self.level_predistortion is not None:
            meta["level_predistortion"] = list(drv.levels)
        wf = Waveform(
            samples=v,
            sample_rate_hz=fs,
            quantity=Quantity.VOLTAGE,
            symbol_rate_baud=symbol_rate_baud,
            pattern=symbols,
            meta=meta,
        )
        return v, wf


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lane:
    """One optical lane: transmitter, channel and receiver.

    Parameters
    ----------
    name : str
        Label used in results (e.g. ``"lane 0 (1271 nm)"``).
    transmitter : Transmitter
    channel : Channel
    receiver : Receiver
    """

    name: str = "lane 0"
    transmitter: Transmitter = dataclasses.field(default_factory=Transmitter)
    channel: Channel = dataclasses.field(default_factory=Channel)
    receiver: Receiver = dataclasses.field(default_factory=Receiver)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InvalidType(f"name must be a string, got {type(self.name).__name__}")
        for attr, cls in (("transmitter", Transmitter), ("channel", Channel), ("receiver", Receiver)):
            if not isinstance(getattr(self, attr), cls):
                raise InvalidType(f"{attr} must be a {cls.__name__}, got {type(getattr(self, attr)).__name__}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinkModule:
    """A transceiver: N lanes at one symbol rate, and its power model.

    Parameters
    ----------
    name : str
        PHY or product name (e.g. ``"400GBASE-DR4"``).
    lanes : sequence of Lane
        The lanes (at least one).
    symbol_rate_baud : float
        Signalling rate per lane in Bd (53.125e9 for 100G lanes, 106.25e9 for 200G RS-only
        lanes, 113.4375e9 for FECi lanes).
    payload_rate_bps : float
        Nominal one-direction rate of the module in b/s (400e9, 800e9, 1.6e12), used for
        energy per bit.
    power_params : models.power.ModulePowerParams or str
        Power model parameters or an architecture name (default ``"dsp"``).
    chip_temperature_rise_k : float
        Chip temperature above the case in K (default 10, UNVERIFIED), 0...60.
    rx_ffe_taps : int
        Taps of the receiver DSP's T-spaced FFE (0: none, the default for 100 G lanes; 200 G
        lanes need one), trained on the known symbols by
        :func:`models.receiver.adapt_ffe_taps` and applied with
        :func:`optics.equalizer.apply_ffe` before the BER is measured.
    """

    name: str
    lanes: Sequence[Lane]
    symbol_rate_baud: float
    payload_rate_bps: float
    power_params: Any = "dsp"
    chip_temperature_rise_k: float = 10.0
    rx_ffe_taps: int = 0

    def __post_init__(self) -> None:
        validate.integer("rx_ffe_taps", self.rx_ffe_taps, 0, 41)
        lanes = tuple(self.lanes)
        if not lanes or not all(isinstance(x, Lane) for x in lanes):
            raise InvalidParameter("lanes must be a non-empty sequence of Lane")
        object.__setattr__(self, "lanes", lanes)
        validate.in_range("symbol_rate_baud", self.symbol_rate_baud, 1e6, 1e12, unit="Bd")
        validate.positive("payload_rate_bps", self.payload_rate_bps, "b/s")
        validate.in_range("chip_temperature_rise_k", self.chip_temperature_rise_k, 0.0, 60.0, unit="K")
        if isinstance(self.power_params, str):
            if self.power_params not in power_model.ARCHITECTURES:
                raise InvalidParameter(
                    f"power_params = {self.power_params!r}; allowed: {', '.join(power_model.ARCHITECTURES)}"
                )
        elif not isinstance(self.power_params, power_model.ModulePowerParams):
            raise InvalidType("power_params must be an architecture name or models.power.ModulePowerParams")

    @property
    def n_lanes(self) -> int:
        """Number of lanes."""
        return len(self.lanes)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimulationSettings:
    """What to simulate and measure.

    Parameters
    ----------
    pattern : str
        Test pattern name for :func:`optics.patterns.pattern` (default ``"SSPRQ"``).
    n_symbols : int or None
        Symbols per lane (default one pattern period); the record is circular, so whole
        periods are best.  >= 256.
    samples_per_symbol : int
        Samples per symbol, 4...256 (default 32).
    temperature_c : float
        Case temperature in °C (default 25), −60...150.
    rx_power_dbm : float or None
        If given, the average power into each receiver is set to this value (an ideal
        variable attenuator/amplifier in front of the receiver), dBm.
    compute_tdecq : bool
        Measure TDECQ of the Tx output (default True).
    count_errors : bool
        Count errors on the received signal (default True).
    precision : str
        Arithmetic of the channel and receiver (fibre field, photocurrent, their FFTs):
        ``"single"`` (default: complex64/float32) or ``"double"``.  Single precision moves the
        received waveform by ~1e-6 of its swing (float32 rounding through 2M-point FFTs), far
        below its noise: counted bit errors identical, estimated BER within 1e-5 relative,
        received power within 1e-5 dB (tests/models/test_link.py; the 1.6TBASE-DR8 preset at
        SSPRQ × 32 samples/UI: 1.1e-6 of the swing, BER estimate 3e-6 relative).  The noise
        draws are the same in both.  The transmitter, and so TDECQ, OMA, ER and the Tx
        waveform, is always double precision.
    """

    pattern: str = "SSPRQ"
    n_symbols: int | None = None
    samples_per_symbol: int = 32
    temperature_c: float = 25.0
    rx_power_dbm: float | None = None
    compute_tdecq: bool = True
    count_errors: bool = True
    precision: str = "single"

    def __post_init__(self) -> None:
        if self.precision not in ("double", "single"):
            raise InvalidParameter(f"precision = {self.precision!r}; allowed: 'double', 'single'")
        if not isinstance(self.pattern, str):
            raise InvalidType(f"pattern must be a pattern name, got {type(self.pattern).__name__}")
        if self.n_symbols is not None:
            validate.integer("n_symbols", self.n_symbols, 256, 1 << 24)
        validate.integer("samples_per_symbol", self.samples_per_symbol, 4, 256)
        validate.in_range("temperature_c", self.temperature_c, -60.0, 150.0, unit="°C")
        if self.rx_power_dbm is not None:
            validate.in_range("rx_power_dbm", self.rx_power_dbm, -40.0, 20.0, unit="dBm")
        for name in ("compute_tdecq", "count_errors"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidType(f"{name} must be True or False")

    def symbols(self) -> np.ndarray:
        """The transmitted symbols (one record)."""
        from optics.patterns import pattern

        return pattern(self.pattern, self.n_symbols)


@dataclasses.dataclass(frozen=True, eq=False)
class LaneResult:
    """Result of one simulated lane.

    Attributes
    ----------
    name : str
    tx_waveform : Waveform
        Optical power at the Tx output (W).
    rx_waveform : Waveform or None
        TIA output voltage (V); None if the link failed before the receiver.
    metrics : mapping
        Metric name (API.md names, SI suffixes) → value; None where not measurable.
    """

    name: str
    tx_waveform: Waveform | None
    rx_waveform: Waveform | None
    metrics: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Name and metrics as plain Python values (no waveforms)."""
        return {"name": self.name, **dict(self.metrics)}


@dataclasses.dataclass(frozen=True, eq=False)
class ModuleResult:
    """Result of :func:`simulate`.

    Attributes
    ----------
    name : str
    temperature_c : float
        Case temperature in °C.
    lanes : tuple of LaneResult
    power : models.power.PowerBreakdown or None
        Module power by block (None if the laser gives no light).
    module_power_w, energy_pj_per_bit : float or None
    ok : bool
        Every lane produced a received signal (no lock loss, no dark laser, no overload).
    """

    name: str
    temperature_c: float
    lanes: tuple[LaneResult, ...]
    power: Any
    module_power_w: float | None
    energy_pj_per_bit: float | None
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: ``name``, ``temperature_c``, ``lanes`` (metric dicts),
        ``module_power_w``, ``energy_pj_per_bit``, ``power_blocks_w``, ``ok``."""
        return {
            "name": self.name,
            "temperature_c": self.temperature_c,
            "ok": self.ok,
            "module_power_w": self.module_power_w,
            "energy_pj_per_bit": self.energy_pj_per_bit,
            "power_blocks_w": dict(self.power.blocks_w) if self.power is not None else None,
            "lanes": [lane.to_dict() for lane in self.lanes],
        }


# --- metrics (all from optics) ----------------------------------------------------------------
def tx_metrics(tx_wf: Waveform, *, compute_tdecq: bool = True) -> dict[str, Any]:
    """Transmitter metrics of an optical waveform, measured by :mod:`optics`.

    Returns ``average_power_w/_dbm, oma_outer_w/_dbm, extinction_ratio_db, rlm, levels_w``
    and (if ``compute_tdecq``) ``tdecq_db, ceq_db``.  A waveform without an open eye gives
    ``tx_eye_closed = True`` and None for the eye metrics (the error text in ``tx_error``).
    """
    from optics.levels import measure_levels
    from optics.tdecq import tdecq
    from optics.timing import recover_timing

    try:
        timing = recover_timing(tx_wf)
        lv = measure_levels(tx_wf, timing)
    except InvalidWaveform as exc:  # includes NoEyeFound
        return {"tx_eye_closed": True, "tx_error": str(exc), "tdecq_db": None, "oma_outer_dbm": None,
                "extinction_ratio_db": None, "average_power_dbm": w_to_dbm(float(np.mean(tx_wf.samples)))}
    out: dict[str, Any] = {
        "tx_eye_closed": False,
        "average_power_w": float(lv.average),
        "average_power_dbm": w_to_dbm(float(lv.average)),
        "oma_outer_w": lv.oma_outer,
        "oma_outer_dbm": w_to_dbm(lv.oma_outer) if lv.oma_outer > 0 else None,
        "extinction_ratio_db": lv.extinction_ratio_db if lv.p0 > 0 else None,
        "rlm": float(lv.rlm),
        "levels_w": [float(x) for x in lv.levels],
    }
    out["tdecq_db"] = out["ceq_db"] = None
    if compute_tdecq:
        try:
            res = tdecq(tx_wf, timing=timing)
        except InvalidWaveform as exc:
            out.update(tdecq_db=None, ceq_db=None, tx_error=str(exc))
        else:
            out["tdecq_db"] = float(res.tdecq_db)
            out["ceq_db"] = float(res.ceq_db)
    return out


#: Keys of :func:`tx_metrics` that scale with the optical power (W) or shift with it (dBm).
_TX_KEYS_W = ("average_power_w", "oma_outer_w")
_TX_KEYS_DBM = ("average_power_dbm", "oma_outer_dbm")
_TX_KEYS_SAME = ("tx_eye_closed", "extinction_ratio_db", "rlm", "tdecq_db", "ceq_db")


def scale_tx_metrics(metrics: Mapping[str, Any], k: float) -> dict[str, Any]:
    """:func:`tx_metrics` of a Tx waveform scaled by ``k`` > 0, from those of the unscaled one.

    Powers, OMA and levels scale by ``k`` (dBm values shift by ``10·log10 k``); the extinction
    ratio, RLM, TDECQ and Ceq are ratios of optical powers and do not change (TDECQ: OMA over
    the noise the equalised eye tolerates, both proportional to ``k``; checked against a full
    measurement in tests/models/test_link.py).  Only open eyes with a TDECQ (or none asked
    for) are accepted.

    Raises
    ------
    InvalidParameter
        ``k`` not positive, or reference metrics of a closed eye / a failed TDECQ.
    """
    k = validate.positive("k", k)
    if metrics.get("tx_eye_closed", True) or "tx_error" in metrics:
        raise InvalidParameter("scale_tx_metrics needs the metrics of an open eye with no tx_error")
    out = {key: metrics[key] for key in _TX_KEYS_SAME}
    for key in _TX_KEYS_W:
        out[key] = metrics[key] * k
    db = 10.0 * math.log10(k)
    for key in _TX_KEYS_DBM:
        out[key] = None if metrics[key] is None else metrics[key] + db
    out["levels_w"] = [x * k for x in metrics["levels_w"]]
    return out


def rx_metrics(rx_wf: Waveform, *, count_errors: bool = True) -> dict[str, Any]:
    """Receiver metrics of the electrical waveform, measured by :mod:`optics.ber`.

    ``ber_estimate`` (statistical, :func:`optics.ber.estimate_ber`) and, if
    ``count_errors``, ``ber_counted``, ``bit_errors``, ``n_bits`` (:func:`optics.ber.count_errors`).
    A closed eye gives ``ber_estimate = None`` and ``rx_eye_closed = True``.
    """
    from optics import ber
    from optics.levels import measure_levels
    from optics.timing import recover_timing

    try:
        timing = recover_timing(rx_wf)
        lv = measure_levels(rx_wf, timing)
    except InvalidWaveform:  # includes NoEyeFound
        return {"ber_estimate": None, "ber_counted": None, "rx_eye_closed": True}
    out: dict[str, Any] = {"ber_estimate": float(ber.estimate_ber(rx_wf, timing, levels=lv).ber), "rx_eye_closed": False}
    if count_errors:
        c = ber.count_errors(rx_wf, timing, levels=lv)
        out.update(ber_counted=c.ber, bit_errors=c.bit_errors, n_bits=c.n_bits)
    return out


# --- simulation -------------------------------------------------------------------------------
def transmitter_transfer(
    tx: Transmitter, symbols: np.ndarray, symbol_rate_baud: float, samples_per_symbol: int,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, Waveform]:
    """Complex field transmission of the modulator driven by the symbols, and the drive waveform.

    ``E_tx(t) = E_laser(t)·t(t)`` with ``t = modulator.transfer(v)``, ``v`` the driver output
    filtered by the host channel (if any) and the modulator's EO response
    (:meth:`Transmitter.drive`).  A driver with jitter or noise uses
    :meth:`Pam4Driver.drive` with ``rng``.
    """
    mod = tx.modulator
    fs = symbol_rate_baud * samples_per_symbol
    drv = tx.effective_driver
    if drv.rj_rms_s > 0.0 or drv.noise_rms_v > 0.0:
        drive_wf = drv.drive(symbols, symbol_rate_baud=symbol_rate_baud, samples_per_symbol=samples_per_symbol, rng=rng)
        check_modulator_sampling(mod, fs)
        f = sfft.rfftfreq(drive_wf.n_samples, 1.0 / fs)
        h = mod.eo_response(f)
        if tx.host_channel is not None:
            h = h * host_channel_response(tx.host_channel, f)
        v = sfft.irfft(sfft.rfft(drive_wf.samples) * h, drive_wf.n_samples)
    else:
        v, drive_wf = tx.drive(symbols, symbol_rate_baud, samples_per_symbol)
    return mod.transfer(v), drive_wf


def simulate_lane(
    lane: Lane,
    *,
    symbol_rate_baud: float,
    settings: SimulationSettings,
    rng: np.random.Generator,
    chip_temperature_c: float | None = None,
    symbols: np.ndarray | None = None,
    metrics: bool = True,
    rx_ffe_taps: int = 0,
    cache: dict[Any, Any] | None = None,
    tx_reference: tuple[Mapping[str, Any], float] | None = None,
    spectrum_key: Any = None,
    need_tx_waveform: bool = True,
    extra_meta: Mapping[str, Any] | None = None,
) -> LaneResult:
    """Simulate one lane (driver → laser+modulator → channel → PD/TIA) and measure it.

    Parameters
    ----------
    lane : Lane
    symbol_rate_baud : float
        Symbol rate in Bd.
    settings : SimulationSettings
    rng : numpy.random.Generator
        Source of laser RIN, MPI phase, driver jitter/noise, shot and thermal noise.
    chip_temperature_c : float, optional
        Chip temperature (default ``settings.temperature_c``).
    symbols : ndarray, optional
        Symbols to send (default ``settings.symbols()``).
    metrics : bool
        Measure the waveforms with :mod:`optics` (default True).
    rx_ffe_taps : int
        Receiver DSP FFE taps (0: none), see :attr:`LinkModule.rx_ffe_taps`.
    cache : dict, optional
        Reuses the modulator transfer of identical (noise-free) transmitters across lanes
        and temperatures (it depends only on driver, modulator and symbols; a locked ring's
        transfer does not depend on temperature).
    tx_reference : (mapping, float), optional
        Transmitter metrics already measured on this lane with the same noise realisation
        (same seed and lane) at another temperature, and the laser power (W) they were
        measured at.  The Tx waveform then differs only by the laser power ratio ``k``, so
        the metrics are :func:`scale_tx_metrics` of the reference (TDECQ, Ceq, ER, RLM are
        ratios; OMA, power and levels scale by ``k``) instead of being measured again.
    spectrum_key : hashable, optional
        With ``cache``: names this lane's noise realisation (seed, lane).  The transform of
        the Tx field is kept in ``cache`` under it and reused at other temperatures, scaled
        by ``sqrt(P_laser/P_laser,ref)`` (the field is the same up to that factor), which
        saves the fibre's forward FFT.  Only for noise-free drivers and channels without MPI.
    need_tx_waveform : bool
        Build the Tx waveform (default True).  False with ``tx_reference`` skips it
        (``tx_waveform`` is then None).
    extra_meta : mapping, optional
        Entries added to both waveforms' ``meta`` (e.g. the seed).

    Returns
    -------
    LaneResult
        With ``metrics`` also holding ``wavelength_m, laser_power_w, heater_power_w,
        receive_power_dbm, chip_temperature_c``.

    Raises
    ------
    InvalidParameter
        Ring lock lost, laser below threshold, TIA overload, sample rate below twice a
        bandwidth (messages name the cause).
    """
    tx = lane.transmitter
    sym = settings.symbols() if symbols is None else symbols
    sps = settings.samples_per_symbol
    t_chip = settings.temperature_c if chip_temperature_c is None else chip_temperature_c
    fs = symbol_rate_baud * sps
    mod = tx.modulator
    heater_w = 0.0
    if isinstance(mod, MicroringModulator):
        heater_w = mod.lock_or_raise(tx.laser.wavelength_at(t_chip), t_chip).heater_power_w
    gain = 10.0 ** (-tx.split_loss_db / 20.0)
    key = (*tx.transfer_key, gain, symbol_rate_baud, sps, id(sym))
    # cache entries keyed by id(sym) hold sym itself: a live entry's id cannot be reused
    cached = None if cache is None else cache.get(key)
    if cached is None or cached[2] is not sym:
        transfer, drive_wf = transmitter_transfer(tx, sym, symbol_rate_baud, sps, rng)
        # the splitter loss is folded into the (cached) transfer: one complex multiply per lane
        cached = (transfer * gain if gain != 1.0 else transfer, drive_wf, sym)
        if cache is not None and tx.driver.rj_rms_s == 0.0 and tx.driver.noise_rms_v == 0.0:
            cache[key] = cached
    transfer, drive_wf, _ = cached
    p_laser = tx.laser.output_power_w(t_chip)
    wavelength = tx.laser.wavelength_at(t_chip)
    pkey = ("period", id(sym))
    pentry = None if cache is None else cache.get(pkey)
    if pentry is None or pentry[0] is not sym:
        pentry = (sym, _period_fast(sym))
        if cache is not None:
            cache[pkey] = pentry
    period = pentry[1]
    meta = {"laser_power_w": p_laser, "laser_temperature_c": t_chip, "modulator": type(mod).__name__,
            "drive": dict(drive_wf.meta)}
    fast = lane.channel.mpi_ratio == 0.0
    skey = None
    if fast and spectrum_key is not None and cache is not None and tx.driver.rj_rms_s == 0.0 \
            and tx.driver.noise_rms_v == 0.0:
        skey = ("tx spectrum", key, spectrum_key, settings.precision)
    entry = None if skey is None or p_laser <= 0.0 else cache.get(skey)  # a dark laser raises below
    if entry is not None and entry[2] is not sym:
        entry = None
    need_tx = need_tx_waveform or (metrics and tx_reference is None)
    tx_light = tx_wf = None
    if need_tx or entry is None:
        # real laser amplitude (with RIN) times the complex transfer: no complex laser array
        amp = tx.laser.amplitude(transfer.size, fs, temperature_c=t_chip, rng=rng)
        tx_light = OpticalField(field=np.multiply(transfer, amp), sample_rate_hz=fs, wavelength_m=wavelength,
                                symbol_rate_baud=symbol_rate_baud, pattern=period, meta=meta)
        del amp
        if need_tx:
            tx_wf = tx_light.to_waveform(source="model", lane=lane.name, chip_temperature_c=t_chip,
                                         **dict(extra_meta or {}))
    else:
        # the field is the kept spectrum's up to a factor: only keep the RIN draws in step,
        # so that the shot and thermal noise that follow get the same draws as without reuse
        tx.laser.skip_rin(transfer.size, fs, rng)
    if not fast:
        # MPI adds a delayed copy of the field (np.roll in time): the block-by-block path
        rx_light = lane.channel.propagate(tx_light, rng=rng)
        p_rx = rx_light.average_power_w
        if settings.rx_power_dbm is not None:
            scale = dbm_to_w(settings.rx_power_dbm) / p_rx
            rx_light = rx_light.with_field(rx_light.field * math.sqrt(scale))
            p_rx = rx_light.average_power_w
        rx_wf = lane.receiver.detect(rx_light, rng=rng, temperature_c=t_chip)
        rx_v, rx_meta = np.asarray(rx_wf.samples), dict(rx_wf.meta)
    else:
        spectrum = None if entry is None else (entry[0], math.sqrt(p_laser / entry[1]))
        rx_v, rx_meta, p_rx, kept = _channel_and_receiver(
            None if tx_light is None else tx_light.field, spectrum, transfer.size, fs, wavelength, dict(meta),
            symbol_rate_baud, period, lane.channel, lane.receiver, rng=rng, temperature_c=t_chip,
            rx_power_dbm=settings.rx_power_dbm, single=settings.precision == "single",
            keep_spectrum=skey is not None and entry is None,
        )
        if kept is not None:
            kept.setflags(write=False)
            cache[skey] = (kept, p_laser, sym)
    m: dict[str, Any] = {
        "wavelength_m": wavelength,
        "laser_power_w": tx.laser.output_power_w(t_chip),
        "heater_power_w": heater_w,
        "receive_power_dbm": w_to_dbm(p_rx),
        "chip_temperature_c": t_chip,
    }
    if rx_ffe_taps > 0:
        taps, n_pre, _ = adapt_ffe_taps(rx_v, sym, sps, rx_ffe_taps)
        rx_v = apply_ffe_taps(rx_v, taps, n_pre, sps)
        rx_meta.update(rx_ffe_taps=[float(c) for c in taps], rx_ffe_precursors=n_pre)
        m["rx_ffe_taps"] = [float(c) for c in taps]
    rx_meta.update(extra_meta or {})
    rx_wf = Waveform(samples=rx_v, sample_rate_hz=fs, quantity=Quantity.VOLTAGE, symbol_rate_baud=symbol_rate_baud,
                     pattern=period, meta=rx_meta)
    del rx_v
    if metrics:
        if tx_reference is not None:
            ref, ref_power_w = tx_reference
            m.update(scale_tx_metrics(ref, m["laser_power_w"] / ref_power_w))
        else:
            m.update(tx_metrics(tx_wf, compute_tdecq=settings.compute_tdecq))
        m.update(rx_metrics(rx_wf, count_errors=settings.count_errors))
    return LaneResult(lane.name, tx_wf, rx_wf, MappingProxyType(m))


_SINGLE_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _as_single(h: np.ndarray) -> np.ndarray:
    """complex64 copy of a cached (read-only) response, itself cached (last 4).

    Each entry holds the source array too, so its ``id`` cannot be reused by a new array
    while the entry lives (the identity check guards against a stale copy).
    """
    entry = _SINGLE_CACHE.get(id(h))
    if entry is None or entry[0] is not h:
        entry = (h, h.astype(np.complex64))
        entry[1].setflags(write=False)
        if len(_SINGLE_CACHE) >= 4:
            _SINGLE_CACHE.pop(next(iter(_SINGLE_CACHE)))
        _SINGLE_CACHE[id(h)] = entry
    return entry[1]


def channel_and_receiver(
    tx_light: OpticalField,
    channel: Channel,
    receiver: Receiver,
    *,
    rng: np.random.Generator | None,
    temperature_c: float,
    rx_power_dbm: float | None = None,
    single: bool = False,
) -> tuple[Waveform, float]:
    """Fibre (no MPI) and PD/TIA in one pass: the same equations as
    :meth:`Channel.propagate` followed by :meth:`Receiver.detect`, without leaving the FFT layout.

    For a record length that is not a fast FFT length the transforms are Good-Thomas 2-D ones
    (:func:`models.response.pfa_plan`); the field is permuted into that layout once, stays in
    it through the fibre (``FFT → ·H_fibre → IFFT``), the square law, the shot noise and the
    receiver spectrum (``·Z_T·H_pd·H_tia`` plus the TIA noise spectrum), and only the output
    voltage is put back in time order: two permutations per lane instead of four.  Noise has
    the statistics of :meth:`Receiver.detect` (white shot noise ``q·I·fs`` per sample, TIA
    noise ``i_n²·fs/2``); its samples are drawn in the transform layout.  ``single`` runs
    all of it in complex64/float32 (see :class:`SimulationSettings`) with the same noise draws.

    Returns
    -------
    (Waveform, float)
        TIA output voltage (V) and the average received optical power (W).

    Raises
    ------
    InvalidParameter
        TIA overload, sample rate below twice a bandwidth, a channel with MPI.
    """
    if channel.mpi_ratio > 0.0:
        raise InvalidParameter("channel_and_receiver has no MPI; use Channel.propagate and Receiver.detect")
    v, meta, p_rx, _ = _channel_and_receiver(
        tx_light.field, None, tx_light.n_samples, tx_light.sample_rate_hz, tx_light.wavelength_m,
        dict(tx_light.meta), tx_light.symbol_rate_baud, tx_light.pattern, channel, receiver,
        rng=rng, temperature_c=temperature_c, rx_power_dbm=rx_power_dbm, single=single,
    )
    wf = Waveform(samples=v, sample_rate_hz=tx_light.sample_rate_hz, quantity=Quantity.VOLTAGE,
                  symbol_rate_baud=tx_light.symbol_rate_baud, pattern=tx_light.pattern, meta=meta)
    return wf, p_rx


def _channel_and_receiver(
    field: np.ndarray | None,
    field_spectrum: tuple[np.ndarray, float] | None,
    n: int,
    fs: float,
    wavelength_m: float,
    meta: dict[str, Any],
    symbol_rate_baud: float | None,
    pattern: np.ndarray | None,
    channel: Channel,
    receiver: Receiver,
    *,
    rng: np.random.Generator | None,
    temperature_c: float,
    rx_power_dbm: float | None,
    single: bool,
    keep_spectrum: bool = False,
) -> tuple[np.ndarray, dict[str, Any], float, np.ndarray | None]:
    """Core of :func:`channel_and_receiver`, from the Tx ``field`` or from its spectrum.

    Returns the output samples (V) and their meta (the Waveform is built by the caller, once),
    the received power (W) and the kept spectrum (or None).

    ``field_spectrum = (S, c)``: the Tx field's transform (in the :func:`models.response.pfa_plan`
    layout, precision of ``single``) is ``c·S`` — a sweep reuses ``S`` of the same lane and
    noise draws at another laser power.  ``keep_spectrum`` returns a copy of the transform
    computed from ``field`` (before the fibre response) as the third item.
    """
    from models.fiber import _dispersion_response
    from models.laser import C_M_PER_S
    from models.receiver import Q_E

    pd, tia = receiver.photodiode, receiver.tia
    response.check_sampling("photodiode.bandwidth_hz", pd.bandwidth_hz, fs)
    response.check_sampling("tia.bandwidth_hz", tia.bandwidth_hz, fs)
    plan = response.pfa_plan(n)
    cdt = np.complex64 if single else np.complex128
    # --- fibre: E(f)·10^(−IL/20)·exp(−j β2L/2 ω²), as models.fiber.propagate_dispersion
    disp = channel.fiber.dispersion_ps_per_nm(wavelength_m)
    gain = 10.0 ** (-channel.insertion_loss_db / 20.0)
    b2l = -(disp * 1e-3) * wavelength_m**2 / (2.0 * math.pi * C_M_PER_S)
    kept = None
    if abs(b2l) / 2.0 * (math.pi * fs) ** 2 < 1e-9:
        h = None
    else:
        h = _dispersion_response(n, fs, b2l, gain, plan)
        if single:
            h = _as_single(h)
        meta["dispersion_ps_per_nm"] = disp
    if field_spectrum is not None:
        s0, c = field_spectrum
        spec = np.multiply(s0, h) if h is not None else s0 * gain
        spec *= c
    else:
        # a new array in the transform layout (the Tx field stays untouched)
        x = field.astype(cdt) if plan is None else field[plan[2]].astype(cdt, copy=False)
        if h is None and not keep_spectrum:
            x *= gain
            spec = None
        else:
            spec = sfft.fft(x, overwrite_x=True) if plan is None else sfft.fft2(x, overwrite_x=True)
            del x
            if keep_spectrum:
                kept = spec.copy()
            if h is not None:
                spec *= h
            else:
                spec *= gain
    if spec is not None:
        x = sfft.ifft(spec, overwrite_x=True) if plan is None else sfft.ifft2(spec, overwrite_x=True)
        del spec

    # --- square law, received power
    current = np.multiply(x.real, x.real)
    current += np.multiply(x.imag, x.imag)
    del x
    p_rx = float(np.mean(current, dtype=np.float64))
    if rx_power_dbm is not None:
        # the ideal attenuator sets the power: report it (in single precision, re-measuring
        # the rounded samples would be off by ~1e-7 relative)
        scale = dbm_to_w(rx_power_dbm) / p_rx
        current *= scale
        p_rx *= scale
    # --- photodiode and TIA (models.receiver.Receiver.detect)
    current *= pd.responsivity_a_per_w
    current += pd.dark_current_at(temperature_c)
    peak = float(np.max(current))
    if peak > tia.overload_current_a:
        raise InvalidParameter(
            f"TIA overload: peak photocurrent {peak * 1e3:.3g} mA exceeds overload_current_a = "
            f"{tia.overload_current_a * 1e3:.3g} mA (reduce the received power)"
        )
    if rng is not None and pd.shot_noise:
        shot = np.multiply(current, Q_E * fs)
        np.sqrt(shot, out=shot)
        shot *= rng.standard_normal(current.shape)  # float64 draws: the same noise in both precisions
        current += shot
        del shot
    z = float(tia.transimpedance_ohm)
    h_all = response.rfft_grid_response(n, fs, ((pd.bandwidth_hz, pd.shape), (tia.bandwidth_hz, tia.shape)), gain=z)
    spec = sfft.rfft(current) if plan is None else sfft.rfft2(current)
    del current
    spec *= _as_single(h_all) if single else h_all
    if rng is not None and tia.input_noise_density_a_per_rthz > 0.0:
        sigma = tia.input_noise_density_a_per_rthz * math.sqrt(fs / 2.0)
        noise = response.white_noise_spectrum(n, sigma, rng, dtype=cdt)
        h_tia = response.rfft_grid_response(n, fs, ((tia.bandwidth_hz, tia.shape),), gain=z)
        noise *= _as_single(h_tia) if single else h_tia
        spec += noise
        del noise
    if plan is None:
        v = sfft.irfft(spec, n, overwrite_x=True).astype(np.float64, copy=False)
    else:
        v = np.empty(n)
        v[plan[2]] = sfft.irfft2(spec, s=(plan[0], plan[1]), overwrite_x=True)
    meta.update(receiver="pd+tia", dark_current_a=pd.dark_current_at(temperature_c))
    return v, meta, p_rx, kept


def _period_fast(sym: np.ndarray) -> np.ndarray:
    """One period of ``sym`` if it repeats a PRBS/SSPRQ period (2^k − 1 symbols), else ``sym``.

    A record of k whole pattern periods is labelled with one period as its
    :attr:`optics.Waveform.pattern`, so that pattern alignment is unambiguous.
    """
    n = sym.size
    for length in [2**k - 1 for k in range(7, 24)]:
        if length < n and n % length == 0 and np.array_equal(sym, np.tile(sym[:length], n // length)):
            return sym[:length]
    return sym


def module_power_at(module: LinkModule, chip_temperature_c: float, heater_power_w_per_lane: float = 0.0) -> Any:
    """Module power (:func:`models.power.module_power`) with the laser and heaters at temperature.

    The laser block uses the first lane's laser model: optical output at
    ``chip_temperature_c`` and electrical power ``I·V_f + I²R_s`` (passed as an effective
    forward voltage); lasers are shared as in the transmitter.  Returns None if the laser
    gives no light.
    """
    params = module.power_params
    if isinstance(params, str):
        params = power_model.preset_params(params)
    tx = module.lanes[0].transmitter
    laser = tx.laser
    p_opt = laser.output_power_w(chip_temperature_c)
    if p_opt <= 0.0:
        return None
    lp = dataclasses.replace(params.laser, lanes_per_laser=tx.lasers_shared_by)
    params = dataclasses.replace(params, laser=lp)
    i = laser.bias_current_a
    v_eff = laser.electrical_power_w() / i
    return power_model.module_power(
        params,
        n_lanes=module.n_lanes,
        lane_rate_bps=module.payload_rate_bps / module.n_lanes,
        heater_power_w_per_lane=heater_power_w_per_lane,
        laser_optical_power_w=p_opt,
        laser_bias_current_a=i,
        laser_forward_voltage_v=v_eff,
    )


def simulate(
    module: LinkModule,
    settings: SimulationSettings | None = None,
    *,
    seed: int | None = 0,
    metrics: bool = True,
    fail_fast: bool = False,
    cache: dict[Any, Any] | None = None,
    keep_waveforms: bool = True,
    workers: int | None = None,
) -> ModuleResult:
    """Simulate every lane of ``module`` at ``settings.temperature_c`` (case) and measure it.

    Parameters
    ----------
    module : LinkModule
    settings : SimulationSettings, optional
        Default :class:`SimulationSettings()`.
    seed : int or None
        Seed of ``numpy.random.SeedSequence``; lane ``i`` uses the i-th spawned child.
        None draws fresh entropy (recorded in each waveform's ``meta["seed"]``).
    metrics : bool
        Measure the waveforms (default True).
    fail_fast : bool
        Raise on the first failed lane instead of recording ``link_failed`` (default False).
    cache : dict, optional
        Transfer cache shared across calls (a temperature sweep passes one); see
        :func:`simulate_lane`.
    keep_waveforms : bool
        Keep the waveforms in the lane results (default True; sweeps drop them to save memory).
    workers : int or None
        Processes that simulate lanes concurrently (fork start method; serial where fork is
        unavailable).  None (default) picks ``min(lanes, CPU cores)`` for records of at least
        :data:`PARALLEL_MIN_SAMPLES` samples and 1 for shorter ones or when the calling
        process runs other threads.  Each lane has its own seed, so the results do not
        depend on the worker count.

    Returns
    -------
    ModuleResult
        A lane whose link fails (ring lock lost, laser below threshold, TIA overload) has no
        waveforms and ``metrics = {"link_failed": True, "failure": <message>, ...}``.

    Examples
    --------
    >>> from models.presets import preset
    >>> from models.link import SimulationSettings, simulate
    >>> res = simulate(preset("400GBASE-DR4"), SimulationSettings(pattern="PRBS9Q", n_symbols=2044,
    ...                samples_per_symbol=8, compute_tdecq=False))
    >>> len(res.lanes), res.ok
    (4, True)
    """
    settings = SimulationSettings() if settings is None else settings
    return simulate_many(module, [settings], seed=seed, metrics=metrics, fail_fast=fail_fast, cache=cache,
                         keep_waveforms=keep_waveforms, workers=workers)[0]


#: Samples per lane record from which :func:`simulate` runs lanes in parallel by default
#: (below it the fork and the transfer of the results cost more than they save).
PARALLEL_MIN_SAMPLES = 1 << 19

# State the forked workers inherit (set by simulate_many just before the pool is created).
_POOL_STATE: dict[str, Any] = {}


def _resolve_workers(workers: int | None, n_jobs: int, n_samples: int) -> int:
    import os

    if workers is None:
        import threading

        # forking a process that runs other threads can copy a lock held by one of them:
        # the default stays serial then (an explicit ``workers`` is honoured)
        if n_samples < PARALLEL_MIN_SAMPLES or threading.active_count() > 1:
            return 1
        workers = os.cpu_count() or 1
    else:
        validate.integer("workers", workers, 1, 256)
    return max(1, min(int(workers), n_jobs))


def _prepare_transmitters(module: LinkModule, settings: SimulationSettings, sym: np.ndarray, cache: dict[Any, Any]) -> None:
    """Fill ``cache`` with the noise-free transmitter transfers (before forking, so workers share them)."""
    for lane in module.lanes:
        tx = lane.transmitter
        if tx.driver.rj_rms_s > 0.0 or tx.driver.noise_rms_v > 0.0:
            continue
        gain = 10.0 ** (-tx.split_loss_db / 20.0)
        key = (*tx.transfer_key, gain, module.symbol_rate_baud, settings.samples_per_symbol, id(sym))
        if key not in cache or cache[key][2] is not sym:
            try:
                transfer, drive_wf = transmitter_transfer(tx, sym, module.symbol_rate_baud, settings.samples_per_symbol)
            except InvalidParameter:
                continue  # the lane reports it
            cache[key] = (transfer * gain if gain != 1.0 else transfer, drive_wf, sym)
    pkey = ("period", id(sym))
    if pkey not in cache or cache[pkey][0] is not sym:
        cache[pkey] = (sym, _period_fast(sym))


def _lane_job(
    module: LinkModule, settings: SimulationSettings, lane_index: int, child: np.random.SeedSequence,
    sym: np.ndarray, cache: dict[Any, Any], metrics: bool, keep_waveforms: bool, seed: int | None,
    tx_reference: tuple[Mapping[str, Any], float] | None = None,
    reuse: bool = False,
) -> tuple[LaneResult, str | None]:
    """One lane of :func:`simulate_many`: ``(result, None)`` or ``(failed-lane result, message)``."""
    lane = module.lanes[lane_index]
    t_chip = settings.temperature_c + module.chip_temperature_rise_k
    try:
        res = simulate_lane(
            lane,
            symbol_rate_baud=module.symbol_rate_baud,
            settings=settings,
            rng=np.random.default_rng(child),
            chip_temperature_c=t_chip,
            symbols=sym,
            metrics=metrics,
            rx_ffe_taps=module.rx_ffe_taps,
            cache=cache,
            tx_reference=tx_reference,
            spectrum_key=(lane_index, child.entropy, tuple(child.spawn_key)) if reuse else None,
            need_tx_waveform=keep_waveforms or tx_reference is None,
            extra_meta={"seed": seed, "seed_spawn_key": list(child.spawn_key), "settings": dataclasses.asdict(settings)},
        )
    except InvalidParameter as exc:
        failed = _failed_metrics(lane, t_chip, str(exc))
        return LaneResult(lane.name, None, None, MappingProxyType(failed)), str(exc)
    keep = keep_waveforms
    res = LaneResult(
        res.name,
        res.tx_waveform if keep else None,
        res.rx_waveform if keep else None,
        MappingProxyType({**res.metrics, "link_failed": False}),
    )
    return res, None


def _pack_waveform(wf: Waveform | None) -> tuple[Any, ...] | None:
    # Waveform holds read-only mappings (not picklable): send its fields
    if wf is None:
        return None
    return (np.asarray(wf.samples), wf.sample_rate_hz, wf.quantity, wf.symbol_rate_baud, wf.pattern, dict(wf.meta), wf.t0_s)


def _unpack_waveform(t: tuple[Any, ...] | None) -> Waveform | None:
    if t is None:
        return None
    samples, fs, quantity, baud, pattern, meta, t0 = t
    return Waveform(samples=samples, sample_rate_hz=fs, quantity=quantity, symbol_rate_baud=baud, pattern=pattern,
                    meta=meta, t0_s=t0)


def _worker_job(job: tuple[int, int, Any]) -> tuple[int, int, tuple[Any, ...], str | None]:
    """Run job ``(settings index, lane index, tx reference)`` in a forked worker; picklable result."""
    st = _POOL_STATE
    i, j, ref = job
    res, err = _lane_job(st["module"], st["settings"][i], j, st["children"][i][j], st["sym"], st["cache"],
                         st["metrics"], st["keep"], st["seed"], ref, st["reuse"])
    packed = (res.name, _pack_waveform(res.tx_waveform), _pack_waveform(res.rx_waveform), dict(res.metrics))
    return i, j, packed, err


def _tx_reference(res: LaneResult) -> tuple[dict[str, Any], float] | None:
    """Tx metrics of a lane result that :func:`scale_tx_metrics` can reuse, with their laser power."""
    m = res.metrics
    if m.get("link_failed", True) or m.get("tx_eye_closed", True) or "tx_error" in m:
        return None
    keys = _TX_KEYS_W + _TX_KEYS_DBM + _TX_KEYS_SAME + ("levels_w",)
    return {key: m[key] for key in keys}, float(m["laser_power_w"])


def simulate_many(
    module: LinkModule,
    settings_list: Sequence[SimulationSettings],
    *,
    seed: int | None = 0,
    metrics: bool = True,
    fail_fast: bool = False,
    cache: dict[Any, Any] | None = None,
    keep_waveforms: bool = True,
    workers: int | None = None,
    reuse_tx_metrics: bool = True,
) -> list[ModuleResult]:
    """:func:`simulate` at several settings (e.g. temperatures) with one pool of workers.

    Every entry gets ``numpy.random.SeedSequence(seed)`` spawned per lane, exactly as
    :func:`simulate` does, so ``simulate_many(m, [s1, s2])`` equals
    ``[simulate(m, s1), simulate(m, s2)]`` bit for bit, whatever ``workers`` is.  The
    noise-free transmitter transfers are computed once, before the workers start, and shared.
    All settings must send the same symbols (pattern, length, samples per symbol).

    With ``reuse_tx_metrics`` (default), a fixed ``seed`` and settings that differ only in
    ``temperature_c`` (a temperature sweep), each lane's Tx waveform at every temperature is
    the first temperature's one times the laser-power ratio (same modulator transfer, same
    RIN draws), so the Tx metrics (TDECQ...) are measured once per lane and scaled
    (:func:`scale_tx_metrics`), and the transform of each lane's Tx field is kept and reused
    (see ``spectrum_key`` in :func:`simulate_lane`); the channel, receiver and receiver
    metrics are simulated and measured at every temperature.  Lanes with a noisy driver, a
    closed eye or a failure at the first temperature are measured everywhere.

    Raises
    ------
    InvalidParameter
        Settings that send different symbols; with ``fail_fast`` the first failed lane.
    """
    if not isinstance(module, LinkModule):
        raise InvalidType(f"module must be a LinkModule, got {type(module).__name__}")
    settings_list = list(settings_list)
    if not settings_list or not all(isinstance(s, SimulationSettings) for s in settings_list):
        raise InvalidParameter("settings_list must be a non-empty sequence of SimulationSettings")
    first = settings_list[0]
    if any((s.pattern, s.n_symbols, s.samples_per_symbol) != (first.pattern, first.n_symbols, first.samples_per_symbol)
           for s in settings_list):
        raise InvalidParameter("all settings in settings_list must send the same pattern, n_symbols and samples_per_symbol")
    cache = {} if cache is None else cache
    sym = cache.setdefault(("symbols", first.pattern, first.n_symbols), None)
    if sym is None:
        sym = cache[("symbols", first.pattern, first.n_symbols)] = first.symbols()
    # one spawn per settings entry, as simulate() always did (seed None: fresh entropy each)
    children = [np.random.SeedSequence(seed).spawn(module.n_lanes) for _ in settings_list]
    n_lanes = module.n_lanes
    jobs = [(i, j) for i in range(len(settings_list)) for j in range(n_lanes)]
    n_workers = _resolve_workers(workers, len(jobs), sym.size * first.samples_per_symbol)
    _prepare_transmitters(module, first, sym, cache)
    lane_results: list[list[LaneResult | None]] = [[None] * n_lanes for _ in settings_list]
    errors: dict[tuple[int, int], str] = {}
    base = dataclasses.replace(first, temperature_c=0.0)
    reuse = (reuse_tx_metrics and metrics and seed is not None and len(settings_list) > 1
             and all(dataclasses.replace(s, temperature_c=0.0) == base for s in settings_list))
    phases = [[(i, j, None) for i, j in jobs]]
    if reuse:
        phases = [[(0, j, None) for j in range(n_lanes)], None]
    pool = None
    if n_workers > 1:
        import multiprocessing

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform
            n_workers = 1

    def record(i: int, j: int, res: LaneResult, err: str | None) -> None:
        lane_results[i][j] = res
        if err is not None:
            errors[(i, j)] = err
            if fail_fast:
                raise InvalidParameter(err)

    try:
        if n_workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            _POOL_STATE.update(module=module, settings=settings_list, children=children, sym=sym, cache=cache,
                               metrics=metrics, keep=keep_waveforms, seed=seed, reuse=reuse)
            pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx)
        for phase in phases:
            if phase is None:  # second phase of a sweep: reuse the first temperature's Tx metrics
                refs = []
                for lane, res in zip(module.lanes, lane_results[0]):
                    noisy = lane.transmitter.driver.rj_rms_s > 0.0 or lane.transmitter.driver.noise_rms_v > 0.0
                    refs.append(None if noisy or res is None else _tx_reference(res))
                phase = [(i, j, refs[j]) for i in range(1, len(settings_list)) for j in range(n_lanes)]
            if pool is not None:
                for i, j, packed, err in pool.map(_worker_job, phase):
                    name, txp, rxp, m = packed
                    record(i, j, LaneResult(name, _unpack_waveform(txp), _unpack_waveform(rxp), MappingProxyType(m)), err)
            else:
                for i, j, ref in phase:
                    res, err = _lane_job(module, settings_list[i], j, children[i][j], sym, cache, metrics,
                                         keep_waveforms, seed, ref, reuse)
                    record(i, j, res, err)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _POOL_STATE.clear()
    out = []
    for i, settings in enumerate(settings_list):
        t_chip = settings.temperature_c + module.chip_temperature_rise_k
        lanes = tuple(r for r in lane_results[i] if r is not None)
        ok = not any(k[0] == i for k in errors)
        heaters = [float(r.metrics["heater_power_w"]) for j, r in enumerate(lanes) if (i, j) not in errors]
        heater_mean = float(np.mean(heaters)) if heaters else 0.0
        pw = module_power_at(module, t_chip, heater_mean)
        total = float(pw.total_w) if pw is not None else None
        epb = float(pw.energy_pj_per_bit) if pw is not None else None
        out.append(ModuleResult(module.name, float(settings.temperature_c), lanes, pw, total, epb, ok))
    return out


def _failed_metrics(lane: Lane, t_chip: float, message: str) -> dict[str, Any]:
    tx = lane.transmitter
    heater = None
    if isinstance(tx.modulator, MicroringModulator):
        heater = tx.modulator.lock(tx.laser.wavelength_at(t_chip), t_chip).heater_power_w
    return {
        "link_failed": True,
        "failure": message,
        "wavelength_m": tx.laser.wavelength_at(t_chip),
        "laser_power_w": tx.laser.output_power_w(t_chip),
        "heater_power_w": heater,
        "chip_temperature_c": t_chip,
        "tdecq_db": None,
        "oma_outer_dbm": None,
        "extinction_ratio_db": None,
        "average_power_dbm": None,
        "ber_estimate": None,
        "ber_counted": None,
    }


__all__ = [
    "channel_and_receiver",
    "Lane",
    "LaneResult",
    "LinkModule",
    "ModuleResult",
    "OpticalField",
    "PREDISTORTION_MODES",
    "SimulationSettings",
    "Transmitter",
    "dbm_to_w",
    "host_channel_response",
    "module_power_at",
    "rx_metrics",
    "scale_tx_metrics",
    "simulate",
    "simulate_lane",
    "simulate_many",
    "tx_metrics",
    "w_to_dbm",
]
