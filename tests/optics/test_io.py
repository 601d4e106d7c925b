"""Tests of optics.io: round trips, hand-written files and every bad-input case.

Stated precision: CSV and FlexDCA text files are written with 15 significant digits, so
samples and times come back within a relative error of 1e-14; the sample rate and t0 of
the CSV format are exact (comment lines); .npz is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from optics import Quantity, Waveform, patterns
from optics.errors import FileFormatError, InvalidType
from optics.io import (
    from_flexdca_xy,
    read_csv,
    read_flexdca,
    read_npz,
    read_waveform,
    write_csv,
    write_flexdca,
    write_npz,
)

REL = 1e-14


def make_wf(**changes) -> Waveform:
    rng = np.random.default_rng(42)
    n = 4096
    kw = dict(
        samples=1e-3 + 2e-4 * rng.standard_normal(n),
        sample_rate_hz=53.125e9 * 8,
        quantity="optical_power",
        symbol_rate_baud=53.125e9,
        pattern=patterns.pattern("PRBS7Q"),
        meta={"source": "model", "seed": 42, "settings": {"er_db": 4.5, "lanes": [1, 2]}},
        t0_s=3.5e-9,
    )
    kw.update(changes)
    return Waveform(**kw)


def write_text(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --- CSV -----------------------------------------------------------------------------------
def test_csv_round_trip(tmp_path):
    wf = make_wf()
    back = read_waveform(write_csv(wf, tmp_path / "a.csv"))
    assert back.quantity is Quantity.OPTICAL_POWER
    np.testing.assert_allclose(back.samples, wf.samples, rtol=REL, atol=0)
    assert back.sample_rate_hz == wf.sample_rate_hz
    assert back.t0_s == wf.t0_s
    assert back.symbol_rate_baud == wf.symbol_rate_baud
    assert np.array_equal(back.pattern, wf.pattern)
    assert back.meta["seed"] == 42 and back.meta["settings"] == {"er_db": 4.5, "lanes": [1, 2]}
    assert back.meta["file_format"] == "csv"
    assert "# pattern: PRBS7Q" in (tmp_path / "a.csv").read_text()


def test_csv_round_trip_negative_voltage_inline_pattern_no_symbol_rate(tmp_path):
    wf = make_wf(samples=np.sin(np.arange(1000) * 0.1) * 0.4, quantity="voltage", pattern=[0, 3, 1, 2, 2],
                 symbol_rate_baud=None, meta={})
    back = read_csv(write_csv(wf, tmp_path / "v.csv"))
    assert back.quantity is Quantity.VOLTAGE and back.symbol_rate_baud is None
    np.testing.assert_allclose(back.samples, wf.samples, rtol=REL, atol=1e-300)
    assert back.pattern.tolist() == [0, 3, 1, 2, 2]
    assert "# pattern: 03122" in (tmp_path / "v.csv").read_text()


def test_hand_written_csv(tmp_path):
    text = ("# symbol_rate_baud: 2.5e11\n# pattern: 0, 3, 1\n# operator: ada\n"
            "time_s,current_a\n1e-12,1.0e-3\n2e-12,2.0e-3\n3e-12,-1.5e-3\n4e-12,0\n")
    p = write_text(tmp_path / "h.csv", text)
    wf = read_waveform(p)
    assert wf.quantity is Quantity.CURRENT
    assert wf.sample_rate_hz == pytest.approx(1e12, rel=1e-12)
    assert wf.t0_s == pytest.approx(1e-12, rel=1e-12)
    assert wf.samples.tolist() == [1.0e-3, 2.0e-3, -1.5e-3, 0.0]
    assert wf.symbol_rate_baud == 2.5e11 and wf.pattern.tolist() == [0, 3, 1]
    assert wf.meta["operator"] == "ada"


def test_overrides_replace_file_values(tmp_path):
    p = write_csv(make_wf(), tmp_path / "a.csv")
    wf = read_waveform(p, symbol_rate_baud=26.5625e9, pattern="PRBS13Q")
    assert wf.symbol_rate_baud == 26.5625e9 and wf.pattern.size == 8191


CSV_HEAD = "# symbol_rate_baud: 1e11\ntime_s,power_w\n"  # data start on line 3


@pytest.mark.parametrize(
    "text, match",
    [
        ("time_ms,power_w\n0,1\n1,2\n", r"'time_ms'.*allowed: time_s"),
        ("time_s,power_mw\n0,1\n1e-12,2\n", r"'power_mw'.*allowed: power_w, voltage_v, current_a"),
        ("time_s,power_w,extra\n0,1,2\n", r"expected 2 columns"),
        (CSV_HEAD + "0,1e-3\n1e-12,1e-3\n2e-12,1e-3\n3e-12", r"line 6, column 2: an empty cell"),
        (CSV_HEAD + "0,1e-3\n1e-12,1e-3\n2e-12,1.0e-", r"line 5, column 2: '1.0e-' is not a number"),
        (CSV_HEAD + "0,1e-3\n1e-12,abc\n2e-12,1e-3\n", r"line 4, column 2: 'abc' is not a number"),
        (CSV_HEAD + "0,1e-3\n1e-12,1e-3,7\n", r"line 4: wrong number of fields"),
        (CSV_HEAD + "0,1e-3\n", r"1 data row\(s\).*at least 2"),
        (CSV_HEAD, r"no data rows|0 data row"),
        (CSV_HEAD + "0,1\n1e-12,1\n2.5e-12,1\n3e-12,1\n", r"not uniformly sampled: sample \d \(line \d\)"),
        (CSV_HEAD + "0,1\n1e-12,1\n1e-12,1\n", r"increase strictly: sample 2 \(line 5\)"),
        ("# meta: {not json\ntime_s,power_w\n0,1\n1e-12,1\n", r"line 1: meta is not valid JSON"),
        ("# pattern: 0124\ntime_s,power_w\n0,1\n1e-12,1\n", r"line 1: pattern '0124' is neither"),
        ("# sample_rate_hz: 2e12\ntime_s,power_w\n0,1\n1e-12,1\n", r"line 1: sample_rate_hz .* disagrees"),
        ("# symbol_rate_baud: fast\ntime_s,power_w\n0,1\n1e-12,1\n", r"line 1: symbol_rate_baud 'fast'"),
        ("# symbol_rate_baud: 1e12\ntime_s,power_w\n0,1\n1e-12,1\n", r"samples per symbol"),
        ("# only comments\n", r"no column header"),
    ],
)
def test_bad_csv_raises_with_location(tmp_path, text, match):
    p = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(FileFormatError, match=match):
        read_csv(p)


# --- NPZ -----------------------------------------------------------------------------------
def test_npz_round_trip_is_exact(tmp_path):
    wf = make_wf(meta={"seed": 1, "idn": "X", "arr": np.arange(3)})
    back = read_waveform(write_npz(wf, tmp_path / "a.npz"))
    assert np.array_equal(back.samples, wf.samples)
    assert (back.sample_rate_hz, back.symbol_rate_baud, back.t0_s) == (wf.sample_rate_hz, wf.symbol_rate_baud,
                                                                        wf.t0_s)
    assert np.array_equal(back.pattern, wf.pattern) and back.meta["arr"] == [0, 1, 2]


def test_npz_round_trip_without_optional_fields(tmp_path):
    wf = make_wf(symbol_rate_baud=None, pattern=None, meta={}, quantity="current")
    back = read_npz(write_npz(wf, tmp_path / "b"))  # suffix added
    assert back.symbol_rate_baud is None and back.pattern is None and back.quantity is Quantity.CURRENT


def test_npz_missing_arrays_are_listed(tmp_path):
    p = tmp_path / "c.npz"
    np.savez(p, samples=np.ones(4))
    with pytest.raises(FileFormatError, match="missing array.*sample_rate_hz"):
        read_waveform(p)


# --- FlexDCA ------------------------------------------------------------------------------
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


def test_hand_written_flexdca_xy_file(tmp_path):
    wf = read_waveform(write_text(tmp_path / "scope.csv", FLEX_XY))
    assert wf.quantity is Quantity.OPTICAL_POWER
    assert wf.sample_rate_hz == pytest.approx(1e11, rel=1e-12)
    assert wf.t0_s == pytest.approx(2e-9, rel=1e-12)
    # one whole pattern of 4 UI in 8 points of 10 ps: 4 / 80 ps = 50 GBd
    assert wf.symbol_rate_baud == pytest.approx(5e10, rel=1e-12)
    expected = [1e-4, 1.1e-4, 5e-4, 5.1e-4, 9e-4, 9.1e-4, 1.3e-3, 1.31e-3]
    np.testing.assert_allclose(wf.samples, expected, rtol=1e-15)
    assert wf.meta["pattern_length_symbols"] == 4 and wf.meta["instrument"] == "N1000A"


def test_hand_written_flexdca_y_values_in_volts(tmp_path):
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


def test_flexdca_round_trip(tmp_path):
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
def test_bad_flexdca_raises(tmp_path, text, match):
    p = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(FileFormatError, match=match):
        read_waveform(p)


# --- dispatch ------------------------------------------------------------------------------
def test_wrong_suffix_is_rejected_with_allowed_list(tmp_path):
    p = write_csv(make_wf(), tmp_path / "a.csv")
    q = p.rename(tmp_path / "a.dat")
    allowed = r"'\.dat' is not supported; allowed: \.csv, \.txt, \.npz, \.wfmx"
    with pytest.raises(FileFormatError, match=allowed):
        read_waveform(q)


def test_content_suffix_mismatch_and_unknown_content(tmp_path):
    p = write_csv(make_wf(), tmp_path / "a.csv")
    q = tmp_path / "a.npz"
    q.write_bytes(p.read_bytes())
    with pytest.raises(FileFormatError, match="looks like csv but the suffix '.npz'"):
        read_waveform(q)
    r = write_text(tmp_path / "r.csv", "hello world\n1,2\n")
    with pytest.raises(FileFormatError, match="content not recognised"):
        read_waveform(r)
    with pytest.raises(FileFormatError, match="no such file"):
        read_waveform(tmp_path / "missing.csv")
    with pytest.raises(InvalidType):
        write_csv(np.ones(3), tmp_path / "x.csv")
