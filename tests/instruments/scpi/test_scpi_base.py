"""Driver base: replies, validators, error queue, safety limits, protocol adapter."""

import struct

import numpy as np
import pytest

from instruments.scpi import ScpiInstrument, control, measurement, setting
from instruments.scpi.protocol import ProtocolAdapter, expected_protocol
from instruments.scpi.replies import (
    block_values,
    ieee_block,
    parse_bool,
    parse_error,
    parse_float,
    parse_idn,
    parse_ieee_block,
    parse_int,
)
from instruments.scpi.validators import boolean, strict_discrete_set, strict_int_range, strict_range
from optics.errors import (
    GarbledReply,
    InstrumentTimeout,
    InvalidParameter,
    InvalidType,
    MeasurementInvalid,
    SafetyLimitError,
    ScpiError,
)

OK = '+0,"No error"'


class Box(ScpiInstrument):
    """A made-up instrument exercising every property kind."""

    SAFETY_LIMITS = {"level_v": ("V", "max"), "floor_db": ("dB", "min"), "swing_a": ("A", "abs_max")}

    level_v = control(":LEV?", ":LEV {value}", "Control the level in V.", validator=strict_range(0, 10, "V"), safety="level_v")
    floor_db = control(":FLO?", ":FLO {value}", "Control the floor in dB.", validator=strict_range(0, 60, "dB"), safety="floor_db")
    swing_a = control(":SWI?", ":SWI {value}", "Control the swing in A.", validator=strict_range(-1, 1, "A"), safety="swing_a")
    mode = control(":MODE?", ":MODE {value}", "Control the mode.", choices={"eye": "EYE", "oscilloscope": "OSC"})
    count = control(":COUN?", ":COUN {value}", "Control the count.", kind=int, validator=strict_int_range(1, 100))
    enabled = control(":ENAB?", ":ENAB {value}", "Control enable.", kind=bool, validator=boolean)
    reading = measurement(":READ?", "Measure a reading in W.")
    trigger = setting(":TRIG {value}", "Set the trigger source.", choices={"internal": "INT", "external": "EXT"})
    wavelength_m = control(":WAV?", ":WAV {value}", "Control wavelength (nm on the wire).",
                           validator=strict_range(400e-9, 1700e-9, "m"),
                           set_process=lambda m: m * 1e9, get_process=lambda nm: nm * 1e-9)


# --- replies -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [("+1.234560E-03", 1.23456e-3), ("-3.2", -3.2), ('"1.0E-12"', 1e-12),
                                         (" 42\n", 42.0), ("-210.0", -210.0)])
def test_parse_float_numbers(text, value):
    assert parse_float(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["9.91E+37", "+9.91000E+37", "-9.91E+37", "9.9E37", "NAN", '"-------"', "-------"])
def test_invalid_markers_raise_measurement_invalid(text):
    with pytest.raises(MeasurementInvalid, match="to ':X\\?' from dev"):
        parse_float(text, command=":X?", resource="dev")


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1,2", "0x10", "1e"])
def test_garbled_numbers_raise(text):
    with pytest.raises(GarbledReply):
        parse_float(text)


def test_parse_int_bool_error():
    assert parse_int("+5") == 5
    with pytest.raises(GarbledReply):
        parse_int("2.5")
    assert parse_bool("ON") is True and parse_bool("+0") is False
    with pytest.raises(GarbledReply):
        parse_bool("maybe")
    assert parse_error('+0,"No error"') == (0, "No error")
    assert parse_error('-113,"Undefined header"') == (-113, "Undefined header")
    assert parse_error("0,no error") == (0, "no error")
    with pytest.raises(GarbledReply):
        parse_error("garbage")


def test_ieee_block_roundtrip_and_float32_little_endian():
    values = [0.0, 0.125, -2.25, 10.0]            # exactly representable in float32
    payload = struct.pack("<4f", *values)         # independent encoder: struct
    block = ieee_block(payload)
    assert block[:4] == b"#216"                   # 1 digit '2' then length '16'
    assert parse_ieee_block(block + b"\n") == payload
    np.testing.assert_array_equal(block_values(payload, "f"), values)
    big = struct.pack(">4f", *values)
    np.testing.assert_array_equal(block_values(big, "f", big_endian=True), values)


@pytest.mark.parametrize("data", [b"", b"no block", b"#0abc", b"#3ab", b"#15abc", b"#x5abcde"])
def test_bad_blocks_raise(data):
    with pytest.raises(GarbledReply):
        parse_ieee_block(data)


