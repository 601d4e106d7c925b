"""Benchmark: TDECQ of an SSPRQ waveform with one BLAS thread (as the command line runs) and
with every core's.

The command line runs each command inside :func:`optics.cli.limited_blas_threads`
(:data:`optics.cli.BLAS_THREADS` = 1).  This script times :func:`optics.tdecq.tdecq` of the
waveform of ``bench_tdecq.py`` (SSPRQ, 65535 symbols x 32 samples/UI = 2.1 M samples) both
ways and prints the median wall and CPU time (all threads of the process) per
call and their ratios, all threads over one.  Target: one thread costs no more wall time
(ratio >= 0.95) and less CPU time (ratio > 1) -- the BLAS calls of the analysis are small or
memory-bound, so a second BLAS thread only spins.  ``--with-load`` runs a busy process on
one core meanwhile (a shared machine), where the spinning thread also costs wall time.

Run as ``.venv/bin/python benchmarks/bench_cli_blas.py [--with-load]``; the machine is
shared, so the load average is printed with the timings.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from bench_tdecq import make_waveform  # noqa: E402
from optics.cli import BLAS_THREADS, limited_blas_threads  # noqa: E402
from optics.tdecq import tdecq  # noqa: E402

REPEATS = 5
#: Longest time the --with-load busy process runs, s (it stops earlier when told).
LOAD_LIMIT_S = 60.0


def _busy(stop: multiprocessing.synchronize.Event) -> None:
    end = time.monotonic() + LOAD_LIMIT_S
    while not stop.is_set() and time.monotonic() < end:
        sum(range(10_000))


def _time_call(fn: object) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return time.perf_counter() - w0, time.process_time() - c0


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def main() -> int:
    wf = make_waveform()
    run = lambda: tdecq(wf)  # noqa: E731
    run()  # warm-up: imports, caches, every BLAS library loaded
    all_threads = os.cpu_count() or 1
    with threadpool_limits(limits=all_threads, user_api="blas"):
        print(f"waveform: {wf.n_samples} samples; BLAS libraries: {len(_blas_threads())}, "
              f"threads each: all = {_blas_threads()}, command line = {BLAS_THREADS}")
    stop = multiprocessing.Event()
    load = None
    if "--with-load" in sys.argv[1:]:
        load = multiprocessing.Process(target=_busy, args=(stop,), daemon=True)
        load.start()
        time.sleep(0.5)
    la = os.getloadavg()
    print(f"load average before: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}"
          f"{' (with one busy process)' if load is not None else ''}")
    try:
        # one untimed call after each switch: BLAS threads still spinning from the other
        # setting would be counted against this one
        with limited_blas_threads():
            run()
            one = [_time_call(run) for _ in range(REPEATS)]
        with threadpool_limits(limits=all_threads, user_api="blas"):
            run()
            every = [_time_call(run) for _ in range(REPEATS)]
    finally:
        stop.set()
        if load is not None:
            load.join(5.0)
    la = os.getloadavg()
    print(f"load average after: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")
    wall_1, cpu_1 = (statistics.median(v) for v in zip(*one))
    wall_n, cpu_n = (statistics.median(v) for v in zip(*every))
    print(f"1 BLAS thread : wall {wall_1 * 1e3:.1f} ms, CPU {cpu_1 * 1e3:.1f} ms per TDECQ (median of {REPEATS})")
    print(f"{all_threads} BLAS threads: wall {wall_n * 1e3:.1f} ms, CPU {cpu_n * 1e3:.1f} ms per TDECQ")
    wall_ratio, cpu_ratio = wall_n / wall_1, cpu_n / cpu_1
    ok = wall_ratio >= 0.95 and cpu_ratio > 1.0
    print(f"all/1 ratio: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f}; target wall >= 0.95 and CPU > 1 -> "
          f"{'OK' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
