"""Tests of optics.io.flexdca: hand-written text exports, a .wfmx header from Keysight's example,
round trips, the SCPI float32 path and every bad-input case.

Stated precision: FlexDCA text files are written with 15 significant digits, so samples and
times come back within a relative error of 1e-14.
"""

from __future__ import annotations

import numpy as np
import pytest

from optics import Quantity, patterns
from optics.errors import FileFormatError, InvalidParameter, InvalidType
from optics.io import from_flexdca_xy, read_flexdca, read_waveform, write_flexdca

REL = 1e-14


FLEX_XY = """FileType, WaveformPatternXYValues\r
Instrument, N1000A\r
SourceName, Channel 1A\r
Points, 8\r
SignalType, PAM4\r
XOrg, 2E-09\r
XInc, 1E-11\r
PatternLength, 4\r
XUnits, Second\r
YUnits, Watt\r
Data,\r
2.000E-09, 1.0E-4\r
2.010E-09, 1.1E-4\r
2.020E-09, 5.0E-4\r
2.030E-09, 5.1E-4\r
2.040E-09, 9.0E-4\r
2.050E-09, 9.1E-4\r
2.060E-09, 1.3E-3\r
2.070E-09, 1.31E-3\r
"""


def test_hand_written_flexdca_xy_file(tmp_path, write_text):
    wf = read_waveform(write_text(tmp_path / "scope.csv", FLEX_XY))
    assert wf.quantity is Quantity.OPTICAL_POWER
    assert wf.sample_rate_hz == pytest.approx(1e11, rel=1e-12)
    assert wf.t0_s == pytest.approx(2e-9, rel=1e-12)
    # one whole pattern of 4 UI in 8 points of 10 ps: 4 / 80 ps = 50 GBd
    assert wf.symbol_rate_baud == pytest.approx(5e10, rel=1e-12)
    expected = [1e-4, 1.1e-4, 5e-4, 5.1e-4, 9e-4, 9.1e-4, 1.3e-3, 1.31e-3]
    np.testing.assert_allclose(wf.samples, expected, rtol=1e-15)
    assert wf.meta["pattern_length_symbols"] == 4 and wf.meta["instrument"] == "N1000A"


def test_hand_written_flexdca_y_values_in_volts(tmp_path, write_text):
    text = "XOrg, 0\nXInc, 5e-12\nPatternLength, 2\nYUnits, Volt\nData,\n0.1\n-0.1\n0.3\n-0.3\n"
    wf = read_flexdca(write_text(tmp_path / "y.txt", text), pattern=[0, 3])
    assert wf.quantity is Quantity.VOLTAGE and wf.sample_rate_hz == pytest.approx(2e11)
    assert wf.symbol_rate_baud == pytest.approx(1e11) and wf.pattern.tolist() == [0, 3]


def test_flexdca_wfmx_header_of_keysight_example(tmp_path):
    """Header values of Keysight's published .wfmx example (NRZ, 127-bit pattern): the
    symbol rate derived from Points, XInc and PatternLength must equal its BitRate."""
    header = (
        '<?xml version="1.0" encoding="utf-8"?>\r\n<DcaFile>\r\n  <Header>\r\n'
        "    <FileType>WaveformPatternInternal</FileType>\r\n    <Instrument>N1010A</Instrument>\r\n"
        "    <SourceName>Channel 5A</SourceName>\r\n  </Header>\r\n  <Points>4063</Points>\r\n"
        "  <SignalType>NRZ</SignalType>\r\n  <XOrg>0</XOrg>\r\n  <XInc>3.1404412777560016E-12</XInc>\r\n"
        "  <PatternLength>127</PatternLength>\r\n  <XUnits>Second</XUnits>\r\n  <YUnits>Watt</YUnits>\r\n"
        "</DcaFile>\r\n"
    )
    y = (5e-4 + 2e-4 * np.sign(np.sin(np.arange(4063) * 0.05))).astype("<f4")
    p = tmp_path / "cap.wfmx"
    p.write_bytes(header.encode() + y.tobytes())
    wf = read_waveform(p)
    assert wf.symbol_rate_baud == pytest.approx(9953280000, rel=1e-12)
    assert wf.samples_per_symbol == pytest.approx(31.992125984251967, rel=1e-12)
    assert np.array_equal(wf.samples, y.astype(np.float64)) and wf.meta["signal_type"] == "NRZ"
    p.write_bytes(header.encode() + y.tobytes()[:-6])
    with pytest.raises(FileFormatError, match="matches neither 4063 float32"):
        read_waveform(p)


def test_flexdca_round_trip(tmp_path, make_wf):
    wf = make_wf(pattern=patterns.pattern("PRBS7Q"), samples=np.resize(make_wf().samples, 127 * 8))
    back = read_waveform(write_flexdca(wf, tmp_path / "f.txt"))
    np.testing.assert_allclose(back.samples, wf.samples, rtol=REL)
    assert back.sample_rate_hz == pytest.approx(wf.sample_rate_hz, rel=1e-12)
    assert back.symbol_rate_baud == pytest.approx(wf.symbol_rate_baud, rel=1e-12)
    assert back.t0_s == wf.t0_s and back.meta["pattern_length_symbols"] == 127


def test_from_flexdca_xy_float32_blocks():
    """The SCPI path: float32 x/y blocks plus :WAVeform:PATTern:BITS? (SSPRQ, 16 points/UI)."""
    n = 65535 * 16
    dt = 1 / (53.125e9 * 16)
    x = (1e-9 + np.arange(n) * dt).astype(np.float32)
    y = np.full(n, 1e-3, dtype=np.float32)
    wf = from_flexdca_xy(x, y, pattern_length_ui=65535, quantity="optical_power", pattern="SSPRQ")
    assert wf.symbol_rate_baud == pytest.approx(53.125e9, rel=1e-6)
    assert wf.sample_rate_hz == pytest.approx(53.125e9 * 16, rel=1e-6)
    assert wf.pattern.size == 65535


