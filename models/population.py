"""Populations of modules: a link design plus process spread, drawn module by module.

A population file (TOML) names a design (a :func:`models.presets.preset` or a link TOML of
:mod:`models.config`) and the spread of named parameters of its parameter sets::

    name = "800G-DR8 line"
    design = "800GBASE-DR8"          # or: link = "my-link.toml" (relative to this file)
    serial_prefix = "DR8P"           # module k has serial f"{prefix}{k:06d}"
    seed = 2026                      # module k is drawn from (seed, k) alone

    [[spread]]
    parameter = "laser.slope_efficiency_w_per_a"
    level = "lane"                   # "module" (one draw per module) or "lane"
    distribution = "truncnormal"     # normal | truncnormal | lognormal | uniform
    sigma_rel = 0.06                 # normal/truncnormal: sigma or sigma_rel (of the mean)
    low_rel = 0.8                    # truncnormal: low/high or low_rel/high_rel (of the mean)
    high_rel = 1.2
    module_correlation = 0.5         # lane level: share of the variance common to the module
    source = "assumption: DFB slope spread of a mature line"

    [[defect]]
    name = "weak laser die"
    level = "lane"                   # per lane (or "module")
    rate = 0.01                      # probability per lane (module)
    scale = { "laser.slope_efficiency_w_per_a" = 0.35 }   # and/or set = { path = value }
    source = "assumption"

Parameters (``optics yield --list-parameters DESIGN``, :func:`parameter_table`) are paths
``component.field`` of the lane's parameter sets (``driver``, ``laser``, ``modulator``,
``transmitter``, ``fiber``, ``channel``, ``photodiode``, ``tia``) or ``module.field`` of the
:class:`~models.lane.LinkModule`; ``laser.output_power_w`` sets the laser bias for that power
at 25 °C (as in a link file).  A design with a host channel (a link TOML's
``host_channel_touchstone``) also has ``host_channel.insertion_loss_db``: its loss at the
Nyquist frequency, a drawn value scaling the channel's dB loss at every frequency
(:func:`scaled_host_channel`).  Where one laser feeds several lanes
(``transmitter.lasers_shared_by`` > 1) a lane-level laser draw is one draw per laser.

Drawing (:meth:`Population.module`): every spread entry has a standard-normal variate per
module and per lane (or laser), from a generator seeded by ``(seed, k, crc32(parameter))``,
so module *k* does not depend on how many modules are drawn, in which order, or on the other
entries.  A lane's variate is ``z = sqrt(ρ)·z_module + sqrt(1 − ρ)·z_lane`` (ρ the
``module_correlation``), mapped onto the distribution by its quantile function (a Gaussian
copula): ``normal``: ``μ + σ z``; ``truncnormal``: ``F⁻¹(Φ(z))`` of the normal truncated to
[low, high]; ``lognormal``: ``median·exp(σ_ln z)``; ``uniform``: ``low + (high − low)·Φ(z)``.
Defects are Bernoulli draws at their rate from a generator seeded by
``(seed, k, crc32("defect:" + name))``; a defect scales or sets its parameters after the
spread.

Process steps (optional tables)::

    [burn_in]                        # a burn-in screen of the lasers' infant mortality
    hours = 48.0                     # 0...10^4 h
    temperature_c = 125.0            # -40...200 °C
    weak_fraction = 0.01             # models.aging.BurnInScreen fields (its defaults, ASSUMPTIONS)

    [aging]                          # predict the modules at this age
    hours = 100000.0                 # 0...10^6 h
    temperature_c = 55.0             # laser chip temperature during those hours, -40...150 °C

The command line and a plan may replace these (:meth:`Population.with_process`, the ranges
:data:`BURN_IN_HOURS_RANGE` ... :data:`AGING_TEMPERATURE_RANGE_C`).

A module whose lasers include one that fails the burn-in has ``burn_in_failed`` set
(:meth:`Population.burn_in_lasers_failed`: per laser a weak die with probability ``f_w`` that
fails within the burn-in with probability ``F_w(t_eq)`` of the Weibull model of
:class:`models.aging.BurnInScreen`; drawn from ``(seed, k, crc32("burn-in"))``); the expected
module fallout is ``1 − (1 − f_w F_w(t_eq))^n_lasers``.  With ``[aging]`` every module's
lasers are aged (:func:`models.aging.aged_module`), so its APC bias (and, at the current
limit, its power) is the one at that age.

Every value is validated as the file is read: unknown keys, unknown parameters, values out
of a parameter's allowed range (a normal whose ±6σ leaves the range must be a truncnormal),
and a die-thermal parameter the design does not use (``module.chip_thermal_resistance_k_per_w``
of a design that fixes ``chip_temperature_rise_k``, or ``module.chip_temperature_rise_k`` of a
design whose die temperature is solved from its heat, which it would replace) raise
:class:`~optics.errors.ConfigError` naming the file and line.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special, stats

from models.chip_temperature import chip_temperature_c, design_value
from models.electrical import Pam4Driver, TouchstoneChannel
from models.fiber import Channel, Fiber
from models.lane import Lane, LinkModule, Transmitter
from models.laser import DfbLaser
from models.modulator import IdealIntensityModulator, MachZehnderModulator, MicroringModulator
from models.receiver import Photodiode, Receiver, Tia
from optics.errors import ConfigError, InvalidParameter, InvalidType
from optics.toml_lines import line_of

#: Allowed ranges of the process steps ``[burn_in]`` (h, °C) and ``[aging]`` (h, laser chip °C).
BURN_IN_HOURS_RANGE = (0.0, 1e4)
BURN_IN_TEMPERATURE_RANGE_C = (-40.0, 200.0)
AGING_HOURS_RANGE = (0.0, 1e6)
AGING_TEMPERATURE_RANGE_C = (-40.0, 150.0)

#: Distributions a spread entry may use.
DISTRIBUTIONS = ("normal", "truncnormal", "lognormal", "uniform")
#: Levels of a spread entry or a defect.
LEVELS = ("module", "lane")

_INF = math.inf
#: Allowed range (low, high) of each parameter a population may spread, as its class validates it.
_RANGES: Mapping[type, Mapping[str, tuple[float, float]]] = {
    Pam4Driver: {"swing_v": (0.0, 10.0), "rise_time_s": (0.0, 1e-9), "rj_rms_s": (0.0, 1e-11),
                 "noise_rms_v": (0.0, 1.0), "offset_v": (-1.0, 1.0)},
    DfbLaser: {"wavelength_m": (0.8e-6, 2.0e-6), "threshold_current_a": (0.0, 0.2), "t0_k": (1.0, 1000.0),
               "slope_efficiency_w_per_a": (1e-3, 2.0), "t1_k": (1.0, 5000.0), "bias_current_a": (0.0, 0.5),
               "wavelength_drift_m_per_k": (0.0, 1e-9), "rin_db_per_hz": (-200.0, -100.0),
               "output_power_w": (1e-5, 0.2), "forward_voltage_v": (0.0, 5.0), "series_resistance_ohm": (0.0, 100.0)},
    MachZehnderModulator: {"vpi_l_v_m": (1e-4, 1.0), "length_m": (1e-5, 0.1), "bias_phase_rad": (-math.pi, math.pi),
                           "insertion_loss_db": (0.0, 30.0), "static_extinction_db": (1.0, 100.0),
                           "eo_bandwidth_hz": (1e9, 1e12), "chirp_alpha": (-10.0, 10.0)},
    MicroringModulator: {"resonance_wavelength_m": (0.8e-6, 2.0e-6), "loaded_q": (100.0, 1e6),
                         "extinction_db": (0.1, 60.0), "shift_m_per_v": (-1e-9, 1e-9),
                         "thermal_shift_m_per_k": (0.0, 1e-9), "heater_efficiency_m_per_w": (1e-9, 1e-5),
                         "max_heater_power_w": (0.0, 1.0), "bias_detuning_m": (-2e-9, 2e-9),
                         "rc_bandwidth_hz": (1e9, 1e12), "insertion_loss_db": (0.0, 30.0)},
    IdealIntensityModulator: {"extinction_ratio_db": (0.1, 60.0), "swing_v": (1e-3, 10.0),
                              "insertion_loss_db": (0.0, 30.0), "chirp_alpha": (-10.0, 10.0),
                              "bandwidth_hz": (1e9, 1e12)},
    Transmitter: {"splitter_excess_loss_db": (0.0, 20.0)},
    Fiber: {"length_m": (0.0, 1e6), "attenuation_db_per_km": (0.0, 100.0),
            "zero_dispersion_wavelength_m": (1.0e-6, 1.7e-6), "dispersion_slope_ps_per_nm2_km": (0.0, 1.0)},
    Channel: {"connector_loss_db": (0.0, 20.0), "splice_loss_db": (0.0, 20.0)},
    Photodiode: {"responsivity_a_per_w": (1e-3, 1.6), "dark_current_a": (0.0, 1e-3), "bandwidth_hz": (1e9, 1e12)},
    Tia: {"transimpedance_ohm": (1.0, 1e6), "input_noise_density_a_per_rthz": (0.0, 1e-9),
          "bandwidth_hz": (1e9, 1e12), "overload_current_a": (1e-5, 1.0)},
    LinkModule: {"chip_temperature_rise_k": (0.0, 60.0), "chip_thermal_resistance_k_per_w": (0.0, 500.0)},
    TouchstoneChannel: {"insertion_loss_db": (0.0, 60.0)},
}

_UNITS = (("_k_per_w", "K/W"), ("_w_per_a", "W/A"), ("_a_per_w", "A/W"), ("_a_per_rthz", "A/√Hz"), ("_m_per_k", "m/K"),
          ("_m_per_v", "m/V"), ("_m_per_w", "m/W"), ("_v_m", "V·m"), ("_db_per_hz", "dB/Hz"),
          ("_db_per_km", "dB/km"), ("_ps_per_nm2_km", "ps/(nm²·km)"), ("_ohm", "Ω"), ("_hz", "Hz"),
          ("_db", "dB"), ("_rad", "rad"), ("_k", "K"), ("_s", "s"), ("_v", "V"), ("_a", "A"), ("_w", "W"),
          ("_m", "m"))


def unit_of(field: str) -> str:
    """The unit a parameter's name carries (``"slope_efficiency_w_per_a"`` → ``"W/A"``; ``""`` if none)."""
    return next((u for suffix, u in _UNITS if field.endswith(suffix)), "")


