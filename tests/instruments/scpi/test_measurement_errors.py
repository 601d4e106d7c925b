"""The error queue is read after every measurement query, and an error there is a ScpiError.

A power meter that queues -230 "Data corrupt or stale" (SCPI-99 Vol. 2 §21.8.6) *with* its
reading still answers a number; the reading must not be returned.  Checked end to end with
real pyvisa + pyvisa-py against an in-test meter on 127.0.0.1 whose error queue is the
independent reference (what it holds, what was read), and with scripted protocols for the
rule of which queries are measurements and how it is configured.
"""

import collections
import socketserver
import threading

import pytest

from instruments.bench import BenchConfig, VirtualBench
from instruments.keysight.n77xx import N7744A
from instruments.scpi import Channel, ProtocolAdapter, ScpiInstrument, control, expected_protocol, measurement
from instruments.scpi.instrument import MEASUREMENT_QUERY
from optics.errors import InvalidType, ScpiError

OK = '+0,"No error"'
STALE = '-230,"Data corrupt or stale"'
READING = "+1.234560E-03"


class _MeterState:
    def __init__(self):
        self.lock = threading.Lock()
        self.errors: collections.deque[str] = collections.deque()
        self.stale_next_reading = False
        self.log: list[str] = []


class _Meter(socketserver.StreamRequestHandler):
    """An N7744A-like meter: a reading may queue -230 while it still answers the value."""

    def handle(self):
        state: _MeterState = self.server.state
        for raw in self.rfile:
            line = raw.decode().strip()
            with state.lock:
                state.log.append(line)
                if line == ":READ1:POW?":
                    if state.stale_next_reading:
                        state.stale_next_reading = False
                        state.errors.append(STALE)
                    reply = READING
                elif line == ":SYST:ERR?":
                    reply = state.errors.popleft() if state.errors else OK
                elif line == "*IDN?":
                    reply = "Keysight Technologies,N7744A,MY0001,1.0"
                else:
                    continue                              # settings (the W unit): no reply
            self.wfile.write(reply.encode() + b"\n")


@pytest.fixture
def meter():
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Meter)
    srv.daemon_threads = True
    srv.state = _MeterState()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield srv.state, f"TCPIP::127.0.0.1::{srv.server_address[1]}::SOCKET"
    srv.shutdown()
    srv.server_close()


def test_a_reading_queued_with_data_corrupt_or_stale_raises_instead_of_returning(meter):
    state, resource = meter
    opm = N7744A(resource, timeout_s=1.0)
    try:
        port = opm.port(1)
        assert port.power_w == pytest.approx(1.23456e-3, rel=1e-12)      # a clean reading
        state.stale_next_reading = True
        with pytest.raises(ScpiError, match=r"Data corrupt or stale.*'\+1\.234560E-03' was discarded") as info:
            port.power_w
        assert info.value.code == -230
        assert info.value.command == ":READ1:POW?"
        assert len(state.errors) == 0                                    # the queue was read empty
        assert port.power_w == pytest.approx(1.23456e-3, rel=1e-12)      # and the next reading is fine
    finally:
        opm.close()
    # the unit pinned once (checked), then every reading followed by error-queue reads until
    # "0,No error": one after a clean reading, two after the stale one
    assert state.log == [":SENS1:POW:UNIT 1", ":SYST:ERR?", ":READ1:POW?", ":SYST:ERR?",
                         ":READ1:POW?", ":SYST:ERR?", ":SYST:ERR?", ":READ1:POW?", ":SYST:ERR?"]


def test_the_virtual_power_meter_with_an_injected_stale_error_fails_the_reading():
    cfg = BenchConfig.from_dict({"instruments": {"power_meter": {}}})
    with VirtualBench(cfg) as bench:
        opm = bench.connect("power_meter", timeout_s=1.0)
        try:
            port = opm.port(1)
            port.power_w
            bench.inject_fault("power_meter", "error", code=-230, message="Data corrupt or stale")
            with pytest.raises(ScpiError, match="Data corrupt or stale") as info:
                port.power_w
            assert (info.value.code, info.value.command) == (-230, ":READ1:POW?")
            assert port.power_w > 0                                       # the queue is empty again
        finally:
            opm.close()


class Meter(ScpiInstrument):
    """A made-up instrument with one declared measurement and one read/write control."""

    temperature_c = measurement(":SENS:TEMP?", "Measure the temperature in degC.")
    level_v = control(":LEV?", ":LEV {value}", "Control the level in V.")


class Port(Channel):
    power_w = measurement(":PORT{n}:POW?", "Measure the port power in W.")


