"""The results store on a PostgreSQL server: many stations, on many hosts, one database.

:class:`PostgresStore` is the second back end of :class:`~optics.station.store.ResultStore`
(``--db postgresql://user@host:port/dbname``; :func:`~optics.station.store.open_store`), with
the schema, the SQL and the guarantees of the SQLite store (:class:`~optics.station.store.SQLResultStore`):

- every record is its own committed transaction before the call returns (the server's default
  ``synchronous_commit = on``: on return it is on the server's disk), so ``kill -9`` of a
  station loses nothing it finished, and the server rolls back the one write it was in;
- several stations write at once: records are plain inserts (no lock beyond the row); the
  beginning of a run -- closing the stale runs of its serial, inserting the new one -- holds a
  transaction-level advisory lock of that serial, so two stations beginning the same serial
  see each other, as SQLite's single write lock makes them;
- leases (:mod:`optics.station.lease`) renewed by every commit and by a keeper thread on a
  connection of its own, a run whose lease ran out closed by the next run of its serial;
- the tables live in the connection's current schema (``public``, or what the URL's
  ``options=-csearch_path=...`` names).  That schema is taken as ours only when it is empty (the
  schema is then created at version 1 and migrated forward, under an advisory lock, so stations
  starting at once create it once) or carries our marks: ``station_meta`` rows
  ``application_id = PAM4`` and ``schema_version``.  A schema with tables of another
  application, or of a newer schema version, is refused with
  :class:`~optics.station.schema.StoreError` after looking at it in a read-only transaction:
  nothing in it is changed.  ``read_only=True`` opens a session whose every transaction is
  read-only (the server refuses any write).

Host clocks are assumed to agree to well within a lease (NTP); times are the stations' own
``time.time()``, as with SQLite.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from optics.errors import InvalidParameter
from optics.station.lease import DEFAULT_LEASE_S, LeaseKeeper
from optics.station.schema import (
    APPLICATION_ID,
    MEASUREMENTS_COLUMNS,
    MIGRATIONS,
    POSTGRES,
    RUNS_COLUMNS_V1,
    SCHEMA_VERSION,
    StoreError,
    refuse_newer,
    schema_v1,
    set_meta,
)
from optics.station.store import SQLResultStore, check_seconds

#: ``station_meta.application_id`` of a results database on a server (SQLite's application_id bytes).
APPLICATION_MARK = APPLICATION_ID.to_bytes(4, "big").decode("ascii")

#: Columns of ``runs`` in a version-1 schema on a server (its insertion-order column ``seq`` too).
_RUNS_COLUMNS_V1_PG = RUNS_COLUMNS_V1 | {"seq"}


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise StoreError("a postgresql:// results database needs psycopg 3 (pip install 'psycopg[binary]')") from exc
    return psycopg


def describe_url(url: str) -> str:
    """``url`` as shown in messages: ``postgresql://user@host:port/dbname``, never its password.

    Raises
    ------
    StoreError
        Not a connection URL libpq can parse.
    """
    psycopg = _psycopg()
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"results database URL {_without_password(url)!r} is not a valid PostgreSQL URL "
                         f"(postgresql://user@host:port/dbname): {exc}") from None
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{info.get('host', '')}{port}/{info.get('dbname', '')}"


def _without_password(url: str) -> str:
    head, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    cred, at, host = rest.partition("@")
    return f"{head}://{cred.split(':', 1)[0]}{at}{host}"


def classify(con: Any, location: str) -> int:
    """Schema version of the results database in ``con``'s current schema (0: empty), read
    without writing; :class:`StoreError` for a schema holding another application's tables."""
    (schema,) = con.execute("SELECT current_schema()").fetchone()
    if schema is None:
        raise StoreError(f"{location}: the schema the connection's search_path names does not exist "
                         "(create it, or name one that does); nothing was written")
    tables = {name for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))}
    if "station_meta" in tables and {"key", "value"} <= _columns(con, schema, "station_meta"):
        meta = dict(con.execute("SELECT key, value FROM station_meta").fetchall())
        version = meta.get("schema_version", "")
        if meta.get("application_id") == APPLICATION_MARK and version.isdigit() and int(version) >= 1:
            return int(version)
    elif not tables:
        return 0
    elif tables == {"runs", "measurements"} and _columns(con, schema, "runs") == _RUNS_COLUMNS_V1_PG \
            and _columns(con, schema, "measurements") == MEASUREMENTS_COLUMNS:
        return 1
    raise StoreError(f"{location} (schema {schema!r}) is not a results database of this toolkit but a database "
                     f"of another application (tables: {', '.join(sorted(tables))}); it was left unchanged")


def _columns(con: Any, schema: str, table: str) -> frozenset[str]:
    return frozenset(name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema, table)))


