"""The TCP server: loopback resource, several clients, binary blocks, faults, shutdown."""

import socket
import threading
import time

import numpy as np
import pytest
import pyvisa

from instruments.virtual.grammar import float32_block
from instruments.virtual.server import GARBAGE_REPLY, FaultKind, ScpiServer, VirtualInstrument
from optics.errors import InvalidParameter


class Counter(VirtualInstrument):
    """Counts set commands; replies a 1000-point float32 block honouring :SYSTem:BORDer."""

    idn = "Test,Counter,1,1"

    def reset(self):
        self.count = 0
        self.big_endian = True

    def build(self):
        self.add(":COUNt", set=self._inc, query=lambda r: str(self.count))
        self.add(":SYSTem:BORDer", set=self._border, query=lambda r: "BEND" if self.big_endian else "LEND")
        self.add(":DATA", query=lambda r: float32_block(np.linspace(-1.0, 1.0, 1000), big_endian=self.big_endian))

    def _inc(self, req):
        self.count += 1

    def _border(self, req):
        self.big_endian = req.args.choice(0, ("LENDian", "BENDian")) == "BEND"


@pytest.fixture
def server():
    with ScpiServer(Counter()) as srv:
        yield srv


@pytest.fixture
def rm():
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


def open_(rm, server, timeout_ms=2000):
    return rm.open_resource(server.resource, read_termination="\n", write_termination="\n", timeout=timeout_ms)


def test_resource_string_and_pyvisa_roundtrip(server, rm):
    assert server.resource == f"TCPIP::127.0.0.1::{server.port}::SOCKET"
    assert server.port > 0
    inst = open_(rm, server)
    assert inst.query("*IDN?") == "Test,Counter,1,1"
    inst.write(":COUN;:COUN")
    assert inst.query(":COUN?") == "2"


@pytest.mark.parametrize("order", ["LEND", "BEND"])
def test_binary_block_honours_byte_order(server, rm, order):
    inst = open_(rm, server)
    inst.write(f":SYST:BORD {order}")
    values = inst.query_binary_values(":DATA?", datatype="f", is_big_endian=(order == "BEND"), container=np.array)
    np.testing.assert_allclose(values, np.linspace(-1.0, 1.0, 1000), rtol=1e-7, atol=1e-7)
    assert inst.query("*IDN?") == "Test,Counter,1,1"  # the stream is clean after the block


def test_several_clients_share_the_instrument(server):
    results = []

    def client():
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            f = s.makefile("rwb")
            for _ in range(50):
                f.write(b":COUN\n")
            f.write(b"*OPC?\n")
            f.flush()
            results.append(f.readline())

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [b"1\n"] * 4
    assert server.instrument.count == 200


def test_fault_no_reply_then_recovers(server, rm):
    inst = open_(rm, server, timeout_ms=300)
    server.inject_fault("no_reply", count=1)
    with pytest.raises(pyvisa.errors.VisaIOError) as info:
        inst.query("*IDN?")
    assert info.value.error_code == pyvisa.constants.StatusCode.error_timeout
    assert inst.query("*IDN?") == "Test,Counter,1,1"


def test_fault_drop_closes_connection(server, rm):
    inst = open_(rm, server, timeout_ms=1000)
    assert inst.query("*IDN?") == "Test,Counter,1,1"
    server.inject_fault(FaultKind.DROP)
    with pytest.raises(Exception):
        inst.query("*IDN?")
    inst.close()
    deadline = time.monotonic() + 2
    while server.n_clients and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.n_clients == 0
    assert open_(rm, server).query("*IDN?") == "Test,Counter,1,1"


def test_fault_garbage_then_clean(server, rm):
    inst = open_(rm, server)
    server.inject_fault("garbage", count=2)
    assert inst.query("*IDN?").encode() == GARBAGE_REPLY
    assert inst.query(":COUN?").encode() == GARBAGE_REPLY
    assert inst.query(":COUN?") == "0"


def test_fault_error_is_queued_after_next_message(server, rm):
    inst = open_(rm, server)
    server.inject_fault("error", code=-310, message="System error;virtual fault")
    inst.write(":COUN")
    assert inst.query(":SYST:ERR?") == '-310,"System error;virtual fault"'
    assert inst.query(":SYST:ERR?") == '+0,"No error"'


def test_fault_slow_until_cleared(server, rm):
    inst = open_(rm, server)
    server.inject_fault("slow", count=None, delay_s=0.3)
    for _ in range(2):
        t0 = time.perf_counter()
        inst.query("*IDN?")
        assert time.perf_counter() - t0 >= 0.29
    server.clear_faults()
    t0 = time.perf_counter()
    inst.query("*IDN?")
    assert time.perf_counter() - t0 < 0.25


def test_bad_fault_arguments(server):
    with pytest.raises(InvalidParameter, match="unknown fault kind"):
        server.inject_fault("explode")
    with pytest.raises(InvalidParameter):
        server.inject_fault("no_reply", count=0)
    with pytest.raises(InvalidParameter):
        server.inject_fault("slow", delay_s=-1.0)


def test_stop_closes_clients_and_frees_port():
    srv = ScpiServer(Counter()).start()
    conn = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
    port = srv.port
    srv.stop()
    conn.settimeout(2)
    assert conn.recv(10) == b""  # closed by the server
    conn.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    srv.stop()  # idempotent


def test_latency_delays_every_reply(rm):
    with ScpiServer(Counter(), latency_s=0.05) as srv:
        inst = open_(rm, srv)
        t0 = time.perf_counter()
        for _ in range(3):
            inst.query("*IDN?")
        assert time.perf_counter() - t0 >= 0.15
    with pytest.raises(InvalidParameter):
        ScpiServer(Counter(), latency_s=-0.1)
