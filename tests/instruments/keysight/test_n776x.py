"""Protocol tests: Keysight N7762A/N7764A attenuators."""

import pytest

from instruments.keysight.n776x import N7762A, N7764A
from instruments.scpi.protocol import expected_protocol
from optics.errors import InvalidParameter, SafetyLimitError

OK = '+0,"No error"'


def test_attenuation_mode_every_command():
    pairs = [
        (":INP3:ATT 10", None), (":SYST:ERR?", OK), (":INP3:ATT?", "+1.000000E+01"),
        (":INP3:OFFS 0.5", None), (":SYST:ERR?", OK), (":INP3:OFFS?", "+5.0E-01"),
        (":INP3:ATT:SPE 10", None), (":SYST:ERR?", OK), (":INP3:ATT:SPE?", "+1.0E+01"),
        (":INP3:WAV 1.31e-06", None), (":SYST:ERR?", OK), (":INP3:WAV?", "+1.310000E-06"),
        (":OUTP3:STAT 1", None), (":SYST:ERR?", OK), (":OUTP3:STAT?", "1"),
        (":OUTP3:APMode 0", None), (":SYST:ERR?", OK), (":OUTP3:APMode?", "+0"),
        (":OUTP3:ATIM 0.1", None), (":SYST:ERR?", OK), (":OUTP3:ATIM?", "+1.0E-01"),
    ]
    with expected_protocol(N7762A, pairs) as voa:
        ch = voa.channel(3)
        ch.attenuation_db = 10
        assert ch.attenuation_db == 10.0
        ch.attenuation_offset_db = 0.5
        assert ch.attenuation_offset_db == 0.5
        ch.attenuation_speed_db_per_s = 10
        assert ch.attenuation_speed_db_per_s == 10.0
        ch.wavelength_m = 1310e-9
        assert ch.wavelength_m == pytest.approx(1.31e-6)
        ch.shutter_open = True
        assert ch.shutter_open is True
        ch.mode = "attenuation"
        assert ch.mode == "attenuation"
        ch.monitor_averaging_time_s = 0.1
        assert ch.monitor_averaging_time_s == 0.1


def test_power_control_mode_and_monitor():
    pairs = [
        (":OUTP1:APMode 1", None), (":SYST:ERR?", OK),
        (":OUTP1:POW:UN 1", None), (":SYST:ERR?", OK),
        (":OUTP1:POW 0.0001", None), (":SYST:ERR?", OK),
        (":OUTP1:POW:CONTR 1", None), (":SYST:ERR?", OK),
        (":OUTP1:POW?", "+1.000000E-04"),
        (":READ1:POW?", "+9.990000E-05"),
        (":OUTP1:POW 0.001", None), (":SYST:ERR?", OK),
    ]
    with expected_protocol(N7764A, pairs) as voa:
        ch = voa.channel(1)
        ch.mode = "power"
        ch.output_power_w = 1e-4
        ch.power_control = True
        assert ch.output_power_dbm == pytest.approx(-10.0, abs=1e-12)
        assert ch.power_w == pytest.approx(9.99e-5)
        ch.output_power_dbm = 0.0          # 0 dBm = 1 mW on the wire


def test_safety_limits_refused_before_sending():
    limits = {"attenuation_db": 3.0, "output_power_w": 1e-3}
    with expected_protocol(N7764A, [], safety_limits=limits) as voa:
        with pytest.raises(SafetyLimitError, match="attenuation_db = 2 dB is below the minimum 3 dB"):
            voa.channel(5).attenuation_db = 2.0
        with pytest.raises(SafetyLimitError):
            voa.channel(5).output_power_w = 2e-3
        with pytest.raises(SafetyLimitError):
            voa.channel(7).output_power_dbm = 3.0
        with pytest.raises(InvalidParameter):
            voa.channel(5).attenuation_db = 46.0
        with pytest.raises(InvalidParameter):
            voa.channel(2)
        with pytest.raises(InvalidParameter):
            voa.channel(1).mode = "bypass"


def test_shutdown_closes_shutters():
    pairs = [(":OUTP1:STAT 0", None), (":SYST:ERR?", OK), (":OUTP3:STAT 0", None), (":SYST:ERR?", OK)]
    with expected_protocol(N7762A, pairs) as voa:
        voa.shutdown()


def test_reset_forgets_the_watt_unit_pin():
    pairs = [(":OUTP1:POW:UN 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "+1.0E-04"),
             ("*RST", None), (":SYST:ERR?", OK),
             (":OUTP1:POW:UN 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "+2.0E-04")]
    with expected_protocol(N7764A, pairs) as voa:
        assert voa.channel(1).power_w == 1e-4
        voa.reset()
        assert voa.channel(1).power_w == 2e-4


def test_shutdown_closes_every_shutter_even_if_one_fails():
    from optics.errors import InstrumentTimeout

    pairs = [(":OUTP1:STAT 0", None), (":SYST:ERR?", InstrumentTimeout("protocol-test: no reply")),
             (":OUTP3:STAT 0", None), (":SYST:ERR?", OK)]
    with expected_protocol(N7762A, pairs) as voa:
        with pytest.raises(InstrumentTimeout):
            voa.shutdown()


def test_min_attenuation_limit_applies_to_the_actual_attenuation_behind_an_offset():
    # the set value includes the offset (shown = actual + offset): with a 5 dB offset,
    # "12 dB" is 7 dB of real attenuation, below a 10 dB limit protecting the receiver
    pairs = [(":INP1:OFFS?", "+5.000E+00"),
             (":INP1:OFFS?", "+5.000E+00"), (":INP1:ATT 15", None), (":SYST:ERR?", OK)]
    with expected_protocol(N7762A, pairs, safety_limits={"attenuation_db": 10.0}) as voa:
        with pytest.raises(SafetyLimitError, match="offset"):
            voa.channel(1).attenuation_db = 12.0
        voa.channel(1).attenuation_db = 15.0          # 15 - 5 = 10 dB actual: at the limit


def test_power_mode_refused_when_only_a_min_attenuation_limit_guards_the_output():
    # in power-control mode the instrument sets the attenuation itself, below any minimum:
    # only an output_power_w limit can bound that path
    with expected_protocol(N7762A, [], safety_limits={"attenuation_db": 10.0}) as voa:
        with pytest.raises(SafetyLimitError, match="output_power_w"):
            voa.channel(1).mode = "power"
    pairs = [(":OUTP1:APMode 1", None), (":SYST:ERR?", OK)]
    with expected_protocol(N7762A, pairs, safety_limits={"attenuation_db": 10.0, "output_power_w": 1e-4}) as voa:
        voa.channel(1).mode = "power"
