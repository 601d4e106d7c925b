"""models.crosstalk: optical (incoherent), electrical and ring-heater crosstalk against closed forms."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.crosstalk import (
    ModuleCrosstalk,
    add_received_crosstalk,
    coupled_heater_powers,
    decorrelating_shift_symbols,
    electrical_coupling_response,
    incoherent_added_power_w,
    neighbour_matrix,
    power_sum_db,
)
from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import Lane, LinkModule, SimulationSettings, Transmitter, simulate
from models.modulator import IdealIntensityModulator
from models.receiver import Receiver
from optics.errors import InvalidParameter, InvalidType

BAUD = 53.125e9


def test_incoherent_added_power_is_the_sum_of_leaked_powers():
    # two neighbours at 1 mW and 2 mW leaking at -20 and -26 dB: 10 uW + 2*0.2512 uW... exactly
    got = incoherent_added_power_w([1e-3, 2e-3], [-20.0, -26.0])
    assert got == pytest.approx(1e-3 * 0.01 + 2e-3 * 10 ** (-2.6), rel=1e-12)
    # equal aggressors: power sum = X + 10 log10(N) dB
    assert power_sum_db([-25.0, -25.0]) == pytest.approx(-25.0 + 10 * np.log10(2), abs=1e-12)
    with pytest.raises(InvalidParameter):
        incoherent_added_power_w([1e-3], 3.0)


def test_neighbour_matrix_and_shifts():
    m = neighbour_matrix(4, 0.1, 0.01)
    assert np.allclose(np.diag(m), 0.0) and m[0, 1] == 0.1 and m[0, 3] == 0.01 and np.allclose(m, m.T)
    shifts = {decorrelating_shift_symbols(0, a, 4, 4096) for a in range(1, 4)}
    assert shifts == {1024, 2048, 3072}  # every aggressor its own, non-zero lag
    assert decorrelating_shift_symbols(2, 2, 4, 4096) == 0


def test_received_optical_crosstalk_adds_the_leaked_mean_and_the_aggressors_ac():
    rng = np.random.default_rng(0)
    sps, n_sym = 4, 512
    v = [1.0 + 0.3 * rng.standard_normal(sps * n_sym) for _ in range(3)]
    xt = ModuleCrosstalk(optical_adjacent_db=-20.0)
    out = add_received_crosstalk(v, xt, samples_per_symbol=sps, sample_rate_hz=BAUD * sps, symbol_rate_baud=BAUD)
    c = 0.01
    # lane 1 has two neighbours, lanes 0 and 2 one each: mean gains c * (sum of neighbours' means)
    assert out[1].mean() - v[1].mean() == pytest.approx(c * (v[0].mean() + v[2].mean()), rel=1e-12)
    assert out[0].mean() - v[0].mean() == pytest.approx(c * v[1].mean(), rel=1e-12)
    # the added signal is the aggressor, shifted by whole symbols
    lag = decorrelating_shift_symbols(0, 1, 3, n_sym) * sps
    assert np.allclose(out[0] - v[0], c * np.roll(v[1], lag), atol=1e-15)
    # a failed lane (None) neither receives nor sends
    out2 = add_received_crosstalk([v[0], None, v[2]], xt, samples_per_symbol=sps, sample_rate_hz=BAUD * sps,
                                  symbol_rate_baud=BAUD)
    assert out2[1] is None and np.array_equal(out2[0], v[0])


def test_electrical_crosstalk_has_no_dc_and_the_capacitive_slope():
    f = np.array([0.0, 1e9, 10e9, 26.5625e9])
    h = electrical_coupling_response(f, "capacitive", 26.5625e9)
    assert h[0] == 0 and abs(h[3]) == pytest.approx(1.0) and abs(h[2]) / abs(h[1]) == pytest.approx(10.0)
    # flat -30 dB coupling of a sine at 1/8 of the baud: amplitude 10^(-30/20) of it, no DC
    sps, n_sym = 8, 256
    n = sps * n_sym
    t = np.arange(n)
    agg = 2.0 + np.sin(2 * np.pi * 16 * t / n)
    victim = np.zeros(n)
    xt = ModuleCrosstalk(electrical_adjacent_db=-30.0)
    out = add_received_crosstalk([victim, agg], xt, samples_per_symbol=sps, sample_rate_hz=BAUD * sps,
                                 symbol_rate_baud=BAUD)
    assert abs(out[0].mean()) < 1e-12
    assert np.std(out[0]) == pytest.approx(10 ** (-1.5) / np.sqrt(2), rel=1e-9)


def test_coupled_heater_powers_solve_the_linear_system():
    # two rings: (P1 + k P2, P2 + k P1) = P0  ->  P1 = (P0_1 - k P0_2) / (1 - k^2)
    k = 0.2
    p = coupled_heater_powers([0.03, 0.02], k)
    assert p[0] == pytest.approx((0.03 - k * 0.02) / (1 - k * k), rel=1e-12)
    assert p[1] == pytest.approx((0.02 - k * 0.03) / (1 - k * k), rel=1e-12)
    # a long row with equal needs: the inner heaters tend to P0 / (1 + 2k)
    p = coupled_heater_powers([0.05] * 41, 0.1)
    assert p[20] == pytest.approx(0.05 / 1.2, rel=1e-6)
    # each ring sees exactly its need
    a = np.eye(41) + neighbour_matrix(41, 0.1)
    assert np.allclose(a @ p, 0.05, rtol=1e-12)
    # a ring its neighbours overshoot: lock lost, named
    with pytest.raises(InvalidParameter, match="ring 1"):
        coupled_heater_powers([0.05, 0.001, 0.05], 0.3)


def test_crosstalk_parameters_are_validated():
    with pytest.raises(InvalidParameter, match="optical_adjacent_db"):
        ModuleCrosstalk(optical_adjacent_db=5.0)
    with pytest.raises(InvalidParameter, match="electrical_shape"):
        ModuleCrosstalk(electrical_shape="inductive")
    with pytest.raises(InvalidParameter, match="heater_coupling_adjacent"):
        ModuleCrosstalk(heater_coupling_adjacent=0.6)
    with pytest.raises(TypeError):
        ModuleCrosstalk(optical_db=-20.0)


# --- wired into the module simulation ----------------------------------------------------
SETTINGS = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False,
                              count_errors=False)


def _module(crosstalk=None, n=3):
    tx = Transmitter(driver=Pam4Driver(swing_v=1.0, rise_time_s=5e-12),
                     laser=DfbLaser(rin_db_per_hz=-150.0).with_output_power(2e-3),
                     modulator=IdealIntensityModulator(extinction_ratio_db=5.0, swing_v=1.0))
    lanes = [Lane(name=f"l{i}", transmitter=tx, channel=Channel(fiber=Fiber(length_m=500.0)), receiver=Receiver())
             for i in range(n)]
    return LinkModule(name="xt", lanes=lanes, symbol_rate_baud=BAUD, payload_rate_bps=300e9, crosstalk=crosstalk,
                      chip_temperature_rise_k=10.0)


def test_module_without_crosstalk_is_unchanged_and_optical_crosstalk_adds_power():
    clean = simulate(_module(), SETTINGS, seed=3, workers=1)
    same = simulate(_module(ModuleCrosstalk()), SETTINGS, seed=3, workers=1)
    assert np.array_equal(clean.lanes[1].rx_waveform.samples, same.lanes[1].rx_waveform.samples)
    xt = simulate(_module(ModuleCrosstalk(optical_adjacent_db=-15.0)), SETTINGS, seed=3, workers=1)
    # the Tx is untouched; the middle lane receives 2 x 10^-1.5 of its neighbours' power more
    assert np.array_equal(clean.lanes[1].tx_waveform.samples, xt.lanes[1].tx_waveform.samples)
    p = [10 ** (lane.metrics["receive_power_dbm"] / 10) for lane in clean.lanes]
    p_xt = 10 ** (xt.lanes[1].metrics["receive_power_dbm"] / 10)
    assert p_xt == pytest.approx(p[1] + 10 ** -1.5 * (p[0] + p[2]), rel=1e-9)
    v0, v1 = np.mean(clean.lanes[1].rx_waveform.samples), np.mean(xt.lanes[1].rx_waveform.samples)
    v_n = np.mean(clean.lanes[0].rx_waveform.samples) + np.mean(clean.lanes[2].rx_waveform.samples)
    assert v1 - v0 == pytest.approx(10 ** -1.5 * v_n, rel=1e-9)
    # the eye closes: the statistical BER of the victim rises
    assert xt.lanes[1].metrics["ber_estimate"] > clean.lanes[1].metrics["ber_estimate"]
    # keep_waveforms=False still applies it (and drops the records)
    light = simulate(_module(ModuleCrosstalk(optical_adjacent_db=-15.0)), SETTINGS, seed=3, workers=1,
                     keep_waveforms=False)
    assert light.lanes[1].rx_waveform is None
    assert light.lanes[1].metrics["receive_power_dbm"] == pytest.approx(xt.lanes[1].metrics["receive_power_dbm"])


def test_module_rejects_a_non_crosstalk_object():
    with pytest.raises(InvalidType, match="crosstalk"):
        dataclasses.replace(_module(), crosstalk={"optical_adjacent_db": -20.0})


def test_ring_module_heaters_solve_the_coupled_lock():
    from models.presets import preset

    m = preset("1.6T-DR8-MRM-CPO")
    s = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False,
                           count_errors=False)
    clean = simulate(m, s, seed=2, workers=1, metrics=False, keep_waveforms=False)
    hot = simulate(dataclasses.replace(m, crosstalk=ModuleCrosstalk(heater_coupling_adjacent=0.15)), s, seed=2,
                   workers=1, metrics=False, keep_waveforms=False)
    p_clean = np.array([lane.metrics["heater_power_w"] for lane in clean.lanes])
    p = np.array([lane.metrics["heater_power_w"] for lane in hot.lanes])
    # the coupled heaters put less heat on the die, so it runs cooler and each ring alone needs more there
    t_hot, t_clean = hot.lanes[0].metrics["chip_temperature_c"], clean.lanes[0].metrics["chip_temperature_c"]
    assert t_hot < t_clean
    tx = m.lanes[0].transmitter
    need = tx.modulator.lock(tx.laser.wavelength_at(t_hot), t_hot).heater_power_w
    p0 = np.array([lane.metrics["heater_power_uncoupled_w"] for lane in hot.lanes])
    assert np.allclose(p0, need, rtol=1e-12) and np.all(p0 > p_clean)
    # every ring sees its own need: (I + 0.15 N) P = P0, and the module's heaters draw less
    assert np.allclose((np.eye(8) + neighbour_matrix(8, 0.15)) @ p, p0, rtol=1e-12)
    assert p.sum() < p_clean.sum() and hot.ok


def test_coupled_heaters_heat_the_die_less():
    # the CPO engine's die carries the ring heaters: with coupling kappa its heater heat is the sum of
    # the coupled lock's powers, (I + kappa N)^-1 P0 summed, and the die temperature follows the new heat
    from models.chip_temperature import chip_temperature_c, chip_thermal_resistance_k_per_w, die_heat_w
    from models.presets import preset
    from models.thermal import heater_power_w_per_lane

    m = preset("1.6T-DR8-MRM-CPO")
    kappa = 0.2
    hot = dataclasses.replace(m, crosstalk=ModuleCrosstalk(heater_coupling_adjacent=kappa))
    t = 50.0
    tx = m.lanes[0].transmitter
    need = tx.modulator.lock(tx.laser.wavelength_at(t), t).heater_power_w
    adj = np.diag(np.ones(7), 1) + np.diag(np.ones(7), -1)            # eight rings in a row
    coupled = np.linalg.solve(np.eye(8) + kappa * adj, np.full(8, need))
    assert die_heat_w(m, t) - die_heat_w(hot, t) == pytest.approx(8 * need - coupled.sum(), rel=1e-12)
    assert heater_power_w_per_lane(hot, t) == pytest.approx(coupled.mean(), rel=1e-12)
    t_hot = chip_temperature_c(hot, 25.0)
    assert t_hot < chip_temperature_c(m, 25.0)
    assert t_hot - 25.0 == pytest.approx(chip_thermal_resistance_k_per_w(hot) * die_heat_w(hot, t_hot), abs=1e-8)


def test_config_crosstalk_table_and_jitter_switch():
    from models.config import loads_link
    from optics.errors import ConfigError

    cfg = loads_link('preset = "400GBASE-FR4"\ntx_jitter = true\n[crosstalk]\noptical_adjacent_db = -25.0\n'
                     'heater_coupling_adjacent = 0.1\n', source="x.toml")
    assert cfg.module.crosstalk == ModuleCrosstalk(optical_adjacent_db=-25.0, heater_coupling_adjacent=0.1)
    assert cfg.module.lanes[0].transmitter.driver.rj_rms_s == pytest.approx(0.01 / 53.125e9)
    assert loads_link('preset = "400GBASE-FR4"\n').module.crosstalk is None
    with pytest.raises(ConfigError, match=r"x.toml.*\[crosstalk\].*optical_adjacent_db"):
        loads_link('preset = "400GBASE-FR4"\n[crosstalk]\noptical_adjacent_db = 3.0\n', source="x.toml")
    with pytest.raises(ConfigError, match="unknown key 'optical_db'"):
        loads_link('preset = "400GBASE-FR4"\n[crosstalk]\noptical_db = -3.0\n', source="x.toml")
    with pytest.raises(ConfigError, match="tx_jitter"):
        loads_link('preset = "400GBASE-FR4"\ntx_jitter = 1\n', source="x.toml")
