import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from optics.errors import ConfigError, InvalidParameter
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.store import SCHEMA_VERSION, SQLiteStore, StoreError


def run_record(serial="SN1", plan="plan", **kw):
    base = dict(run_id=str(uuid.uuid4()), serial=serial, plan_name=plan, plan_hash="ab" * 32,
                station_id="st1", started_at_s=time.time(), toolkit_version="0.1.0",
                bench={"scope": "KEYSIGHT,N1000A,SIM,1"})
    base.update(kw)
    return RunRecord(**base)


def meas(run, name="tdecq_db", value=2.0, lo=None, hi=3.4, **kw):
    outcome, margin = judge(value, lo, hi, guard_band=0.2)
    return MeasurementRecord(run_id=run.run_id, serial=run.serial, step="tx", name=name,
                             value=value, unit="dB", outcome=outcome, lane=kw.pop("lane", 0),
                             temperature_c=25.0, low_limit=lo, high_limit=hi, margin=margin, **kw)


def test_roundtrip_and_schema_version(backend):
    with backend.open() as st:
        run = run_record()
        st.begin_run(run)
        st.add_measurement(meas(run, value=2.0))
        st.add_measurement(meas(run, value=3.3))
        st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.MARGINAL)
    with backend.open() as st:
        (r,) = st.runs()
        assert r.status is RunStatus.COMPLETE and r.outcome is Outcome.MARGINAL
        assert r.bench["scope"].startswith("KEYSIGHT")
        ms = st.measurements(run_id=run.run_id)
        assert [m.value for m in ms] == [2.0, 3.3]
        assert ms[0].outcome is Outcome.PASS and ms[0].margin == pytest.approx(1.4)
        assert ms[1].outcome is Outcome.MARGINAL and ms[1].margin == pytest.approx(0.1)
        assert st.schema_version == SCHEMA_VERSION
    meta = dict(backend.sql("SELECT key, value FROM station_meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    if backend.name == "sqlite":
        con = sqlite3.connect(backend.target)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        con.close()
    else:
        assert meta["application_id"] == "PAM4"


def test_values_keep_double_precision(backend):
    """A value with 17 significant digits and a time stamp of today come back bit for bit (a
    single-precision column, PostgreSQL's REAL, would keep ~7 digits: 2.0000001 -> 2.0)."""
    with backend.open() as st:
        run = run_record()
        st.begin_run(run)
        st.add_measurement(meas(run, value=2.0000000000000004, taken_at_s=1796650000.123456))
        (m,) = st.measurements()
        (r,) = st.runs()
    assert m.value == 2.0000000000000004 and m.taken_at_s == 1796650000.123456
    assert r.started_at_s == run.started_at_s


def test_runs_and_measurements_filters_and_columns(backend):
    """serial / plan_name / since_s select the same runs on both back ends, measurements in the
    order taken; measurement_columns holds the same records as columns."""
    t0 = time.time()
    with backend.open() as st:
        old = run_record(serial="SNA", plan="p1", started_at_s=t0 - 100.0)
        new = run_record(serial="SNB", plan="p1", started_at_s=t0)
        other = run_record(serial="SNA", plan="p2", started_at_s=t0 + 1.0)
        for run in (old, new, other):
            st.begin_run(run)
        st.add_measurements([meas(r, value=float(k)) for k, r in enumerate((new, old, other, old))])
        assert [r.run_id for r in st.runs()] == [old.run_id, new.run_id, other.run_id]
        assert [r.run_id for r in st.runs(serial="SNA")] == [old.run_id, other.run_id]
        assert [r.run_id for r in st.runs(plan_name="p1", since_s=t0 - 1.0)] == [new.run_id]
        assert [m.value for m in st.measurements(plan_name="p1")] == [0.0, 1.0, 3.0]
        assert [m.value for m in st.measurements(since_s=t0 - 1.0)] == [0.0, 2.0]
        assert [m.value for m in st.measurements(run_id=old.run_id)] == [1.0, 3.0]
        cols = st.measurement_columns(plan_name="p1")
        assert cols["value"] == [0.0, 1.0, 3.0] and cols["outcome"] == ["PASS"] * 3
        assert cols["run_id"] == [new.run_id, old.run_id, old.run_id]
        assert st.measurement_columns(plan_name="nothing")["value"] == []


def test_other_schema_version_is_refused(backend):
    backend.open().close()
    if backend.name == "sqlite":
        backend.sql("PRAGMA user_version=99")
    else:
        backend.sql("UPDATE station_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ConfigError, match="schema version 99"):
        backend.open()
    with pytest.raises(StoreError, match="schema version 99"):
        backend.open(read_only=True)


def test_read_only_store_refuses_writes(backend):
    backend.open().close()
    with backend.open(read_only=True) as st:
        with pytest.raises(StoreError, match="read-only"):
            st.begin_run(run_record())
    with backend.open(read_only=True) as st:
        assert st.runs() == []


def test_not_a_database(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="not a usable results database"):
        SQLiteStore(bad)


def test_judge_outcomes():
    assert judge(1.0, 0.0, 2.0) == (Outcome.PASS, 1.0)
    assert judge(2.5, 0.0, 2.0) == (Outcome.FAIL, -0.5)
    assert judge(1.9, 0.0, 2.0, guard_band=0.2)[0] is Outcome.MARGINAL
    assert judge(-0.1, 0.0, None)[0] is Outcome.FAIL
    with pytest.raises(InvalidParameter, match="low limit 3"):
        judge(1.0, 3.0, 2.0)
    with pytest.raises(InvalidParameter):
        judge(float("nan"), 0.0, 1.0)


def test_record_validation():
    run = run_record()
    with pytest.raises(InvalidParameter, match="no value"):
        MeasurementRecord(run_id=run.run_id, serial="SN1", step="tx", name="x", value=None,
                          unit="dB", outcome="PASS")
    with pytest.raises(InvalidParameter, match="finite"):
        MeasurementRecord(run_id=run.run_id, serial="SN1", step="tx", name="x",
                          value=float("inf"), unit="dB", outcome="FAIL")
    with pytest.raises(InvalidParameter, match="serial"):
        run_record(serial=" ")


WRITER = textwrap.dedent(
    """
    import sys, time, uuid
    from optics.station.records import MeasurementRecord, RunRecord
    from optics.station.store import open_store
    db, serial, n, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    st = open_store(db)
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="h",
                    station_id=serial, started_at_s=time.time(), toolkit_version="t")
    st.begin_run(run)
    for i in range(n):
        st.add_measurement(MeasurementRecord(run_id=run.run_id, serial=serial, step="s",
                           name="m", value=float(i), unit="dB", outcome="PASS", lane=i))
        print(i, flush=True)
        time.sleep(pause)
    """
)


def test_kill_9_loses_nothing_and_marks_run_incomplete(backend):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, backend.target, "SNK", "100000", "0.01"],
                            stdout=subprocess.PIPE, text=True)
    seen = -1
    while seen < 20:
        line = proc.stdout.readline()
        assert line, "writer ended early"
        seen = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with backend.open() as st:
        (r,) = st.runs()
        assert r.status is RunStatus.INCOMPLETE
        values = [m.value for m in st.measurements()]
        # every record the writer reported as committed is there, in order, once
        assert values[: seen + 1] == [float(i) for i in range(seen + 1)]
        assert values == [float(i) for i in range(len(values))]
        assert st.close_stale_runs() == [r.run_id]
        (r2,) = st.runs()
        assert r2.status is RunStatus.INCOMPLETE and r2.outcome is Outcome.ERROR
    assert backend.sql("SELECT status, outcome FROM runs") == [("incomplete", "ERROR")]


@pytest.mark.parametrize("n_stations", [4, 8])
def test_concurrent_stations_lose_and_duplicate_nothing(backend, n_stations):
    """n station processes start at once on a database that does not exist yet (they create its
    schema once between them) and each commits its records as fast as it can."""
    n = 100
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, backend.target, f"SN{k}", str(n), "0"],
                              stdout=subprocess.DEVNULL) for k in range(n_stations)]
    assert [p.wait(timeout=120) for p in procs] == [0] * n_stations
    with backend.open() as st:
        ms = st.measurements()
        assert len(ms) == n_stations * n
        for k in range(n_stations):
            lanes = [m.lane for m in ms if m.serial == f"SN{k}"]
            assert lanes == list(range(n))          # all of them, once each, in the order committed
        assert sorted(r.serial for r in st.runs()) == sorted(f"SN{k}" for k in range(n_stations))
    assert backend.sql("SELECT count(*) FROM station_meta WHERE key = 'schema_version'") == [(1,)]


