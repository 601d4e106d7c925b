"""models.lane_simulation: a lane simulated only as far as its transmitter (receiver=False)."""

import numpy as np
import pytest

from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import Lane, SimulationSettings, Transmitter, simulate_lane
from models.modulator import IdealIntensityModulator, MachZehnderModulator
from models.receiver import Receiver

BAUD = 53.125e9
SETTINGS = SimulationSettings(pattern="PRBS9Q", n_symbols=511 * 4, samples_per_symbol=8, compute_tdecq=False,
                              count_errors=False)


def _lane(modulator):
    tx = Transmitter(driver=Pam4Driver(swing_v=1.0, rise_time_s=5e-12),
                     laser=DfbLaser(rin_db_per_hz=-140.0).with_output_power(2e-3), modulator=modulator)
    return Lane(name="l", transmitter=tx, channel=Channel(fiber=Fiber(length_m=500.0)), receiver=Receiver())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("modulator", [IdealIntensityModulator(extinction_ratio_db=5.0, swing_v=1.0),
                                       MachZehnderModulator(eo_bandwidth_hz=40e9, chirp_alpha=0.0)])
def test_tx_only_lane_gives_the_same_tx_record_without_the_receiver(modulator, threads):
    # the generator draws the laser RIN before the receiver's shot and TIA noise, so stopping
    # after the transmitter leaves the Tx record the same sample for sample
    lane = _lane(modulator)
    full = simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(5),
                         metrics=False, threads=threads)
    tx_only = simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(5),
                            metrics=False, receiver=False, threads=threads)
    assert np.array_equal(tx_only.tx_waveform.samples, full.tx_waveform.samples)
    assert tx_only.rx_waveform is None and full.rx_waveform is not None
    assert tx_only.metrics["receive_power_dbm"] is None
    assert full.metrics["receive_power_dbm"] == pytest.approx(
        10 * np.log10(full.tx_waveform.samples.mean() / 1e-3) - lane.channel.insertion_loss_db, abs=1e-6)


def test_tx_only_lane_measures_the_tx_and_no_rx_metrics():
    lane = _lane(IdealIntensityModulator(extinction_ratio_db=5.0, swing_v=1.0))
    m = simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(5),
                      receiver=False).metrics
    m_full = simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(5)).metrics
    assert m["average_power_dbm"] == m_full["average_power_dbm"]
    assert m["extinction_ratio_db"] == pytest.approx(5.0, abs=0.05)   # the ideal modulator's ER
    assert "ber_estimate" in m_full and "ber_estimate" not in m


def test_transfer_kept_without_a_cache_gives_the_same_records(monkeypatch):
    # without a caller's cache the lane keeps its last transfers by symbol content: the same
    # lane at another temperature (fresh, equal symbol arrays) computes it once, and the records
    # equal those computed afresh; other symbols are not served the kept transfer
    from models import lane_simulation

    lane = _lane(MachZehnderModulator(eo_bandwidth_hz=40e9, chirp_alpha=0.0))
    calls = []
    transfer = lane_simulation.transmitter_transfer
    monkeypatch.setattr(lane_simulation, "transmitter_transfer", lambda *a, **k: calls.append(1) or transfer(*a, **k))

    def record(t_c, seed, symbols=None):
        return simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(seed),
                             chip_temperature_c=t_c, symbols=SETTINGS.symbols() if symbols is None else symbols,
                             metrics=False, receiver=False).tx_waveform.samples

    lane_simulation._RECENT_TRANSFERS.clear()
    kept = [record(25.0, 1), record(40.0, 2)]
    assert len(calls) == 1
    fresh = []
    for t_c, seed in ((25.0, 1), (40.0, 2)):
        lane_simulation._RECENT_TRANSFERS.clear()
        fresh.append(record(t_c, seed))
    assert len(calls) == 3
    assert all(np.array_equal(a, b) for a, b in zip(kept, fresh))
    other = SETTINGS.symbols().copy()
    other[:4] = (other[:4] + 1) % 4
    record(25.0, 1, other)
    assert len(calls) == 4
