"""Tests of models.link: lane and module simulation, power bookkeeping, failures, FFT helpers."""

import dataclasses
import math

import numpy as np
import pytest

from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser, OpticalField
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
    # the chip rise fixed at 10 K (the explicit override): the heater figures below are at case + 10 K
    return LinkModule(name="ring", lanes=[lane], symbol_rate_baud=BAUD, payload_rate_bps=100e9, power_params="cpo",
                      chip_temperature_rise_k=10.0)


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


# --- fast paths against straightforward references -------------------------------------------
def _reference_chain(lane, sym, baud, sps, t_chip):
    """The unmerged chain, block by block with numpy's FFT and the textbook equations (no noise)."""
    tx = lane.transmitter
    fs = baud * sps
    drive = tx.driver.drive(sym, symbol_rate_baud=baud, samples_per_symbol=sps)
    light = tx.laser.emit(drive.n_samples, fs, temperature_c=t_chip)
    field = tx.modulator.modulate(light, drive).field * 10 ** (-tx.split_loss_db / 20)
    n = field.size
    # fibre: E(f)·10^(−IL/20)·exp(+j·D·L·λ²/(4πc)·ω²)  (β2L = −D·L·λ²/(2πc))
    lam = light.wavelength_m
    dl = lane.channel.fiber.dispersion_ps_per_nm(lam) * 1e-3
    w = 2 * np.pi * np.fft.fftfreq(n, 1 / fs)
    h_fib = 10 ** (-lane.channel.insertion_loss_db / 20) * np.exp(0.5j * dl * lam**2 / (2 * np.pi * 299792458.0) * w**2)
    rx_field = np.fft.ifft(np.fft.fft(field) * h_fib)
    pd, tia = lane.receiver.photodiode, lane.receiver.tia
    current = pd.responsivity_a_per_w * np.abs(rx_field) ** 2 + pd.dark_current_at(t_chip)
    f = np.fft.rfftfreq(n, 1 / fs)
    h_pd = 1 / (1 + 1j * f / pd.bandwidth_hz)  # first-order PD
    s = 1j * f / tia.bandwidth_hz * 2.113917674904216  # Bessel-Thomson-4 TIA, 3 dB at its bandwidth
    h_tia = 105 / ((((s + 10) * s + 45) * s + 105) * s + 105)
    v = np.fft.irfft(np.fft.rfft(current) * h_pd * h_tia, n) * tia.transimpedance_ohm
    return np.abs(field) ** 2, v


@pytest.mark.parametrize("n_symbols, pattern_name", [(4096, "PRBS13Q"), (511 * 4, "PRBS9Q"), (16384, "PRBS13Q")])
def test_merged_fast_path_equals_unmerged_reference_chain(n_symbols, pattern_name):
    # 200G lane of the 1.6TBASE-DR8 preset (MZM, split laser, fibre at the worst λ0, PD/TIA):
    # 2^15 samples (1-D FFTs), 2044·8 = 73·224 samples (Good-Thomas 2-D layout) and 2^17
    # samples (four-step layout, models.fft_layout)
    from models.link import channel_and_receiver

    # the reference chain is jitter-free (the driver's jitter is tests/models/test_jitter.py's): its preset too
    lane = preset("1.6TBASE-DR8", jitter=False).lanes[0]
    baud, sps, t_chip = 106.25e9, 8, 35.0
    sym = pattern(pattern_name, n_symbols)
    p_ref, v_ref = _reference_chain(lane, sym, baud, sps, t_chip)
    tx = lane.transmitter
    t, _ = transmitter_transfer(tx, sym, baud, sps)
    amp = tx.laser.amplitude(t.size, baud * sps, temperature_c=t_chip)
    field = t * amp * 10 ** (-tx.split_loss_db / 20)
    np.testing.assert_allclose(np.abs(field) ** 2, p_ref, rtol=1e-12, atol=1e-12 * p_ref.max())
    light = OpticalField(field=field, sample_rate_hz=baud * sps, wavelength_m=tx.laser.wavelength_at(t_chip))
    swing = np.ptp(v_ref)
    wf, p_rx = channel_and_receiver(light, lane.channel, lane.receiver, rng=None, temperature_c=t_chip)
    np.testing.assert_allclose(wf.samples, v_ref, rtol=0, atol=1e-12 * swing)
    assert p_rx == pytest.approx(np.mean(p_ref) * 10 ** (-lane.channel.insertion_loss_db / 10), rel=1e-12)
    # the block-by-block models (Channel.propagate, Receiver.detect) give the same samples
    slow = lane.receiver.detect(lane.channel.propagate(light), temperature_c=t_chip).samples
    np.testing.assert_allclose(slow, v_ref, rtol=0, atol=1e-12 * swing)
    # single precision: within 2e-6 of the swing (float32 rounding of a 2^15..2^17-point FFT chain)
    wf32, _ = channel_and_receiver(light, lane.channel, lane.receiver, rng=None, temperature_c=t_chip, single=True)
    assert np.max(np.abs(wf32.samples - v_ref)) < 2e-6 * swing


