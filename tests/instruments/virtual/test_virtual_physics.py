"""The shared bench physics against independent references (closed forms, ODE solver, Monte Carlo)."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from instruments.virtual.physics import (
    BenchLink,
    BenchParams,
    ReceiverParams,
    ThermalParams,
    TransmitterParams,
    dbm_to_w,
    w_to_dbm,
)
from models.receiver import pam4_ber as model_pam4_ber
from optics.errors import InvalidParameter, InvalidType
from optics.levels import measure_levels


@pytest.fixture(scope="module")
def link():
    return BenchLink()


def pam4_ber(oma_w, *, responsivity_a_per_w, noise_current_a_rms):
    """The bench receiver's BER: the models' closed form for its ReceiverParams receiver."""
    rx = ReceiverParams(responsivity_a_per_w=responsivity_a_per_w, noise_current_a_rms=noise_current_a_rms)
    return model_pam4_ber(rx.model(), oma_w, 0.5 * oma_w)


def test_pam4_ber_against_monte_carlo():
    # Independent reference: simulate Gray-coded PAM4 with Gaussian noise and count bit errors.
    rng = np.random.default_rng(5)
    r, sigma, oma = 0.8, 3e-6, 60e-6  # d/sigma = R OMA / 6 / sigma = 2.67 -> BER ~ 2.9e-3
    n = 400_000
    symbols = rng.integers(0, 4, n)
    levels = r * oma * np.arange(4) / 3.0
    received = levels[symbols] + rng.normal(0.0, sigma, n)
    thresholds = (levels[:-1] + levels[1:]) / 2
    decided = np.searchsorted(thresholds, received)
    gray = np.array([0b00, 0b01, 0b11, 0b10])
    bit_errors = np.unpackbits((gray[symbols] ^ gray[decided]).astype(np.uint8)).sum()
    counted = bit_errors / (2 * n)
    expected = pam4_ber(oma, responsivity_a_per_w=r, noise_current_a_rms=sigma)
    # 1-sigma Poisson spread of ~2300 errors is 2 %; allow 4 sigma, plus the neglected
    # two-level errors (< 1e-6 here)
    assert counted == pytest.approx(expected, rel=0.08)
    assert 2e-3 < expected < 4e-3


def test_pam4_ber_limits_and_bad_input():
    assert pam4_ber(0.0, responsivity_a_per_w=1.0, noise_current_a_rms=1e-6) == pytest.approx(0.375)
    assert pam4_ber(1e-3, responsivity_a_per_w=1.0, noise_current_a_rms=1e-6) == 0.0
    with pytest.raises(InvalidParameter):
        pam4_ber(-1e-3, responsivity_a_per_w=1.0, noise_current_a_rms=1e-6)
    with pytest.raises(InvalidParameter):
        pam4_ber(1e-3, responsivity_a_per_w=1.0, noise_current_a_rms=0.0)


def test_dbm_conversions():
    assert dbm_to_w(0.0) == pytest.approx(1e-3)
    assert dbm_to_w(-30.0) == pytest.approx(1e-6)
    assert w_to_dbm(2e-3) == pytest.approx(3.0103, abs=1e-4)


def test_attenuation_moves_received_power_db_for_db(link):
    p = link.params.path
    base = link.received_at(0.0)
    tx_dbm = w_to_dbm(link.tx_average_power_w())
    assert base.average_power_dbm == pytest.approx(tx_dbm - p.attenuator_insertion_loss_db - p.rx_path_loss_db, abs=1e-9)
    for att in (3.0, 10.0, 17.5):
        rx = link.received_at(att)
        assert rx.average_power_dbm - base.average_power_dbm == pytest.approx(-att, abs=1e-9)
        assert rx.oma_outer_w / base.oma_outer_w == pytest.approx(10 ** (-att / 10), rel=1e-12)
    bers = [link.received_at(a).ber for a in (6.0, 9.0, 12.0, 15.0)]
    assert all(b2 > b1 for b1, b2 in zip(bers, bers[1:]))


def test_shutter_closed_is_loss_of_signal():
    link = BenchLink()
    link.set_shutter(False)
    rx = link.received()
    assert rx.average_power_w == 0.0 and rx.loss_of_signal and rx.ber == 0.5
    assert link.meter_power_w() == 0.0


def test_transmitter_waveform_levels_match_parameters(link):
    wf = link.transmitter_waveform(25.0)
    tx = TransmitterParams()
    assert wf.symbol_rate_baud == tx.symbol_rate_baud
    assert wf.samples_per_symbol == tx.samples_per_symbol
    assert wf.pattern.size == 8191  # PRBS13Q
    lv = measure_levels(wf)
    # average power and outer ER from the pattern's long runs (independent of the generator)
    assert lv.average == pytest.approx(dbm_to_w(tx.average_power_dbm), rel=2e-3)
    assert lv.extinction_ratio_db == pytest.approx(tx.extinction_ratio_db, abs=0.05)
    assert lv.rlm == pytest.approx(1.0, abs=0.01)  # equally spaced levels
    assert wf.meta["seed"] == [tx.seed, 100 + 10000]
    assert link.transmitter_waveform(25.0) is wf  # cached


def test_transmitter_temperature_coefficients(link):
    tx = TransmitterParams()
    ratio_db = w_to_dbm(link.tx_average_power_w(75.0)) - w_to_dbm(link.tx_average_power_w(25.0))
    assert ratio_db == pytest.approx(50 * tx.power_tempco_db_per_k, abs=1e-9)
    assert link.wavelength_m(75.0) - link.wavelength_m(25.0) == pytest.approx(50 * tx.wavelength_tempco_m_per_k)


def test_thermal_response_against_ode_solver():
    params = BenchParams(thermal=ThermalParams(air_time_constant_s=10.0, dut_time_constant_s=40.0), time_scale=1.0)
    link = BenchLink(params)
    t_start = link.sim_time_s
    link.set_thermal(setpoint_c=85.0, flow_on=True)
    link.advance(60.0)
    elapsed = link.sim_time_s - t_start
    dut = link.module_temperature_c
    air = link.air_temperature_c

    def rhs(t, y):
        a, d = y
        return [(85.0 - a) / 10.0, (a - d) / 40.0]

    sol = solve_ivp(rhs, (0.0, elapsed), [25.0, 25.0], rtol=1e-10, atol=1e-10)
    assert air == pytest.approx(sol.y[0, -1], abs=0.02)
    assert dut == pytest.approx(sol.y[1, -1], abs=0.02)
    assert 25.0 < dut < air < 85.0


def test_soak_time_counts_only_inside_window():
    link = BenchLink(BenchParams(time_scale=1.0))
    t0 = link.sim_time_s
    link.set_thermal(setpoint_c=70.0, flow_on=True, window_k=1.0)
    assert link.soaked_for_s() == 0.0
    link.advance(600.0)
    soaked = link.soaked_for_s()
    assert 300.0 < soaked < 600.0
    # time to enter the 1 K window from the analytic two-pole step response (45 K step)
    ta, td = 10.0, 40.0
    t = np.linspace(0, 600, 600001)
    k = -45.0 * ta / (ta - td)
    dut = 70.0 + k * np.exp(-t / ta) + (-45.0 - k) * np.exp(-t / td)
    t_enter = t[np.argmax(np.abs(dut - 70.0) <= 1.0)]
    elapsed = link.sim_time_s - t0
    assert soaked == pytest.approx(elapsed - t_enter, abs=1.5)


def test_bad_parameters():
    with pytest.raises(InvalidParameter):
        TransmitterParams(samples_per_symbol=2)
    with pytest.raises(TypeError):
        TransmitterParams(average_power=1.0)
    with pytest.raises(InvalidParameter):
        ThermalParams(air_time_constant_s=5.0, dut_time_constant_s=5.0)
    with pytest.raises(InvalidParameter):
        BenchParams(time_scale=0.5)
    link = BenchLink()
    with pytest.raises(InvalidParameter):
        link.set_attenuation(-1.0)
    with pytest.raises(InvalidParameter):
        link.advance(-1.0)
    with pytest.raises((InvalidParameter, InvalidType)):
        link.set_thermal(setpoint_c=500.0)
    with pytest.raises(InvalidParameter):
        link.tx_average_power_w(math.inf)


def test_link_model_transmitter_behind_the_same_interface():
    # models.link lane 0 of 400GBASE-DR4 as the bench transmitter
    from models.presets import preset

    link = BenchLink(BenchParams(model_preset="400GBASE-DR4", time_scale=1.0))
    module = preset("400GBASE-DR4")
    assert link.symbol_rate_baud == module.symbol_rate_baud
    wf = link.transmitter_waveform(25.0)
    assert wf.meta["model"] == "models.link" and wf.pattern.size == 8191
    lv = measure_levels(wf)
    assert link.tx_average_power_w(25.0) == pytest.approx(lv.average, rel=1e-12)
    assert link.tx_oma_outer_w(25.0) == pytest.approx(lv.oma_outer, rel=1e-12)
    laser = module.lanes[0].transmitter.laser
    from models.thermal import chip_temperature_c

    assert link.wavelength_m(40.0) == pytest.approx(laser.wavelength_at(chip_temperature_c(module, 40.0)))
    # the attenuator still moves the received power dB for dB
    assert link.received_at(7.0).average_power_dbm - link.received_at(2.0).average_power_dbm == pytest.approx(-5.0)
