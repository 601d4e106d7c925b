"""Bench configuration (which driver talks to which resource) and the virtual bench.

A bench TOML names the instruments of a test station and, for each, the driver class and
the VISA resource.  ``resource = "virtual"`` (the default) means "serve this instrument from
the virtual bench", so a station runs unchanged against real gear or against loopback
servers; only the resource strings differ.

.. code-block:: toml

    [virtual]                      # physics of the virtual bench (all keys optional)
    time_scale = 100.0             # simulated seconds per wall-clock second
    model_preset = "400GBASE-DR4"  # transmitter from models.link (omit: the reference transmitter)
    model_lane = 0
    population = "800g-dr8"        # the socket holds the module the station's serial names,
                                   # drawn from this population (file, or a shipped name)
    [virtual.transmitter]          # instruments.virtual.physics.TransmitterParams fields
    average_power_dbm = 1.0
    [virtual.receiver]             # ReceiverParams fields
    [virtual.path]                 # PathParams fields
    [virtual.thermal]              # ThermalParams fields
    [virtual.scope]                # ScopeParams fields: where the scope sits, its noise
    position = "receiver"          # "transmitter" (default) or behind the attenuator
    splitter_ratio = 0.5           # power fraction of the splitter arm to the scope
    splitter_excess_loss_db = 0.3  # excess loss of each splitter arm, dB
    noise_rms_w = 2e-6             # the scope's own noise sigma_S, W rms (default 0)
    noise_compensation = false     # credit sigma_S in TDECQ (IEEE 121.8.5.3 sigma_S term)
    compliance_dispersion_ps_per_nm = -0.927  # compliance spool on the TDECQ path (default 0: none)
    compliance_wavelength_m = 1304.5e-9       # ... its wavelength (models.compliance.compliance_channel)

    [server]                       # bounds of every virtual server (all keys optional)
    max_line_bytes = 65536         # longer program messages are discarded (-223)
    max_connections = 16           # clients served at once per instrument
    idle_timeout_s = 300.0         # a client silent this long is disconnected

    [instruments.scope]            # one table per instrument on the bench
    driver = "instruments.keysight.flexdca:FlexDCA"   # optional, default per name
    resource = "virtual"           # or e.g. "TCPIP0::10.0.0.9::hislip0::INSTR"
    model = "FlexDCA"              # virtual model, optional (default per name)
    port = 0                       # virtual only: TCP port, 0 = ephemeral
    options = { channel = "1A" }   # keyword arguments of the driver's constructor

    [instruments.power_meter]      # keys omitted: defaults
    resource = "TCPIP::10.0.0.7::5025::SOCKET"

    [instruments.switch]           # 1xN optical lane switch (channel 1 Tx side, 2 Rx side)
    driver = "instruments.keysight.n773x:N7734A"

    [instruments.module]           # the DUT's CMIS management interface (I2C, not VISA)
    resource = "virtual"           # simulated bus following the bench physics, or the
    # driver = "mypkg.i2c:FtdiBus" # resource string of a real I2CBus class, called as
    #                              # driver(resource, **options)

The default scope position is the transmitter (TP2), where transmitter compliance (TDECQ,
OMA, ER) is measured and where a station measures its transmitter metrics; a receiver-
sensitivity bench puts the scope behind the attenuator with ``[virtual.scope] position =
"receiver"``, so the scope's OMA is the OMA the receiver gets (scaled by the split).

Instrument names: ``scope, power_meter, attenuator, bert, osa, thermal, supply, smu,
tx_power_meter, switch`` (SCPI, :data:`DEFAULTS`) and ``module`` (the device under test's
CMIS bus, :attr:`BenchConfig.module`; it has no VISA resource).  Without an ``[instruments]``
table the bench holds all of them, virtual.  Unknown tables or keys raise
:class:`~optics.errors.ConfigError` naming the file and key.

A bench may start only some of its virtual instruments (``VirtualBench(..., only=names)``);
an instrument that fails to start raises a :class:`~optics.errors.ConfigError` naming it.
"""

from __future__ import annotations

import dataclasses
import importlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from instruments.virtual import physics as vphysics
from instruments.virtual.attenuator import N7764A
from instruments.virtual.bert import M8040A
from instruments.virtual.cmis_module import VirtualCmisBus
from instruments.virtual.flexdca import FlexDCA
from instruments.virtual.optical_switch import N7734A as VirtualN7734A
from instruments.virtual.osa import AQ6370
from instruments.virtual.pm100d import PM100D
from instruments.virtual.power_meter import Keysight8163B, N7744A, N7745A
from instruments.virtual.server import ScpiServer, ServerLimits, VirtualInstrument
from instruments.virtual.smu import Keithley2400
from instruments.virtual.supply import E36312A
from instruments.virtual.thermostream import ThermoStream
from optics.errors import ConfigError, InvalidParameter, InvalidType

