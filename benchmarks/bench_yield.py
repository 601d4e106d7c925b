"""Yield prediction at volume: a 1000-module 800GBASE-DR8 lot in under 60 s (plain script:
prints figures, the target and OK/MISSED; exit status 0).

Run: ``.venv/bin/python benchmarks/bench_yield.py [--modules N] [--workers K]
[--efficiency-modules M] [--repeats R]``

1. ``--modules N`` (default 1000) modules of the shipped population ``800g-dr8`` under the
   station's plan ``optics/station/plans/800g-dr8.toml`` (8 lanes at 25 and 70 °C; per lane Tx
   power, OMA, ER and TDECQ, and Rx sensitivity), run by :func:`optics.volume.engine.run_modules`
   on ``--workers`` local processes (default: the cores), as ``optics yield`` runs them: the
   wall time includes starting the workers.  Printed: modules/s, wall time, the time one
   module takes inside a worker (mean of :attr:`~optics.volume.evaluate.ModuleOutcome.seconds`),
   and the time 1000 modules take at that rate against the 60 s target (projected when
   N != 1000).
2. Efficiency from 1 to 2 workers: the same ``--efficiency-modules M`` modules (default 20, at
   most N) in this process (``workers=1``) and on two local processes, ``--repeats R`` times
   each (default 1: the runs are long; with R > 1 the median and the range are printed).
   Efficiency = t1 / (2 t2): 1.0 is a perfect split over the two workers.  Both sides must give
   the same outcomes (checked).

The machine is shared: the 1-minute load average is printed before and after each figure
(2 cores: a load above 2 means the workers compete with other processes for the cores).  BLAS
threads are 1 (``OPENBLAS_NUM_THREADS``, set before numpy is imported, as the command line).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MODULES = 1000
TARGET_S = 60.0
PLAN = ROOT / "optics" / "station" / "plans" / "800g-dr8.toml"


def _load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def _timed_run(job, n: int, workers: int) -> tuple[float, list]:
    """Wall time of one run of modules 0..n-1 on ``workers`` and its outcomes."""
    from optics.volume.engine import run_modules

    t0 = time.perf_counter()
    outcomes = list(run_modules(job, n, workers=workers))
    return time.perf_counter() - t0, outcomes


def _spread(times: list[float]) -> str:
    if len(times) == 1:
        return f"{times[0]:.1f} s"
    return f"median {statistics.median(times):.1f} s (range {min(times):.1f}-{max(times):.1f} s, {len(times)} runs)"


def _key(outcomes: list) -> list:
    return [(o.index, o.verdict, o.records) for o in outcomes]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modules", type=int, default=TARGET_MODULES, metavar="N",
                    help=f"modules of the timed run (default {TARGET_MODULES})")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K",
                    help="local processes of the timed run (default: the cores)")
    ap.add_argument("--efficiency-modules", type=int, default=20, metavar="M",
                    help="modules of each side of the 1 -> 2 workers comparison (default 20, at most N; 0: skip)")
    ap.add_argument("--repeats", type=int, default=1, metavar="R", help="runs of each side of the comparison")
    args = ap.parse_args(argv)
    if args.modules < 1 or args.workers < 1 or args.efficiency_modules < 0 or args.repeats < 1:
        ap.error("--modules, --workers and --repeats must be >= 1, --efficiency-modules >= 0")

    from optics.volume.evaluate import YieldJob

    job = YieldJob.from_files("800g-dr8", PLAN)
    n = args.modules
    print(f"[1] {n} modules of 800g-dr8 under {PLAN.relative_to(ROOT)} on {args.workers} local "
          f"worker(s), {os.cpu_count()} cores ({_load()} before)", flush=True)
    wall, outcomes = _timed_run(job, n, args.workers)
    rate = n / wall
    cpu = statistics.mean(o.seconds for o in outcomes)
    verdicts = {v: sum(o.verdict == v for o in outcomes) for v in ("PASS", "MARGINAL", "FAIL", "ERROR")}
    print(f"    {rate:.3g} modules/s, wall {wall:.1f} s, {cpu:.2f} s per module inside a worker (wall); verdicts "
          + ", ".join(f"{v} {c}" for v, c in verdicts.items() if c) + f" ({_load()} after)")
    t_target = TARGET_MODULES / rate
    how = "measured" if n == TARGET_MODULES else f"projected from {n} modules"
    if t_target < TARGET_S:
        print(f"    {TARGET_MODULES} modules in {t_target:.0f} s ({how}); target < {TARGET_S:.0f} s -> OK "
              f"({TARGET_S - t_target:.0f} s to spare)")
    else:
        print(f"    {TARGET_MODULES} modules in {t_target:.0f} s ({how}); target < {TARGET_S:.0f} s -> MISSED "
              f"by {t_target - TARGET_S:.0f} s ({t_target / TARGET_S:.1f} x the target; "
              f"{TARGET_MODULES / TARGET_S:.1f} modules/s needed)")

    m = min(args.efficiency_modules, n)
    if m == 0:
        return 0
    print(f"[2] efficiency from 1 to 2 workers on the same {m} modules, {args.repeats} run(s) each "
          f"({_load()} before)", flush=True)
    t1, t2 = [], []
    ref = None
    for _ in range(args.repeats):
        for workers, times in ((1, t1), (2, t2)):
            if workers == args.workers and m == n and not times:     # the timed run is this side
                w, out = wall, outcomes
            else:
                w, out = _timed_run(job, m, workers)
            times.append(w)
            if ref is None:
                ref = _key(out)
            elif _key(out) != ref:
                print(f"    outcomes differ between runs on {workers} worker(s): engine bug")
                return 1
    e = [a / (2.0 * b) for a, b in zip(t1, t2)]
    print(f"    1 worker: {_spread(t1)} ({m / statistics.median(t1):.3g} modules/s); "
          f"2 workers: {_spread(t2)} ({m / statistics.median(t2):.3g} modules/s)")
    print(f"    efficiency t1 / (2 t2) = {statistics.median(e):.2f}"
          + (f" (range {min(e):.2f}-{max(e):.2f})" if len(e) > 1 else "")
          + f"; outcomes identical on both sides ({_load()} after)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
