"""Protocol tests: Keysight N7762A/N7764A attenuators."""

import math

import pytest

from instruments.keysight.n776x import N7762A, N7764A
from instruments.scpi.protocol import expected_protocol
from optics.errors import InstrumentTimeout, InvalidParameter, InvalidType, SafetyLimitError

OK = '+0,"No error"'
#: Whether the SCPI base reads the error queue after a measurement query (:READn:POW?) too
#: (issue 11, item 6); the scripts below follow the base.
READINGS_CHECKED = getattr(N7762A, "CHECK_ERRORS_AFTER_MEASUREMENTS", False)


def _set(cmd):
    return [(cmd, None), (":SYST:ERR?", OK)]


def _read(cmd, reply):
    return [(cmd, reply)] + ([(":SYST:ERR?", OK)] if READINGS_CHECKED else [])


def test_attenuation_every_command():
    pairs = [
        *_set(":INP3:ATT 10"), (":INP3:ATT?", "+1.000000E+01"),
        *_set(":INP3:OFFS 0.5"), (":INP3:OFFS?", "+5.0E-01"),
        *_set(":INP3:ATT:SPE 10"), (":INP3:ATT:SPE?", "+1.0E+01"),
        *_set(":INP3:WAV 1.31e-06"), (":INP3:WAV?", "+1.310000E-06"),
        *_set(":OUTP3:STAT 1"), (":OUTP3:STAT?", "1"),
        *_set(":OUTP3:POW:CONTR 0"), (":OUTP3:POW:CONTR?", "0"),
        *_set(":OUTP3:ATIM 0.1"), (":OUTP3:ATIM?", "+1.0E-01"),
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
        ch.shutter_open = True             # no limits configured: nothing is read first
        assert ch.shutter_open is True
        ch.power_control = False
        assert ch.power_control is False
        ch.monitor_averaging_time_s = 0.1
        assert ch.monitor_averaging_time_s == 0.1


def test_power_control_set_point_and_monitor():
    # power control is :OUTP:POW:CONTR (APMode switches nothing on the N776x and is not sent)
    pairs = [
        *_set(":OUTP1:POW:UN 1"), *_set(":OUTP1:POW 0.0001"),
        *_set(":OUTP1:POW:CONTR 1"), (":OUTP1:POW:CONTR?", "1"),
        (":OUTP1:POW?", "+1.000000E-04"),
        *_read(":READ1:POW?", "+9.990000E-05"),
        *_set(":OUTP1:POW 0.001"),
    ]
    with expected_protocol(N7764A, pairs) as voa:
        ch = voa.channel(1)
        ch.output_power_w = 1e-4
        ch.power_control = True
        assert ch.power_control is True
        assert ch.output_power_dbm == pytest.approx(-10.0, abs=1e-12)
        assert ch.power_w == pytest.approx(9.99e-5)
        ch.output_power_dbm = 0.0          # 0 dBm = 1 mW on the wire
        assert not hasattr(ch, "mode")     # no APMode "power mode" switch any more


def test_safety_limits_refused_before_sending():
    limits = {"attenuation_db": 3.0, "output_power_w": 1e-3}
    with expected_protocol(N7764A, [], safety_limits=limits) as voa:
        with pytest.raises(SafetyLimitError, match="attenuation_db = 2 dB is below the minimum 3 dB"):
            voa.channel(5).attenuation_db = 2.0
        with pytest.raises(SafetyLimitError, match="output_power_w = 0.002 W is above the maximum 0.001 W"):
            voa.channel(5).output_power_w = 2e-3
        with pytest.raises(SafetyLimitError):
            voa.channel(7).output_power_dbm = 3.0          # 2 mW
        with pytest.raises(InvalidParameter):
            voa.channel(5).attenuation_db = 46.0
        with pytest.raises(InvalidParameter):
            voa.channel(2)
        with pytest.raises(InvalidType):
            voa.channel(1).power_control = 1
        with pytest.raises(InvalidType):
            voa.channel(1).shutter_open = "open"


def test_power_control_refused_when_only_a_min_attenuation_limit_guards_the_output():
    # the control loop sets the attenuation itself (and follows the input power below any
    # minimum): only an output_power_w limit bounds that path.  Main guarded APMode, which
    # switches nothing, and sent :OUTP:POW:CONTR 1 unchecked.
    with expected_protocol(N7762A, [], safety_limits={"attenuation_db": 10.0}) as voa:
        with pytest.raises(SafetyLimitError, match="output_power_w"):
            voa.channel(1).power_control = True
    with expected_protocol(N7762A, _set(":OUTP1:POW:CONTR 0"), safety_limits={"attenuation_db": 10.0}) as voa:
        voa.channel(1).power_control = False                # switching off is never refused


def test_stored_set_point_above_the_power_limit_blocks_power_control():
    # a set point left at 2 mW (front panel, an earlier script) would act the moment power
    # control goes on: it is read and refused, CONTR is never written
    pairs = [*_set(":OUTP1:POW:UN 1"), (":OUTP1:POW?", "+2.000000E-03")]
    with expected_protocol(N7762A, pairs, safety_limits={"output_power_w": 1e-3}) as voa:
        with pytest.raises(SafetyLimitError, match="0.002 W is above the maximum 0.001 W"):
            voa.channel(1).power_control = True
    pairs = [*_set(":OUTP1:POW:UN 1"), (":OUTP1:POW?", "+5.000000E-04"), *_set(":OUTP1:POW:CONTR 1")]
    with expected_protocol(N7762A, pairs, safety_limits={"output_power_w": 1e-3}) as voa:
        voa.channel(1).power_control = True


def _implied_db(att_db, offset_db, p_now_w, p_set_w):
    """The actual attenuation at which the output is p_set: output scales as 10^(-A/10)."""
    return (att_db - offset_db) + 10.0 * math.log10(p_now_w / p_set_w)


def test_set_point_implying_attenuation_below_the_minimum_is_never_written():
    # 15 dB shown, 1 dB offset (14 dB actual), 10 uW at the monitor: 100 uW needs
    # 14 - 10 = 4 dB of actual attenuation, below a 10 dB minimum -> refused, POW not written;
    # 25 uW needs 14 - 3.98 = 10.02 dB -> written
    limits = {"attenuation_db": 10.0, "output_power_w": 1e-3}
    state = [(":INP1:ATT?", "+1.500000E+01"), (":INP1:OFFS?", "+1.000000E+00")]
    pairs = [*state, *_set(":OUTP1:POW:UN 1"), *_read(":READ1:POW?", "+1.000000E-05"),
             *state, *_read(":READ1:POW?", "+1.000000E-05"), *_set(":OUTP1:POW 2.5e-05")]
    assert _implied_db(15, 1, 1e-5, 1e-4) == pytest.approx(4.0, abs=1e-12)
    assert _implied_db(15, 1, 1e-5, 2.5e-5) > 10.0
    with expected_protocol(N7762A, pairs, safety_limits=limits) as voa:
        with pytest.raises(SafetyLimitError, match=r"implies 4 dB of actual attenuation, below the minimum"):
            voa.channel(1).output_power_w = 1e-4          # inside the 1 mW power limit
        voa.channel(1).output_power_dbm = 10.0 * math.log10(2.5e-5 / 1e-3)


def test_set_point_cannot_be_checked_without_light_at_the_monitor():
    limits = {"attenuation_db": 10.0, "output_power_w": 1e-3}
    pairs = [(":INP1:ATT?", "+4.500000E+01"), (":INP1:OFFS?", "+0.0E+00"), *_set(":OUTP1:POW:UN 1"),
             *_read(":READ1:POW?", "+0.000000E+00"),
             (":INP1:ATT?", "+4.500000E+01"), (":INP1:OFFS?", "+0.0E+00"), *_read(":READ1:POW?", "+9.9E+37")]
    with expected_protocol(N7762A, pairs, safety_limits=limits) as voa:
        with pytest.raises(SafetyLimitError, match="no light"):
            voa.channel(1).output_power_w = 1e-5
        with pytest.raises(SafetyLimitError, match="monitor reading is invalid"):
            voa.channel(1).output_power_w = 1e-5


def test_power_control_checks_the_attenuation_the_stored_set_point_implies():
    limits = {"attenuation_db": 10.0, "output_power_w": 1e-3}
    read = [*_set(":OUTP3:POW:UN 1"), (":OUTP3:POW?", "+1.000000E-04"),
            (":INP3:ATT?", "+2.000000E+01"), (":INP3:OFFS?", "+0.0E+00")]
    # 20 dB, 1 uW at the monitor: 100 uW needs 0 dB -> refused; with 10 uW there it needs 10 dB -> on
    pairs = [*read, *_read(":READ3:POW?", "+1.000000E-06"),
             (":OUTP3:POW?", "+1.000000E-04"), (":INP3:ATT?", "+2.000000E+01"), (":INP3:OFFS?", "+0.0E+00"),
             *_read(":READ3:POW?", "+1.000000E-05"), *_set(":OUTP3:POW:CONTR 1")]
    with expected_protocol(N7762A, pairs, safety_limits=limits) as voa:
        with pytest.raises(SafetyLimitError, match="implies 0 dB"):
            voa.channel(3).power_control = True
        voa.channel(3).power_control = True


def test_opening_the_shutter_checks_the_attenuation_in_the_path():
    # the attenuation may have been set before the limit, or from the front panel
    limits = {"attenuation_db": 10.0}
    pairs = [(":OUTP1:POW:CONTR?", "0"), (":INP1:ATT?", "+1.200000E+01"), (":INP1:OFFS?", "+3.000000E+00"),
             (":OUTP1:POW:CONTR?", "0"), (":INP1:ATT?", "+1.300000E+01"), (":INP1:OFFS?", "+3.000000E+00"),
             *_set(":OUTP1:STAT 1"),
             (":OUTP1:POW:CONTR?", "1"),
             *_set(":OUTP1:STAT 0")]
    with expected_protocol(N7762A, pairs, safety_limits=limits) as voa:
        with pytest.raises(SafetyLimitError, match="9 dB of actual attenuation"):
            voa.channel(1).shutter_open = True            # 12 - 3 = 9 dB actual
        voa.channel(1).shutter_open = True                # 13 - 3 = 10 dB: at the limit
        with pytest.raises(SafetyLimitError, match="power control is on"):
            voa.channel(1).shutter_open = True
        voa.channel(1).shutter_open = False               # closing is never refused


def test_opening_the_shutter_under_power_control_checks_the_set_point():
    pairs = [(":OUTP1:POW:CONTR?", "1"), *_set(":OUTP1:POW:UN 1"), (":OUTP1:POW?", "+2.000000E-03"),
             (":OUTP1:POW:CONTR?", "1"), (":OUTP1:POW?", "+1.000000E-03"), *_set(":OUTP1:STAT 1")]
    with expected_protocol(N7762A, pairs, safety_limits={"output_power_w": 1e-3}) as voa:
        with pytest.raises(SafetyLimitError, match="above the maximum"):
            voa.channel(1).shutter_open = True
        voa.channel(1).shutter_open = True


def test_shutdown_closes_shutters():
    pairs = [*_set(":OUTP1:STAT 0"), *_set(":OUTP3:STAT 0")]
    with expected_protocol(N7762A, pairs, safety_limits={"attenuation_db": 10.0}) as voa:
        voa.shutdown()                                    # closing reads nothing first


def test_reset_forgets_the_watt_unit_pin():
    pairs = [*_set(":OUTP1:POW:UN 1"), *_read(":READ1:POW?", "+1.0E-04"),
             *_set("*RST"),
             *_set(":OUTP1:POW:UN 1"), *_read(":READ1:POW?", "+2.0E-04")]
    with expected_protocol(N7764A, pairs) as voa:
        assert voa.channel(1).power_w == 1e-4
        voa.reset()
        assert voa.channel(1).power_w == 2e-4


def test_shutdown_closes_every_shutter_even_if_one_fails():
    pairs = [(":OUTP1:STAT 0", None), (":SYST:ERR?", InstrumentTimeout("protocol-test: no reply")),
             *_set(":OUTP3:STAT 0")]
    with expected_protocol(N7762A, pairs) as voa:
        with pytest.raises(InstrumentTimeout):
            voa.shutdown()


def test_min_attenuation_limit_applies_to_the_actual_attenuation_behind_an_offset():
    # the set value includes the offset (shown = actual + offset): with a 5 dB offset,
    # "12 dB" is 7 dB of real attenuation, below a 10 dB limit protecting the receiver
    pairs = [(":INP1:OFFS?", "+5.000E+00"),
             (":INP1:OFFS?", "+5.000E+00"), *_set(":INP1:ATT 15")]
    with expected_protocol(N7762A, pairs, safety_limits={"attenuation_db": 10.0}) as voa:
        with pytest.raises(SafetyLimitError, match="offset"):
            voa.channel(1).attenuation_db = 12.0
        voa.channel(1).attenuation_db = 15.0          # 15 - 5 = 10 dB actual: at the limit
