"""A real, throwaway PostgreSQL server on loopback for the store tests and benchmarks/bench_store.py.

``initdb`` refuses to run as root, so as root (CI) the cluster is created and the server run as
the ``postgres`` user, in a directory owned by it; as any other user, as that user.  The server
listens on 127.0.0.1 at a free port, with its socket in the cluster's directory, trusts local
connections (a throwaway cluster: nothing else can reach it), and is stopped (``pg_ctl stop -m
immediate``) and deleted by :meth:`PostgresServer.stop`.

A missing PostgreSQL installation raises :class:`RuntimeError` -- the caller (a session fixture)
turns it into a test failure, never a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding ``initdb`` and ``pg_ctl`` (or
    ``$PG_BINDIR``); RuntimeError naming where it looked when there is none."""
    if os.environ.get("PG_BINDIR"):
        candidates = [os.environ["PG_BINDIR"]]
    else:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                            key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                            reverse=True)
    for c in candidates:
        if (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    raise RuntimeError("no PostgreSQL server found (looked for initdb and pg_ctl in "
                       f"{candidates or '/usr/lib/postgresql/*/bin'}; set PG_BINDIR)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A PostgreSQL cluster of its own, started on ``127.0.0.1:port``; :attr:`url` of its
    database ``optics_test`` as superuser ``postgres``."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self._tmp = Path(tempfile.mkdtemp(prefix="optics-pg-"))
        self.datadir = self._tmp / "data"
        self.sockdir = self._tmp / "sock"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._started = False
        self.sockdir.mkdir()
        for d in (self._tmp, self.sockdir):
            os.chmod(d, 0o755)
            if self._as_root:
                shutil.chown(d, "postgres", "postgres")
        self._cmd("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self._cmd("pg_ctl", "-D", str(self.datadir), "-l", str(self._tmp / "server.log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.sockdir} -c listen_addresses=127.0.0.1 -c max_connections=100 "
                        "-c fsync=on", "start")
        self._started = True
        self.url_admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        import psycopg

        with psycopg.connect(self.url_admin, autocommit=True) as con:
            con.execute("CREATE DATABASE optics_test")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/optics_test"

    def _cmd_raw(self, argv: list[str]) -> None:
        if self._as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            log = self._tmp / "server.log"
            raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}"
                               + (f"\n{log.read_text()[-2000:]}" if log.is_file() else ""))

    def _cmd(self, tool: str, *args: str) -> None:
        self._cmd_raw([str(self.bindir / tool), *args])

    def fresh_schema_url(self) -> str:
        """URL of a new, empty schema of the test database (a database of its own, as the store
        sees it: its tables live in the connection's current schema)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        """Stop the server and delete its cluster."""
        try:
            if self._started:
                self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
