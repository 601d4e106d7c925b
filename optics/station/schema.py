"""The results database's schema: what marks a file as ours, how it is created and migrated,
and how a file is looked at without being changed.

A results database carries ``PRAGMA application_id`` = :data:`APPLICATION_ID` (``"PAM4"``)
and its schema version in ``PRAGMA user_version`` and in the ``station_meta`` table.  Before
anything is written to a file, :func:`inspect_file` decides what it is, through a read-only
connection that creates no ``-wal``, ``-shm`` or journal file:

- absent, 0 bytes, or an SQLite database with no tables and no marks: to be created;
- ours (our application id), or a database of schema version 1, which had no application id
  and is recognised by its tables and columns: its schema version;
- anything else (another application's SQLite file, a file that is not SQLite): refused
  with :class:`StoreError`, the file untouched.

A database of a newer schema version is refused by the store before it switches the file to
WAL or writes anything.  Migrations go forward only, one version at a time, inside the
writer's transaction (:func:`initialise`).

Schema version 2 (``runs`` and ``measurements`` as in version 1, plus)::

    runs.heartbeat_at_s REAL       last sign of life of the station running the run (s since the epoch)
    runs.lease_expires_at_s REAL   a running run whose lease expired is incomplete (its station is gone)
    station_meta(key TEXT PRIMARY KEY, value TEXT)    schema_version, created_by, created_at_utc
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from optics.errors import ConfigError

#: Schema version this toolkit writes (``PRAGMA user_version``).
SCHEMA_VERSION = 2

#: ``PRAGMA application_id`` of a results database: the bytes ``PAM4``.
APPLICATION_ID = int.from_bytes(b"PAM4", "big")

_SQLITE_MAGIC = b"SQLite format 3\x00"

_RUNS_V1 = """
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
)"""

_SCHEMA_V1 = (
    _RUNS_V1,
    "CREATE INDEX IF NOT EXISTS runs_serial ON runs(serial, started_at_s)",
    """CREATE TABLE IF NOT EXISTS measurements (
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
)""",
    "CREATE INDEX IF NOT EXISTS measurements_run ON measurements(run_id)",
    "CREATE INDEX IF NOT EXISTS measurements_name ON measurements(name, unit)",
)

#: Columns of ``runs`` in schema version 1 (how a version-1 database is recognised).
_RUNS_COLUMNS_V1 = frozenset({
    "run_id", "serial", "plan_name", "plan_hash", "station_id", "started_at_s", "ended_at_s", "status", "outcome",
    "toolkit_version", "bench_json", "pid", "host", "note"})

#: Columns of ``measurements`` (all versions).
_MEASUREMENTS_COLUMNS = frozenset({
    "id", "run_id", "serial", "step", "name", "lane", "temperature_c", "value", "unit", "low_limit", "high_limit",
    "outcome", "margin", "spec_ref", "verified", "instruments_json", "taken_at_s", "message"})

_META = "CREATE TABLE IF NOT EXISTS station_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class StoreError(ConfigError):
    """A file cannot serve as a results database (it was left unchanged), or a read-only
    store was asked to write."""


def inspect_file(path: Path) -> int:
    """Schema version of the results database at ``path``, without changing the file.

    Returns
    -------
    int
        0 when the file is absent, empty (0 bytes) or an SQLite database without tables or
        marks (a store may create its schema there), else the schema version (>= 1, possibly
        newer than :data:`SCHEMA_VERSION`).

    Raises
    ------
    StoreError
        Not a regular file, not SQLite, unreadable, or a database of another application.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if not path.is_file():
        raise StoreError(f"{path} is not a usable results database: it is not a regular file")
    if size == 0:
        return 0
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{path} is not a usable results database: it is not an SQLite file (it starts "
                         f"{header[:16]!r}); it was left unchanged")
    con = connect_read_only(path)
    try:
        return classify(con, path)
    finally:
        con.close()


