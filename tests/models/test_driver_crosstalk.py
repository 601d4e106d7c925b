"""Driver-side electrical crosstalk (models.crosstalk.driver_crosstalk_v): the neighbours' drives coupled
into a victim's modulator drive, against closed forms."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.crosstalk import ModuleCrosstalk, decorrelating_shift_symbols, driver_crosstalk_v
from models.electrical import Pam4Driver
from models.laser import DfbLaser
from models.link import Lane, LinkModule, SimulationSettings, Transmitter, simulate
from models.modulator import IdealIntensityModulator
from optics.errors import InvalidParameter

SPS = 8
BAUD = 53.125e9
FS = BAUD * SPS


def _records(n_lanes, n_sym=1024, seed=5):
    rng = np.random.default_rng(seed)
    return [np.repeat(rng.integers(0, 4, n_sym) / 3.0 - 0.5, SPS) + 0.1 * j for j in range(n_lanes)]


def test_flat_coupling_adds_k_squared_times_the_aggressor_power():
    k_db = -26.0
    k = 10 ** (k_db / 20)
    xt = ModuleCrosstalk(driver_adjacent_db=k_db)
    v = _records(3)
    n_sym = v[0].size // SPS
    kw = dict(samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
    # lane 0 has one neighbour: x = k (its drive shifted, DC removed), <x^2> = k^2 var(v_1) exactly
    x0 = driver_crosstalk_v(v, 0, xt, **kw)
    shifted = np.roll(v[1], decorrelating_shift_symbols(0, 1, 3, n_sym) * SPS)
    np.testing.assert_allclose(x0, k * (shifted - shifted.mean()), rtol=0, atol=1e-14)
    assert np.mean(x0**2) == pytest.approx(k**2 * np.var(v[1]), rel=1e-12)
    # lane 1 has two, independent ones: their powers add (cross term within its statistical 4 sigma)
    x1 = driver_crosstalk_v(v, 1, xt, **kw)
    expected = k**2 * (np.var(v[0]) + np.var(v[2]))
    assert np.mean(x1**2) == pytest.approx(expected, rel=4 * 2 / np.sqrt(n_sym))
    # 6 dB more coupling, twice the interference
    x1b = driver_crosstalk_v(v, 1, ModuleCrosstalk(driver_adjacent_db=k_db + 6.0), **kw)
    np.testing.assert_allclose(x1b, 10 ** (6 / 20) * x1, rtol=1e-12, atol=1e-15)
    # a silent neighbour sends nothing
    assert not np.any(driver_crosstalk_v([v[0], None], 0, xt, **kw))


def test_shift_is_taken_within_the_pattern_period():
    # two lanes, a record of four periods: half the record is two whole periods, so the aggressor would
    # send the victim's own data; within the period its data is another stretch of the pattern
    rng = np.random.default_rng(1)
    period = np.repeat(rng.integers(0, 4, 255) / 3.0 - 0.5, SPS)
    v = np.tile(period, 4)
    xt = ModuleCrosstalk(driver_adjacent_db=-20.0)
    kw = dict(samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
    whole = driver_crosstalk_v([v, v], 0, xt, **kw)
    np.testing.assert_allclose(whole, 0.1 * (v - v.mean()), atol=1e-14)      # fully correlated
    x = driver_crosstalk_v([v, v], 0, xt, period_symbols=255, **kw)
    rho = np.corrcoef(x, v)[0, 1]
    assert abs(rho) < 4 / np.sqrt(255) and np.mean(x**2) == pytest.approx(0.01 * np.var(v), rel=1e-12)
    with pytest.raises(InvalidParameter, match="does not divide"):
        driver_crosstalk_v([v, v], 0, xt, period_symbols=254, **kw)


def test_capacitive_coupling_is_the_derivative_scaled_at_f_ref():
    # v = A cos(2 pi f0 t) through j f / f_ref: x = -k (f0 / f_ref) A sin(2 pi f0 t)
    n = 4096 * SPS
    t = np.arange(n) / FS
    f0 = 37 * FS / n
    a = 0.4
    v = a * np.cos(2 * np.pi * f0 * t)
    xt = ModuleCrosstalk(driver_adjacent_db=-20.0, driver_shape="capacitive", driver_reference_hz=10e9)
    x = driver_crosstalk_v([np.zeros(n), v], 0, xt, samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
    shift = decorrelating_shift_symbols(0, 1, 2, n // SPS) * SPS
    expected = -0.1 * (f0 / 10e9) * a * np.sin(2 * np.pi * f0 * (t - shift / FS))
    np.testing.assert_allclose(x, expected, rtol=0, atol=1e-12 * a)
    # default f_ref: half the symbol rate
    xd = driver_crosstalk_v([np.zeros(n), v], 0, dataclasses.replace(xt, driver_reference_hz=None),
                            samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
    np.testing.assert_allclose(xd, x * 10e9 / (0.5 * BAUD), rtol=1e-9, atol=1e-15)


def _linear_module(xt):
    # a linear modulator (P = IL P_in [p_lo + (1 - p_lo)(V/swing + 1/2)]) and a quiet laser: the Tx power
    # then moves by exactly the added drive times IL P (1 - p_lo)/swing
    mod = IdealIntensityModulator(extinction_ratio_db=6.0, swing_v=2.0, bandwidth_hz=40e9)
    tx = Transmitter(driver=Pam4Driver(swing_v=1.0, rise_time_s=8e-12), laser=DfbLaser(rin_db_per_hz=-200.0),
                     modulator=mod, splitter_excess_loss_db=0.0)
    lanes = [Lane(name=f"lane {i}", transmitter=tx) for i in range(3)]
    return LinkModule(name="xt", lanes=lanes, symbol_rate_baud=BAUD, payload_rate_bps=3e11, crosstalk=xt,
                      chip_temperature_rise_k=10.0)


S = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=SPS, compute_tdecq=False,
                       count_errors=False, rx_power_dbm=-6.0)   # (a lossless channel would overload the TIA)


def test_simulated_tx_carries_the_coupled_drive_through_the_modulator():
    plain = simulate(_linear_module(None), S, seed=2)
    out = {}
    for k_db in (-30.0, -24.0):
        xt = ModuleCrosstalk(driver_adjacent_db=k_db)
        mod = _linear_module(xt)
        res = simulate(mod, S, seed=2)
        tx = mod.lanes[1].transmitter
        drive, _ = tx.drive_voltage(S.symbols(), BAUD, SPS)
        x = driver_crosstalk_v([drive] * 3, 1, xt, samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
        p_laser = tx.laser.output_power_w(25.0 + 10.0)
        m = tx.modulator
        c = p_laser * (1 - 10 ** (-m.extinction_ratio_db / 10)) / m.swing_v
        dp = np.asarray(res.lanes[1].tx_waveform.samples) - np.asarray(plain.lanes[1].tx_waveform.samples)
        assert np.max(np.abs(dp - c * x)) < 1e-3 * np.max(np.abs(c * x))
        out[k_db] = np.std(dp)
        # the edge lane: its one neighbour's share
        x0 = driver_crosstalk_v([drive] * 3, 0, xt, samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
        dp0 = np.asarray(res.lanes[0].tx_waveform.samples) - np.asarray(plain.lanes[0].tx_waveform.samples)
        assert np.max(np.abs(dp0 - c * x0)) < 1e-3 * np.max(np.abs(c * x0))
    # the eye's interference scales with the coupling amplitude: 6 dB, twice
    assert out[-24.0] / out[-30.0] == pytest.approx(10 ** (6 / 20), rel=1e-3)
    # off by default
    assert _linear_module(None).crosstalk is None
    assert ModuleCrosstalk().driver_coupled is False


def test_link_file_switches_it_on_for_a_preset_and_it_closes_the_mzm_eye():
    from models.config import loads_link

    cfg = loads_link('preset = "400GBASE-DR4"\n[crosstalk]\ndriver_adjacent_db = -20.0\n', source="x.toml")
    assert cfg.module.crosstalk == ModuleCrosstalk(driver_adjacent_db=-20.0)
    s = dataclasses.replace(S, compute_tdecq=True, rx_power_dbm=None)
    one = dataclasses.replace(cfg.module, lanes=cfg.module.lanes[:2], chip_temperature_rise_k=5.0)
    clean = simulate(dataclasses.replace(one, crosstalk=None), s, seed=4).lanes[0].metrics
    hit = simulate(one, s, seed=4).lanes[0].metrics
    # the jittered preset lanes run with it (their transfer then is not cached), and -20 dB of the
    # neighbour's drive costs TDECQ
    assert hit["tdecq_db"] > clean["tdecq_db"] + 0.5      # measured 1.47 -> 2.89 dB


def test_bad_driver_coupling_is_refused():
    with pytest.raises(InvalidParameter, match="driver_adjacent_db"):
        ModuleCrosstalk(driver_adjacent_db=3.0)
    with pytest.raises(InvalidParameter, match="driver_shape"):
        ModuleCrosstalk(driver_adjacent_db=-30.0, driver_shape="inductive")
    with pytest.raises(InvalidParameter, match="driver_reference_hz"):
        ModuleCrosstalk(driver_adjacent_db=-30.0, driver_reference_hz=-1.0)
    with pytest.raises(InvalidParameter, match="whole number of symbols"):
        driver_crosstalk_v([np.zeros(10), np.zeros(10)], 0, ModuleCrosstalk(driver_adjacent_db=-30.0),
                           samples_per_symbol=SPS, sample_rate_hz=FS, symbol_rate_baud=BAUD)
