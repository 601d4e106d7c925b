"""Side-by-side benchmark against OptiCommPy (plain script: prints figures; exit status 0).

Run: ``python benchmarks/bench_vs_opticommpy.py [--runs N]`` with an interpreter that has both
this package and OptiCommPy (``pip install .[peer]``; keep it out of a shared environment, e.g.
``python3 -m venv /tmp/peer && /tmp/peer/bin/pip install -e . opticommpy``).  Without
OptiCommPy the script says how to install it and exits 0.

The same simple IM/DD link is built in both:

    53.125 GBd PAM4, 2^16 symbols (PRBS15Q) at 16 samples/symbol
    CW laser (no RIN) → push-pull MZM at quadrature (Vπ = 4 V, drive ±0.8 V: mild sin()
    compression) → 2 km SSMF at 1310 nm (λ0 = 1324 nm, S0 = 0.092 ps/(nm²·km): D from
    models.fiber, the same number given to OptiCommPy; 0.4 dB/km) → set received power →
    PIN photodiode (R = 1 A/W, no dark current, no shot noise) with thermal noise only
    → decision at the eye centre → counted BER (Gray-coded PAM4).

Both sides' noise is thermal and Gaussian with the same variance σ² = 4kTB/R_L
(T = 298.15 K, R_L = 50 Ω, B = 40 GHz): OptiCommPy adds white noise and filters it with its
brick-wall FIR at B; here the TIA's input-referred density is set so that its Gaussian
response (equivalent noise bandwidth 1.066·f3, integrated below) gives the same σ.  Their
pulse shapes differ (OptiCommPy's "nrz" Gaussian-smoothed pulse and rectangular receiver;
this package's Gaussian driver rise time, first-order EO response and Gaussian TIA), so
their inter-symbol interference differs a little.  Decisions differ too: OptiCommPy's
``fastBERcalc`` normalises the samples (mean removed, unit power) and slices them against
the equally spaced constellation; :func:`optics.ber.count_errors` places its thresholds
between the measured levels.

Third method: the closed form.  With Gray coding an error to a neighbouring level costs one
bit of two, so for levels ``I_k`` (the static MZM transfer at the four drive voltages,
scaled to the received average power) and thresholds half-way between them::

    BER = (1/4)·Σ_{i=1..3} Q(g_i / 2σ),   g_i = I_i − I_(i−1)

which for equal gaps ``g = 2d`` is the textbook ``0.75·Q(d/σ)``.  It has no ISI, so both
simulators should sit at or slightly above it.

Timing: symbols per second to a counted BER, median and [min-max] of ``--runs`` runs after a
warm-up (which also compiles OptiCommPy's numba kernels), the four figures interleaved run by
run so that a change of load reaches them alike; the 1-minute load average before and after
is printed (2 cores shared with other users).  Two figures per side:

* whole link: everything from the symbols (this package with a new, empty lane cache);
* sweep point (:mod:`models.ber_sweep`): the lane simulated once without the TIA's noise (Tx noise
  realisation kept, as OptiCommPy keeps its noise-free Tx waveform); per point the output scaled
  to the power, the TIA noise drawn at the decision instants only with its exact statistics there
  (the noise spectrum aliased onto the symbol rate), the thresholds and the count.  This is the
  figure the issue's target (>= 10x per BER point) is judged on;
* BER point, as in a sweep of received power, each side keeping what does not change between
  points.  OptiCommPy: its Tx waveform and the fibre's output are noise-free, kept; per point
  the attenuator, the photodiode (thermal noise, FIR) and ``fastBERcalc``.  This package: the
  modulator transfer is kept (the lane cache); per point the laser's RIN (the model's lowest,
  -200 dB/Hz: it has no RIN-free laser, so the field differs per seed), the field, the fibre's
  two FFTs, the receiver's filters and noise, timing recovery and the count.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import erfc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BAUD = 53.125e9
SPS = 16
N_SYMBOLS = 1 << 16
WAVELENGTH_M = 1310e-9
LENGTH_M = 2000.0
ATTEN_DB_PER_KM = 0.4
VPI_V = 4.0
SWING_V = 1.6  # peak-to-peak drive between the outer levels
BANDWIDTH_HZ = 60e9  # receiver noise bandwidth / filter
#: OptiCommPy's "nrz" pulse is a 1-UI rectangle smoothed by a Gaussian of sigma = 1/(4·sqrt 2) UI
#: (exp(-t²) on t = linspace(-2, 2, SpS)); the same Gaussian as a 20-80 % rise time (2·0.8416·sigma)
RISE_TIME_S = 2.0 * 0.8416212 / (4.0 * math.sqrt(2.0)) / BAUD
T_K = 298.15
R_LOAD_OHM = 50.0
K_B = 1.380649e-23
LASER_POWER_W = 10e-3
RX_POWERS_DBM = (-12.0, -11.0, -10.0, -9.0)


def q_func(x: float) -> float:
    """Gaussian tail ``Q(x) = erfc(x/√2)/2``."""
    return 0.5 * float(erfc(x / math.sqrt(2.0)))


def thermal_sigma_a() -> float:
    """Thermal noise current rms ``sqrt(4kTB/R_L)`` in A."""
    return math.sqrt(4.0 * K_B * T_K * BANDWIDTH_HZ / R_LOAD_OHM)


def closed_form_ber(rx_power_w: float) -> tuple[float, float]:
    """Closed-form BER (see module docstring) and ``d/σ`` of the mean gap, responsivity 1 A/W."""
    v = SWING_V / 2.0 * np.array([-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0])
    t = 0.5 * (1.0 + np.sin(np.pi * v / VPI_V))  # quadrature MZM, infinite static extinction
    levels = rx_power_w * t / np.mean(t)  # equiprobable symbols: the mean is the average power
    gaps = np.diff(levels)
    sigma = thermal_sigma_a()
    ber = 0.25 * sum(q_func(g / (2.0 * sigma)) for g in gaps)
    return ber, float(np.mean(gaps) / 2.0 / sigma)


def dispersion_ps_per_nm_km() -> float:
    from models.fiber import Fiber

    fib = Fiber(length_m=1000.0, zero_dispersion_wavelength_m=1324e-9)
    return fib.dispersion_ps_per_nm(WAVELENGTH_M)  # per km of this 1 km fibre


# --- this package --------------------------------------------------------------------------
def ours_lane():
    from models.electrical import Pam4Driver
    from models.fiber import Channel, Fiber
    from models.laser import DfbLaser
    from models.link import Lane, Transmitter
    from models.modulator import MachZehnderModulator
    from models.receiver import Photodiode, Receiver, Tia

    # TIA input noise density whose Gaussian response gives sigma^2 = 4kTB/R_L:
    # ENBW = ∫|H|² df with |H(f)|² = 10^(-0.3 (f/f3)²) (models.response "gaussian")
    f = np.linspace(0.0, 10.0 * BANDWIDTH_HZ, 200001)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
    enbw = float(trapezoid(10.0 ** (-0.3 * (f / BANDWIDTH_HZ) ** 2), f))
    density = thermal_sigma_a() / math.sqrt(enbw)
    laser = DfbLaser(wavelength_m=WAVELENGTH_M, rin_db_per_hz=-200.0).with_output_power(LASER_POWER_W)
    mzm = MachZehnderModulator(vpi_l_v_m=VPI_V * 3e-3, length_m=3e-3, insertion_loss_db=0.0,
                               static_extinction_db=60.0, eo_bandwidth_hz=200e9)
    tx = Transmitter(driver=Pam4Driver(swing_v=SWING_V, rise_time_s=RISE_TIME_S), laser=laser, modulator=mzm)
    ch = Channel(fiber=Fiber(length_m=LENGTH_M, attenuation_db_per_km=ATTEN_DB_PER_KM,
                             zero_dispersion_wavelength_m=1324e-9), connector_loss_db=0.0, n_connectors=0)
    rx = Receiver(photodiode=Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=200e9,
                                        shot_noise=False),
                  tia=Tia(transimpedance_ohm=1000.0, input_noise_density_a_per_rthz=density,
                          bandwidth_hz=BANDWIDTH_HZ, shape="gaussian", overload_current_a=0.1))
    return Lane(transmitter=tx, channel=ch, receiver=rx)


def ours_ber(lane, sym: np.ndarray, rx_power_dbm: float, seed: int, cache: dict | None = None) -> float:
    from models.link import SimulationSettings, simulate_lane
    from optics.ber import count_errors

    st = SimulationSettings(pattern="PRBS15Q", n_symbols=N_SYMBOLS, samples_per_symbol=SPS,
                            rx_power_dbm=rx_power_dbm, compute_tdecq=False)
    res = simulate_lane(lane, symbol_rate_baud=BAUD, settings=st, rng=np.random.default_rng(seed), symbols=sym,
                        metrics=False, cache=cache)
    return float(count_errors(res.rx_waveform).ber)


# --- OptiCommPy ----------------------------------------------------------------------------
def ours_sweep(lane, sym: np.ndarray, seed: int = 7):
    """The lane simulated once for a sweep of received power (:mod:`models.ber_sweep`)."""
    from models.ber_sweep import prepare_ber_sweep
    from models.link import SimulationSettings

    st = SimulationSettings(pattern="PRBS15Q", n_symbols=N_SYMBOLS, samples_per_symbol=SPS, compute_tdecq=False)
    return prepare_ber_sweep(lane, symbol_rate_baud=BAUD, settings=st, rng=np.random.default_rng(seed), symbols=sym)


def peer_received_field(sym: np.ndarray, d_ps_nm_km: float) -> np.ndarray:
    """OptiCommPy's Tx waveform through the fibre (API read from its installed source, 0.11).

    Noise-free (its laser has no RIN): the same field at every BER point, so a sweep computes it once.
    """
    from optic.dsp.core import firFilter, pulseShape, upsample
    from optic.models.channels import linearFiberChannel
    from optic.models.devices import mzm
    from optic.utils import parameters

    fs = BAUD * SPS
    const = 2.0 * sym.astype(np.float64) - 3.0  # PAM4 symbols -3, -1, 1, 3 (Gray map of pamConst)
    p = parameters()
    p.pulseType, p.SpS = "nrz", SPS
    pulse = pulseShape(p)
    pulse = pulse / np.max(np.abs(pulse))  # unit flat top, as in OptiCommPy's own IM/DD examples
    drive = firFilter(pulse, upsample(const, SPS)) * (SWING_V / 6.0)
    pm = parameters()
    pm.Vpi, pm.Vb, pm.ER = VPI_V, -VPI_V / 2.0, 60.0
    e_tx = mzm(np.full(drive.size, math.sqrt(LASER_POWER_W), dtype=np.complex128), drive, pm)
    pf = parameters()
    pf.L, pf.alpha, pf.D, pf.Fc, pf.Fs = LENGTH_M / 1e3, ATTEN_DB_PER_KM, d_ps_nm_km, 299792458.0 / WAVELENGTH_M, fs
    return linearFiberChannel(e_tx, pf)


def peer_point(sym: np.ndarray, e_rx: np.ndarray, rx_power_dbm: float) -> float:
    """One BER point of OptiCommPy from its received field: attenuator, photodiode with thermal
    noise (white noise through its 255-tap FIR at B), eye-centre samples, ``fastBERcalc``."""
    from optic.comm.metrics import fastBERcalc
    from optic.dsp.core import pnorm
    from optic.models.devices import photodiode
    from optic.utils import parameters

    fs = BAUD * SPS
    const = 2.0 * sym.astype(np.float64) - 3.0
    p_avg = float(np.mean(np.abs(e_rx) ** 2))
    e_rx = e_rx * math.sqrt(1e-3 * 10.0 ** (rx_power_dbm / 10.0) / p_avg)
    pd = parameters()
    pd.R, pd.Tc, pd.Id, pd.RL, pd.B, pd.Fs = 1.0, T_K - 273.15, 0.0, R_LOAD_OHM, BANDWIDTH_HZ, fs
    pd.shotNoise, pd.thermalNoise, pd.N = False, True, 255
    i_rx = photodiode(e_rx, pd)
    rx = i_rx[0::SPS]  # pulse and filters are centred (mode="same"): eye centre at n·SpS
    rx = pnorm(rx - rx.mean())
    ber, _, _ = fastBERcalc(rx, const, 4, "pam")
    return float(ber[0])


def peer_ber(sym: np.ndarray, rx_power_dbm: float, d_ps_nm_km: float) -> float:
    """The whole link with OptiCommPy's functions, from the symbols (nothing reused)."""
    return peer_point(sym, peer_received_field(sym, d_ps_nm_km), rx_power_dbm)