def connect_read_only(path: Path, timeout_s: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to an existing database that creates no file beside it.

    ``mode=ro`` while the database has a ``-wal`` file (a writer has it open, or one was
    killed): SQLite then reads the log under its locks.  Without one, ``immutable=1``: a
    read-only WAL-mode connection would otherwise create ``-wal`` and ``-shm`` files (and
    cannot in a read-only directory), and without a log everything is in the main file.
    A ``mode=ro`` connection that fails (its ``-shm`` cannot be opened in a read-only
    directory) falls back to ``immutable=1``.

    Raises
    ------
    StoreError
        The file cannot be opened or is not a database.
    """
    uri = path.resolve().as_uri()
    modes = ["mode=ro", "mode=ro&immutable=1"] if Path(f"{path}-wal").exists() else ["mode=ro&immutable=1"]
    for k, mode in enumerate(modes):
        con = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=timeout_s, isolation_level=None,
                              check_same_thread=False)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con
        except sqlite3.DatabaseError as exc:
            con.close()
            if k + 1 < len(modes) and isinstance(exc, sqlite3.OperationalError):
                continue
            raise StoreError(f"{path} is not a usable results database: {exc}; it was left unchanged") from None
    raise AssertionError("unreachable")  # pragma: no cover


def classify(con: sqlite3.Connection, path: Path) -> int:
    """Schema version of the database behind ``con`` (0: no tables, no marks), as
    :func:`inspect_file`; raises :class:`StoreError` for a database of another application."""
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")}
        if app_id == APPLICATION_ID and version >= 1:
            return int(version)
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(f"{path} is not a results database of this toolkit: its SQLite application_id is "
                             f"{app_id:#010x}, ours is {APPLICATION_ID:#010x}; it was left unchanged")
        if not tables and version == 0:
            return 0
        if version == 1 and tables == {"runs", "measurements"} and _columns(con, "runs") == _RUNS_COLUMNS_V1 \
                and _columns(con, "measurements") == _MEASUREMENTS_COLUMNS:
            return 1
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a usable results database: {exc}; it was left unchanged") from None
    raise StoreError(f"{path} is not a results database of this toolkit but an SQLite database of another "
                     f"application (tables: {', '.join(sorted(tables)) or 'none'}; user_version {version}); "
                     "it was left unchanged")


def refuse_newer(path: Path, version: int) -> None:
    """Raise :class:`StoreError` for a schema version newer than :data:`SCHEMA_VERSION`."""
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} has results schema version {version}, newer than this toolkit's "
                         f"{SCHEMA_VERSION} (a newer toolkit wrote it); it was left unchanged: read it with "
                         "that toolkit")


def initialise(con: sqlite3.Connection, path: Path, *, lease_s: float) -> int:
    """Create or migrate the schema, inside the caller's write transaction; returns the
    version found.  A version-1 run left ``running`` gets one lease of ``lease_s`` from now."""
    version = classify(con, path)        # again, under the write lock: another station may have been first
    refuse_newer(path, version)
    if version == SCHEMA_VERSION:
        return version                   # nothing to write
    if version == 0:
        for stmt in _SCHEMA_V1:
            con.execute(stmt)
    for v in range(max(version, 1), SCHEMA_VERSION):
        _MIGRATIONS[v](con, lease_s=lease_s)
    _set_meta(con, created=version == 0)
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return version


def _migrate_1_to_2(con: sqlite3.Connection, *, lease_s: float) -> None:
    """Runs get a heartbeat and a lease; the ``station_meta`` table."""
    con.execute("ALTER TABLE runs ADD COLUMN heartbeat_at_s REAL")
    con.execute("ALTER TABLE runs ADD COLUMN lease_expires_at_s REAL")
    con.execute("UPDATE runs SET heartbeat_at_s = started_at_s, lease_expires_at_s = ? WHERE status = 'running'",
                (time.time() + lease_s,))
    con.execute(_META)


_MIGRATIONS = {1: _migrate_1_to_2}


def _set_meta(con: sqlite3.Connection, *, created: bool) -> None:
    from optics import __version__
    from optics.station.records import utc_text

    what = "created" if created else "migrated"
    rows = {"schema_version": str(SCHEMA_VERSION), f"{what}_by": f"optics {__version__}",
            f"{what}_at_utc": utc_text(time.time())}
    con.executemany("INSERT OR REPLACE INTO station_meta (key, value) VALUES (?, ?)", rows.items())


def _columns(con: sqlite3.Connection, table: str) -> frozenset[str]:
    return frozenset(row[1] for row in con.execute(f"PRAGMA table_info({table})"))


__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "StoreError", "classify", "connect_read_only", "initialise",
           "inspect_file", "refuse_newer"]
