"""What the station needs from a bench, and how the virtual bench provides it.

The runner talks to a :class:`StationBench`: the drivers of the bench file (scope, power
meter, attenuator, BERT, thermal forcer) plus two things the bench file does not describe:

* **lane selection** -- an 800G DR8 module has eight transmit and eight receive fibres
  (MPO-16).  A production station routes one lane at a time to its single set of
  instruments through a 1xN optical switch on each direction (fan-out cable -> switch ->
  tap to the scope and the VOA/power meter; BERT + reference transmitter -> VOA -> switch
  -> the lane's receiver).  :class:`LaneSwitch` is that interface (``select(lane)``);
  :class:`VirtualLaneSwitch` implements it on the virtual bench;
* **the module's management interface** (CMIS over I2C) -- to read the serial number the
  module reports and its monitors.  On the virtual bench :class:`SimulatedCmisBus`
  serves a CMIS memory map built from the :class:`~optics.station.dut.SimulatedModule`.

The virtual bench's :class:`~instruments.virtual.physics.BenchLink` models one transmitter
and one receiver.  :class:`ModuleLink` extends it to a multi-lane module under test: the
switch position picks which lane's transmitter (:class:`~optics.station.dut.LaneTransmitter`)
and receiver the instruments see, and :meth:`ModuleLink.insert` swaps the module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from types import MappingProxyType
from typing import Any, Protocol

from instruments.cmis import CmisModule, SimulatedBus
from instruments.virtual.physics import BenchLink, BenchParams, ReceiverParams
from optics.errors import ConfigError, InvalidParameter
from optics.station.dut import LaneTransmitter, SimulatedModule, nominal_module


class LaneSwitch(Protocol):
    """Routes lane ``k`` (0-based) of the module to the station's instruments."""

    identity: str

    def select(self, lane: int) -> None:
        """Route lane ``lane`` to the instruments (blocks until settled)."""

    def shutdown(self) -> None:
        """Safe state (no lane routed)."""


