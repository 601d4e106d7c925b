"""Speed of the link models (plain script: prints figures, targets and OK/MISSED; exit status 0).

Run: ``.venv/bin/python benchmarks/bench_models.py [--runs N] [--sweep-points N] [--skip-sweep]``

1. One 53.125 GBd lane, 2^16 PAM4 symbols at 16 samples/symbol: laser → MZM → 2 km fibre →
   PD/TIA at -10 dBm received (a point of a sensitivity curve, ~1e-3 BER) → counted BER
   (:func:`optics.ber.count_errors`, timing recovered from the waveform as for a measured one).
   Target >= 1.5 M symbols/s.  Two figures: a cold lane (everything computed but what
   depends only on the parameters and record length — the filter responses, FFT twiddles and
   the staircase grid, kept between lanes after the warm-up run) and one BER
   point of a series on the same lane (the deterministic transmitter — driver, EO response,
   modulator transfer — computed once and reused; laser RIN, shot and thermal noise drawn
   afresh, as in a BER sweep).  The lane uses both cores (``SimulationSettings.threads``
   default): its noise is drawn ahead on a second thread (:mod:`models.draws_ahead`).
   The building blocks are timed too: 2^20 Gaussian draws (numpy's ziggurat against
   :func:`models.gaussian.standard_normal`, in float64 and float32) and 2^20-point transforms
   (one 1-D pocketfft call against the four-step layout of :mod:`models.fft_layout`).
2. A 1.6TBASE-DR8 module (8 lanes, SSPRQ, 32 samples/UI) end to end with TDECQ per lane.
   Target < 5 s.
3. A temperature sweep of that module over 15 case temperatures.  Target < 30 s.

Every figure is given for the default ``SimulationSettings(precision="single")`` (channel and
receiver in complex64/float32; Tx and TDECQ always double) and for ``precision="double"``.
Each figure is the median of ``--runs`` timed runs after one warm-up; the machine is shared,
so the 1-minute load average is printed with it (2 cores: a load above 2 means the lanes
compete with other processes for the cores), and for [2] and [3] the CPU time of the run
(this process and its lane workers): with two free cores the wall time approaches CPU/2.

BLAS threads are limited to 1 (``OPENBLAS_NUM_THREADS``, set before numpy is imported): the
BLAS calls here are small, and on a loaded machine BLAS threads stall (the receiver FFE
training took 8 ms with one thread and 120 ms with two in one measurement).  Lanes run in
worker processes instead (:func:`models.link.simulate`, ``workers=None``: one per core).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LANE_TARGET_SPS = 1.5e6
MODULE_TARGET_S = 5.0
SWEEP_TARGET_S = 30.0


def _load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished worker processes."""
    import resource

    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


def _median_time(fn, runs: int) -> tuple[float, list[float], object, float]:
    """Median wall time of ``runs`` calls, the times, the last result and the median CPU time."""
    times, cpus, out = [], [], None
    for k in range(runs):
        c0 = _cpu_s()
        t0 = time.perf_counter()
        out = fn(k)
        times.append(time.perf_counter() - t0)
        cpus.append(_cpu_s() - c0)
    return statistics.median(times), times, out, statistics.median(cpus)


def bench_lane(runs: int) -> None:
    """Symbols per second of one 2 km lane with counted BER (cold, and per BER point)."""
    from models.fiber import Channel, Fiber
    from models.link import SimulationSettings, simulate_lane
    from models.presets import preset
    from optics.ber import count_errors

    base = preset("400GBASE-DR4").lanes[0]
    lane = dataclasses.replace(base, channel=Channel(fiber=Fiber(length_m=2000.0, zero_dispersion_wavelength_m=1324e-9)))
    for precision in ("single", "double"):
        settings = SimulationSettings(pattern="PRBS15Q", n_symbols=1 << 16, samples_per_symbol=16,
                                      compute_tdecq=False, precision=precision, rx_power_dbm=-10.0)
        sym = settings.symbols()
        cache: dict = {}

        def run(seed: int, cache: dict | None) -> float:
            res = simulate_lane(lane, symbol_rate_baud=53.125e9, settings=settings, rng=np.random.default_rng(seed),
                                symbols=sym, metrics=False, cache=cache)
            return count_errors(res.rx_waveform).ber

        run(0, None)
        run(0, cache)
        for label, c in (("cold lane", None), ("BER point", cache)):
            dt, times, ber, _ = _median_time(lambda k, c=c: run(k + 1, c), runs)
            rate = sym.size / dt
            print(f"[1] {label:9s} {precision}: 53.125 GBd, 2^16 symbols x 16 sps, 2 km, -10 dBm, counted BER {ber:.1e}: "
                  f"{dt * 1e3:.0f} ms = {rate / 1e6:.2f} M symbols/s (median of {runs}; {_load()}) "
                  f"target >= {LANE_TARGET_SPS / 1e6:.1f} M symbols/s: {_verdict(rate >= LANE_TARGET_SPS)}")


