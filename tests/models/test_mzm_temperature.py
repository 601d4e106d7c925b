"""The MZM's temperature in the lane path: bias drift held by its loop, Vπ and bandwidth
(models.modulator.MachZehnderModulator.at_temperature threaded through simulate_lane)."""

import dataclasses
import math

import numpy as np
import pytest

from models import lane as lane_module
from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import Lane, LinkModule, SimulationSettings, Transmitter, simulate, simulate_lane, simulate_many
from models.modulator import MachZehnderModulator

BAUD = 53.125e9
SETTINGS = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False,
                              count_errors=False)
# 100 µm imbalance: 2.5 °/K open loop; a weak loop (G = 4) so the error is large enough to see
HOT_MZM = MachZehnderModulator(eo_bandwidth_hz=40e9, arm_imbalance_m=100e-6, temperature_ref_c=35.0,
                               bias_loop_gain=4.0, bias_vpi_v=3.0, bias_max_v=3.0)


def _lane(modulator, predistortion=None):
    tx = Transmitter(driver=Pam4Driver(swing_v=2.0, rise_time_s=5e-12),
                     laser=DfbLaser(rin_db_per_hz=-140.0).with_output_power(2e-3).with_apc(max_bias_current_a=None),
                     modulator=modulator,
                     level_predistortion=predistortion)
    return Lane(name="l", transmitter=tx, channel=Channel(fiber=Fiber(length_m=500.0)), receiver=_rx())


def _rx():
    from models.receiver import Receiver

    return Receiver()


def _run(lane, t_chip, seed=3):
    return simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(seed),
                         chip_temperature_c=t_chip)


def test_lane_runs_its_mzm_at_the_chip_temperature():
    t_hot = 75.0
    lam = DfbLaser().wavelength_at(t_hot)
    st = HOT_MZM.bias_state(t_hot, lam)
    # error of the weak loop: Δθ/(1+G) with Δθ = π·dn/dT·ΔL·ΔT/λ (closed form)
    assert st.error_rad == pytest.approx(math.pi * 1.8e-4 * 100e-6 * 40.0 / lam / 5.0, rel=1e-12)
    hot = _run(_lane(HOT_MZM), t_hot)
    # the same lane with a fixed modulator at the operating bias −π/4 + ε: the same records
    fixed = dataclasses.replace(MachZehnderModulator(eo_bandwidth_hz=40e9), bias_phase_rad=-math.pi / 4 + st.error_rad)
    ref = _run(_lane(fixed), t_hot)
    np.testing.assert_array_equal(hot.tx_waveform.samples, ref.tx_waveform.samples)
    np.testing.assert_array_equal(hot.rx_waveform.samples, ref.rx_waveform.samples)
    assert hot.metrics["mzm_bias_error_rad"] == pytest.approx(st.error_rad, rel=1e-12)
    assert hot.metrics["mzm_bias_v"] == pytest.approx(st.bias_v, rel=1e-12)
    assert hot.metrics["mzm_bias_limited"] is False
    # at the trim temperature nothing moves: the same records as a balanced MZM
    cold = _run(_lane(HOT_MZM), 35.0)
    plain = _run(_lane(MachZehnderModulator(eo_bandwidth_hz=40e9)), 35.0)
    np.testing.assert_array_equal(cold.tx_waveform.samples, plain.tx_waveform.samples)
    assert cold.metrics["mzm_bias_error_rad"] == 0.0
    # the bias moved towards the transfer's peak: the top level compresses, ER and RLM fall
    assert hot.metrics["extinction_ratio_db"] < cold.metrics["extinction_ratio_db"] - 0.2
    assert hot.metrics["rlm"] < cold.metrics["rlm"]


def test_predistortion_is_kept_from_the_reference_modulator():
    # 'auto' levels are solved once (for the trim-temperature transfer), not re-solved when hot
    lane = _lane(HOT_MZM, predistortion="auto")
    hot = _run(lane, 75.0)
    assert hot.tx_waveform.meta["drive"]["level_predistortion"] == list(lane.transmitter.effective_driver.levels)


def test_bias_only_change_reuses_the_drive_filter(monkeypatch):
    calls = []
    real = MachZehnderModulator.eo_response

    def counting(self, f):
        calls.append(self.eo_bandwidth_hz)
        return real(self, f)

    monkeypatch.setattr(MachZehnderModulator, "eo_response", counting)
    lane_module._DRIVE_RESPONSES.clear()
    drift_only = MachZehnderModulator(eo_bandwidth_hz=41e9, arm_imbalance_m=100e-6, temperature_ref_c=35.0)
    for t in (35.0, 55.0, 75.0):
        _run(_lane(drift_only), t)
    assert len(calls) == 1  # one drive filter for three bias points
    # a bandwidth that moves with temperature needs its own filter
    with_bw = dataclasses.replace(drift_only, eo_bandwidth_tempco_per_k=-1e-3)
    _run(_lane(with_bw), 75.0)
    assert calls[-1] == pytest.approx(41e9 * (1 - 1e-3 * 40.0))


def test_out_of_range_bias_is_reported_per_lane():
    weak = dataclasses.replace(HOT_MZM, bias_max_v=0.5)
    m = _run(_lane(weak), 90.0).metrics
    st = weak.bias_state(90.0, DfbLaser().wavelength_at(90.0))
    assert st.limited and m["mzm_bias_limited"] is True
    assert m["mzm_bias_error_rad"] == pytest.approx(st.error_rad, rel=1e-12) and abs(m["mzm_bias_v"]) == 0.5


def test_sweep_measures_the_tx_at_every_temperature_for_a_drifting_mzm():
    # a sweep reuses the first temperature's Tx metrics only when the Tx waveform is a scaled copy;
    # a drifting MZM changes it, so each temperature equals its own simulate()
    lane = _lane(HOT_MZM)
    module = LinkModule(name="m", lanes=[lane], symbol_rate_baud=BAUD, payload_rate_bps=100e9)
    temps = [25.0, 65.0]
    swept = simulate_many(module, [dataclasses.replace(SETTINGS, temperature_c=t) for t in temps], seed=7)
    for t, res in zip(temps, swept):
        alone = simulate(module, dataclasses.replace(SETTINGS, temperature_c=t), seed=7)
        for key in ("extinction_ratio_db", "rlm", "oma_outer_dbm", "mzm_bias_error_rad"):
            assert res.lanes[0].metrics[key] == pytest.approx(alone.lanes[0].metrics[key], rel=1e-9), key
    assert swept[1].lanes[0].metrics["extinction_ratio_db"] < swept[0].lanes[0].metrics["extinction_ratio_db"] - 0.2
