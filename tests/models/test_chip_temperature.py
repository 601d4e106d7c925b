"""The photonic die's temperature solved from the heat on it (issue 13 item 2).

References written out here, independently of :mod:`models.chip_temperature`: the APC bias
from the L-I equations (I_th(T) + P/η(T)), the laser's heat ``I V_f + I² R_s − P_opt``, the
CPO ring heater ``(0.2 nm + (95 − T)·0.07 nm/K)/0.1 nm/mW`` and the leakage factor
``0.8 + 0.2·2^((T − 70)/25)``; the fixed point ``T_chip − T_case = R_chip·P_die(T_chip)``.
"""

from __future__ import annotations

import dataclasses
import math
import time

import pytest

from models import chip_temperature as ct
from models.config import loads_link
from models.population import parameter_table
from models.power import CHIP_THERMAL, preset_params
from models.presets import preset
from models.thermal import chip_temperature_c, heater_power_w_per_lane, static_module_power
from optics.errors import ConfigError, InvalidParameter, InvalidType


def _apc_bias_a(t_chip_c: float, p_set_w: float) -> float:
    d = t_chip_c - 25.0
    return 8e-3 * math.exp(d / 64.0) + p_set_w / (0.3 * math.exp(-d / 260.0))


def _laser_heat_w(t_chip_c: float, p_set_w: float) -> float:
    i = _apc_bias_a(t_chip_c, p_set_w)
    return i * 1.2 + i * i * 4.0 - p_set_w


def _cpo_die_heat_w(t_chip_c: float) -> float:
    """Stacked driver + TIA (2.5 + 0.8 pJ/bit × 1.6 Tb/s) with leakage, and 8 ring heaters."""
    leak = 0.8 + 0.2 * 2.0 ** ((t_chip_c - 70.0) / 25.0)
    heater_w = (0.2 + (95.0 - t_chip_c) * 0.07) / 0.1 * 1e-3
    return (2.5 + 0.8) * 1e-12 * 1.6e12 * leak + 8 * heater_w


@pytest.mark.parametrize("t_case", [0.0, 25.0, 70.0, 85.0])
def test_pluggable_rise_is_r_times_the_die_heat_at_the_fixed_point(t_case):
    m = preset("800GBASE-DR8")        # two 40 mW lasers (one per four lanes), 8 × 10 mW MZM bias
    t = chip_temperature_c(m, t_case)
    assert t - t_case == pytest.approx(19.0 * (2 * _laser_heat_w(t, 0.04) + 8 * 0.01), rel=1e-9)
    # the previous fixed assumption (10 K) is kept at the 25 °C design point, to 0.1 K
    if t_case == 25.0:
        assert t - t_case == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize("t_case", [0.0, 25.0, 70.0, 85.0])
def test_cpo_rise_is_r_times_the_stacked_electronics_and_heaters(t_case):
    m = preset("1.6T-DR8-MRM-CPO")    # external laser: not on the die
    t = chip_temperature_c(m, t_case)
    assert t - t_case == pytest.approx(1.5 * _cpo_die_heat_w(t), rel=1e-9)
    if t_case == 85.0:                # the ring is parked for a 95 °C die at 85 °C case
        assert t < 95.0 + 0.2 / 0.07 and t == pytest.approx(95.0, abs=0.6)


def test_rise_grows_with_case_temperature_while_the_cpo_heaters_fall():
    for name in ("800GBASE-DR8", "400GBASE-FR4", "1.6T-DR8-MRM-CPO"):
        m = preset(name)
        rises = [chip_temperature_c(m, t) - t for t in (0.0, 35.0, 70.0)]
        assert rises[0] < rises[1] < rises[2], name     # APC bias (pluggable) / leakage (CPO) grows
    m = preset("1.6T-DR8-MRM-CPO")
    t0, t1 = chip_temperature_c(m, 0.0), chip_temperature_c(m, 70.0)
    slope = (heater_power_w_per_lane(m, t1) - heater_power_w_per_lane(m, t0)) / (t1 - t0)
    assert slope == pytest.approx(-0.7e-3, rel=1e-9)    # the heater model: −0.07 nm/K / 0.1 nm/mW


