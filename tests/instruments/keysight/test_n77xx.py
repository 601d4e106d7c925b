"""Protocol tests: Keysight N7744A/N7745A and 8163B power meters."""

import math

import pytest

from instruments.keysight.n77xx import N7744A, N7745A, Keysight8163B
from instruments.scpi.protocol import expected_protocol
from optics.errors import InvalidParameter, MeasurementInvalid, ScpiError

OK = '+0,"No error"'


def test_n7744a_settings_every_command():
    pairs = [
        (":SENS2:POW:WAV 1.31e-06", None), (":SYST:ERR?", OK),
        (":SENS2:POW:WAV?", "+1.31000000E-006"),
        (":SENS2:POW:ATIM 0.1", None), (":SYST:ERR?", OK),
        (":SENS2:POW:ATIM?", "+1.00000000E-001"),
        (":SENS2:POW:RANG:AUTO 0", None), (":SYST:ERR?", OK),
        (":SENS2:POW:RANG:AUTO?", "0"),
        (":SENS2:POW:RANG -10", None), (":SYST:ERR?", OK),
        (":SENS2:POW:RANG?", "-1.0E+01"),
        (":INIT2:CONT 1", None), (":SYST:ERR?", OK),
        (":INIT2:CONT?", "1"),
    ]
    with expected_protocol(N7744A, pairs) as opm:
        p = opm.port(2)
        p.wavelength_m = 1310e-9
        assert p.wavelength_m == pytest.approx(1.31e-6, rel=1e-12)
        p.averaging_time_s = 0.1
        assert p.averaging_time_s == 0.1
        p.auto_range = False
        assert p.auto_range is False
        p.range_dbm = -10
        assert p.range_dbm == -10.0
        p.continuous = True
        assert p.continuous is True


