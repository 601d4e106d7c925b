"""Speed of pattern generation and waveform file I/O.

Run: ``.venv/bin/python benchmarks/bench_patterns_io.py``.  Prints each figure with its
target; exit code 0 (the figures are informative, not a pass/fail gate).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from optics import Waveform, patterns
from optics.io import read_waveform, write_csv, write_flexdca, write_npz


def timed(fn, repeat: int = 3) -> float:
    """Best of ``repeat`` wall-clock times in s."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    rows = []
    rows.append(("PRBS31Q, 1e6 symbols", timed(lambda: patterns.prbs_q(31, 1_000_000)), 0.1))
    rows.append(("PRBS23 one period (8.4e6 bits)", timed(lambda: patterns.prbs_bits(23)), 0.2))

    def fresh_ssprq() -> None:
        patterns._ssprq_period.cache_clear()
        patterns.ssprq()

    rows.append(("SSPRQ (uncached)", timed(fresh_ssprq), 0.05))

    n = 2_100_000
    rng = np.random.default_rng(0)
    wf = Waveform(samples=1e-3 + 2e-4 * rng.standard_normal(n), sample_rate_hz=53.125e9 * 16,
                  symbol_rate_baud=53.125e9, pattern=patterns.ssprq(), meta={"seed": 0})
    with tempfile.TemporaryDirectory() as d:
        csv, npz, flex = Path(d) / "w.csv", Path(d) / "w.npz", Path(d) / "f.txt"
        rows.append(("write_csv, 2.1 M rows", timed(lambda: write_csv(wf, csv)), 1.0))
        rows.append(("read_waveform csv, 2.1 M rows", timed(lambda: read_waveform(csv)), 1.0))
        rows.append(("write_npz, 2.1 M samples", timed(lambda: write_npz(wf, npz)), 0.2))
        rows.append(("read_waveform npz, 2.1 M samples", timed(lambda: read_waveform(npz)), 0.2))
        rows.append(("write_flexdca, 2.1 M rows", timed(lambda: write_flexdca(wf, flex)), 1.0))
        rows.append(("read_waveform flexdca, 2.1 M rows", timed(lambda: read_waveform(flex)), 1.0))
        size_mb = csv.stat().st_size / 1e6
    print(f"{'operation':40s} {'time':>9s} {'target':>9s}")
    for name, t, target in rows:
        flag = "" if t <= target else "  (over target)"
        print(f"{name:40s} {t * 1e3:7.1f} ms {target * 1e3:7.0f} ms{flag}")
    print(f"CSV size for 2.1 M rows: {size_mb:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