def timed_interleaved(fns: dict[str, Callable[[int], object]], runs: int) -> dict[str, list[float]]:
    """Seconds of ``runs`` calls of each function after one warm-up each, interleaved (run k of
    every function, then run k+1), so that a change of load on the shared machine reaches all
    of them alike; call ``k`` gets the seed ``k + 1``."""
    for fn in fns.values():
        fn(0)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for k in range(runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(k + 1)
            times[name].append(time.perf_counter() - t0)
    return times


def _figure(times: list[float]) -> str:
    """``median ms [min-max]`` of a list of seconds, and symbols/s at the median."""
    med = statistics.median(times)
    return (f"{med * 1e3:6.1f} ms [{min(times) * 1e3:.1f}-{max(times) * 1e3:.1f}] = "
            f"{N_SYMBOLS / med / 1e6:5.2f} M symbols/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per figure, median printed (default 7)")
    args = ap.parse_args()
    try:
        import optic  # noqa: F401  (OptiCommPy's package name)
    except ImportError:
        print("OptiCommPy is not installed: this side-by-side benchmark is optional.\n"
              "Install it with `pip install .[peer]` (from the repository root, in a separate virtual\n"
              "environment, e.g. `python3 -m venv /tmp/peer && /tmp/peer/bin/pip install -e . opticommpy`)\n"
              "and run this script with that interpreter.")
        return 0
    from importlib.metadata import version

    from optics.patterns import pattern

    sym = pattern("PRBS15Q", N_SYMBOLS)
    d = dispersion_ps_per_nm_km()
    lane = ours_lane()
    print(f"OptiCommPy {version('opticommpy')}; cores {os.cpu_count()}; 53.125 GBd PAM4, 2^16 symbols x {SPS} sps, "
          f"MZM Vpi {VPI_V:g} V swing {SWING_V:g} V, 2 km SSMF at 1310 nm (D = {d:.3f} ps/(nm km)), "
          f"thermal noise sigma = {thermal_sigma_a() * 1e6:.3f} uA in {BANDWIDTH_HZ / 1e9:g} GHz")
    print(f"counted over {2 * N_SYMBOLS} bits each (Poisson: +-{100 / math.sqrt(2 * N_SYMBOLS * 2e-3):.0f} % at 2e-3, "
          f"+-{100 / math.sqrt(2 * N_SYMBOLS * 1e-4):.0f} % at 1e-4)")
    sweep = ours_sweep(lane, sym)
    print(f"{'Prx dBm':>8} {'d/sigma':>8} {'closed form':>12} {'this package':>13} {'its sweep':>10} {'OptiCommPy':>11}")
    for p_dbm in RX_POWERS_DBM:
        cf, q = closed_form_ber(1e-3 * 10.0 ** (p_dbm / 10.0))
        ours = ours_ber(lane, sym, p_dbm, seed=11)
        swept = sweep.point(p_dbm, np.random.default_rng(11)).ber
        peer = peer_ber(sym, p_dbm, d)
        print(f"{p_dbm:8.1f} {q:8.3f} {cf:12.3e} {ours:13.3e} {swept:10.3e} {peer:11.3e}")
    p_time = RX_POWERS_DBM[1]
    cache: dict = {}
    e_rx = peer_received_field(sym, d)
    load0 = os.getloadavg()[0]
    times = timed_interleaved({
        "ours_cold": lambda k: ours_ber(lane, sym, p_time, seed=k, cache={}),  # a new cache: nothing kept
        "ours_point": lambda k: ours_ber(lane, sym, p_time, seed=k, cache=cache),
        "ours_sweep": lambda k: sweep.point(p_time, np.random.default_rng(k)),
        "peer_cold": lambda k: peer_ber(sym, p_time, d),
        "peer_point": lambda k: peer_point(sym, e_rx, p_time),
    }, args.runs)
    load1 = os.getloadavg()[0]
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"speed, symbols -> counted BER at {p_time:g} dBm, median [min-max] of {args.runs} interleaved runs "
          f"(1-min load {load0:.2f} before, {load1:.2f} after; {os.cpu_count()} cores):")
    print(f"  this package, whole lane: {_figure(times['ours_cold'])} (empty lane cache: modulator transfer recomputed)")
    print(f"  this package, BER point:  {_figure(times['ours_point'])} (modulator transfer kept; laser RIN, fibre, "
          "receiver noise and filters, timing recovery and count per point)")
    print(f"  OptiCommPy, whole link:   {_figure(times['peer_cold'])}")
    print(f"  OptiCommPy, BER point:    {_figure(times['peer_point'])} (Tx waveform and fibre output kept; "
          "attenuator, photodiode noise and FIR, fastBERcalc per point)")
    print(f"  this package, sweep point: {_figure(times['ours_sweep'])} (models.ber_sweep: the lane simulated "
          "once without the TIA noise; per point the scaling, the TIA noise at the decision instants with its "
          "exact statistics there, thresholds and count)")
    ratio = med["peer_point"] / med["ours_sweep"]
    print(f"  OptiCommPy time / ours: {med['peer_cold'] / med['ours_cold']:.1f}x whole link, "
          f"{med['peer_point'] / med['ours_point']:.1f}x per BER point by the full lane path, {ratio:.1f}x per sweep "
          f"point (target >= 10x: {'met' if ratio >= 10.0 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
