"""The results-store back ends the store tests run on: an SQLite file, and a schema of its own on a
real throwaway PostgreSQL 15 server on loopback (started once per session, stopped at its end).

A machine without PostgreSQL fails the PostgreSQL tests (``pytest.fail``): they are never skipped.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pgserver import PostgresServer


@pytest.fixture(scope="session")
def pg_server():
    """A running PostgreSQL server of this test session."""
    try:
        server = PostgresServer()
    except (RuntimeError, OSError) as exc:
        pytest.fail(f"the PostgreSQL store tests need a PostgreSQL server and none could be started: {exc}",
                    pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@dataclasses.dataclass
class Backend:
    """One back end's database for one test: ``target`` is what ``--db`` / open_store takes."""

    name: str
    target: str

    def open(self, **kw: Any):
        from optics.station.store import open_store

        return open_store(self.target, **kw)

    def sql(self, query: str, args: tuple = ()) -> list[tuple]:
        """Run ``query`` (``?`` markers) on a connection of its own, committed; its rows."""
        if self.name == "sqlite":
            con = sqlite3.connect(self.target, isolation_level=None)
            try:
                cur = con.execute(query, args)
                return cur.fetchall() if cur.description else []
            finally:
                con.close()
        import psycopg

        with psycopg.connect(self.target, autocommit=True) as con:
            cur = con.execute(query.replace("?", "%s"), args)
            return cur.fetchall() if cur.description else []


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path) -> Backend:
    """The store test suite's database, on each back end."""
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "r.sqlite"))
    server = request.getfixturevalue("pg_server")
    return Backend("postgres", server.fresh_schema_url())


@pytest.fixture
def pg_url(pg_server) -> str:
    """URL of a fresh, empty schema on the session's PostgreSQL server."""
    return pg_server.fresh_schema_url()


