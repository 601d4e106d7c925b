"""SCPI grammar of the virtual instruments: headers, compounds, parameters, units, errors."""

import numpy as np
import pytest

from instruments.virtual.grammar import (
    Args,
    CommandError,
    definite_block,
    float32_block,
    nr3,
    parse_message,
    parse_pattern,
    unit_scale,
)
from instruments.virtual.server import Request, VirtualInstrument


class Box(VirtualInstrument):
    """A tiny instrument recording what its handlers receive."""

    idn = "Test,Box,1,1"

    def reset(self):
        self.att = {}
        self.wav_m = 1550e-9
        self.flag = False
        self.name = ""

    def build(self):
        self.add(":INPut#:ATTenuation", set=self._set_att, query=lambda r: nr3(self.att.get(r.suffix(0), 0.0)))
        self.add("[:SENSe]#[:CHANnel#]:POWer:WAVelength", set=self._set_wav, query=lambda r: nr3(self.wav_m))
        self.add(":SYSTem:FLAG", set=lambda r: setattr(self, "flag", r.args.boolean(0)), query=lambda r: "1" if self.flag else "0")
        self.add(":SYSTem:NAME", set=lambda r: setattr(self, "name", r.args.string(0)), query=lambda r: self.name)
        self.add(":SENSe:WAVelength:CENTer", set=self._set_centre, query=lambda r: nr3(self.wav_m))
        self.add(":SENSe:WAVelength:SPAN", set=lambda r: setattr(self, "span", r.args.number(0, units="M")), query=lambda r: nr3(self.span))
        self.add(":CHANnel#@:SIRC", set=lambda r: setattr(self, "chan", r.suffix(0)), query=lambda r: str(r.suffix(0)))

    def _set_att(self, req: Request):
        req.args.expect(1)
        self.att[req.suffix(0)] = req.args.number(0, units="DB", low=0.0, high=45.0)

    def _set_wav(self, req: Request):
        req.args.expect(1)
        self.wav_m = req.args.number(0, units="M", low=1250e-9, high=1650e-9)
        self.suffixes = req.suffixes

    def _set_centre(self, req: Request):
        self.wav_m = req.args.number(0, units="M")


@pytest.fixture
def box():
    return Box()


def ask(inst, message):
    reply = inst.handle(message)
    return None if reply is None else reply.decode()


@pytest.mark.parametrize(
    "command",
    [":INP2:ATT 7.5", ":INPUT2:ATTENUATION 7.5", ":inp2:att 7.5", "INP2:ATT 7.5", ":Input2:Attenuation 7.5", ":INP2:ATT 7.5DB", ":INP2:ATT 7.5 db"],
)
def test_short_long_forms_case_and_optional_colon(box, command):
    box.execute(command)
    assert box.errors() == []
    assert box.att[2] == 7.5


@pytest.mark.parametrize("command", [":INPU2:ATT 1", ":IN2:ATT 1", ":INP2:ATTEN 1", ":INP2:AT 1"])
def test_forms_between_short_and_long_are_undefined_headers(box, command):
    box.execute(command)
    assert [code for code, _ in box.errors()] == [-113]


def test_numeric_suffix_defaults_to_one_and_optional_nodes(box):
    box.execute(":INP:ATT 3")
    assert box.att[1] == 3.0
    box.execute(":SENS3:CHAN2:POW:WAV 1310NM")
    assert box.suffixes == (3, 2)
    box.execute(":POW:WAV 1300NM")  # both optional nodes omitted
    assert box.suffixes == (1, 1)
    assert box.wav_m == pytest.approx(1300e-9)
    assert box.errors() == []


def test_channel_letter_suffix(box):
    assert ask(box, ":CHAN1A:SIRC?") == "1A"
    assert ask(box, ":CHANNEL4B:SIRC?") == "4B"
    box.execute(":CHAN:SIRC ON")  # letter suffix is mandatory
    assert box.errors()[0][0] == -113


