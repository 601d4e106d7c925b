"""Numeric text tables: fast fixed-width number printing and checked parsing of data rows.

Shared by the toolkit's CSV format (:mod:`optics.io.csvfile`) and FlexDCA text exports
(:mod:`optics.io.flexdca`).  Writing prints every value with :data:`CSV_DIGITS`
significant digits (``%.14e`` layout) without a Python loop, so a round trip returns
each value within a relative error of 1e-14; reading uses pandas' C parser and reports
bad cells with their 1-based line and column in the file.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from optics.errors import FileFormatError

#: Significant digits written by :func:`write_csv` and :func:`write_flexdca`.
CSV_DIGITS = 15

_POW10 = 10.0 ** np.arange(-200, 201, dtype=np.float64)  # 10**k at index k + 200
_ZERO = np.uint8(ord("0"))


def _sci_prepare(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, int]:
    """Decimal exponent, 15-digit integer mantissa and sign of each value of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    nz = a > 0
    e = np.zeros(x.size, dtype=np.int64)
    with np.errstate(divide="ignore"):
        e[nz] = np.floor(np.log10(a[nz])).astype(np.int64)

    def mantissa(exp: np.ndarray, val: np.ndarray) -> np.ndarray:
        k = 14 - exp
        k1 = k // 2
        return np.rint(val * _POW10[k1 + 200] * _POW10[k - k1 + 200])

    m = mantissa(e, a)
    hi = m >= 1e15
    if hi.any():
        e[hi] += 1
        m[hi] = mantissa(e[hi], a[hi])
    lo = nz & (m < 1e14)
    if lo.any():
        e[lo] -= 1
        m[lo] = mantissa(e[lo], a[lo])
    neg = np.signbit(x) & nz
    exp_digits = 3 if (np.abs(e).max(initial=0) >= 100) else 2
    return e, m.astype(np.int64), neg, bool(neg.any()), exp_digits


def _sci_width(prep: tuple[np.ndarray, np.ndarray, np.ndarray, bool, int]) -> int:
    return int(prep[3]) + 18 + prep[4]  # [sign] d . 14 digits e sign exponent


