"""``:VIRTual:FAULt`` over SCPI: every virtual instrument takes it, and each kind reaches a user's
script through the real drivers as its typed error.

Faults are armed by a separate session (as a user's test harness would, from another process:
one test starts ``optics bench serve`` in a subprocess), never by the Python API.  Expected
values are the drivers' known settings and the documented fault semantics.
"""

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pyvisa

from instruments.bench import VIRTUAL_MODELS, BenchConfig, VirtualBench
from instruments.keysight.n77xx import N7744A
from instruments.virtual.faults import GARBAGE_REPLY, FaultKind, FaultPlan, invalidated
from instruments.virtual.physics import BenchLink
from optics.errors import ConnectionLost, GarbledReply, InstrumentTimeout, InvalidParameter, MeasurementInvalid, ScpiError

TIMEOUT_S = 0.3
WAVELENGTH_M = 1311e-9
AVERAGING_S = 0.1
#: SCPI-99 §7.2.1.5: the value an instrument reports for "not a number".
SCPI_NAN = 9.91e37


@pytest.fixture(scope="module")
def bench():
    cfg = BenchConfig.from_dict({"instruments": {"power_meter": {}, "thermal": {}}})
    with VirtualBench(cfg) as b:
        yield b


@pytest.fixture(scope="module")
def rm():
    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


class Harness:
    """A second session to one instrument that arms faults with SCPI, as a user's script would."""

    def __init__(self, rm, resource):
        self.session = rm.open_resource(resource, read_termination="\n", write_termination="\n", timeout=2000)

    def arm(self, parameters: str) -> None:
        """Arm; check it is armed with the fault query (exempt from faults, unlike :SYST:ERR?)."""
        before = self.armed()
        self.session.write(f":VIRTual:FAULt {parameters}")
        assert self.armed() != before, parameters

    def armed(self) -> str:
        return self.session.query(":VIRT:FAUL?")

    def clear(self) -> None:
        self.session.write(":VIRT:FAUL:CLE")

    def close(self) -> None:
        self.session.close()


@pytest.fixture()
def harness(bench, rm):
    h = Harness(rm, bench.resources["power_meter"])
    yield h
    h.clear()
    assert h.armed() == '""'
    h.close()


@pytest.fixture()
def meter(bench):
    """A power-meter driver with known, distinct settings."""
    opm = bench.connect("power_meter", timeout_s=TIMEOUT_S)
    port = opm.port(1)
    port.wavelength_m = WAVELENGTH_M
    port.averaging_time_s = AVERAGING_S
    yield opm, port
    opm.close()


def _healthy(port) -> None:
    """Different queries with known answers (no stale reply), and an empty error queue."""
    assert port.wavelength_m == pytest.approx(WAVELENGTH_M)
    assert port.averaging_time_s == pytest.approx(AVERAGING_S)
    port.averaging_time_s = AVERAGING_S  # a checked setting


# --- each kind, through the driver ------------------------------------------------------------------
def test_timeout_is_instrument_timeout_for_count_queries_then_recovers(harness, meter):
    opm, port = meter
    harness.arm("Timeout,1")  # kinds in any case
    t0 = time.perf_counter()
    with pytest.raises(InstrumentTimeout, match="no reply within 0.3 s"):
        port.wavelength_m
    assert time.perf_counter() - t0 < TIMEOUT_S + 0.5
    assert harness.armed() == '""'  # used up
    _healthy(port)


def test_slow_within_the_timeout_is_only_slow_and_beyond_it_a_timeout(harness, meter):
    opm, port = meter
    harness.arm("SLOW,2,150MS")
    assert harness.armed() == '"slow,2,0.15"'
    t0 = time.perf_counter()
    assert port.wavelength_m == pytest.approx(WAVELENGTH_M)
    assert port.averaging_time_s == pytest.approx(AVERAGING_S)
    assert time.perf_counter() - t0 >= 2 * 0.15
    assert harness.armed() == '""'
    harness.arm("slow,1,0.6")
    with pytest.raises(InstrumentTimeout):
        port.wavelength_m
    time.sleep(0.4)  # the late reply arrives; the adapter discards it
    _healthy(port)


def test_drop_persists_across_connections(harness, meter, bench):
    """drop,2: the driver's connection is closed, and so is the next driver's; the third works."""
    opm, port = meter
    harness.arm("drop,2")
    with pytest.raises(ConnectionLost, match="closed the connection"):
        port.wavelength_m
    fresh = N7744A(opm.resource_name, timeout_s=TIMEOUT_S)
    try:
        with pytest.raises(ConnectionLost):
            fresh.idn
    finally:
        fresh.close()
    assert harness.armed() == '""'  # the harness session itself was never dropped
    third = N7744A(opm.resource_name, timeout_s=TIMEOUT_S)
    try:
        third.port(1).wavelength_m = WAVELENGTH_M
        third.port(1).averaging_time_s = AVERAGING_S
        _healthy(third.port(1))
    finally:
        third.close()


def test_garbage_is_garbled_reply_for_count_replies(harness, meter):
    opm, port = meter
    harness.arm("garbage,2")
    with pytest.raises(GarbledReply):
        port.wavelength_m
    with pytest.raises(GarbledReply):
        opm.idn
    _healthy(port)


def test_error_is_scpi_error_after_a_checked_setting(harness, meter):
    opm, port = meter
    harness.arm("error,1")
    with pytest.raises(ScpiError) as info:
        port.averaging_time_s = AVERAGING_S
    assert info.value.code == -200
    assert "Execution error" in info.value.message
    _healthy(port)


