"""TCP_NODELAY on raw-socket VISA sessions (real pyvisa-py over loopback TCP)."""

import statistics
import time

import pytest

from instruments.keysight.n776x import N7764A
from instruments.scpi.adapters import VisaAdapter
from instruments.virtual.attenuator import N7764A as VirtualN7764A
from instruments.virtual.server import ScpiServer


@pytest.fixture(scope="module")
def server():
    with ScpiServer(VirtualN7764A()) as srv:
        yield srv


def test_nodelay_is_set_on_open_and_again_on_reopen(server):
    adapter = VisaAdapter(server.resource, timeout_s=2.0)
    try:
        assert adapter.tcp_nodelay_active()
        adapter.reopen()
        assert adapter.tcp_nodelay_active()          # a new socket: set again
        assert adapter.query("*IDN?").startswith("Keysight")
    finally:
        adapter.close()
    assert adapter.apply_tcp_nodelay() is False      # closed: nothing to set


def test_nodelay_can_be_left_off(server):
    adapter = VisaAdapter(server.resource, timeout_s=2.0, tcp_nodelay=False)
    try:
        assert not adapter.tcp_nodelay_active()
        assert adapter.apply_tcp_nodelay() is False
    finally:
        adapter.close()


def test_checked_setting_round_trip_is_fast(server):
    # Two small writes (setting, :SYST:ERR?): with Nagle on the second waits for a delayed ACK
    # (~40 ms on Linux); with TCP_NODELAY a loopback round trip is well under the 2 ms target.
    voa = N7764A(server.resource, timeout_s=2.0)
    try:
        ch = voa.channel(1)
        ch.attenuation_db = 1.0
        times = []
        for k in range(10):
            t0 = time.perf_counter()
            ch.attenuation_db = 2.0 + k
            times.append(time.perf_counter() - t0)
    finally:
        voa.close()
    assert statistics.median(times) < 5e-3