def test_block_not_whole_values():
    with pytest.raises(GarbledReply, match="whole number"):
        block_values(b"12345", "f")


def test_parse_idn():
    idn = parse_idn("Keysight Technologies,N1000A,MY12345678,A.06.60.217\n")
    assert (idn.vendor, idn.model, idn.serial, idn.firmware) == ("Keysight Technologies", "N1000A", "MY12345678", "A.06.60.217")
    with pytest.raises(GarbledReply):
        parse_idn("hello")


# --- validators --------------------------------------------------------------------------
def test_validators_refuse_and_name_range():
    v = strict_range(0.0, 60.0, "dB")
    assert v(60, "att") == 60.0
    with pytest.raises(InvalidParameter, match=r"att = 60.1 dB is outside the allowed range \[0, 60\] dB"):
        v(60.1, "att")
    with pytest.raises(InvalidType):
        v("10", "att")
    with pytest.raises(InvalidType):
        v(True, "att")
    with pytest.raises(InvalidParameter):
        v(float("nan"), "att")
    with pytest.raises(InvalidType):
        strict_int_range(1, 5)(2.0, "n")
    assert strict_discrete_set(["EYE", "OSC"])("eye", "mode") == "EYE"
    with pytest.raises(InvalidParameter):
        strict_discrete_set(["EYE"])("TDR", "mode")
    with pytest.raises(InvalidType):
        boolean(1, "flag")


# --- properties and the protocol adapter ---------------------------------------------------
def test_control_get_set_with_error_check():
    with expected_protocol(Box, [(":LEV 2.5", None), (":SYST:ERR?", OK), (":LEV?", "+2.50000E+00")]) as box:
        box.level_v = 2.5
        assert box.level_v == 2.5


def test_choices_accept_long_and_short_forms():
    with expected_protocol(Box, [(":MODE OSC", None), (":SYST:ERR?", OK), (":MODE?", "OSCilloscope"), (":MODE?", "EYE")]) as box:
        box.mode = "oscilloscope"
        assert box.mode == "oscilloscope"
        assert box.mode == "eye"


def test_unit_conversion_processes():
    with expected_protocol(Box, [(":WAV 1310", None), (":SYST:ERR?", OK), (":WAV?", "1550.0")]) as box:
        box.wavelength_m = 1310e-9
        assert box.wavelength_m == pytest.approx(1550e-9, rel=1e-12)


def test_int_bool_measurement_setting():
    with expected_protocol(Box, [(":COUN 7", None), (":SYST:ERR?", OK), (":ENAB 1", None), (":SYST:ERR?", OK),
                                 (":ENAB?", "0"), (":READ?", "1.0E-3"), (":SYST:ERR?", OK),
                                 (":TRIG EXT", None), (":SYST:ERR?", OK)]) as box:
        box.count = 7
        box.enabled = True
        assert box.enabled is False
        assert box.reading == 1e-3
        box.trigger = "external"
    with expected_protocol(Box, []) as box:
        with pytest.raises(AttributeError, match="read-only"):
            box.reading = 1.0
        with pytest.raises(AttributeError, match="write-only"):
            _ = box.trigger


@pytest.mark.parametrize("name, value, exc", [("level_v", 10.5, InvalidParameter), ("level_v", -1, InvalidParameter),
                                              ("count", 0, InvalidParameter), ("count", 3.0, InvalidType),
                                              ("mode", "tdr", InvalidParameter), ("enabled", "yes", InvalidType)])
def test_out_of_range_refused_before_sending(name, value, exc):
    with expected_protocol(Box, []) as box:      # an empty script: any write fails the test
        with pytest.raises(exc):
            setattr(box, name, value)


def test_scpi_error_raised_with_code_message_command():
    pairs = [(":LEV 3", None), (":SYST:ERR?", '-222,"Data out of range"'), (":SYST:ERR?", OK)]
    with expected_protocol(Box, pairs) as box:
        with pytest.raises(ScpiError) as info:
            box.level_v = 3
    err = info.value
    assert err.code == -222
    assert "Data out of range" in err.message
    assert err.command == ":LEV 3"


def test_all_queued_errors_are_drained_and_reported():
    pairs = [("*RST", None), (":SYST:ERR?", '-113,"Undefined header"'), (":SYST:ERR?", '-221,"Settings conflict"'),
             (":SYST:ERR?", OK)]
    with expected_protocol(Box, pairs) as box:
        with pytest.raises(ScpiError) as info:
            box.reset()
    assert info.value.code == -113 and "-221" in info.value.message


