"""The results store: where a station commits every record the moment it is taken.

:class:`ResultStore` is the small interface the runner and the statistics use;
:class:`SQLiteStore` is the default implementation (one file, WAL mode).  A server database
can replace it by implementing the same methods, without touching the runner.

Schema (version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version`` and the
``station_meta`` table; ``PRAGMA application_id`` marks the file as a results database,
:mod:`optics.station.schema`)::

    runs(run_id TEXT PRIMARY KEY, serial, plan_name, plan_hash, station_id,
         started_at_s REAL, ended_at_s REAL, status TEXT, outcome TEXT,
         toolkit_version, bench_json, pid INTEGER, host TEXT, note TEXT,
         heartbeat_at_s REAL, lease_expires_at_s REAL)
    measurements(id INTEGER PRIMARY KEY, run_id REFERENCES runs, serial, step, name,
         lane INTEGER, temperature_c REAL, value REAL, unit, low_limit REAL, high_limit REAL,
         outcome TEXT, margin REAL, spec_ref TEXT, verified INTEGER,
         instruments_json TEXT, taken_at_s REAL, message TEXT)

Opening: a file that is not a results database of this toolkit (another application's SQLite
file, not SQLite at all) or one of a newer schema version is refused with
:class:`StoreError` before anything is written -- not even the switch to WAL -- and keeps its
bytes, its time stamp and its directory as they were; a database of the previous schema
version is migrated.  ``read_only=True`` (``optics lot stats``, ``optics station report``)
changes nothing at all and works in a read-only directory.

Concurrency: every write is its own short ``BEGIN IMMEDIATE`` transaction, committed before
the call returns, with a busy timeout, so several station processes can write one file at
once.  A run left ``running`` by a station that is gone -- its process on this host ended
(killed, crashed), or its lease ran out (:mod:`optics.station.lease`: a crash on another
host) -- is reported as ``incomplete`` with outcome ``ERROR``; the next run of its serial
closes it so in the file (:meth:`SQLiteStore.begin_run`), as does
:meth:`SQLiteStore.close_stale_runs` for this host's runs.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optics.errors import InvalidParameter
from optics.station.lease import DEFAULT_LEASE_S, PROCESS_ENDED_NOTE, LeaseKeeper, renew, stale_reason
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, validate_serial
from optics.station.schema import (
    SCHEMA_VERSION,
    StoreError,
    classify,
    connect_read_only,
    initialise,
    inspect_file,
    refuse_newer,
)

_MEAS_COLUMNS = (
    "run_id", "serial", "step", "name", "lane", "temperature_c", "value", "unit", "low_limit",
    "high_limit", "outcome", "margin", "spec_ref", "verified", "instruments_json", "taken_at_s",
    "message",
)

_RUN_COLUMNS = (
    "run_id", "serial", "plan_name", "plan_hash", "station_id", "started_at_s", "ended_at_s", "status",
    "outcome", "toolkit_version", "bench_json", "pid", "host", "note", "heartbeat_at_s", "lease_expires_at_s",
)


class ResultStore(abc.ABC):
    """Interface between the station runner / statistics and a database."""

    @abc.abstractmethod
    def begin_run(self, run: RunRecord) -> list[RunRecord]:
        """Record the start of a run (committed on return); returns the runs of its serial it
        closed as stale (left running by a station that is gone), with the note saying why."""

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


class SQLiteStore(ResultStore):
    """Results in one SQLite file (WAL mode), safe for several writer processes.

    Parameters
    ----------
    path : str or Path
        Database file; created with the current schema if absent (or empty), migrated if of
        the previous schema version.
    timeout_s : float
        How long a writer waits for another one's lock before failing.
    lease_s : float
        Lease of the runs this store begins, s (:mod:`optics.station.lease`): renewed with
        every record and every ``lease_s / 4`` while the run is open; a run of another host
        whose lease ran out counts as crashed.
    read_only : bool
        Only read: the file must exist; nothing is written (no schema, no migration, no WAL
        switch, no ``-wal``/``-shm`` file), so a database in a read-only directory can be read.

    Raises
    ------
    StoreError
        The file is not a results database of this toolkit, is of a newer schema version, or
        (``read_only``) does not exist or needs a migration it may not write; the file is
        left unchanged.
    InvalidParameter
        ``timeout_s`` or ``lease_s`` not a positive number.

    Examples
    --------
    >>> with SQLiteStore("results.sqlite", read_only=True) as store:   # doctest: +SKIP
    ...     runs = store.runs(serial="DR800001")
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 60.0, lease_s: float = DEFAULT_LEASE_S,
                 read_only: bool = False) -> None:
        for name, value in (("timeout_s", timeout_s), ("lease_s", lease_s)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise InvalidParameter(f"{name} = {value!r} must be a finite number of seconds > 0")
        self.path = Path(path)
        self.read_only = bool(read_only)
        self.lease_s = float(lease_s)
        self._host = socket.gethostname()
        self._leases = LeaseKeeper(self.path, lease_s=self.lease_s, timeout_s=timeout_s)
        if self.read_only:
            self._open_read_only(timeout_s)
        else:
            self._open_read_write(timeout_s)

    def _open_read_only(self, timeout_s: float) -> None:
        if not self.path.is_file():
            raise StoreError(f"results database {self.path} not found")
        self._conn = connect_read_only(self.path, timeout_s)
        try:
            self.schema_version = classify(self._conn, self.path)
            if self.schema_version == 0:
                raise StoreError(f"{self.path} holds no results database yet (no tables)")
            refuse_newer(self.path, self.schema_version)
        except BaseException:
            self._conn.close()
            raise

    def _open_read_write(self, timeout_s: float) -> None:
        # what the file is, decided read-only: a file this store refuses is never written
        refuse_newer(self.path, inspect_file(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
        try:
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            with self._write() as c:
                initialise(c, self.path, lease_s=self.lease_s)
            self.schema_version = SCHEMA_VERSION
            # only a database that is ours and of this version is switched to WAL
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self.path} is not a usable results database: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    # --- plumbing --------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; it cannot be written")
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

    def close(self) -> None:
        """Stop renewing leases and close the connection (records are already committed)."""
        self._leases.close()
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes ------------------------------------------------------------------------
    def begin_run(self, run: RunRecord) -> list[RunRecord]:
        """Record the start of ``run`` with a lease of :attr:`lease_s`; in the same transaction,
        close the stale runs of its serial (left running by a station that is gone: process
        ended on this host, or lease expired) ``incomplete`` / ``ERROR`` with a note naming
        this run, and return them.

        Raises
        ------
        InvalidParameter
            The serial is refused by :func:`~optics.station.records.validate_serial`.
        """
        validate_serial(run.serial)
        pid = run.pid or os.getpid()
        now = time.time()
        with self._write() as c:
            closed = self._close_stale(c, serial=run.serial, closer=run, now_s=now)
            c.execute(
                f"INSERT INTO runs ({','.join(_RUN_COLUMNS)}) VALUES ({','.join('?' * len(_RUN_COLUMNS))})",
                (run.run_id, run.serial, run.plan_name, run.plan_hash, run.station_id,
                 run.started_at_s, run.ended_at_s, run.status.value,
                 run.outcome.value if run.outcome else None, run.toolkit_version,
                 json.dumps(dict(run.bench), sort_keys=True, default=str),
                 pid, run.host or self._host, run.note, now, now + self.lease_s),
            )
        if run.status is RunStatus.RUNNING and pid == os.getpid():
            self._leases.hold(run.run_id)     # this process runs it: keep it alive between records
        return closed

    def add_measurement(self, record: MeasurementRecord) -> None:
        self.add_measurements([record])

    def add_measurements(self, records: Iterable[MeasurementRecord]) -> None:
        """Commit several records in one transaction (all or none); renews their runs' leases."""
        records = list(records)
        rows = [self._row(r) for r in records]
        if not rows:
            return
        with self._write() as c:
            c.executemany(
                f"INSERT INTO measurements ({','.join(_MEAS_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(_MEAS_COLUMNS))})",
                rows,
            )
            renew(c, dict.fromkeys(r.run_id for r in records), lease_s=self.lease_s)

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
        self._leases.release(run_id)

    def close_stale_runs(self) -> list[str]:
        """Mark ``running`` runs of this host whose process is gone as incomplete.

        Returns the run ids that were closed.  Their measurements stay as they were.
        """
        with self._write() as c:
            return [r.run_id for r in self._close_stale(c, host=self._host, now_s=time.time())]

    def _close_stale(self, c: sqlite3.Connection, *, now_s: float, serial: str | None = None,
                     host: str | None = None, closer: RunRecord | None = None) -> list[RunRecord]:
        """Close the stale running runs (of ``serial`` / of ``host``) inside the transaction ``c``:
        incomplete, outcome ERROR unless set, ended at their last heartbeat, the reason as note."""
        where = ["status = 'running'"]
        args: list[Any] = []
        if serial is not None:
            where.append("serial = ?")
            args.append(serial)
        if host is not None:
            where.append("host = ?")
            args.append(host)
        closed = []
        for run in self._select_runs(c, " WHERE " + " AND ".join(where), args):
            reason = stale_reason(run, now_s=now_s, this_host=self._host)
            if reason is None or (host is not None and reason != PROCESS_ENDED_NOTE):
                continue
            if closer is not None:
                reason += f"; closed incomplete by run {closer.run_id} (station {closer.station_id!r})"
            c.execute("UPDATE runs SET status = 'incomplete', outcome = COALESCE(outcome, 'ERROR'), "
                      "ended_at_s = COALESCE(ended_at_s, heartbeat_at_s), note = ? "
                      "WHERE run_id = ? AND status = 'running'", (reason, run.run_id))
            closed.append(_as_closed(run, reason))
        return closed

    # --- reads -------------------------------------------------------------------------
    def runs(self, *, serial: str | None = None, plan_name: str | None = None,
             since_s: float | None = None) -> list[RunRecord]:
        where, args = self._filters(serial=serial, plan_name=plan_name, since_s=since_s,
                                    time_col="started_at_s")
        now = time.time()
        out = []
        for run in self._select_runs(self._conn, where, args):
            reason = stale_reason(run, now_s=now, this_host=self._host)
            out.append(run if reason is None else _as_closed(run, run.note or reason))   # as _close_stale marks it
        return out

    def _select_runs(self, c: sqlite3.Connection, where: str, args: Sequence[Any]) -> list[RunRecord]:
        # a version-1 database opened read-only has no lease columns
        cols = _RUN_COLUMNS if self.schema_version >= 2 else _RUN_COLUMNS[:-2] + ("NULL", "NULL")
        out = []
        for row in c.execute(f"SELECT {', '.join(cols)} FROM runs{where} ORDER BY started_at_s, rowid", args):
            d = dict(zip(_RUN_COLUMNS, row))
            d["bench"] = json.loads(d.pop("bench_json"))
            out.append(RunRecord(**d))
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


def _as_closed(run: RunRecord, note: str) -> RunRecord:
    """A stale running run as closed: incomplete, ERROR unless it had an outcome, ended at its
    last heartbeat (its last sign of life)."""
    return dataclasses.replace(
        run, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR if run.outcome is None else run.outcome,
        ended_at_s=run.heartbeat_at_s if run.ended_at_s is None else run.ended_at_s, note=note)


__all__ = ["SCHEMA_VERSION", "ResultStore", "SQLiteStore", "StoreError"]
