import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from optics.errors import ConfigError, InvalidParameter
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.store import SCHEMA_VERSION, SQLiteStore


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


def test_roundtrip_and_schema_version(tmp_path):
    db = tmp_path / "r.sqlite"
    with SQLiteStore(db) as st:
        run = run_record()
        st.begin_run(run)
        st.add_measurement(meas(run, value=2.0))
        st.add_measurement(meas(run, value=3.3))
        st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.MARGINAL)
    with SQLiteStore(db) as st:
        (r,) = st.runs()
        assert r.status is RunStatus.COMPLETE and r.outcome is Outcome.MARGINAL
        assert r.bench["scope"].startswith("KEYSIGHT")
        ms = st.measurements(run_id=run.run_id)
        assert [m.value for m in ms] == [2.0, 3.3]
        assert ms[0].outcome is Outcome.PASS and ms[0].margin == pytest.approx(1.4)
        assert ms[1].outcome is Outcome.MARGINAL and ms[1].margin == pytest.approx(0.1)
        mode = st._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert st._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_other_schema_version_is_refused(tmp_path):
    db = tmp_path / "r.sqlite"
    SQLiteStore(db).close()
    import sqlite3

    c = sqlite3.connect(db)
    c.execute("PRAGMA user_version=99")
    c.close()
    with pytest.raises(ConfigError, match="schema version 99"):
        SQLiteStore(db)


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
    from optics.station.store import SQLiteStore
    db, serial, n, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    st = SQLiteStore(db)
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


def test_kill_9_loses_nothing_and_marks_run_incomplete(tmp_path):
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "SNK", "100000", "0.01"],
                            stdout=subprocess.PIPE, text=True)
    seen = -1
    while seen < 20:
        line = proc.stdout.readline()
        assert line, "writer ended early"
        seen = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with SQLiteStore(db) as st:
        (r,) = st.runs()
        assert r.status is RunStatus.INCOMPLETE
        values = [m.value for m in st.measurements()]
        # every record the writer reported as committed is there, in order, once
        assert values[: seen + 1] == [float(i) for i in range(seen + 1)]
        assert len(values) == len(set(values))
        assert st.close_stale_runs() == [r.run_id]
        (r2,) = st.runs()
        assert r2.status is RunStatus.INCOMPLETE and r2.outcome is Outcome.ERROR


def test_four_concurrent_writers_lose_and_duplicate_nothing(tmp_path):
    db = tmp_path / "r.sqlite"
    SQLiteStore(db).close()
    n = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"SN{k}", str(n), "0"],
                              stdout=subprocess.DEVNULL) for k in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    with SQLiteStore(db) as st:
        ms = st.measurements()
        assert len(ms) == 4 * n
        for k in range(4):
            lanes = sorted(m.lane for m in ms if m.serial == f"SN{k}")
            assert lanes == list(range(n))


def test_a_write_interrupted_inside_its_transaction_does_not_block_closing_the_run(tmp_path):
    """SIGTERM (SystemExit from the station's handler) landing right after BEGIN IMMEDIATE, or
    during the ROLLBACK of a failed write, leaves the connection inside a transaction; the
    runner's end_run in its ``finally`` must still close the run (and the half-written
    record must not appear)."""
    with SQLiteStore(tmp_path / "r.sqlite") as st:
        run = run_record()
        st.begin_run(run)
        st.add_measurement(meas(run, lane=0))
        st._conn.execute("BEGIN IMMEDIATE")                       # the interrupted write ...
        st._conn.execute("INSERT INTO measurements (run_id, serial, step, name, unit, outcome, spec_ref, "
                         "verified, instruments_json, taken_at_s, message) "
                         "VALUES (?, 'SN1', 'tx', 'half', '', 'PASS', '', 1, '{}', 0, '')", (run.run_id,))
        st.end_run(run.run_id, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR, note="stopped by SystemExit")
        (back,) = st.runs()
        names = [m.name for m in st.measurements()]
    assert back.status is RunStatus.INCOMPLETE and names == ["tdecq_db"]
