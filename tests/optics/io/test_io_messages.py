"""What the readers of optics.io say about bad files: a non-finite cell by its text (not as an
empty cell), an empty file as empty, numbers as plain numbers (never NumPy's ``np.float64(...)``)."""

from __future__ import annotations

import numpy as np
import pytest

from optics.errors import FileFormatError, InvalidParameter, value_text
from optics.io import from_flexdca_xy, read_csv, read_flexdca, read_npz, read_waveform, write_flexdca

# data rows start on line 2; row k (0-based) is on line k + 2
_ROWS = [f"{k}e-12,{(k % 4 + 1) * 1e-4}" for k in range(20)]


def _csv_with(cell: str, row: int = 11, column: int = 1) -> str:
    rows = list(_ROWS)
    fields = rows[row].split(",")
    fields[column] = cell
    rows[row] = ",".join(fields)
    return "time_s,power_w\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
@pytest.mark.parametrize("column", [0, 1])
def test_non_finite_cell_is_named_by_its_text_not_as_an_empty_cell(tmp_path, write_text, cell, column):
    p = write_text(tmp_path / "w.csv", _csv_with(cell, row=11, column=column))
    with pytest.raises(FileFormatError) as info:
        read_waveform(p)
    msg = str(info.value)
    assert msg == f"w.csv: line 13, column {column + 1}: '{cell}' is not a finite number"


@pytest.mark.parametrize(
    "cell, what",
    [
        ("", "an empty cell (truncated line?) is not a number"),
        ("  ", "an empty cell (truncated line?) is not a number"),
        ("N/A", "'N/A' is not a number"),  # pandas reads it as NaN too
        ("abc", "'abc' is not a number"),
        ("1.0e-", "'1.0e-' is not a number"),
    ],
)
def test_empty_and_non_numeric_cells_keep_their_own_words(tmp_path, write_text, cell, what):
    p = write_text(tmp_path / "w.csv", _csv_with(cell))
    with pytest.raises(FileFormatError, match=r"^w\.csv: line 13, column 2: (.*)$") as info:
        read_csv(p)
    assert str(info.value).endswith(what)


def test_first_bad_cell_of_the_file_is_the_one_named(tmp_path, write_text):
    # 'nan' on line 5 comes before 'abc' on line 9, though 'abc' makes its column text
    text = _csv_with("nan", row=3)
    rows = text.splitlines()
    rows[8] = rows[8].split(",")[0] + ",abc"
    p = write_text(tmp_path / "w.csv", "\n".join(rows) + "\n")
    with pytest.raises(FileFormatError, match=r"line 5, column 2: 'nan' is not a finite number$"):
        read_csv(p)


def test_flexdca_clipped_cell_is_named_with_the_remedy(tmp_path, write_text):
    head = "XOrg, 0\r\nXInc, 1e-12\r\nPatternLength, 4\r\nYUnits, Watt\r\nData,\r\n"
    p = write_text(tmp_path / "cap.csv", head + "1E-4\r\n5E-4\r\nInfinity\r\n9E-4\r\n")
    with pytest.raises(FileFormatError,
                       match=r"line 8, column 1: 'Infinity' is not a finite number; FlexDCA writes clipped "
                             r"samples as Infinity: re-save"):
        read_flexdca(p)


def test_flexdca_remedy_is_not_added_to_other_errors_of_a_file_named_inf(tmp_path, write_text):
    # the remedy was added to any message containing "inf", e.g. through the file name
    head = "XOrg, 0\r\nXInc, 1e-12\r\nPatternLength, 4\r\nYUnits, Watt\r\nData,\r\n"
    p = write_text(tmp_path / "info.csv", head + "1E-4\r\n5E-4\r\nabc\r\n9E-4\r\n")
    with pytest.raises(FileFormatError) as info:
        read_flexdca(p)
    assert str(info.value) == "info.csv: line 8, column 1: 'abc' is not a number"


_EMPTY = [b"", b"\n\n", b"  \r\n\t\r\n", b"\xef\xbb\xbf"]


@pytest.mark.parametrize("content", _EMPTY)
@pytest.mark.parametrize("name", ["a.csv", "a.txt", "a.npz", "a.wfmx"])
def test_empty_file_is_called_empty(tmp_path, content, name):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(FileFormatError, match=rf"^{name.replace('.', '[.]')}: the file is empty \("):
        read_waveform(p)


@pytest.mark.parametrize("reader", [read_csv, read_flexdca, read_npz])
def test_each_reader_calls_an_empty_file_empty(tmp_path, reader):
    p = tmp_path / "a.csv"
    p.write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"^a\.csv: the file is empty \(0 bytes\)$"):
        reader(p)


def test_a_file_with_content_past_blank_lines_is_not_empty(tmp_path, write_text):
    p = write_text(tmp_path / "late.csv", "\n" * 5000 + "time_s,power_w\n0,1e-4\n1e-12,2e-4\n")
    assert read_csv(p).samples.tolist() == [1e-4, 2e-4]


def test_time_values_in_messages_are_plain_numbers(tmp_path, write_text):
    p = write_text(tmp_path / "t.csv", "time_s,power_w\n0,1e-4\n1e-12,1e-4\n1e-12,1e-4\n")
    with pytest.raises(FileFormatError) as info:
        read_csv(p)
    assert "has t = 1e-12 s after t = 1e-12 s" in str(info.value)
    p = write_text(tmp_path / "u.csv", "time_s,power_w\n0,1\n1e-12,1\n2.5e-12,1\n3e-12,1\n")
    with pytest.raises(FileFormatError, match=r"sample 2 \(line 4\) at t = 2\.5e-12 s is 0\.5 sample"):
        read_csv(p)


def test_clipped_scpi_sample_is_a_plain_number():
    y = np.array([1e-3, np.inf, 1e-3, 1e-3])
    with pytest.raises(FileFormatError, match=r"^sample 1 is inf: a clipped value or a hole; FlexDCA"):
        from_flexdca_xy(np.arange(4) * 1e-11, y, pattern_length_ui=2)


def test_numpy_integer_pattern_length_is_a_plain_number(tmp_path, make_wf):
    with pytest.raises(InvalidParameter, match=r"positive integer, got 0$"):
        write_flexdca(make_wf(), tmp_path / "f.csv", pattern_length_ui=np.int64(0))


@pytest.mark.parametrize(
    "value, text",
    [(np.float64("inf"), "inf"), (np.float64(-0.5), "-0.5"), (np.float32(0.5), "0.5"), (np.int64(-3), "-3"),
     (np.array(2.5), "2.5"), (np.bool_(True), "True"), (np.str_("ab"), "'ab'"), (1e-12, "1e-12"),
     ("ab", "'ab'"), (None, "None")],
)
def test_value_text_shows_numpy_scalars_as_python_values(value, text):
    assert value_text(value) == text
