"""The results store: where a station commits every record the moment it is taken.

:class:`ResultStore` is the small interface the runner and the statistics use, with two back
ends sharing its SQL (:class:`SQLResultStore`): :class:`SQLiteStore`, the embedded default (one
file, WAL mode), and :class:`~optics.station.store_pg.PostgresStore`, a PostgreSQL server the
stations of a line share (same schema, same guarantees).  :func:`open_store` opens either from
what ``--db`` says: a ``postgresql://`` URL or a file path, never one taken for the other.

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
:meth:`SQLiteStore.close_stale_runs` for this host's runs.  The PostgreSQL store does the same
on the server (:mod:`optics.station.store_pg`).
"""

from __future__ import annotations

import abc
import dataclasses
import json
import math
import os
import socket
import sqlite3
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from optics.errors import InvalidParameter
from optics.station.lease import DEFAULT_LEASE_S, PROCESS_ENDED_NOTE, LeaseKeeper, renew, stale_reason
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, validate_serial
from optics.station.schema import (
    SCHEMA_VERSION,
    SQLITE,
    Dialect,
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
    """Interface between the station runner / statistics and a database.

    Two implementations: :class:`SQLiteStore` (one file, the default) and
    :class:`~optics.station.store_pg.PostgresStore` (a PostgreSQL server many stations share);
    :func:`open_store` picks one from a path or a ``postgresql://`` URL.  Both are context
    managers that :meth:`close` on exit.
    """

    #: Schema version of the open database (:data:`SCHEMA_VERSION` once written to).
    schema_version: int
    #: The open database as shown in messages: a file path, or a URL without its password.
    location: str
    read_only: bool

    @abc.abstractmethod
    def begin_run(self, run: RunRecord) -> list[RunRecord]:
        """Record the start of a run (committed on return); returns the runs of its serial it
        closed as stale (left running by a station that is gone), with the note saying why."""

    @abc.abstractmethod
    def add_measurement(self, record: MeasurementRecord) -> None:
        """Commit one measurement record (on return it survives a crash)."""

    @abc.abstractmethod
    def add_measurements(self, records: Iterable[MeasurementRecord]) -> None:
        """Commit several records in one transaction (all or none)."""

    @abc.abstractmethod
    def end_run(self, run_id: str, *, status: RunStatus, outcome: Outcome, note: str = "") -> None:
        """Close a run with its status and overall outcome."""

    @abc.abstractmethod
    def close_stale_runs(self) -> list[str]:
        """Close the ``running`` runs of this host whose process is gone; their run ids."""

    @abc.abstractmethod
    def runs(self, *, serial: str | None = None, plan_name: str | None = None,
             since_s: float | None = None) -> list[RunRecord]:
        """Runs, oldest first, with stale ``running`` runs reported as incomplete."""

    @abc.abstractmethod
    def measurements(self, *, run_id: str | None = None, plan_name: str | None = None,
                     since_s: float | None = None) -> list[MeasurementRecord]:
        """Measurement records, in the order they were taken (``since_s``: of the runs started at
        or after it, the same runs as :meth:`runs` selects)."""

    @abc.abstractmethod
    def measurement_columns(self, *, plan_name: str | None = None,
                            since_s: float | None = None) -> dict[str, list[Any]]:
        """The records :meth:`measurements` selects as columns (column name -> list, the
        database's values: outcomes as text, ``instruments_json`` as JSON text)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop renewing leases and close the connection (records are already committed)."""

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SQLResultStore(ResultStore):
    """What both back ends share: the SQL of every write and read over a DB-API connection
    ``_conn`` in autocommit mode, its parameter marker and types in :attr:`dialect`.

    A subclass opens the connection, sets :attr:`schema_version`, :attr:`location`,
    :attr:`lease_s`, ``_host`` and ``_leases`` (a :class:`~optics.station.lease.LeaseKeeper`)
    and provides :meth:`_write`: one committed transaction, serialised with the other writers
    where :meth:`begin_run` needs it (the stale runs of a serial closed and the new run inserted
    as one step).
    """

    dialect: Dialect
    lease_s: float
    _host: str
    _leases: LeaseKeeper
    _conn: Any

    @abc.abstractmethod
    def _write(self, *, serial: str | None = None) -> AbstractContextManager[Any]:
        """A write transaction on ``_conn`` (committed when the block ends, rolled back if it
        raises); ``serial``: exclusive of any other writer's transaction for that serial."""

    def _q(self, text: str) -> str:
        return self.dialect.sql(text)

    def sql(self, text: str) -> str:
        """``text``, written with ``?`` parameter markers, in this back end's marker (``%s`` for
        psycopg), for queries on :meth:`connection`."""
        return self.dialect.sql(text)

    def connection(self) -> Any:
        """The store's DB-API connection (``sqlite3`` or ``psycopg``, autocommit; read-only
        when the store is), for reads its methods do not cover -- e.g. a lot's records coded
        and aggregated by the database.  Write only through the store's methods: they keep the
        leases and the one-transaction-per-record guarantee."""
        return self._conn

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
        with self._write(serial=run.serial) as c:
            closed = self._close_stale(c, serial=run.serial, closer=run, now_s=now)
            c.execute(
                self._q(f"INSERT INTO runs ({','.join(_RUN_COLUMNS)}) VALUES ({','.join('?' * len(_RUN_COLUMNS))})"),
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
            c.cursor().executemany(
                self._q(f"INSERT INTO measurements ({','.join(_MEAS_COLUMNS)}) "
                        f"VALUES ({','.join('?' * len(_MEAS_COLUMNS))})"),
                rows,
            )
            renew(c, dict.fromkeys(r.run_id for r in records), lease_s=self.lease_s, param=self.dialect.param)

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
                self._q("UPDATE runs SET status=?, outcome=?, ended_at_s=?, note=? WHERE run_id=?"),
                (RunStatus(status).value, Outcome.parse(outcome).value, time.time(), note, run_id),
            )
            if cur.rowcount != 1:
                raise InvalidParameter(f"no run with run_id {run_id!r} in {self.location}")
        self._leases.release(run_id)

    def close_stale_runs(self) -> list[str]:
        """Mark ``running`` runs of this host whose process is gone as incomplete.

        Returns the run ids that were closed.  Their measurements stay as they were.
        """
        with self._write() as c:
            return [r.run_id for r in self._close_stale(c, host=self._host, now_s=time.time())]

    def _close_stale(self, c: Any, *, now_s: float, serial: str | None = None,
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
            c.execute(self._q("UPDATE runs SET status = 'incomplete', outcome = COALESCE(outcome, 'ERROR'), "
                              "ended_at_s = COALESCE(ended_at_s, heartbeat_at_s), note = ? "
                              "WHERE run_id = ? AND status = 'running'"), (reason, run.run_id))
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

    def _select_runs(self, c: Any, where: str, args: Sequence[Any]) -> list[RunRecord]:
        # a version-1 database opened read-only has no lease columns
        cols = _RUN_COLUMNS if self.schema_version >= 2 else _RUN_COLUMNS[:-2] + ("NULL", "NULL")
        out = []
        query = f"SELECT {', '.join(cols)} FROM runs{where} ORDER BY started_at_s, {self.dialect.run_order}"
        for row in c.execute(self._q(query), args).fetchall():
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
        if not rows:
            return {c: [] for c in _MEAS_COLUMNS}
        return {c: list(col) for c, col in zip(_MEAS_COLUMNS, zip(*rows))}

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
            self._q(f"SELECT {cols} FROM measurements m JOIN runs r ON r.run_id = m.run_id{where} ORDER BY m.id"),
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


class SQLiteStore(SQLResultStore):
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

    dialect = SQLITE

    def __init__(self, path: str | os.PathLike[str], *, timeout_s: float = 60.0, lease_s: float = DEFAULT_LEASE_S,
                 read_only: bool = False) -> None:
        check_seconds(timeout_s=timeout_s, lease_s=lease_s)
        self.path = Path(path)
        self.location = str(self.path)
        self.read_only = bool(read_only)
        self.lease_s = float(lease_s)
        self._host = socket.gethostname()
        self._leases = LeaseKeeper(
            self.path.name, lease_s=self.lease_s, timeout_s=timeout_s, errors=(sqlite3.Error,),
            connect=lambda: sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None))
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

    @contextmanager
    def _write(self, *, serial: str | None = None) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the file's one write lock: every write is serialised, a serial's too
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


def check_seconds(**values: float) -> None:
    """Raise :class:`InvalidParameter` unless every value is a finite number of seconds > 0."""
    for name, value in values.items():
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and value > 0):
            raise InvalidParameter(f"{name} = {value!r} must be a finite number of seconds > 0")


