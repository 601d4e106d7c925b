"""Opening a results database: files that are not ours are refused untouched, a newer schema is
refused before the WAL switch, the previous schema is migrated, read-only opening changes nothing."""

import hashlib
import os
import sqlite3
import time
import uuid

import pytest

from optics.errors import ConfigError
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.schema import APPLICATION_ID
from optics.station.store import SCHEMA_VERSION, SQLiteStore, StoreError


def snapshot(path):
    """What must not change: the bytes, the time stamp and the directory's file names."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def run_record(serial="SN1", **kw):
    base = dict(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="ab" * 32, station_id="st1",
                started_at_s=time.time(), toolkit_version="0.1.0")
    base.update(kw)
    return RunRecord(**base)


def foreign_database(path, journal_mode):
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA journal_mode={journal_mode}")
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers (name) VALUES ('ACME')")
    con.commit()
    con.close()


@pytest.mark.parametrize("journal_mode", ["DELETE", "WAL"])
def test_an_unrelated_sqlite_file_is_refused_and_left_unchanged(tmp_path, journal_mode):
    db = tmp_path / "crm.sqlite"
    foreign_database(db, journal_mode)
    before = snapshot(db)
    time.sleep(0.01)          # a write now would show in the time stamp
    with pytest.raises(StoreError, match="another application") as err:
        SQLiteStore(db)
    assert str(db) in str(err.value) and "customers" in str(err.value)
    assert isinstance(err.value, ConfigError)           # exit status 2 at the command line
    with pytest.raises(StoreError, match="another application"):
        SQLiteStore(db, read_only=True)
    assert snapshot(db) == before                         # no tables, no WAL switch, no -wal/-shm/-journal
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["customers"]
    con.close()


def test_another_application_id_is_refused_even_without_tables(tmp_path):
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id=1234")
    con.commit()
    con.close()
    before = snapshot(db)
    with pytest.raises(StoreError, match="application_id is 0x000004d2"):
        SQLiteStore(db)
    assert snapshot(db) == before


def test_a_file_that_is_not_sqlite_is_refused_and_left_unchanged(tmp_path):
    bad = tmp_path / "results.csv"
    bad.write_text("serial,value\nSN1,3.2\n" * 20)
    before = snapshot(bad)
    with pytest.raises(StoreError, match="not an SQLite file"):
        SQLiteStore(bad)
    assert snapshot(bad) == before


def test_a_newer_schema_is_refused_before_the_wal_switch(tmp_path):
    """A database a newer toolkit wrote (our application id, a higher schema version), in
    rollback-journal mode: refused, and its header still says rollback journal (bytes 18-19 = 1)."""
    db = tmp_path / "new.sqlite"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, something_new TEXT)")
    con.commit()
    con.close()
    before = snapshot(db)
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        SQLiteStore(db)
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        SQLiteStore(db, read_only=True)
    assert snapshot(db) == before
    assert db.read_bytes()[18:20] == b"\x01\x01"            # SQLite file format: 1 = legacy, 2 = WAL


def test_new_and_empty_files_get_our_marks(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for db in (tmp_path / "sub" / "new.sqlite", empty):
        SQLiteStore(db).close()
        header = db.read_bytes()[:100]
        assert header[68:72] == b"PAM4"                               # application_id, in the main file
        assert int.from_bytes(header[60:64], "big") == SCHEMA_VERSION   # user_version
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(con.execute("SELECT key, value FROM station_meta"))
        con.close()
        assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["created_by"].startswith("optics ")


# The schema of the previous version (HEAD before the lease columns), as it was written.
HEAD_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, serial TEXT NOT NULL, plan_name TEXT NOT NULL, plan_hash TEXT NOT NULL,
    station_id TEXT NOT NULL, started_at_s REAL NOT NULL, ended_at_s REAL, status TEXT NOT NULL, outcome TEXT,
    toolkit_version TEXT NOT NULL, bench_json TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_serial ON runs(serial, started_at_s);
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id), serial TEXT NOT NULL,
    step TEXT NOT NULL, name TEXT NOT NULL, lane INTEGER, temperature_c REAL, value REAL, unit TEXT NOT NULL,
    low_limit REAL, high_limit REAL, outcome TEXT NOT NULL, margin REAL, spec_ref TEXT NOT NULL,
    verified INTEGER NOT NULL, instruments_json TEXT NOT NULL, taken_at_s REAL NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS measurements_run ON measurements(run_id);
CREATE INDEX IF NOT EXISTS measurements_name ON measurements(name, unit);
"""


