"""Driver edge jitter (random, even-odd, sinusoidal) and the jittered lane's cached fast path.

Every check compares a measured quantity with its closed form: the crossing times of a
Gaussian-filtered drive (interpolated between samples, independent of how the driver moves an
edge) against ``d_k = RJ_k + (-1)^k EOJ/2 + (SJ/2) sin(2 pi f k T)`` (models.electrical module
docstring), and the fast path's drive against the driver's own waveform filtered afterwards.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from models import lane_simulation
from models.electrical import Pam4Driver, jittered_staircase
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import Lane, SimulationSettings, Transmitter, simulate_lane
from models.modulator import MachZehnderModulator
from models.receiver import Receiver
from optics.errors import InvalidParameter

BAUD = 53.125e9
UI = 1.0 / BAUD
SPS = 32
# isolated full-swing transitions: every symbol boundary is an edge crossing 0 V
SYM = np.tile([0, 3], 2048)


def _crossing_times(t, y, level=0.0):
    d = y - level
    i = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
    return t[i] + (t[i + 1] - t[i]) * d[i] / (d[i] - d[i + 1])


def _edge_errors(wf):
    """Crossing time minus the nominal edge time (k UI - half a sample), and the edge index k."""
    t = np.arange(wf.n_samples) / wf.sample_rate_hz
    tc = _crossing_times(t, np.asarray(wf.samples))
    k = np.round((tc + 0.5 * wf.dt_s) / UI)
    return tc - (k * UI - 0.5 * wf.dt_s), k.astype(int) % SYM.size


def _drive(drv, seed=3):
    return drv.drive(SYM, symbol_rate_baud=BAUD, samples_per_symbol=SPS, rng=np.random.default_rng(seed))


def test_even_odd_jitter_separates_even_and_odd_edges_by_its_peak_to_peak():
    eoj = 0.04 * UI
    err, k = _edge_errors(_drive(Pam4Driver(swing_v=1.0, rise_time_s=6e-12, eoj_pp_s=eoj)))
    assert err.size == SYM.size
    even, odd = err[k % 2 == 0], err[k % 2 == 1]
    # deterministic: the mean of the even edges minus the odd ones is EOJ (interpolation error
    # of the crossing times on a 32-sample UI well below 1 %)
    assert np.mean(even) - np.mean(odd) == pytest.approx(eoj, rel=0.01)
    assert np.std(even) < 0.01 * eoj and np.std(odd) < 0.01 * eoj


def test_sinusoidal_jitter_rms_and_whole_cycles():
    sj = 0.06 * UI
    drv = Pam4Driver(swing_v=1.0, rise_time_s=6e-12, sj_pp_s=sj, sj_frequency_hz=101e6)
    # 4096 symbols at 53.125 GBd is 77.1 ns: 101 MHz rounds to 8 cycles
    assert drv.sj_cycles(SYM.size, BAUD) == round(101e6 * SYM.size / BAUD) == 8
    err, k = _edge_errors(_drive(drv))
    # rms of a sine of peak-to-peak SJ is SJ / (2 sqrt 2); its phase follows the edge index
    assert np.std(err) == pytest.approx(sj / (2.0 * math.sqrt(2.0)), rel=0.01)
    expected = 0.5 * sj * np.sin(2 * np.pi * 8 * k / SYM.size)
    assert np.max(np.abs(err - expected)) < 0.02 * sj


def test_combined_jitter_rms_matches_the_closed_form():
    drv = Pam4Driver(swing_v=1.0, rise_time_s=6e-12, rj_rms_s=0.01 * UI, eoj_pp_s=0.02 * UI,
                     sj_pp_s=0.03 * UI, sj_frequency_hz=50e6)
    closed = math.sqrt((0.01 * UI) ** 2 + (0.01 * UI) ** 2 + (0.03 * UI) ** 2 / 8)
    assert drv.jitter_rms_s() == pytest.approx(closed, rel=1e-12)
    err, _ = _edge_errors(_drive(drv))
    # 4096 edges: the random part's variance estimate has ~2.2 % rms error (1.1 % on the rms);
    # the total is 58 % random in variance: allow 3 %
    assert np.std(err) == pytest.approx(closed, rel=0.03)


def test_edge_shifts_are_the_drive_displacements():
    drv = Pam4Driver(swing_v=1.0, rise_time_s=0.0, rj_rms_s=0.01 * UI, eoj_pp_s=0.02 * UI)
    d_samples = drv.edge_shifts_samples(SYM.size, BAUD, SPS, np.random.default_rng(8))
    d_s = drv.edge_shifts_s(SYM.size, BAUD, np.random.default_rng(8))
    assert np.allclose(d_samples / (BAUD * SPS), d_s, rtol=1e-12, atol=1e-30)
    # the staircase keeps its area less the area the moved edges take: sum changes by -sum(step d)
    v = drv.symbol_voltages(SYM)
    x = jittered_staircase(v, SPS, d_samples)
    step = v - np.roll(v, 1)
    assert x.sum() - SPS * v.sum() == pytest.approx(-np.sum(step * d_samples), rel=1e-9)


def test_jitter_limits_are_checked():
    with pytest.raises(InvalidParameter, match="eoj_pp_s"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, eoj_pp_s=0.3 * UI).edge_shifts_s(16, BAUD)
    with pytest.raises(InvalidParameter, match="sj_pp_s"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, sj_pp_s=0.25 * UI).edge_shifts_s(16, BAUD)
    with pytest.raises(InvalidParameter, match="rng"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, rj_rms_s=0.01 * UI).edge_shifts_s(16, BAUD)
    with pytest.raises(InvalidParameter, match="eoj_pp_s"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, eoj_pp_s=-1e-12)
    with pytest.raises(InvalidParameter, match="half a symbol"):
        jittered_staircase(np.zeros(4), 8, np.array([0.0, 4.0, 0.0, 0.0]))


# --- the lane's fast path ------------------------------------------------------------------
MZM = MachZehnderModulator(eo_bandwidth_hz=40e9, chirp_alpha=0.0)
JITTERY = Pam4Driver(swing_v=1.0, rise_time_s=5e-12, rj_rms_s=0.015 * UI, eoj_pp_s=0.02 * UI)


def _tx(driver=JITTERY):
    return Transmitter(driver=driver, laser=DfbLaser(rin_db_per_hz=-140.0).with_output_power(2e-3), modulator=MZM)


def test_fast_drive_equals_the_drivers_waveform_filtered_afterwards():
    # second method: Pam4Driver.drive (time-domain staircase + its Gaussian) then the EO response,
    # against Transmitter.drive_voltage (one transform with the kept responses)
    sym = np.random.default_rng(0).integers(0, 4, 2048)
    v_fast, _ = _tx().drive_voltage(sym, BAUD, 16, precision="double", jitter_rng=np.random.default_rng(4))
    wf = JITTERY.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=16, rng=np.random.default_rng(4))
    f = np.fft.rfftfreq(wf.n_samples, wf.dt_s)
    v_slow = np.fft.irfft(np.fft.rfft(wf.samples) * MZM.eo_response(f), wf.n_samples)
    assert np.max(np.abs(v_fast - v_slow)) < 1e-12 * np.ptp(v_slow)


def test_fast_drive_crossings_follow_the_jitter_closed_form():
    drv = Pam4Driver(swing_v=1.0, rise_time_s=6e-12, rj_rms_s=0.012 * UI)
    tx = _tx(drv)
    nominal, _ = _tx(dataclasses.replace(drv, rj_rms_s=0.0)).drive_voltage(SYM, BAUD, SPS, precision="double")
    v, _ = tx.drive_voltage(SYM, BAUD, SPS, precision="double", jitter_rng=np.random.default_rng(21))
    t = np.arange(v.size) / (BAUD * SPS)
    shift = _crossing_times(t, v) - _crossing_times(t, nominal)
    assert shift.size == SYM.size
    # 4096 edges: rms estimate ~1.1 % rms error; allow 4 %
    assert np.std(shift) == pytest.approx(0.012 * UI, rel=0.04)


SETTINGS = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False,
                              count_errors=False)


def _lane(driver=JITTERY):
    return Lane(name="l", transmitter=_tx(driver), channel=Channel(fiber=Fiber(length_m=500.0)), receiver=Receiver())


def _run(lane, seed, t_c=40.0, cache=None, **kw):
    return simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS,
                         rng=np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1]),
                         chip_temperature_c=t_c, cache=cache, metrics=False, **kw)


def test_same_seed_gives_the_same_jittered_record_and_other_seeds_differ():
    a, b, c = _run(_lane(), 7), _run(_lane(), 7), _run(_lane(), 8)
    assert np.array_equal(a.tx_waveform.samples, b.tx_waveform.samples)
    assert np.array_equal(a.rx_waveform.samples, b.rx_waveform.samples)
    assert not np.array_equal(a.tx_waveform.samples, c.tx_waveform.samples)


def test_jittered_transfer_is_kept_and_the_other_draws_are_those_of_a_clean_lane(monkeypatch):
    calls = []
    transfer = lane_simulation.transmitter_transfer

    def counting(*args, **kw):
        calls.append(1)
        return transfer(*args, **kw)

    monkeypatch.setattr(lane_simulation, "transmitter_transfer", counting)
    cache: dict = {}
    sym = SETTINGS.symbols()
    hot = _run(_lane(), 7, t_c=40.0, cache=cache, symbols=sym)
    cold = _run(_lane(), 7, t_c=20.0, cache=cache, symbols=sym)
    assert len(calls) == 1  # the second temperature reuses the jittered transfer
    # same transfer, same RIN draws: the Tx records differ by the laser power ratio only
    k = cold.metrics["laser_power_w"] / hot.metrics["laser_power_w"]
    assert np.allclose(cold.tx_waveform.samples, k * hot.tx_waveform.samples, rtol=1e-5, atol=0)
    # the jitter has a stream of its own: the jittered lane's noise draws are those of the clean
    # lane (the Tx difference is the drive only; with identical drive it would vanish)
    rng = np.random.default_rng(np.random.SeedSequence(7).spawn(2)[1])
    before = rng.bit_generator.state
    key, jrng = lane_simulation.jitter_stream(rng)
    assert rng.bit_generator.state == before and key is not None
    assert np.array_equal(jrng.normal(size=4), lane_simulation.jitter_stream(
        np.random.default_rng(np.random.SeedSequence(7).spawn(2)[1]))[1].normal(size=4))


def test_jittered_lane_without_a_jitter_stream_draws_from_the_lane_generator_uncached(monkeypatch):
    # no seed sequence to derive the jitter stream from: the jitter comes from the lane's own
    # generator (before the RIN) and the transfer is not kept (it would not repeat)
    calls = []
    transfer = lane_simulation.transmitter_transfer

    def counting(*args, **kw):
        calls.append(kw.get("jitter_rng"))
        return transfer(*args, **kw)

    monkeypatch.setattr(lane_simulation, "transmitter_transfer", counting)
    monkeypatch.setattr(lane_simulation, "jitter_stream", lambda rng: (None, None))
    cache: dict = {}
    sym = SETTINGS.symbols()
    a = _run(_lane(), 7, cache=cache, symbols=sym)
    b = _run(_lane(), 7, cache=cache, symbols=sym)
    assert len(calls) == 2 and calls == [None, None]
    assert np.array_equal(a.tx_waveform.samples, b.tx_waveform.samples)


def test_preset_jitter_is_the_stated_ui_at_each_rate():
    from models.presets import TX_JITTER_UI, preset

    for name in ("400GBASE-DR4", "1.6TBASE-DR8"):
        plain, jit = preset(name, jitter=False), preset(name)      # jitter on by default
        baud = jit.symbol_rate_baud
        for lane in jit.lanes:
            drv = lane.transmitter.driver
            assert drv.rj_rms_s * baud == pytest.approx(TX_JITTER_UI["rj_rms"], rel=1e-12)
            assert drv.eoj_pp_s * baud == pytest.approx(TX_JITTER_UI["eoj_pp"], rel=1e-12)
        assert not plain.lanes[0].transmitter.driver.has_jitter
    with pytest.raises(Exception, match="jitter"):
        preset("400GBASE-DR4", jitter="yes")


def test_link_files_get_the_preset_jitter_unless_switched_off():
    from models.config import loads_link
    from models.presets import TX_JITTER_UI

    on = loads_link('preset = "400GBASE-DR4"\n').module
    off = loads_link('preset = "400GBASE-DR4"\ntx_jitter = false\n').module
    baud = on.symbol_rate_baud
    assert all(ln.transmitter.driver.rj_rms_s * baud == pytest.approx(TX_JITTER_UI["rj_rms"], rel=1e-12)
               for ln in on.lanes)
    assert not any(ln.transmitter.driver.has_jitter for ln in off.lanes)
    # a [driver] value wins over the preset's jitter; a link without a preset has none unless asked
    own = loads_link('preset = "400GBASE-DR4"\n[driver]\nrj_rms_s = 1e-13\n').module
    assert own.lanes[0].transmitter.driver.rj_rms_s == 1e-13
    assert own.lanes[0].transmitter.driver.eoj_pp_s * baud == pytest.approx(TX_JITTER_UI["eoj_pp"], rel=1e-12)
    assert not loads_link("n_lanes = 1\nsymbol_rate_baud = 53.125e9\npayload_rate_bps = 1e11\n").module.lanes[
        0].transmitter.driver.has_jitter
