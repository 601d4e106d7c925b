"""Protocol tests: inTEST ThermoStream."""

import pytest

from instruments.intest.thermostream import ThermoStream
from instruments.scpi.protocol import expected_protocol
from optics.errors import InstrumentTimeout, InvalidParameter, MeasurementInvalid, SafetyLimitError, ScpiError


def _set(cmd):
    return [(cmd, None), ("EROR?", "0")]


def test_every_command():
    pairs = [("%RM", None), *_set("HEAD 1"), ("HEAD?", "1"), *_set("FLOW 1"), ("FLOW?", "1"),
             *_set("WNDW 1"), ("WNDW?", "1.0"), *_set("SOAK 30"), ("SOAK?", "30"),
             *_set("SETN 0"), *_set("SETP 85.0"), *_set("SETN 2"), *_set("SETP -40.0"), *_set("SETN 1"), *_set("SETP 22.5"),
             ("TEMP?", "84.9"), ("TMPA?", "86.2"), ("TMPD?", "84.7"), ("TECR?", "0"), ("TECR?", "1"),
             ("%GL", None), *_set("FLOW 0")]
    with expected_protocol(ThermoStream, pairs) as ts:
        ts.remote()
        ts.head_down = True
        assert ts.head_down
        ts.flow_on = True
        assert ts.flow_on
        ts.window_k = 1
        assert ts.window_k == 1.0
        ts.soak_time_s = 30
        assert ts.soak_time_s == 30.0
        ts.set_temperature(85.0)           # hot set point 0
        ts.set_temperature(-40.0)          # cold set point 2
        ts.set_temperature(22.5)           # ambient set point 1
        assert ts.temperature_c == 84.9
        assert ts.air_temperature_c == 86.2
        assert ts.dut_temperature_c == 84.7
        assert ts.at_temperature is False
        assert ts.at_temperature is True
        ts.local()
        ts.shutdown()


def test_invalid_temperature_above_400():
    with expected_protocol(ThermoStream, [("TEMP?", "999.9"), ("TMPD?", "400.1")]) as ts:
        with pytest.raises(MeasurementInvalid, match="999.9"):
            _ = ts.temperature_c
        with pytest.raises(MeasurementInvalid):
            _ = ts.dut_temperature_c


def test_wait_until_at_temperature():
    with expected_protocol(ThermoStream, [("TECR?", "0"), ("TECR?", "2"), ("TECR?", "3")], poll_interval_s=0.0) as ts:
        ts.wait_until_at_temperature(60)                  # bit 0 of 3 set
    with expected_protocol(ThermoStream, [("TECR?", "0")]) as ts:
        with pytest.raises(InstrumentTimeout, match="not at temperature"):
            ts.wait_until_at_temperature(0)


def test_error_register_raises():
    with expected_protocol(ThermoStream, [("SETN 0", None), ("EROR?", "16")]) as ts:
        with pytest.raises(ScpiError) as info:
            ts.set_temperature(100.0)
    assert info.value.code == 16 and info.value.command == "SETN 0"


def test_limits_refused_before_sending():
    limits = {"temperature_max_c": 85.0, "temperature_min_c": -5.0}
    with expected_protocol(ThermoStream, [], safety_limits=limits) as ts:
        with pytest.raises(SafetyLimitError):
            ts.set_temperature(90.0)
        with pytest.raises(SafetyLimitError):
            ts.set_temperature(-10.0)
        with pytest.raises(InvalidParameter):
            ts.set_temperature(300.0)
        with pytest.raises(InvalidParameter):
            ts.window_k = 20


def test_limit_applies_to_the_rounded_set_point_sent():
    # SETP carries 0.1 degC; 85.06 would go out as "85.1", above a 85.06 degC limit
    limits = {"temperature_max_c": 85.06, "temperature_min_c": -40.06}
    with expected_protocol(ThermoStream, [*_set("SETN 0"), *_set("SETP 85.0")], safety_limits=limits) as ts:
        with pytest.raises(SafetyLimitError, match="85.1"):
            ts.set_temperature(85.06)
        with pytest.raises(SafetyLimitError, match="-40.1"):
            ts.set_temperature(-40.06)
        ts.set_temperature(85.04)                           # rounds down to 85.0: inside the limit


def test_reset_returns_to_the_operator_screen():
    # *RST forces the Cycle screen, where SETN 0..17 are cycle set points, not hot/ambient/cold;
    # set_temperature relies on the Operator screen, which RSTO restores (PyMeasure ATS-525 notes)
    with expected_protocol(ThermoStream, [*_set("RSTO"), *_set("SETN 0"), *_set("SETP 85.0")]) as ts:
        ts.reset()
        ts.set_temperature(85.0)


@pytest.mark.parametrize(("temperature_c", "setpoint"), [
    (-40.0, 2), (19.9, 2), (19.96, 2), (20.0, 2),      # cold at or below 20 degC (19.96 is sent as 20.0)
    (20.1, 1), (25.0, 1), (27.0, 1), (29.9, 1),         # ambient strictly between
    (29.96, 0), (30.0, 0), (30.1, 0), (85.0, 0),        # hot at or above 30 degC
])
def test_set_point_choice_at_the_20_and_30_degc_boundaries(temperature_c, setpoint):
    # ATS Interface & Applications Manual rules as PyMeasure's ATSBase.set_temperature applies
    # them: SETN 2 if T <= 20, 1 if T < 30, 0 if T >= 30 (main used 20 / 25 and sent 20.0 as
    # ambient, 27.0 as hot)
    sent = f"{round(temperature_c * 10) / 10:.1f}"
    with expected_protocol(ThermoStream, [*_set(f"SETN {setpoint}"), *_set(f"SETP {sent}")]) as ts:
        ts.set_temperature(temperature_c)
