"""Benchmark: statistical BER to 1e-15 from a measured histogram (no Monte Carlo).

A 2.1 M-sample SSPRQ waveform (the demo's synthetic transmitter at 32 samples/UI) is
split once into per-level ISI histograms (256 bins) and per-level Gaussian noise
(:func:`optics.ber.isi_and_noise`).  Timed:

* :func:`optics.ber.statistical_ber` from those histograms - target < 50 ms;
* for reference, :func:`optics.ber.estimate_ber` from the waveform (sampling, ISI fit,
  histograms, BER) and a 41-phase :func:`optics.ber.bathtub`.

The noise is chosen so the BER at the eye centre is near 1e-15.

Run: ``.venv/bin/python benchmarks/bench_ber.py``
"""

from __future__ import annotations

import statistics
import sys
import time

TARGET_S = 0.050


def _median_time(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> int:
    from optics.ber import (
        level_histograms,
        bathtub,
        estimate_ber,
        isi_and_noise,
        statistical_ber,
    )
    from optics.cli.demo import demo_waveform
    from optics.levels import measure_levels
    from optics.timing import recover_timing, sample_symbols, symbols_of

    wf = demo_waveform(seed=1, samples_per_symbol=32)
    timing = recover_timing(wf)
    levels = measure_levels(wf, timing)
    det, sig, sym = isi_and_noise(sample_symbols(wf, timing), symbols_of(wf, timing))
    hist, centres = level_histograms(det, sym, 256)

    t_core, r = _median_time(lambda: statistical_ber(hist, centres, levels.thresholds, sig), 20)
    t_est, _ = _median_time(lambda: estimate_ber(wf, timing, levels=levels), 3)
    t_tub, tub = _median_time(lambda: bathtub(wf, timing, levels=levels), 1)
    print(f"bench_ber: {wf.n_samples} samples, {timing.n_symbols} symbols, histogram 4 x 256 bins")
    print(f"  statistical_ber from the histogram: median {t_core * 1e3:.2f} ms -> BER {r.ber:.3g} "
          f"(per eye {', '.join(f'{v / 2:.2g}' for v in r.ser_per_eye)}); "
          f"target < {TARGET_S * 1e3:g} ms: {'met' if t_core < TARGET_S else 'MISSED'}")
    print(f"  estimate_ber from the waveform (sampling + ISI fit + histogram): {t_est * 1e3:.1f} ms")
    print(f"  bathtub, 41 phases: {t_tub * 1e3:.0f} ms; eye width at BER 1e-12: "
          f"{tub.eye_width_ui(1e-12):.3f} UI, at 1e-6: {tub.eye_width_ui(1e-6):.3f} UI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