def test_common_commands():
    pairs = [("*IDN?", "ACME,BOX-1,SN42,1.0"), ("*CLS", None), ("*OPC?", "1"), ("*OPC?", "0")]
    with expected_protocol(Box, pairs) as box:
        assert box.idn.model == "BOX-1"
        box.clear_status()
        box.wait_complete()
        with pytest.raises(GarbledReply):
            box.wait_complete()


def test_timeout_and_garbled_typed():
    pairs = [(":READ?", InstrumentTimeout("protocol-test: no reply")), (":READ?", "9.91E+37"), (":SYST:ERR?", OK),
             (":READ?", "#$%"), (":SYST:ERR?", OK)]
    with expected_protocol(Box, pairs) as box:
        with pytest.raises(InstrumentTimeout):
            _ = box.reading
        with pytest.raises(MeasurementInvalid):
            _ = box.reading
        with pytest.raises(GarbledReply):
            _ = box.reading


def test_safety_limits_refuse_before_sending():
    limits = {"level_v": 3.3, "floor_db": 5.0, "swing_a": 0.1}
    with expected_protocol(Box, [(":LEV 3.3", None), (":SYST:ERR?", OK), (":SWI -0.1", None), (":SYST:ERR?", OK)],
                           safety_limits=limits) as box:
        with pytest.raises(SafetyLimitError, match=r"level_v = 3.4 V is above the maximum 3.3 V"):
            box.level_v = 3.4
        with pytest.raises(SafetyLimitError, match="below the minimum"):
            box.floor_db = 4.9
        with pytest.raises(SafetyLimitError, match="magnitude"):
            box.swing_a = -0.2
        box.level_v = 3.3            # at the limit is allowed
        box.swing_a = -0.1


def test_unknown_safety_key_rejected():
    with pytest.raises(InvalidParameter, match="unknown safety limit 'volts'"):
        Box(ProtocolAdapter([]), safety_limits={"volts": 1.0})
    with pytest.raises(InvalidParameter):
        Box(ProtocolAdapter([]), safety_limits={"level_v": float("inf")})


def test_error_checking_can_be_switched_off():
    with expected_protocol(Box, [(":LEV 1", None)], check_errors=False) as box:
        box.level_v = 1


def test_protocol_adapter_catches_deviations():
    ad = ProtocolAdapter([(":A", None), (":B?", "1")])
    with pytest.raises(AssertionError, match="expected command ':A'"):
        ad.write(":B?")
    ad = ProtocolAdapter([(":A", None)])
    ad.write(":A")
    with pytest.raises(AssertionError, match="extra command"):
        ad.write(":A")
    ad = ProtocolAdapter([(":A", None), (":B", None)])
    ad.write(":A")
    with pytest.raises(AssertionError, match="never sent"):
        ad.check_all_consumed()
    ad = ProtocolAdapter([(":B?", "1")])
    ad.write(":B?")
    with pytest.raises(AssertionError, match="never read"):
        ad.check_all_consumed()


def test_bad_resource_type_and_typo_keyword():
    with pytest.raises(InvalidType):
        Box(42)
    with pytest.raises(InvalidType, match="saftey_limits"):
        Box(ProtocolAdapter([]), saftey_limits={"level_v": 1.0})


def test_io_timeout_validates_and_restores():
    with expected_protocol(Box, []) as box:
        with pytest.raises(InvalidParameter):
            with box.io_timeout(0):
                pass
        before = box.adapter.timeout_s
        with box.io_timeout(60):
            assert box.adapter.timeout_s == 60
        assert box.adapter.timeout_s == before


@pytest.mark.parametrize("tail", [b"", b"\n", b"\r\n"])
def test_block_line_end_allowed_but_extra_payload_refused(tail):
    assert parse_ieee_block(b"#14abcd" + tail) == b"abcd"
    with pytest.raises(GarbledReply, match="longer than"):
        parse_ieee_block(b"#14abcdef" + tail)       # 6 payload bytes where 4 were announced


@pytest.mark.parametrize("reply", ["#?\x15GARBLED~~%%;;,,\x7f!", "ACME,,SN1,1.0", ",BOX,SN1,1.0", "ACME\x00,BOX,1,1"])
def test_parse_idn_refuses_control_characters_and_empty_vendor_or_model(reply):
    with pytest.raises(GarbledReply, match="IDN"):
        parse_idn(reply, resource="dev")
