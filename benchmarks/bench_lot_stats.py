"""Lot statistics over 100,000 stored measurement records: target under 2 s.

Builds a throw-away SQLite store of 1,250 module runs x 80 measurements (8 lanes x
5 measurements x 2 temperatures) and times :func:`optics.station.stats.lot_stats`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from optics.station.records import MeasurementRecord, RunRecord, RunStatus, judge
from optics.station.stats import lot_stats
from optics.station.store import SQLiteStore

TARGET_S = 2.0
N_MODULES = 1250  # x 80 records = 100,000
NAMES = [("tdecq_db", "dB", None, 3.4), ("oma_outer_dbm", "dBm", -0.8, 4.2),
         ("extinction_ratio_db", "dB", 3.5, None), ("average_power_dbm", "dBm", -2.9, 4.0),
         ("rx_sensitivity_oma_dbm", "dBm", None, -4.4)]


def build(path: Path) -> int:
    rng = np.random.default_rng(1)
    st = SQLiteStore(path)
    n = 0
    for k in range(N_MODULES):
        run = RunRecord(run_id=str(uuid.uuid4()), serial=f"SN{k:05d}", plan_name="800G-DR8",
                        plan_hash="h", station_id="bench", started_at_s=time.time(),
                        toolkit_version="bench")
        st.begin_run(run)
        recs = []
        for temp in (25.0, 70.0):
            for lane in range(8):
                for name, unit, lo, hi in NAMES:
                    centre = (lo if lo is not None else hi - 3) + 1.5 if hi is None or lo is None else (lo + hi) / 2
                    v = float(rng.normal(centre, 0.4))
                    o, m = judge(v, lo, hi)
                    recs.append(MeasurementRecord(
                        run_id=run.run_id, serial=run.serial, step="tx", name=name, value=v,
                        unit=unit, outcome=o, lane=lane, temperature_c=temp, low_limit=lo,
                        high_limit=hi, margin=m))
        st.add_measurements(recs)
        n += len(recs)
        st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome="PASS")
    st.close()
    return n


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "lot.sqlite"
        n = build(db)
        times = []
        for _ in range(5):
            with SQLiteStore(db) as st:
                t = time.perf_counter()
                stats = lot_stats(st)
                times.append(time.perf_counter() - t)
        med = statistics.median(times)
        print(f"lot statistics over {n} records, {stats.n_modules} modules: "
              f"median {med:.3f} s (min {min(times):.3f} s); target < {TARGET_S} s "
              f"-> {'OK' if med < TARGET_S else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
