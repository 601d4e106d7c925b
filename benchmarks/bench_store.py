"""Results-store write and read speed, SQLite file vs PostgreSQL server.

Records per second committed into each back end, three ways:

- ``per record``: one transaction per record, as a station commits them (``add_measurement``:
  the record survives kill -9 the moment the call returns; its run's lease renewed in the same
  transaction);
- ``batch 80``: 80 records (a module's 8 lanes x 10 measurements) per ``add_measurements``;
- ``4 stations``: 4 processes committing one record per transaction into one database at once,
  the aggregate rate.

and the read of every record as columns (``measurement_columns``, what ``optics lot stats``
reads), records/s.  Each figure is the median of ``--repeat`` (>= 5) repetitions, with the
spread (min-max) and the load average at the start and the end.

The PostgreSQL server is a throwaway one started on loopback for the run (as the tests do:
``tests/optics/station/pgserver.py``, fsync on, ``synchronous_commit = on``: each commit waits
for its WAL flush), or ``--pg-url postgresql://...``.  SQLite runs in WAL mode with
``synchronous = NORMAL`` (a commit is safe against a killed process, not against a power cut,
without an fsync per commit) on the temporary directory's file system.

Run once (the machine is shared): ``python benchmarks/bench_store.py``.

Measured 2026-12-07 on the shared 2-core machine (load average 3.3 at the start, 3.5 at the
end: other engineers' jobs ran too), PostgreSQL 15.18 on loopback, psycopg 3.3, defaults::

    sqlite     per record               median     11,729 records/s   spread 8,177 - 17,438  (n = 5)
    sqlite     batch 80                 median     59,910 records/s   spread 36,490 - 76,085  (n = 5)
    sqlite     4 stations               median     12,730 records/s   spread 7,922 - 17,039  (n = 5)
    sqlite     read 115000 as columns   median    188,129 records/s   spread 161,352 - 201,393  (n = 5)
    postgresql per record               median      1,482 records/s   spread 322 - 2,191  (n = 5)
    postgresql batch 80                 median     24,927 records/s   spread 24,026 - 31,426  (n = 5)
    postgresql 4 stations               median      1,203 records/s   spread 1,004 - 1,968  (n = 5)
    postgresql read 115000 as columns   median    289,611 records/s   spread 258,374 - 300,816  (n = 5)

PostgreSQL's per-record rate is bound by one WAL flush per commit (and 4 round trips: BEGIN,
INSERT, lease UPDATE, COMMIT); a station commits a few records per second, so one server
takes hundreds of stations.  Reading 10^6 records as columns takes ~3.5 s at the rate above
(``optics lot stats`` over 10^6 records, benchmarks/bench_lot_stats.py, adds its computing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optics.station.records import MeasurementRecord, RunRecord  # noqa: E402
from optics.station.store import ResultStore, open_store  # noqa: E402

WRITER = textwrap.dedent(
    """
    import sys, time, uuid
    from optics.station.records import MeasurementRecord, RunRecord
    from optics.station.store import open_store
    db, n = sys.argv[1], int(sys.argv[2])
    with open_store(db) as st:
        run = RunRecord(run_id=str(uuid.uuid4()), serial="B" + uuid.uuid4().hex[:8], plan_name="bench",
                        plan_hash="h", station_id="bench", started_at_s=time.time(), toolkit_version="t")
        st.begin_run(run)
        recs = [MeasurementRecord(run_id=run.run_id, serial=run.serial, step="tx", name="tdecq_db",
                                  value=2.0 + i * 1e-4, unit="dB", outcome="PASS", lane=i % 8,
                                  temperature_c=25.0, high_limit=3.4, margin=1.4) for i in range(n)]
        sys.stdout.write("ready\\n"); sys.stdout.flush()
        sys.stdin.readline()                 # all start together
        t = time.perf_counter()
        for r in recs:
            st.add_measurement(r)
        sys.stdout.write(f"{time.perf_counter() - t}\\n")
    """
)


def records(run: RunRecord, n: int) -> list[MeasurementRecord]:
    return [MeasurementRecord(run_id=run.run_id, serial=run.serial, step="tx", name=f"m{i % 10}",
                              value=2.0 + i * 1e-4, unit="dB", outcome="PASS", lane=(i // 10) % 8,
                              temperature_c=25.0, high_limit=3.4, margin=1.4, instruments={"scope": "SIM"})
            for i in range(n)]


def new_run(store: ResultStore) -> RunRecord:
    run = RunRecord(run_id=str(uuid.uuid4()), serial="B" + uuid.uuid4().hex[:8], plan_name="bench", plan_hash="h",
                    station_id="bench", started_at_s=time.time(), toolkit_version="t")
    store.begin_run(run)
    return run


def timed(fn: Callable[[], int], repeat: int) -> list[float]:
    """Rates (records/s) of ``repeat`` calls of ``fn`` (which returns how many records it handled)."""
    rates = []
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - t))
    return rates


def concurrent(target: str, n_procs: int, n: int) -> tuple[int, float]:
    """4 writer processes started together; (records, wall time of the slowest, s)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, target, str(n)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env) for _ in range(n_procs)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=600)[0] for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError(f"a writer failed: {[p.returncode for p in procs]}")
    return n_procs * n, max(float(o.strip().splitlines()[-1]) for o in outs)


