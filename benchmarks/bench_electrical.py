"""Speed of the electrical path: Pam4Driver.drive and TouchstoneChannel.apply on an SSPRQ-length record.

Run: ``.venv/bin/python benchmarks/bench_electrical.py``.  Prints the figures and the targets;
exit code 0 (the figures are informative, not a pass/fail gate).

Targets (2-core machine): 65535 symbols x 16 samples/symbol (1.05 M samples) with jitter and
noise driven in < 1.0 s; the same record through the 4201-point channel in < 1.0 s; loading
the 2.9 MB s4p file in < 2.0 s.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from models.electrical import Pam4Driver, TouchstoneChannel  # noqa: E402

S4P = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "touchstone" / "host-smt-io-4in-42ghz.s4p"


def _best_of(fn, repeats: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> int:
    rng = np.random.default_rng(2024)
    symbols = rng.integers(0, 4, 65535)
    drv = Pam4Driver(swing_v=0.8, rise_time_s=12e-12, ffe_taps=(-0.1, 1.0, -0.05), rj_rms_s=0.3e-12, noise_rms_v=2e-3)
    t_drive, wf = _best_of(
        lambda: drv.drive(symbols, symbol_rate_baud=53.125e9, samples_per_symbol=16, rng=np.random.default_rng(1))
    )
    t_load, ch = _best_of(lambda: TouchstoneChannel.from_file(S4P, differential=True), repeats=1)
    t_apply, out = _best_of(lambda: ch.apply(wf))
    print(f"record: {wf.n_samples} samples ({symbols.size} symbols x 16)")
    print(f"Pam4Driver.drive (FFE + RJ + Gaussian + noise): {t_drive * 1e3:8.1f} ms   target < 1000 ms")
    print(f"TouchstoneChannel.from_file (SDD21, 4201 pts):  {t_load * 1e3:8.1f} ms   target < 2000 ms")
    print(f"TouchstoneChannel.apply:                        {t_apply * 1e3:8.1f} ms   target < 1000 ms")
    print(f"IL at 26.5625 GHz (SDD21): {ch.insertion_loss_db(26.5625e9):.3f} dB, delay {ch.delay_s * 1e12:.1f} ps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