def initialise(con: Any, location: str, *, lease_s: float) -> int:
    """Create or migrate the schema inside the caller's write transaction, under an advisory
    lock (stations starting at once create it once); returns the version found."""
    con.execute("SELECT pg_advisory_xact_lock(%s)", (APPLICATION_ID,))
    version = classify(con, location)       # again, under the lock: another station may have been first
    refuse_newer(location, version)
    if version == SCHEMA_VERSION:
        return version
    if version == 0:
        for stmt in schema_v1(POSTGRES):
            con.execute(stmt)
    for v in range(max(version, 1), SCHEMA_VERSION):
        MIGRATIONS[v](con, lease_s=lease_s, dialect=POSTGRES)
    set_meta(con, created=version == 0, dialect=POSTGRES, extra={"application_id": APPLICATION_MARK})
    return version


class PostgresStore(SQLResultStore):
    """Results on a PostgreSQL server, shared by the stations of a line.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host:port/dbname[?param=value...]`` (libpq's URL; a
        password is better kept in ``~/.pgpass`` or ``PGPASSWORD`` than in a command line).
        The tables live in the connection's current schema.
    timeout_s : float
        How long a write waits for another one's lock (``lock_timeout``) before failing, s.
    lease_s : float
        Lease of the runs this store begins, s (:mod:`optics.station.lease`).
    read_only : bool
        Only read: the database must hold a results schema (one of the previous version is
        read as it is, not migrated); every transaction of the session is read-only.
    connect_timeout_s : float
        How long to wait for the server to answer, s.

    Raises
    ------
    StoreError
        The URL does not parse, the server cannot be reached, the schema holds another
        application's tables or a newer schema version (left unchanged), or (``read_only``)
        holds no results database.
    InvalidParameter
        A time not a positive number.

    Examples
    --------
    >>> with PostgresStore("postgresql://station@db.line3:5432/results") as store:   # doctest: +SKIP
    ...     store.runs(serial="DR800001")
    """

    dialect = POSTGRES

    def __init__(self, url: str, *, timeout_s: float = 60.0, lease_s: float = DEFAULT_LEASE_S,
                 read_only: bool = False, connect_timeout_s: float = 10.0) -> None:
        check_seconds(timeout_s=timeout_s, lease_s=lease_s, connect_timeout_s=connect_timeout_s)
        if not isinstance(url, str):
            raise InvalidParameter(f"url = {url!r} must be a postgresql:// URL string")
        psycopg = _psycopg()
        self.url = url
        self.location = describe_url(url)
        self.read_only = bool(read_only)
        self.lease_s = float(lease_s)
        self._host = socket.gethostname()
        self._timeout_s = float(timeout_s)
        self._connect_timeout = max(1, math.ceil(connect_timeout_s))
        self._leases = LeaseKeeper(self.location, lease_s=self.lease_s, timeout_s=timeout_s, connect=self._connect,
                                   errors=(psycopg.Error, OSError, StoreError),
                                   param=POSTGRES.param)   # StoreError: the server did not answer a reconnection
        self._conn = self._connect()
        try:
            if self.read_only:
                self._conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                self.schema_version = classify(self._conn, self.location)
                if self.schema_version == 0:
                    raise StoreError(f"{self.location} holds no results database yet (no tables)")
                refuse_newer(self.location, self.schema_version)     # an older one is read as it is
            else:
                # what the schema is, decided in a read-only transaction: a database refused is never written
                with self._conn.transaction():
                    self._conn.execute("SET TRANSACTION READ ONLY")
                    refuse_newer(self.location, classify(self._conn, self.location))
                with self._write() as c:
                    initialise(c, self.location, lease_s=self.lease_s)
                self.schema_version = SCHEMA_VERSION
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"{self.location} is not a usable results database: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> Any:
        psycopg = _psycopg()
        try:
            con = psycopg.connect(self.url, autocommit=True, connect_timeout=self._connect_timeout,
                                  application_name="optics station")
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the results database {self.location}: "
                             f"{str(exc).strip()}") from None
        con.execute(f"SET lock_timeout = {int(self._timeout_s * 1000)}")
        return con

    @contextmanager
    def _write(self, *, serial: str | None = None) -> Iterator[Any]:
        if self.read_only:
            raise StoreError(f"{self.location} is open read-only; it cannot be written")
        psycopg = _psycopg()
        if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            # an earlier write was interrupted between its BEGIN and its COMMIT (SIGTERM, Ctrl-C):
            # drop its uncommitted half, or this write would join it
            self._conn.execute("ROLLBACK")
        with self._conn.transaction():
            if serial is not None:
                self._conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (APPLICATION_ID, serial))
            yield self._conn

    def close(self) -> None:
        """Stop renewing leases and close the connection (records are already committed)."""
        self._leases.close()
        self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self


__all__ = ["APPLICATION_MARK", "PostgresStore", "classify", "describe_url", "initialise"]