def _sci_fill(prep: tuple[np.ndarray, np.ndarray, np.ndarray, bool, int], out: np.ndarray) -> None:
    """Write the values of ``prep`` as ASCII into the (n, width) uint8 view ``out``.

    Vectorised replacement for ``'%.14e' % v`` (a Python loop costs ~1 us per value):
    15 significant digits, a sign column only if some value is negative, a 2- or 3-digit
    exponent.  The printed value differs from the input by at most 5e-15 relative plus the
    rounding of the scaling (a few 1e-16).
    """
    e, mi, neg, signed, exp_digits = prep
    c = int(signed)
    if signed:
        out[:, 0] = np.where(neg, np.uint8(ord("-")), np.uint8(ord("+")))
    # Digits one column at a time (strided single-byte stores of uint8 are cheap); the
    # 15-digit mantissa is split in two uint32 halves because 64-bit division is slow.
    head = (mi // 100_000_000).astype(np.uint32)  # first 7 digits
    tail = (mi % 100_000_000).astype(np.uint32)  # last 8 digits
    cols = [c] + list(range(c + 2, c + 16))  # positions of the 15 digits (skipping the '.')
    for half, positions in ((tail, cols[7:]), (head, cols[:7])):
        for pos in reversed(positions):
            out[:, pos] = (half % 10).astype(np.uint8) + _ZERO
            half //= 10
    out[:, c + 1] = ord(".")
    ecol = c + 16
    out[:, ecol] = ord("e")
    out[:, ecol + 1] = np.where(e < 0, np.uint8(ord("-")), np.uint8(ord("+")))
    ea = np.abs(e).astype(np.uint32)
    for pos in range(ecol + 1 + exp_digits, ecol + 1, -1):
        out[:, pos] = (ea % 10).astype(np.uint8) + _ZERO
        ea //= 10


def _format_rows(columns: list[np.ndarray]) -> bytes:
    """``col0,col1,...\\n`` rows (15 significant digits) as one bytes object."""
    preps = [_sci_prepare(c) for c in columns]
    widths = [_sci_width(p) for p in preps]
    n = preps[0][0].size
    buf = np.empty((n, sum(widths) + len(widths)), dtype=np.uint8)
    col = 0
    for i, (prep, w) in enumerate(zip(preps, widths)):
        _sci_fill(prep, buf[:, col : col + w])
        col += w
        buf[:, col] = ord(",") if i < len(preps) - 1 else ord("\n")
        col += 1
    return buf.tobytes()


def _write_table(path: Path, header: bytes, columns: list[np.ndarray]) -> None:
    """Write ``header`` then ``columns`` as comma-separated rows (see :func:`_format_rows`)."""
    with open(path, "wb") as f:
        f.write(header)
        f.write(_format_rows(columns))


def _cell_text(path: Path, line_no: int, column: int) -> str | None:
    """The text of cell ``column`` (0-based) on line ``line_no`` (1-based) of ``path``, or
    None when that line has no such field; read only to name a bad cell."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for k, line in enumerate(f, start=1):
            if k == line_no:
                fields = line.rstrip("\r\n").split(",")
                return fields[column].strip() if column < len(fields) else None
    return None


def _bad_cell(text: str | None, hint: str) -> str:
    """What is wrong with the text of a cell that did not give a finite number."""
    if text is None or not text:
        return "an empty cell (truncated line?) is not a number"
    try:
        float(text)
    except ValueError:
        return f"{text!r} is not a number"
    return f"{text!r} is not a finite number{hint}"  # nan, inf, Infinity, 1e999


def _read_numeric_block(path: Path, skip_lines: int, n_cols: int | None, where: str,
                        nonfinite_hint: str = "") -> np.ndarray:
    """Numeric rows after ``skip_lines`` lines, as float64 of shape (rows, cols).

    Uses pandas' C parser (about 0.2 s for 2.1 M rows of two columns).  Errors name the
    1-based line and column in the file and the cell's text: an empty cell, text that is no
    number, or a number that is not finite (``nan``, ``inf``, ``1e999``; ``nonfinite_hint``
    is appended to that message).
    """
    import pandas as pd  # local: only the text readers need it

    try:
        with warnings.catch_warnings():
            # more fields in the first row than names: pandas would drop the extra columns
            # with only a ParserWarning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, skiprows=skip_lines, header=None, engine="c",
                             skip_blank_lines=False,
                             names=None if n_cols is None else list(range(n_cols)),
                             index_col=False)
    except pd.errors.ParserWarning:
        raise FileFormatError(
            f"{where}line {skip_lines + 1}: more than {n_cols} fields; expected {n_cols} columns"
        ) from None
    except pd.errors.EmptyDataError:
        raise FileFormatError(f"{where}no data rows after line {skip_lines}") from None
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        m = re.search(r"line (\d+)", msg)
        if m:
            line = int(m.group(1))  # pandas counts lines from the top of the file
            raise FileFormatError(f"{where}line {line}: wrong number of fields ({msg})") from None
        raise FileFormatError(f"{where}cannot parse the data rows: {msg}") from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{where}not a text file ({exc.reason})") from None
    # Trailing blank lines are harmless; anything else that is empty is a truncated row.
    if len(df):
        empty = df.isna()
        for c in df.columns:
            if df[c].dtype.kind not in "fiub":  # whitespace-only cells (a trailing "  " line)
                empty[c] |= df[c].map(lambda v: isinstance(v, str) and not v.strip()).to_numpy()
        blank = empty.all(axis=1).to_numpy()
        keep = len(df) - int(np.argmax(~blank[::-1])) if not blank.all() else 0
        df = df.iloc[:keep]
    # text that is no number becomes NaN here; pandas reads "nan", "NA", "" ... as NaN and
    # "inf" as inf: every non-finite value is named below by the text of its cell
    cols = [(df[c] if df[c].dtype.kind in "fiu" else pd.to_numeric(df[c], errors="coerce"))
            .to_numpy(dtype=np.float64) for c in df.columns]
    data = np.column_stack(cols) if cols else np.empty((0, 0))
    if data.size:
        bad = ~np.isfinite(data)
        if bad.any():
            r, c = (int(v) for v in np.argwhere(bad)[0])
            line = skip_lines + r + 1
            raise FileFormatError(
                f"{where}line {line}, column {c + 1}: {_bad_cell(_cell_text(path, line, c), nonfinite_hint)}"
            )
    return data
