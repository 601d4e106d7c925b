"""Station speed: one 8-lane 800G-DR8 module at two temperatures on the virtual bench, Tx + Rx.

Target: the whole run (thermal soaks, Tx: power/OMA/ER/TDECQ/Ceq + eye export per lane,
Rx: sensitivity sweep per lane, every record committed to SQLite) under 60 s, with the
virtual bench at its default time scale (100 simulated s per wall-clock s).  The report
(HTML with 16 eyes and 2 sensitivity plots, CSV) is timed separately.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from optics.station.bench_adapter import open_bench
from optics.station.dut import nominal_module
from optics.station.plan import load_plan
from optics.station.report import write_report
from optics.station.runner import run_plan
from optics.station.store import SQLiteStore

TARGET_S = 60.0
PLAN = Path(__file__).resolve().parents[1] / "optics" / "station" / "plans" / "800g-dr8.toml"


def main() -> int:
    plan = load_plan(PLAN)
    stamps: list[tuple[float, str, int | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with open_bench(module=nominal_module("BENCH0001")) as bench, SQLiteStore(Path(tmp) / "r.sqlite") as store:
            t_open = time.perf_counter() - t0
            t1 = time.perf_counter()
            result = run_plan(plan, bench, store, serial="BENCH0001",
                              progress=lambda r: stamps.append((time.perf_counter(), r.step, r.lane)))
            t_run = time.perf_counter() - t1
            t2 = time.perf_counter()
            write_report(store, result.run.run_id, Path(tmp) / "rep", artifacts=result.artifacts)
            t_report = time.perf_counter() - t2
    per_step: dict[str, float] = {}
    prev = t1
    for t, step, _lane in stamps:
        per_step[step] = per_step.get(step, 0.0) + (t - prev)
        prev = t
    n_rx_points = sum(len(c.points) for c in result.artifacts.curves.values())
    print(f"plan {plan.name}: {plan.lanes} lanes x {len(plan.temperatures_c)} temperatures, "
          f"{len(result.records)} records, outcome {result.outcome.value} ({result.status.value})")
    print(f"bench start + connect: {t_open:.2f} s")
    for step, dt in per_step.items():
        print(f"  {step:<8} {dt:6.2f} s")
    print(f"  rx sweep points: {n_rx_points} ({n_rx_points / max(1, len(result.artifacts.curves)):.1f} per lane)")
    print(f"run total: {t_run:.2f} s; target < {TARGET_S:g} s -> {'OK' if t_run < TARGET_S else 'MISSED'}")
    print(f"report (HTML + CSV): {t_report:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
