"""Tests of models.thermal: drift slopes, temperature classes, sweeps with lock loss."""

import dataclasses
import math

import numpy as np
import pytest

from models.electrical import Pam4Driver
from models.fiber import Channel
from models.laser import DfbLaser
from models.link import Lane, LinkModule, SimulationSettings, Transmitter
from models.modulator import MicroringModulator
from models.presets import preset
from models.receiver import Receiver
from models.thermal import (
    SWEEP_COLUMNS,
    TEMPERATURE_CLASSES,
    drift_table,
    parse_range,
    sweep_temperature,
    temperature_points,
)
from optics.errors import InvalidParameter

FAST = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False)


def _ring_module():
    ring = MicroringModulator(loaded_q=3000.0, extinction_db=10.0, shift_m_per_v=50e-12, bias_detuning_m=0.2e-9,
                              max_heater_power_w=0.06)
    tx = Transmitter(driver=Pam4Driver(swing_v=2.0, rise_time_s=6e-12), laser=DfbLaser().with_output_power(4e-3),
                     modulator=ring)
    lane = Lane(name="ring", transmitter=tx, channel=Channel(), receiver=Receiver())
    return LinkModule(name="ring", lanes=[lane], symbol_rate_baud=53.125e9, payload_rate_bps=100e9,
                      power_params="cpo", chip_temperature_rise_k=10.0)


def test_temperature_classes_match_reference():
    assert TEMPERATURE_CLASSES == {"commercial": (0.0, 70.0), "extended": (-5.0, 85.0), "industrial": (-40.0, 85.0)}
    pts = temperature_points("industrial", 6)
    np.testing.assert_allclose(pts, [-40, -15, 10, 35, 60, 85])


def test_parse_range():
    np.testing.assert_allclose(parse_range("0:70:10"), [0, 10, 20, 30, 40, 50, 60, 70])
    assert parse_range("extended").size == 15
    for bad in ("0:70", "a:b:c", "10:0:5", "0:10:0"):
        with pytest.raises(InvalidParameter):
            parse_range(bad)


def test_drift_slopes():
    rows = drift_table(_ring_module(), [0.0, 50.0])
    r0, r1 = rows
    # laser 0.09 nm/K; ring heater must follow laser − ring drift (0.09 − 0.07 nm/K) / 0.1 nm/mW = 0.2 mW/K
    assert (r1["wavelength_m"] - r0["wavelength_m"]) / 50 == pytest.approx(0.09e-9, rel=1e-9)
    assert (r1["heater_power_w"] - r0["heater_power_w"]) / 50 == pytest.approx(0.2e-3, rel=1e-9)
    # threshold: T0 = 64 K -> ×e^(50/64)
    assert r1["threshold_current_a"] / r0["threshold_current_a"] == pytest.approx(np.exp(50 / 64), rel=1e-12)
    # dark current ×1.8 per 10 K
    assert r1["dark_current_a"] / r0["dark_current_a"] == pytest.approx(1.8**5, rel=1e-12)
    assert r1["laser_power_w"] < r0["laser_power_w"]


def test_sweep_flags_lock_loss_at_the_cold_end():
    sweep = sweep_temperature(_ring_module(), [-40.0, 25.0, 70.0], FAST)
    rows = {r["temperature_c"]: r for r in sweep.rows}
    # −40 °C case (−30 °C chip): laser 1305.6 nm, target 1305.4 nm, ring 1305.75 nm: red of target
    assert rows[-40.0]["link_failed"] and "lock lost" in rows[-40.0]["failure"]
    assert not rows[25.0]["link_failed"] and rows[25.0]["ber_estimate"] is not None
    assert rows[70.0]["heater_power_w"] > rows[25.0]["heater_power_w"]
    assert rows[70.0]["module_power_w"] > rows[25.0]["module_power_w"]  # heater power is in the module total
    assert not sweep.results[0].ok and sweep.results[1].ok
    assert sweep.results[1].lanes[0].tx_waveform is None  # waveforms dropped by default


def test_sweep_table_frame_and_plot(tmp_path):
    m = preset("400GBASE-DR4")
    m = dataclasses.replace(m, lanes=m.lanes[:1])
    sweep = sweep_temperature(m, [0.0, 70.0], FAST)
    frame = sweep.to_frame()
    assert list(frame.columns) == list(SWEEP_COLUMNS) and len(frame) == 2
    # hotter laser: threshold up, slope down; the APC servo raises the bias and holds the power
    # (the launch moves only with the modulator's own temperature dependence)
    assert frame["laser_power_w"][1] == pytest.approx(frame["laser_power_w"][0], rel=1e-12)
    assert frame["average_power_dbm"][1] == pytest.approx(frame["average_power_dbm"][0], abs=1.0)
    laser = m.lanes[0].transmitter.laser
    for i, t_case in enumerate((0.0, 70.0)):
        t_chip = frame["chip_temperature_c"][i]
        d = t_chip - 25.0
        bias = 8e-3 * math.exp(d / 64.0) + laser.apc_power_w / (0.3 * math.exp(-d / 260.0))   # I_th(T) + P/η(T)
        assert frame["laser_bias_a"][i] == pytest.approx(bias, rel=1e-12)
        # the one lane keeps a quarter of its shared laser's heat (I·1.2 V + I²·4 Ω − 40 mW) and its
        # 10 mW MZM bias on the die, 19 K/W above the case
        heat = (bias * 1.2 + bias**2 * 4.0 - 0.04) / 4 + 0.01
        assert t_chip - t_case == pytest.approx(19.0 * heat, rel=1e-9)
    import matplotlib
    matplotlib.use("Agg")
    fig = sweep.plot()
    fig.savefig(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    d = sweep.to_dict()
    assert [x["temperature_c"] for x in d["sweep"]] == [0.0, 70.0]


def test_bad_sweep_input():
    with pytest.raises(InvalidParameter, match="temperature class"):
        temperature_points("arctic")
    with pytest.raises(InvalidParameter, match="temperature_c"):
        sweep_temperature(_ring_module(), [500.0], FAST)