@dataclasses.dataclass(frozen=True)
class ParameterInfo:
    """One parameter a population may spread: path, unit, allowed range, the design's value."""

    path: str
    unit: str
    low: float
    high: float
    nominal: float


def _components(lane: Lane) -> dict[str, Any]:
    tx = lane.transmitter
    return {"driver": tx.driver, "laser": tx.laser, "modulator": tx.modulator, "transmitter": tx,
            "host_channel": tx.host_channel, "fiber": lane.channel.fiber, "channel": lane.channel,
            "photodiode": lane.receiver.photodiode, "tia": lane.receiver.tia}


def host_channel_loss_db(channel: TouchstoneChannel, symbol_rate_baud: float) -> float:
    """Insertion loss ``-20 log10 |H(f_N)|`` (dB) of a host channel at the Nyquist frequency
    ``f_N = symbol_rate_baud / 2`` (above the channel's data, its ``linear-db`` extrapolation,
    :meth:`~models.electrical.TouchstoneChannel.response`): the population parameter
    ``host_channel.insertion_loss_db``."""
    h = channel.response(0.5 * float(symbol_rate_baud), extrapolate=True)[0]
    return float(-20.0 * math.log10(abs(h)))


def scaled_host_channel(channel: TouchstoneChannel, symbol_rate_baud: float, loss_db: float) -> TouchstoneChannel:
    """``channel`` with its insertion loss at Nyquist (:func:`host_channel_loss_db`) made ``loss_db``.

    The loss in dB is scaled by ``s = loss_db / L0`` at every frequency (``|H'| = |H|^s``, the
    phase unchanged), as a longer or shorter trace of the same board would scale it
    (ASSUMPTION: the connector's and vias' loss and the reflections' ripple scale with it).
    The Nyquist frequency is added to the data (on the interpolant, so the nominal channel is
    unchanged) so that ``host_channel_loss_db(result) == loss_db`` holds to rounding; above the
    data the extrapolated loss scales by ``s`` too (a linear fit of scaled losses).

    Raises
    ------
    InvalidParameter
        ``loss_db`` negative or not finite, or a channel without loss at Nyquist (L0 <= 0).
    """
    from optics import validate

    target = validate.non_negative("host_channel.insertion_loss_db", loss_db, "dB")
    f_n = 0.5 * float(symbol_rate_baud)
    nominal = host_channel_loss_db(channel, symbol_rate_baud)
    if not nominal > 0.0:
        raise InvalidParameter(f"host channel {channel.name}: insertion loss at Nyquist {f_n:g} Hz is "
                               f"{nominal:g} dB; a loss can only be scaled from a lossy channel")
    f, h = channel.freq_hz, channel.transfer
    if f[0] < f_n < f[-1] and not np.any(f == f_n):
        k = int(np.searchsorted(f, f_n))
        f = np.insert(f, k, f_n)
        h = np.insert(h, k, channel.response(f_n)[0])
    s = target / nominal
    mag = np.abs(h)
    h_new = mag ** s * (h / mag)
    return TouchstoneChannel(freq_hz=f, transfer=h_new, name=f"{channel.name} (x{s:.4g} dB loss)",
                             mode=channel.mode, extrapolation=channel.extrapolation)