@pytest.mark.parametrize(
    "text, match",
    [
        (FLEX_XY.replace("1.1E-4", "Infinity"), r"line 13.*Infinity.*clipped"),
        (FLEX_XY.replace("Points, 8", "Points, 9"), r"Points = 9 but 8 data points"),
        (FLEX_XY.replace("YUnits, Watt", "YUnits, dBm"), r"YUnits 'dBm' is not supported; allowed: Watt"),
        (FLEX_XY.replace("Data,\r\n", ""), r"no 'Data,' line"),
        (FLEX_XY.replace("2.030E-09", "2.035E-09"), r"not uniformly sampled"),
        ("XOrg, 0\nPatternLength, 2\nYUnits, Volt\nData,\n0.1\n-0.1\n", r"need an XInc"),
    ],
)
def test_bad_flexdca_raises(tmp_path, write_text, text, match):
    p = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(FileFormatError, match=match):
        read_waveform(p)



# --- review additions ----------------------------------------------------------------------
_Y_ONLY = "XOrg, 0\r\nXInc, 1e-12\r\nPatternLength, 4\r\nYUnits, Watt\r\nData,\r\n"


def test_flexdca_text_with_bom_crlf_and_trailing_whitespace_lines(tmp_path):
    body = "\r\n".join(f"{v:.3E}" for v in (1e-4, 5e-4, 9e-4, 1.3e-3) * 2) + "\r\n\r\n  \r\n\t\r\n"
    p = tmp_path / "y.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (_Y_ONLY + body).encode())
    wf = read_waveform(p)
    assert wf.samples.tolist() == [1e-4, 5e-4, 9e-4, 1.3e-3] * 2
    assert wf.sample_rate_hz == pytest.approx(1e12, rel=1e-12)
    assert wf.symbol_rate_baud == pytest.approx(4 / (8 * 1e-12), rel=1e-12)


def test_flexdca_infinity_sample_is_named(tmp_path, write_text):
    p = write_text(tmp_path / "inf.csv", _Y_ONLY + "1E-4\r\nInfinity\r\n5E-4\r\n9E-4\r\n")
    with pytest.raises(FileFormatError, match=r"line 7.*clipped"):
        read_waveform(p)


@pytest.mark.parametrize("first_byte", [0x0A, 0x0D])
@pytest.mark.parametrize("separator", [b"", b"\n", b"\r\n"])
def test_wfmx_payload_starting_with_a_line_break_byte(tmp_path, first_byte, separator):
    # the header's trailing CR/LF was stripped with lstrip, eating a first float32 whose
    # low byte is 0x0a or 0x0d (about 1 file in 128)
    y = np.array([1e-3, 2e-3, 3e-3, 4e-3], dtype="<f4")
    raw = bytearray(y.tobytes())
    raw[0] = first_byte
    expected = np.frombuffer(bytes(raw), dtype="<f4").astype(np.float64)
    header = b"<?xml version='1.0'?><DcaFile><Points>4</Points><XInc>1e-12</XInc>" \
             b"<YUnits>Watt</YUnits></DcaFile>"
    p = tmp_path / "cap.wfmx"
    p.write_bytes(header + separator + bytes(raw))
    assert np.array_equal(read_waveform(p).samples, expected)


@pytest.mark.parametrize("points", ["8.7", "-1", "0"])
def test_non_integer_points_is_rejected(tmp_path, write_text, points):
    body = "\r\n".join(["1E-4"] * 8) + "\r\n"
    p = write_text(tmp_path / "pts.csv", _Y_ONLY.replace("Data,", f"Points, {points}\r\nData,") + body)
    with pytest.raises(FileFormatError, match="Points"):
        read_waveform(p)


_X8 = np.arange(8) * 1e-11
_Y8 = np.full(8, 1e-3)


@pytest.mark.parametrize(
    "kw, err, match",
    [
        ({"x_s": None}, InvalidType, "x_s must be an array"),  # was "1 x values but 8"
        ({"x_s": "abc"}, InvalidType, "x_s must be an array"),  # was numpy ValueError
        ({"y": _Y8 + 0j}, InvalidType, "complex"),  # was a silent ComplexWarning cast
        ({"x_s": np.vstack([_X8, _X8]), "y": np.vstack([_Y8, _Y8])}, InvalidParameter,
         "1-dimensional"),
        ({"pattern_length_ui": 0}, InvalidParameter, "pattern_length_ui"),
        ({"pattern_length_ui": 4.5}, InvalidType, "pattern_length_ui"),  # rate used 4.5 UI
        ({"pattern_length_ui": "4"}, InvalidType, "pattern_length_ui"),  # was a TypeError
        ({"meta": [1, 2]}, InvalidType, "meta must be a mapping"),
    ],
)
def test_from_flexdca_xy_bad_input_is_named(kw, err, match):
    args = {"x_s": _X8, "y": _Y8, "pattern_length_ui": 4}
    args.update(kw)
    x, y = args.pop("x_s"), args.pop("y")
    with pytest.raises(err, match=match):
        from_flexdca_xy(x, y, **args)


@pytest.mark.parametrize("plen", ["0", "-4"])
def test_non_positive_pattern_length_is_named(tmp_path, write_text, plen):
    body = "\r\n".join(["1E-4"] * 8) + "\r\n"
    p = write_text(tmp_path / "pl.csv", _Y_ONLY.replace("PatternLength, 4", f"PatternLength, {plen}") + body)
    with pytest.raises(FileFormatError, match="PatternLength"):
        read_waveform(p)