def test_fixed_rise_overrides_and_thermal_resistance_replaces_the_architectures():
    m = preset("800GBASE-DR8")
    fixed = dataclasses.replace(m, chip_temperature_rise_k=10.0, chip_thermal_resistance_k_per_w=40.0)
    assert chip_temperature_c(fixed, 70.0) == 80.0           # the rise wins (the old model)
    r40 = dataclasses.replace(m, chip_thermal_resistance_k_per_w=40.0)
    t = chip_temperature_c(r40, 25.0)
    assert t - 25.0 == pytest.approx(40.0 * (2 * _laser_heat_w(t, 0.04) + 8 * 0.01), rel=1e-9)
    cold = dataclasses.replace(m, chip_thermal_resistance_k_per_w=0.0)
    assert chip_temperature_c(cold, 25.0) == 25.0
    for bad in (-1.0, 501.0, math.nan):
        with pytest.raises(InvalidParameter):
            dataclasses.replace(m, chip_thermal_resistance_k_per_w=bad)


def test_case_temperature_is_the_inverse_and_runaway_is_raised():
    for name in ("800GBASE-DR8", "1.6T-DR8-MRM-CPO"):
        m = preset(name)
        for t_case in (-5.0, 40.0, 85.0):
            assert ct.case_temperature_c(m, chip_temperature_c(m, t_case)) == pytest.approx(t_case, abs=1e-8)
    hot = dataclasses.replace(preset("1.6T-DR8-MRM-CPO"), chip_thermal_resistance_k_per_w=400.0)
    with pytest.raises(InvalidParameter, match="runaway"):
        chip_temperature_c(hot, 25.0)
    with pytest.raises(InvalidParameter, match="case_temperature_c"):
        chip_temperature_c(preset("800GBASE-DR8"), 200.0)
    with pytest.raises(InvalidType):
        chip_temperature_c("800GBASE-DR8", 25.0)


def test_heat_blocks_are_validated():
    p = preset_params("dsp")
    assert p.chip_heat_blocks == CHIP_THERMAL["dsp"][0] and preset_params("cpo").chip_thermal_resistance_k_per_w == 1.5
    for bad in (("laser", "dsp"), ("laser", "laser")):
        with pytest.raises(InvalidParameter, match="chip_heat_blocks"):
            dataclasses.replace(p, chip_heat_blocks=bad)
    with pytest.raises(InvalidType):
        dataclasses.replace(p, chip_heat_blocks="laser")
    with pytest.raises(InvalidParameter):
        dataclasses.replace(p, chip_thermal_resistance_k_per_w=-2.0)


def test_solve_is_cached_per_module_and_case_temperature():
    m = dataclasses.replace(preset("1.6TBASE-DR8"))
    t0 = time.perf_counter()
    first = chip_temperature_c(m, 33.0)
    t1 = time.perf_counter()
    for _ in range(100):
        assert chip_temperature_c(m, 33.0) == first
    t2 = time.perf_counter()
    assert (t2 - t1) / 100 < (t1 - t0)          # a lookup is cheaper than the solve
    other = dataclasses.replace(m, chip_thermal_resistance_k_per_w=10.0)   # a new module: solved anew
    assert chip_temperature_c(other, 33.0) < first
    assert ct.cache_info()["entries"] <= ct.cache_info()["max_entries"]


def test_module_power_uses_the_solved_chip():
    m = preset("800GBASE-DR8")
    b = static_module_power(m, 70.0)
    i = m.lanes[0].transmitter.laser.bias_current_at(chip_temperature_c(m, 70.0))
    assert b.blocks_w["laser"] == pytest.approx(2 * (i * 1.2 + i * i * 4.0), rel=1e-12)


def test_link_file_keys_and_population_nominals():
    cfg = loads_link('preset = "800GBASE-DR8"\nchip_thermal_resistance_k_per_w = 25.0\n')
    assert cfg.module.chip_thermal_resistance_k_per_w == 25.0 and cfg.module.chip_temperature_rise_k is None
    with pytest.raises(ConfigError, match="chip_thermal_resistance_k_per_w"):
        loads_link('preset = "800GBASE-DR8"\nchip_thermal_resistance_k_per_w = -3.0\n')
    rows = {r.path: r for r in parameter_table(preset("1.6TBASE-DR8"))}
    rise = rows["module.chip_temperature_rise_k"]
    assert rise.nominal == pytest.approx(chip_temperature_c(preset("1.6TBASE-DR8"), 25.0) - 25.0, rel=1e-12)
    r_th = rows["module.chip_thermal_resistance_k_per_w"]
    assert r_th.unit == "K/W" and r_th.nominal == 19.0 and (r_th.low, r_th.high) == (0.0, 500.0)
