import csv
import time
import uuid

import pytest

from optics.errors import InvalidParameter
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.report import CSV_COLUMNS, write_report
from optics.station.store import SQLiteStore


def make_run(store, serial="SNREP"):
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="ab" * 32,
                    station_id="st", started_at_s=time.time(), toolkit_version="0.1.0",
                    bench={"scope": "Keysight Technologies,N1000A,X,1"})
    store.begin_run(run)
    values = {0: 1.2, 1: 3.35, 2: 3.9}          # PASS, MARGINAL (guard 0.2 under 3.4), FAIL
    for lane, v in values.items():
        o, m = judge(v, None, 3.4, guard_band=0.2)
        store.add_measurement(MeasurementRecord(
            run_id=run.run_id, serial=serial, step="tx", name="tdecq_db", value=v, unit="dB", outcome=o,
            lane=lane, temperature_c=25.0, high_limit=3.4, margin=m, instruments={"scope": "N1000A"}))
    store.add_measurement(MeasurementRecord(
        run_id=run.run_id, serial=serial, step="tx", name="tdecq_db", value=None, unit="dB", outcome="ERROR",
        lane=3, temperature_c=25.0, message="InstrumentTimeout: no reply"))
    store.end_run(run.run_id, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR, note="scope stopped answering")
    return run


def test_html_and_csv(tmp_path):
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = make_run(store)
        paths = write_report(store, run.run_id, tmp_path / "out")
    text = paths.html.read_text()
    assert "<h1>Module SNREP</h1>" in text and "ERROR (incomplete)" in text
    assert "scope stopped answering" in text and "InstrumentTimeout: no reply" in text
    assert text.count("margin +") == 2 and "margin -0.50" in text      # 3.4 - 3.9
    rows = list(csv.DictReader(paths.csv.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 4
    assert [r["outcome"] for r in rows] == ["PASS", "MARGINAL", "FAIL", "ERROR"]
    assert float(rows[1]["value"]) == 3.35 and rows[3]["value"] == ""
    assert float(rows[2]["margin"]) == pytest.approx(-0.5)


def test_unknown_run(tmp_path):
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(InvalidParameter, match="no run with run_id"):
            write_report(store, "nope", tmp_path)


@pytest.mark.parametrize("serial", ["../../escaped", "LOT7/SN 0001", "<script>alert(1)</script>"])
def test_operator_typed_serial_stays_inside_the_report_directory_and_is_escaped(tmp_path, serial):
    out = tmp_path / "reports" / "today"
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = make_run(store, serial=serial)
        paths = write_report(store, run.run_id, out)
    for p in (paths.html, paths.csv):
        assert p.parent == out and p.is_file()
    assert sorted(f.name for f in tmp_path.rglob("*") if f.is_file() and f.suffix in (".html", ".csv")) == sorted(
        [paths.html.name, paths.csv.name])
    text = paths.html.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text if "<" in serial else serial in text
    rows = list(csv.DictReader(paths.csv.open(encoding="utf-8")))
    assert {r["serial"] for r in rows} == {serial}


def test_csv_quotes_commas_quotes_and_newlines_in_messages(tmp_path):
    msg = 'ScpiError: -222,"Data out of range"\nline 2, with comma'
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = make_run(store)
        store.add_measurement(MeasurementRecord(
            run_id=run.run_id, serial=run.serial, step="rx", name="rx_sensitivity_oma_dbm", value=None, unit="dBm",
            outcome="ERROR", lane=0, message=msg))
        paths = write_report(store, run.run_id, tmp_path)
    rows = list(csv.DictReader(paths.csv.open(encoding="utf-8", newline="")))
    assert len(rows) == 5 and rows[-1]["message"] == msg


def test_report_of_a_killed_run_says_error_incomplete_not_running(tmp_path):
    """After kill -9 the run was never closed: the store reports it incomplete, and its verdict
    must read ERROR (as close_stale_runs and the lot statistics have it), not RUNNING."""
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = RunRecord(run_id=str(uuid.uuid4()), serial="SNKILL", plan_name="p", plan_hash="ab" * 32,
                        station_id="st", started_at_s=time.time(), toolkit_version="0.1.0",
                        pid=dead.pid, host=socket.gethostname())
        store.begin_run(run)
        (back,) = store.runs()
        paths = write_report(store, run.run_id, tmp_path / "out")
    assert back.status is RunStatus.INCOMPLETE and back.outcome is Outcome.ERROR
    text = paths.html.read_text()
    assert "ERROR (incomplete)" in text and "RUNNING" not in text


@pytest.mark.parametrize("serial", ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1,2)", "-2+3"])
def test_csv_cells_never_start_a_formula(tmp_path, serial):
    # OWASP CSV injection: a scanned serial or an instrument reply must stay text in a spreadsheet
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = make_run(store, serial=serial)
        store.add_measurement(MeasurementRecord(
            run_id=run.run_id, serial=serial, step="rx", name="rx_sensitivity_oma_dbm", value=-7.25, unit="dBm",
            outcome="FAIL", lane=0, low_limit=-9.0, margin=-1.75, message="=1+1 from the instrument"))
        paths = write_report(store, run.run_id, tmp_path)
    rows = list(csv.DictReader(paths.csv.open(encoding="utf-8", newline="")))
    assert {r["serial"] for r in rows} == {"'" + serial}
    assert rows[-1]["message"] == "'=1+1 from the instrument"
    # numbers stay numbers: a negative value, limit and margin are not escaped
    assert float(rows[-1]["value"]) == -7.25 and float(rows[-1]["low_limit"]) == -9.0
    assert float(rows[-1]["margin"]) == -1.75
    for row in rows:
        for key, cell in row.items():
            if key not in ("value", "low_limit", "high_limit", "margin", "temperature_c", "lane"):
                assert not cell.startswith(("=", "+", "-", "@")), (key, cell)