def test_invalid_is_measurement_invalid_then_a_valid_reading(harness, meter, bench):
    opm, port = meter
    harness.arm("invalid,1")
    with pytest.raises(MeasurementInvalid, match="9.91E"):
        port.power_w
    assert harness.armed() == '""'
    assert port.power_w == pytest.approx(bench.link.meter_power_w(), rel=0.05)


def test_invalid_reaches_another_instrument(bench, rm):
    """The commands are in the shared layer: the ThermoStream's driver sees it as well."""
    thermal = bench.connect("thermal", timeout_s=TIMEOUT_S)
    h = Harness(rm, bench.resources["thermal"])
    try:
        t_c = thermal.temperature_c
        h.arm("invalid,1")
        with pytest.raises(MeasurementInvalid):
            thermal.temperature_c
        assert thermal.temperature_c == pytest.approx(t_c, abs=1.0)
    finally:
        h.clear()
        h.close()
        thermal.close()


def test_fault_commands_are_exempt_from_faults(harness):
    """With everything dropped until cleared, the fault commands still get through."""
    harness.arm("drop,INF")
    harness.arm("timeout,INFinity,0.05")
    assert harness.armed() == '"drop,INF;timeout,INF,0.05"'
    harness.clear()
    assert harness.session.query("*IDN?").startswith("Keysight Technologies,N7744A")


def test_bad_fault_parameters_queue_standard_errors(harness):
    s = harness.session
    for command, code in (
        (":VIRT:FAUL explode,1", -224),  # unknown kind
        (":VIRT:FAUL drop,0", -222),  # count < 1
        (":VIRT:FAUL drop,1.5", -104),  # not an integer
        (":VIRT:FAUL drop,1,0.5", -108),  # delay for a kind without one
        (":VIRT:FAUL slow,1,-1", -222),  # negative delay
        (":VIRT:FAUL slow", -109),  # count missing
        (":VIRT:FAUL slow,1,1,1", -108),  # too many
        (":VIRT:FAUL:CLE 3", -108),
    ):
        s.write(command)
        reply = s.query(":SYST:ERR?")
        assert int(reply.split(",")[0]) == code, (command, reply)
    assert harness.armed() == '""'


# --- every instrument, and from another process ---------------------------------------------------------
@pytest.mark.parametrize("model", sorted(VIRTUAL_MODELS))
def test_every_virtual_instrument_has_the_fault_commands(model):
    inst = VIRTUAL_MODELS[model](BenchLink())
    assert inst.handle(":VIRTual:FAULt slow,3,0.25;:VIRT:FAUL drop,1") is None
    assert inst.handle(":VIRTUAL:FAULT?") == b'"slow,3,0.25;drop,1"'
    assert inst.handle(":virt:faul:cle;:VIRT:FAUL?") == b'""'
    assert inst.errors() == []


def test_faults_armed_from_another_process_on_a_served_bench(tmp_path):
    """``optics bench serve`` in a subprocess; this process arms a timeout over SCPI."""
    config = tmp_path / "bench.toml"
    config.write_text("[instruments.power_meter]\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "optics", "bench", "serve", "--config", str(config), "--json", "--duration", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        out = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + 20.0
            while not out.rstrip().endswith(b"}") and time.monotonic() < deadline:
                if sel.select(timeout=0.5):
                    out += os.read(proc.stdout.fileno(), 4096)
        resource = json.loads(out)["power_meter"]
        rm = pyvisa.ResourceManager("@py")
        try:
            h = Harness(rm, resource)
            opm = N7744A(resource, timeout_s=TIMEOUT_S)
            port = opm.port(1)
            port.wavelength_m = WAVELENGTH_M
            h.arm("timeout,1")
            with pytest.raises(InstrumentTimeout):
                port.wavelength_m
            assert port.wavelength_m == pytest.approx(WAVELENGTH_M)
            opm.close()
            h.close()
        finally:
            rm.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


# --- the plan and the invalid-value rewrite -------------------------------------------------------------
def test_invalidated_replaces_every_number_of_numeric_replies_only():
    marker = b"9.91E+37"
    assert invalidated(b"+1.234560E-03", marker) == marker
    assert invalidated(b"1.5,2,-3E2;4.0", marker) == b"9.91E+37,9.91E+37,9.91E+37;9.91E+37"
    assert float(invalidated(b"25.0", marker)) == SCPI_NAN
    for untouched in (b"1", b"0,1", b'+0,"No error"', b"CORR", b"#14abcd", b"A,1"):
        assert invalidated(untouched, marker) is None


def test_fault_plan_python_api():
    plan = FaultPlan()
    assert FaultKind("no_reply") is FaultKind.TIMEOUT and FaultKind("GARBAGE") is FaultKind.GARBAGE
    plan.arm("garbage", count=2)
    plan.arm("error", count=None, code=-230, message="Data corrupt or stale;injected")
    assert plan.describe() == "garbage,2;error,INF"
    assert plan.take(FaultKind.GARBAGE).remaining == 2
    assert plan.take(FaultKind.GARBAGE).remaining == 1
    assert plan.take(FaultKind.GARBAGE) is None
    assert plan.take(FaultKind.ERROR).code == -230
    assert plan.take(FaultKind.ERROR) is not None  # until cleared
    plan.clear()
    assert plan.armed == ()
    for kwargs in ({"kind": "explode"}, {"kind": "drop", "count": 0}, {"kind": "drop", "delay_s": 1.0},
                   {"kind": "slow", "delay_s": -0.1}, {"kind": "error", "code": 0}):
        with pytest.raises(InvalidParameter):
            plan.arm(**kwargs)
    assert GARBAGE_REPLY.startswith(b"#?")
