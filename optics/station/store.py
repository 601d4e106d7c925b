"""The results store: where a station commits every record the moment it is taken.

:class:`ResultStore` is the small interface the runner and the statistics use;
:class:`SQLiteStore` is the default implementation (one file, WAL mode).  A server database
can replace it by implementing the same methods, without touching the runner.

Schema (version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version``)::

    runs(run_id TEXT PRIMARY KEY, serial, plan_name, plan_hash, station_id,
         started_at_s REAL, ended_at_s REAL, status TEXT, outcome TEXT,
         toolkit_version, bench_json, pid INTEGER, host TEXT, note TEXT)
    measurements(id INTEGER PRIMARY KEY, run_id REFERENCES runs, serial, step, name,
         lane INTEGER, temperature_c REAL, value REAL, unit, low_limit REAL, high_limit REAL,
         outcome TEXT, margin REAL, spec_ref TEXT, verified INTEGER,
         instruments_json TEXT, taken_at_s REAL, message TEXT)

Concurrency: every write is its own short ``BEGIN IMMEDIATE`` transaction, committed before
the call returns, with a busy timeout, so several station processes can write one file at
once.  A run left ``running`` by a process that no longer exists (killed, crashed) is
reported as ``incomplete`` with outcome ``ERROR`` and is marked so by
:meth:`SQLiteStore.close_stale_runs`.
"""

from __future__ import annotations

import abc
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optics.errors import ConfigError, InvalidParameter
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    serial TEXT NOT NULL,
    plan_name TEXT NOT NULL,
    plan_hash TEXT NOT NULL,
    station_id TEXT NOT NULL,
    started_at_s REAL NOT NULL,
    ended_at_s REAL,
    status TEXT NOT NULL,
    outcome TEXT,
    toolkit_version TEXT NOT NULL,
    bench_json TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_serial ON runs(serial, started_at_s);
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    serial TEXT NOT NULL,
    step TEXT NOT NULL,
    name TEXT NOT NULL,
    lane INTEGER,
    temperature_c REAL,
    value REAL,
    unit TEXT NOT NULL,
    low_limit REAL,
    high_limit REAL,
    outcome TEXT NOT NULL,
    margin REAL,
    spec_ref TEXT NOT NULL,
    verified INTEGER NOT NULL,
    instruments_json TEXT NOT NULL,
    taken_at_s REAL NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS measurements_run ON measurements(run_id);
