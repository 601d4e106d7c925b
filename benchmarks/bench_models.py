"""Speed of the link models (plain script: prints figures and targets, exit status 0).

Run: ``.venv/bin/python benchmarks/bench_models.py [--sweep-points N] [--skip-sweep]``

1. One 53.125 GBd lane, 2^16 PAM4 symbols at 16 samples/symbol: laser → MZM → 2 km fibre →
   PD/TIA → counted BER (:func:`optics.ber.count_errors`).  Target >= 1.5 M symbols/s.
2. A 1.6TBASE-DR8 module (8 lanes, SSPRQ, 32 samples/UI) end to end with TDECQ per lane.
   Target < 5 s.
3. A temperature sweep of that module over 15 case temperatures.  Target < 30 s.

Each figure is one timed run after one warm-up (imports, FFT plans); the machine is shared,
so the numbers vary by tens of per cent.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np


def bench_lane() -> float:
    """Symbols per second of one 2 km lane with counted BER."""
    from models.fiber import Channel, Fiber
    from models.link import SimulationSettings, simulate_lane
    from models.presets import preset
    from optics.ber import count_errors

    base = preset("400GBASE-DR4").lanes[0]
    lane = dataclasses.replace(base, channel=Channel(fiber=Fiber(length_m=2000.0, zero_dispersion_wavelength_m=1324e-9)))
    settings = SimulationSettings(pattern="PRBS15Q", n_symbols=1 << 16, samples_per_symbol=16, compute_tdecq=False)
    sym = settings.symbols()

    def run(seed: int) -> float:
        res = simulate_lane(lane, symbol_rate_baud=53.125e9, settings=settings, rng=np.random.default_rng(seed),
                            symbols=sym, metrics=False)
        return count_errors(res.rx_waveform).ber

    run(0)
    t0 = time.perf_counter()
    ber = run(1)
    dt = time.perf_counter() - t0
    rate = sym.size / dt
    print(f"[1] lane 53.125 GBd, 2^16 symbols x 16 sps, 2 km, counted BER {ber:.2e}: "
          f"{dt * 1e3:.0f} ms = {rate / 1e6:.2f} M symbols/s (target >= 1.5 M symbols/s)")
    return rate


def bench_module() -> float:
    """Seconds for the 1.6TBASE-DR8 module with TDECQ per lane."""
    from models.link import SimulationSettings, simulate
    from models.presets import preset

    module = preset("1.6TBASE-DR8")
    settings = SimulationSettings(pattern="SSPRQ", samples_per_symbol=32)
    warm = dataclasses.replace(module, lanes=module.lanes[:1])
    simulate(warm, settings)
    t0 = time.perf_counter()
    res = simulate(module, settings)
    dt = time.perf_counter() - t0
    tdecq = [lane.metrics["tdecq_db"] for lane in res.lanes]
    print(f"[2] 1.6TBASE-DR8, 8 lanes, SSPRQ x 32 sps, TDECQ {min(tdecq):.2f}-{max(tdecq):.2f} dB: "
          f"{dt:.2f} s (target < 5 s)")
    return dt


def bench_sweep(n_points: int) -> float:
    """Seconds for the temperature sweep of the 1.6TBASE-DR8 module."""
    from models.link import SimulationSettings
    from models.presets import preset
    from models.thermal import sweep_temperature, temperature_points

    module = preset("1.6TBASE-DR8")
    settings = SimulationSettings(pattern="SSPRQ", samples_per_symbol=32)
    temps = temperature_points("industrial", n_points)
    t0 = time.perf_counter()
    sweep = sweep_temperature(module, temps, settings)
    dt = time.perf_counter() - t0
    failed = sum(r["link_failed"] for r in sweep.rows)
    scaled = dt * 15 / n_points
    print(f"[3] temperature sweep, {n_points} temperatures x 8 lanes ({failed} failed lane-points): {dt:.1f} s"
          f" -> {scaled:.1f} s for 15 temperatures (target < 30 s)")
    return scaled


def main() -> int:
    """Run the benchmarks and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sweep-points", type=int, default=15, help="temperatures in the sweep (default 15)")
    ap.add_argument("--skip-sweep", action="store_true", help="skip benchmark 3")
    args = ap.parse_args()
    bench_lane()
    bench_module()
    if not args.skip_sweep:
        bench_sweep(args.sweep_points)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
