"""TOML link files: a text form of :class:`models.link.LinkModule` and its simulation settings.

Every table maps onto one parameter dataclass and its keys are that dataclass's field names
(units in the names, SI values).  An unknown or misspelled key raises
:class:`~optics.errors.ConfigError` naming the file, the table and the key (and listing
the allowed keys); a bad value raises ConfigError with the parameter's own range message.

Layout (every table optional; values shown are examples)::

    preset = "400GBASE-FR4"        # start from a preset (models.presets), then override
    name = "my FR4"                # module name
    symbol_rate_baud = 53.125e9
    payload_rate_bps = 400e9
    n_lanes = 4                    # without preset: number of identical lanes (default 1)
    wavelengths_m = [1271e-9, 1291e-9, 1311e-9, 1331e-9]   # per-lane laser wavelengths
    chip_temperature_rise_k = 10.0   # optional: fixes the chip rise (K); it wins over the next key
    chip_thermal_resistance_k_per_w = 19.0   # optional: die-to-case (K/W); default: the
                                   # architecture's; without either the rise is solved
                                   # from the heat on the die (models.thermal.chip_temperature_c)
    rx_ffe_taps = 0
    power_architecture = "dsp"     # models.power architecture

    [driver]       # models.electrical.Pam4Driver
    swing_v = 2.2
    rise_time_s = 6e-12
    [laser]        # models.laser.DfbLaser (+ output_power_w: set the bias for this power at 25 °C)
    [modulator]    # type = "mzm" | "microring" | "ideal", then that class's fields
    [transmitter]  # lasers_shared_by, splitter_excess_loss_db, level_predistortion, and:
    host_channel_touchstone = "host.s4p"   # host channel (models.electrical.TouchstoneChannel):
                                           # path relative to the TOML file's directory
    host_channel_differential = true       # SDD21 of ports (1,3)->(2,4) (default), else S21
    level_predistortion = "auto"           # or 4 normalised levels [0.0, 0.36, 0.64, 1.0]
    [fiber]        # models.fiber.Fiber
    [channel]      # models.fiber.Channel (without 'fiber')
    [photodiode]   # models.receiver.Photodiode
    [tia]          # models.receiver.Tia
    [simulation]   # models.link.SimulationSettings
    [crosstalk]    # models.crosstalk.ModuleCrosstalk (off without it), e.g. optical_adjacent_db = -25.0,
                   # electrical_adjacent_db = -35.0, driver_adjacent_db = -35.0, heater_coupling_adjacent = 0.1
    tx_jitter = false  # top level: a preset's drivers without their jitter (models.presets.TX_JITTER_UI;
                       # default true with a preset, false without: then true gives the drivers that jitter)

Examples
--------
>>> from models.config import loads_link
>>> cfg = loads_link('preset = "400GBASE-DR4"\\n[fiber]\\nlength_m = 300.0\\n')
>>> cfg.module.lanes[0].channel.fiber.length_m
300.0
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

from models.crosstalk import ModuleCrosstalk
from models.electrical import Pam4Driver, TouchstoneChannel
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import Lane, LinkModule, SimulationSettings, Transmitter
from models.modulator import IdealIntensityModulator, MachZehnderModulator, MicroringModulator
from models.presets import preset, with_tx_jitter
from models.receiver import Photodiode, Receiver, Tia
from optics.errors import ConfigError, FileFormatError, InvalidParameter, InvalidType

#: Modulator ``type`` values and their classes.
MODULATOR_TYPES = {"mzm": MachZehnderModulator, "microring": MicroringModulator, "ideal": IdealIntensityModulator}

_TOP_KEYS = (
    "preset", "name", "symbol_rate_baud", "payload_rate_bps", "n_lanes", "wavelengths_m",
    "chip_temperature_rise_k", "chip_thermal_resistance_k_per_w", "rx_ffe_taps", "power_architecture",
)
#: Keys of the [transmitter] table (Transmitter fields, with the host channel given as a file).
_TX_KEYS = ("lasers_shared_by", "splitter_excess_loss_db", "level_predistortion", "host_channel_touchstone",
            "host_channel_differential")
_TABLES = ("driver", "laser", "modulator", "transmitter", "fiber", "channel", "photodiode", "tia", "simulation",
           "crosstalk")
#: Top-level switches of models.presets / models.crosstalk (``tx_jitter``: the drivers' jitter, on with a preset).
_SWITCH_KEYS = ("tx_jitter",)


@dataclasses.dataclass(frozen=True)
class LinkConfig:
    """A parsed link file.

    Attributes
    ----------
    module : LinkModule
    settings : SimulationSettings
    source : str
        File name (or ``"<string>"``).
    """

    module: LinkModule
    settings: SimulationSettings
    source: str = "<string>"


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _check_keys(src: str, table: str, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            where = f"table [{table}]" if table else "the top level"
            raise ConfigError(f"{src}: unknown key {key!r} in {where}; allowed keys: {', '.join(allowed)}")


def _build(src: str, table: str, cls: type, data: dict[str, Any], base: Any = None) -> Any:
    allowed = _fields(cls)
    _check_keys(src, table, data, allowed)
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
    try:
        return dataclasses.replace(base, **values) if base is not None else cls(**values)
    except (InvalidParameter, InvalidType, TypeError, ValueError) as exc:
        raise ConfigError(f"{src}: [{table}]: {exc}") from None


def _table(src: str, doc: dict[str, Any], name: str) -> dict[str, Any]:
    t = doc.get(name, {})
    if not isinstance(t, dict):
        raise ConfigError(f"{src}: {name!r} must be a table ([{name}]), got {type(t).__name__}")
    return dict(t)


def _host_channel(src: str, tx_data: dict[str, Any], base_dir: Path) -> TouchstoneChannel | None:
    """Pop the host-channel keys of [transmitter] and read the Touchstone file (once per link)."""
    path = tx_data.pop("host_channel_touchstone", None)
    diff = tx_data.pop("host_channel_differential", None)
    if diff is not None and not isinstance(diff, bool):
        raise ConfigError(f"{src}: [transmitter]: host_channel_differential = {diff!r} must be true or false")
    if path is None:
        if diff is not None:
            raise ConfigError(f"{src}: [transmitter]: host_channel_differential needs host_channel_touchstone")
        return None
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{src}: [transmitter]: host_channel_touchstone = {path!r} must be a file path (string)")
    p = Path(path)
    if not p.is_absolute():
        p = base_dir / p
    try:
        return TouchstoneChannel.from_file(p, differential=True if diff is None else diff)
    except (FileFormatError, InvalidParameter, InvalidType) as exc:
        raise ConfigError(f"{src}: [transmitter]: host_channel_touchstone = {path!r}: {exc}") from None


def loads_link(text: str, *, source: str = "<string>", base_dir: str | os.PathLike[str] | None = None) -> LinkConfig:
    """Parse a link description from TOML text (see the module docstring).

    Parameters
    ----------
    text : str
        The TOML text.
    source : str
        Name used in messages (the file name).
    base_dir : path, optional
        Directory that relative file paths in the text (``host_channel_touchstone``) are
        relative to; default the current directory.

    Raises
    ------
    ConfigError
        TOML syntax errors, unknown keys, bad values, unknown preset or modulator type, an
        unreadable host-channel Touchstone file.
    """
    src = source
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{src}: not valid TOML: {exc}") from None
    top = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    for key, value in doc.items():
        if isinstance(value, dict) and key not in _TABLES:
            raise ConfigError(f"{src}: unknown table [{key}]; allowed tables: {', '.join(_TABLES)}")
    _check_keys(src, "", top, _TOP_KEYS + _SWITCH_KEYS)

    jitter = top.get("tx_jitter", "preset" in top)
    if not isinstance(jitter, bool):
        raise ConfigError(f"{src}: tx_jitter = {jitter!r} must be true or false")
    if "preset" in top:
        try:
            base = preset(top["preset"], symbol_rate_baud=top.get("symbol_rate_baud"), jitter=jitter)
        except (InvalidParameter, InvalidType) as exc:
            raise ConfigError(f"{src}: preset: {exc}") from None
        base_lanes = list(base.lanes)
    else:
        base = None
        n = top.get("n_lanes", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 64:
            raise ConfigError(f"{src}: n_lanes = {n!r} must be an integer in [1, 64]")
        base_lanes = [Lane(name=f"lane {i}") for i in range(n)]
    if "n_lanes" in top and base is not None and top["n_lanes"] != len(base_lanes):
        raise ConfigError(f"{src}: n_lanes = {top['n_lanes']!r} conflicts with preset {top['preset']!r} ({len(base_lanes)} lanes)")

    wavelengths = top.get("wavelengths_m")
    if wavelengths is not None:
        if not isinstance(wavelengths, list) or len(wavelengths) != len(base_lanes):
            raise ConfigError(f"{src}: wavelengths_m must be a list of {len(base_lanes)} values (one per lane)")

    tx_table = _table(src, doc, "transmitter")
    _check_keys(src, "transmitter", tx_table, _TX_KEYS)
    host_channel = _host_channel(src, tx_table, Path.cwd() if base_dir is None else Path(base_dir))
    lanes = []
    for i, lane in enumerate(base_lanes):
        tx, ch, rx = lane.transmitter, lane.channel, lane.receiver
        driver = _build(src, "driver", Pam4Driver, _table(src, doc, "driver"), tx.driver) if "driver" in doc else tx.driver
        laser_data = _table(src, doc, "laser")
        p_out = laser_data.pop("output_power_w", None)
        if wavelengths is not None:
            laser_data["wavelength_m"] = wavelengths[i]
        laser = _build(src, "laser", DfbLaser, laser_data, tx.laser) if laser_data else tx.laser
        if p_out is not None:
            try:
                laser = laser.with_output_power(p_out)
            except (InvalidParameter, InvalidType) as exc:
                raise ConfigError(f"{src}: [laser]: {exc}") from None
        mod_data = _table(src, doc, "modulator")
        if mod_data:
            kind = mod_data.pop("type", None)
            if kind is None:
                cls = type(tx.modulator)
                modulator = _build(src, "modulator", cls, mod_data, tx.modulator)
            elif kind in MODULATOR_TYPES:
                cls = MODULATOR_TYPES[kind]
                same = isinstance(tx.modulator, cls)
                modulator = _build(src, "modulator", cls, mod_data, tx.modulator if same else None)
            else:
                raise ConfigError(f"{src}: [modulator] type = {kind!r}; allowed: {', '.join(MODULATOR_TYPES)}")
        else:
            modulator = tx.modulator
        tx_data = dict(tx_table)
        if host_channel is not None:
            tx_data["host_channel"] = host_channel  # one object shared by the lanes (and their transfer cache)
        tx = _build(src, "transmitter", Transmitter, {**tx_data, "driver": driver, "laser": laser, "modulator": modulator}, tx)
        fiber = _build(src, "fiber", Fiber, _table(src, doc, "fiber"), ch.fiber)
        ch_data = _table(src, doc, "channel")
        _check_keys(src, "channel", ch_data, tuple(f for f in _fields(Channel) if f != "fiber"))
        ch = _build(src, "channel", Channel, {**ch_data, "fiber": fiber}, ch)
        pd = _build(src, "photodiode", Photodiode, _table(src, doc, "photodiode"), rx.photodiode)
        tia = _build(src, "tia", Tia, _table(src, doc, "tia"), rx.tia)
        lanes.append(Lane(name=lane.name, transmitter=tx, channel=ch, receiver=Receiver(photodiode=pd, tia=tia)))

    mod_kwargs: dict[str, Any] = {"lanes": lanes}
    for key in ("name", "symbol_rate_baud", "payload_rate_bps", "chip_temperature_rise_k",
                "chip_thermal_resistance_k_per_w", "rx_ffe_taps"):
        if key in top:
            mod_kwargs[key] = top[key]
    if "power_architecture" in top:
        mod_kwargs["power_params"] = top["power_architecture"]
    try:
        if base is not None:
            module = dataclasses.replace(base, **mod_kwargs)
        else:
            mod_kwargs.setdefault("name", Path(src).stem if src != "<string>" else "link")
            for key in ("symbol_rate_baud", "payload_rate_bps"):
                if key not in mod_kwargs:
                    raise ConfigError(f"{src}: {key} is required without a preset")
            module = LinkModule(**mod_kwargs)
    except (InvalidParameter, InvalidType, TypeError) as exc:
        raise ConfigError(f"{src}: {exc}") from None
    settings = _build(src, "simulation", SimulationSettings, _table(src, doc, "simulation"))
    if "crosstalk" in doc:
        module = dataclasses.replace(module, crosstalk=_build(src, "crosstalk", ModuleCrosstalk,
                                                              _table(src, doc, "crosstalk")))
    if jitter and base is None:
        module = with_tx_jitter(module)   # a preset got it before its [driver] overrides
    return LinkConfig(module=module, settings=settings, source=src)


def load_link(path: str | os.PathLike[str]) -> LinkConfig:
    """Read a link file (see :func:`loads_link`).

    Raises
    ------
    ConfigError
        As :func:`loads_link`; OSError if the file cannot be read.
    """
    p = Path(path)
    return loads_link(p.read_text(encoding="utf-8"), source=str(p), base_dir=p.parent)
