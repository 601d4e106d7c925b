"""Recovering from a dropped connection: reconnect(), automatic retry, open_check.

Real pyvisa + pyvisa-py over TCP to an in-test SCPI server on 127.0.0.1 that logs every line
it receives per connection, can change the identity it reports, drop every connection on
demand (as an instrument that reboots) or stop listening (a dead port).  The server log is
the independent reference for what was (and was not) sent on which session.
"""

import socket
import socketserver
import threading
import time

import pytest

from instruments.keysight.n77xx import N7744A
from instruments.scpi import ScpiInstrument, control, expected_protocol
from instruments.scpi.validators import strict_range
from optics.errors import ConnectionLost, InvalidParameter, SafetyLimitError, WrongInstrument

IDN = "Keysight Technologies,N7744A,MY0001,1.0"
TIMEOUT_S = 0.3


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.idn = IDN
        self.level = 0.0
        self.log: list[tuple[int, str]] = []
        self.n_connections = 0
        self.sockets: list[socket.socket] = []
        self.login_required = False

    def lines(self, connection):
        return [line for n, line in self.log if n == connection]

    def drop_all(self):
        """Close every open connection from the instrument side (a reboot, a network fault)."""
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets.clear()
        time.sleep(0.05)                                  # let the FIN reach the client


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        state: _State = self.server.state
        with state.lock:
            state.n_connections += 1
            me = state.n_connections
            state.sockets.append(self.connection)
        awaiting_password = logged_in = False
        for raw in self.rfile:
            line = raw.decode().strip()
            with state.lock:
                state.log.append((me, line))
            if awaiting_password:                         # AQ6370-style login: OPEN "user", password
                awaiting_password, logged_in = False, True
                self.wfile.write(b"ready\n")
            elif line.startswith("OPEN "):
                awaiting_password = True
                self.wfile.write(b"AUTHENTICATE CRAM-MD5.\n")
            elif state.login_required and not logged_in:  # refuses everything before the login
                self.wfile.write(b"ERROR\n")
            elif line == "*IDN?":
                self.wfile.write(state.idn.encode() + b"\n")
            elif line == "*OPC?":
                self.wfile.write(b"1\n")
            elif line == ":SYST:ERR?":
                self.wfile.write(b'+0,"No error"\n')
            elif line == ":READ1:POW?":
                self.wfile.write(b"+1.234560E-03\n")
            elif line == ":LEV?":
                self.wfile.write(f"{state.level:.6E}\n".encode())
            elif line.startswith(":LEV "):
                state.level = float(line.split()[1])
            elif line == ":DROP?":                        # close instead of answering
                return


@pytest.fixture
def bench():
    """A fresh server per test: (state, resource string, stop function)."""
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.state = _State()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    stopped = []

    def stop():
        if not stopped:
            srv.shutdown()
            srv.server_close()
            srv.state.drop_all()
            stopped.append(True)

    yield srv.state, f"TCPIP::127.0.0.1::{srv.server_address[1]}::SOCKET", stop
    stop()


class Supply(ScpiInstrument):
    """A made-up source with a safety-limited level and no per-session pinned settings."""

    SAFETY_LIMITS = {"level_v": ("V", "max")}
    level_v = control(":LEV?", ":LEV {value}", "Control the level in V.",
                      validator=strict_range(0.0, 10.0, "V"), safety="level_v")


# --- manual reconnect() ------------------------------------------------------------------
def test_drop_then_reconnect_keeps_the_driver_and_resends_the_pinned_unit(bench):
    state, resource, _ = bench
    opm = N7744A(resource, timeout_s=TIMEOUT_S, open_check=True)
    try:
        port = opm.port(1)
        assert port.power_w == pytest.approx(1.23456e-3, rel=1e-12)
        state.drop_all()
        with pytest.raises(ConnectionLost, match=rf"127\.0\.0\.1.*closed the connection.*reconnect\(\)") as info:
            port.power_w
        assert info.value.command_sent is False
        with pytest.raises(ConnectionLost):               # stays lost until reconnect()
            port.power_w
        identity = opm.reconnect()
        assert (identity.model, identity.serial) == ("N7744A", "MY0001")
        assert port.power_w == pytest.approx(1.23456e-3, rel=1e-12)   # same channel object
        # session 1: nothing after the drop was sent; session 2: identity check, W unit pinned again
        # (each reading is followed by an error-queue read)
        assert state.lines(1) == ["*IDN?", ":SENS1:POW:UNIT 1", ":SYST:ERR?", ":READ1:POW?", ":SYST:ERR?"]
        assert state.lines(2) == ["*IDN?", ":SENS1:POW:UNIT 1", ":SYST:ERR?", ":READ1:POW?", ":SYST:ERR?"]
        # same backend settings on the new session
        assert opm.adapter._session.timeout == TIMEOUT_S * 1000
        assert opm.adapter._session.read_termination == "\n"
        assert opm.adapter._session.write_termination == "\n"
    finally:
        opm.close()


