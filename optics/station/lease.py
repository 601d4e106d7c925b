"""Run leases: how a station shows that the runs it has open are alive, and how anyone reading
the results tells a run whose station is gone.

A run's row carries ``heartbeat_at_s`` (the last sign of life of its station) and
``lease_expires_at_s``.  :class:`~optics.station.store.SQLiteStore` (or
:class:`~optics.station.store_pg.PostgresStore`) sets both when the run
begins, renews them with every record it commits and -- between records: a thermal soak
(the plans' default timeout is 900 s), a long BER gate -- a :class:`LeaseKeeper` thread of
the station process renews them every quarter lease.  A station that crashes, is killed or
loses its host stops renewing, and once the lease has run out every reader, on any host,
knows the run is over (:func:`stale_reason`): the next run of that serial closes it
``incomplete`` with a note that says so, instead of taking it for a run still in progress.

On the run's own host a dead station process is seen at once (its pid); the lease covers
the hosts that cannot see that process, and a pid reused by an unrelated process.  Host
clocks are assumed to agree to well within a lease (NTP).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from optics.station.records import RunRecord, RunStatus, utc_text

#: Default lease of a running run, s: how long after its last sign of life a crashed run of
#: another host still counts as running.
DEFAULT_LEASE_S = 600.0

#: Note of a run whose station process on this host ended before closing it.
PROCESS_ENDED_NOTE = "station process ended before closing the run"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_reason(run: RunRecord, *, now_s: float, this_host: str) -> str | None:
    """Why a ``running`` run is over although nobody closed it, or None while it may be alive.

    Over: its process on this host is gone, or its lease expired before ``now_s``.
    """
    if run.status is not RunStatus.RUNNING:
        return None
    if run.host == this_host and not pid_alive(run.pid):
        return PROCESS_ENDED_NOTE
    if run.lease_expires_at_s is not None and run.lease_expires_at_s < now_s:
        return (f"its lease expired at {utc_text(run.lease_expires_at_s)} (last heartbeat "
                f"{utc_text(run.heartbeat_at_s)} from station {run.station_id!r}, host {run.host!r}): the station "
                "stopped without closing the run")
    return None


def renew(con: Any, run_ids: Iterable[str], *, lease_s: float, param: str = "?") -> None:
    """Heartbeat now and lease until now + ``lease_s`` for the running runs ``run_ids``
    (inside the caller's transaction, or as one statement of its own) on a DB-API connection
    (``sqlite3``, ``psycopg``) whose parameter marker is ``param``."""
    ids = tuple(run_ids)
    if not ids:
        return
    now = time.time()
    con.execute(
        f"UPDATE runs SET heartbeat_at_s = {param}, lease_expires_at_s = {param} "
        f"WHERE status = 'running' AND run_id IN ({','.join([param] * len(ids))})",
        (now, now + lease_s, *ids),
    )


class LeaseKeeper:
    """Renews the leases of the runs a station process has open, every ``lease_s / 4``, on a
    connection of its own in a daemon thread (started with the first run it holds).

    A renewal that fails (the database locked past ``timeout_s``, the disk or the server gone)
    is tried again a period later, on a new connection; a lease that runs out meanwhile lets the
    next run of the serial close the run, as after a crash.

    Parameters
    ----------
    name : str
        What the database is called in the thread's name (a file name, a server address).
    connect : callable
        Opens the keeper's own autocommit DB-API connection (each renewal one statement).
    errors : tuple of exception types
        The driver's errors, after which the renewal is tried again a period later.
    param : str
        The driver's parameter marker.
    """

    def __init__(self, name: str, *, lease_s: float, timeout_s: float, connect: Callable[[], Any],
                 errors: tuple[type[BaseException], ...] = (sqlite3.Error,), param: str = "?") -> None:
        self.name = name
        self._connect = connect
        self._errors = errors
        self._param = param
        self.lease_s = lease_s
        self.period_s = lease_s / 4.0
        self.timeout_s = timeout_s
        self._runs: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, run_id: str) -> None:
        """Keep renewing the lease of ``run_id`` until :meth:`release` or :meth:`close`."""
        with self._lock:
            self._runs.add(run_id)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name=f"lease keeper of {self.name}",
                                                daemon=True)
                self._thread.start()

    def release(self, run_id: str) -> None:
        """Stop renewing ``run_id`` (the run was closed)."""
        with self._lock:
            self._runs.discard(run_id)

    def close(self) -> None:
        """Stop the thread (the leases it held run out unless renewed by someone else)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(self.timeout_s)

    def _loop(self) -> None:
        con: Any = None
        try:
            while not self._stop.wait(self.period_s):
                with self._lock:
                    ids = tuple(self._runs)
                if not ids:
                    continue
                try:
                    if con is None:
                        con = self._connect()
                    renew(con, ids, lease_s=self.lease_s, param=self._param)
                except self._errors:
                    if con is not None:     # a server connection may be broken: a new one next period
                        with contextlib.suppress(*self._errors):
                            con.close()
                        con = None
                    continue                # tried again next period
        finally:
            if con is not None:
                with contextlib.suppress(*self._errors):
                    con.close()


__all__ = ["DEFAULT_LEASE_S", "PROCESS_ENDED_NOTE", "LeaseKeeper", "pid_alive", "renew", "stale_reason"]
