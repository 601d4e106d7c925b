"""Protocol tests: Yokogawa AQ6370 OSA."""

import numpy as np
import pytest

from instruments.scpi.protocol import expected_protocol
from instruments.yokogawa.aq6370 import AQ6370
from optics.errors import ConnectionLost, GarbledReply, InvalidParameter, MeasurementInvalid

OK = '0,"no error"'


def _set(cmd):
    return [(cmd, None), (":SYST:ERR?", OK)]


def test_setup_every_command():
    pairs = [*_set(":SENS:WAV:CENT 1.31e-06"), (":SENS:WAV:CENT?", "+1.31000000E-006"),
             *_set(":SENS:WAV:SPAN 1e-08"), (":SENS:WAV:SPAN?", "+1.00000000E-008"),
             *_set(":SENS:WAV:STAR 1.3e-06"), (":SENS:WAV:STAR?", "+1.30000000E-006"),
             *_set(":SENS:WAV:STOP 1.32e-06"), (":SENS:WAV:STOP?", "+1.32000000E-006"),
             *_set(":SENS:BWID:RES 2e-11"), (":SENS:BWID:RES?", "+2.00000000E-011"),
             *_set(":SENS:SENS HIGH1"), *_set(":SENS:SWE:POIN:AUTO 1"), (":SENS:SWE:POIN:AUTO?", "1"),
             *_set("CFORM1"),
             ('OPEN "anonymous"', "AUTHENTICATE CRAM-MD5."), ("", "ready")]
    with expected_protocol(AQ6370, pairs) as osa:
        osa.center_m = 1310e-9
        assert osa.center_m == pytest.approx(1.31e-6)
        osa.span_m = 10e-9
        assert osa.span_m == pytest.approx(1e-8)
        osa.start_m = 1300e-9
        assert osa.start_m == pytest.approx(1.3e-6)
        osa.stop_m = 1320e-9
        assert osa.stop_m == pytest.approx(1.32e-6)
        osa.resolution_m = 0.02e-9
        assert osa.resolution_m == pytest.approx(2e-11)
        osa.sensitivity = "HIGH1"
        osa.auto_points = True
        assert osa.auto_points
        osa.select_scpi()
        osa.login("anonymous", "")


def test_login_refused():
    with expected_protocol(AQ6370, [('OPEN "u"', "AUTHENTICATE"), ("pw", "error")]) as osa:
        with pytest.raises(ConnectionLost, match="login"):
            osa.login("u", "pw")


def test_sweep_polls_operation_event():
    pairs = [*_set(":INIT:SMOD 1"), ("*CLS", None), *_set(":INIT"),
             (":STAT:OPER:EVEN?", "0"), (":STAT:OPER:EVEN?", "4"), (":STAT:OPER:EVEN?", "5")]
    with expected_protocol(AQ6370, pairs, poll_interval_s=0.0) as osa:
        osa.sweep()                              # 5 = 0b101: bit 0 set -> done


def test_sweep_timeout():
    pairs = [*_set(":INIT:SMOD 1"), ("*CLS", None), *_set(":INIT"), (":STAT:OPER:EVEN?", "0")]
    with expected_protocol(AQ6370, pairs, sweep_timeout_s=0.0) as osa:
        with pytest.raises(MeasurementInvalid, match="sweep not finished"):
            osa.sweep()


def test_trace_drops_empty_samples():
    pairs = [(":TRAC:X? TRA", "+1.30000000E-006,+1.31000000E-006,+1.32000000E-006"),
             (":TRAC:Y? TRA", "-210.000,-10.000,-40.000")]
    with expected_protocol(AQ6370, pairs) as osa:
        sp = osa.trace()
    np.testing.assert_allclose(sp.wavelength_m, [1.31e-6, 1.32e-6])
    np.testing.assert_allclose(sp.power_dbm, [-10.0, -40.0])
    np.testing.assert_allclose(sp.power_w, [1e-4, 1e-7], rtol=1e-12)     # -10 dBm = 100 uW
    assert sp.n_empty == 1


def test_trace_all_empty_and_mismatch():
    with expected_protocol(AQ6370, [(":TRAC:X? TRB", "1.3E-6,1.31E-6"), (":TRAC:Y? TRB", "-210,-210")]) as osa:
        with pytest.raises(MeasurementInvalid, match="no data"):
            osa.trace("trb")
    with expected_protocol(AQ6370, [(":TRAC:X? TRA", "1.3E-6,1.31E-6"), (":TRAC:Y? TRA", "-20")]) as osa:
        with pytest.raises(GarbledReply):
            osa.trace()
    with expected_protocol(AQ6370, []) as osa:
        with pytest.raises(InvalidParameter):
            osa.trace("TRZ")


def test_smsr_and_peak():
    reply = "+1.31000000E-006,-5.00,+1.31240000E-006,-45.50,+2.40000000E-009,+40.50"
    pairs = [*_set(":CALC:CAT SMSR"), *_set(":CALC"), (":CALC:DATA?", reply),
             *_set(":CALC:CAT SMSR"), *_set(":CALC"), (":CALC:DATA?", reply)]
    with expected_protocol(AQ6370, pairs) as osa:
        r = osa.smsr()
        assert r.smsr_db == 40.5 and r.peak_power_dbm == -5.0 and r.side_power_dbm == -45.5
        assert r.peak_wavelength_m == pytest.approx(1.31e-6)
        assert osa.peak_wavelength_m == pytest.approx(1.31e-6)


def test_smsr_without_peak():
    pairs = [*_set(":CALC:CAT SMSR"), *_set(":CALC"), (":CALC:DATA?", "0,-210,0,-210,0,0")]
    with expected_protocol(AQ6370, pairs) as osa:
        with pytest.raises(MeasurementInvalid, match="no peak"):
            osa.smsr()


def test_refusals():
    with expected_protocol(AQ6370, []) as osa:
        with pytest.raises(InvalidParameter):
            osa.center_m = 1800e-9
        with pytest.raises(InvalidParameter):
            osa.sensitivity = "ULTRA"


@pytest.mark.parametrize(("value_m", "sent"), [
    (0.02e-9, "2e-11"), (0.05e-9, "5e-11"), (1e-10, "1e-10"), (0.2e-9, "2e-10"),
    (0.5e-9, "5e-10"), (1.0e-9, "1e-09"), (2e-9, "2e-09")])
def test_resolution_takes_each_allowed_step(value_m, sent):
    with expected_protocol(AQ6370, [(f":SENS:BWID:RES {sent}", None), (":SYST:ERR?", OK)]) as osa:
        osa.resolution_m = value_m


@pytest.mark.parametrize("value_m", [0.03e-9, 0.07e-9, 0.15e-9, 1.5e-9, 0.01e-9, 5e-9])
def test_resolution_between_steps_is_refused_not_rounded(value_m):
    # the AQ6370C/D/E resolutions are 0.02/0.05/0.1/0.2/0.5/1/2 nm (PyMeasure AQ6370Series);
    # main accepted anything in 0.02..2 nm and sent it for the OSA to pick a step
    with expected_protocol(AQ6370, []) as osa:
        with pytest.raises(InvalidParameter, match=r"allowed: 0\.02, 0\.05, 0\.1, 0\.2, 0\.5, 1, 2 nm"):
            osa.resolution_m = value_m