@pytest.mark.parametrize("new_idn", [
    "Keysight Technologies,N7744A,MY0002,1.0",            # another unit of the same model
    "Keysight Technologies,N7745A,MY0001,1.0",            # another model
])
def test_a_different_instrument_after_reconnect_is_refused_naming_both(bench, new_idn):
    state, resource, _ = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S, open_check=True, safety_limits={"level_v": 5.0})
    try:
        state.idn = new_idn
        state.drop_all()
        with pytest.raises(WrongInstrument, match="different instrument") as info:
            inst.reconnect()
        assert IDN in str(info.value) and new_idn in str(info.value)
        assert (info.value.expected, info.value.found) == (IDN, new_idn)
        assert isinstance(info.value, ConnectionLost)
        with pytest.raises(ConnectionLost, match="session is closed"):   # nothing goes to the stranger
            inst.level_v = 1.0
        assert state.lines(2) == ["*IDN?"]
    finally:
        inst.close()


def test_new_firmware_on_the_same_instrument_is_accepted(bench):
    state, resource, _ = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S, open_check=True)
    try:
        state.idn = "Keysight Technologies,N7744A,MY0001,2.0"
        state.drop_all()
        assert inst.reconnect().firmware == "2.0"
        assert inst.last_identity.raw == IDN              # still compared with the first one
    finally:
        inst.close()


def test_reconnect_to_a_dead_port_fails_within_the_timeout_naming_the_resource(bench):
    state, resource, stop = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S, open_check=True)
    try:
        stop()                                            # nothing listens any more
        t0 = time.monotonic()
        with pytest.raises(ConnectionLost, match=rf"{resource.replace('.', '[.]')}: cannot reconnect within 0\.5 s"):
            inst.reconnect(timeout_s=0.5)
        elapsed = time.monotonic() - t0
        assert 0.5 <= elapsed < 1.0
    finally:
        inst.close()


def test_reconnect_after_close_and_without_a_known_identity(bench):
    state, resource, _ = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S)          # default: construction sends nothing
    try:
        assert inst.last_identity is None and state.log == []
        inst.close()
        identity = inst.reconnect()                       # nothing to compare: recorded and returned
        assert identity.raw == IDN and inst.last_identity == identity
        inst.level_v = 1.5
        assert state.level == 1.5
    finally:
        inst.close()


# --- automatic reconnect -----------------------------------------------------------------
def test_setting_dropped_before_it_was_sent_is_repeated_on_the_new_session(bench):
    state, resource, _ = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S, reconnect_attempts=1, safety_limits={"level_v": 5.0})
    try:
        assert state.lines(1) == ["*IDN?"]                # identity read at construction
        state.drop_all()
        inst.level_v = 2.5                                # no exception: reconnected and repeated
        assert state.level == 2.5
        assert state.lines(1) == ["*IDN?"]                # never reached the old session
        assert state.lines(2) == ["*IDN?", ":LEV 2.5", ":SYST:ERR?"]
        assert inst.level_v == pytest.approx(2.5, rel=1e-12)
        with pytest.raises(SafetyLimitError, match="5 V"):   # limits survive the reconnect
            inst.level_v = 6.0
    finally:
        inst.close()


def test_query_whose_reply_was_lost_is_not_repeated(bench):
    state, resource, _ = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S, reconnect_attempts=1)
    try:
        with pytest.raises(ConnectionLost, match="had been sent.*NOT repeated.*reopened") as info:
            inst.ask(":DROP?")
        assert info.value.command_sent is True
        assert [line for _, line in state.log].count(":DROP?") == 1
        assert state.lines(2) == ["*IDN?"]                # reopened, identity checked, nothing repeated
        assert inst.ask("*IDN?") == IDN                   # and the new session works
    finally:
        inst.close()


