"""Tests of models.presets: the presets' lasers run under automatic power control (issue 13 item 1).

Second paths: the APC bias written out from the L-I equations; the launch power of a simulated
1.6TBASE-DR8 module measured by optics at 0 and 70 °C case.
"""

from __future__ import annotations

import math

import pytest

from models.lane_metrics import module_power_at
from models.link import SimulationSettings
from models.power import RingHeaterParams, ring_heater_power_w
from models.presets import CPO_LASER_HELD_C, list_presets, preset
from models.thermal import chip_temperature_c, drift_table, sweep_temperature


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_laser_holds_its_power_from_0_to_70_c_case(name):
    m = preset(name)
    for lane in m.lanes:
        laser = lane.transmitter.laser
        assert laser.apc_power_w is not None and laser.max_bias_current_a is not None
        p_set, bias = laser.apc_power_w, []
        for t_case in (0.0, 70.0):
            t = chip_temperature_c(m, t_case)
            # an external laser held at its own temperature (the CPO preset) sees that one
            d = (t if laser.held_temperature_c is None else laser.held_temperature_c) - 25.0
            needed = 8e-3 * math.exp(d / 64.0) + p_set / (0.3 * math.exp(-d / 260.0))   # I_th(T) + P/η(T)
            assert laser.bias_current_at(t) == pytest.approx(needed, rel=1e-12)
            assert laser.output_power_w(t) == pytest.approx(p_set, rel=1e-12)
            bias.append(laser.bias_current_at(t))
        if laser.held_temperature_c is None:
            assert bias[1] > bias[0]
        else:
            assert bias[1] == bias[0]


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


def test_cpo_external_laser_stays_put_and_the_ring_heater_power_falls_as_the_chip_heats():
    """Issue 13 item 4: the external laser is at its own temperature, so only the ring drifts.

    Closed form (the project's heater model, :func:`models.power.ring_heater_power_w`): a ring
    of 0.07 nm/K on a stabilised laser (0 nm/K), 0.1 nm/mW, parked 0.2 nm short of the target
    at a 95 °C chip: ``P(T) = (0.2 nm + (95 − T)·0.07 nm/K)/0.1 nm/mW``, slope −0.7 mW/K.
    Before the change the laser drifted with the chip (0.09 nm/K) and the slope was +0.2 mW/K.
    """
    m = preset("1.6T-DR8-MRM-CPO")
    temps = [0.0, 25.0, 50.0, 70.0, 85.0]
    rows = [r for r in drift_table(m, temps) if r["lane"] == "lane 0"]
    params = RingHeaterParams(laser_shift_nm_per_k=0.0, park_temperature_c=95.0, fabrication_offset_nm=0.2,
                              tuning_range_nm=7.0)
    for r in rows:
        assert r["ring_locked"]
        assert r["wavelength_m"] == pytest.approx(1311e-9 + 0.09e-9 * (CPO_LASER_HELD_C - 25.0), rel=1e-15)
        assert r["heater_power_w"] == pytest.approx(ring_heater_power_w(r["chip_temperature_c"], params), rel=1e-9)
    # per kelvin of the chip (the chip's rise above the case is solved from its heat, so it is
    # not the same at every case temperature)
    slope = (rows[-1]["heater_power_w"] - rows[0]["heater_power_w"]) / (
        rows[-1]["chip_temperature_c"] - rows[0]["chip_temperature_c"])
    assert slope == pytest.approx(-0.7e-3, rel=1e-9)
    assert rows[-1]["chip_temperature_c"] > rows[0]["chip_temperature_c"] + 85.0   # the chip heats more than the case
    # the lock range ends where the 70 mW heater runs out: −2 °C chip (−12 °C case)
    cold = [r for r in drift_table(m, [-13.0]) if r["lane"] == "lane 0"][0]
    assert not cold["ring_locked"]


def test_every_preset_receiver_has_the_ffe_of_its_lane_class():
    """Issue 13 item 5: 5 taps at 100 G/lane (802.3 reference equaliser), 15 at 200 G/lane (802.3dj)."""
    for name in list_presets():
        m = preset(name)
        assert m.rx_ffe_taps == (5 if m.symbol_rate_baud < 80e9 else 15), name


def test_100g_lane_equalised_receiver_reaches_the_ber_limit_1p5_db_above_the_thermal_limit():
    """Simulated back-to-back 400GBASE-DR4 lane, received OMA 1.5 dB above the closed-form
    thermal+shot-noise sensitivity (models.receiver.sensitivity_oma_w at BER 2.4e-4): with the
    5-tap FFE the statistical BER is below 2.4e-4; without it (the old presets) above, since the
    lane's ISI then costs 3.4 dB (sensitivity -8.86 dBm OMA against -12.28 dBm)."""
    import dataclasses

    from models.fiber import Channel, Fiber
    from models.link import simulate
    from models.receiver import sensitivity_oma_w

    m = preset("400GBASE-DR4")
    lane = dataclasses.replace(m.lanes[0], channel=Channel(fiber=Fiber(length_m=0.0), n_connectors=0))
    m = dataclasses.replace(m, lanes=[lane])
    s = SimulationSettings(pattern="PRBS13Q", samples_per_symbol=16, compute_tdecq=False, count_errors=False)
    tx = simulate(m, s, seed=1, workers=1).lanes[0].metrics
    cf = sensitivity_oma_w(lane.receiver, 2.4e-4, extinction_ratio_db=tx["extinction_ratio_db"])
    cf_dbm = 10 * math.log10(cf / 1e-3)
    p = cf_dbm + 1.5 - (tx["oma_outer_dbm"] - tx["average_power_dbm"])
    s = dataclasses.replace(s, rx_power_dbm=p)
    eq = simulate(m, s, seed=1, workers=1).lanes[0].metrics["ber_estimate"]
    raw = simulate(dataclasses.replace(m, rx_ffe_taps=0), s, seed=1, workers=1).lanes[0].metrics["ber_estimate"]
    assert eq < 2.4e-4 < raw
