"""``optics station run`` / ``optics lot stats`` as processes: kill -9, four writers, bad plans."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from optics.cli import main
from optics.station.records import Outcome, RunStatus
from optics.station.runner import format_record
from optics.station.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[3]

TX_ONLY = textwrap.dedent(
    """\
    name = "cli-test"
    phy = "800GBASE-DR8"
    lanes = {lanes}
    temperatures_c = {temps}

    [thermal]
    soak_s = 5.0

    [[step]]
    name = "tx"
    kind = "tx"
    limits = ["average_power_dbm", "tdecq_db"]
    settings = {{ export_eye = false }}
    """
)


def station_cmd(plan, db, serial, *extra):
    return [sys.executable, "-m", "optics", "station", "run", "--plan", str(plan), "--db", str(db),
            "--serial", serial, *extra]


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def test_kill_9_mid_run_keeps_every_finished_record(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=8, temps=[25.0, 70.0]))
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen(station_cmd(plan, db, "SNKILL"), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, cwd=tmp_path, env=env())
    printed = []
    try:
        while len(printed) < 20:
            line = proc.stderr.readline()
            assert line, f"station ended early: {proc.wait()}"
            printed.append(line.rstrip("\n"))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with SQLiteStore(db) as store:
        (run,) = store.runs()
        records = store.measurements(run_id=run.run_id)
    assert run.status is RunStatus.INCOMPLETE
    # each progress line is printed after its record is committed: all of them are in the DB, in order, once
    assert len(records) >= len(printed)
    assert [format_record(r) for r in records[: len(printed)]] == printed
    keys = [(r.step, r.name, r.lane, r.temperature_c) for r in records]
    assert len(keys) == len(set(keys))
    # and the plan was not finished: 2 temperatures x 8 lanes x 8 tx records + 2 thermal records
    assert len(records) < 2 * 8 * 8 + 2


def test_four_stations_one_database(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=2, temps=[]))
    db = tmp_path / "shared.sqlite"
    SQLiteStore(db).close()
    procs = [subprocess.Popen(station_cmd(plan, db, f"SN{k}", "--json", "--quiet", "--station-id", f"st{k}"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env())
             for k in range(4)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-500:] for o in outs]
    reported = [json.loads(o[0]) for o in outs]
    with SQLiteStore(db) as store:
        runs = store.runs()
        stored = store.measurements()
    assert len(runs) == 4 and all(r.status is RunStatus.COMPLETE for r in runs)
    for rep in reported:
        mine = [m for m in stored if m.run_id == rep["run_id"]]
        assert len(mine) == len(rep["records"]) == 2 * 8
        assert [(m.name, m.lane, m.value) for m in mine] == [(r["name"], r["lane"], r["value"]) for r in rep["records"]]
    assert len({m.run_id for m in stored}) == 4


def test_bad_plan_is_refused_before_the_database_is_opened(tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=2, temps=[]).replace('kind = "tx"', 'kind = "tx"\nbogus = 3'))
    db = tmp_path / "r.sqlite"
    assert main(["station", "run", "--plan", str(plan), "--serial", "SNBAD", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "plan.toml:12" in err and "unknown key 'bogus'" in err
    assert not db.exists()                  # no database file, no run (no module was tested)


def test_unknown_setting_and_missing_plan(tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=2, temps=[]).replace("export_eye = false", "export_eyes = false"))
    assert main(["station", "run", "--plan", str(plan), "--serial", "S", "--db", str(tmp_path / "r.sqlite")]) == 2
    assert "unknown setting 'export_eyes'" in capsys.readouterr().err
    assert main(["station", "run", "--plan", str(tmp_path / "nope.toml"), "--serial", "S",
                 "--db", str(tmp_path / "r.sqlite")]) == 2
    assert "cannot read plan" in capsys.readouterr().err


def test_run_report_and_lot_stats(tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=1, temps=[]))
    db = tmp_path / "r.sqlite"
    rep = tmp_path / "rep"
    assert main(["station", "run", "--plan", str(plan), "--serial", "SNCLI", "--db", str(db), "--report", str(rep),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "SNCLI: PASS (complete), 8 records" in out
    assert len(list(rep.glob("SNCLI_*.html"))) == 1 and len(list(rep.glob("SNCLI_*.csv"))) == 1
    assert main(["station", "report", "--db", str(db), "--serial", "SNCLI", "--out", str(tmp_path / "again")]) == 0
    assert "SNCLI (PASS, complete)" in capsys.readouterr().out
    assert len(list((tmp_path / "again").glob("SNCLI_*.csv"))) == 1
    assert main(["station", "report", "--db", str(db), "--run", "zzz", "--out", str(tmp_path)]) == 2
    assert "no run 'zzz'" in capsys.readouterr().err
    assert main(["lot", "stats", "--db", str(db), "--json", "--html", str(tmp_path / "lot.html")]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["n_modules"] == 1 and stats["yield"] == 1.0
    names = {m["name"] for m in stats["measurements"]}
    assert {"average_power_dbm", "tdecq_db"} <= names
    assert (tmp_path / "lot.html").read_text().startswith("<!DOCTYPE html>")
    assert main(["lot", "stats", "--db", str(db), "--since", "2999-01-01"]) == 2     # an empty window: issue 14
    assert "no run started at or after 2999-01-01 00:00:00 UTC" in capsys.readouterr().err
    assert main(["lot", "stats", "--db", str(db), "--since", "yesterday"]) == 2
    assert "ISO 8601" in capsys.readouterr().err
    assert main(["lot", "stats", "--db", str(tmp_path / "none.sqlite")]) == 2


def test_sigterm_closes_the_run_incomplete_after_the_safe_state(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=8, temps=[25.0, 70.0]))
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen(station_cmd(plan, db, "SNTERM"), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, cwd=tmp_path, env=env())
    for _ in range(10):
        assert proc.stderr.readline()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) != 0
    with SQLiteStore(db) as store:
        (run,) = store.runs()
    assert run.status is RunStatus.INCOMPLETE and run.outcome is Outcome.ERROR
    assert "SystemExit" in run.note and "safe-state problems" not in run.note


def test_scanned_serials_run_module_by_module(tmp_path, capsys, monkeypatch):
    import io

    plan = tmp_path / "plan.toml"
    plan.write_text(TX_ONLY.format(lanes=1, temps=[]))
    db = tmp_path / "r.sqlite"
    monkeypatch.setattr("sys.stdin", io.StringIO("SNA\n\nSNB\n"))
    assert main(["station", "run", "--plan", str(plan), "--serial", "-", "--db", str(db), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "SNA: PASS" in out and "SNB: PASS" in out
    with SQLiteStore(db) as store:
        runs = store.runs()
        # each module's record carries its own serial, and the CMIS check saw the module swap
        assert [r.serial for r in runs] == ["SNA", "SNB"]
        assert {m.serial for m in store.measurements(run_id=runs[1].run_id)} == {"SNB"}


DDM_ONLY = textwrap.dedent(
    """\
    name = "cli-ddm"
    phy = "800GBASE-DR8"
    lanes = 1
    characterisation = true

    [[step]]
    name = "ddm"
    kind = "ddm"
    """
)


def test_database_failing_mid_run_is_a_clear_error_not_a_traceback(tmp_path, capsys, monkeypatch):
    """The results file locked by another process past the timeout (or a full disk) mid-run:
    exit status 2, a message naming the database, the records committed before it kept."""
    import sqlite3

    plan = tmp_path / "plan.toml"
    plan.write_text(DDM_ONLY)
    db = tmp_path / "r.sqlite"
    real = SQLiteStore.add_measurements
    calls = []

    def flaky(self, records):
        calls.append(1)
        if len(calls) > 1:
            raise sqlite3.OperationalError("database is locked")
        real(self, records)

    monkeypatch.setattr(SQLiteStore, "add_measurements", flaky)
    assert main(["station", "run", "--plan", str(plan), "--serial", "SNLOCK", "--db", str(db), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(db) in err and "database is locked" in err and "Traceback" not in err
    monkeypatch.undo()
    with SQLiteStore(db) as store:
        (run,) = store.runs()
        assert [m.name for m in store.measurements()] == ["module_temperature_c"]
    assert run.status is RunStatus.INCOMPLETE and "OperationalError: database is locked" in run.note


def test_a_software_bug_mid_run_exits_2_not_the_fail_status(tmp_path, capsys, monkeypatch):
    """Exit status 1 means the module FAILED: an unexpected exception (a bug) must not leave the
    process with Python's default status 1 -- it is 2 (error), the run closed incomplete/ERROR."""
    from optics.station import runner

    def broken(self, step):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(runner._Run, "ddm", broken)
    plan = tmp_path / "plan.toml"
    plan.write_text(DDM_ONLY)
    db = tmp_path / "r.sqlite"
    assert main(["station", "run", "--plan", str(plan), "--serial", "SNBUG", "--db", str(db), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "ValueError: operands could not be broadcast together" in err
    with SQLiteStore(db) as store:
        (run,) = store.runs()
    assert run.status is RunStatus.INCOMPLETE and run.outcome is Outcome.ERROR


def test_station_start_closes_its_hosts_killed_runs_in_the_file(tmp_path):
    """A run killed (-9) on this host reads incomplete here, but a lot-stats on another host
    cannot tell its process is gone: the next station start on this host closes it in the file."""
    import socket
    import sqlite3
    import time
    import uuid

    from optics.station.records import RunRecord

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    db = tmp_path / "r.sqlite"
    rid = str(uuid.uuid4())
    with SQLiteStore(db) as store:
        store.begin_run(RunRecord(run_id=rid, serial="SNKILLED", plan_name="cli-ddm", plan_hash="ab" * 32,
                                  station_id="st", started_at_s=time.time(), toolkit_version="0.1.0",
                                  pid=dead.pid, host=socket.gethostname()))
    plan = tmp_path / "plan.toml"
    plan.write_text(DDM_ONLY)
    assert main(["station", "run", "--plan", str(plan), "--serial", "SNNEXT", "--db", str(db), "--quiet"]) == 0
    with sqlite3.connect(db) as con:
        status, outcome = con.execute("SELECT status, outcome FROM runs WHERE run_id=?", (rid,)).fetchone()
    assert (status, outcome) == ("incomplete", "ERROR")
