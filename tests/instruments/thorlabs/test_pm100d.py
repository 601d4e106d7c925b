"""Protocol tests: Thorlabs PM100D."""

import pytest

from instruments.scpi.protocol import expected_protocol
from instruments.thorlabs.pm100d import PM100D
from optics.errors import GarbledReply, InvalidParameter, InvalidType

OK = '+0,"No error"'


def test_every_command():
    pairs = [("SENS:CORR:WAV 1310", None), ("SYST:ERR?", OK), ("SENS:CORR:WAV?", "1.310000E+3"),
             ("SENS:AVER:COUN 100", None), ("SYST:ERR?", OK), ("SENS:AVER:COUN?", "100"),
             ("SENS:POW:RANG:AUTO 1", None), ("SYST:ERR?", OK), ("SENS:POW:RANG:AUTO?", "1"),
             ("SENS:POW:UNIT W", None), ("SYST:ERR?", OK), ("MEAS:POW?", "1.000000E-5"), ("SYST:ERR?", OK),
             ("MEAS:POW?", "1.000000E-3"), ("SYST:ERR?", OK),
             ("SENS:CORR:COLL:ZERO", None), ("SYST:ERR?", OK),
             ("SYST:SENS:IDN?", '"S122C","12345678","07-Nov-2024",1,18,289')]
    with expected_protocol(PM100D, pairs) as pm:
        pm.wavelength_m = 1310e-9                   # 1310 nm on the wire
        assert pm.wavelength_m == pytest.approx(1310e-9, rel=1e-12)
        pm.averaging_count = 100
        assert pm.averaging_count == 100
        pm.auto_range = True
        assert pm.auto_range
        assert pm.power_w == 1e-5
        assert pm.power_dbm == pytest.approx(0.0, abs=1e-12)
        pm.zero()
        s = pm.sensor
        assert (s.name, s.serial, s.sensor_type, s.flags) == ("S122C", "12345678", 1, 289)
        assert s.wavelength_settable                 # 289 = 256 + 32 + 1


def test_refusals_and_garbled_sensor():
    with expected_protocol(PM100D, [("SYST:SENS:IDN?", "S122C,123")]) as pm:
        with pytest.raises(InvalidParameter):
            pm.wavelength_m = 30e-6
        with pytest.raises(InvalidType):
            pm.averaging_count = 1.5
        with pytest.raises(GarbledReply):
            _ = pm.sensor


def test_reset_forgets_the_watt_unit_pin():
    pairs = [("SENS:POW:UNIT W", None), ("SYST:ERR?", OK), ("MEAS:POW?", "1.0E-3"), ("SYST:ERR?", OK),
             ("*RST", None), ("SYST:ERR?", OK),
             ("SENS:POW:UNIT W", None), ("SYST:ERR?", OK), ("MEAS:POW?", "2.0E-3"), ("SYST:ERR?", OK)]
    with expected_protocol(PM100D, pairs) as pm:
        assert pm.power_w == 1e-3
        pm.reset()
        assert pm.power_w == 2e-3