def test_fused_receiver_noise_matches_detect_and_the_closed_form():
    from models.link import channel_and_receiver
    from models.receiver import Q_E

    n, fs = 1 << 16, 1e12
    p = 0.5e-3 * (1 + 0.5 * np.sin(2 * np.pi * 37 * np.arange(n) / n))
    light = OpticalField(field=np.sqrt(p).astype(complex), sample_rate_hz=fs, wavelength_m=1.31e-6)
    pd = Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=40e9, shape="gaussian")
    tia = Tia(transimpedance_ohm=1.0, input_noise_density_a_per_rthz=20e-12, bandwidth_hz=30e9, shape="gaussian")
    rx = Receiver(photodiode=pd, tia=tia)
    ch = Channel(fiber=Fiber(length_m=0.0), connector_loss_db=0.0)
    clean = rx.detect(light).samples
    # 2^16 samples: 1-D transforms, same draws in the same order as Receiver.detect
    fast, _ = channel_and_receiver(light, ch, rx, rng=np.random.default_rng(4), temperature_c=25.0)
    slow = rx.detect(light, rng=np.random.default_rng(4)).samples
    np.testing.assert_allclose(fast.samples, slow, rtol=0, atol=1e-12 * np.ptp(clean))
    # variance: 2qI·ENBW(pd·tia) + i_n²·ENBW(tia) (Gaussian ENBW 0.5·sqrt(π/(0.3 ln 10))·f3)
    enbw = 0.5 * math.sqrt(math.pi / (0.3 * math.log(10)))
    f_eff = 1 / math.sqrt(40e9**-2 + 30e9**-2)
    expected = 2 * Q_E * p.mean() * enbw * f_eff + (20e-12) ** 2 * enbw * 30e9
    assert np.var(fast.samples - clean) == pytest.approx(expected, rel=0.05)
    # Good-Thomas length (2^5·2047 = 2^5·23·89): noise drawn in the 2-D layout, same statistics
    m = 32 * 2047
    p2 = np.full(m, 0.5e-3)
    light2 = OpticalField(field=np.sqrt(p2).astype(complex), sample_rate_hz=fs, wavelength_m=1.31e-6)
    noisy, _ = channel_and_receiver(light2, ch, rx, rng=np.random.default_rng(5), temperature_c=25.0)
    expected2 = 2 * Q_E * 0.5e-3 * enbw * f_eff + (20e-12) ** 2 * enbw * 30e9
    assert np.var(noisy.samples) == pytest.approx(expected2, rel=0.05)
    assert np.mean(noisy.samples) == pytest.approx(0.5e-3, rel=1e-3)
    # four-step length (2^17): the fused path and Receiver.detect draw the same noise there too
    k = 1 << 17
    p3 = 0.5e-3 * (1 + 0.5 * np.sin(2 * np.pi * 91 * np.arange(k) / k))
    light3 = OpticalField(field=np.sqrt(p3).astype(complex), sample_rate_hz=fs, wavelength_m=1.31e-6)
    fast3, _ = channel_and_receiver(light3, ch, rx, rng=np.random.default_rng(6), temperature_c=25.0)
    slow3 = rx.detect(light3, rng=np.random.default_rng(6)).samples
    clean3 = rx.detect(light3).samples
    np.testing.assert_allclose(fast3.samples, slow3, rtol=0, atol=1e-12 * np.ptp(clean3))
    expected3 = 2 * Q_E * p3.mean() * enbw * f_eff + (20e-12) ** 2 * enbw * 30e9
    assert np.var(fast3.samples - clean3) == pytest.approx(expected3, rel=0.05)