def test_a_write_interrupted_inside_its_transaction_does_not_block_closing_the_run(backend):
    """SIGTERM (SystemExit from the station's handler) landing right after BEGIN, or during the
    ROLLBACK of a failed write, leaves the connection inside a transaction; the runner's end_run
    in its ``finally`` must still close the run (and the half-written record must not appear)."""
    with backend.open() as st:
        run = run_record()
        st.begin_run(run)
        st.add_measurement(meas(run, lane=0))
        st._conn.execute("BEGIN IMMEDIATE" if backend.name == "sqlite" else "BEGIN")   # the interrupted write ...
        st._conn.execute(st.dialect.sql(
            "INSERT INTO measurements (run_id, serial, step, name, unit, outcome, spec_ref, "
            "verified, instruments_json, taken_at_s, message) "
            "VALUES (?, 'SN1', 'tx', 'half', '', 'PASS', '', 1, '{}', 0, '')"), (run.run_id,))
        st.end_run(run.run_id, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR, note="stopped by SystemExit")
        (back,) = st.runs()
        names = [m.name for m in st.measurements()]
    assert back.status is RunStatus.INCOMPLETE and names == ["tdecq_db"]


def test_connection_and_sql_give_reads_beyond_the_methods(backend):
    """connection() + sql(): one query with ``?`` markers runs on either back end."""
    with backend.open() as st:
        run = run_record()
        st.begin_run(run)
        st.add_measurements([meas(run, value=v, lane=k) for k, v in enumerate((1.0, 2.5, 3.0))])
    with backend.open(read_only=True) as st:
        cur = st.connection().cursor()
        cur.execute(st.sql("SELECT count(*), sum(value) FROM measurements WHERE run_id = ? AND value > ?"),
                    (run.run_id, 1.5))
        assert tuple(cur.fetchone()) == (2, 5.5)