def test_driver_with_pinned_unit_is_reconnected_but_the_reading_not_repeated(bench):
    # the reading would come back in the rebooted meter's default unit (dBm) if repeated alone
    state, resource, _ = bench
    opm = N7744A(resource, timeout_s=TIMEOUT_S, reconnect_attempts=1)
    try:
        port = opm.port(1)
        port.power_w
        state.drop_all()
        with pytest.raises(ConnectionLost, match="not repeated because N7744A pins settings"):
            port.power_w
        assert state.lines(2) == ["*IDN?"]
        assert port.power_w == pytest.approx(1.23456e-3, rel=1e-12)   # repeating the call works
        assert state.lines(2) == ["*IDN?", ":SENS1:POW:UNIT 1", ":SYST:ERR?", ":READ1:POW?", ":SYST:ERR?"]
    finally:
        opm.close()


def test_automatic_reconnect_gives_up_after_the_attempts(bench):
    state, resource, stop = bench
    inst = Supply(resource, timeout_s=TIMEOUT_S, reconnect_attempts=2)
    try:
        stop()
        t0 = time.monotonic()
        with pytest.raises(ConnectionLost, match=r"':LEV 1' was not sent; 2 automatic reconnect attempt\(s\)"):
            inst.level_v = 1.0
        assert time.monotonic() - t0 < 2 * TIMEOUT_S + 0.5
    finally:
        inst.close()


# --- open_check ---------------------------------------------------------------------------
def _closed_port_resource():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"TCPIP::127.0.0.1::{s.getsockname()[1]}::SOCKET"


def test_open_check_fails_at_construction_on_a_closed_port():
    resource = _closed_port_resource()
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost, match=resource.replace(".", "[.]") + ".*refused"):
        ScpiInstrument(resource, timeout_s=1.0, open_check=True)
    assert time.monotonic() - t0 < 1.0
    inst = ScpiInstrument(resource, timeout_s=1.0)        # default unchanged: fails at first use
    try:
        with pytest.raises(ConnectionLost, match="refused"):
            inst.ask("*IDN?")
    finally:
        inst.close()


def test_open_check_reads_the_identity_once(bench):
    state, resource, _ = bench
    inst = ScpiInstrument(resource, timeout_s=TIMEOUT_S, open_check=True)
    try:
        assert inst.last_identity.serial == "MY0001"
        assert state.log == [(1, "*IDN?")]
    finally:
        inst.close()


# --- bad input and other adapters ------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, 1.5, True, 101, "1"])
def test_bad_reconnect_attempts(bad):
    with pytest.raises(InvalidParameter, match="reconnect_attempts"):
        with expected_protocol(ScpiInstrument, [], reconnect_attempts=bad):
            pass


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_bad_reconnect_timeout(bench, bad):
    _, resource, _ = bench
    inst = ScpiInstrument(resource, timeout_s=TIMEOUT_S)
    try:
        with pytest.raises(InvalidParameter, match="timeout_s"):
            inst.reconnect(timeout_s=bad)
    finally:
        inst.close()


def test_protocol_adapter_cannot_reconnect_and_scripted_faults_pass_unchanged():
    with expected_protocol(ScpiInstrument, [(":X?", ConnectionLost("protocol-test: scripted"))]) as inst:
        with pytest.raises(ConnectionLost, match="^protocol-test: scripted$"):
            inst.ask(":X?")
        with pytest.raises(ConnectionLost, match="cannot reopen"):
            inst.reconnect()


def test_aq6370_logs_in_again_on_the_reconnected_session(bench):
    """The AQ6370 wants a login (and the SCPI format) on every connection: reconnect() repeats
    both before the identity check, with the credentials of the last login."""
    from instruments.yokogawa.aq6370 import AQ6370

    state, resource, _ = bench
    state.idn = "YOKOGAWA,AQ6370D,91N000000,01.01"
    state.login_required = True
    osa = AQ6370(resource, timeout_s=TIMEOUT_S)
    try:
        osa.login("anonymous", "secret")
        osa.select_scpi()
        assert osa.idn.model == "AQ6370D"
        state.drop_all()
        identity = osa.reconnect()
        assert (identity.model, identity.serial) == ("AQ6370D", "91N000000")
        # the new session: login, SCPI format, then the identity check
        assert state.lines(2)[:5] == ['OPEN "anonymous"', "secret", "CFORM1", ":SYST:ERR?", "*IDN?"]
    finally:
        osa.close()