def _median_ms(fn, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def bench_blocks() -> None:
    """The lane's building blocks: Gaussian draws and 2^20-point transforms."""
    import scipy.fft as sfft

    from models.fft_layout import four_step
    from models.gaussian import standard_normal

    n = 1 << 20
    rng = np.random.default_rng(1)
    zig = _median_ms(lambda: rng.standard_normal(n))
    bm = _median_ms(lambda: standard_normal(rng, n))
    bm32 = _median_ms(lambda: standard_normal(rng, n, dtype=np.float32))
    print(f"[1a] 2^20 Gaussian draws: numpy ziggurat {zig:.1f} ms, Box-Muller (models.gaussian) {bm:.1f} ms "
          f"({zig / bm:.1f}x), in float32 {bm32:.1f} ms ({_load()})")
    fs = four_step(n)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    r = rng.standard_normal(n).astype(np.float32)
    one_c = _median_ms(lambda: sfft.ifft(sfft.fft(x)))
    four_c = _median_ms(lambda: fs.inverse(fs.forward(x)))
    one_r = _median_ms(lambda: sfft.irfft(sfft.rfft(r), n))
    four_r = _median_ms(lambda: fs.real_inverse(fs.real_forward(r)))
    print(f"[1b] 2^20-point transform pair, one thread: complex64 1-D {one_c:.1f} ms, four-step {four_c:.1f} ms; "
          f"float32 real 1-D {one_r:.1f} ms, four-step {four_r:.1f} ms ({_load()})")


def bench_module(runs: int) -> None:
    """Seconds for the 1.6TBASE-DR8 module with TDECQ per lane."""
    from models.link import SimulationSettings, simulate
    from models.presets import preset

    module = preset("1.6TBASE-DR8")
    warm = dataclasses.replace(module, lanes=module.lanes[:1])
    for precision in ("single", "double"):
        settings = SimulationSettings(pattern="SSPRQ", samples_per_symbol=32, precision=precision)
        simulate(warm, settings)
        dt, times, res, cpu = _median_time(lambda k: simulate(module, settings), runs)
        tdecq = [lane.metrics["tdecq_db"] for lane in res.lanes]
        print(f"[2] 1.6TBASE-DR8 {precision}: 8 lanes, SSPRQ x 32 sps, TDECQ {min(tdecq):.2f}-{max(tdecq):.2f} dB: "
              f"{dt:.2f} s (median of {runs}: {', '.join(f'{t:.2f}' for t in times)}; CPU {cpu:.1f} s; {_load()}) "
              f"target < {MODULE_TARGET_S:g} s: {_verdict(dt < MODULE_TARGET_S)}")


def bench_sweep(n_points: int, runs: int) -> None:
    """Seconds for the temperature sweep of the 1.6TBASE-DR8 module."""
    from models.link import SimulationSettings
    from models.presets import preset
    from models.thermal import sweep_temperature, temperature_points

    module = preset("1.6TBASE-DR8")
    temps = temperature_points("industrial", n_points)
    for precision in ("single", "double"):
        settings = SimulationSettings(pattern="SSPRQ", samples_per_symbol=32, precision=precision)
        dt, times, sweep, cpu = _median_time(lambda k: sweep_temperature(module, temps, settings), runs)
        failed = sum(r["link_failed"] for r in sweep.rows)
        scaled = dt * 15 / n_points
        note = "" if n_points == 15 else f" -> {scaled:.1f} s scaled to 15 temperatures (the first one costs more)"
        print(f"[3] temperature sweep {precision}: {n_points} temperatures x 8 lanes ({failed} failed lane-points): "
              f"{dt:.1f} s{note} (median of {runs}: {', '.join(f'{t:.1f}' for t in times)}; CPU {cpu:.1f} s; {_load()}) "
              f"target < {SWEEP_TARGET_S:g} s: {_verdict(scaled < SWEEP_TARGET_S)}")


def main() -> int:
    """Run the benchmarks and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs per figure, median printed (default 3)")
    ap.add_argument("--sweep-points", type=int, default=15, help="temperatures in the sweep (default 15)")
    ap.add_argument("--skip-sweep", action="store_true", help="skip benchmark 3")
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}, {_load()}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    bench_lane(max(args.runs, 9))
    bench_blocks()
    bench_module(args.runs)
    if not args.skip_sweep:
        bench_sweep(args.sweep_points, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
