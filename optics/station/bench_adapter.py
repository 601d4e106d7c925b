"""What the station needs from a bench, and how the virtual bench provides it.

The runner talks to a :class:`StationBench`: the drivers of the bench file (scope, power
meter, attenuator, BERT, thermal forcer) plus

* **lane selection** -- an 800G DR8 module has eight transmit and eight receive fibres
  (MPO-16).  A production station routes one lane at a time to its single set of
  instruments through a 1xN optical switch on each direction (fan-out cable -> switch ->
  tap to the scope and the VOA/power meter; BERT + reference transmitter -> VOA -> switch
  -> the lane's receiver).  :class:`LaneSwitch` is that interface (``select(lane)``); the
  bench's ``switch`` instrument (:class:`instruments.keysight.n773x.OpticalSwitch`, virtual
  or real) provides it, or the operator does (:class:`ManualLaneSwitch`, ``--manual-lanes``);
* **the module's management interface** (CMIS over I2C) -- to read the serial number the
  module reports and its monitors: the bench's ``module`` entry
  (:meth:`instruments.bench.VirtualBench.connect_module`; on the virtual bench a
  :class:`~instruments.virtual.cmis_module.VirtualCmisBus` following the physics).

On the virtual bench the device under test is a :class:`ModuleLink`: the bench physics
(:class:`~instruments.virtual.physics.BenchLink`) holding a
module of the link models (:mod:`optics.station.dut`, :class:`models.population.PopulationModule`) through the link's public multi-lane API
(:meth:`~instruments.virtual.physics.BenchLink.insert_module`,
:meth:`~instruments.virtual.physics.BenchLink.select_lane`).  A bench file whose scope is
virtual but which lists no ``switch`` or ``module`` gets the virtual ones (the simulated
module can only be reached through them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from types import MappingProxyType
from typing import Any, Protocol

from instruments.virtual.cmis_module import VirtualCmisBus
from instruments.virtual.model_transmitter import population_lanes
from instruments.virtual.physics import BenchLink, BenchParams, DutIdentity
from optics.errors import ConfigError
from optics.station.dut import design_module

#: Kept for code written against the station's former simulated bus (same constructor).
SimulatedCmisBus = VirtualCmisBus


class LaneSwitch(Protocol):
    """Routes lane ``k`` (0-based) of the module to the station's instruments."""

    identity: str

    def select(self, lane: int) -> None:
        """Route lane ``lane`` to the instruments (blocks until settled)."""

    def shutdown(self) -> None:
        """Safe state."""


