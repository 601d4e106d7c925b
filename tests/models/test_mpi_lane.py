"""MPI in a simulated lane: the penalty is repeatable across seeds (phase swept over the record,
models.fiber) and of the size the Gaussian closed form gives."""

import math

import numpy as np
from models.electrical import Pam4Driver
from models.fiber import Channel, Fiber
from models.laser import DfbLaser
from models.link import Lane, SimulationSettings, Transmitter, simulate_lane
from models.modulator import MachZehnderModulator
from models.receiver import Receiver
from optics.budget.closed_form import mpi_relative_variance

BAUD = 53.125e9
SETTINGS = SimulationSettings(pattern="PRBS13Q", samples_per_symbol=8, compute_tdecq=False, count_errors=False,
                              rx_power_dbm=-8.0)
TX = Transmitter(driver=Pam4Driver(swing_v=2.0, rise_time_s=5e-12),
                 laser=DfbLaser(rin_db_per_hz=-150.0).with_output_power(2e-3), modulator=MachZehnderModulator())


def _ber(reflectance_db, seed):
    lane = Lane(name="l", transmitter=TX, channel=Channel(fiber=Fiber(length_m=500.0), reflectance_db=reflectance_db),
                receiver=Receiver())
    m = simulate_lane(lane, symbol_rate_baud=BAUD, settings=SETTINGS, rng=np.random.default_rng(seed)).metrics
    return m["ber_estimate"], m["extinction_ratio_db"]


def test_mpi_penalty_is_repeatable_across_seeds_and_of_the_closed_form_size():
    # ε = (−14 dB)² = −28 dB.  With one phase per record the 8 seeds' BER estimates spread by a
    # factor of about 5 and stayed near the no-MPI values (1e-5...1e-4); averaged over the phase
    # they agree within a factor 2 (1.6 measured) at a penalty that is real
    bers = []
    for seed in range(8):
        ber, er_db = _ber(-14.0, seed)
        bers.append(ber)
    bers = np.array(bers)
    assert bers.max() / bers.min() < 2.0
    clean = max(_ber(None, seed)[0] for seed in range(2))
    assert bers.min() > 30 * clean
    # Gaussian closed form (optics.budget.closed_form.mpi_relative_variance, Gimlett & Cheung):
    # σ/OMA of the top level at the lane's ER, PAM4 eye half-height OMA/6, Q = (1/6)/(σ/OMA), BER
    # of MPI alone 3/4·erfc(Q/√2) (Gray-coded PAM4, 3/2 of the levels' tails over 2 bits) = 0.049.
    # It is an upper bound (the top level's σ for every level; the beat is bounded, not Gaussian):
    # the simulated mean (0.022, receiver noise included) lies below it and within a factor 10
    q = (1.0 / 6.0) / math.sqrt(mpi_relative_variance(-28.0, er_db))
    ber_mpi_only = 0.75 * math.erfc(q / math.sqrt(2.0))
    assert ber_mpi_only / 10 < float(np.mean(bers)) < ber_mpi_only
