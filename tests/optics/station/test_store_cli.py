"""The command line and the results file: refused files stay untouched, bad input creates no
database and no run, ``lot stats`` and ``station report`` only read."""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

from optics.cli import main
from optics.station import stats as stats_module
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[3]

PLAN = textwrap.dedent(
    """\
    name = "cli-store"
    phy = "800GBASE-DR8"
    lanes = 1

    [[step]]
    name = "tx"
    kind = "tx"
    limits = ["average_power_dbm", "tdecq_db"]
    """
)


def snapshot(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def plan_file(tmp_path, text=PLAN):
    p = tmp_path / "plan.toml"
    p.write_text(text)
    return p


def results_db(path, n_modules=2):
    with SQLiteStore(path) as store:
        for k in range(n_modules):
            run = RunRecord(run_id=str(uuid.uuid4()), serial=f"SN{k}", plan_name="cli-store", plan_hash="h",
                            station_id="st", started_at_s=time.time(), toolkit_version="t")
            store.begin_run(run)
            store.add_measurement(MeasurementRecord(run_id=run.run_id, serial=run.serial, step="tx", name="tdecq_db",
                                                    value=2.0 + k, unit="dB", outcome="PASS", lane=0, high_limit=3.4,
                                                    margin=1.4 - k))
            store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)
    return path


def test_station_run_refuses_an_unrelated_sqlite_file_and_leaves_it_unchanged(tmp_path, capsys):
    plan = plan_file(tmp_path)
    db = tmp_path / "inventory.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE parts (pn TEXT)")
    con.commit()
    con.close()
    before = snapshot(db)
    assert main(["station", "run", "--plan", str(plan), "--serial", "SN1", "--db", str(db), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(db) in err and "another application" in err and "parts" in err
    assert snapshot(db) == before


def test_an_invalid_plan_creates_no_database_and_no_run(tmp_path, capsys):
    plan = plan_file(tmp_path, PLAN.replace('kind = "tx"', 'kind = "tx"\nbogus = 3'))
    db = tmp_path / "new.sqlite"
    assert main(["station", "run", "--plan", str(plan), "--serial", "SN1", "--db", str(db)]) == 2
    assert "unknown key 'bogus'" in capsys.readouterr().err
    assert not db.exists() and sorted(os.listdir(tmp_path)) == ["plan.toml"]
    old = results_db(tmp_path / "old.sqlite")
    before = snapshot(old)
    assert main(["station", "run", "--plan", str(plan), "--serial", "SN1", "--db", str(old)]) == 2
    assert snapshot(old) == before                          # no run recorded, nothing written


def test_a_serial_with_a_control_character_creates_no_database(tmp_path, capsys, monkeypatch):
    db = tmp_path / "r.sqlite"
    assert main(["station", "run", "--plan", str(plan_file(tmp_path)), "--serial", "SN1\x1b[2J", "--db",
                 str(db)]) == 2
    err = capsys.readouterr().err
    assert "'SN1\\x1b[2J'" in err and "\x1b" not in err and not db.exists()
    # a scanned line (barcode reader) is checked before its module is tested
    monkeypatch.setattr(sys, "stdin", io.StringIO("SN\t2\n"))
    assert main(["station", "run", "--plan", str(plan_file(tmp_path)), "--serial", "-", "--db", str(db),
                 "--quiet"]) == 2
    assert "'SN\\t2'" in capsys.readouterr().err
    with SQLiteStore(db, read_only=True) as store:
        assert store.runs() == []


def test_lot_stats_and_station_report_only_read(tmp_path, capsys, monkeypatch):
    db = results_db(tmp_path / "r.sqlite")
    before = snapshot(db)
    assert before[2] == ["r.sqlite"]
    seen = []
    real = stats_module.lot_stats

    def watching(store, **kw):        # what the directory holds while the database is open
        seen.append(sorted(os.listdir(tmp_path)))
        return real(store, **kw)

    monkeypatch.setattr(stats_module, "lot_stats", watching)
    time.sleep(0.01)
    assert main(["lot", "stats", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_modules"] == 2
    assert seen == [["r.sqlite"]]                             # no -wal, -shm or journal, even while open
    assert main(["station", "report", "--db", str(db), "--serial", "SN1", "--out", str(tmp_path / "rep")]) == 0
    assert snapshot(db)[:2] == before[:2] and not [n for n in os.listdir(tmp_path) if n.startswith("r.sqlite-")]


def test_lot_stats_reads_a_database_in_a_read_only_directory():
    """Really read-only: the directory is mode 0555 and ``lot stats`` runs as a user who cannot
    write it (as root, which writes anywhere, it drops to uid 65534 ``nobody``)."""
    top = Path(tempfile.mkdtemp(prefix="ro-lot-"))
    try:
        db = results_db(top / "r.sqlite", n_modules=3)
        os.chmod(db, 0o644)
        os.chmod(top, 0o555)
        before = snapshot(db)
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([sys.executable, "-m", "optics", "lot", "stats", "--db", str(db), "--json"],
                              capture_output=True, text=True, env=env, cwd=top, timeout=60,
                              **({"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}))
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["n_modules"] == 3
        assert snapshot(db) == before
    finally:
        os.chmod(top, 0o755)
        shutil.rmtree(top)


def test_station_run_report_and_lot_stats_on_either_back_end(tmp_path, capsys, backend):
    """``--db`` takes a file or a postgresql:// URL: a module tested into it, its report written
    again from it and the lot statistics computed from it (read-only), the same on both."""
    plan = plan_file(tmp_path)
    assert main(["station", "run", "--plan", str(plan), "--serial", "SNDB", "--db", backend.target, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "SNDB: PASS (complete)" in out
    (n_records,) = backend.sql("SELECT count(*) FROM measurements WHERE serial = 'SNDB'")[0]
    assert f"{n_records} records" in out and n_records > 0
    assert main(["station", "report", "--db", backend.target, "--serial", "SNDB", "--out", str(tmp_path / "rep")]) == 0
    assert "SNDB (PASS, complete)" in capsys.readouterr().out
    (csv,) = (tmp_path / "rep").glob("SNDB_*.csv")
    assert len(csv.read_text().strip().splitlines()) >= n_records      # a header and one line per record
    assert main(["lot", "stats", "--db", backend.target, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["yield"] == 1.0


def test_a_missing_sqlite_file_and_an_unreachable_server_are_exit_2(tmp_path, capsys):
    assert main(["lot", "stats", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "not found" in capsys.readouterr().err and not (tmp_path / "none.sqlite").exists()
    assert main(["station", "report", "--db", "postgresql:/x", "--serial", "S", "--out", str(tmp_path)]) == 2
    assert "a URL is never taken for a file path" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