def test_query_and_set_in_one_compound_with_common_command(box):
    assert ask(box, ":INP1:ATT 4;:INP1:ATT?;*IDN?") == "+4.000000E+00;Test,Box,1,1"


def test_relative_header_in_compound(box):
    # SCPI-99 6.2.4: SPAN is relative to :SENSe:WAVelength set by the first command
    box.execute(":SENS:WAV:CENT 1550NM;SPAN 10NM")
    assert box.errors() == []
    assert box.span == pytest.approx(10e-9)
    # a common command in between does not change the path
    box.execute(":SENS:WAV:CENT 1551NM;*CLS;SPAN 2NM")
    assert box.span == pytest.approx(2e-9)
    # a leading colon resets to the root: :SPAN alone is undefined
    box.execute(":SENS:WAV:CENT 1550NM;:SPAN 3NM")
    assert box.errors()[0][0] == -113


def test_error_stops_rest_of_message(box):
    assert ask(box, ":INP1:ATT 99;:INP1:ATT 5;:INP1:ATT?") is None
    assert [c for c, _ in box.errors()] == [-222]
    assert 1 not in box.att


@pytest.mark.parametrize(
    "suffix, units, scale",
    [
        ("NM", "M", 1e-9), ("nm", "M", 1e-9), ("PM", "M", 1e-12), ("UM", "M", 1e-6), ("MM", "M", 1e-3), ("M", "M", 1.0),
        ("MW", "W", 1e-3), ("UW", "W", 1e-6), ("W", "W", 1.0), ("nW", "W", 1e-9),
        ("MS", "S", 1e-3), ("US", "S", 1e-6), ("NS", "S", 1e-9), ("S", "S", 1.0),
        ("GHZ", "HZ", 1e9), ("MHZ", "HZ", 1e6), ("mhz", "HZ", 1e6), ("KHZ", "HZ", 1e3), ("HZ", "HZ", 1.0),
        ("MV", "V", 1e-3), ("V", "V", 1.0), ("MA", "A", 1e-3), ("UA", "A", 1e-6), ("A", "A", 1.0),
        ("DB", "DB", 1.0), ("DBM", "DBM", 1.0), ("KV", "V", 1e3), ("GV", "V", 1e9),
    ],
)
def test_unit_suffixes_follow_scpi_multipliers(suffix, units, scale):
    got, unit = unit_scale(suffix, [units])
    assert got == pytest.approx(scale, rel=1e-12)
    assert unit == units


@pytest.mark.parametrize("suffix, units", [("DBM", "DB"), ("MDB", "DB"), ("NM", "S"), ("XYZ", "M"), ("KDBM", "DBM")])
def test_wrong_unit_suffix_is_error_131(suffix, units):
    with pytest.raises(CommandError) as info:
        unit_scale(suffix, [units])
    assert info.value.code == -131


def test_number_parameters():
    a = Args(["1310 nm", "MIN", "MAX", "DEF", "1e3", "-2.5E-1"])
    assert a.number(0, units="M") == pytest.approx(1.31e-6)
    assert a.number(1, low=-3.0, high=4.0) == -3.0
    assert a.number(2, low=-3.0, high=4.0) == 4.0
    assert a.number(3, default=0.5) == 0.5
    assert a.integer(4) == 1000
    assert a.number(5) == -0.25
    with pytest.raises(CommandError) as info:
        Args(["12NM"]).number(0)  # this parameter takes no unit
    assert info.value.code == -138
    with pytest.raises(CommandError) as info:
        Args(["abc"]).number(0)
    assert info.value.code == -104
    with pytest.raises(CommandError) as info:
        Args([]).number(0)
    assert info.value.code == -109


