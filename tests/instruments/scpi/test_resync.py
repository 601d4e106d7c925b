"""Resynchronising after a timed-out query: no reply is ever taken for a later query's.

Real pyvisa + pyvisa-py over TCP to an in-test instrument on 127.0.0.1 that answers one
message at a time, in order, each reply ``latency_s`` after it starts on the message (as a
slow instrument: later messages wait in its input buffer).  Every reply encodes its query
(``:VAL? <n>`` answers ``n``), so the test knows independently which reply belongs to which
query.  One query's reply comes ``late_s`` after the message (longer or shorter than the
client's timeout), or never.  After the fault every query must get its own reply or a typed
error, never another query's.

The late reply that broke the old ``*OPC?`` resynchronisation is ``1`` (what ``*OPC?``
answers): the old adapter took it for the marker and, with 150 ms latency, every later query
got the previous query's reply.
"""

import socketserver
import threading
import time

import pytest

from instruments.intest.thermostream import ThermoStream
from instruments.scpi import ScpiInstrument
from instruments.virtual.server import ScpiServer
from instruments.virtual.thermostream import ThermoStream as VirtualThermoStream
from optics.errors import InstrumentTimeout

IDN = "ACME Instruments,SLOWBOX-7,SN0042,2.1"
#: How long after the late reply has arrived a typed timeout may still occur, in units of latency.
SETTLE_MESSAGES = 4


class _State:
    def __init__(self, latency_s, late_s):
        self.latency_s = latency_s
        self.late_s = late_s
        self.lock = threading.Lock()
        self.late_sent_at = None          # monotonic time the late reply was written
        self.received: list[str] = []


class _SlowInstrument(socketserver.StreamRequestHandler):
    """One message at a time: sleep the latency (or the late delay), then answer."""

    def handle(self):
        state: _State = self.server.state
        for raw in self.rfile:
            line = raw.decode().strip()
            with state.lock:
                state.received.append(line)
            head, _, arg = line.partition(" ")
            if head in (":LATE?", ":LATEIDN?", ":NEVER?"):
                if head == ":NEVER?":                 # a query the instrument drops (no reply)
                    continue
                time.sleep(state.late_s)
                reply = arg if head == ":LATE?" else IDN
                self.wfile.write(reply.encode() + b"\n")
                with state.lock:
                    state.late_sent_at = time.monotonic()
                continue
            time.sleep(state.latency_s)
            if head == "*IDN?":
                reply = IDN
            elif head == "*OPC?":
                reply = "1"
            elif head == ":SYST:ERR?":
                reply = '+0,"No error"'
            elif head == ":VAL?":
                reply = arg
            else:
                continue                              # a setting: no reply
            self.wfile.write(reply.encode() + b"\n")


@pytest.fixture
def slow_server():
    """Start a server factory; yields ``start(latency_s, late_s) -> (state, resource)``."""
    servers = []

    def start(latency_s, late_s):
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SlowInstrument)
        srv.daemon_threads = True
        srv.state = _State(latency_s, late_s)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(srv)
        return srv.state, f"TCPIP::127.0.0.1::{srv.server_address[1]}::SOCKET"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


#: Queries after the fault and the replies they must get: their own, including the marker
#: queries' own replies ("1" of *OPC?, the identity) that an off-by-one stream would shift.
FOLLOW_UPS = [(":VAL? 2", "2"), ("*OPC?", "1"), ("*IDN?", IDN), (":VAL? 3", "3")]


def _run_fault(start, *, latency_s, late_factor, late_query, pause_s=0.0):
    """Fault one query, then send FOLLOW_UPS until each got its own reply.

    Returns the number of typed timeouts seen after the fault.  Asserts that no query ever
    got another query's reply, and that timeouts stop once the late reply is in.
    """
    timeout_s = latency_s + 0.1
    late_s = late_factor * timeout_s
    state, resource = start(latency_s, late_s)
    inst = ScpiInstrument(resource, timeout_s=timeout_s)
    try:
        assert inst.ask(":VAL? 0") == "0"
        sent_at = time.monotonic()
        expected = {":LATE? 1": "1", ":LATEIDN?": IDN, ":NEVER?": None}[late_query]
        if expected is not None and late_s < timeout_s:
            assert inst.ask(late_query) == expected   # in time: its own reply, nothing to resync
        else:
            with pytest.raises(InstrumentTimeout, match=r"127\.0\.0\.1"):
                inst.ask(late_query)
        time.sleep(pause_s)
        # the late reply is in (or will never come) by then; afterwards no timeout is allowed
        settled_at = sent_at + (late_s if expected is not None else 0.0) + SETTLE_MESSAGES * latency_s + timeout_s
        timeouts = 0
        for command, reply in FOLLOW_UPS:
            for _ in range(int(10 * late_factor) + 10):
                try:
                    got = inst.ask(command)
                except InstrumentTimeout:
                    assert time.monotonic() < settled_at, f"{command!r} timed out after the late reply was in"
                    timeouts += 1
                    continue
                assert got == reply, f"{command!r} got {got!r}, not its own reply {reply!r}"
                break
            else:
                pytest.fail(f"{command!r} never answered")
        return timeouts
    finally:
        inst.close()


