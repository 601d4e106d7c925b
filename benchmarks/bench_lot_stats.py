"""Lot statistics over 10^6 stored measurement records: target under 5 s.

Builds a throw-away SQLite store of 12,500 module runs x 80 measurements (8 lanes x
5 measurements x 2 temperatures), 5 % of the modules retested, the OMA−TDECQ floor judged per
record against its own limit (it follows the extinction ratio), and times
:func:`optics.station.stats.lot_stats` (every statistic: per temperature and lane, Pareto,
control charts, throughput, repeatability).

    python benchmarks/bench_lot_stats.py [--modules 12500] [--pg-url URL] [--sqlite-only]

The same lot goes into SQLite and into PostgreSQL (a throwaway server started as the store tests
do, ``tests/optics/station/pgserver.py``, unless ``--pg-url`` names a database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from optics.station.records import MeasurementRecord, RunRecord, RunStatus, judge
from optics.station.stats import lot_stats
from optics.station.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 5.0
N_MODULES = 12_500  # x 80 records = 1,000,000
NAMES = [("tdecq_db", "dB", None, 3.4), ("oma_outer_dbm", "dBm", -0.8, 4.2),
         ("extinction_ratio_db", "dB", 3.5, None), ("average_power_dbm", "dBm", -2.9, 4.0),
         ("oma_minus_tdecq_dbm", "dBm", None, None)]


def _module_records(rng: np.random.Generator, run: RunRecord) -> list[MeasurementRecord]:
    recs = []
    for temp in (25.0, 70.0):
        for lane in range(8):
            er = None
            for name, unit, lo, hi in NAMES:
                if name == "oma_minus_tdecq_dbm":   # floor depends on ER (802.3 Table 124-6 style)
                    lo = -2.2 if er >= 4.5 else -2.2 + 0.4 * (4.5 - er)
                    v = float(rng.normal(0.0, 0.5))
                else:
                    centre = (lo + hi) / 2 if lo is not None and hi is not None else (
                        lo + 1.5 if lo is not None else hi - 1.5)
                    v = float(rng.normal(centre, 0.4))
                    if name == "extinction_ratio_db":
                        er = v
                o, m = judge(v, lo, hi)
                recs.append(MeasurementRecord(
                    run_id=run.run_id, serial=run.serial, step="tx", name=name, value=v, unit=unit, outcome=o,
                    lane=lane, temperature_c=temp, low_limit=lo, high_limit=hi, margin=m))
    return recs


def build(st, n_modules: int) -> int:
    rng = np.random.default_rng(1)
    n = 0
    t0 = time.time() - n_modules * 30.0
    serials = [f"SN{k:06d}" for k in range(n_modules)]
    retests = serials[:: 20]
    for k, serial in enumerate(serials + retests):
        run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="800G-DR8", plan_hash="h",
                        station_id=f"bench-{k % 4}", started_at_s=t0 + 30.0 * k, toolkit_version="bench")
        st.begin_run(run)
        recs = _module_records(rng, run)
        st.add_measurements(recs)
        n += len(recs)
        outcome = "FAIL" if any(r.outcome.value == "FAIL" for r in recs) else "PASS"
        st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=outcome)
    return n


def time_stats(open_store, n: int, label: str) -> None:
    times = []
    for _ in range(3):
        with open_store() as st:
            t = time.perf_counter()
            stats = lot_stats(st)
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"{label}: lot statistics over {n} records, {stats.n_modules} modules ({stats.n_runs} runs): "
          f"median {med:.2f} s (min {min(times):.2f} s); target < {TARGET_S} s "
          f"-> {'OK' if med < TARGET_S else 'MISSED'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", type=int, default=N_MODULES)
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL database to use (default: a throwaway server)")
    ap.add_argument("--sqlite-only", action="store_true", help="time the SQLite back end only")
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "lot.sqlite"
        t = time.perf_counter()
        with SQLiteStore(db) as st:
            n = build(st, args.modules)
        print(f"SQLite: built {n} records in {time.perf_counter() - t:.1f} s")
        time_stats(lambda: SQLiteStore(db, read_only=True), n, "SQLite")
    if args.sqlite_only:
        return 0
    from optics.station.store import open_store

    server = None
    if args.pg_url is None:
        sys.path.insert(0, str(ROOT / "tests" / "optics" / "station"))
        from pgserver import PostgresServer

        server = PostgresServer()
    try:
        url = args.pg_url or server.fresh_schema_url()
        t = time.perf_counter()
        with open_store(url) as st:
            n = build(st, args.modules)
        print(f"PostgreSQL: built {n} records in {time.perf_counter() - t:.1f} s")
        time_stats(lambda: open_store(url, read_only=True), n, "PostgreSQL")
    finally:
        if server is not None:
            server.stop()
    print(f"load average at end:   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