class ModuleLink(BenchLink):
    """The virtual bench's physics with a module of the link models in the test socket.

    A thin adapter: each lane of the :class:`models.population.PopulationModule` becomes a
    :class:`~instruments.virtual.physics.DutLane` (its models transmitter, receiver and laser
    bias, :func:`instruments.virtual.model_transmitter.population_lanes`) given to
    :meth:`BenchLink.insert_module`; lane routing is the link's own
    :meth:`~BenchLink.select_lane` (driven by the virtual optical switch).

    Parameters
    ----------
    params : BenchParams, optional
        Bench physics (thermal, paths, time scale, the pattern and samples per symbol of the
        records in ``params.transmitter``).
    module : models.population.PopulationModule, optional
        The module inserted at start (default: the nominal 800GBASE-DR8 module "SIM0001").

    Examples
    --------
    >>> from optics.station.dut import design_module
    >>> link = ModuleLink(module=design_module("SN1", n_lanes=2))
    >>> link.select_lane(1); link.lane
    1
    """

    def __init__(self, params: BenchParams | None = None, *, module: Any = None) -> None:
        super().__init__(params)
        self.module: Any = module if module is not None else design_module("SIM0001")
        self.insert(self.module)

    def insert(self, module: Any) -> None:
        """Put ``module`` (a :class:`models.population.PopulationModule`) in the test socket (lane 0 selected)."""
        from models.population import PopulationModule

        if not isinstance(module, PopulationModule):
            raise ConfigError(f"the virtual socket takes a models.population.PopulationModule, got "
                              f"{type(module).__name__}")
        p = self.params.transmitter
        lanes = population_lanes(module, pattern_name=p.pattern_name, samples_per_symbol=p.samples_per_symbol)
        self.module = module
        self.insert_module(lanes, identity=DutIdentity(serial=module.serial[:16], vendor_name="OPTICS-SIM",
                                                       part_number=module.module.name[:16]))


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
        ``"lane_switch"`` is the :attr:`lane_switch` (reconnected if its driver can be).
        Returns the driver (None for a name the bench does not have).
        """
        if name == "lane_switch":
            if self.lane_switch is not None and hasattr(self.lane_switch, "reconnect"):
                self.lane_switch.reconnect()
            return self.lane_switch
        inst = self.instruments.get(name)
        if inst is None:
            return None
        if hasattr(inst, "reconnect"):
            inst.reconnect()          # the adapter re-applies TCP_NODELAY on the new session
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
        if self.lane_switch is not None and "lane_switch" not in self.identities:
            try:
                self.identities["lane_switch"] = self.lane_switch.identity
            except Exception as exc:  # a switch that does not answer is reported in the record
                self.identities["lane_switch"] = f"<no identity: {type(exc).__name__}: {exc}>"
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
    return inst


def _with_virtual_dut_access(config: Any) -> Any:
    """``config`` plus a virtual ``switch`` and ``module`` where it lacks them (virtual scope)."""
    from instruments.bench import BenchConfig

    defaults = BenchConfig.default()
    changes: dict[str, Any] = {}
    if "switch" not in config.instruments:
        changes["instruments"] = MappingProxyType({**config.instruments, "switch": defaults.instruments["switch"]})
    if config.module is None:
        changes["module"] = defaults.module
    return dataclasses.replace(config, **changes) if changes else config


@contextmanager
def open_bench(bench: Any = None, *, module: Any = None, needed: tuple[str, ...] = STATION_INSTRUMENTS,
               timeout_s: float | None = None, link: Any = None,
               manual_lanes: bool = False) -> Iterator[StationBench]:
    """Open a bench for a station run: start its virtual part and connect the drivers.

    Parameters
    ----------
    bench : BenchConfig, path or None
        Bench file (None: the built-in all-virtual bench).  Instruments with
        ``resource = "virtual"`` are served by the virtual bench, whose physics is a
        :class:`ModuleLink` holding ``module``.
    module : models.population.PopulationModule, optional
        The module in the virtual socket (default: the nominal design module).
    needed : tuple of str
        Instruments to connect (those the plan needs; other virtual instruments are not
        started: :class:`~instruments.bench.VirtualBench` ``only=``).  The ``switch`` and
        the ``module`` interface are opened whenever the bench has them.
    timeout_s : float, optional
        I/O timeout of every driver (default: the driver's).
    link : ModuleLink, optional
        Reuse an existing physics model (the demo swaps modules in one bench).
    manual_lanes : bool
        On a bench without a ``switch``: the operator selects lanes (:class:`ManualLaneSwitch`).

    Yields
    ------
    StationBench
        ``lane_switch`` is the ``switch`` driver (or a :class:`ManualLaneSwitch`, or None);
        ``module`` the :class:`~instruments.cmis.CmisModule` of the ``module`` entry (or None).

    Raises
    ------
    ConfigError
        A virtual instrument fails to start (named), or a driver cannot be imported.
    """
    from instruments.bench import MODULE, BenchConfig, VirtualBench, load_bench_config

    config = bench if isinstance(bench, BenchConfig) else load_bench_config(bench)
    scope_cfg = config.instruments.get("scope")
    virtual_scope = scope_cfg is not None and scope_cfg.is_virtual
    if virtual_scope:
        config = _with_virtual_dut_access(config)
    with ExitStack() as stack:
        if link is None:
            link = ModuleLink(config.physics, module=module)
        elif module is not None:
            link.insert(module)
        has_switch = "switch" in config.instruments
        only = [n for n in needed if n in config.instruments and n != "switch"]
        only += (["switch"] if has_switch else []) + ([MODULE] if config.module is not None else [])
        vb = stack.enter_context(VirtualBench(config, link=link, only=only))
        instruments: dict[str, Any] = {}
        st = StationBench(instruments=instruments, ambient_c=config.physics.thermal.ambient_c,
                          connector=lambda name: _connect(vb, name, timeout_s))
        stack.callback(lambda: [_quiet_close(i) for i in st.instruments.values()])
        for name in needed:
            if name in config.instruments and name != "switch":
                instruments[name] = _connect(vb, name, timeout_s)
        if has_switch:
            st.lane_switch = _connect(vb, "switch", timeout_s)
            stack.callback(_quiet_close, st.lane_switch)
        elif manual_lanes:
            st.lane_switch = ManualLaneSwitch()
        if config.module is not None:
            n_lanes = min(8, link.n_lanes) if config.module.is_virtual else 8
            st.module = vb.connect_module(n_lanes=n_lanes)
        if virtual_scope:
            st.link = link
            st.virtual = vb
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
           "StationBench", "describe", "open_bench"]
