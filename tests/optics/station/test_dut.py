import math

import numpy as np
import pytest

from optics.errors import InvalidParameter
from optics.levels import measure_levels
from optics.station.dut import LaneParams, LaneTransmitter, SimulatedModule, demo_population, nominal_module


def test_ring_efficiency_lorentzian():
    ln = LaneParams(ring_lock_max_c=60.0, ring_drift_m_per_k=0.1e-9, ring_fwhm_m=0.4e-9)
    assert ln.ring_efficiency(25.0) == 1.0
    assert ln.ring_efficiency(60.0) == 1.0
    # 2 K beyond: detuning 0.2 nm = FWHM/2 -> half the slope
    assert ln.ring_efficiency(62.0) == pytest.approx(0.5, rel=1e-12)
    assert ln.ring_efficiency(64.0) == pytest.approx(1 / (1 + 4), rel=1e-12)


def test_detuned_er_keeps_average_power_and_scales_oma():
    ln = LaneParams(average_power_dbm=1.0, extinction_ratio_db=5.0, ring_lock_max_c=60.0,
                    ring_drift_m_per_k=0.1e-9, ring_fwhm_m=0.4e-9, power_tempco_db_per_k=0.0)
    tx = LaneTransmitter(ln)
    p = 1e-3 * 10 ** 0.1
    r0 = 10 ** 0.5
    oma0 = 2 * p * (r0 - 1) / (r0 + 1)             # P3 - P0 with P0 = 2P/(r+1), P3 = r P0
    assert tx.oma_outer_w(25.0) == pytest.approx(oma0, rel=1e-12)
    assert tx.oma_outer_w(62.0) == pytest.approx(0.5 * oma0, rel=1e-12)
    assert tx.average_power_w(62.0) == pytest.approx(p, rel=1e-12)


def test_lane_waveform_levels_match_the_lane():
    ln = LaneParams(average_power_dbm=0.5, extinction_ratio_db=4.5, noise_rms_rel_oma=0.005, seed=3)
    tx = LaneTransmitter(ln, samples_per_symbol=8)
    wf = tx.waveform(25.0)
    lv = measure_levels(wf)
    assert 10 * math.log10(lv.average / 1e-3) == pytest.approx(0.5, abs=0.05)
    assert lv.extinction_ratio_db == pytest.approx(4.5, abs=0.3)
    assert wf.meta["seed"][0] == 3


def test_population_defects_are_physical():
    lot = demo_population(5, rng=np.random.default_rng(1))
    assert [m.serial for m in lot] == [f"DR8{i:05d}" for i in range(1, 6)]
    weak, hot = lot[1], lot[3]
    assert weak.lanes[3].average_power_dbm == -3.4 and "weak laser" in weak.note
    assert hot.lanes[5].ring_efficiency(70.0) < 0.4 and hot.lanes[5].ring_efficiency(25.0) == 1.0
    slow = lot[4].lanes[2]
    assert slow.bandwidth_hz == 19.3e9 and "slow driver" in lot[4].note
    good = [m for m in lot if not m.note]
    assert all(ln.ring_efficiency(70.0) == 1.0 for m in good for ln in m.lanes)
    # spread: lanes differ, a serial seeds the same module twice
    powers = [ln.average_power_dbm for ln in lot[0].lanes]
    assert np.std(powers) > 0.05
    assert nominal_module("X1") == nominal_module("X1")


def test_bad_module():
    with pytest.raises(InvalidParameter, match="serial"):
        SimulatedModule(serial="", lanes=(LaneParams(),))
    with pytest.raises(InvalidParameter, match="1..8 LaneParams"):
        SimulatedModule(serial="A", lanes=())
    with pytest.raises(InvalidParameter, match="average_power_dbm"):
        LaneParams(average_power_dbm=40.0)