class ModuleLink(BenchLink):
    """A :class:`BenchLink` whose transmitter and receiver are one lane of a module.

    Parameters
    ----------
    params : BenchParams, optional
        Bench physics (thermal, paths, time scale); the transmitter and receiver
        parameter sets are replaced by the selected lane's.
    module : SimulatedModule, optional
        The module inserted at start (default: a nominal 8-lane module "SIM0001").

    Examples
    --------
    >>> from optics.station.dut import nominal_module
    >>> link = ModuleLink(module=nominal_module("SN1", n_lanes=2))
    >>> link.select_lane(1); link.lane
    1
    """

    def __init__(self, params: BenchParams | None = None, *, module: SimulatedModule | None = None) -> None:
        super().__init__(params)
        self._listeners: list[Callable[[], None]] = []
        self.module: SimulatedModule = module or nominal_module("SIM0001")
        self.lane: int | None = None
        self._txs: list[LaneTransmitter] = []
        self.insert(self.module)

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever the lane or the module changes (cache invalidation).

        Returns a function that removes the callback again.
        """
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def insert(self, module: SimulatedModule) -> None:
        """Put ``module`` in the test socket (lane 0 selected)."""
        p = self.params.transmitter
        with self._lock:
            self.module = module
            self._txs = [LaneTransmitter(ln, symbol_rate_baud=p.symbol_rate_baud, pattern_name=p.pattern_name,
                                         samples_per_symbol=p.samples_per_symbol) for ln in module.lanes]
            self.lane = None
        self.select_lane(0)

    def select_lane(self, lane: int) -> None:
        """Switch the instruments to lane ``lane`` of the inserted module."""
        if not isinstance(lane, int) or not 0 <= lane < len(self._txs):
            raise InvalidParameter(f"lane = {lane!r} not in 0..{len(self._txs) - 1} of module {self.module.serial}")
        with self._lock:
            if lane == self.lane:
                return
            ln = self.module.lanes[lane]
            self.transmitter = self._txs[lane]
            self.params = dataclasses.replace(
                self.params,
                receiver=ReceiverParams(responsivity_a_per_w=ln.rx_responsivity_a_per_w,
                                        noise_current_a_rms=ln.rx_noise_current_a_rms,
                                        los_threshold_dbm=self.params.receiver.los_threshold_dbm))
            self.lane = lane
            self._waveforms.clear()
        for cb in self._listeners:
            cb()


class VirtualLaneSwitch:
    """The lane switch of the virtual bench: moves the :class:`ModuleLink` to a lane."""

    identity = "OPTICS-SIM,1x8 optical switch (virtual),0,1"

    def __init__(self, link: Any) -> None:
        self.link = link
        self.position: int | None = None

    def select(self, lane: int) -> None:
        """Route lane ``lane``."""
        self.link.select_lane(lane)
        self.position = lane

    def shutdown(self) -> None:
        """Nothing to make safe on a passive switch."""
        self.position = None


class ManualLaneSwitch:
    """Lane selection by the operator (benches without an optical switch).

    ``select(k)`` asks the operator to connect lane ``k``'s fibres and waits for Enter.

    Parameters
    ----------
    ask : callable
        ``ask(prompt) -> str`` (default :func:`input`).
    """

    identity = "operator,manual lane selection,0,0"

    def __init__(self, ask: Callable[[str], str] = input) -> None:
        self.ask = ask
        self.position: int | None = None

    def select(self, lane: int) -> None:
        """Ask for lane ``lane`` (nothing asked if it is already connected)."""
        if lane != self.position:
            self.ask(f"connect lane {lane} (fibres {lane + 1} Tx/Rx of the fan-out) and press Enter: ")
            self.position = lane

    def shutdown(self) -> None:
        """Nothing to make safe."""
        self.position = None


class SimulatedCmisBus(SimulatedBus):
    """A CMIS memory map that follows the virtual bench's module and temperature.

    Identity (page 00h) comes from the inserted :class:`SimulatedModule`; temperature
    (lower 14-15), Vcc (16-17) and the lane monitors (page 11h) are refreshed from the
    :class:`ModuleLink` on every read.  ``fault = "nak"`` makes the module silent.
    """

    def __init__(self, link: Any) -> None:
        super().__init__()
        self.link = link
        self.poke(None, 3, bytes([3 << 1]))            # ModuleReady
        self._identity_of: str | None = None

    def _ascii(self, page: int, offset: int, text: str, length: int) -> None:
        self.poke(page, offset, text.encode("ascii", "replace")[:length].ljust(length, b" "))

    def _refresh(self) -> None:
        mod = self.link.module
        if self._identity_of != mod.serial:
            self._ascii(0, 129, mod.vendor_name, 16)
            self._ascii(0, 148, mod.part_number, 16)
            self._ascii(0, 164, "A1", 2)
            self._ascii(0, 166, mod.serial, 16)
            self._ascii(0, 182, "261123  ", 8)
            self._identity_of = mod.serial
        t = self.link.module_temperature_c
        self.poke(None, 14, int(round(t * 256)).to_bytes(2, "big", signed=True))
        self.poke(None, 16, int(round(3.3 / 100e-6)).to_bytes(2, "big"))
        raw = bytearray(48)
        for k, ln in enumerate(mod.lanes[:8]):
            p_w = 1e-3 * 10.0 ** (ln.average_power_dbm_at(t) / 10.0)
            raw[2 * k:2 * k + 2] = min(65535, int(p_w / 0.1e-6)).to_bytes(2, "big")
            raw[16 + 2 * k:18 + 2 * k] = int(40e-3 / 2e-6).to_bytes(2, "big")
        self.poke(0x11, 154, bytes(raw))
        self.poke(0x11, 128, bytes([0x44] * 4))        # DPActivated

    def read(self, address: int, offset: int, length: int) -> bytes:
        self._check(address)
        self._refresh()
        return super().read(address, offset, length)


@dataclasses.dataclass
class StationBench:
    """The connected instruments a station run uses (drivers, not resources).

    Attributes
    ----------
    instruments : dict
        Bench name (``scope``, ``power_meter``, ``attenuator``, ``bert``, ``thermal``) ->
        driver object.
    lane_switch : LaneSwitch or None
        Routes a lane to the instruments (None: single-lane bench; only lane 0 exists).
    module : CmisModule or None
        The module's management interface, if the bench can reach it.
    identities : dict
        Name -> ``*IDN?`` reply (filled by :meth:`identify`).
    ambient_c : float
        Where the thermal head is sent when the run ends.
    link : object
        The virtual bench's physics (None on a real bench).
    """

    instruments: dict[str, Any]
    lane_switch: LaneSwitch | None = None
    module: Any = None
    identities: dict[str, str] = dataclasses.field(default_factory=dict)
    ambient_c: float = 25.0
    link: Any = None
    virtual: Any = None
    connector: Callable[[str], Any] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Instrument names on this bench (``module`` when a CMIS interface exists)."""
        return tuple(self.instruments) + (("module",) if self.module is not None else ())

    def get(self, name: str) -> Any:
        """The driver called ``name`` (ConfigError if absent)."""
        try:
            return self.instruments[name]
        except KeyError:
            raise ConfigError(f"the bench has no {name!r}; it has {', '.join(self.instruments) or 'nothing'}") from None

    def reconnect(self, name: str) -> Any:
        """Give instrument ``name`` a fresh session (after a timeout or a dropped connection).

        Uses the driver's own ``reconnect()`` (same driver object; it checks that the same
        instrument answers) when it has one, else closes the driver and opens a new one.
        Returns the driver.
        """
        inst = self.instruments.get(name)
        if inst is None:
            return None
        if hasattr(inst, "reconnect"):
            inst.reconnect()
            set_tcp_nodelay(inst)
            return inst
        if self.connector is not None:
            _quiet_close(inst)
            self.instruments[name] = self.connector(name)
        return self.instruments[name]

    def identify(self) -> dict[str, str]:
        """Ask every instrument ``*IDN?`` once; failures are recorded, not raised."""
        for name, inst in self.instruments.items():
            if name in self.identities:
                continue
            try:
                self.identities[name] = inst.idn.raw
            except Exception as exc:  # an instrument that does not answer is reported in the record
                self.identities[name] = f"<no identity: {type(exc).__name__}: {exc}>"
        if self.lane_switch is not None:
            self.identities.setdefault("lane_switch", self.lane_switch.identity)
        return dict(self.identities)


