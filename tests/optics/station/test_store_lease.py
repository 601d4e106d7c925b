"""Run leases: a run left running by a crash on another host is closed by the next run of its
serial (and both say so); a live run of another host still makes the concurrent-run ERROR."""

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from instruments.bench import BenchConfig
from optics.errors import InvalidParameter
from optics.station.bench_adapter import open_bench
from optics.station.dut import nominal_module
from optics.station.plan import load_plan
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, utc_text
from optics.station.runner import run_plan

ROOT = Path(__file__).resolve().parents[3]

FAST = dataclasses.replace(BenchConfig.default(),
                           physics=dataclasses.replace(BenchConfig.default().physics, time_scale=1000.0))

TX_PLAN = textwrap.dedent(
    """\
    name = "lease-ddm"
    phy = "800GBASE-DR8"
    lanes = 1

    [[step]]
    name = "tx"
    kind = "tx"
    limits = ["average_power_dbm", "tdecq_db"]
    """
)


def ddm_plan(tmp_path):
    """A valid plan made into one that only reads the module's monitors (fast: no scope), a
    plan the runner runs as any other (the leases are the runner's and the store's concern)."""
    p = tmp_path / "plan.toml"
    p.write_text(TX_PLAN)
    plan = load_plan(p)
    ddm = dataclasses.replace(plan.steps[0], name="ddm", kind="ddm", limits=(), settings={})
    return dataclasses.replace(plan, steps=(ddm,))


def lease_row(backend, run_id):
    (row,) = backend.sql("SELECT status, outcome, ended_at_s, note, heartbeat_at_s, lease_expires_at_s FROM runs "
                         "WHERE run_id=?", (run_id,))
    return row


def run_record(serial, **kw):
    base = dict(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="h", station_id="st-b",
                started_at_s=time.time(), toolkit_version="t")
    base.update(kw)
    return RunRecord(**base)


# a station on another host ("bench-b"): begins a run with a short lease, commits records, is killed
CRASHING_STATION = textwrap.dedent(
    """
    import sys, time, uuid
    from optics.station.records import MeasurementRecord, RunRecord
    from optics.station.store import open_store
    db, serial, lease_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    st = open_store(db, lease_s=lease_s)
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="lease-ddm", plan_hash="h",
                    station_id="st-b", started_at_s=time.time(), toolkit_version="t", host="bench-b")
    st.begin_run(run)
    st.add_measurement(MeasurementRecord(run_id=run.run_id, serial=serial, step="ddm",
                       name="module_temperature_c", value=41.0, unit="°C", outcome="PASS"))
    print(run.run_id, flush=True)
    time.sleep(600)
    """
)


def test_a_run_left_by_a_crash_on_another_host_is_closed_by_the_next_run(tmp_path, backend):
    db = backend.target
    lease_s = 0.3
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_STATION, str(db), "SNCRASH", str(lease_s)],
                            stdout=subprocess.PIPE, text=True, env=env)
    crashed_id = proc.stdout.readline().strip()
    assert crashed_id, "station ended early"
    os.kill(proc.pid, signal.SIGKILL)        # the crash: nobody renews the lease any more
    proc.wait()
    proc.stdout.close()
    _, _, _, _, heartbeat, expires = lease_row(backend, crashed_id)
    assert expires == pytest.approx(heartbeat + lease_s)
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with backend.open() as store:
        # any reader, on any host, sees the run over once its lease ran out
        (seen,) = store.runs(serial="SNCRASH")
        assert seen.status is RunStatus.INCOMPLETE and seen.outcome is Outcome.ERROR
        assert f"lease expired at {utc_text(expires)}" in seen.note
        with open_bench(FAST, module=nominal_module("SNCRASH", n_lanes=1), needed=()) as bench:
            result = run_plan(ddm_plan(tmp_path), bench, store, serial="SNCRASH")
    # the retest proceeds: no concurrent-run ERROR, and its note names the run it closed
    assert not [r for r in result.records if r.name == "concurrent_run"]
    assert result.status is RunStatus.COMPLETE and result.outcome is Outcome.PASS
    assert f"closed stale run {crashed_id}" in result.note and "lease expired at" in result.note
    status, outcome, ended, note, heartbeat, _ = lease_row(backend, crashed_id)
    assert (status, outcome) == ("incomplete", "ERROR")
    assert ended == heartbeat                # ended at its last sign of life
    assert f"lease expired at {utc_text(expires)}" in note and "host 'bench-b'" in note
    assert f"closed incomplete by run {result.run.run_id}" in note


def test_a_live_run_on_another_host_still_makes_the_concurrent_run_error(tmp_path, backend):
    with backend.open() as other, backend.open() as store:
        live = run_record("SNLIVE", host="bench-b", pid=os.getpid())     # lease: the default 600 s
        other.begin_run(live)
        with open_bench(FAST, module=nominal_module("SNLIVE", n_lanes=1), needed=()) as bench:
            result = run_plan(ddm_plan(tmp_path), bench, store, serial="SNLIVE")
        assert lease_row(backend, live.run_id)[0] == "running"
    (flag,) = [r for r in result.records if r.name == "concurrent_run"]
    assert flag.outcome is Outcome.ERROR and live.run_id in flag.message and "bench-b" in flag.message
    assert result.outcome is Outcome.ERROR and "closed stale run" not in result.note


def test_every_commit_renews_the_lease(backend):
    with backend.open(lease_s=1000.0) as store:
        run = run_record("SNHB", pid=999_999_999)       # not this process: no lease keeper, only commits
        store.begin_run(run)
        backend.sql("UPDATE runs SET heartbeat_at_s = 1, lease_expires_at_s = 2 WHERE run_id = ?", (run.run_id,))
        t = time.time()
        store.add_measurement(MeasurementRecord(run_id=run.run_id, serial="SNHB", step="ddm", name="x", value=1.0,
                                                unit="", outcome="PASS"))
        _, _, _, _, heartbeat, expires = lease_row(backend, run.run_id)
        assert t <= heartbeat <= time.time() and expires == pytest.approx(heartbeat + 1000.0)
        store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)
        store.add_measurement(MeasurementRecord(run_id=run.run_id, serial="SNHB", step="ddm", name="y", value=1.0,
                                                unit="", outcome="PASS"))
        assert lease_row(backend, run.run_id)[4] == heartbeat     # a closed run's lease is no longer renewed


def test_the_lease_keeper_renews_between_records_until_the_store_closes(backend):
    """No record for 2.5 leases (a thermal soak): the run stays alive; once its store is closed
    without ending it (the station gone), its lease runs out and readers see it incomplete."""
    lease_s = 0.4
    store = backend.open(lease_s=lease_s)
    run = run_record("SNSOAK", host="bench-b")
    store.begin_run(run)
    time.sleep(2.5 * lease_s)
    with backend.open(read_only=True) as reader:
        assert reader.runs()[0].status is RunStatus.RUNNING
    store.close()
    expires = lease_row(backend, run.run_id)[5]
    assert expires > time.time() - lease_s
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with backend.open(read_only=True) as reader:
        (back,) = reader.runs()
    assert back.status is RunStatus.INCOMPLETE and back.outcome is Outcome.ERROR
    assert f"lease expired at {utc_text(expires)}" in back.note


@pytest.mark.parametrize("lease_s", [0.0, -1.0, float("nan"), float("inf")])
def test_lease_must_be_positive_and_finite(backend, lease_s):
    with pytest.raises(InvalidParameter, match="lease_s"):
        backend.open(lease_s=lease_s)
