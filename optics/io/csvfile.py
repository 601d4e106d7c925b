"""The toolkit's own CSV waveform format: :func:`read_csv` and :func:`write_csv`.

Format
------
A ``.csv`` file written by :func:`write_csv`::

    # sample_rate_hz: 850000000000.0
    # t0_s: 0.0
    # symbol_rate_baud: 53125000000.0
    # pattern: SSPRQ
    # meta: {"source": "model", "seed": 1}
    time_s,power_w
    0.00000000000000e+00,1.23456789012345e-03
    ...

The header names time and the quantity with their SI units: ``time_s`` and one of
``power_w``, ``voltage_v``, ``current_a`` (:attr:`optics.Quantity.column`).  The leading
``# key: value`` lines are optional: ``symbol_rate_baud``, ``pattern`` (a name accepted
by :func:`optics.patterns.pattern` or the symbols as digits 0..3, e.g. ``0123 3210`` or
``0,1,2,3``), ``meta`` (JSON object), ``sample_rate_hz`` and ``t0_s`` (exact values, checked
against the time column); any other key is kept in ``meta`` as a string.  The sample rate
comes from the time column, which must be strictly increasing and uniform: every time
value within 1 % of a sample interval of ``t0 + k / sample_rate``.

:func:`write_csv` prints 15 significant digits, so a round trip returns every value
within a relative error of 1e-14 (sample rate and ``t0_s`` are exact through the comment
lines).

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> from optics import Waveform
>>> from optics.io import read_csv, write_csv
>>> wf = Waveform(samples=np.linspace(0, 1e-3, 64), sample_rate_hz=1e12,
...               quantity="optical_power", symbol_rate_baud=1e11)
>>> path = write_csv(wf, pathlib.Path(tempfile.mkdtemp()) / "wf.csv")
>>> read_csv(path).symbol_rate_baud
100000000000.0
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from optics.errors import FileFormatError
from optics.io.fields import (
    TIME_GRID_TOLERANCE,
    _build,
    _check_not_empty,
    _check_uniform_time,
    _coerce_pattern,
    _float_field,
    _meta_json,
    _parse_pattern,
    _path,
    _pattern_text,
    _require_waveform,
)
from optics.io.textdata import _read_numeric_block, _write_table
from optics.waveform import Quantity, Waveform

#: Name of the time column of the toolkit's CSV format.
TIME_COLUMN = "time_s"
#: Allowed quantity columns of the CSV format.
QUANTITY_COLUMNS: tuple[str, ...] = tuple(q.column for q in Quantity)


def read_csv(path: str | os.PathLike, *, symbol_rate_baud: float | None = None,
             pattern: Any = None) -> Waveform:
    """Read the toolkit's CSV format (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    symbol_rate_baud : float, optional
        Symbol rate in Bd; overrides a ``# symbol_rate_baud`` line.
    pattern : str or array_like, optional
        Pattern name or symbols; overrides a ``# pattern`` line.

    Returns
    -------
    Waveform
        ``meta`` gets the file's ``meta`` JSON plus ``file`` and ``file_format``.

    Raises
    ------
    FileFormatError
        An empty file, unknown column or unit (the message names it and the allowed
        columns), non-numeric, non-finite (``nan``, ``inf``) or empty cells and truncated
        lines (with the line and column and the cell's text), fewer than 2 data rows,
        a non-uniform or non-increasing time column, inconsistent header values.

    Examples
    --------
    See the module docstring.
    """
    p = _path(path)
    where = f"{p.name}: "
    _check_not_empty(p, where)
    meta: dict[str, Any] = {}
    fields: dict[str, tuple[str, int]] = {}
    header_line = None
    n_lines = 0
    try:
        with open(p, encoding="utf-8-sig", newline="") as f:
            for raw in f:
                n_lines += 1
                line = raw.strip()
                if not line:
                    continue
                if line.startswith("#"):
                    body = line[1:].strip()
                    if ":" in body:
                        key, _, value = body.partition(":")
                        fields[key.strip().lower()] = (value.strip(), n_lines)
                    continue
                header_line = line
                break
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{where}not a UTF-8 text file ({exc.reason})") from None
    if header_line is None:
        raise FileFormatError(f"{where}no column header line found (expected '{TIME_COLUMN},<quantity>')")
    names = [c.strip() for c in header_line.split(",")]
    if len(names) != 2:
        raise FileFormatError(
            f"{where}line {n_lines}: expected 2 columns '{TIME_COLUMN},<quantity>', got {len(names)}: {names}"
        )
    if names[0] != TIME_COLUMN:
        raise FileFormatError(
            f"{where}line {n_lines}: unknown time column {names[0]!r}; allowed: {TIME_COLUMN} (SI units: s)"
        )
    quantity = next((q for q in Quantity if q.column == names[1]), None)
    if quantity is None:
        raise FileFormatError(
            f"{where}line {n_lines}: unknown quantity column {names[1]!r}; allowed: "
            f"{', '.join(QUANTITY_COLUMNS)} (SI units: W, V, A)"
        )
    data = _read_numeric_block(p, n_lines, 2, where)
    if data.shape[0] < 2:
        raise FileFormatError(
            f"{where}{data.shape[0]} data row(s) after line {n_lines}; at least 2 are needed "
            "to know the sample rate"
        )
    t, y = data[:, 0], data[:, 1]
    # write_csv prints 15 significant digits: each time value is off by up to 5e-15 |t|,
    # which for a late record (t0 = 1 s at 1.7 TSa/s) exceeds 1 % of a sample interval
    atol = 1e-14 * float(np.max(np.abs(t)))
    dt = _check_uniform_time(t, atol=atol, first_line=n_lines + 1, where=where)
    rate = 1.0 / dt
    t0 = float(t[0])
    if "sample_rate_hz" in fields:
        value, ln = fields.pop("sample_rate_hz")
        stated = _float_field(value, "sample_rate_hz", f"{where}line {ln}")
        if abs(stated - rate) > (1e-6 + 2.0 * atol / (t[-1] - t[0])) * rate:
            raise FileFormatError(
                f"{where}line {ln}: sample_rate_hz = {stated!r} Hz disagrees with the time column "
                f"({rate!r} Hz)"
            )
        rate = stated
    if "t0_s" in fields:
        value, ln = fields.pop("t0_s")
        stated = _float_field(value, "t0_s", f"{where}line {ln}")
        if abs(stated - t0) > max(TIME_GRID_TOLERANCE * dt, atol):
            raise FileFormatError(
                f"{where}line {ln}: t0_s = {stated!r} s disagrees with the first time {t0!r} s"
            )
        t0 = stated
    baud = None
    if "symbol_rate_baud" in fields:
        value, ln = fields.pop("symbol_rate_baud")
        baud = _float_field(value, "symbol_rate_baud", f"{where}line {ln}")
    pat = None
    if "pattern" in fields:
        value, ln = fields.pop("pattern")
        pat = _parse_pattern(value, f"{where}line {ln}")
    if "meta" in fields:
        value, ln = fields.pop("meta")
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{where}line {ln}: meta is not valid JSON ({exc.msg})") from None
        if not isinstance(loaded, dict):
            raise FileFormatError(
                f"{where}line {ln}: meta must be a JSON object, got {type(loaded).__name__}"
            )
        meta.update(loaded)
    fields.pop("format", None)
    for key, (value, _) in fields.items():
        meta.setdefault(key, value)
    meta.setdefault("source", "file")
    meta["file"] = str(p)
    meta["file_format"] = "csv"
    return _build(y, rate, quantity, baud if symbol_rate_baud is None else symbol_rate_baud,
                  pat if pattern is None else _coerce_pattern(pattern), meta, t0, where)


def write_csv(wf: Waveform, path: str | os.PathLike) -> Path:
    """Write ``wf`` in the toolkit's CSV format (15 significant digits).

    Parameters
    ----------
    wf : Waveform
        The waveform; its pattern is written by name when it is a standard one.
    path : str or os.PathLike
        Destination (overwritten).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidType
        ``wf`` is not a Waveform.

    Examples
    --------
    See the module docstring.
    """
    wf = _require_waveform(wf)
    p = _path(path)
    lines = [
        "# format: pam4-optics waveform csv 1",
        f"# sample_rate_hz: {wf.sample_rate_hz!r}",
        f"# t0_s: {wf.t0_s!r}",
    ]
    if wf.symbol_rate_baud is not None:
        lines.append(f"# symbol_rate_baud: {wf.symbol_rate_baud!r}")
    if wf.pattern is not None:
        lines.append(f"# pattern: {_pattern_text(wf.pattern)}")
    lines.append(f"# meta: {_meta_json(wf.meta)}")
    lines.append(f"{TIME_COLUMN},{wf.quantity.column}")
    _write_table(p, ("\n".join(lines) + "\n").encode("utf-8"), [wf.time_s, wf.samples])
    return p


__all__ = ["QUANTITY_COLUMNS", "TIME_COLUMN", "read_csv", "write_csv"]