#: (latency in s, late reply in timeouts); timeout = latency + 0.1 s.  The cases over ~1.5 s are slow.
LATE_CASES = [
    *[(latency_s, factor) for latency_s in (0.0, 0.02, 0.05) for factor in (0.6, 1.5, 3.0)],
    (0.15, 0.6), (0.15, 1.5),
    pytest.param(0.15, 3.0, marks=pytest.mark.slow),
    *[pytest.param(0.4, factor, marks=pytest.mark.slow) for factor in (0.6, 1.5, 3.0)],
]


@pytest.mark.parametrize("latency_s, late_factor", LATE_CASES)
def test_a_late_reply_that_looks_like_the_opc_marker_answers_no_later_query(slow_server, latency_s, late_factor):
    # late "1" (what *OPC? answers), arriving before the timeout, just after it, or long after
    _run_fault(slow_server, latency_s=latency_s, late_factor=late_factor, late_query=":LATE? 1")


@pytest.mark.parametrize("latency_s", [0.02, 0.15])
def test_a_late_reply_that_looks_like_the_identity_marker_answers_no_later_query(slow_server, latency_s):
    _run_fault(slow_server, latency_s=latency_s, late_factor=1.5, late_query=":LATEIDN?")


@pytest.mark.parametrize("latency_s", [0.02, 0.15])
def test_a_query_the_instrument_never_answers_does_not_block_the_session(slow_server, latency_s):
    # no reply is owed for ever: the session recovers with the marker and no further timeout
    timeouts = _run_fault(slow_server, latency_s=latency_s, late_factor=1.0, late_query=":NEVER?")
    assert timeouts == 0


@pytest.mark.parametrize("latency_s", [0.05, 0.15])
def test_a_late_reply_arriving_between_two_commands_is_discarded(slow_server, latency_s):
    # the pause lets the late "1" arrive while no command is under way
    _run_fault(slow_server, latency_s=latency_s, late_factor=1.5, late_query=":LATE? 1",
               pause_s=1.0 * (latency_s + 0.1))


def test_resync_sends_nothing_but_the_two_markers(slow_server):
    # the wire log: after the timed-out query, *OPC? and *IDN? once, then the next command
    state, resource = slow_server(0.05, 0.5)
    inst = ScpiInstrument(resource, timeout_s=0.15)
    try:
        with pytest.raises(InstrumentTimeout):
            inst.ask(":LATE? 1")
        for _ in range(20):
            try:
                assert inst.ask(":VAL? 5") == "5"
                break
            except InstrumentTimeout:
                continue
        assert inst.ask(":VAL? 6") == "6"
    finally:
        inst.close()
    assert state.received == [":LATE? 1", "*OPC?", "*IDN?", ":VAL? 5", ":VAL? 6"]


def test_thermostream_reads_its_own_temperature_after_a_late_flow_reply():
    # the reported failure: 150 ms latency, a FLOW? reply of "1" arriving late; the old
    # adapter then gave every later query the previous query's reply (TEMP? -> 1.0 degC)
    with ScpiServer(VirtualThermoStream(), latency_s=0.15) as server:
        ts = ThermoStream(server.resource, timeout_s=0.3)
        try:
            ts.flow_on = True
            server.inject_fault("slow", count=1, delay_s=0.3)
            with pytest.raises(InstrumentTimeout):
                ts.flow_on                                    # its "1" arrives 0.45 s after the query
            deadline = time.monotonic() + 3.0
            while True:
                try:
                    temperature_c = ts.temperature_c
                    break
                except InstrumentTimeout:
                    assert time.monotonic() < deadline, "TEMP? never answered"
            # TEMP? of a ThermoStream with no bench physics attached: 25.0 degC ambient, not "1"
            assert temperature_c == 25.0
            assert ts.soak_time_s == 30.0                     # SOAK? of the reset state, 30 s
            assert ts.flow_on is True
        finally:
            ts.close()
