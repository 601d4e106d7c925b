"""Tests of models.presets: the presets' lasers run under automatic power control (issue 13 item 1).

Second paths: the APC bias written out from the L-I equations; the launch power of a simulated
1.6TBASE-DR8 module measured by optics at 0 and 70 °C case.
"""

from __future__ import annotations

import math

import pytest

from models.lane_metrics import module_power_at
from models.link import SimulationSettings
from models.presets import list_presets, preset
from models.thermal import sweep_temperature


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_laser_holds_its_power_from_0_to_70_c_case(name):
    m = preset(name)
    for lane in m.lanes:
        laser = lane.transmitter.laser
        assert laser.apc_power_w is not None and laser.max_bias_current_a is not None
        p_set, bias = laser.apc_power_w, []
        for t_case in (0.0, 70.0):
            t = t_case + m.chip_temperature_rise_k
            d = t - 25.0
            needed = 8e-3 * math.exp(d / 64.0) + p_set / (0.3 * math.exp(-d / 260.0))   # I_th(T) + P/η(T)
            assert laser.bias_current_at(t) == pytest.approx(needed, rel=1e-12)
            assert laser.output_power_w(t) == pytest.approx(p_set, rel=1e-12)
            bias.append(laser.bias_current_at(t))
        assert bias[1] > bias[0]


def test_1p6t_dr8_launch_power_holds_while_bias_and_module_power_rise():
    """The issue's "done when": 0 -> 70 °C case, every lane's launch power within 1 dB."""
    m = preset("1.6TBASE-DR8")
    settings = SimulationSettings(pattern="PRBS9Q", n_symbols=2044, samples_per_symbol=8, compute_tdecq=False)
    sweep = sweep_temperature(m, [0.0, 70.0], settings, seed=3, workers=1)
    cold, hot = sweep.results
    assert cold.ok and hot.ok
    for a, b in zip(cold.lanes, hot.lanes):
        assert abs(b.metrics["average_power_dbm"] - a.metrics["average_power_dbm"]) < 1.0
    # the bias the servo takes: I_th(T) + P/η(T) at the chip (case + 10 K), 132.2 mA -> 183.6 mA
    laser = m.lanes[0].transmitter.laser
    assert laser.bias_current_at(80.0) - laser.bias_current_at(10.0) == pytest.approx(
        8e-3 * (math.exp(55 / 64) - math.exp(-15 / 64)) + 0.04 / 0.3 * (math.exp(55 / 260) - math.exp(-15 / 260)),
        rel=1e-9)
    assert hot.module_power_w > cold.module_power_w
    assert hot.power.blocks_w["laser"] > cold.power.blocks_w["laser"]
    assert hot.power.blocks_w["dsp"] > cold.power.blocks_w["dsp"]          # leakage at the hotter junction
    assert hot.power.junction_temperature_c > cold.power.junction_temperature_c > 0.0


def test_module_power_laser_block_is_the_apc_bias_drive():
    m = preset("800GBASE-DR8")
    t = 80.0
    laser = m.lanes[0].transmitter.laser
    i = laser.bias_current_at(t)
    b = module_power_at(m, t, 0.0)
    # two lasers (one per four lanes), each I V_f + I^2 R_s
    assert b.blocks_w["laser"] == pytest.approx(2 * (i * 1.2 + i * i * 4.0), rel=1e-12)