def test_power_pins_watts_once_then_reads():
    pairs = [(":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "+1.000000E-03"), (":SYST:ERR?", OK),
             (":FETC1:POW?", "+5.000000E-04"), (":SYST:ERR?", OK), (":READ1:POW?", "+1.000000E-04"), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs) as opm:
        assert opm.port(1).power_w == 1e-3
        assert opm.port(1).fetch_power_w() == 5e-4
        # 1e-4 W = -10 dBm exactly (10 log10(0.1))
        assert opm.port(1).power_dbm == pytest.approx(-10.0, abs=1e-12)


@pytest.mark.parametrize("reply, exc", [("+3.402823E+38", MeasurementInvalid), ("9.91E+37", MeasurementInvalid),
                                        ("-1.0E-09", None)])
def test_invalid_power_replies(reply, exc):
    pairs = [(":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ1:POW?", reply), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs) as opm:
        if exc:
            with pytest.raises(exc):
                _ = opm.port(1).power_w
        else:   # a negative reading is valid in W but has no dBm value
            with pytest.raises(MeasurementInvalid, match="no dBm"):
                _ = opm.port(1).power_dbm


def test_8163b_slot_channel_addressing():
    pairs = [(":SENS3:CHAN2:POW:WAV 1.55e-06", None), (":SYST:ERR?", OK),
             (":SENS3:CHAN2:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ3:CHAN2:POW?", "+2.0E-03"), (":SYST:ERR?", OK),
             (":INIT1:CHAN1:CONT?", "0")]
    with expected_protocol(Keysight8163B, pairs) as mf:
        mf.channel(3, 2).wavelength_m = 1550e-9
        assert mf.channel(3, 2).power_w == 2e-3
        assert mf.channel(1).continuous is False


def test_ports_and_ranges_refused():
    with expected_protocol(N7745A, []) as opm:
        opm.port(8)
        with pytest.raises(InvalidParameter):
            opm.port(9)
        with pytest.raises(InvalidParameter):
            opm.port(1).wavelength_m = 1700e-9
        with pytest.raises(InvalidParameter):
            opm.port(1).averaging_time_s = 20.0
    with expected_protocol(Keysight8163B, []) as mf:
        with pytest.raises(InvalidParameter):
            mf.channel(5, 1)


def test_scpi_error_from_power_meter():
    pairs = [(":SENS1:POW:ATIM 1e-06", None), (":SYST:ERR?", '-222,"Data out of range"'), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs) as opm:
        with pytest.raises(ScpiError) as info:
            opm.port(1).averaging_time_s = 1e-6
    assert info.value.code == -222 and info.value.command == ":SENS1:POW:ATIM 1e-06"


def test_dbm_conversion_reference():
    # 1 mW = 0 dBm, 2 mW = 3.0103 dBm (10 log10 2)
    pairs = [(":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "2.0E-3"), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs) as opm:
        assert opm.port(1).power_dbm == pytest.approx(10 * math.log10(2), abs=1e-12)


def test_trigger_initiate_and_logging():
    import numpy as np

    from instruments.scpi.replies import ieee_block

    logged = np.array([1e-3, 1.001e-3, 0.999e-3], dtype="<f4")
    pairs = [(":TRIG1:INP SME", None), (":SYST:ERR?", OK), (":TRIG1:INP?", "CME"),
             (":INIT1:IMM", None), (":SYST:ERR?", OK),
             (":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK),
             # an earlier (aborted) logging run is stopped first, and this one after its results
             (":SENS1:FUNC:STAT LOGG,STOP", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:PAR:LOGG 3,0.01", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:STAT LOGG,STAR", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:STAT?", "LOGGING_STABILITY,PROGRESS"), (":SENS1:FUNC:STAT?", "LOGGING_STABILITY,COMPLETE"),
             (":SENS1:FUNC:RES?", ieee_block(logged.tobytes()) + b"\n"),
             (":SENS1:FUNC:STAT LOGG,STOP", None), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs, poll_interval_s=0.0) as opm:
        p = opm.port(1)
        p.trigger_input = "single"
        assert p.trigger_input == "complete"
        p.initiate()
        values = p.log_power_w(3, 0.01)
    np.testing.assert_allclose(values, logged.astype(float), rtol=0)


def test_logging_incomplete_and_refusals():
    pairs = [(":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:STAT LOGG,STOP", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:PAR:LOGG 10,0.1", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:STAT LOGG,STAR", None), (":SYST:ERR?", OK),
             (":SENS1:FUNC:STAT?", "LOGGING_STABILITY,PROGRESS"),
             # the timed-out run is stopped so the meter answers ordinary readings again
             (":SENS1:FUNC:STAT LOGG,STOP", None), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs) as opm:
        with pytest.raises(InvalidParameter):
            opm.port(1).log_power_w(0, 0.1)
        with pytest.raises(InvalidParameter):
            opm.port(1).trigger_input = "sometimes"
        with pytest.raises(MeasurementInvalid, match="logging not complete"):
            opm.port(1).log_power_w(10, 0.1, timeout_s=0.0)


def test_reset_forgets_the_watt_unit_pin():
    # *RST returns the meter to its default unit (dBm); a reading after it must pin W again,
    # or a "-10.0" dBm reply would be taken as -10 W.
    pairs = [(":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "+1.000000E-03"), (":SYST:ERR?", OK),
             ("*RST", None), (":SYST:ERR?", OK),
             (":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "+2.000000E-03"), (":SYST:ERR?", OK),
             ("*RST", None),
             (":SENS1:POW:UNIT 1", None), (":SYST:ERR?", OK), (":READ1:POW?", "+3.000000E-03"), (":SYST:ERR?", OK)]
    with expected_protocol(N7744A, pairs) as opm:
        assert opm.port(1).power_w == 1e-3
        opm.reset()
        assert opm.port(1).power_w == 2e-3
        opm.write("*RST")                      # a raw reset through write() counts too
        assert opm.port(1).power_w == 3e-3