def _nominal(module: LinkModule, component: str, field: str) -> float:
    if component == "module":
        return design_value(module, field)   # a None field: the value the models solve for
    obj = _components(module.lanes[0])[component]
    if component == "laser" and field == "output_power_w":
        return float(obj.output_power_w(obj.temperature_ref_c))
    if component == "host_channel":
        return host_channel_loss_db(obj, module.symbol_rate_baud)
    return float(getattr(obj, field))


def parameter_table(module: LinkModule) -> tuple[ParameterInfo, ...]:
    """Every parameter of ``module``'s design a population can spread (lane 0's values as nominal)."""
    out = []
    comps = {"module": module, **_components(module.lanes[0])}
    for name, obj in comps.items():
        for field, (lo, hi) in _RANGES.get(type(obj), {}).items():
            out.append(ParameterInfo(f"{name}.{field}", unit_of(field), lo, hi, _nominal(module, name, field)))
    return tuple(out)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Spread:
    """Process spread of one parameter (see the module docstring for the draw).

    ``loc`` is the distribution's centre (normal/truncnormal: mean, lognormal: median),
    ``scale`` its width (σ, or σ of ln for lognormal), ``low``/``high`` the truncation or
    the uniform interval, in the parameter's unit.
    """

    parameter: str
    level: str
    distribution: str
    loc: float
    scale: float
    low: float
    high: float
    module_correlation: float = 0.0
    source: str = ""

    def quantile(self, z: np.ndarray) -> np.ndarray:
        """Map standard-normal variates ``z`` onto this distribution."""
        z = np.asarray(z, dtype=np.float64)
        if self.distribution == "normal":
            return self.loc + self.scale * z
        if self.distribution == "lognormal":
            return self.loc * np.exp(self.scale * z)
        if self.distribution == "uniform":
            return self.low + (self.high - self.low) * special.ndtr(z)
        a, b = (self.low - self.loc) / self.scale, (self.high - self.loc) / self.scale
        return stats.truncnorm.ppf(special.ndtr(z), a, b, loc=self.loc, scale=self.scale)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Defect:
    """A rare defect: at ``rate`` per module or lane, parameters scaled and/or set."""

    name: str
    level: str
    rate: float
    scale: Mapping[str, float]
    set: Mapping[str, float]
    source: str = ""


@dataclasses.dataclass(frozen=True)
class PopulationModule:
    """Module ``index`` of a population: its serial, its link module and what was drawn.

    Attributes
    ----------
    serial : str
    index : int
    module : LinkModule
    values : mapping
        Parameter path → drawn value per lane (a module-level parameter repeats its value).
    defects : tuple of (str, int or None)
        Defect name and lane (None for a module-level defect).
    population_seed : int
        The population's seed (with the index it seeds the lanes' noise, :func:`lane_seed`).
    """

    serial: str
    index: int
    module: LinkModule
    values: Mapping[str, tuple[float, ...]]
    defects: tuple[tuple[str, int | None], ...]
    population_seed: int = 0
    burn_in_failed: bool = False

    @classmethod
    def of_design(cls, module: LinkModule, *, serial: str = "VIRTUAL00001", seed: int = 1) -> PopulationModule:
        """A design's own module as module 0 of a population without spread (noise seeded by ``seed``)."""
        if not isinstance(module, LinkModule):
            raise InvalidType(f"module must be a models LinkModule, got {type(module).__name__}")
        return cls(serial=serial, index=0, module=module, values={}, defects=(), population_seed=int(seed))

    @property
    def note(self) -> str:
        """The defects in words ("" for a module without one)."""
        return ", ".join(f"{name}" + ("" if lane is None else f" (lane {lane})") for name, lane in self.defects)


_TOP_KEYS = ("name", "design", "link", "serial_prefix", "seed", "description", "spread", "defect", "burn_in",
             "aging")
_BURN_IN_KEYS = ("hours", "temperature_c", "weak_fraction", "weak_characteristic_hours", "weak_shape",
                 "activation_energy_ev", "reference_temperature_c", "source")
_AGING_KEYS = ("hours", "temperature_c", "source")
_SPREAD_KEYS = ("parameter", "level", "distribution", "mean", "median", "sigma", "sigma_rel", "sigma_ln", "low",
                "high", "low_rel", "high_rel", "module_correlation", "source")