@pytest.mark.parametrize("command", [
    ":READ?", "READ?", ":READ1:POW?", ":read2:chan1:pow?", ":FETC1:POW?", ":FETCh:VOLT?", "FETCH?",
    "MEAS:POW?", ":MEASure:EYE:TDEQ?", "MEAS:VOLT? (@1)", ":MEASURE3:CURR?", ":MEASure:EYE:TDEQ:STATus?",
    ":PLUG:ERAT:FETC:DATA? 'E1'", ":SENS:READ?",
])
def test_scpi_measurement_instructions_are_measurement_queries(command):
    # SCPI-99 Vol. 1 §3: MEASure?, READ?, FETCh? as a header node (short and long form,
    # numeric suffix, any case)
    assert MEASUREMENT_QUERY.match(command)
    with expected_protocol(ScpiInstrument, [(command, "1.5"), (":SYST:ERR?", OK)]) as inst:
        assert inst.ask_float(command) == 1.5


@pytest.mark.parametrize("command", [
    "*IDN?", ":SYST:ERR?", ":SENS1:POW:WAV?", ":READY?", ":MEASX?", ":READ1:POW:UNIT 1", ":FETCHX?",
    ":PLUG:ERAT:RUN:STAT? 'E1'", ":SENS:THREAD?", ":MEASure:EYE:TDEQ:SOURce1 FUNCtion1",
])
def test_other_queries_and_settings_are_not(command):
    assert not MEASUREMENT_QUERY.match(command)


def test_declared_measurements_check_the_queue_and_controls_do_not():
    pairs = [(":SENS:TEMP?", "+2.5E+01"), (":SYST:ERR?", OK), (":LEV?", "+1.0E+00"),
             (":SENS:TEMP?", "+2.6E+01"), (":SYST:ERR?", '-222,"Data out of range"'), (":SYST:ERR?", STALE),
             (":SYST:ERR?", OK)]
    with expected_protocol(Meter, pairs) as inst:
        assert inst.temperature_c == 25.0
        assert inst.level_v == 1.0
        with pytest.raises(ScpiError, match=r"Data out of range \(then: -230,Data corrupt or stale\) "
                                            r"\[protocol-test\]; the reply '\+2\.6E\+01' was discarded") as info:
            inst.temperature_c
    assert (info.value.code, info.value.command) == (-222, ":SENS:TEMP?")


def test_a_channel_measurement_reads_its_parent_queue():
    with expected_protocol(ScpiInstrument, [(":PORT3:POW?", "+1.0E-03"), (":SYST:ERR?", STALE), (":SYST:ERR?", OK)]) as inst:
        with pytest.raises(ScpiError, match="Data corrupt or stale") as info:
            Port(inst, n=3).power_w
    assert info.value.command == ":PORT3:POW?"


def test_a_measurement_block_is_checked_too():
    block = b"#18" + bytes(8)
    with expected_protocol(ScpiInstrument, [(":FETC:ARR?", block), (":SYST:ERR?", STALE), (":SYST:ERR?", OK)]) as inst:
        with pytest.raises(ScpiError, match="the 8-byte block was discarded"):
            inst.ask_block(":FETC:ARR?")
    with expected_protocol(ScpiInstrument, [(":WAV:DATA?", block)]) as inst:
        assert inst.ask_block(":WAV:DATA?") == bytes(8)                  # not a measurement query


class QuietMeter(Meter):
    """A driver for an instrument without an error queue."""

    CHECK_ERRORS_AFTER_MEASUREMENTS = False


def test_the_check_is_configurable_per_driver_and_per_instance():
    reading = [(":READ?", "+1.0E+00"), (":SENS:TEMP?", "+2.5E+01")]
    checked = [(":READ?", "+1.0E+00"), (":SYST:ERR?", OK), (":SENS:TEMP?", "+2.5E+01"), (":SYST:ERR?", OK)]
    for cls, kwargs, pairs in [
        (QuietMeter, {}, reading),                                     # the driver says: no queue
        (QuietMeter, {"check_measurement_errors": True}, checked),     # the instance says otherwise
        (Meter, {"check_measurement_errors": False}, reading),
        (Meter, {"check_errors": False}, reading),                     # no error checking at all
        (Meter, {"check_measurement_errors": None}, checked),          # None: the driver's default
    ]:
        with expected_protocol(cls, pairs, **kwargs) as inst:
            assert inst.ask_float(":READ?") == 1.0
            assert inst.temperature_c == 25.0


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_check_measurement_errors_must_be_a_bool(value):
    with pytest.raises(InvalidType, match="check_measurement_errors"):
        Meter(ProtocolAdapter([]), check_measurement_errors=value)
