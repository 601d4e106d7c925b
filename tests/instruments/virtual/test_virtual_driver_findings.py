"""Issue 11 items 7-8 end to end: the drivers' corrected commands against the virtual bench.

Each test drives a real driver over pyvisa-py TCP into a virtual instrument that models the
behaviour the public sources describe: N776x power control moves the attenuation (and is
guarded by the safety limits), the M8040A takes PAM4 only on both outputs of a pair in one
message, and FlexDCA autodetection replaces the rate and length entered for a pattern lock.
"""

import math

import pytest

from instruments.bench import VirtualBench
from optics.errors import SafetyLimitError, ScpiError


@pytest.fixture(scope="module")
def bench():
    with VirtualBench(only=["attenuator", "bert", "scope"]) as b:
        yield b


def test_n776x_power_control_moves_the_attenuation_within_the_limits(bench):
    limits = {"attenuation_db": 10.0, "output_power_w": 1e-3}
    voa = bench.connect("attenuator", safety_limits=limits)
    try:
        ch = voa.channel(1)
        ch.power_control = False
        ch.attenuation_offset_db = 0.0
        ch.attenuation_db = 20.0
        ch.shutter_open = True
        p_20db_w = ch.power_w
        # the output scales as 10^(-A/10): a set point k dB above the reading needs 20 - k dB
        too_much_w = p_20db_w * 10.0 ** (15.0 / 10.0)          # would need 5 dB < 10 dB minimum
        assert too_much_w < limits["output_power_w"]          # inside the power limit all the same
        with pytest.raises(SafetyLimitError, match="implies 5 dB"):
            ch.output_power_w = too_much_w
        assert bench.link.attenuation_db == pytest.approx(20.0)
        target_w = p_20db_w * 10.0 ** (8.0 / 10.0)            # needs 12 dB
        ch.output_power_w = target_w                           # power control off: only stored
        assert bench.link.attenuation_db == pytest.approx(20.0)
        ch.power_control = True                                # the loop moves to 12 dB
        assert ch.attenuation_db == pytest.approx(12.0, abs=1e-4)
        assert ch.power_w == pytest.approx(target_w, rel=1e-5)
        with pytest.raises(SafetyLimitError, match="below the minimum"):
            ch.output_power_w = target_w * 10.0 ** (3.0 / 10.0)   # 9 dB
        assert bench.link.attenuation_db == pytest.approx(12.0, abs=1e-4)
        ch.shutter_open = False
        with pytest.raises(SafetyLimitError, match="power control is on"):
            ch.shutter_open = True
        assert bench.link.shutter_open is False
        ch.power_control = False
    finally:
        voa.close()


def test_m8040a_pam4_needs_both_outputs_in_one_message(bench):
    bert = bench.connect("bert")
    try:
        bert.coding = "NRZ"
        assert bert.coding == "NRZ"
        # the old single-output write: refused by the instrument, the output stays NRZ
        bert.write(":DATA:LIN:VAL 'M1.DataOut1',PAM4")
        with pytest.raises(ScpiError) as info:
            bert.check_errors(":DATA:LIN:VAL 'M1.DataOut1',PAM4")
        assert info.value.code == -221
        assert bert.coding == "NRZ"
        bert.set_coding("PAM4")                                # pair and analyzer in one write
        assert bert.coding == "PAM4" and bert.analyzer_coding == "PAM4"
        assert bench.instruments["bert"].coding == {"M1.DataOut1": "PAM4", "M1.DataOut2": "PAM4",
                                                    "M1.DataIn1": "PAM4"}
    finally:
        bert.close()


def test_flexdca_lock_uses_the_rate_and_length_given(bench):
    # the bench sends PRBS13Q (8191 symbols) at 53.125 GBd; a lock asked for 65535 symbols
    # must fail rather than be autodetected into the signal's own length
    dca = bench.connect("scope", measurement_timeout_s=1.0)
    try:
        dca.default_setup()                                    # autodetection on, as after a default set-up
        assert dca.ask_bool(":TRIGger:PLENgth:AUTodetect?") and dca.ask_bool(":TRIGger:SRATe:AUTodetect?")
        dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=65535)
        assert dca.pattern_lock is False
        assert dca.pattern_length == 65535
        dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=8191)
        assert dca.pattern_lock is True
        assert math.isclose(dca.symbol_rate_baud, 53.125e9)
    finally:
        dca.close()
