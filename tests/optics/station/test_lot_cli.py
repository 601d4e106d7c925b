"""``optics lot stats``: retest policy, JSON keys, the lot page with report links, and exit 2 for
a plan matching nothing, an empty window or a database of another tool."""

import json
import re
import sqlite3
import time
import uuid

import pytest

from optics.cli import main
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.report import write_report
from optics.station.store import SQLiteStore

KEYS = {"yield", "first_pass_yield", "by_temperature", "pareto", "control_charts", "measurements", "repeatability"}


def make_db(tmp_path):
    db = tmp_path / "r.sqlite"
    with SQLiteStore(db) as st:
        t0 = time.time() - 100
        for k, (serial, values) in enumerate([("A", [3.9, 2.0]), ("B", [1.0, 1.2]), ("A", [2.2, 2.4])]):
            run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="800G-DR8", plan_hash="h",
                            station_id="st1", started_at_s=t0 + k, toolkit_version="t")
            st.begin_run(run)
            recs = []
            for lane, v in enumerate(values):
                o, m = judge(v, None, 3.4)
                recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="tx", name="tdecq_db", value=v,
                                              unit="dB", outcome=o, lane=lane, temperature_c=25.0, high_limit=3.4,
                                              margin=m))
            st.add_measurements(recs)
            st.end_run(run.run_id, status=RunStatus.COMPLETE,
                       outcome=Outcome.FAIL if any(r.outcome is Outcome.FAIL for r in recs) else Outcome.PASS)
            write_report(st, run.run_id, tmp_path / "reports")
    return db


def test_runs_policy_and_json_keys(tmp_path, capsys):
    db = make_db(tmp_path)
    assert main(["lot", "stats", "--db", str(db), "--json"]) == 0
    last = json.loads(capsys.readouterr().out)
    assert KEYS <= set(last) and last["runs_policy"] == "last"
    assert last["yield"] == 1.0 and last["first_pass_yield"] == 0.5        # A failed first, passed on retest
    (m,) = last["measurements"]
    assert m["n"] == 4 and m["mean"] == pytest.approx((1.0 + 1.2 + 2.2 + 2.4) / 4)
    assert main(["lot", "stats", "--db", str(db), "--json", "--runs", "all"]) == 0
    every = json.loads(capsys.readouterr().out)
    assert every["measurements"][0]["n"] == 6 and every["yield"] == pytest.approx(2 / 3)
    assert every["repeatability"]["tdecq_db"] > 0
    assert main(["lot", "stats", "--db", str(db), "--runs", "first"]) == 0
    assert "statistics over: first run of each module" in capsys.readouterr().out


def test_lot_page_links_the_reports(tmp_path, capsys):
    db = make_db(tmp_path)
    page = tmp_path / "out" / "lot.html"
    page.parent.mkdir()
    assert main(["lot", "stats", "--db", str(db), "--html", str(page), "--reports", str(tmp_path / "reports")]) == 0
    capsys.readouterr()
    hrefs = re.findall(r"href='([^']+)'", page.read_text())
    assert len(hrefs) == 2 and all(h.startswith("../reports/") and (page.parent / h).is_file() for h in hrefs)


@pytest.mark.parametrize("args, message", [
    (["--plan", "NO-SUCH-PLAN"], "no run of plan 'NO-SUCH-PLAN'; plans in the database: '800G-DR8'"),
    (["--since", "2999-01-01"], "no run started at or after 2999-01-01 00:00:00 UTC"),
    (["--plan", "800G-DR8", "--since", "2999-01-01"], "of plan '800G-DR8'; the latest started"),
    (["--golden", "B"], "golden module 'B' has 1 complete run"),
])
def test_a_selection_of_nothing_is_an_error_exit_2(tmp_path, capsys, args, message):
    db = make_db(tmp_path)
    assert main(["lot", "stats", "--db", str(db), *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_a_database_of_another_tool_is_an_error_exit_2(tmp_path, capsys):
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE inventory (part TEXT, qty INTEGER)")
    con.commit()
    con.close()
    before = other.read_bytes()
    assert main(["lot", "stats", "--db", str(other)]) == 2
    err = capsys.readouterr().err
    assert "optics lot stats: error:" in err and "other.sqlite" in err
    assert other.read_bytes() == before
    empty = tmp_path / "fresh.sqlite"
    SQLiteStore(empty).close()
    assert main(["lot", "stats", "--db", str(empty)]) == 2
    assert "holds no runs" in capsys.readouterr().err
