"""Tests of optics.io.csvfile: round trips, hand-written files and every bad-input case.

Stated precision: CSV files are written with 15 significant digits, so samples and times
come back within a relative error of 1e-14; the sample rate and t0 are exact (comment
lines).
"""

from __future__ import annotations

import numpy as np
import pytest

from optics import Quantity
from optics.errors import FileFormatError
from optics.io import read_csv, read_waveform, write_csv

REL = 1e-14


def test_csv_round_trip(tmp_path, make_wf):
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


def test_csv_round_trip_negative_voltage_inline_pattern_no_symbol_rate(tmp_path, make_wf):
    wf = make_wf(samples=np.sin(np.arange(1000) * 0.1) * 0.4, quantity="voltage", pattern=[0, 3, 1, 2, 2],
                 symbol_rate_baud=None, meta={})
    back = read_csv(write_csv(wf, tmp_path / "v.csv"))
    assert back.quantity is Quantity.VOLTAGE and back.symbol_rate_baud is None
    np.testing.assert_allclose(back.samples, wf.samples, rtol=REL, atol=1e-300)
    assert back.pattern.tolist() == [0, 3, 1, 2, 2]
    assert "# pattern: 03122" in (tmp_path / "v.csv").read_text()


def test_hand_written_csv(tmp_path, write_text):
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


def test_overrides_replace_file_values(tmp_path, make_wf):
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
def test_bad_csv_raises_with_location(tmp_path, write_text, text, match):
    p = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(FileFormatError, match=match):
        read_csv(p)



# --- review additions ----------------------------------------------------------------------
def test_trailing_whitespace_only_lines_are_ignored(tmp_path, write_text):
    # editors and Windows tools leave "  " or "\t" lines at the end; they are not data
    p = write_text(tmp_path / "ws.csv", "time_s,power_w\n0,1e-3\n1e-12,2e-3\n\n   \n\t\n")
    wf = read_csv(p)
    assert wf.samples.tolist() == [1e-3, 2e-3]
    assert wf.sample_rate_hz == pytest.approx(1e12, rel=1e-12)


def test_extra_field_in_first_data_row_is_an_error_not_dropped(tmp_path, write_text):
    # pandas drops the third column of the first row with only a ParserWarning
    p = write_text(tmp_path / "extra.csv", "time_s,power_w\n0,1e-3,5\n1e-12,1e-3\n2e-12,1e-3\n")
    with pytest.raises(FileFormatError, match="line 2: more than 2 fields"):
        read_csv(p)


@pytest.mark.parametrize("t0_s", [1.0, 10.0])
def test_round_trip_of_a_late_record(tmp_path, make_wf, t0_s):
    # 15 printed digits put each time within 5e-15 * t of its value: 0.85 % of the 0.59 ps
    # sample interval at t = 1 s, which the uniform-grid check (1 %) rejected after write_csv
    wf = make_wf(t0_s=t0_s, sample_rate_hz=1.7e12, symbol_rate_baud=53.125e9)
    back = read_csv(write_csv(wf, tmp_path / "late.csv"))
    assert back.sample_rate_hz == wf.sample_rate_hz and back.t0_s == t0_s
    np.testing.assert_allclose(back.samples, wf.samples, rtol=REL)
