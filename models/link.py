"""Link simulation: transmitter → channel → receiver per lane, and modules of N lanes.

A :class:`Lane` is a :class:`Transmitter` (PAM4 driver, CW laser, modulator), a
:class:`~models.fiber.Channel` and a :class:`~models.receiver.Receiver`.  A
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
from models.electrical import Pam4Driver, gaussian_response
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Transmitter:
    """PAM4 driver, CW laser and modulator of one lane.

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
    """

    driver: Pam4Driver = dataclasses.field(default_factory=lambda: Pam4Driver(swing_v=2.0, rise_time_s=8e-12))
    laser: DfbLaser = dataclasses.field(default_factory=DfbLaser)
    modulator: Modulator = dataclasses.field(default_factory=MachZehnderModulator)
    lasers_shared_by: int = 1
    splitter_excess_loss_db: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.driver, Pam4Driver):
            raise InvalidType(f"driver must be a Pam4Driver, got {type(self.driver).__name__}")
        if not isinstance(self.laser, DfbLaser):
            raise InvalidType(f"laser must be a DfbLaser, got {type(self.laser).__name__}")
        if not isinstance(self.modulator, (MachZehnderModulator, MicroringModulator, IdealIntensityModulator)):
            raise InvalidType(f"modulator must be a modulator model, got {type(self.modulator).__name__}")
        validate.integer("lasers_shared_by", self.lasers_shared_by, 1, 16)
        validate.in_range("splitter_excess_loss_db", self.splitter_excess_loss_db, 0.0, 20.0, unit="dB")

    @property
    def split_loss_db(self) -> float:
        """Loss from the laser to this lane's modulator in dB (``10·log10 N`` + excess, 0 if N = 1)."""
        n = self.lasers_shared_by
        return 0.0 if n == 1 else 10.0 * math.log10(n) + self.splitter_excess_loss_db

    def drive(self, symbols: np.ndarray, symbol_rate_baud: float, samples_per_symbol: int) -> tuple[np.ndarray, Waveform]:
        """Drive voltage after the driver and the modulator's EO response, and the driver waveform.

        With no jitter and no driver noise the driver's staircase (levels and FFE from
        :meth:`Pam4Driver.symbol_voltages`) is filtered by the driver's Gaussian and the
        modulator's EO response in one FFT pass; otherwise :meth:`Pam4Driver.drive` is used and
        then filtered.  Both give the same samples (tests/models/test_link.py).
        """
        drv = self.driver
        sps = samples_per_symbol
        fs = symbol_rate_baud * sps
        n_sym = symbols.size
        n = n_sym * sps
        check_modulator_sampling(self.modulator, fs)
        f = sfft.rfftfreq(n, 1.0 / fs)
        h = self.modulator.eo_response(f)
        if drv.rise_time_s > 0.0:
            h = h * gaussian_response(f, drv.bandwidth_hz)
        if drv.rj_rms_s > 0.0 or drv.noise_rms_v > 0.0:
            raise InvalidParameter(
                "driver jitter/noise needs an rng: simulate_lane calls Pam4Driver.drive(..., rng=rng) for it"
            )
        spec = sfft.rfft(np.repeat(drv.symbol_voltages(symbols), sps))
        spec *= h
        v = sfft.irfft(spec, n, overwrite_x=True)
        if drv.offset_v != 0.0:
            v += drv.offset_v
        wf = Waveform(
            samples=v,
            sample_rate_hz=fs,
            quantity=Quantity.VOLTAGE,
            symbol_rate_baud=symbol_rate_baud,
            pattern=symbols,
            meta={"source": "model", "model": "Pam4Driver+EO"},
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
    """

    pattern: str = "SSPRQ"
    n_symbols: int | None = None
    samples_per_symbol: int = 32
    temperature_c: float = 25.0
    rx_power_dbm: float | None = None
    compute_tdecq: bool = True
    count_errors: bool = True

    def __post_init__(self) -> None:
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
            res = tdecq(tx_wf)
        except InvalidWaveform as exc:
            out.update(tdecq_db=None, ceq_db=None, tx_error=str(exc))
        else:
            out["tdecq_db"] = float(res.tdecq_db)
            out["ceq_db"] = float(res.ceq_db)
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
    filtered by the modulator's EO response.  A driver with jitter or noise uses
    :meth:`Pam4Driver.drive` with ``rng``.
    """
    mod = tx.modulator
    fs = symbol_rate_baud * samples_per_symbol
    if tx.driver.rj_rms_s > 0.0 or tx.driver.noise_rms_v > 0.0:
        drive_wf = tx.driver.drive(symbols, symbol_rate_baud=symbol_rate_baud, samples_per_symbol=samples_per_symbol, rng=rng)
        check_modulator_sampling(mod, fs)
        f = sfft.rfftfreq(drive_wf.n_samples, 1.0 / fs)
        v = sfft.irfft(sfft.rfft(drive_wf.samples) * mod.eo_response(f), drive_wf.n_samples)
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
    key = (tx.driver, mod, symbol_rate_baud, sps, id(sym))
    cached = None if cache is None else cache.get(key)
    if cached is None:
        cached = transmitter_transfer(tx, sym, symbol_rate_baud, sps, rng)
        if cache is not None and tx.driver.rj_rms_s == 0.0 and tx.driver.noise_rms_v == 0.0:
            cache[key] = cached
    transfer, drive_wf = cached
    light = tx.laser.emit(transfer.size, fs, temperature_c=t_chip, rng=rng)
    gain = 10.0 ** (-tx.split_loss_db / 20.0)
    pkey = ("period", id(sym))
    period = None if cache is None else cache.get(pkey)
    if period is None:
        period = _period_fast(sym)
        if cache is not None:
            cache[pkey] = period
    tx_light = dataclasses.replace(
        light,
        field=light.field * (transfer * gain if gain != 1.0 else transfer),
        symbol_rate_baud=symbol_rate_baud,
        pattern=period,
        meta={**light.meta, "modulator": type(mod).__name__, "drive": dict(drive_wf.meta)},
    )
    tx_wf = tx_light.to_waveform(source="model", lane=lane.name, chip_temperature_c=t_chip)
    rx_light = lane.channel.propagate(tx_light, rng=rng)
    p_rx = rx_light.average_power_w
    if settings.rx_power_dbm is not None:
        scale = dbm_to_w(settings.rx_power_dbm) / p_rx
        rx_light = rx_light.with_field(rx_light.field * math.sqrt(scale))
        p_rx = rx_light.average_power_w
    rx_wf = lane.receiver.detect(rx_light, rng=rng, temperature_c=t_chip)
    m: dict[str, Any] = {
        "wavelength_m": light.wavelength_m,
        "laser_power_w": tx.laser.output_power_w(t_chip),
        "heater_power_w": heater_w,
        "receive_power_dbm": w_to_dbm(p_rx),
        "chip_temperature_c": t_chip,
    }
    if rx_ffe_taps > 0:
        taps, n_pre, _ = adapt_ffe_taps(rx_wf.samples, sym, sps, rx_ffe_taps)
        rx_wf = rx_wf.with_samples(apply_ffe_taps(rx_wf.samples, taps, n_pre, sps))
        rx_wf = rx_wf.with_meta(rx_ffe_taps=[float(c) for c in taps], rx_ffe_precursors=n_pre)
        m["rx_ffe_taps"] = [float(c) for c in taps]
    if metrics:
        m.update(tx_metrics(tx_wf, compute_tdecq=settings.compute_tdecq))
        m.update(rx_metrics(rx_wf, count_errors=settings.count_errors))
    return LaneResult(lane.name, tx_wf, rx_wf, MappingProxyType(m))


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
    if not isinstance(module, LinkModule):
        raise InvalidType(f"module must be a LinkModule, got {type(module).__name__}")
    ss = np.random.SeedSequence(seed)
    children = ss.spawn(module.n_lanes)
    sym = settings.symbols() if cache is None else cache.setdefault(("symbols", settings.pattern, settings.n_symbols), settings.symbols())
    cache = {} if cache is None else cache
    t_chip = settings.temperature_c + module.chip_temperature_rise_k
    lanes: list[LaneResult] = []
    heaters: list[float] = []
    ok = True
    for lane, child in zip(module.lanes, children):
        rng = np.random.default_rng(child)
        try:
            res = simulate_lane(
                lane,
                symbol_rate_baud=module.symbol_rate_baud,
                settings=settings,
                rng=rng,
                chip_temperature_c=t_chip,
                symbols=sym,
                metrics=metrics,
                rx_ffe_taps=module.rx_ffe_taps,
                cache=cache,
            )
        except InvalidParameter as exc:
            if fail_fast:
                raise
            ok = False
            lanes.append(LaneResult(lane.name, None, None, MappingProxyType(_failed_metrics(lane, t_chip, str(exc)))))
            continue
        seed_meta = {"seed": seed, "seed_spawn_key": list(child.spawn_key), "settings": dataclasses.asdict(settings)}
        keep = keep_waveforms
        res = LaneResult(
            res.name,
            res.tx_waveform.with_meta(**seed_meta) if keep and res.tx_waveform is not None else None,
            res.rx_waveform.with_meta(**seed_meta) if keep and res.rx_waveform is not None else None,
            MappingProxyType({**res.metrics, "link_failed": False}),
        )
        heaters.append(float(res.metrics["heater_power_w"]))
        lanes.append(res)
    heater_mean = float(np.mean(heaters)) if heaters else 0.0
    pw = module_power_at(module, t_chip, heater_mean)
    total = float(pw.total_w) if pw is not None else None
    epb = float(pw.energy_pj_per_bit) if pw is not None else None
    return ModuleResult(module.name, float(settings.temperature_c), tuple(lanes), pw, total, epb, ok)


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
    "Lane",
    "LaneResult",
    "LinkModule",
    "ModuleResult",
    "OpticalField",
    "SimulationSettings",
    "Transmitter",
    "dbm_to_w",
    "module_power_at",
    "rx_metrics",
    "simulate",
    "simulate_lane",
    "tx_metrics",
    "w_to_dbm",
]
