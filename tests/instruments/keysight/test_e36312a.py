"""Protocol tests: Keysight E36312A supply with safety limits."""

import pytest

from instruments.keysight.e36312a import E36312A
from instruments.scpi.protocol import expected_protocol
from optics.errors import InvalidParameter, SafetyLimitError

OK = '+0,"No error"'


def test_every_command():
    pairs = [("VOLT 3.3, (@1)", None), (":SYST:ERR?", OK), ("VOLT? (@1)", "+3.30000000E+00"),
             ("CURR 2.5, (@1)", None), (":SYST:ERR?", OK), ("CURR? (@1)", "+2.50000000E+00"),
             ("OUTP 1, (@1)", None), (":SYST:ERR?", OK), ("OUTP? (@1)", "1"),
             ("MEAS:VOLT? (@1)", "+3.29950000E+00"), (":SYST:ERR?", OK), ("MEAS:CURR? (@1)", "+1.23400000E+00"), (":SYST:ERR?", OK),
             ("VOLT 12, (@2)", None), (":SYST:ERR?", OK), ("CURR 0.5, (@3)", None), (":SYST:ERR?", OK)]
    with expected_protocol(E36312A, pairs) as psu:
        ch = psu.channel(1)
        ch.voltage_setpoint_v = 3.3
        assert ch.voltage_setpoint_v == 3.3
        ch.current_limit_a = 2.5
        assert ch.current_limit_a == 2.5
        ch.output_enabled = True
        assert ch.output_enabled
        assert ch.voltage_v == pytest.approx(3.2995)
        assert ch.current_a == pytest.approx(1.234)
        psu.channel(2).voltage_setpoint_v = 12
        psu.channel(3).current_limit_a = 0.5


def test_ranges_per_output_refused():
    with expected_protocol(E36312A, []) as psu:
        with pytest.raises(InvalidParameter):
            psu.channel(1).voltage_setpoint_v = 7.0        # output 1 is the 6 V output
        with pytest.raises(InvalidParameter):
            psu.channel(2).current_limit_a = 2.0           # outputs 2, 3 are 1 A
        with pytest.raises(InvalidParameter):
            psu.channel(4)


def test_safety_limits_global_and_per_channel():
    limits = {"ch1_voltage_v": 3.465, "current_a": 1.5}
    pairs = [("VOLT 3.465, (@1)", None), (":SYST:ERR?", OK), ("VOLT 20, (@2)", None), (":SYST:ERR?", OK)]
    with expected_protocol(E36312A, pairs, safety_limits=limits) as psu:
        with pytest.raises(SafetyLimitError, match="ch1_voltage_v = 3.6 V"):
            psu.channel(1).voltage_setpoint_v = 3.6
        with pytest.raises(SafetyLimitError, match="current_a"):
            psu.channel(1).current_limit_a = 2.0
        psu.channel(1).voltage_setpoint_v = 3.465
        psu.channel(2).voltage_setpoint_v = 20.0          # no limit on output 2 voltage


def test_shutdown_switches_all_off():
    pairs = [(f"OUTP 0, (@{n})", None) for n in (1, 2, 3)]
    pairs = [p for pair in pairs for p in (pair, (":SYST:ERR?", OK))]
    with expected_protocol(E36312A, pairs) as psu:
        psu.shutdown()


def test_shutdown_switches_every_output_off_even_if_one_reports_an_error():
    # a stale error in the queue must not leave outputs 2 and 3 on
    from optics.errors import ScpiError

    pairs = [("OUTP 0, (@1)", None), (":SYST:ERR?", '-221,"Settings conflict"'), (":SYST:ERR?", OK),
             ("OUTP 0, (@2)", None), (":SYST:ERR?", OK),
             ("OUTP 0, (@3)", None), (":SYST:ERR?", OK)]
    with expected_protocol(E36312A, pairs) as psu:
        with pytest.raises(ScpiError, match="Settings conflict"):
            psu.shutdown()