#: The resource value that asks for a virtual instrument.
VIRTUAL = "virtual"

#: Instrument name -> (default driver import path, default virtual model).
DEFAULTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "scope": ("instruments.keysight.flexdca:FlexDCA", "FlexDCA"),
        "power_meter": ("instruments.keysight.n77xx:N7744A", "N7744A"),
        "attenuator": ("instruments.keysight.n776x:N7764A", "N7764A"),
        "bert": ("instruments.keysight.m8040a:M8040A", "M8040A"),
        "osa": ("instruments.yokogawa.aq6370:AQ6370", "AQ6370"),
        "thermal": ("instruments.intest.thermostream:ThermoStream", "ThermoStream"),
        "supply": ("instruments.keysight.e36312a:E36312A", "E36312A"),
        "smu": ("instruments.keithley.k2400:Keithley2400", "Keithley2400"),
        "tx_power_meter": ("instruments.thorlabs.pm100d:PM100D", "PM100D"),
        "switch": ("instruments.keysight.n773x:N7734A", "N7734A"),
    }
)

#: Bench name of the device under test's management interface (CMIS over I2C).
MODULE = "module"
#: Default driver and virtual model of ``[instruments.module]``.
MODULE_DEFAULTS = ("instruments.virtual.cmis_module:VirtualCmisBus", "CMIS")
#: Virtual management-bus models.
VIRTUAL_BUSES: Mapping[str, type] = MappingProxyType({"CMIS": VirtualCmisBus})

#: Virtual model name -> class.
VIRTUAL_MODELS: Mapping[str, type[VirtualInstrument]] = MappingProxyType(
    {
        "FlexDCA": FlexDCA,
        "N7744A": N7744A,
        "N7745A": N7745A,
        "8163B": Keysight8163B,
        "N7764A": N7764A,
        "M8040A": M8040A,
        "AQ6370": AQ6370,
        "ThermoStream": ThermoStream,
        "E36312A": E36312A,
        "Keithley2400": Keithley2400,
        "PM100D": PM100D,
        "N7734A": VirtualN7734A,
    }
)

