"""Temperature of a link module's photonic die, solved from the heat it dissipates.

The die (lasers, modulators, rings, photodiodes) sits above the module case by its thermal
resistance times the heat dissipated on it, which itself depends on the die temperature::

    T_chip = T_case + R_chip * P_die(T_chip)

solved by the fixed-point iteration of :func:`models.power.solve_self_heating` (a
contraction while ``R_chip * dP_die/dT < 1``; else thermal runaway is raised), the same
one-node model :mod:`models.power` uses for the electronics' junction.  What heats the die
is the architecture's :attr:`models.power.ModulePowerParams.chip_heat_blocks`
(:data:`models.power.CHIP_THERMAL`, ASSUMPTIONS):

* pluggable (``"dsp"``, ``"lpo"``): the CW lasers bonded on the PIC, ``Σ (I V_f + I² R_s
  − P_opt) / lasers_shared_by`` over the lanes with the APC bias ``I(T_chip)``
  (:meth:`models.laser.DfbLaser.bias_current_at`: it rises with temperature, so does the
  rise), and the MZM bias/phase heaters; drivers, TIAs and DSP are separate dies cooled
  through their own path (the junction node of :func:`models.power.module_power_at_case`);
* CPO (``"cpo"``): the electronic IC stacked on the PIC (ring drivers and TIAs at their
  nominal power times the leakage factor at ``T_chip``,
  :meth:`models.power.LeakageParams.factor`) and the ring heaters
  (:func:`heater_power_w_per_lane`: their power falls 0.7 mW/K as the die heats; with thermal
  crosstalk between the heaters, :mod:`models.crosstalk`, the coupled lock's lower powers); the
  external laser is off the module and held at its own temperature.

Light absorbed on the die (splitter and modulator loss) is not counted (tens of mW).  The
die-to-case resistance (19 K/W pluggable, 1.5 K/W CPO) is an ASSUMPTION (UNVERIFIED) chosen
to keep the previous fixed 10 K rise at the design points: 800GBASE-DR8 at 25 °C case
(10.1 K; a four-lane DR4/FR4 with one laser or four small ones: 4.4-4.9 K), the CPO ring
preset at 85 °C case, where its ring is parked for a 95 °C die (9.5 K; 7.4 K at 25 °C).

A link file or caller may still fix the rise: ``LinkModule.chip_temperature_rise_k`` (not
None) takes precedence and gives ``T_chip = T_case + rise`` (the previous model); else
``LinkModule.chip_thermal_resistance_k_per_w`` (not None) replaces the architecture's
``R_chip``.

Examples
--------
>>> from models.presets import preset
>>> from models.chip_temperature import chip_temperature_c, die_heat_w, chip_thermal_resistance_k_per_w
>>> m = preset("800GBASE-DR8")
>>> t = chip_temperature_c(m, 25.0)
>>> abs(t - 25.0 - chip_thermal_resistance_k_per_w(m) * die_heat_w(m, t)) < 1e-9   # the fixed point
True
>>> round(t - 25.0, 2)                                       # two lasers and 8 MZM biases, 19 K/W
10.08
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from models import power as power_model
from models.crosstalk import coupled_heater_powers
from models.lane import LinkModule
from models.modulator import MicroringModulator
from optics import validate
from optics.errors import InvalidType

#: Solved chip temperatures, keyed by (id(module), case temperature); the module itself is
#: kept in the entry (so its id cannot be reused while cached) and compared on lookup.
_CACHE: dict[tuple[int, float], tuple[LinkModule, float]] = {}
_CACHE_SIZE = 512


def _params(module: LinkModule) -> power_model.ModulePowerParams:
    if not isinstance(module, LinkModule):
        raise InvalidType(f"module must be a models.link.LinkModule, got {type(module).__name__}")
    p = module.power_params
    return power_model.preset_params(p) if isinstance(p, str) else p


def chip_thermal_resistance_k_per_w(module: LinkModule) -> float:
    """Die-to-case thermal resistance (K/W) of ``module``: its own
    ``chip_thermal_resistance_k_per_w`` if set, else its power architecture's."""
    r = getattr(module, "chip_thermal_resistance_k_per_w", None)
    return float(_params(module).chip_thermal_resistance_k_per_w if r is None else r)


def _ring_heater_model(module: LinkModule) -> Any:
    """``T -> per-lane ring-heater powers (W)`` of ``module``: each ring's lock on its laser
    (:meth:`models.modulator.MicroringModulator.lock`; identical rings evaluated once; a lane
    without a ring, or whose ring lost its lock, 0 W), and with thermal crosstalk between the
    heaters (``module.crosstalk.heater_coupling_adjacent`` = κ > 0) the coupled lock's powers
    ``(I + κN)P = P⁰`` (:func:`models.crosstalk.coupled_heater_powers`; a ring its neighbours
    overshoot draws 0 W).  None for a module without rings."""
    parts = [(lane.transmitter.modulator, lane.transmitter.laser)
             if isinstance(lane.transmitter.modulator, MicroringModulator) else None for lane in module.lanes]
    if not any(parts):
        return None
    xt = module.crosstalk
    kappa = 0.0 if xt is None else xt.heater_coupling_adjacent

    def powers(t: float) -> np.ndarray:
        seen: dict[Any, float] = {}
        p0 = np.zeros(len(parts))
        for i, part in enumerate(parts):
            if part is None:
                continue
            if part not in seen:
                lk = part[0].lock(part[1].wavelength_at(t), t)
                seen[part] = lk.heater_power_w if lk.locked else 0.0
            p0[i] = seen[part]
        if kappa == 0.0:
            return p0
        return np.maximum(coupled_heater_powers(p0, kappa, check=False), 0.0)

    return powers


