"""Cost of one lane-temperature of yield prediction, piece by piece, and the 1000-module lot it
projects (plain script: prints figures, the target and OK/MISSED; exit status 0).

Run: ``.venv/bin/python benchmarks/bench_yield_lane.py [--lanes N] [--runs R]``

What :func:`optics.volume.evaluate.evaluate_module` does for every lane and temperature of the
shipped ``800g-dr8`` population under ``optics/station/plans/800g-dr8.toml`` (8 lanes, 25 and
70 °C: 16 lane-temperatures per module), timed step by step on ``--lanes`` lane-temperatures
(default 16: the 8 lanes of module 1 at both temperatures, lane by lane as evaluate_module
takes them; module 0 is the warm-up):

* ``tx record``: :func:`models.population.lane_tx_waveform` (PRBS13Q, 16 samples/UI, 131 056
  samples: driver with its jitter, laser with RIN, modulator; the channel and receiver are not
  simulated for a Tx record);
* ``reference filter``: :func:`optics.reference_receiver.bessel_thomson` (BT4 at baud/2);
* ``timing + levels``: :func:`optics.timing.recover_timing` and :func:`optics.levels.measure_levels`
  (power, OMA and ER are measured back-to-back, at TP2);
* ``compliance fibre``: the record through the PHY's compliance fibre
  (:func:`models.compliance.through_compliance_fibre`), its BT4 and its timing: TDECQ is measured
  there;
* ``tdecq``: :func:`optics.tdecq.tdecq` of that record (5 taps, main cursor 1, timing given);
* ``rx sensitivity``: :func:`models.receiver.sensitivity_oma_w` (closed form);
* ``whole lane``: :func:`optics.volume.evaluate.evaluate_module` per module / 16 (includes the
  judging and the records), the figure the projection uses; also as CPU time of this process
  (on a loaded machine the wall time includes waiting for a core).

Each figure is the median over ``--runs`` (default 5, at least 5) passes over the lanes, with
the range of the pass medians, and the machine's 1-minute load average (``os.getloadavg``;
2 cores: above 2 the figures include waiting for a core).  Projection: 1000 modules x 16
lane-temperatures x the whole-lane figure / 2 workers, i.e. assuming perfect efficiency of two
worker processes (``benchmarks/bench_yield.py`` measures the real engine and its efficiency);
the target is <= 60 s on this 2-core machine (issue 12), i.e. <= 7.5 ms per lane-temperature.
BLAS threads are 1 (``OPENBLAS_NUM_THREADS``, set before numpy is imported, as the CLI).
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

PLAN = ROOT / "optics" / "station" / "plans" / "800g-dr8.toml"
TARGET_MODULES = 1000
TARGET_S = 60.0
WORKERS = 2
LANE_TEMPERATURES_PER_MODULE = 16


def _load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def _pass(ctx, cases):
    """One pass over ``cases`` ((module, lane, temperature)): per-step times in ms (median)."""
    from models.population import lane_tx_waveform
    from models.receiver import sensitivity_oma_w
    from models.thermal import chip_temperature_c
    from optics.levels import measure_levels
    from optics.reference_receiver import bessel_thomson
    from optics.tdecq import tdecq
    from optics.timing import recover_timing

    from models import lane_simulation
    from models.compliance import compliance_channel, through_compliance_fibre

    steps: dict[str, list[float]] = {k: [] for k in ("tx record", "reference filter", "timing + levels",
                                                     "compliance fibre", "tdecq", "rx sensitivity")}
    channel = compliance_channel(ctx.spec)

    threshold = ctx.spec.ber_limit
    # as for a new module: no transfer kept from the previous pass over the same lanes (the
    # lane's second temperature reuses its first's, as in evaluate_module)
    lane_simulation._RECENT_TRANSFERS.clear()
    for pm, lane, t in cases:
        t0 = time.perf_counter()
        wf = lane_tx_waveform(pm, lane, t)
        t1 = time.perf_counter()
        filt = bessel_thomson(wf)
        t2 = time.perf_counter()
        timing = recover_timing(filt)
        lv = measure_levels(filt, timing)
        t3 = time.perf_counter()
        fibre = bessel_thomson(through_compliance_fibre(wf, channel))
        fibre_timing = recover_timing(fibre)
        t4 = time.perf_counter()
        tdecq(fibre, reference_filter=False, timing=fibre_timing, n_taps=5, n_precursors=1)
        t5 = time.perf_counter()
        sensitivity_oma_w(pm.module.lanes[lane].receiver, threshold, extinction_ratio_db=lv.extinction_ratio_db,
                          temperature_c=chip_temperature_c(pm.module, t))
        t6 = time.perf_counter()
        for name, dt in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            steps[name].append(1e3 * dt)
    return {k: statistics.median(v) for k, v in steps.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lanes", type=int, default=16, metavar="N", help="lane-temperatures per pass (default 16)")
    ap.add_argument("--runs", type=int, default=5, metavar="R", help="passes (default 5, at least 5)")
    args = ap.parse_args(argv)
    if args.lanes < 1 or args.runs < 5:
        ap.error("--lanes must be >= 1 and --runs >= 5")

    from optics.volume.evaluate import YieldJob, context, evaluate_module

    job = YieldJob.from_files("800g-dr8", PLAN)
    ctx = context(job)
    temps = tuple(ctx.plan.temperatures_c)
    cases = []
    k = 1
    while len(cases) < args.lanes:
        pm = ctx.population.module(k)
        for lane in range(ctx.plan.lanes):      # lane by lane, as evaluate_module records them
            for t in temps:
                cases.append((pm, lane, float(t)))
        k += 1
    cases = cases[: args.lanes]
    modules = sorted({pm.index for pm, _, _ in cases})
    print(f"one lane-temperature of 800g-dr8 under {PLAN.relative_to(ROOT)}: {len(cases)} lane-temperatures "
          f"(modules {modules[0]}..{modules[-1]}), median of {args.runs} passes ({_load()} before)", flush=True)
    _pass(ctx, cases[:2])                       # warm-up: responses, plans, imports
    evaluate_module(job, 0)
    passes = [_pass(ctx, cases) for _ in range(args.runs)]
    whole, whole_cpu = [], []
    per = len(modules) * LANE_TEMPERATURES_PER_MODULE
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for m in modules:
            evaluate_module(job, m)
        whole.append(1e3 * (time.perf_counter() - t0) / per)
        whole_cpu.append(1e3 * (time.process_time() - c0) / per)
    total = 0.0
    for name in passes[0]:
        v = [p[name] for p in passes]
        med = statistics.median(v)
        total += med
        print(f"    {name:<18} {med:7.2f} ms  (range {min(v):.2f}-{max(v):.2f})")
    print(f"    {'sum of the steps':<18} {total:7.2f} ms")
    med = statistics.median(whole)
    print(f"    {'whole lane':<18} {med:7.2f} ms  (range {min(whole):.2f}-{max(whole):.2f}; evaluate_module of "
          f"{len(modules)} module(s) / {LANE_TEMPERATURES_PER_MODULE}) ({_load()} after)")
    cpu = statistics.median(whole_cpu)
    print(f"    {'whole lane, CPU':<18} {cpu:7.2f} ms  (range {min(whole_cpu):.2f}-{max(whole_cpu):.2f}; this "
          "process's CPU time: what the lane costs a core when it has one to itself)")
    projected = TARGET_MODULES * LANE_TEMPERATURES_PER_MODULE * med * 1e-3 / WORKERS
    rate = TARGET_MODULES / projected
    need = TARGET_S * WORKERS / (TARGET_MODULES * LANE_TEMPERATURES_PER_MODULE) * 1e3
    verdict = "OK" if projected <= TARGET_S else f"MISSED ({projected / TARGET_S:.1f} x the target)"
    print(f"projected {TARGET_MODULES} modules on {WORKERS} workers (perfect efficiency): {projected:.0f} s, "
          f"{rate:.2f} modules/s; target <= {TARGET_S:.0f} s ({need:.1f} ms per lane-temperature) -> {verdict}")
    from_cpu = TARGET_MODULES * LANE_TEMPERATURES_PER_MODULE * cpu * 1e-3 / WORKERS
    print(f"    (from the CPU time, i.e. two cores to themselves: {from_cpu:.0f} s, "
          f"{TARGET_MODULES / from_cpu:.2f} modules/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