_DEFECT_KEYS = ("name", "level", "rate", "scale", "set", "source")
_SERIAL_PREFIX_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclasses.dataclass(frozen=True)
class Population:
    """A design and its spread; :meth:`module` draws module *k*.

    Build it with :func:`load_population` / :func:`loads_population`.
    """

    name: str
    design: str
    base: LinkModule
    serial_prefix: str
    seed: int
    spreads: tuple[Spread, ...]
    defects: tuple[Defect, ...]
    source: str = "<string>"
    burn_in: tuple[Any, float, float] | None = None
    aging: tuple[float, float] | None = None

    def burn_in_lasers_failed(self, index: int) -> np.ndarray:
        """Which lasers (draw groups of ``laser.`` parameters) of module ``index`` fail the burn-in.

        Each laser is a weak die with probability ``f_w`` and, if weak, fails within the burn-in's
        ``t_eq = t_b·AF(T_b)`` reference hours with probability ``F_w(t_eq)``
        (:class:`models.aging.BurnInScreen`): two uniforms per laser from a generator seeded by
        ``(seed, index, crc32("burn-in"))``.  All False without a ``[burn_in]``.
        """
        groups = self._groups("laser.")
        n_lasers = int(groups.max()) + 1
        if self.burn_in is None:
            return np.zeros(n_lasers, dtype=bool)
        screen, hours, temperature_c = self.burn_in
        f = screen.screen(hours, temperature_c).weak_removed_fraction
        u = np.random.default_rng([self.seed, int(index), zlib.crc32(b"burn-in")]).random((2, n_lasers))
        return (u[0] < screen.weak_fraction) & (u[1] < f)

    def burn_in_fallout_expected(self) -> float:
        """Closed form of the modules removed by the burn-in: ``1 − (1 − f_w F_w(t_eq))^n_lasers``."""
        if self.burn_in is None:
            return 0.0
        screen, hours, temperature_c = self.burn_in
        n_lasers = int(self._groups("laser.").max()) + 1
        return 1.0 - (1.0 - screen.screen(hours, temperature_c).fallout_fraction) ** n_lasers

    def with_process(self, *, burn_in_hours: float | None = None, burn_in_temperature_c: float | None = None,
                     age_hours: float | None = None, age_temperature_c: float | None = None,
                     what: str = "") -> Population:
        """This population with its burn-in and/or aging conditions replaced (None: keep).

        A burn-in value replaces the ``[burn_in]``'s hours or temperature and keeps its weak
        subpopulation; a population without ``[burn_in]`` gets one with the
        :class:`models.aging.BurnInScreen` defaults (ASSUMPTIONS) and then needs both values.
        Aging likewise (a population without ``[aging]`` needs both).  ``burn_in_hours = 0``
        screens nothing.  Values are checked against the ranges of the population file
        (:data:`BURN_IN_HOURS_RANGE` ...); ``what`` prefixes the names in messages
        (e.g. ``"--"`` for command-line flags).

        Raises
        ------
        InvalidParameter
            A value out of its range, or half a process step where the population has none.
        """
        from models.aging import BurnInScreen
        from optics import validate

        def name(x: str) -> str:
            return f"{what}{x.replace('_', '-') if what == '--' else x}"

        out = self
        if burn_in_hours is not None or burn_in_temperature_c is not None:
            h = None if burn_in_hours is None else validate.in_range(
                name("burn_in_hours"), burn_in_hours, *BURN_IN_HOURS_RANGE, unit="h")
            t = None if burn_in_temperature_c is None else validate.in_range(
                name("burn_in_temperature_c"), burn_in_temperature_c, *BURN_IN_TEMPERATURE_RANGE_C, unit="°C")
            if self.burn_in is None:
                if h is None or t is None:
                    missing = name("burn_in_hours" if h is None else "burn_in_temperature_c")
                    raise InvalidParameter(f"population {self.name!r} has no [burn_in]: a burn-in needs both hours "
                                           f"and temperature (give {missing} too)")
                screen = BurnInScreen()
            else:
                screen, h0, t0 = self.burn_in
                h, t = (h0 if h is None else h), (t0 if t is None else t)
            out = dataclasses.replace(out, burn_in=(screen, h, t))
        if age_hours is not None or age_temperature_c is not None:
            h = None if age_hours is None else validate.in_range(name("age_hours"), age_hours, *AGING_HOURS_RANGE,
                                                                 unit="h")
            t = None if age_temperature_c is None else validate.in_range(
                name("age_temperature_c"), age_temperature_c, *AGING_TEMPERATURE_RANGE_C, unit="°C")
            if self.aging is None and (h is None or t is None):
                missing = name("age_hours" if h is None else "age_temperature_c")
                raise InvalidParameter(f"population {self.name!r} has no [aging]: aging needs both hours and the "
                                       f"laser chip temperature (give {missing} too)")
            if self.aging is not None:
                h, t = (self.aging[0] if h is None else h), (self.aging[1] if t is None else t)
            out = dataclasses.replace(out, aging=(h, t))
        return out

    def serial(self, index: int) -> str:
        """Serial of module ``index``: the prefix and six digits."""
        return f"{self.serial_prefix}{index:06d}"

    def index_of(self, serial: str) -> int:
        """Module index of a serial of this population.

        Raises
        ------
        InvalidParameter
            The serial is not ``serial_prefix`` followed by digits.
        """
        s = str(serial)
        digits = s[len(self.serial_prefix):]
        if not s.startswith(self.serial_prefix) or not digits.isdigit():
            raise InvalidParameter(f"serial {serial!r} is not one of population {self.name!r} "
                                   f"({self.serial_prefix} followed by digits, e.g. {self.serial(1)!r})")
        return int(digits)

    def _groups(self, spread_parameter: str) -> np.ndarray:
        """Lane → draw group (lanes sharing a laser share a laser draw)."""
        n = self.base.n_lanes
        if spread_parameter.startswith("laser."):
            shared = [ln.transmitter.lasers_shared_by for ln in self.base.lanes]
            return np.array([i // shared[i] for i in range(n)])
        return np.arange(n)

    def module(self, index: int) -> PopulationModule:
        """Module ``index`` (0 ≤ index < 10^9), drawn from ``(seed, index)`` alone.

        Raises
        ------
        InvalidParameter
            Index out of range, or a drawn value the model refuses (the message names the
            module, the lane and the parameter).
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < 10**9:
            raise InvalidParameter(f"module index {index!r} must be an integer in [0, 10^9)")
        k = int(index)
        n = self.base.n_lanes
        values: dict[str, np.ndarray] = {}
        for sp in self.spreads:
            rng = np.random.default_rng([self.seed, k, zlib.crc32(sp.parameter.encode())])
            z_mod = rng.standard_normal()
            z_lane = rng.standard_normal(n)     # always drawn: the module draw is the same for every level
            if sp.level == "module":
                z = np.full(n, z_mod)
            else:
                rho = sp.module_correlation
                z = math.sqrt(rho) * z_mod + math.sqrt(1.0 - rho) * z_lane[self._groups(sp.parameter)]
            values[sp.parameter] = sp.quantile(z)
        defects: list[tuple[str, int | None]] = []
        for d in self.defects:
            rng = np.random.default_rng([self.seed, k, zlib.crc32(("defect:" + d.name).encode())])
            u = rng.random(n + 1)
            hit_lanes = ([None] if u[n] < d.rate else []) if d.level == "module" else \
                [i for i in range(n) if u[self._groups(next(iter({**d.scale, **d.set}), ""))[i]] < d.rate]
            for lane in hit_lanes:
                defects.append((d.name, lane))
                lanes = range(n) if lane is None else [lane]
                for path, factor in d.scale.items():
                    arr = values.setdefault(path, np.array([_nominal_lane(self.base, path, i) for i in range(n)]))
                    for i in lanes:
                        arr[i] *= factor
                for path, value in d.set.items():
                    arr = values.setdefault(path, np.array([_nominal_lane(self.base, path, i) for i in range(n)]))
                    for i in lanes:
                        arr[i] = value
        module = _apply(self.base, values, where=f"module {k} ({self.serial(k)})")
        if self.aging is not None:
            from models.aging import aged_module

            module = aged_module(module, self.aging[0], temperature_c=self.aging[1])
        return PopulationModule(serial=self.serial(k), index=k, module=module,
                                values={p: tuple(float(x) for x in v) for p, v in values.items()},
                                defects=tuple(defects), population_seed=self.seed,
                                burn_in_failed=bool(self.burn_in_lasers_failed(k).any()))


def with_values(module: PopulationModule, lane: int | None, note: str,
                changes: Mapping[str, float]) -> PopulationModule:
    """A copy of ``module`` with parameters of lane ``lane`` (None: every lane) set, and
    ``note`` added to its defects -- a defect made by hand (a test's weak laser, a slow modulator).

    Parameters
    ----------
    module : PopulationModule
    lane : int or None
    note : str
        What the change is (shown as the module's note).
    changes : mapping
        Parameter path (:func:`parameter_table`) → value in its unit.

    Raises
    ------
    InvalidParameter
        Unknown parameter, lane out of range, or a value the model refuses.
    """
    mod = module.module
    table = {p.path: p for p in parameter_table(mod)}
    if lane is not None and not (isinstance(lane, int) and 0 <= lane < mod.n_lanes):
        raise InvalidParameter(f"lane = {lane!r} not in 0..{mod.n_lanes - 1}")
    values: dict[str, np.ndarray] = {}
    for path, value in changes.items():
        if path not in table:
            raise InvalidParameter(f"unknown parameter {path!r}; see parameter_table()")
        arr = np.array([_nominal_lane(mod, path, i) for i in range(mod.n_lanes)])
        if lane is None or path.startswith("module."):
            arr[:] = value
        else:
            arr[lane] = value
        values[path] = arr
    new = _apply(mod, values, where=module.serial)
    merged = dict(module.values)
    merged.update({p: tuple(float(x) for x in v) for p, v in values.items()})
    return dataclasses.replace(module, module=new, values=merged, defects=module.defects + ((note, lane),))


def _nominal_lane(module: LinkModule, path: str, lane: int) -> float:
    comp, field = path.split(".", 1)
    if comp == "module":
        return _nominal(module, comp, field)
    obj = _components(module.lanes[lane])[comp]
    if comp == "laser" and field == "output_power_w":
        return float(obj.output_power_w(obj.temperature_ref_c))
    if comp == "host_channel":
        return host_channel_loss_db(obj, module.symbol_rate_baud)
    return float(getattr(obj, field))


def _apply(base: LinkModule, values: Mapping[str, np.ndarray], *, where: str) -> LinkModule:
    """``base`` with the drawn values put into its parameter sets."""
    lane_values: dict[str, dict[str, np.ndarray]] = {}
    module_changes: dict[str, float] = {}
    for path, arr in values.items():
        comp, field = path.split(".", 1)
        if comp == "module":
            module_changes[field] = float(arr[0])
        else:
            lane_values.setdefault(comp, {})[field] = arr
    lanes = []
    for i, lane in enumerate(base.lanes):
        try:
            c = _components(lane)
            new: dict[str, Any] = {}
            for comp in ("driver", "laser", "modulator", "fiber", "photodiode", "tia"):
                fields = {f: float(a[i]) for f, a in lane_values.get(comp, {}).items()}
                p_out = fields.pop("output_power_w", None) if comp == "laser" else None
                obj = dataclasses.replace(c[comp], **fields) if fields else c[comp]
                if p_out is not None:
                    obj = obj.with_output_power(p_out)
                new[comp] = obj
            ch_fields = {f: float(a[i]) for f, a in lane_values.get("channel", {}).items()}
            tx_fields: dict[str, Any] = {f: float(a[i]) for f, a in lane_values.get("transmitter", {}).items()}
            host_loss = lane_values.get("host_channel", {}).get("insertion_loss_db")
            if host_loss is not None:
                if lane.transmitter.host_channel is None:
                    raise InvalidParameter("host_channel.insertion_loss_db: this lane has no host channel")
                tx_fields["host_channel"] = scaled_host_channel(lane.transmitter.host_channel,
                                                                base.symbol_rate_baud, float(host_loss[i]))
            channel = dataclasses.replace(lane.channel, fiber=new["fiber"], **ch_fields)
            tx = dataclasses.replace(lane.transmitter, driver=new["driver"], laser=new["laser"],
                                     modulator=new["modulator"], **tx_fields)
            rx = Receiver(photodiode=new["photodiode"], tia=new["tia"])
        except (InvalidParameter, InvalidType) as exc:
            raise InvalidParameter(f"{where}, lane {i}: {exc}") from None
        lanes.append(dataclasses.replace(lane, transmitter=tx, channel=channel, receiver=rx))
    try:
        return dataclasses.replace(base, lanes=lanes, **module_changes)
    except (InvalidParameter, InvalidType) as exc:
        raise InvalidParameter(f"{where}: {exc}") from None


def _design(src: str, doc: Mapping[str, Any], base_dir: Path, text: str) -> tuple[str, LinkModule]:
    from models.config import load_link
    from models.presets import preset

    if ("design" in doc) == ("link" in doc):
        raise ConfigError(f"{src}: give exactly one of design = PRESET or link = FILE.toml")
    try:
        if "design" in doc:
            return str(doc["design"]), preset(doc["design"])
        path = Path(doc["link"])
        path = path if path.is_absolute() else base_dir / path
        return str(doc["link"]), load_link(path).module
    except (InvalidParameter, InvalidType, OSError) as exc:
        key = "design" if "design" in doc else "link"
        raise ConfigError(f"{src}:{line_of(text, key) or 1}: {key}: {exc}") from None


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key} = {value!r} must be a finite number")
    return float(value)


def _check_parameter(where: str, path: Any, table: Mapping[str, ParameterInfo]) -> ParameterInfo:
    if not isinstance(path, str) or path not in table:
        near = [p for p in table if isinstance(path, str) and path.split(".")[-1] in p]
        hint = f" (did you mean {', '.join(near[:3])}?)" if near else ""
        raise ConfigError(f"{where}: unknown parameter {path!r}{hint}; `optics yield --list-parameters DESIGN` "
                          "lists them")
    return table[path]


def _in_range(where: str, info: ParameterInfo, what: str, value: float) -> None:
    if not info.low <= value <= info.high:
        raise ConfigError(f"{where}: {what} = {value:g} {info.unit} is outside {info.path}'s allowed range "
                          f"[{info.low:g}, {info.high:g}] {info.unit}".rstrip())


def _spread(where: str, entry: Mapping[str, Any], table: Mapping[str, ParameterInfo]) -> Spread:
    for key in entry:
        if key not in _SPREAD_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} in [[spread]]; allowed keys: {', '.join(_SPREAD_KEYS)}")
    info = _check_parameter(where, entry.get("parameter"), table)
    level = entry.get("level", "lane")
    if level not in LEVELS:
        raise ConfigError(f"{where}: level = {level!r}; allowed: {', '.join(LEVELS)}")
    if info.path.startswith("module.") and level != "module":
        raise ConfigError(f"{where}: {info.path} is a module parameter: level must be \"module\"")
    dist = entry.get("distribution")
    if dist not in DISTRIBUTIONS:
        raise ConfigError(f"{where}: distribution = {dist!r}; allowed: {', '.join(DISTRIBUTIONS)}")
    num = {k: _number(where, k, v) for k, v in entry.items() if k not in ("parameter", "level", "distribution", "source")}
    rho = num.get("module_correlation", 0.0)
    if not 0.0 <= rho <= 1.0:
        raise ConfigError(f"{where}: module_correlation = {rho:g} must be in [0, 1]")
    if level == "module" and "module_correlation" in num:
        raise ConfigError(f"{where}: module_correlation is for lane-level spreads only")

    def need(*names: str) -> None:
        allowed = set(names) | {"module_correlation"}
        extra = sorted(set(num) - allowed)
        if extra:
            raise ConfigError(f"{where}: {', '.join(extra)} not used by a {dist} distribution "
                              f"(it takes {', '.join(sorted(names))})")

    centre = num.get("median" if dist == "lognormal" else "mean", info.nominal)

    def width(name: str, rel: str) -> float:
        if (name in num) == (rel in num):
            raise ConfigError(f"{where}: give exactly one of {name} and {rel}")
        return num[name] if name in num else num[rel] * abs(centre)

    low = high = math.nan
    scale = 0.0
    if dist == "uniform":
        need("low", "high", "low_rel", "high_rel")
        low, high = width("low", "low_rel"), width("high", "high_rel")
        centre = 0.5 * (low + high)
    elif dist == "lognormal":
        need("median", "sigma_ln")
        if "sigma_ln" not in num:
            raise ConfigError(f"{where}: a lognormal needs sigma_ln (the σ of ln x)")
        scale = num["sigma_ln"]
        if centre <= 0:
            raise ConfigError(f"{where}: a lognormal needs a positive median, got {centre:g}")
        low, high = centre * math.exp(-6 * scale), centre * math.exp(6 * scale)
    else:
        need("mean", "sigma", "sigma_rel", *(("low", "high", "low_rel", "high_rel") if dist == "truncnormal" else ()))
        scale = width("sigma", "sigma_rel")
        if dist == "truncnormal":
            low, high = width("low", "low_rel"), width("high", "high_rel")
            if not low <= centre <= high:
                raise ConfigError(f"{where}: truncnormal mean {centre:g} must lie in [low, high] = [{low:g}, {high:g}]")
        else:
            low, high = centre - 6.0 * scale, centre + 6.0 * scale
    if dist != "uniform" and scale < 0:
        raise ConfigError(f"{where}: the width must be >= 0, got {scale:g}")
    if not low <= high:
        raise ConfigError(f"{where}: low {low:g} must not exceed high {high:g}")
    what = "mean ± 6σ" if dist == "normal" else ("median·exp(±6σ_ln)" if dist == "lognormal" else "low/high")
    for v in (low, high):
        if not info.low <= v <= info.high:
            hint = " (use a truncnormal to keep the draws in range)" if dist in ("normal", "lognormal") else ""
            raise ConfigError(f"{where}: {what} reaches {v:g} {info.unit}, outside {info.path}'s allowed range "
                              f"[{info.low:g}, {info.high:g}]{hint}")
    return Spread(parameter=info.path, level=level, distribution=dist, loc=centre, scale=scale, low=low,
                  high=high, module_correlation=rho, source=str(entry.get("source", "")))


def _paths_of(entry: Spread | Defect) -> tuple[str, ...]:
    """The parameter paths a spread or a defect changes."""
    if isinstance(entry, Spread):
        return (entry.parameter,)
    return (*entry.scale, *entry.set)


def _check_thermal_in_use(where: str, paths: tuple[str, ...], design: LinkModule) -> None:
    """ConfigError for a die-thermal parameter the design does not use (:mod:`models.chip_temperature`).

    A design that fixes its rise (``chip_temperature_rise_k`` set) ignores its thermal
    resistance, so drawing ``module.chip_thermal_resistance_k_per_w`` would change nothing; a
    design whose die temperature is solved from its heat would, with a drawn
    ``module.chip_temperature_rise_k``, lose that model (the die no longer warming with the
    lasers' bias, their aging or the heaters): the resistance is what a line spreads then.
    """
    fixed = design.chip_temperature_rise_k is not None
    for path in paths:
        if path == "module.chip_thermal_resistance_k_per_w" and fixed:
            raise ConfigError(
                f"{where}: {path} has no effect: the design fixes its die temperature rise "
                f"(chip_temperature_rise_k = {design.chip_temperature_rise_k:g} K), which wins over the thermal "
                "resistance; spread module.chip_temperature_rise_k, or drop the fixed rise from the design")
        if path == "module.chip_temperature_rise_k" and not fixed:
            raise ConfigError(
                f"{where}: {path} would replace the design's die temperature, solved from the heat on the die "
                "(models.chip_temperature), by a fixed rise; spread module.chip_thermal_resistance_k_per_w "
                "(die-to-case K/W) instead")


def _defect(where: str, entry: Mapping[str, Any], table: Mapping[str, ParameterInfo]) -> Defect:
    for key in entry:
        if key not in _DEFECT_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} in [[defect]]; allowed keys: {', '.join(_DEFECT_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: a defect needs a name")
    level = entry.get("level", "lane")
    if level not in LEVELS:
        raise ConfigError(f"{where}: level = {level!r}; allowed: {', '.join(LEVELS)}")
    rate = _number(where, "rate", entry.get("rate"))
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"{where}: rate = {rate:g} must be a probability in [0, 1]")
    maps = {}
    for key in ("scale", "set"):
        m = entry.get(key, {})
        if not isinstance(m, dict):
            raise ConfigError(f"{where}: {key} must be a table {{ parameter = value }}")
        maps[key] = {}
        for path, v in m.items():
            info = _check_parameter(where, path, table)
            maps[key][path] = _number(where, f"{key}.{path}", v)
            if key == "set":
                _in_range(where, info, f"set.{path}", maps[key][path])
            elif maps[key][path] <= 0:
                raise ConfigError(f"{where}: scale.{path} = {maps[key][path]:g} must be > 0")
            elif not info.low <= info.nominal * maps[key][path] <= info.high:
                _in_range(where, info, f"nominal × scale.{path}", info.nominal * maps[key][path])
    if not maps["scale"] and not maps["set"]:
        raise ConfigError(f"{where}: defect {name!r} changes nothing (give scale and/or set)")
    paths = set(maps["scale"]) | set(maps["set"])
    if len({p.split(".")[0] == "laser" for p in paths}) > 1 and level == "lane":
        raise ConfigError(f"{where}: a lane defect changes either laser parameters or others, not both "
                          "(a shared laser is drawn per laser)")
    return Defect(name=name, level=level, rate=rate, scale=maps["scale"], set=maps["set"],
                  source=str(entry.get("source", "")))


def loads_population(text: str, *, source: str = "<string>",
                     base_dir: str | os.PathLike[str] | None = None) -> Population:
    """Parse a population from TOML text (see the module docstring).

    Raises
    ------
    ConfigError
        TOML syntax, unknown keys or parameters, out-of-range values, a bad design; the
        message names the source and the line.
    """
    src = source
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{src}: not valid TOML: {exc}") from None
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigError(f"{src}:{line_of(text, key) or 1}: unknown key {key!r}; allowed keys: "
                              f"{', '.join(_TOP_KEYS)}")
    design, base = _design(src, doc, Path.cwd() if base_dir is None else Path(base_dir), text)
    table = {p.path: p for p in parameter_table(base)}
    prefix = doc.get("serial_prefix", "SN")
    if not isinstance(prefix, str) or not 1 <= len(prefix) <= 10 or not set(prefix) <= _SERIAL_PREFIX_CHARS:
        raise ConfigError(f"{src}:{line_of(text, 'serial_prefix') or 1}: serial_prefix = {prefix!r} must be 1-10 "
                          "characters of A-Z, 0-9, '-' and '_'")
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{src}:{line_of(text, 'seed') or 1}: seed = {seed!r} must be a non-negative integer")
    spreads, defects = [], []
    for kind, items, build, out in (("spread", doc.get("spread", []), _spread, spreads),
                                    ("defect", doc.get("defect", []), _defect, defects)):
        if not isinstance(items, list):
            raise ConfigError(f"{src}: {kind} must be an array of tables [[{kind}]]")
        for i, entry in enumerate(items):
            line = line_of(text, "parameter" if kind == "spread" else "name", header=kind, occurrence=i)
            where = f"{src}:{line or 1}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: [[{kind}]] entries must be tables")
            out.append(build(where, entry, table))
            _check_thermal_in_use(where, _paths_of(out[-1]), base)
    seen: set[str] = set()
    for sp in spreads:
        if sp.parameter in seen:
            raise ConfigError(f"{src}: parameter {sp.parameter!r} is spread twice")
        seen.add(sp.parameter)
    if len({d.name for d in defects}) != len(defects):
        raise ConfigError(f"{src}: two defects share a name")
    name = doc.get("name", Path(src).stem if src != "<string>" else "population")
    return Population(name=str(name), design=design, base=base, serial_prefix=prefix, seed=seed,
                      spreads=tuple(spreads), defects=tuple(defects), source=src,
                      burn_in=_burn_in(src, doc, text), aging=_aging(src, doc, text))


def _table(src: str, doc: Mapping[str, Any], text: str, name: str, keys: tuple[str, ...]) -> dict[str, float] | None:
    """The numbers of table ``[name]`` (None if absent); unknown keys and non-numbers are errors with file:line."""
    if name not in doc:
        return None
    t = doc[name]
    if not isinstance(t, dict):
        raise ConfigError(f"{src}:{line_of(text, name) or 1}: {name} must be a table [{name}]")
    out = {}
    for key, value in t.items():
        where = f"{src}:{line_of(text, key, header=name) or 1}"
        if key not in keys:
            raise ConfigError(f"{where}: unknown key {key!r} in [{name}]; allowed keys: {', '.join(keys)}")
        if key != "source":
            out[key] = _number(where, key, value)
    for key in ("hours", "temperature_c"):
        if key not in out:
            raise ConfigError(f"{src}:{line_of(text, name) or 1}: [{name}] needs {key}")
    return out


def _checked(src: str, text: str, name: str, key: str, value: float, low: float, high: float, unit: str) -> float:
    if not low <= value <= high:
        raise ConfigError(f"{src}:{line_of(text, key, header=name) or 1}: [{name}] {key} = {value:g} {unit} is "
                          f"outside the allowed range [{low:g}, {high:g}] {unit}")
    return value


def _burn_in(src: str, doc: Mapping[str, Any], text: str) -> tuple[Any, float, float] | None:
    """``[burn_in]``: hours (0...10^4 h) at temperature_c (-40...200 °C) and the weak subpopulation's
    :class:`models.aging.BurnInScreen` parameters (its defaults, ASSUMPTIONS, where not given)."""
    from models.aging import BurnInScreen

    t = _table(src, doc, text, "burn_in", _BURN_IN_KEYS)
    if t is None:
        return None
    hours = _checked(src, text, "burn_in", "hours", t.pop("hours"), *BURN_IN_HOURS_RANGE, "h")
    temp = _checked(src, text, "burn_in", "temperature_c", t.pop("temperature_c"), *BURN_IN_TEMPERATURE_RANGE_C, "°C")
    try:
        screen = BurnInScreen(**t)
    except (InvalidParameter, InvalidType) as exc:
        raise ConfigError(f"{src}:{line_of(text, 'burn_in') or 1}: [burn_in] {exc}") from None
    return screen, hours, temp


def _aging(src: str, doc: Mapping[str, Any], text: str) -> tuple[float, float] | None:
    """``[aging]``: the age of the prediction, hours (0...10^6 h) at a laser chip temperature_c
    (-40...150 °C); every module's lasers are :func:`models.aging.aged_module` by it."""
    t = _table(src, doc, text, "aging", _AGING_KEYS)
    if t is None:
        return None
    return (_checked(src, text, "aging", "hours", t["hours"], *AGING_HOURS_RANGE, "h"),
            _checked(src, text, "aging", "temperature_c", t["temperature_c"], *AGING_TEMPERATURE_RANGE_C, "°C"))


def load_population(path: str | os.PathLike[str]) -> Population:
    """Read a population file (see :func:`loads_population`); relative ``link`` paths are
    relative to the file's directory.

    Raises
    ------
    ConfigError
        As :func:`loads_population`, or the file cannot be read.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"population file {p}: {exc.strerror or exc}") from None
    return loads_population(text, source=str(p), base_dir=p.parent)


#: Temperature bin of a lane's Tx record and its noise seed, K (the virtual bench's cache step).
TEMPERATURE_STEP_K = 0.25


def lane_seed(module: PopulationModule, lane: int, temperature_c: float, *, population_seed: int) -> list[int]:
    """Noise seed of lane ``lane`` of ``module`` at case temperature ``temperature_c`` (binned
    to :data:`TEMPERATURE_STEP_K`): ``[population seed, module index, lane, 4·T + 10000]``."""
    return [int(population_seed), int(module.index), int(lane), int(round(temperature_c / TEMPERATURE_STEP_K)) + 10000]


def lane_tx_waveform(module: PopulationModule, lane: int, temperature_c: float, *, pattern: str = "PRBS13Q",
                     samples_per_symbol: int = 16) -> Any:
    """Transmitter output (optical power, W) of one lane of a population module: one period of
    ``pattern`` from :func:`models.link.simulate_lane` at the chip temperature
    (:func:`models.thermal.chip_temperature_c`), with its noise (RIN) seeded by :func:`lane_seed`.

    The virtual bench's scope and yield prediction both take the lane's waveform from here, so
    a serial gives the same record everywhere.  Returns None for a lane that gives no light.

    Raises
    ------
    InvalidParameter
        Lane or temperature out of range.
    """
    from models.link import SimulationSettings, simulate_lane
    from optics import validate

    mod = module.module
    lane = validate.integer("lane", lane, 0, mod.n_lanes - 1)
    t = validate.in_range("temperature_c", temperature_c, -60.0, 150.0, unit="°C")
    t = round(t / TEMPERATURE_STEP_K) * TEMPERATURE_STEP_K
    settings = _tx_settings(pattern, samples_per_symbol)
    seed = lane_seed(module, lane, t, population_seed=module.population_seed)
    res = simulate_lane(mod.lanes[lane], symbol_rate_baud=mod.symbol_rate_baud, settings=settings,
                        rng=np.random.default_rng(seed), chip_temperature_c=chip_temperature_c(mod, t),
                        symbols=settings.symbols(), metrics=False, receiver=False)
    if res.tx_waveform is None:
        return None
    return res.tx_waveform.with_meta(serial=module.serial, lane=lane, temperature_c=float(t), seed=seed,
                                     model="models.link", population_index=module.index)


_SETTINGS: dict[tuple[str, int], Any] = {}


def _tx_settings(pattern: str, samples_per_symbol: int) -> Any:
    from models.link import SimulationSettings

    key = (pattern, int(samples_per_symbol))
    hit = _SETTINGS.get(key)
    if hit is None:
        hit = SimulationSettings(pattern=pattern, samples_per_symbol=int(samples_per_symbol), compute_tdecq=False,
                                 count_errors=False, threads=1)
        _SETTINGS[key] = hit
    return hit


#: The populations shipped with the package (``populations/`` at the top of the repository).
POPULATIONS_DIR = Path(__file__).resolve().parent / "data" / "populations"


def shipped_population(name: str) -> Path:
    """Path of a shipped population file by name (``"800g-dr8"``) or the path itself if it exists."""
    p = Path(name)
    if p.is_file():
        return p
    q = POPULATIONS_DIR / (name if name.endswith(".toml") else f"{name}.toml")
    if q.is_file():
        return q
    avail = ", ".join(sorted(x.stem for x in POPULATIONS_DIR.glob("*.toml")))
    raise ConfigError(f"population {name!r} is neither a file nor a shipped population ({avail})")


__all__ = ["AGING_HOURS_RANGE", "AGING_TEMPERATURE_RANGE_C", "BURN_IN_HOURS_RANGE", "BURN_IN_TEMPERATURE_RANGE_C",
           "host_channel_loss_db", "scaled_host_channel", "DISTRIBUTIONS", "LEVELS", "POPULATIONS_DIR", "Defect", "ParameterInfo", "Population",
           "PopulationModule", "Spread", "load_population", "loads_population", "parameter_table",
           "shipped_population", "unit_of", "with_values", "TEMPERATURE_STEP_K", "lane_seed", "lane_tx_waveform"]
