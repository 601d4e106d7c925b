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
* The BER is the routed lane's model receiver's (:func:`models.receiver.pam4_ber`) at the
  received OMA and average power and the lane's chip temperature.

The transmitter sits behind a small interface, :class:`Transmitter` (``symbol_rate_baud``,
``waveform``, ``average_power_w``, ``oma_outer_w``, ``wavelength_m``, temperatures in °C):
:class:`SimpleTransmitter` is the documented stand-in (pattern from :mod:`optics.patterns`,
four equally spaced levels, a 4th-order Bessel-Thomson bandwidth, additive Gaussian noise
from a seeded generator); :class:`~instruments.virtual.model_transmitter.ModelTransmitter`
puts a lane of :mod:`models.link` behind the same interface (``BenchParams.model_preset``).

The parameter sets live in :mod:`instruments.virtual.bench_params`, the transmitter in
:mod:`instruments.virtual.transmitter`, the receiver's BER in :mod:`instruments.virtual.receiver`
and the device under test in :mod:`instruments.virtual.dut`; this module re-exports them.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import OrderedDict

import numpy as np

from instruments.virtual.bench_params import (
    SCOPE_POSITIONS,
    BenchParams,
    PathParams,
    ReceiverParams,
    ScopeParams,
    ThermalParams,
    TransmitterParams,
    dbm_to_w,
    w_to_dbm,
)
from instruments.virtual.dut import LANE_SIDES, DutIdentity, DutLane
from instruments.virtual.receiver import ReceivedSignal
from instruments.virtual.transmitter import SimpleTransmitter, Transmitter
from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Waveform

#: Temperatures are quantised to this step (K) when waveforms are cached.
WAVEFORM_TEMPERATURE_STEP_K = 0.25
#: Speed of light in vacuum, m/s.
C_M_PER_S = 299_792_458.0



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
        if isinstance(self.lanes[rx].receiver, ReceiverParams):
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

    def model_module(self):
        """The :class:`models.link.LinkModule` in the socket (lane 0's model transmitter's), or
        None when the bench holds the stand-in :class:`SimpleTransmitter`."""
        module = getattr(self.lanes[0].transmitter, "module", None)
        from models.link import LinkModule

        return module if isinstance(module, LinkModule) else None

    def module_power_w(self) -> float:
        """Electrical power the module draws from its supply at its present temperature, W.

        A module of the link models (a population's or a preset's): the on-module power of
        :func:`models.thermal.static_module_power` at the module (case) temperature -- lasers at
        their APC bias, heaters, electronics at their self-consistent junction temperature and
        the DC-DC converter's losses -- evaluated on a 0.25 K grid.  The stand-in
        :class:`SimpleTransmitter` bench keeps ``ThermalParams.module_power_w`` plus its
        temperature coefficient (it has no power model).
        """
        module = self.model_module()
        t = self.module_temperature_c
        if module is None:
            th = self.params.thermal
            return th.module_power_w + th.module_power_tempco_w_per_k * (t - 25.0)
        from models.thermal import static_module_power

        t_bin = round(t / WAVEFORM_TEMPERATURE_STEP_K) * WAVEFORM_TEMPERATURE_STEP_K
        key = (id(module), t_bin)
        cache = self.__dict__.setdefault("_module_power", {})
        hit = cache.get(key)
        if hit is None or hit[0] is not module:
            pw = static_module_power(module, t_bin)
            hit = (module, 0.0 if pw is None else float(pw.module_w))
            if len(cache) > 256:
                cache.clear()
            cache[key] = hit
        return hit[1]

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
                       attenuation_db: float | None = None, shutter_open: bool | None = None,
                       compliance: bool = False) -> Waveform:
        """What the scope channel records, W.

        The transmitter waveform scaled by :meth:`scope_input_factor` (the scope path, and
        with the scope behind the attenuator the attenuator and splitter; ``attenuation_db``
        and ``shutter_open`` default to the present settings), optionally through the SIRC
        (4th-order Bessel-Thomson at ``sirc_bandwidth_hz``), plus the scope's own Gaussian
        noise of rms ``ScopeParams.noise_rms_w`` (σ_S, band-limited to
        ``ScopeParams.noise_bandwidth_hz``; from
        ``numpy.random.default_rng([noise_seed, temperature bin, input-power bin])``,
        recorded in ``meta["scope_noise_seed"]``), rounded to float32 (the precision of the
        scope's waveform export).  Cached per state.  ``compliance=True``: the record of the
        scope's TDECQ path, the transmitter through the bench's compliance spool
        (``ScopeParams.compliance_dispersion_ps_per_nm``, :func:`models.compliance.through_compliance_fibre`)
        before the rest; the same record as ``compliance=False`` on a bench without a spool.
        """
        from optics.reference_receiver import bessel_thomson

        tx = self.transmitter_waveform(temperature_c)
        t = float(tx.meta.get("temperature_c", self._temperature(temperature_c)))
        spool = self.params.scope.compliance_channel() if compliance else None
        if spool is not None:
            from models.compliance import through_compliance_fibre

            b2b = tx
            tx = self._cached(("spool", t), lambda: through_compliance_fibre(b2b, spool))
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

        return self._cached(("scope", t, sirc_bandwidth_hz, factor, spool is not None), make)

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
        from models.receiver import pam4_ber

        lane = self.lanes[self.rx_lane]
        los = w_to_dbm(p_avg) < self.params.receiver.los_threshold_dbm
        ber = 0.5 if los else pam4_ber(lane.model_receiver(), oma, max(p_avg, 0.5 * oma),
                                       temperature_c=lane.chip_temperature_c(self.module_temperature_c))
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
    "w_to_dbm",
]


# the names this module held before its parts moved to bench_params, transmitter, receiver, dut
__all__ = [
    "C_M_PER_S", "LANE_SIDES", "SCOPE_POSITIONS", "WAVEFORM_TEMPERATURE_STEP_K", "BenchLink", "BenchParams",
    "DutIdentity", "DutLane", "PathParams", "ReceivedSignal", "ReceiverParams", "ScopeParams", "SimpleTransmitter",
    "ThermalParams", "Transmitter", "TransmitterParams", "dbm_to_w", "w_to_dbm",
]