CREATE INDEX IF NOT EXISTS measurements_name ON measurements(name, unit);
"""

_MEAS_COLUMNS = (
    "run_id", "serial", "step", "name", "lane", "temperature_c", "value", "unit", "low_limit",
    "high_limit", "outcome", "margin", "spec_ref", "verified", "instruments_json", "taken_at_s",
    "message",
)


class ResultStore(abc.ABC):
    """Interface between the station runner / statistics and a database."""

    @abc.abstractmethod
    def begin_run(self, run: RunRecord) -> None:
        """Record the start of a run (committed on return)."""

    @abc.abstractmethod
    def add_measurement(self, record: MeasurementRecord) -> None:
        """Commit one measurement record (on return it survives a crash)."""

    @abc.abstractmethod
    def end_run(self, run_id: str, *, status: RunStatus, outcome: Outcome, note: str = "") -> None:
        """Close a run with its status and overall outcome."""

    @abc.abstractmethod
    def runs(self, *, serial: str | None = None, plan_name: str | None = None,
             since_s: float | None = None) -> list[RunRecord]:
        """Runs, oldest first, with stale ``running`` runs reported as incomplete."""

    @abc.abstractmethod
    def measurements(self, *, run_id: str | None = None, plan_name: str | None = None,
                     since_s: float | None = None) -> list[MeasurementRecord]:
        """Measurement records, in the order they were taken (``since_s``: of the runs started at
        or after it, the same runs as :meth:`runs` selects)."""


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SQLiteStore(ResultStore):
    """Results in one SQLite file (WAL mode), safe for several writer processes.

    Parameters
    ----------
    path : str or Path
        Database file; created with the current schema if absent.
    timeout_s : float
        How long a writer waits for another one's lock before failing.

    Raises
    ------
    ConfigError
        The file holds a database of another schema version, or is not a database.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 60.0) -> None:
        if timeout_s <= 0:
            raise InvalidParameter(f"timeout_s = {timeout_s} must be > 0")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None,
                                     check_same_thread=False)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            self._ensure_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ConfigError(f"{self.path} is not a usable results database: {exc}") from None

    # --- plumbing --------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._conn.in_transaction:
            # an earlier write was interrupted (SIGTERM / Ctrl-C between its BEGIN and its COMMIT or
            # during its ROLLBACK): drop its uncommitted half, or no later write could begin
            self._conn.execute("ROLLBACK")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    def _ensure_schema(self) -> None:
        with self._write() as c:
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    c.execute(stmt)
                c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.path} has results schema version {version}; this toolkit reads version "
                    f"{SCHEMA_VERSION}"
                )

    def close(self) -> None:
        """Close the connection (records are already committed)."""
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes ------------------------------------------------------------------------
    def begin_run(self, run: RunRecord) -> None:
        with self._write() as c:
            c.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.run_id, run.serial, run.plan_name, run.plan_hash, run.station_id,
                 run.started_at_s, run.ended_at_s, run.status.value,
                 run.outcome.value if run.outcome else None, run.toolkit_version,
                 json.dumps(dict(run.bench), sort_keys=True, default=str),
                 run.pid or os.getpid(), run.host or socket.gethostname(), run.note),
            )

    def add_measurement(self, record: MeasurementRecord) -> None:
        self.add_measurements([record])

    def add_measurements(self, records: Iterable[MeasurementRecord]) -> None:
        """Commit several records in one transaction (all or none)."""
        rows = [self._row(r) for r in records]
        if not rows:
            return
        with self._write() as c:
            c.executemany(
                f"INSERT INTO measurements ({','.join(_MEAS_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(_MEAS_COLUMNS))})",
                rows,
            )

    @staticmethod
    def _row(r: MeasurementRecord) -> tuple[Any, ...]:
        return (
            r.run_id, r.serial, r.step, r.name, r.lane, r.temperature_c, r.value, r.unit,
            r.low_limit, r.high_limit, r.outcome.value, r.margin, r.spec_ref, int(r.verified),
            json.dumps(dict(r.instruments), sort_keys=True), r.taken_at_s, r.message,
        )

    def end_run(self, run_id: str, *, status: RunStatus, outcome: Outcome, note: str = "") -> None:
        with self._write() as c:
            cur = c.execute(
                "UPDATE runs SET status=?, outcome=?, ended_at_s=?, note=? WHERE run_id=?",
                (RunStatus(status).value, Outcome.parse(outcome).value, time.time(), note, run_id),
            )
            if cur.rowcount != 1:
                raise InvalidParameter(f"no run with run_id {run_id!r} in {self.path}")

    def close_stale_runs(self) -> list[str]:
        """Mark ``running`` runs of this host whose process is gone as incomplete.

        Returns the run ids that were closed.  Their measurements stay as they were.
        """
        host = socket.gethostname()
        stale = [
            rid for rid, pid in self._conn.execute(
                "SELECT run_id, pid FROM runs WHERE status='running' AND host=?", (host,)
            )
            if not _pid_alive(pid)
        ]
        for rid in stale:
            with self._write() as c:
                c.execute(
                    "UPDATE runs SET status='incomplete', outcome=COALESCE(outcome,'ERROR'), "
                    "note='station process ended before closing the run' "
                    "WHERE run_id=? AND status='running'",
                    (rid,),
                )
        return stale

    # --- reads -------------------------------------------------------------------------
    def runs(self, *, serial: str | None = None, plan_name: str | None = None,
             since_s: float | None = None) -> list[RunRecord]:
        where, args = self._filters(serial=serial, plan_name=plan_name, since_s=since_s,
                                    time_col="started_at_s")
        host = socket.gethostname()
        out = []
        for row in self._conn.execute(
            f"SELECT run_id, serial, plan_name, plan_hash, station_id, started_at_s, ended_at_s, "
            f"status, outcome, toolkit_version, bench_json, pid, host, note FROM runs{where} "
            f"ORDER BY started_at_s, rowid",
            args,
        ):
            (rid, sn, plan, ph, st, t0, t1, status, outcome, ver, bench, pid, rhost, note) = row
            if status == RunStatus.RUNNING.value and rhost == host and not _pid_alive(pid):
                status = RunStatus.INCOMPLETE.value     # as close_stale_runs would mark it
                outcome = outcome or Outcome.ERROR.value
                note = note or "station process ended before closing the run"
            out.append(RunRecord(
                run_id=rid, serial=sn, plan_name=plan, plan_hash=ph, station_id=st,
                started_at_s=t0, ended_at_s=t1, status=RunStatus(status), outcome=outcome,
                toolkit_version=ver, bench=json.loads(bench), pid=pid, host=rhost, note=note,
            ))
        return out

    def measurements(self, *, run_id: str | None = None, plan_name: str | None = None,
                     since_s: float | None = None) -> list[MeasurementRecord]:
        out = []
        for row in self._measurement_rows(run_id=run_id, plan_name=plan_name, since_s=since_s):
            d = dict(zip(_MEAS_COLUMNS, row))
            d["instruments"] = json.loads(d.pop("instruments_json"))
            d["verified"] = bool(d["verified"])
            out.append(MeasurementRecord(**d))
        return out

    def measurement_columns(self, *, plan_name: str | None = None,
                            since_s: float | None = None) -> dict[str, list[Any]]:
        """Measurements as columns (name -> list), the fast path for lot statistics."""
        rows = self._measurement_rows(plan_name=plan_name, since_s=since_s)
        cols: dict[str, list[Any]] = {c: [] for c in _MEAS_COLUMNS}
        for row in rows:
            for c, v in zip(_MEAS_COLUMNS, row):
                cols[c].append(v)
        return cols

    def _measurement_rows(self, *, run_id: str | None = None, plan_name: str | None = None,
                          since_s: float | None = None) -> Sequence[tuple[Any, ...]]:
        clauses, args = [], []
        if run_id is not None:
            clauses.append("m.run_id = ?")
            args.append(run_id)
        if plan_name is not None:
            clauses.append("r.plan_name = ?")
            args.append(plan_name)
        if since_s is not None:   # whole runs, as runs(since_s=...): no late records of an older run
            clauses.append("r.started_at_s >= ?")
            args.append(float(since_s))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        cols = ",".join(f"m.{c}" for c in _MEAS_COLUMNS)
        return self._conn.execute(
            f"SELECT {cols} FROM measurements m JOIN runs r ON r.run_id = m.run_id{where} ORDER BY m.id",
            args,
        ).fetchall()

    @staticmethod
    def _filters(*, serial: str | None, plan_name: str | None, since_s: float | None,
                 time_col: str) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if serial is not None:
            clauses.append("serial = ?")
            args.append(serial)
        if plan_name is not None:
            clauses.append("plan_name = ?")
            args.append(plan_name)
        if since_s is not None:
            clauses.append(f"{time_col} >= ?")
            args.append(float(since_s))
        return ((" WHERE " + " AND ".join(clauses)) if clauses else ""), args