def head_database(path, t0):
    """A version-1 database as the previous toolkit left it: a complete run with a record, and a
    run left running by a station on another host."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(HEAD_SCHEMA_V1)
    con.execute("PRAGMA user_version=1")
    con.execute("INSERT INTO runs VALUES ('r-done','SNOLD','p','h','st-a',?,?,'complete','PASS','0.1.0','{}',1,"
                "'bench-a','')", (t0, t0 + 60))
    con.execute("INSERT INTO runs VALUES ('r-left','SNLEFT','p','h','st-b',?,NULL,'running',NULL,'0.1.0','{}',1,"
                "'bench-b','')", (t0 + 100,))
    con.execute("INSERT INTO measurements (run_id, serial, step, name, lane, value, unit, high_limit, outcome, "
                "margin, spec_ref, verified, instruments_json, taken_at_s, message) VALUES "
                "('r-done','SNOLD','tx','tdecq_db',0,2.5,'dB',3.4,'PASS',0.9,'121.8.5',1,'{}',?, '')", (t0 + 30,))
    con.close()


def test_a_database_of_the_previous_schema_is_read_only_readable_then_migrated(tmp_path):
    db = tmp_path / "v1.sqlite"
    t0 = time.time() - 3600.0
    head_database(db, t0)
    before = snapshot(db)
    with SQLiteStore(db, read_only=True) as store:        # read as it is, not migrated
        assert [r.run_id for r in store.runs()] == ["r-done", "r-left"]
        assert store.runs(serial="SNLEFT")[0].status is RunStatus.RUNNING   # another host: no lease to judge
    assert snapshot(db) == before
    lease_s = 120.0
    start = time.time()
    with SQLiteStore(db, lease_s=lease_s) as store:
        done, left = store.runs()
        (m,) = store.measurements(run_id="r-done")
        assert (done.status, done.outcome, done.ended_at_s) == (RunStatus.COMPLETE, Outcome.PASS, t0 + 60)
        assert (m.name, m.value, m.high_limit, m.margin) == ("tdecq_db", 2.5, 3.4, 0.9)
        # the run the previous version left running gets one lease from the migration
        assert left.status is RunStatus.RUNNING and left.heartbeat_at_s == t0 + 100
        assert start + lease_s <= left.lease_expires_at_s <= time.time() + lease_s
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    cols = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
    meta = dict(con.execute("SELECT key, value FROM station_meta"))
    con.close()
    assert {"heartbeat_at_s", "lease_expires_at_s"} <= cols and meta["schema_version"] == str(SCHEMA_VERSION)
    SQLiteStore(db).close()                                # opening again: nothing more to migrate


def test_a_version_1_user_version_on_foreign_tables_is_not_taken_for_ours(tmp_path):
    db = tmp_path / "v1ish.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runs (id INTEGER)")
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    before = snapshot(db)
    with pytest.raises(StoreError, match="another application"):
        SQLiteStore(db)
    assert snapshot(db) == before


def make_db(path):
    with SQLiteStore(path) as store:
        run = run_record()
        store.begin_run(run)
        store.add_measurement(MeasurementRecord(run_id=run.run_id, serial="SN1", step="tx", name="tdecq_db",
                                                value=2.0, unit="dB", outcome="PASS", lane=0))
        store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)
    return run


def test_read_only_opening_changes_nothing(tmp_path):
    db = tmp_path / "r.sqlite"
    run = make_db(db)
    before = snapshot(db)
    assert before[2] == ["r.sqlite"]
    time.sleep(0.01)
    with SQLiteStore(db, read_only=True) as store:
        assert sorted(os.listdir(tmp_path)) == ["r.sqlite"]          # no -wal, -shm or journal, even while open
        (back,) = store.runs()
        assert back.run_id == run.run_id and [m.value for m in store.measurements()] == [2.0]
        with pytest.raises(StoreError, match="read-only"):
            store.begin_run(run_record(serial="SN2"))
    assert snapshot(db) == before


def test_read_only_opening_reads_a_database_a_station_is_writing(tmp_path):
    """While a writer has the database open (its -wal holds the latest records), a read-only
    store reads them under SQLite's locks and creates no file."""
    db = tmp_path / "r.sqlite"
    with SQLiteStore(db) as writer:
        run = run_record()
        writer.begin_run(run)
        writer.add_measurement(MeasurementRecord(run_id=run.run_id, serial="SN1", step="tx", name="x", value=1.0,
                                                 unit="dB", outcome="PASS"))
        names = sorted(os.listdir(tmp_path))
        assert names == ["r.sqlite", "r.sqlite-shm", "r.sqlite-wal"]
        with SQLiteStore(db, read_only=True) as reader:
            assert [m.value for m in reader.measurements()] == [1.0]
            assert reader.runs()[0].status is RunStatus.RUNNING
        assert sorted(os.listdir(tmp_path)) == names


def test_read_only_opening_of_a_missing_file_creates_nothing(tmp_path):
    with pytest.raises(StoreError, match="not found"):
        SQLiteStore(tmp_path / "none.sqlite", read_only=True)
    assert os.listdir(tmp_path) == []