#: URL schemes of a PostgreSQL server (libpq's two spellings).
POSTGRES_SCHEMES = ("postgresql", "postgres")

# a URL's scheme as RFC 3986 spells it; 2+ characters, so that a Windows drive (C:\x) stays a path
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")


def open_store(target: str | os.PathLike[str], *, read_only: bool = False, **options: Any) -> ResultStore:
    """Open the results store ``target`` names: a PostgreSQL server or an SQLite file.

    Parameters
    ----------
    target : str or path-like
        ``postgresql://user@host:port/dbname`` (or ``postgres://``, libpq's URL with its query
        parameters, e.g. ``?options=-csearch_path%3Dline3``):
        :class:`~optics.station.store_pg.PostgresStore`.  Anything else is a file path:
        :class:`SQLiteStore`.  A URL is never taken for a file path: a string that starts with
        a URL scheme (``name:``) but is not a PostgreSQL URL (``postgresql:/x``,
        ``mysql://h/db``, ``sqlite:///x``) is refused.  A path object is always a path, and a
        file whose name starts like a URL is reached as ``./postgresql:x``.
    read_only : bool
        Only read (``optics lot stats``, ``optics station report``): nothing is created,
        migrated or written.
    **options
        ``timeout_s``, ``lease_s`` of either store.

    Returns
    -------
    ResultStore

    Raises
    ------
    StoreError
        A string with a URL scheme that is not a PostgreSQL URL; or the store refuses the
        database (see the two stores).

    Examples
    --------
    >>> with open_store("postgresql://station@db.line3:5432/results") as store:   # doctest: +SKIP
    ...     runs = store.runs(serial="DR800001")
    """
    if isinstance(target, str):
        m = _SCHEME.match(target)
        if m is not None:
            scheme = m.group(1).lower()
            if scheme in POSTGRES_SCHEMES and target[m.end():].startswith("//"):
                from optics.station.store_pg import PostgresStore

                # schemes are case-insensitive (RFC 3986), libpq's parser is not
                return PostgresStore(scheme + target[m.end(1):], read_only=read_only, **options)
            raise StoreError(
                f"results database {target!r} starts with the URL scheme {m.group(1)!r} but is not a "
                "PostgreSQL URL (postgresql://user@host:port/dbname); a URL is never taken for a file "
                f"path: for a file of that name write ./{target}")
    elif not isinstance(target, os.PathLike):
        raise InvalidParameter(f"results database {target!r} must be a file path or a postgresql:// URL")
    return SQLiteStore(target, read_only=read_only, **options)


def _as_closed(run: RunRecord, note: str) -> RunRecord:
    """A stale running run as closed: incomplete, ERROR unless it had an outcome, ended at its
    last heartbeat (its last sign of life)."""
    return dataclasses.replace(
        run, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR if run.outcome is None else run.outcome,
        ended_at_s=run.heartbeat_at_s if run.ended_at_s is None else run.ended_at_s, note=note)


__all__ = ["SCHEMA_VERSION", "POSTGRES_SCHEMES", "ResultStore", "SQLResultStore", "SQLiteStore", "StoreError",
           "check_seconds", "open_store"]
