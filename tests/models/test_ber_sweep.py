"""models.ber_sweep: TIA noise drawn at the decision instants has the statistics of the full
simulation's noise there (closed form and the full receiver's own draws), and the counted BER
of a sweep point is that of the full simulation at the same power."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from models.ber_sweep import prepare_ber_sweep
from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.lane import Lane, SimulationSettings, Transmitter
from models.lane_simulation import simulate_lane
from models.modulator import MachZehnderModulator
from models.receiver import Photodiode, Receiver, Tia
from models import response
from optics import Waveform
from optics.ber import count_errors
from optics.errors import InvalidParameter

BAUD = 53.125e9
SPS = 8
N_SYM = 1 << 13


def _lane(density: float = 2.0e-11, shot: bool = False) -> Lane:
    laser = DfbLaser(wavelength_m=1310e-9, rin_db_per_hz=-200.0).with_output_power(10e-3)
    mzm = MachZehnderModulator(vpi_l_v_m=4.0 * 3e-3, length_m=3e-3, insertion_loss_db=0.0,
                               static_extinction_db=60.0, eo_bandwidth_hz=200e9)
    tx = Transmitter(driver=Pam4Driver(swing_v=1.6, rise_time_s=6e-12), laser=laser, modulator=mzm)
    ch = Channel(fiber=Fiber(length_m=500.0, zero_dispersion_wavelength_m=1324e-9), connector_loss_db=0.0,
                 n_connectors=0)
    rx = Receiver(photodiode=Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=200e9,
                                        shot_noise=shot),
                  tia=Tia(transimpedance_ohm=1000.0, input_noise_density_a_per_rthz=density,
                          bandwidth_hz=40e9, shape="gaussian", overload_current_a=0.1))
    return Lane(transmitter=tx, channel=ch, receiver=rx)


SETTINGS = SimulationSettings(pattern="PRBS13Q", n_symbols=N_SYM, samples_per_symbol=SPS, compute_tdecq=False)


def _closed_form_autocovariance(tia: Tia, n: int, fs: float, lags: np.ndarray) -> np.ndarray:
    """``r[l] = (σ²/N) Σ_j |Z_T H_tia(f_j)|² cos(2π j l / N)`` of the full path's TIA noise."""
    f = np.fft.fftfreq(n, 1.0 / fs)
    h2 = np.abs(tia.transimpedance_ohm * response.lowpass_response(np.abs(f), tia.bandwidth_hz, tia.shape)) ** 2
    sigma2 = tia.input_noise_density_a_per_rthz ** 2 * fs / 2.0
    j = np.arange(n)
    return np.array([sigma2 / n * float(np.sum(h2 * np.cos(2.0 * math.pi * j * l / n))) for l in lags])


def test_noise_at_the_decision_instants_has_the_full_paths_statistics():
    # a narrow TIA (15 GHz at 53 GBd) so that neighbouring decisions' noise is correlated
    lane = _lane()
    lane = dataclasses.replace(lane, receiver=dataclasses.replace(
        lane.receiver, tia=dataclasses.replace(lane.receiver.tia, bandwidth_hz=15e9)))
    sweep = prepare_ber_sweep(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(1))
    n = sweep.n_record_symbols * SPS
    fs = BAUD * SPS
    r = _closed_form_autocovariance(lane.receiver.tia, n, fs, np.array([0, SPS, 2 * SPS]))
    draws = np.stack([sweep.noise_v(np.random.default_rng(k)) for k in range(60)])
    var = float(np.mean(draws ** 2))
    lag1 = float(np.mean(draws[:, 1:] * draws[:, :-1]))
    n_eff = draws.size
    assert var == pytest.approx(r[0], rel=4.0 * math.sqrt(2.0 / n_eff))
    assert lag1 == pytest.approx(r[1], abs=4.0 * r[0] / math.sqrt(n_eff))
    assert abs(r[1]) > 0.1 * r[0]  # the narrow TIA correlates neighbouring decisions (0.32)

    # the full receiver's own noise (no light: the TIA noise alone), one sample per symbol
    dark = Waveform(samples=np.zeros(n), sample_rate_hz=fs, symbol_rate_baud=BAUD)
    full = np.stack([np.asarray(lane.receiver.detect(dark, rng=np.random.default_rng(100 + k)).samples)[3::SPS]
                     for k in range(60)])
    assert float(np.mean(full ** 2)) == pytest.approx(r[0], rel=4.0 * math.sqrt(2.0 / full.size))
    assert float(np.mean(full[:, 1:] * full[:, :-1])) == pytest.approx(r[1], abs=4.0 * r[0] / math.sqrt(full.size))


SEEDS = 20


def test_a_sweep_point_counts_the_ber_of_the_full_simulation():
    """Pooled over seeds at one power, the sweep's bit errors and the full simulation's agree
    within 4 sigma of their Poisson spread (the same lane, the same power): with some 10 000
    errors a side, within ~6 % (measured with 60 seeds a side: ratio 0.998 +- 0.008 at
    -12 dBm, 1.004 +- 0.014 at -11 dBm)."""
    lane = _lane(density=3.2e-11)
    sweep = prepare_ber_sweep(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(2))
    p = -12.0
    fast = sum(sweep.point(p, np.random.default_rng(10 + k)).bit_errors for k in range(SEEDS))
    st = dataclasses.replace(SETTINGS, rx_power_dbm=p)
    slow = 0
    for k in range(SEEDS):
        res = simulate_lane(lane, symbol_rate_baud=BAUD, settings=st, rng=np.random.default_rng(50 + k),
                            metrics=False)
        slow += count_errors(res.rx_waveform).bit_errors
    assert slow > 8000, "the point should have errors to compare"
    assert abs(fast - slow) < 4.0 * math.sqrt(fast + slow)
    # more power, fewer errors (the scaling is applied)
    assert sweep.point(-9.0, np.random.default_rng(3)).bit_errors < fast / SEEDS


def test_the_sweep_refuses_what_it_cannot_do_exactly():
    with pytest.raises(InvalidParameter, match="shot noise"):
        prepare_ber_sweep(_lane(shot=True), symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(1))
    sweep = prepare_ber_sweep(_lane(), symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(1))
    with pytest.raises(InvalidParameter, match="rx_power_dbm"):
        sweep.point(float("nan"), np.random.default_rng(1))
    with pytest.raises(InvalidParameter, match="overload"):
        sweep.point(19.0, np.random.default_rng(1))