def bench(name: str, target: str, repeat: int, n_single: int, n_batch: int, n_read: int) -> None:
    with open_store(target) as st:
        run = new_run(st)
        single = records(run, n_single)
        batch = records(run, 80)

        def one_by_one() -> int:
            for r in single:
                st.add_measurement(r)
            return len(single)

        def batches() -> int:
            for _ in range(n_batch // 80):
                st.add_measurements(batch)
            return (n_batch // 80) * 80

        r_single = timed(one_by_one, repeat)
        r_batch = timed(batches, repeat)
    r_conc = []
    for _ in range(repeat):
        n, wall = concurrent(target, 4, n_single // 2)
        r_conc.append(n / wall)
    # reads: a database of n_read records
    with open_store(target) as st:
        have = len(st.measurement_columns()["value"])
        run = new_run(st)
        block = records(run, 1000)
        for _ in range(-(-max(0, n_read - have) // 1000)):     # at least n_read records
            st.add_measurements(block)
    with open_store(target, read_only=True) as ro:
        n_rows = len(ro.measurement_columns()["value"])
        r_read = timed(lambda: len(ro.measurement_columns()["value"]), repeat)
    for label, rates in (("per record", r_single), ("batch 80", r_batch), ("4 stations", r_conc),
                         (f"read {n_rows} as columns", r_read)):
        print(f"{name:<10} {label:<24} median {statistics.median(rates):>10,.0f} records/s   "
              f"spread {min(rates):,.0f} - {max(rates):,.0f}  (n = {len(rates)})", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--records", type=int, default=1000, help="records per repetition, one per commit")
    ap.add_argument("--batch-records", type=int, default=20_000, help="records per repetition, 80 per commit")
    ap.add_argument("--read-records", type=int, default=100_000, help="records in the database read back")
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL database to use (default: a throwaway server)")
    args = ap.parse_args()
    if args.repeat < 5:
        ap.error(f"--repeat {args.repeat}: at least 5 repetitions for a median and a spread")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    server = None
    if args.pg_url is None:
        sys.path.insert(0, str(ROOT / "tests" / "optics" / "station"))
        from pgserver import PostgresServer

        server = PostgresServer()
    try:
        pg_url = args.pg_url or server.fresh_schema_url()
        with tempfile.TemporaryDirectory() as tmp:
            bench("sqlite", str(Path(tmp) / "bench.sqlite"), args.repeat, args.records, args.batch_records,
                  args.read_records)
        bench("postgresql", pg_url, args.repeat, args.records, args.batch_records, args.read_records)
    finally:
        if server is not None:
            server.stop()
    print(f"load average at end:   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
