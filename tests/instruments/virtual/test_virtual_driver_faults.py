"""Every injected fault reaches the user as its typed error through the real drivers, and the
driver works again afterwards; an unreachable resource fails within its timeout.

Real pyvisa + pyvisa-py over TCP to the virtual bench's servers.  Recovery is checked with
*different* queries whose answers are known and distinct, so a driver left one reply behind
(answering each query with the previous one's reply) is caught.
"""

import socket
import threading
import time

import pytest

from instruments.bench import BenchConfig, VirtualBench
from instruments.keysight.flexdca import FlexDCA
from instruments.keysight.n77xx import N7744A
from optics.errors import ConnectionLost, GarbledReply, InstrumentTimeout, ScpiError

TIMEOUT_S = 0.3
WAVELENGTH_M = 1311e-9
AVERAGING_S = 0.1


@pytest.fixture(scope="module")
def bench():
    cfg = BenchConfig.from_dict({"instruments": {"power_meter": {}, "attenuator": {}}})
    with VirtualBench(cfg) as b:
        yield b


@pytest.fixture()
def meter(bench):
    """A power-meter driver with known, distinct settings; faults cleared afterwards."""
    opm = bench.connect("power_meter", timeout_s=TIMEOUT_S)
    port = opm.port(1)
    port.wavelength_m = WAVELENGTH_M
    port.averaging_time_s = AVERAGING_S
    yield opm, port
    bench.clear_faults()
    opm.close()


def _healthy(port) -> None:
    """Several different queries, each with its own known answer (no stale replies)."""
    assert port.wavelength_m == pytest.approx(WAVELENGTH_M)
    assert port.averaging_time_s == pytest.approx(AVERAGING_S)
    assert port.wavelength_m == pytest.approx(WAVELENGTH_M)
    port.averaging_time_s = AVERAGING_S  # a checked setting: the error queue is empty


def test_no_reply_is_a_timeout_naming_the_resource_then_recovers(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "no_reply")
    t0 = time.perf_counter()
    with pytest.raises(InstrumentTimeout, match=r"TCPIP::127\.0\.0\.1::\d+::SOCKET.*no reply within 0\.3 s"):
        port.averaging_time_s
    assert time.perf_counter() - t0 < TIMEOUT_S + 0.5
    _healthy(port)


def test_garbage_is_garbled_reply_then_recovers(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "garbage")
    with pytest.raises(GarbledReply, match=opm.resource_name.replace(".", r"\.")):
        port.wavelength_m
    _healthy(port)


def test_garbage_through_the_attenuator_driver(bench):
    voa = bench.connect("attenuator", timeout_s=TIMEOUT_S)
    try:
        ch = voa.channel(1)
        ch.attenuation_db = 7.0
        bench.inject_fault("attenuator", "garbage")
        with pytest.raises(GarbledReply):
            ch.attenuation_db
        assert voa.idn.model == "N7764A"
        assert ch.attenuation_db == pytest.approx(7.0)
    finally:
        bench.clear_faults()
        voa.close()


def test_garbled_idn_is_garbled_reply(bench):
    voa = bench.connect("attenuator", timeout_s=TIMEOUT_S)
    try:
        bench.inject_fault("attenuator", "garbage")
        with pytest.raises(GarbledReply):
            voa.idn
    finally:
        bench.clear_faults()
        voa.close()


def test_scpi_error_is_raised_with_code_and_message_then_cleared(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "error", code=-222, message="Data out of range;injected")
    with pytest.raises(ScpiError) as info:
        port.averaging_time_s = AVERAGING_S
    assert info.value.code == -222
    assert "injected" in str(info.value)
    _healthy(port)


def test_slow_reply_within_the_timeout_is_only_slow(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "slow", delay_s=0.15)
    t0 = time.perf_counter()
    assert port.wavelength_m == pytest.approx(WAVELENGTH_M)
    assert time.perf_counter() - t0 >= 0.15
    _healthy(port)


def test_slow_reply_beyond_the_timeout_is_a_timeout_then_recovers(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "slow", delay_s=0.6)
    with pytest.raises(InstrumentTimeout, match="no reply within 0.3 s"):
        port.wavelength_m
    time.sleep(0.5)  # the late reply has arrived; the adapter discards it before the next command
    _healthy(port)


def test_next_command_right_after_a_late_reply_timeout_gets_its_own_reply(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "slow", delay_s=0.6)
    with pytest.raises(InstrumentTimeout):
        port.wavelength_m
    assert port.averaging_time_s == pytest.approx(AVERAGING_S)  # got 1.311e-06, the late wavelength


def test_dropped_connection_is_connection_lost_and_a_new_session_works(bench, meter):
    opm, port = meter
    bench.inject_fault("power_meter", "drop")
    with pytest.raises(ConnectionLost, match=opm.resource_name.replace(".", r"\.") + ".*closed the connection"):
        port.wavelength_m
    # the drivers cannot reconnect (VisaAdapter has no reopen): the old session keeps failing
    # fast and typed -- never a hang, never a stale value ...
    t0 = time.perf_counter()
    with pytest.raises(ConnectionLost):
        port.averaging_time_s
    assert time.perf_counter() - t0 < TIMEOUT_S
    # ... and a new driver on the same resource works at once
    fresh = N7744A(opm.resource_name, timeout_s=TIMEOUT_S)
    try:
        _healthy(fresh.port(1))
    finally:
        fresh.close()


# --- unreachable resources ---------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("driver", [N7744A, FlexDCA])
def test_closed_port_fails_within_the_timeout_naming_the_resource(driver):
    """Nothing listens: pyvisa-py opens the SOCKET session without connecting, so the driver
    is constructed and its first command fails, typed and at once (refused)."""
    resource = f"TCPIP::127.0.0.1::{_closed_port()}::SOCKET"
    t0 = time.perf_counter()
    with pytest.raises(ConnectionLost, match=resource.replace(".", r"\.") + ".*(refused|cannot open)"):
        inst = driver(resource, timeout_s=1.0)
        try:
            inst.idn
        finally:
            inst.close()
    assert time.perf_counter() - t0 < 1.0


def test_silent_listener_times_out_within_the_timeout_naming_the_resource():
    """A host that accepts the connection but never answers: the first query times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    resource = f"TCPIP::127.0.0.1::{listener.getsockname()[1]}::SOCKET"
    try:
        opm = N7744A(resource, timeout_s=0.4)
        t0 = time.perf_counter()
        with pytest.raises(InstrumentTimeout, match=resource.replace(".", r"\.") + ": no reply within 0.4 s"):
            opm.idn
        assert 0.35 < time.perf_counter() - t0 < 0.4 + 0.5
        opm.close()
    finally:
        thread.join(1.0)
        for conn in accepted:
            conn.close()
        listener.close()
