"""Tests of models.link: lane and module simulation, power bookkeeping, failures, FFT helpers."""

import dataclasses
import math

import numpy as np
import pytest

from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import (
    Lane,
    LinkModule,
    SimulationSettings,
    Transmitter,
    simulate,
    simulate_lane,
    transmitter_transfer,
)
from models.modulator import IdealIntensityModulator, MachZehnderModulator, MicroringModulator
from models.presets import list_presets, preset
from models.receiver import Photodiode, Receiver, Tia
from optics.errors import InvalidParameter, InvalidType
from optics.patterns import pattern

BAUD = 53.125e9
FAST = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False)


def test_fast_drive_path_equals_driver_then_modulator():
    sym = pattern("PRBS9Q", 511)
    drv = Pam4Driver(swing_v=2.0, rise_time_s=7e-12, ffe_taps=(-0.1, 1.0, -0.05))
    mzm = MachZehnderModulator(eo_bandwidth_hz=40e9, chirp_alpha=0.0)
    tx = Transmitter(driver=drv, laser=DfbLaser(), modulator=mzm)
    t, _ = transmitter_transfer(tx, sym, BAUD, 16)
    drive = drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=16)
    light = DfbLaser().emit(drive.n_samples, drive.sample_rate_hz)
    ref = mzm.modulate(light, drive).field / light.field
    np.testing.assert_allclose(t, ref, atol=1e-9)


def _ideal_lane(er_db=5.0, **settings):
    tx = Transmitter(
        driver=Pam4Driver(swing_v=1.0, rise_time_s=0.0),
        laser=DfbLaser(rin_db_per_hz=-160.0).with_output_power(2e-3),
        modulator=IdealIntensityModulator(extinction_ratio_db=er_db, swing_v=1.0),
    )
    ch = Channel(fiber=Fiber(length_m=500.0), connector_loss_db=0.5, n_connectors=2)
    return Lane(name="ideal", transmitter=tx, channel=ch, receiver=Receiver())


def test_tx_metrics_match_oma_er_and_average_power_relations():
    lane = _ideal_lane(er_db=5.0)
    res = simulate_lane(lane, symbol_rate_baud=BAUD, settings=FAST, rng=np.random.default_rng(1))
    m = res.metrics
    # the ideal modulator sets P3/P0 = ER and P3 = P_laser (2 mW); optics measures the levels
    assert m["extinction_ratio_db"] == pytest.approx(5.0, abs=0.05)
    er = 10 ** (m["extinction_ratio_db"] / 10)
    p_ave = m["average_power_w"]
    # OMA = 2·P_ave·(ER − 1)/(ER + 1) for equally likely, equally spaced levels (PRBS9Q: 1 %)
    assert m["oma_outer_w"] == pytest.approx(2 * p_ave * (er - 1) / (er + 1), rel=0.01)
    assert m["oma_outer_w"] == pytest.approx(2e-3 * (1 - 10 ** -0.5), rel=0.01)


def test_receive_power_is_launch_power_minus_channel_loss():
    lane = _ideal_lane()
    res = simulate_lane(lane, symbol_rate_baud=BAUD, settings=FAST, rng=np.random.default_rng(2))
    il = lane.channel.insertion_loss_db  # 0.2 + 1.0 dB
    assert res.metrics["receive_power_dbm"] == pytest.approx(res.metrics["average_power_dbm"] - il, abs=1e-6)
    set_rx = dataclasses.replace(FAST, rx_power_dbm=-8.0)
    res2 = simulate_lane(lane, symbol_rate_baud=BAUD, settings=set_rx, rng=np.random.default_rng(2))
    assert res2.metrics["receive_power_dbm"] == pytest.approx(-8.0, abs=1e-9)


def test_counted_and_estimated_ber_agree_near_sensitivity():
    lane = _ideal_lane()
    s = dataclasses.replace(FAST, pattern="PRBS13Q", n_symbols=8191 * 4, rx_power_dbm=-13.0)
    m = simulate_lane(lane, symbol_rate_baud=BAUD, settings=s, rng=np.random.default_rng(3)).metrics
    assert m["bit_errors"] > 30
    # counted within a factor 2 of the statistical estimate (both from optics.ber)
    assert 0.5 < m["ber_counted"] / m["ber_estimate"] < 2.0


def test_preset_module_simulation_and_power():
    res = simulate(preset("400GBASE-DR4"), FAST, seed=5)
    assert res.ok and len(res.lanes) == 4
    for lane in res.lanes:
        for key in ("oma_outer_dbm", "extinction_ratio_db", "average_power_dbm", "ber_estimate", "ber_counted"):
            assert lane.metrics[key] is not None, key
        assert lane.tx_waveform.unit == "W" and lane.rx_waveform.unit == "V"
        assert lane.tx_waveform.meta["seed"] == 5
        # IEEE 400GBASE-DR4 Tx window: average launch power −2.9...4.0 dBm, ER >= 3.5 dB
        assert -2.9 < lane.metrics["average_power_dbm"] < 4.0
        assert lane.metrics["extinction_ratio_db"] > 3.5
    assert res.energy_pj_per_bit == pytest.approx(res.module_power_w / 400e9 * 1e12, rel=1e-9)
    d = res.to_dict()
    assert set(d) >= {"lanes", "module_power_w", "energy_pj_per_bit"}