_INSTRUMENT_KEYS = ("driver", "resource", "model", "port", "options")
_PHYSICS_TABLES = {
    "transmitter": vphysics.TransmitterParams,
    "receiver": vphysics.ReceiverParams,
    "path": vphysics.PathParams,
    "thermal": vphysics.ThermalParams,
    "scope": vphysics.ScopeParams,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstrumentConfig:
    """One instrument of a bench.

    Parameters
    ----------
    name : str
        Bench name (``"scope"``, ``"power_meter"`` ...).
    driver : str
        Import path of the driver class, ``"package.module:Class"``.
    resource : str
        VISA resource string, or ``"virtual"``.
    model : str
        Virtual model served when ``resource == "virtual"`` (a key of :data:`VIRTUAL_MODELS`).
    port : int
        TCP port of the virtual server (0: ephemeral).
    options : mapping
        Keyword arguments for the driver's constructor.
    """

    name: str
    driver: str
    resource: str = VIRTUAL
    model: str = ""
    port: int = 0
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def is_virtual(self) -> bool:
        """True if this instrument is served by the virtual bench."""
        return self.resource.strip().lower() == VIRTUAL


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchConfig:
    """A whole bench: its instruments and the physics of its virtual part.

    Use :func:`load_bench_config` to read one from TOML; ``BenchConfig.default()`` is the
    all-virtual bench.
    """

    instruments: Mapping[str, InstrumentConfig]
    physics: vphysics.BenchParams = dataclasses.field(default_factory=vphysics.BenchParams)
    source: str = "<default>"
    #: The device under test's CMIS bus (``[instruments.module]``), or None.
    module: InstrumentConfig | None = None
    #: Bounds of every virtual server (``[server]``).
    server: ServerLimits = dataclasses.field(default_factory=ServerLimits)

    @classmethod
    def default(cls) -> BenchConfig:
        """All ten SCPI instruments and the module's CMIS bus, virtual, default physics."""
        return cls.from_dict({}, source="<default>")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> BenchConfig:
        """Build a configuration from parsed TOML.

        Raises
        ------
        ConfigError
            Unknown table or key, wrong type, unknown instrument name, driver or model;
            the message names ``source`` and the key.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: the bench configuration must be a table")
        _reject_unknown(data, ("virtual", "instruments", "server"), source, "")
        physics_params = _physics(data.get("virtual", {}), source)
        limits = _server_limits(data.get("server", {}), source)
        table = data.get("instruments")
        if table is None:
            table = {name: {} for name in (*DEFAULTS, MODULE)}
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}: [instruments] must be a table")
        instruments = {}
        module = None
        for name, entry in table.items():
            if name == MODULE:
                module = _instrument(name, entry, source)
            else:
                instruments[name] = _instrument(name, entry, source)
        return cls(instruments=MappingProxyType(instruments), physics=physics_params, source=source, module=module,
                   server=limits)

    @property
    def virtual_names(self) -> list[str]:
        """Names of the instruments served by the virtual bench."""
        return [n for n, c in self.instruments.items() if c.is_virtual]


def _reject_unknown(table: Mapping[str, Any], allowed, source: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            path = f"{where}.{key}" if where else key
            raise ConfigError(f"{source}: unknown key {path!r}; allowed here: {', '.join(allowed)}")


def _physics(table: Any, source: str) -> vphysics.BenchParams:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [virtual] must be a table")
    _reject_unknown(table, ("time_scale", "model_preset", "model_lane", "population", *_PHYSICS_TABLES), source,
                    "virtual")
    kwargs: dict[str, Any] = {}
    for key, cls in _PHYSICS_TABLES.items():
        sub = table.get(key, {})
        if not isinstance(sub, Mapping):
            raise ConfigError(f"{source}: [virtual.{key}] must be a table")
        _reject_unknown(sub, [f.name for f in dataclasses.fields(cls)], source, f"virtual.{key}")
        try:
            kwargs[key] = cls(**sub)
        except (InvalidParameter, InvalidType) as exc:
            raise ConfigError(f"{source}: [virtual.{key}]: {exc}") from None
    for key in ("time_scale", "model_preset", "model_lane"):
        if key in table:
            kwargs[key] = table[key]
    if "population" in table:
        from models.population import load_population, shipped_population

        name = table["population"]
        if not isinstance(name, str):
            raise ConfigError(f"{source}: virtual.population must be a population file or a shipped name")
        here = Path(source).parent if source not in ("<dict>", "<default>") else Path.cwd()
        path = here / name if (here / name).is_file() else shipped_population(name)
        load_population(path)            # validated now: a bad population is a bench-file error
        kwargs["population"] = str(Path(path).resolve())
    if "model_preset" in table:
        from models.presets import list_presets

        if table["model_preset"] not in list_presets():
            raise ConfigError(f"{source}: virtual.model_preset {table['model_preset']!r} unknown; "
                              f"presets: {', '.join(list_presets())}")
    try:
        return vphysics.BenchParams(**kwargs)
    except (InvalidParameter, InvalidType) as exc:
        raise ConfigError(f"{source}: [virtual]: {exc}") from None


def _server_limits(table: Any, source: str) -> ServerLimits:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [server] must be a table")
    _reject_unknown(table, [f.name for f in dataclasses.fields(ServerLimits)], source, "server")
    try:
        return ServerLimits(**table)
    except (InvalidParameter, InvalidType) as exc:
        raise ConfigError(f"{source}: [server]: {exc}") from None


def _instrument(name: str, entry: Any, source: str) -> InstrumentConfig:
    if name not in DEFAULTS and name != MODULE:
        raise ConfigError(f"{source}: unknown instrument 'instruments.{name}'; known: {', '.join(DEFAULTS)}, {MODULE}")
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{source}: [instruments.{name}] must be a table")
    _reject_unknown(entry, _INSTRUMENT_KEYS, source, f"instruments.{name}")
    driver, model = MODULE_DEFAULTS if name == MODULE else DEFAULTS[name]
    models = VIRTUAL_BUSES if name == MODULE else VIRTUAL_MODELS
    driver = entry.get("driver", driver)
    resource = entry.get("resource", VIRTUAL)
    model = entry.get("model", model)
    port = entry.get("port", 0)
    options = entry.get("options", {})
    for key, value, kind in (("driver", driver, str), ("resource", resource, str), ("model", model, str)):
        if not isinstance(value, kind) or not value.strip():
            raise ConfigError(f"{source}: instruments.{name}.{key} must be a non-empty string, got {value!r}")
    if ":" not in driver and "." not in driver:
        raise ConfigError(f"{source}: instruments.{name}.driver {driver!r} is not an import path 'package.module:Class'")
    if model not in models:
        raise ConfigError(f"{source}: instruments.{name}.model {model!r} unknown; virtual models: {', '.join(models)}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"{source}: instruments.{name}.port must be an integer 0..65535, got {port!r}")
    if not isinstance(options, Mapping):
        raise ConfigError(f"{source}: instruments.{name}.options must be a table, got {options!r}")
    return InstrumentConfig(name=name, driver=driver, resource=resource, model=model, port=port,
                            options=MappingProxyType(dict(options)))


def load_bench_config(path: str | Path | None = None) -> BenchConfig:
    """Read a bench TOML file (None: the built-in all-virtual bench).

    Raises
    ------
    ConfigError
        File missing or not valid TOML, or unknown/invalid keys (named with the file).
    """
    if path is None:
        return BenchConfig.default()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: bench configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return BenchConfig.from_dict(data, source=str(p))


def resolve_driver(path: str) -> type:
    """Import a driver class from ``"package.module:Class"`` (or ``"package.module.Class"``).

    Raises
    ------
    ConfigError
        The module or the class cannot be found.
    """
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"driver {path!r}: cannot import module {module_name!r}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"driver {path!r}: module {module_name!r} has no {attr!r}") from None


class VirtualBench:
    """Start a virtual server for every ``resource = "virtual"`` instrument of a bench.

    Parameters
    ----------
    config : BenchConfig, path or None
        The bench (None: every instrument virtual).
    link : BenchLink, optional
        The shared physics (default: built from ``config.physics``).
    host : str
        Interface the servers listen on (default ``"127.0.0.1"``).
    only : iterable of str, optional
        Start just these instruments (names of the bench, ``"module"`` included); the
        others stay off (real ones are still listed in :attr:`resources`).  Default: all.

    Attributes
    ----------
    link : BenchLink
        The physics shared by the servers (advance time, inspect state).
    module_bus : VirtualCmisBus or None
        The simulated CMIS bus of the device under test, when ``[instruments.module]`` is
        virtual and started (see :meth:`connect_module`).

    Raises
    ------
    ConfigError
        ``only`` names an instrument the bench does not have.

    Examples
    --------
    >>> with VirtualBench() as bench:
    ...     sorted(bench.resources)[:3]
    ['attenuator', 'bert', 'osa']
    >>> with VirtualBench(only=["attenuator"]) as bench:
    ...     list(bench.servers)
    ['attenuator']
    """

    def __init__(self, config: BenchConfig | str | Path | None = None, *,
                 link: vphysics.BenchLink | None = None, host: str = "127.0.0.1",
                 only: Any = None) -> None:
        if config is None or isinstance(config, (str, Path)):
            config = load_bench_config(config)
        if not isinstance(config, BenchConfig):
            raise InvalidType(f"config must be a BenchConfig, a path or None, got {type(config).__name__}")
        self.config = config
        known = (*config.instruments, *((MODULE,) if config.module is not None else ()))
        if only is None:
            self.only: tuple[str, ...] = known
        else:
            if isinstance(only, str):
                raise InvalidType(f"only must be a collection of instrument names, not the string {only!r}")
            self.only = tuple(only)
            unknown = [n for n in self.only if n not in known]
            if unknown:
                raise ConfigError(f"{config.source}: only= names {', '.join(map(repr, unknown))}, not on this bench; "
                                  f"it has: {', '.join(known) or 'nothing'}")
        self.link = link or vphysics.BenchLink(config.physics)
        self._host = host
        self.instruments: dict[str, VirtualInstrument] = {}
        self.servers: dict[str, ScpiServer] = {}
        self.module_bus: VirtualCmisBus | None = None

    def start(self) -> VirtualBench:
        """Create the selected virtual instruments and start their servers (idempotent).

        Raises
        ------
        ConfigError
            An instrument failed to start (its model raised, or its port cannot be bound);
            the message names it and the cause.  Servers already started are stopped.
        """
        if self.servers or self.module_bus is not None:
            return self
        try:
            for name in self.config.virtual_names:
                if name not in self.only:
                    continue
                entry = self.config.instruments[name]
                try:
                    inst = VIRTUAL_MODELS[entry.model](self.link)
                    server = ScpiServer(inst, host=self._host, port=entry.port, limits=self.config.server).start()
                except Exception as exc:
                    raise ConfigError(f"{self.config.source}: virtual instrument {name!r} (model {entry.model}) "
                                      f"failed to start: {type(exc).__name__}: {exc}") from exc
                self.instruments[name] = inst
                self.servers[name] = server
            module = self.config.module
            if module is not None and module.is_virtual and MODULE in self.only:
                try:
                    self.module_bus = VIRTUAL_BUSES[module.model](self.link)
                except Exception as exc:
                    raise ConfigError(f"{self.config.source}: virtual {MODULE!r} (model {module.model}) "
                                      f"failed to start: {type(exc).__name__}: {exc}") from exc
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server and close their connections."""
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        self.module_bus = None

    def __enter__(self) -> VirtualBench:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def resources(self) -> dict[str, str]:
        """Instrument name -> VISA resource string (the loopback ``::SOCKET`` ones for virtual).

        Virtual instruments that were not started (``only``) are left out; the module's
        management bus is not a VISA resource and is never listed.
        """
        out = {}
        for name, entry in self.config.instruments.items():
            server = self.servers.get(name)
            if server is not None:
                out[name] = server.resource
            elif not entry.is_virtual:
                out[name] = entry.resource
        return out

    def server(self, name: str) -> ScpiServer:
        """The running server of virtual instrument ``name`` (for fault injection).

        Raises
        ------
        ConfigError
            ``name`` is not a running virtual instrument.
        """
        try:
            return self.servers[name]
        except KeyError:
            raise ConfigError(f"{name!r} is not a running virtual instrument; running: {', '.join(self.servers) or 'none'}") from None

    def inject_fault(self, name: str, kind: str, **kwargs: Any) -> None:
        """Arm a fault on virtual instrument ``name`` (see :meth:`ScpiServer.inject_fault`)."""
        self.server(name).inject_fault(kind, **kwargs)

    def clear_faults(self) -> None:
        """Disarm the faults of every server."""
        for server in self.servers.values():
            server.clear_faults()

    def connect(self, name: str, **kwargs: Any):
        """Open instrument ``name`` with its configured driver and resource.

        ``kwargs`` override the configured ``options``.  ``"module"`` returns
        :meth:`connect_module`.

        Raises
        ------
        ConfigError
            Unknown name, a virtual instrument that was not started, or the driver cannot
            be imported.
        """
        if name == MODULE and self.config.module is not None:
            return self.connect_module(**kwargs)
        entry = self.config.instruments.get(name)
        if entry is None:
            raise ConfigError(f"{self.config.source}: no instrument {name!r} on this bench; have: {', '.join(self.config.instruments)}")
        resource = self.resources.get(name)
        if resource is None:
            raise ConfigError(f"{self.config.source}: virtual instrument {name!r} was not started (only={list(self.only)})")
        cls = resolve_driver(entry.driver)
        options = {**entry.options, **kwargs}
        return cls(resource, **options)

    def connect_module(self, *, n_lanes: int = 8, **kwargs: Any):
        """The device under test's management interface, a :class:`~instruments.cmis.CmisModule`.

        Virtual: over :attr:`module_bus` (temperature, Vcc, bias and power monitors follow
        the bench physics).  Real: over ``driver(resource, **options, **kwargs)``, an
        :class:`~instruments.cmis.bus.I2CBus` subclass.

        Raises
        ------
        ConfigError
            The bench has no ``module`` entry, the virtual one was not started, or the bus
            driver cannot be imported or opened.
        """
        from instruments.cmis import CmisModule

        entry = self.config.module
        if entry is None:
            raise ConfigError(f"{self.config.source}: the bench has no [instruments.{MODULE}] entry")
        if entry.is_virtual:
            if self.module_bus is None:
                raise ConfigError(f"{self.config.source}: the virtual {MODULE!r} was not started")
            bus = self.module_bus
        else:
            cls = resolve_driver(entry.driver)
            try:
                bus = cls(entry.resource, **{**entry.options, **kwargs})
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{self.config.source}: instruments.{MODULE}: cannot open {entry.driver} on "
                                  f"{entry.resource!r}: {exc}") from None
        return CmisModule(bus, n_lanes=n_lanes)


__all__ = [
    "BenchConfig",
    "DEFAULTS",
    "InstrumentConfig",
    "MODULE",
    "MODULE_DEFAULTS",
    "VIRTUAL",
    "VIRTUAL_BUSES",
    "VIRTUAL_MODELS",
    "VirtualBench",
    "load_bench_config",
    "resolve_driver",
]