def test_booleans_strings_choices_channel_lists():
    a = Args(["ON", "off", "1", "0", "2", "'M1.DataIn1'", '"say ""hi"""', "osc", "(@1,3)", "(@1:3)"])
    assert [a.boolean(i) for i in range(5)] == [True, False, True, False, True]
    assert a.string(5) == "M1.DataIn1"
    assert a.string(6) == 'say "hi"'
    assert a.choice(7, ("EYE", "OSCilloscope")) == "OSC"
    assert a.channel_list(8) == [1, 3]
    assert a.channel_list(9) == [1, 2, 3]
    for bad, call, code in [("MAYBE", "boolean", -224), ("unquoted", "string", -104)]:
        with pytest.raises(CommandError) as info:
            getattr(Args([bad]), call)(0)
        assert info.value.code == code
    with pytest.raises(CommandError) as info:
        Args(["SCOPE"]).choice(0, ("EYE", "OSCilloscope"))
    assert info.value.code == -224


def test_quoted_separators_do_not_split(box):
    box.execute(':SYST:NAME "a;b,c"')
    assert box.errors() == []
    assert box.name == "a;b,c"


def test_parameter_count_errors(box):
    box.execute(":INP1:ATT")
    box.execute(":INP1:ATT 1,2")
    assert [c for c, _ in box.errors()] == [-109, -108]


def test_unknown_command_and_error_queue_format(box):
    box.execute(":FOO:BAR 1")
    box.execute(":INP1:ATT 50")
    assert ask(box, ":SYST:ERR:COUN?") == "2"
    first = ask(box, ":SYST:ERR?")
    assert first.startswith('-113,"Undefined header')
    assert ask(box, ":SYSTEM:ERROR:NEXT?").startswith('-222,"Data out of range')
    assert ask(box, ":SYST:ERR?") == '+0,"No error"'


def test_error_queue_overflow_and_status_bytes(box):
    for _ in range(40):
        box.execute(":NOPE")
    errors = box.errors()
    assert len(errors) == 30
    assert errors[-1] == (-350, "Queue overflow")
    assert int(ask(box, "*STB?")) & 0x04  # error queue not empty
    assert int(ask(box, "*ESR?")) & 0x20  # command error bit (IEEE 488.2 ESR bit 5)
    assert ask(box, "*ESR?") == "0"  # cleared by reading
    box.execute("*CLS")
    assert box.errors() == []


def test_query_of_set_only_header_is_undefined(box):
    box.add(":ONLY:SET", set=lambda r: None)
    box.execute(":ONLY:SET?")
    assert box.errors()[0][0] == -113


def test_nr3_format():
    assert nr3(1.23456e-3) == "+1.234560E-03"
    assert nr3(-3.2) == "-3.200000E+00"
    assert nr3(float("inf")) == "9.91E+37"
    assert nr3(float("nan")) == "9.91E+37"


def test_definite_length_blocks():
    assert definite_block(b"") == b"#10"
    assert definite_block(b"abc") == b"#13abc"
    payload = bytes(range(256)) * 50  # 12800 bytes: 5 length digits
    block = definite_block(payload)
    assert block[:7] == b"#512800"
    assert block[7:] == payload
    values = np.array([1.5, -2.25, 1e-3])
    big = float32_block(values, big_endian=True)
    little = float32_block(values, big_endian=False)
    assert big[:4] == b"#212"
    np.testing.assert_array_equal(np.frombuffer(big[4:], ">f4"), values.astype(np.float32))
    np.testing.assert_array_equal(np.frombuffer(little[4:], "<f4"), values.astype(np.float32))
    assert big[4:8] == b"\x3f\xc0\x00\x00"  # IEEE 754 single 1.5, big-endian


def test_bad_patterns_are_programming_errors():
    for bad in ("", ":A:B?", "[:SENS", ":A:1B"):
        with pytest.raises(ValueError):
            parse_pattern(bad)


def test_parse_message_resolves_paths():
    cmds = parse_message(":SENS:WAV:CENT 1550NM;SPAN 10NM;*OPC?")
    assert [c.mnemonics for c in cmds] == [("SENS", "WAV", "CENT"), ("SENS", "WAV", "SPAN"), ("*OPC",)]
    assert [c.query for c in cmds] == [False, False, True]
    with pytest.raises(CommandError) as info:
        parse_message(":A 1;;:B 2")
    assert info.value.code == -102
