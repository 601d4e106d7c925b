"""Protocol tests: HP 8156A attenuator."""

import pytest

from instruments.hp.hp8156a import HP8156A
from instruments.scpi.protocol import expected_protocol
from optics.errors import InvalidParameter, SafetyLimitError

OK = '+0,"No error"'


def test_every_command():
    pairs = [(":INP:ATT 20", None), (":SYST:ERR?", OK), (":INP:ATT?", "+2.00000E+01"),
             (":INP:OFFS 1.5", None), (":SYST:ERR?", OK), (":INP:OFFS?", "+1.50000E+00"),
             (":INP:WAV 1.55e-06", None), (":SYST:ERR?", OK), (":INP:WAV?", "+1.55000E-06"),
             (":OUTP:STAT 1", None), (":SYST:ERR?", OK), (":OUTP:STAT?", "1"),
             (":OUTP:STAT 0", None), (":SYST:ERR?", OK)]
    with expected_protocol(HP8156A, pairs) as att:
        att._sleep = lambda s: None
        att.attenuation_db = 20
        assert att.attenuation_db == 20.0
        att.attenuation_offset_db = 1.5
        assert att.attenuation_offset_db == 1.5
        att.wavelength_m = 1550e-9
        assert att.wavelength_m == pytest.approx(1.55e-6)
        att.shutter_open = True
        assert att.shutter_open
        att.settle()
        att.shutdown()


def test_refusals():
    with expected_protocol(HP8156A, [], safety_limits={"attenuation_db": 10.0}) as att:
        with pytest.raises(SafetyLimitError):
            att.attenuation_db = 9.0
        with pytest.raises(InvalidParameter):
            att.attenuation_db = 61.0



def test_min_attenuation_limit_applies_to_the_actual_attenuation_behind_an_offset():
    # shown attenuation = actual + offset: "12 dB" with a 3 dB offset is 9 dB of real attenuation
    pairs = [(":INP:OFFS?", "+3.0E+00"),
             (":INP:OFFS?", "+0.0E+00"), (":INP:ATT 10", None), (":SYST:ERR?", OK)]
    with expected_protocol(HP8156A, pairs, safety_limits={"attenuation_db": 10.0}) as att:
        with pytest.raises(SafetyLimitError, match="offset"):
            att.attenuation_db = 12.0
        with pytest.raises(SafetyLimitError):
            att.attenuation_db = 9.5                  # below the limit as set: refused with no I/O
        att.attenuation_db = 10.0                     # no offset: 10 dB actual, at the limit


def test_opening_the_shutter_checks_the_actual_attenuation():
    # shown 12 dB with a 3 dB offset is 9 dB in the path: the shutter stays closed under a
    # 10 dB minimum; closing is never refused (main opened it unchecked)
    pairs = [(":INP:ATT?", "+1.20000E+01"), (":INP:OFFS?", "+3.00000E+00"),
             (":INP:ATT?", "+1.30000E+01"), (":INP:OFFS?", "+3.00000E+00"), (":OUTP:STAT 1", None), (":SYST:ERR?", OK),
             (":OUTP:STAT 0", None), (":SYST:ERR?", OK)]
    with expected_protocol(HP8156A, pairs, safety_limits={"attenuation_db": 10.0}) as att:
        with pytest.raises(SafetyLimitError, match="9 dB of actual attenuation"):
            att.shutter_open = True
        att.shutter_open = True
        att.shutter_open = False