#: Instruments a station uses (others on the bench are left alone).
STATION_INSTRUMENTS = ("scope", "power_meter", "attenuator", "bert", "thermal")
#: Fast status polling for the station (the drivers default to 0.2 s).
POLL_INTERVAL_S = 0.005


def _connect(vb: Any, name: str, timeout_s: float | None) -> Any:
    kwargs = {} if timeout_s is None else {"timeout_s": timeout_s}
    inst = vb.connect(name, **kwargs)
    if hasattr(inst, "poll_interval_s"):
        inst.poll_interval_s = min(inst.poll_interval_s, POLL_INTERVAL_S)
    set_tcp_nodelay(inst)
    return inst


def set_tcp_nodelay(inst: Any) -> bool:
    """Switch off Nagle's algorithm on a driver's raw-socket VISA session.

    A setting followed by ``:SYST:ERR?`` is two small writes; with Nagle on, the second
    waits for the delayed ACK of the first (~40 ms on Linux), which made every checked
    setting cost ~45 ms.  pyvisa-py does not set TCP_NODELAY on ``::SOCKET`` sessions and
    its attribute setter for it is not wired, so the socket is reached directly.  Returns
    True if the option was set (False for other transports: nothing is changed).
    """
    import socket as _socket

    try:
        res = inst.adapter._session
        sock = res.visalib.sessions[res.session].interface
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        return True
    except Exception:  # not a pyvisa-py socket session: leave it as it is
        return False


@contextmanager
def open_bench(bench: Any = None, *, module: SimulatedModule | None = None, needed: tuple[str, ...] = STATION_INSTRUMENTS,
               timeout_s: float | None = None, link: Any = None,
               manual_lanes: bool = False) -> Iterator[StationBench]:
    """Open a bench for a station run: start its virtual part and connect the drivers.

    Parameters
    ----------
    bench : BenchConfig, path or None
        Bench file (None: the built-in all-virtual bench).  Instruments with
        ``resource = "virtual"`` are served by the virtual bench, whose physics is a
        :class:`ModuleLink` holding ``module``.
    module : SimulatedModule, optional
        The simulated module in the virtual socket (default: a nominal one).
    needed : tuple of str
        Instruments to connect (those the plan needs; others are not opened).
    timeout_s : float, optional
        I/O timeout of every driver (default: the driver's).
    link : ModuleLink, optional
        Reuse an existing physics model (the demo swaps modules in one bench).
    manual_lanes : bool
        On a bench without a virtual scope: the operator selects lanes
        (:class:`ManualLaneSwitch`) instead of an optical switch.

    Yields
    ------
    StationBench
        With a :class:`VirtualLaneSwitch` and a simulated CMIS module when the scope is
        virtual; on an all-real bench ``lane_switch`` and ``module`` are None.
    """
    from instruments.bench import BenchConfig, VirtualBench, load_bench_config

    config = bench if isinstance(bench, BenchConfig) else load_bench_config(bench)
    with ExitStack() as stack:
        if link is None:
            link = ModuleLink(config.physics, module=module)
        elif module is not None:
            link.insert(module)
        # serve (and connect) only what the station uses: other virtual instruments stay off
        served = dataclasses.replace(config, instruments=MappingProxyType(
            {n: c for n, c in config.instruments.items() if n in needed}))
        vb = stack.enter_context(VirtualBench(served, link=link))
        instruments: dict[str, Any] = {}
        for name in needed:
            if name not in config.instruments:
                continue
            instruments[name] = _connect(vb, name, timeout_s)
        st = StationBench(instruments=instruments, ambient_c=config.physics.thermal.ambient_c,
                          connector=lambda name: _connect(vb, name, timeout_s))
        stack.callback(lambda: [_quiet_close(i) for i in st.instruments.values()])
        scope_cfg = config.instruments.get("scope")
        if scope_cfg is not None and scope_cfg.is_virtual:
            st.link = link
            st.virtual = vb
            st.lane_switch = VirtualLaneSwitch(link)
            st.module = CmisModule(SimulatedCmisBus(link), n_lanes=min(8, link.module.n_lanes))
        elif manual_lanes:
            st.lane_switch = ManualLaneSwitch()
        yield st


def _quiet_close(inst: Any) -> None:
    try:
        inst.close()
    except Exception:  # closing a dead connection must not hide the run's own error
        pass


def describe(st: StationBench) -> Mapping[str, Any]:
    """Bench identities and, on the virtual bench, the module model (for the run record)."""
    out: dict[str, Any] = dict(st.identities)
    if st.link is not None:
        out["virtual_module"] = {"serial": st.link.module.serial, "note": st.link.module.note}
    return out


__all__ = ["LaneSwitch", "ManualLaneSwitch", "ModuleLink", "POLL_INTERVAL_S", "STATION_INSTRUMENTS", "SimulatedCmisBus",
           "StationBench", "VirtualLaneSwitch", "describe", "open_bench"]