def test_threads_do_not_change_a_lane():
    # 2^17 samples: noise drawn ahead on the draw thread and four-step fibre/receiver transforms
    lane = preset("400GBASE-DR4").lanes[0]
    s = SimulationSettings(pattern="PRBS13Q", n_symbols=8192, samples_per_symbol=16, compute_tdecq=False,
                           rx_power_dbm=-12.0)
    runs = {t: simulate_lane(lane, symbol_rate_baud=BAUD, settings=dataclasses.replace(s, threads=t),
                             rng=np.random.default_rng(21)) for t in (1, 2, 3)}
    for t in (2, 3):
        np.testing.assert_array_equal(runs[t].rx_waveform.samples, runs[1].rx_waveform.samples)
        np.testing.assert_array_equal(runs[t].tx_waveform.samples, runs[1].tx_waveform.samples)
        assert dict(runs[t].metrics) == dict(runs[1].metrics)
    assert runs[1].metrics["bit_errors"] > 0  # noise that matters at this power
    # the same with the precision and the threads given per call, and a reused transmitter
    cache: dict = {}
    a = simulate_lane(lane, symbol_rate_baud=BAUD, settings=s, rng=np.random.default_rng(21), cache=cache, threads=2)
    b = simulate_lane(lane, symbol_rate_baud=BAUD, settings=s, rng=np.random.default_rng(21), cache=cache, threads=1)
    np.testing.assert_array_equal(a.rx_waveform.samples, runs[1].rx_waveform.samples)
    np.testing.assert_array_equal(b.rx_waveform.samples, runs[1].rx_waveform.samples)
    with pytest.raises(InvalidParameter, match="threads"):
        SimulationSettings(threads=0)


def test_single_precision_keeps_counted_ber_and_estimate():
    # the tolerances stated in SimulationSettings.precision
    lane = _ideal_lane()
    s = dataclasses.replace(FAST, pattern="PRBS13Q", n_symbols=8191 * 4, rx_power_dbm=-13.0)
    m64 = simulate_lane(lane, symbol_rate_baud=BAUD, settings=dataclasses.replace(s, precision="double"),
                        rng=np.random.default_rng(3)).metrics
    s32 = dataclasses.replace(s, precision="single")
    assert SimulationSettings().precision == "single"
    m32 = simulate_lane(lane, symbol_rate_baud=BAUD, settings=s32, rng=np.random.default_rng(3)).metrics
    assert m64["bit_errors"] > 30
    assert m32["bit_errors"] == m64["bit_errors"]  # same noise draws, float32 arithmetic
    assert m32["ber_estimate"] == pytest.approx(m64["ber_estimate"], rel=1e-5)
    assert m32["receive_power_dbm"] == pytest.approx(m64["receive_power_dbm"], abs=1e-5)
    # the transmitter's drive filter runs in float32 too: the Tx power moves by < 1e-6 relative
    assert m32["average_power_dbm"] == pytest.approx(m64["average_power_dbm"], abs=5e-6)
    with pytest.raises(InvalidParameter, match="precision"):
        SimulationSettings(precision="half")


def test_parallel_lanes_give_the_serial_results():
    serial = simulate(preset("400GBASE-DR4"), FAST, seed=11, workers=1)
    forked = simulate(preset("400GBASE-DR4"), FAST, seed=11, workers=2)
    for a, b in zip(serial.lanes, forked.lanes):
        np.testing.assert_array_equal(a.rx_waveform.samples, b.rx_waveform.samples)
        np.testing.assert_array_equal(a.tx_waveform.samples, b.tx_waveform.samples)
        assert dict(a.metrics) == dict(b.metrics)
        assert a.rx_waveform.meta["seed_spawn_key"] == b.rx_waveform.meta["seed_spawn_key"]
    assert serial.module_power_w == forked.module_power_w
    with pytest.raises(InvalidParameter, match="workers"):
        simulate(preset("400GBASE-DR4"), FAST, workers=0)


def test_sweep_reuses_tx_metrics_exactly():
    from models.thermal import sweep_temperature

    # double precision: the reuse is exact up to float64 rounding (single: the tolerances of
    # SimulationSettings.precision)
    s = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, precision="double")
    # a constant-current laser (the preset's runs under APC and holds its power), so that the
    # laser power, and with it the scaled metrics, moves with temperature
    apc = preset("400GBASE-DR4")
    cc_laser = dataclasses.replace(apc.lanes[0].transmitter.laser, apc_power_w=None, max_bias_current_a=None)
    module = dataclasses.replace(apc, lanes=[dataclasses.replace(
        lane, transmitter=dataclasses.replace(lane.transmitter, laser=cc_laser)) for lane in apc.lanes])
    temps = [0.0, 35.0, 70.0]
    fast = sweep_temperature(module, temps, s, workers=1)
    full = sweep_temperature(module, temps, s, workers=2, reuse_tx_metrics=False)
    assert len(fast.rows) == len(full.rows) == 12
    for a, b in zip(fast.rows, full.rows):
        assert a["laser_power_w"] == b["laser_power_w"]
        assert a["ber_counted"] == b["ber_counted"]
        # scaled (TDECQ, ER: ratios; dBm: + 10·log10 k) vs measured again, and the receiver fed
        # from the first temperature's Tx spectrum times sqrt(P ratio): equal to rounding
        for key in ("tdecq_db", "extinction_ratio_db", "oma_outer_dbm", "average_power_dbm", "ber_estimate",
                    "receive_power_dbm"):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-9), key
    # the power ratio really moves the scaled metrics (0 → 70 °C: the laser loses power)
    assert fast.rows[0]["average_power_dbm"] - fast.rows[8]["average_power_dbm"] > 0.3


