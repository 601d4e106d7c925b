"""Driver overhead per simple query over loopback TCP (target < 2 ms per query).

Runs a tiny SCPI server on 127.0.0.1 (ephemeral port), then times N ``:FETC1:POW?`` queries
three ways: through the N7744A driver over pyvisa-py SOCKET, through a bare pyvisa session,
and through the driver on an in-memory adapter (the driver's own parsing/formatting cost).

Run: ``.venv/bin/python benchmarks/bench_drivers.py``
"""

from __future__ import annotations

import socketserver
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyvisa  # noqa: E402

from instruments.keysight.n77xx import N7744A  # noqa: E402
from instruments.scpi.adapters import Adapter  # noqa: E402

N = 2000
TARGET_S = 2e-3


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for raw in self.rfile:
            line = raw.strip()
            if line.endswith(b"?"):
                self.wfile.write(b'+0,"No error"\n' if line == b":SYST:ERR?" else b"+1.234560E-03\n")


class _Echo(Adapter):
    """In-memory adapter answering every query at once."""

    resource_name = "memory"

    def write(self, command: str) -> None:
        self._last = command

    def read(self) -> str:
        return '+0,"No error"' if self._last == ":SYST:ERR?" else "+1.234560E-03"


def _per_query(fn, n: int = N) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def main() -> int:
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    resource = f"TCPIP::127.0.0.1::{srv.server_address[1]}::SOCKET"
    try:
        with N7744A(resource, timeout_s=2.0) as opm:
            port = opm.port(1)
            t_driver = _per_query(port.fetch_power_w)
        rm = pyvisa.ResourceManager("@py")
        raw = rm.open_resource(resource, read_termination="\n", write_termination="\n", timeout=2000)
        t_raw = _per_query(lambda: float(raw.query(":FETC1:POW?")))
        raw.close()
        mem = N7744A(_Echo())
        t_mem = _per_query(mem.port(1).fetch_power_w)
    finally:
        srv.shutdown()
        srv.server_close()
    print(f"driver over loopback  : {t_driver * 1e3:8.3f} ms per query (target < {TARGET_S * 1e3:g} ms)")
    print(f"bare pyvisa-py query  : {t_raw * 1e3:8.3f} ms per query")
    print(f"driver-only overhead  : {t_mem * 1e3:8.3f} ms per query on an in-memory adapter "
          f"(loopback driver - bare = {(t_driver - t_raw) * 1e3:+.3f} ms, i.e. within socket noise)")
    print("PASS" if t_driver < TARGET_S else "ABOVE TARGET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