def heater_power_w_per_lane(module: LinkModule, chip_temperature_c: float) -> float:
    """Mean ring-heater power (W per lane) holding the locked rings of ``module`` on their lasers
    at ``chip_temperature_c`` (°C) (:meth:`models.modulator.MicroringModulator.lock`); lanes
    without a ring, or whose ring lost its lock, count 0 W; with thermal crosstalk between the
    heaters the coupled lock's powers (:func:`models.crosstalk.coupled_heater_powers`)."""
    model = _ring_heater_model(module)
    return 0.0 if model is None else float(np.mean(model(float(chip_temperature_c))))


def _die_heat_model(module: LinkModule) -> Any:
    """``P_die(T)`` of ``module`` as a function of the die temperature (°C), with the lanes'
    identical lasers and rings grouped so that each is evaluated once per temperature."""
    p = _params(module)
    blocks = p.chip_heat_blocks
    n = module.n_lanes
    lasers: dict[Any, float] = {}
    for lane in module.lanes:
        tx = lane.transmitter
        if "laser" in blocks and not p.laser.external and tx.laser.held_temperature_c is None:
            # a held laser sits on its own TEC, off the die
            lasers[tx.laser] = lasers.get(tx.laser, 0.0) + 1.0 / tx.lasers_shared_by
    rings = _ring_heater_model(module) if "ring_heater" in blocks else None
    q0 = n * p.modulator_bias_w_per_lane if "modulator_bias" in blocks else 0.0
    e_pj = (p.driver_energy_pj_per_bit if "driver" in blocks else 0.0) + (
        p.tia_energy_pj_per_bit if "tia" in blocks else 0.0)
    e_w = e_pj * 1e-12 * module.payload_rate_bps
    leakage = p.leakage

    def heat(t: float) -> float:
        q = q0
        for laser, weight in lasers.items():
            q += weight * (laser.electrical_power_w(t) - laser.output_power_w(t))
        if rings is not None:
            q += float(np.sum(rings(t)))
        if e_w > 0.0:
            q += e_w * leakage.factor(t)
        return q

    return heat


def die_heat_w(module: LinkModule, chip_temperature_c: float) -> float:
    """Heat (W) dissipated on ``module``'s photonic die at die temperature ``chip_temperature_c``
    (°C): the sum of its architecture's ``chip_heat_blocks`` (module docstring); a ring that
    lost its lock counts 0 W of heater.

    Raises
    ------
    InvalidParameter
        A temperature outside -60...250 °C.
    """
    t = validate.in_range("chip_temperature_c", chip_temperature_c, -60.0, 250.0, unit="°C")
    return _die_heat_model(module)(t)


def chip_temperature_c(module: LinkModule, case_temperature_c: float) -> float:
    """Temperature (°C) of ``module``'s photonic die at case temperature ``case_temperature_c``.

    ``T_case + chip_temperature_rise_k`` when the module fixes its rise; else the solution of
    ``T_chip = T_case + R_chip * P_die(T_chip)`` (:func:`chip_thermal_resistance_k_per_w`,
    :func:`die_heat_w`, :func:`models.power.solve_self_heating`; module docstring), cached per
    (module, case temperature).  Public as :func:`models.thermal.chip_temperature_c`.

    Raises
    ------
    InvalidParameter
        A case temperature outside -60...150 °C, or thermal runaway.
    """
    t = validate.in_range("case_temperature_c", case_temperature_c, -60.0, 150.0, unit="°C")
    rise = getattr(module, "chip_temperature_rise_k", None)
    if rise is not None:
        return t + float(rise)
    key = (id(module), t)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is module:
        return hit[1]
    r = chip_thermal_resistance_k_per_w(module)
    sol = power_model.solve_self_heating(_die_heat_model(module), t, r, tolerance_k=1e-9)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (module, sol.temperature_c)
    return sol.temperature_c


def case_temperature_c(module: LinkModule, chip_temperature_c: float) -> float:
    """The case temperature (°C) at which ``module``'s die sits at ``chip_temperature_c`` (°C):
    ``T_case = T_chip − R_chip * P_die(T_chip)`` (explicit: the die heat depends on the die
    temperature only), or ``T_chip − chip_temperature_rise_k`` for a fixed rise."""
    t = validate.real("chip_temperature_c", chip_temperature_c)
    rise = getattr(module, "chip_temperature_rise_k", None)
    if rise is not None:
        return t - float(rise)
    return t - chip_thermal_resistance_k_per_w(module) * die_heat_w(module, t)


def design_value(module: LinkModule, field: str) -> float:
    """The value a population takes as nominal for ``module``'s thermal field ``field``:
    ``chip_temperature_rise_k`` (the fixed rise, or the solved one at 25 °C case) or
    ``chip_thermal_resistance_k_per_w`` (:func:`chip_thermal_resistance_k_per_w`); any other
    field its value (NaN for None)."""
    if field == "chip_temperature_rise_k":
        return chip_temperature_c(module, 25.0) - 25.0
    if field == "chip_thermal_resistance_k_per_w":
        return chip_thermal_resistance_k_per_w(module)
    value = getattr(module, field)
    return math.nan if value is None else float(value)


def cache_info() -> dict[str, Any]:
    """Entries in the chip-temperature cache (for benchmarks and tests)."""
    return {"entries": len(_CACHE), "max_entries": _CACHE_SIZE}


__all__ = [
    "case_temperature_c",
    "chip_temperature_c",
    "chip_thermal_resistance_k_per_w",
    "design_value",
    "die_heat_w",
    "heater_power_w_per_lane",
]