def test_same_seed_reproduces_and_lanes_get_independent_noise():
    a = simulate(preset("400GBASE-DR4"), FAST, seed=9)
    b = simulate(preset("400GBASE-DR4"), FAST, seed=9)
    np.testing.assert_array_equal(a.lanes[0].rx_waveform.samples, b.lanes[0].rx_waveform.samples)
    assert not np.array_equal(a.lanes[0].rx_waveform.samples, a.lanes[1].rx_waveform.samples)


def _ring_module(max_heater_w=0.06):
    ring = MicroringModulator(loaded_q=3000.0, extinction_db=10.0, shift_m_per_v=50e-12, bias_detuning_m=0.2e-9,
                              max_heater_power_w=max_heater_w)
    tx = Transmitter(driver=Pam4Driver(swing_v=2.0, rise_time_s=6e-12), laser=DfbLaser().with_output_power(4e-3),
                     modulator=ring)
    lane = Lane(name="ring", transmitter=tx, channel=Channel(), receiver=Receiver())
    return LinkModule(name="ring", lanes=[lane], symbol_rate_baud=BAUD, payload_rate_bps=100e9, power_params="cpo")


def test_ring_lane_reports_heater_power_and_fails_when_lock_is_lost():
    ok = simulate(_ring_module(), dataclasses.replace(FAST, temperature_c=25.0))
    assert ok.ok
    # chip 35 °C: need (1311.9 − 0.2) − (1309.9 + 0.7) = 1.1 nm -> 11 mW at 0.1 nm/mW
    assert ok.lanes[0].metrics["heater_power_w"] == pytest.approx(11e-3, rel=1e-6)
    assert ok.power.blocks_w["ring_heater"] == pytest.approx(11e-3, rel=1e-6)
    bad = simulate(_ring_module(max_heater_w=5e-3), FAST)
    assert not bad.ok and bad.lanes[0].metrics["link_failed"]
    assert "lock lost" in bad.lanes[0].metrics["failure"]
    with pytest.raises(InvalidParameter, match="lock lost"):
        simulate(_ring_module(max_heater_w=5e-3), FAST, fail_fast=True)


def test_tia_overload_and_dark_laser_fail_the_lane():
    over = simulate(preset("400GBASE-DR4"), dataclasses.replace(FAST, rx_power_dbm=10.0))
    assert not over.ok and "overload" in over.lanes[0].metrics["failure"]
    hot = preset("400GBASE-DR4")
    weak_laser = DfbLaser(threshold_current_a=30e-3, t0_k=40.0, bias_current_a=60e-3)
    hot = dataclasses.replace(hot, lanes=[dataclasses.replace(
        hot.lanes[0], transmitter=dataclasses.replace(hot.lanes[0].transmitter, laser=weak_laser))])
    res = simulate(hot, dataclasses.replace(FAST, temperature_c=70.0))
    assert not res.ok and "threshold" in res.lanes[0].metrics["failure"]


def test_200g_preset_uses_receiver_ffe():
    m = preset("800GBASE-DR4")
    assert m.symbol_rate_baud == 106.25e9 and m.rx_ffe_taps > 0
    assert preset("800GBASE-DR4-2").symbol_rate_baud == 113.4375e9
    s = SimulationSettings(pattern="PRBS13Q", samples_per_symbol=8, compute_tdecq=False)
    res = simulate(dataclasses.replace(m, lanes=m.lanes[:1]), s)
    lane = res.lanes[0].metrics
    assert len(lane["rx_ffe_taps"]) == m.rx_ffe_taps and sum(lane["rx_ffe_taps"]) == pytest.approx(1.0)
    assert lane["ber_estimate"] is not None and lane["ber_estimate"] < 1e-6


def test_every_preset_builds():
    for name in list_presets():
        m = preset(name)
        assert m.n_lanes in (4, 8)


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [({"samples_per_symbol": 2}, InvalidParameter, "samples_per_symbol"),
     ({"n_symbols": 10}, InvalidParameter, "n_symbols"),
     ({"temperature_c": 500.0}, InvalidParameter, "temperature_c"),
     ({"compute_tdecq": "yes"}, InvalidType, "compute_tdecq")],
)
def test_bad_settings(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        SimulationSettings(**kwargs)


def test_bad_module_and_unknown_preset():
    with pytest.raises(InvalidParameter, match="lanes"):
        LinkModule(name="x", lanes=[], symbol_rate_baud=BAUD, payload_rate_bps=1e11)
    with pytest.raises(InvalidParameter, match="400GBASE-DR4"):
        preset("400GBASE-XX")
    with pytest.raises(InvalidParameter, match="lasers_shared_by"):
        Transmitter(lasers_shared_by=0)


def test_sample_rate_below_twice_the_modulator_bandwidth_fails():
    tx = Transmitter(modulator=MachZehnderModulator(eo_bandwidth_hz=300e9))
    lane = Lane(transmitter=tx, receiver=Receiver(photodiode=Photodiode(), tia=Tia()))
    with pytest.raises(InvalidParameter, match="eo_bandwidth_hz"):
        simulate_lane(lane, symbol_rate_baud=BAUD, settings=dataclasses.replace(FAST, samples_per_symbol=8),
                      rng=np.random.default_rng(0))
    assert math.isclose(BAUD * 8, 425e9)
