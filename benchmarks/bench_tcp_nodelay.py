"""Round trip of a checked setting (setting + ``:SYST:ERR?``) over pyvisa-py TCP, Nagle on vs off.

A checked setting is two small writes; with Nagle's algorithm on, the second waits for the
delayed ACK of the first (~40 ms on Linux).  :class:`instruments.scpi.adapters.VisaAdapter`
switches it off on ``::SOCKET`` sessions (``tcp_nodelay=True``, the default).

Target: a checked setting over loopback under 2 ms with TCP_NODELAY (the driver-overhead
target of the bench), and clearly faster than with Nagle on.

Run: ``.venv/bin/python benchmarks/bench_tcp_nodelay.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instruments.keysight.n776x import N7764A  # noqa: E402
from instruments.scpi.adapters import VisaAdapter  # noqa: E402
from instruments.virtual.attenuator import N7764A as VirtualN7764A  # noqa: E402
from instruments.virtual.server import ScpiServer  # noqa: E402

N = 40
TARGET_S = 2e-3


def checked_setting_s(resource: str, nodelay: bool) -> tuple[float, bool]:
    adapter = VisaAdapter(resource, tcp_nodelay=nodelay)
    voa = N7764A(adapter)
    ch = voa.channel(1)
    ch.attenuation_db = 1.0                      # warm up
    times = []
    for k in range(N):
        t0 = time.perf_counter()
        ch.attenuation_db = 1.0 + (k % 10)       # ':INP1:ATT x' then ':SYST:ERR?'
        times.append(time.perf_counter() - t0)
    active = adapter.tcp_nodelay_active()
    voa.close()
    return statistics.median(times), active


def main() -> int:
    with ScpiServer(VirtualN7764A()) as srv:
        off, off_active = checked_setting_s(srv.resource, False)
        on, on_active = checked_setting_s(srv.resource, True)
    print(f"checked setting round trip, median of {N}:")
    print(f"  Nagle on  (TCP_NODELAY={off_active}): {off * 1e3:7.2f} ms")
    print(f"  Nagle off (TCP_NODELAY={on_active}):  {on * 1e3:7.2f} ms   target < {TARGET_S * 1e3:.0f} ms")
    print(f"  speed-up: {off / on:.0f}x")
    print("PASS" if on < TARGET_S and on_active else "MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
