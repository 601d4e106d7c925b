"""Lane and module descriptions of the link model: transmitter, lane, module, settings, results.

A :class:`Lane` is a :class:`Transmitter` (PAM4 driver, CW laser, modulator; optionally a
host channel from a Touchstone file and level pre-distortion, as in a linear pluggable (LPO)
lane), a :class:`~models.fiber.Channel` and a :class:`~models.receiver.Receiver`.  A
:class:`LinkModule` is N lanes on their wavelength grid plus a power model
(:mod:`models.power`); :class:`SimulationSettings` says what to send, and
:class:`LaneResult`/:class:`ModuleResult` hold what :func:`models.simulation.simulate`
returns.  Public through :mod:`models.link`.

Temperatures: the case temperature ``T_case`` is an input; lasers, rings and photodiodes sit
at the die temperature ``T_chip = T_case + R_chip * P_die(T_chip)`` solved from the heat on
the die (:func:`models.thermal.chip_temperature_c`), or at ``T_case + chip_temperature_rise_k``
when a module fixes its rise (the reference notes quote "the laser sees about −5…95 °C" for
a 0–70 °C case).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.fft as sfft

from models import power as power_model
from models import response
from models.crosstalk import ModuleCrosstalk
from models.electrical import Pam4Driver, TouchstoneChannel, gaussian_response, jittered_staircase, predistortion_levels
from models.fiber import Channel
from models.laser import DfbLaser
from models.modulator import IdealIntensityModulator, MachZehnderModulator, MicroringModulator, is_single_precision
from models.receiver import Receiver
from optics import validate
from optics.errors import InvalidParameter, InvalidType
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


#: Drive-chain responses (EO × driver Gaussian) of the last few grids, shared by the lanes.
_DRIVE_RESPONSES: dict[tuple[Any, ...], np.ndarray] = {}


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

    def drive(
        self, symbols: np.ndarray, symbol_rate_baud: float, samples_per_symbol: int, *, precision: str = "double",
        jitter_rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, Waveform]:
        """Drive voltage after the driver, the host channel and the EO response, and that drive
        as a waveform: :meth:`drive_voltage` and a :class:`optics.Waveform` of it (float64)."""
        v, meta = self.drive_voltage(symbols, symbol_rate_baud, samples_per_symbol, precision=precision,
                                     jitter_rng=jitter_rng)
        wf = Waveform(
            samples=v,
            sample_rate_hz=symbol_rate_baud * samples_per_symbol,
            quantity=Quantity.VOLTAGE,
            symbol_rate_baud=symbol_rate_baud,
            pattern=symbols,
            meta=meta,
        )
        return v, wf

    def drive_voltage(
        self, symbols: np.ndarray, symbol_rate_baud: float, samples_per_symbol: int, *, precision: str = "double",
        jitter_rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Drive voltage after the driver, the host channel and the modulator's EO response,
        and the meta :meth:`drive` gives its waveform.

        With no driver noise the driver's staircase (levels and FFE from
        :meth:`Pam4Driver.symbol_voltages`) is filtered by the host channel (if any), the
        driver's Gaussian and the modulator's EO response in one FFT pass (the responses kept
        for the next lane or temperature).  Without jitter the staircase's spectrum comes from
        the symbols' DFT; with jitter the edges are moved by
        :meth:`Pam4Driver.edge_shifts_samples` (random part drawn from ``jitter_rng``) in
        :func:`models.electrical.jittered_staircase` and the staircase transformed: the same
        samples as :meth:`Pam4Driver.drive` filtered afterwards (tests/models/test_jitter.py).
        Driver noise is :meth:`Pam4Driver.drive`'s (see :func:`models.lane_simulation.transmitter_transfer`).
        ``precision="single"`` filters in float32 without a host channel (the drive then moves
        by ~1e-7 of its swing; see :class:`SimulationSettings`); the returned voltage is float32
        then.
        """
        drv = self._effective_driver
        sps = samples_per_symbol
        fs = symbol_rate_baud * sps
        n_sym = symbols.size
        n = n_sym * sps
        check_modulator_sampling(self.modulator, fs)
        if drv.noise_rms_v > 0.0:
            raise InvalidParameter(
                "driver noise needs an rng: simulate_lane calls Pam4Driver.drive(..., rng=rng) for it"
            )
        single = is_single_precision(precision) and self.host_channel is None
        levels_v = drv.symbol_voltages(symbols)
        jittered = drv.has_jitter
        if jittered:
            staircase = jittered_staircase(levels_v, sps, drv.edge_shifts_samples(n_sym, symbol_rate_baud, sps, jitter_rng))
        if self.host_channel is None and jittered:
            # the EO and Gaussian responses without the hold (the staircase is transformed whole)
            key = (self.modulator, drv.bandwidth_hz if drv.rise_time_s > 0.0 else None, n, fs, single, "no hold")
            h = _DRIVE_RESPONSES.get(key)
            if h is None:
                f = response.real_spectrum_freqs(n, fs)
                h = self.modulator.eo_response(f)
                if drv.rise_time_s > 0.0:
                    h = h * gaussian_response(f, drv.bandwidth_hz)
                h = np.asarray(h, dtype=np.complex64 if single else np.complex128)
                h.setflags(write=False)
                if len(_DRIVE_RESPONSES) >= 4:
                    _DRIVE_RESPONSES.pop(next(iter(_DRIVE_RESPONSES)))
                _DRIVE_RESPONSES[key] = h
            spec = response.real_spectrum(staircase.astype(np.float32) if single else staircase)
            spec = spec.astype(np.complex64 if single else np.complex128, copy=False)
            spec *= h
            v = response.real_inverse(spec, n)
        elif self.host_channel is None:
            # modulator EO, driver Gaussian and the staircase's hold response on the grid of
            # response.real_spectrum (the four-step layout for long records), kept for the next
            # lane or temperature; the staircase's spectrum comes from the symbols' DFT
            # (response.staircase_grid: exact, an n_sym-point transform instead of an n-point one)
            # keyed by the EO response's parameters only: a bias change (MZM drift) reuses it
            key = (self.modulator.eo_key, drv.bandwidth_hz if drv.rise_time_s > 0.0 else None, n_sym, sps, fs, single)
            h = _DRIVE_RESPONSES.get(key)
            index, hold = response.staircase_grid(n_sym, sps)
            if h is None:
                f = response.real_spectrum_freqs(n, fs)
                h = self.modulator.eo_response(f) * hold
                if drv.rise_time_s > 0.0:
                    h *= gaussian_response(f, drv.bandwidth_hz)
                if single:
                    h = h.astype(np.complex64)
                h.setflags(write=False)
                if len(_DRIVE_RESPONSES) >= 4:
                    _DRIVE_RESPONSES.pop(next(iter(_DRIVE_RESPONSES)))
                _DRIVE_RESPONSES[key] = h
            spec = sfft.fft(levels_v).astype(np.complex64 if single else np.complex128)[index]
            spec *= h
            v = response.real_inverse(spec, n)
        else:
            if not jittered:
                staircase = np.repeat(levels_v, sps)
            f = sfft.rfftfreq(n, 1.0 / fs)
            h = self.modulator.eo_response(f)
            if drv.rise_time_s > 0.0:
                h = h * gaussian_response(f, drv.bandwidth_hz)
            h = h * host_channel_response(self.host_channel, f)
            if n % 2 == 0:
                h[-1] = h[-1].real  # the Nyquist bin of a real signal is real
            spec = sfft.rfft(staircase)
            spec *= h
            v = sfft.irfft(spec, n, overwrite_x=True)
        if drv.offset_v != 0.0:
            v += drv.offset_v
        meta: dict[str, Any] = {"source": "model", "model": "Pam4Driver+EO"}
        if self.host_channel is not None:
            meta.update(model="Pam4Driver+host channel+EO", host_channel=self.host_channel.name)
        if self.level_predistortion is not None:
            meta["level_predistortion"] = list(drv.levels)
        return v, meta


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
    crosstalk : models.crosstalk.ModuleCrosstalk or None
        Optical, electrical and heater crosstalk between the lanes, applied by
        :func:`models.simulation.simulate_many` after the lanes are simulated (default None: none).
    power_params : models.power.ModulePowerParams or str
        Power model parameters or an architecture name (default ``"dsp"``).
    chip_temperature_rise_k : float or None
        Fixed chip temperature above the case in K, 0...60: an explicit override (the previous
        fixed-rise model).  Default None: the rise is solved from the heat on the die
        (:func:`models.thermal.chip_temperature_c`).  It takes precedence over
        ``chip_thermal_resistance_k_per_w``.
    chip_thermal_resistance_k_per_w : float or None
        Die-to-case thermal resistance in K/W, 0...500 (default None: the power
        architecture's, :data:`models.power.CHIP_THERMAL`).
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
    crosstalk: ModuleCrosstalk | None = None
    power_params: Any = "dsp"
    chip_temperature_rise_k: float | None = None
    rx_ffe_taps: int = 0
    chip_thermal_resistance_k_per_w: float | None = None

    def __post_init__(self) -> None:
        validate.integer("rx_ffe_taps", self.rx_ffe_taps, 0, 41)
        lanes = tuple(self.lanes)
        if not lanes or not all(isinstance(x, Lane) for x in lanes):
            raise InvalidParameter("lanes must be a non-empty sequence of Lane")
        object.__setattr__(self, "lanes", lanes)
        if self.crosstalk is not None and not isinstance(self.crosstalk, ModuleCrosstalk):
            raise InvalidType(f"crosstalk must be a models.crosstalk.ModuleCrosstalk or None, got {type(self.crosstalk).__name__}")
        validate.in_range("symbol_rate_baud", self.symbol_rate_baud, 1e6, 1e12, unit="Bd")
        validate.positive("payload_rate_bps", self.payload_rate_bps, "b/s")
        if self.chip_temperature_rise_k is not None:
            validate.in_range("chip_temperature_rise_k", self.chip_temperature_rise_k, 0.0, 60.0, unit="K")
        if self.chip_thermal_resistance_k_per_w is not None:
            validate.in_range("chip_thermal_resistance_k_per_w", self.chip_thermal_resistance_k_per_w, 0.0, 500.0,
                              unit="K/W")
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
    tdecq_method : optics.phy.method.TdecqMethod or None
        The transmitter-test method TDECQ is measured with (a PHY's ``tdecq_method``:
        ``optics simulate --phy NAME`` passes it); None (default): the clause 121.8.5
        defaults of :func:`optics.tdecq.tdecq`.
    compliance : models.compliance.ComplianceChannel or None
        The compliance fibre TDECQ is measured after (a PHY's
        :func:`models.compliance.compliance_channel`: ``optics simulate --phy NAME`` passes it),
        with ``tecq_db`` measured back-to-back (:func:`models.lane_metrics.tx_metrics`); None
        (default): TDECQ of the back-to-back record.
    count_errors : bool
        Count errors on the received signal (default True).
    precision : str
        Arithmetic of the channel and receiver (fibre field, photocurrent, their FFTs):
        ``"single"`` (default: complex64/float32) or ``"double"``.  Single precision moves the
        received waveform by ~1e-6 of its swing (float32 rounding through 2M-point FFTs), far
        below its noise: counted bit errors identical, estimated BER within 1e-5 relative,
        received power within 1e-5 dB (tests/models/test_link.py; the 1.6TBASE-DR8 preset at
        SSPRQ × 32 samples/UI: 1.1e-6 of the swing, BER estimate 3e-6 relative).  The noise
        draws are the same in both.  The transmitter is double precision but for its drive
        filter (without a host channel), the Mach-Zehnder transfer's cosine and sine and the
        field itself (complex64, the channel's input), which single precision runs in float32
        (2-20x faster): the Tx field moves by ~1e-7 of its peak, its power (``|t|²·a²`` in
        float64, ``a`` the laser amplitude), OMA and TDECQ by < 1e-6 relative
        (tests/models/test_link.py).
    threads : int or None
        Threads one lane may use, 1...64: with 2 or more, its noise (laser RIN, shot and TIA
        noise) is drawn ahead on a background thread while the field is propagated, and the
        FFTs of long records are split over ``threads`` (:mod:`models.draws_ahead`,
        :mod:`models.fft_layout`).  None (default): every core for a lane simulated in this
        process, 1 for lanes in :func:`models.link.simulate`'s worker processes (the lanes
        then share the cores).  The results do not depend on it, bit for bit.
    """

    pattern: str = "SSPRQ"
    n_symbols: int | None = None
    samples_per_symbol: int = 32
    temperature_c: float = 25.0
    rx_power_dbm: float | None = None
    compute_tdecq: bool = True
    tdecq_method: Any = None
    compliance: Any = None
    count_errors: bool = True
    precision: str = "single"
    threads: int | None = None

    def __post_init__(self) -> None:
        is_single_precision(self.precision)
        if not isinstance(self.pattern, str):
            raise InvalidType(f"pattern must be a pattern name, got {type(self.pattern).__name__}")
        if self.threads is not None:
            validate.integer("threads", self.threads, 1, 64)
        if self.n_symbols is not None:
            validate.integer("n_symbols", self.n_symbols, 256, 1 << 24)
        validate.integer("samples_per_symbol", self.samples_per_symbol, 4, 256)
        validate.in_range("temperature_c", self.temperature_c, -60.0, 150.0, unit="°C")
        if self.rx_power_dbm is not None:
            validate.in_range("rx_power_dbm", self.rx_power_dbm, -40.0, 20.0, unit="dBm")
        for name in ("compute_tdecq", "count_errors"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidType(f"{name} must be True or False")
        if self.tdecq_method is not None:
            from optics.phy.method import TdecqMethod

            if not isinstance(self.tdecq_method, TdecqMethod):
                raise InvalidType(f"tdecq_method must be an optics.phy.method.TdecqMethod or None, got "
                                  f"{type(self.tdecq_method).__name__}")
        if self.compliance is not None:
            from models.compliance import ComplianceChannel

            if not isinstance(self.compliance, ComplianceChannel):
                raise InvalidType(f"compliance must be a models.compliance.ComplianceChannel or None, got "
                                  f"{type(self.compliance).__name__}")

    def lane_threads(self) -> int:
        """Threads for one lane: :attr:`threads`, or by default the cores of this machine."""
        import os

        return self.threads if self.threads is not None else max(1, min(64, os.cpu_count() or 1))

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
