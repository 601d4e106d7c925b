"""Opening a results database on a PostgreSQL server (a real one, started by the session fixture):
a schema of another application or of a newer version is refused untouched, version 1 is migrated
forward, read-only opening writes nothing; and which ``--db`` strings are URLs and which paths."""

import os
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from optics.errors import ConfigError
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.schema import POSTGRES, SCHEMA_VERSION, schema_v1
from optics.station.store import SQLiteStore, StoreError, open_store
from optics.station.store_pg import PostgresStore


def run_record(serial="SN1", **kw):
    base = dict(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="h", station_id="st1",
                started_at_s=time.time(), toolkit_version="0.1.0")
    base.update(kw)
    return RunRecord(**base)


def sql(url, query, args=()):
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(query, args)
        return cur.fetchall() if cur.description else []


def snapshot(url):
    """What must not change in the schema: its tables and columns, and every row with the
    transaction that last wrote it (xmin)."""
    (schema,) = sql(url, "SELECT current_schema()")[0]
    cols = sql(url, "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = %s ORDER BY 1, 2", (schema,))
    rows = {t: sql(url, f"SELECT xmin::text, * FROM {t} ORDER BY 1") for t in {c[0] for c in cols}}
    return cols, rows


def test_another_applications_tables_are_refused_untouched(pg_url):
    sql(pg_url, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    sql(pg_url, "INSERT INTO customers VALUES (1, 'ACME')")
    before = snapshot(pg_url)
    for read_only in (False, True):
        with pytest.raises(StoreError, match="another application") as err:
            open_store(pg_url, read_only=read_only)
        assert "customers" in str(err.value) and isinstance(err.value, ConfigError)   # exit 2 at the command line
    assert snapshot(pg_url) == before


def test_a_station_meta_of_another_application_is_refused(pg_url):
    sql(pg_url, "CREATE TABLE station_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    sql(pg_url, "INSERT INTO station_meta VALUES ('application_id', 'ACME'), ('schema_version', '2')")
    before = snapshot(pg_url)
    with pytest.raises(StoreError, match="another application"):
        open_store(pg_url)
    assert snapshot(pg_url) == before


def test_a_newer_schema_is_refused_untouched(pg_url):
    open_store(pg_url).close()
    sql(pg_url, "UPDATE station_meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    sql(pg_url, "ALTER TABLE runs ADD COLUMN something_new TEXT")
    before = snapshot(pg_url)
    for read_only in (False, True):
        with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
            open_store(pg_url, read_only=read_only)
    assert snapshot(pg_url) == before


def test_a_version_1_schema_is_read_as_it_is_then_migrated_forward(pg_url):
    """Version 1 (no station_meta, no lease columns): read-only opening reads it unchanged; a
    station migrates it to version 2 and gives its running run one lease from then."""
    for stmt in schema_v1(POSTGRES):
        sql(pg_url, stmt)
    old = run_record(serial="SNOLD", host="bench-b", pid=1)
    sql(pg_url, "INSERT INTO runs (run_id, serial, plan_name, plan_hash, station_id, started_at_s, status, "
                "toolkit_version, bench_json, pid, host) VALUES (%s, %s, 'p', 'h', 'st', %s, 'running', 't', '{}', "
                "1, 'bench-b')", (old.run_id, old.serial, old.started_at_s))
    before = snapshot(pg_url)
    with open_store(pg_url, read_only=True) as ro:
        assert ro.schema_version == 1
        (r,) = ro.runs()
        assert r.run_id == old.run_id and r.status is RunStatus.RUNNING and r.lease_expires_at_s is None
    assert snapshot(pg_url) == before
    t = time.time()
    with open_store(pg_url, lease_s=50.0) as st:
        assert st.schema_version == SCHEMA_VERSION
        (r,) = st.runs()
    assert t + 50.0 <= r.lease_expires_at_s <= time.time() + 50.0
    meta = dict(sql(pg_url, "SELECT key, value FROM station_meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["application_id"] == "PAM4"
    assert meta["migrated_by"].startswith("optics ")


def test_read_only_opening_of_an_empty_schema_creates_nothing(pg_url):
    with pytest.raises(StoreError, match="holds no results database yet"):
        open_store(pg_url, read_only=True)
    assert snapshot(pg_url) == ([], {})


def test_a_search_path_that_names_no_schema_is_refused(pg_server):
    url = f"{pg_server.url}?options=-csearch_path%3Dno_such_schema"
    with pytest.raises(StoreError, match="search_path names does not exist"):
        open_store(url)


def test_a_server_that_does_not_answer_is_a_store_error_without_the_password():
    import socket

    with socket.socket() as s:           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.time()
    with pytest.raises(StoreError, match=f"cannot connect to the results database "
                                         f"postgresql://station@127.0.0.1:{port}/results") as err:
        open_store(f"postgresql://station:s3cret@127.0.0.1:{port}/results")
    assert "s3cret" not in str(err.value) and time.time() - t < 5.0


def test_records_survive_a_reconnection_and_read_the_same_as_sqlite(pg_url, tmp_path):
    """The same writes into both back ends read back as the same records."""
    run = run_record()
    recs = [MeasurementRecord(run_id=run.run_id, serial="SN1", step="tx", name="tdecq_db", value=1.0 + k / 3,
                              unit="dB", outcome="PASS", lane=k, temperature_c=25.0, high_limit=3.4,
                              margin=2.4 - k / 3, instruments={"scope": "KEYSIGHT"}, message="m\u00b0")
            for k in range(4)]
    out = []
    for store in (open_store(pg_url), SQLiteStore(tmp_path / "r.sqlite")):
        with store:
            store.begin_run(run)
            store.add_measurements(recs)
            store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)
        with open_store(pg_url if isinstance(store, PostgresStore) else tmp_path / "r.sqlite", read_only=True) as st:
            out.append((st.measurements(), [dataclass_without_times(r) for r in st.runs()]))
    assert out[0] == out[1] and out[0][0] == recs


def dataclass_without_times(run):
    import dataclasses

    return dataclasses.replace(run, ended_at_s=None, heartbeat_at_s=None, lease_expires_at_s=None)


# --- which --db strings are URLs, which are paths -------------------------------------------------
@pytest.mark.parametrize("target", ["postgresql:/x", "postgresql:x", "postgres:relative", "mysql://h/db",
                                    "sqlite:///r.sqlite", "file:r.sqlite", "results:2026.sqlite"])
def test_a_url_that_is_not_a_postgresql_url_is_never_taken_for_a_path(tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="a URL is never taken for a file path") as err:
        open_store(target)
    assert repr(target) in str(err.value) and f"./{target}" in str(err.value)
    assert os.listdir(tmp_path) == []                  # no file, no directory created


@pytest.mark.parametrize("target", ["./postgresql://x", "./postgresql:/x", "postgresql", "sub/postgres://h/db"])
def test_a_path_is_never_taken_for_a_url(tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    with open_store(target) as st:
        assert isinstance(st, SQLiteStore)
    assert (tmp_path / target).is_file() and (tmp_path / target).read_bytes()[:16] == b"SQLite format 3\x00"


def test_a_path_object_is_always_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store(Path("postgresql://h/db")) as st:        # pathlib collapses // : the file postgresql:/h/db
        assert isinstance(st, SQLiteStore)
    assert (tmp_path / "postgresql:" / "h" / "db").is_file()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "POSTGRESQL"])
def test_both_libpq_schemes_open_the_server(pg_server, scheme):
    url = pg_server.fresh_schema_url()
    with open_store(scheme + url[len("postgresql"):]) as st:
        assert isinstance(st, PostgresStore) and st.schema_version == SCHEMA_VERSION


def test_a_malformed_postgresql_url_is_a_store_error():
    with pytest.raises(StoreError, match="not a valid PostgreSQL URL"):
        open_store("postgresql://u@h:notaport/db?bogus_parameter=1")


def test_the_lease_keeper_outlives_a_server_that_does_not_answer(pg_url):
    """The keeper's connections refused for a while (the store's connect raises StoreError, as when
    the server is down): the thread keeps trying, and renews the lease once the server answers."""
    store = open_store(pg_url, lease_s=0.4)
    real_connect = store._leases._connect
    calls = []

    def refusing():
        calls.append(time.time())
        raise StoreError("cannot connect to the results database (server down)")

    try:
        store._leases._connect = refusing
        run = run_record(serial="SNDOWN", host="bench-b")
        store.begin_run(run)
        time.sleep(0.35)                                      # ~3 renewal periods, all refused
        assert len(calls) >= 2 and store._leases._thread.is_alive()
        store._leases._connect = real_connect
        time.sleep(0.45)                                      # past the lease begin_run gave
        ((expires,),) = sql(pg_url, "SELECT lease_expires_at_s FROM runs")
        assert expires > time.time()                          # renewed once the server answered
        assert store.runs()[0].status is RunStatus.RUNNING
    finally:
        store._leases._connect = real_connect
        store.close()
