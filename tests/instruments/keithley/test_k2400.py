"""Protocol tests: Keithley 2400 SMU with safety limits."""

import pytest

from instruments.keithley.k2400 import Keithley2400
from instruments.scpi.protocol import expected_protocol
from optics.errors import GarbledReply, InvalidParameter, MeasurementInvalid, SafetyLimitError

OK = '0,"No error"'


def test_every_command():
    pairs = [(":SOUR:FUNC VOLT", None), (":SYST:ERR?", OK), (":SOUR:FUNC?", "VOLT"),
             (":SOUR:VOLT:LEV -1.5", None), (":SYST:ERR?", OK), (":SOUR:VOLT:LEV?", "-1.500000E+00"),
             (":SOUR:CURR:LEV 0.001", None), (":SYST:ERR?", OK), (":SOUR:CURR:LEV?", "+1.000000E-03"),
             (":SENS:CURR:PROT 0.01", None), (":SYST:ERR?", OK), (":SENS:CURR:PROT?", "+1.000000E-02"),
             (":SENS:VOLT:PROT 2", None), (":SYST:ERR?", OK), (":SENS:VOLT:PROT?", "+2.000000E+00"),
             (":OUTP 1", None), (":SYST:ERR?", OK), (":OUTP?", "1"),
             (":FORM:ELEM VOLT,CURR", None), (":SYST:ERR?", OK), (":READ?", "-1.499990E+00,-2.345000E-04"), (":SYST:ERR?", OK),
             (":READ?", "-1.5E+00,-2.0E-04"), (":SYST:ERR?", OK), (":READ?", "-1.5E+00,-3.0E-04"), (":SYST:ERR?", OK),
             (":OUTP 0", None), (":SYST:ERR?", OK)]
    with expected_protocol(Keithley2400, pairs) as smu:
        smu.source_function = "voltage"
        assert smu.source_function == "voltage"
        smu.source_voltage_v = -1.5
        assert smu.source_voltage_v == -1.5
        smu.source_current_a = 1e-3
        assert smu.source_current_a == 1e-3
        smu.compliance_current_a = 0.01
        assert smu.compliance_current_a == 0.01
        smu.compliance_voltage_v = 2
        assert smu.compliance_voltage_v == 2.0
        smu.output_enabled = True
        assert smu.output_enabled
        assert smu.measure() == (pytest.approx(-1.49999), pytest.approx(-2.345e-4))
        assert smu.voltage_v == -1.5
        assert smu.current_a == -3e-4
        smu.shutdown()


def test_overflow_and_garbled_readings():
    pairs = [(":FORM:ELEM VOLT,CURR", None), (":SYST:ERR?", OK), (":READ?", "+9.910000E+37,+1.0E-3"), (":SYST:ERR?", OK),
             (":READ?", "1.0"), (":SYST:ERR?", OK)]
    with expected_protocol(Keithley2400, pairs) as smu:
        with pytest.raises(MeasurementInvalid):
            smu.measure()
        with pytest.raises(GarbledReply, match="expected 2"):
            smu.measure()


def test_safety_limits_bound_magnitude():
    with expected_protocol(Keithley2400, [], safety_limits={"voltage_v": 5.0, "current_a": 0.05}) as smu:
        with pytest.raises(SafetyLimitError):
            smu.source_voltage_v = -5.5                    # |V| counts
        with pytest.raises(SafetyLimitError):
            smu.compliance_current_a = 0.1
        with pytest.raises(SafetyLimitError):
            smu.compliance_voltage_v = 10.0
        with pytest.raises(InvalidParameter):
            smu.source_voltage_v = 300.0


def test_reset_forgets_the_reading_elements_pin():
    # after *RST the reading elements must be pinned to VOLT,CURR again before :READ?
    pairs = [(":FORM:ELEM VOLT,CURR", None), (":SYST:ERR?", OK), (":READ?", "+1.0E+00,+1.0E-03"), (":SYST:ERR?", OK),
             ("*RST", None), (":SYST:ERR?", OK),
             (":FORM:ELEM VOLT,CURR", None), (":SYST:ERR?", OK), (":READ?", "+2.0E+00,+2.0E-03"), (":SYST:ERR?", OK)]
    with expected_protocol(Keithley2400, pairs) as smu:
        assert smu.measure() == (1.0, 1e-3)
        smu.reset()
        assert smu.measure() == (2.0, 2e-3)