def test_scale_tx_metrics_bad_input():
    from models.link import scale_tx_metrics

    with pytest.raises(InvalidParameter, match="k"):
        scale_tx_metrics({"tx_eye_closed": False}, 0.0)
    with pytest.raises(InvalidParameter, match="open eye"):
        scale_tx_metrics({"tx_eye_closed": True}, 2.0)


def test_single_precision_follows_each_lanes_own_fibre_response():
    # 400GBASE-FR4: four CWDM wavelengths over 2 km, four different dispersion responses in
    # turn through the response caches; every lane must match its double-precision twin
    s = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False)
    module = preset("400GBASE-FR4")
    for _ in range(2):  # the second pass runs on recycled cache entries
        a = simulate(module, dataclasses.replace(s, precision="double"), seed=2, workers=1)
        b = simulate(module, s, seed=2, workers=1)
        for la, lb in zip(a.lanes, b.lanes):
            v64, v32 = la.rx_waveform.samples, lb.rx_waveform.samples
            assert np.max(np.abs(v32 - v64)) < 2e-6 * np.ptp(v64)


def test_single_precision_copy_of_a_response_is_never_stale():
    # freed arrays hand their id to new ones: the complex64 cache must not answer by id alone
    from models.link import _as_single

    for k in range(50):
        h = np.full(64, k + 1j, dtype=np.complex128)
        assert _as_single(h)[0] == np.complex64(k + 1j)
        del h


def test_single_precision_mzm_transfer_moves_the_tx_by_less_than_1e_6():
    # the stated bound (SimulationSettings.precision): float32 cos/sin of the MZM phase, on a
    # jitter-free driver (its transfer without a jitter stream)
    lane = preset("400GBASE-DR4", jitter=False).lanes[0]
    s = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 8, samples_per_symbol=16, compute_tdecq=True)
    res = {p: simulate_lane(lane, symbol_rate_baud=BAUD, settings=dataclasses.replace(s, precision=p),
                            rng=np.random.default_rng(4)) for p in ("single", "double")}
    p32, p64 = res["single"].tx_waveform.samples, res["double"].tx_waveform.samples
    assert 0 < np.max(np.abs(p32 - p64)) < 1e-6 * np.max(p64)  # it does differ, by less than the bound
    for key in ("oma_outer_dbm", "average_power_dbm", "extinction_ratio_db"):
        assert res["single"].metrics[key] == pytest.approx(res["double"].metrics[key], abs=1e-5)  # dB: 2.3e-6 relative
    assert res["single"].metrics["tdecq_db"] == pytest.approx(res["double"].metrics["tdecq_db"], abs=1e-4)
    t64, _ = transmitter_transfer(lane.transmitter, pattern("PRBS9Q", 511), BAUD, 16)
    t32, _ = transmitter_transfer(lane.transmitter, pattern("PRBS9Q", 511), BAUD, 16, precision="single")
    assert np.max(np.abs(t32 - t64)) < 3e-7 * np.max(np.abs(t64))
    with pytest.raises(InvalidParameter, match="precision"):
        transmitter_transfer(lane.transmitter, pattern("PRBS9Q", 511), BAUD, 16, precision="half")


def test_tx_transition_time_is_the_optics_measurement_and_scales_unchanged():
    from models.link import scale_tx_metrics
    from optics.transition import transition_time

    s = SimulationSettings(pattern="SSPRQ", samples_per_symbol=8, count_errors=False)
    res = simulate(preset("800GBASE-DR8"), s, seed=4, workers=1)
    lane = res.lanes[0]
    t = lane.metrics["transition_time_s"]
    assert t == transition_time(lane.tx_waveform).transition_time_s
    assert 5e-12 < t < 17e-12     # through the reference receiver (8.9 ps alone), under the 17 ps limit
    assert scale_tx_metrics(lane.metrics, 0.5)["transition_time_s"] == t
