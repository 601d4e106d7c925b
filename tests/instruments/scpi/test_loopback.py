"""End-to-end smoke test: real pyvisa + pyvisa-py over TCP to a tiny in-test SCPI server.

Proves the transport (``TCPIP::127.0.0.1::<port>::SOCKET``), the "\\n" terminations (text and a
binary block whose payload contains 0x0A bytes), the typed timeout, and that an unreachable
port fails fast with ConnectionLost naming the resource.
"""

import socket
import socketserver
import struct
import threading
import time

import numpy as np
import pytest

from instruments.keysight.n77xx import N7744A
from instruments.scpi import ScpiInstrument
from instruments.scpi.replies import ieee_block
from optics.errors import ConnectionLost, GarbledReply, InstrumentTimeout

#: 0x0A inside the payload: float32 little-endian of this value contains a "\n" byte.
NEWLINE_FLOAT = struct.unpack("<f", b"\x0a\x00\x80\x3f")[0]
BLOCK_VALUES = np.array([NEWLINE_FLOAT, 0.25, -1.0, NEWLINE_FLOAT], dtype=np.float32)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for raw in self.rfile:
            line = raw.decode().strip()
            if line == "*IDN?":
                self.wfile.write(b"Keysight Technologies,N7744A,MY0001,1.0\n")
            elif line == "*OPC?":
                self.wfile.write(b"1\n")
            elif line == ":LATEONE?":                  # a late reply that looks like *OPC?'s
                time.sleep(0.5)
                self.wfile.write(b"1\n")
            elif line == ":SYST:ERR?":
                self.wfile.write(b'+0,"No error"\n')
            elif line == ":READ1:POW?":
                self.wfile.write(b"+1.234560E-03\n")
            elif line == ":BLOCK?":
                self.wfile.write(ieee_block(BLOCK_VALUES.astype("<f4").tobytes()) + b"\n")
            elif line == ":NOTBLOCK?":
                self.wfile.write(b"+1.0E+00\n")
            elif line == ":HANG?":
                pass                                   # never answer
            elif line == ":LATE?":                     # answers after the client's timeout
                time.sleep(0.5)
                self.wfile.write(b"+7.0E+00\n")
            elif line == ":HALFBLOCK?":                # half a block, a stall, then the rest
                self.wfile.write(b"#216" + bytes(8))
                self.wfile.flush()
                time.sleep(0.5)
                self.wfile.write(bytes(8) + b"\n")
            elif line == ":INDEF?":                    # indefinite-length block
                self.wfile.write(b"#0" + bytes(range(1, 9)) + b"\n")
            elif line == ":LONGBLOCK?":                # more payload than announced
                self.wfile.write(b"#14" + bytes(12) + b"\n")
            elif line == ":DROP?":                     # the instrument closes the connection
                return
            # settings: no reply


@pytest.fixture(scope="module")
def server():
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_driver_over_pyvisa_py_socket(server):
    resource = f"TCPIP::127.0.0.1::{server}::SOCKET"
    with N7744A(resource, timeout_s=2.0) as opm:
        assert opm.idn.model == "N7744A"
        assert opm.port(1).power_w == pytest.approx(1.23456e-3, rel=1e-12)
        # a binary block with "\n" bytes inside the payload survives the "\n" read termination
        values = opm.ask_block_values(":BLOCK?", "f")
        np.testing.assert_array_equal(values, BLOCK_VALUES.astype(np.float64))
        assert opm.ask("*IDN?").startswith("Keysight")      # stream still aligned after the block


def test_timeout_is_typed_and_names_resource(server):
    resource = f"TCPIP::127.0.0.1::{server}::SOCKET"
    inst = ScpiInstrument(resource, timeout_s=0.3)
    try:
        t0 = time.monotonic()
        with pytest.raises(InstrumentTimeout, match=f"127.0.0.1::{server}"):
            inst.ask(":HANG?")
        assert time.monotonic() - t0 < 2.0
    finally:
        inst.close()


def test_closed_port_fails_fast_with_connection_lost():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                             # nothing listens there now
    resource = f"TCPIP::127.0.0.1::{port}::SOCKET"
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost, match=f"127.0.0.1::{port}"):
        inst = ScpiInstrument(resource, timeout_s=1.0)
        inst.ask("*IDN?")
    assert time.monotonic() - t0 < 1.5


def test_io_timeout_context_restores_previous(server):
    resource = f"TCPIP::127.0.0.1::{server}::SOCKET"
    inst = ScpiInstrument(resource, timeout_s=2.0)
    try:
        with inst.io_timeout(0.2):
            assert inst.adapter._session.timeout == 200
            with pytest.raises(InstrumentTimeout, match="0.2 s"):
                inst.ask(":HANG?")
        assert inst.adapter._session.timeout == 2000
    finally:
        inst.close()


def test_non_block_reply_to_block_query_is_garbled(server):
    resource = f"TCPIP::127.0.0.1::{server}::SOCKET"
    inst = ScpiInstrument(resource, timeout_s=1.0)
    try:
        with pytest.raises(GarbledReply, match=f"127.0.0.1::{server}"):
            inst.ask_block(":NOTBLOCK?")
    finally:
        inst.close()


def _instrument(port, timeout_s=0.3):
    return ScpiInstrument(f"TCPIP::127.0.0.1::{port}::SOCKET", timeout_s=timeout_s)


def test_late_reply_does_not_answer_the_next_query(server):
    # a reply arriving after the timeout must be discarded, not read as the answer to *IDN?
    inst = _instrument(server)
    try:
        with pytest.raises(InstrumentTimeout, match=f"127.0.0.1::{server}"):
            inst.ask(":LATE?")
        time.sleep(0.4)                                   # the late "+7.0E+00" arrives now
        assert inst.ask("*IDN?").startswith("Keysight")
    finally:
        inst.close()


def test_timeout_mid_block_recovers(server):
    inst = _instrument(server)
    try:
        with pytest.raises(InstrumentTimeout):
            inst.ask_block(":HALFBLOCK?")
        time.sleep(0.4)                                   # the rest of the block arrives now
        assert inst.ask("*IDN?").startswith("Keysight")
    finally:
        inst.close()


@pytest.mark.parametrize("query, match", [(":INDEF?", "indefinite"), (":LONGBLOCK?", "longer than")])
def test_bad_blocks_are_garbled_and_stream_recovers(server, query, match):
    inst = _instrument(server, timeout_s=1.0)
    try:
        with pytest.raises(GarbledReply, match=match):
            inst.ask_block(query)
        assert inst.ask("*IDN?").startswith("Keysight")
    finally:
        inst.close()


def test_connection_dropped_between_write_and_read(server):
    inst = _instrument(server)
    try:
        with pytest.raises(ConnectionLost, match=f"127.0.0.1::{server}"):
            inst.ask(":DROP?")
        with pytest.raises(ConnectionLost):               # and stays a typed error afterwards
            inst.ask("*IDN?")
    finally:
        inst.close()


@pytest.mark.parametrize("query", [":LATE?", ":LATEONE?"])
def test_reply_arriving_after_the_next_command_is_not_taken_as_its_reply(server, query):
    # no pause: the late reply arrives only after the next command was sent; the adapter
    # resynchronises with *OPC? (replies come in order) before sending that command
    inst = _instrument(server)
    try:
        with pytest.raises(InstrumentTimeout):
            inst.ask(query)
        assert inst.ask("*IDN?").startswith("Keysight")
        assert inst.ask(":READ1:POW?") == "+1.234560E-03"
        assert inst.ask("*IDN?").startswith("Keysight")
    finally:
        inst.close()
