"""Keysight FlexDCA pattern waveforms: :func:`read_flexdca`, :func:`write_flexdca`, :func:`from_flexdca_xy`.

A FlexDCA pattern waveform arrives as a text export (``.csv``/``.txt``), a ``.wfmx``
file (read only) or, over SCPI, as float32 x/y blocks.  What was confirmed from
Keysight's FlexDCA help and SCPI examples:

* a pattern waveform is a pattern-locked capture of the whole pattern; the ``.wfmx``
  header holds ``Points``, ``SignalType``, ``XOrg``, ``XInc`` (s), ``BitRate``,
  ``SamplesPerBit``, ``PatternLength``, ``XUnits`` (``Second``) and ``YUnits`` (``Watt``
  or ``Volt``), and in Keysight's published example ``Points * XInc = PatternLength /
  BitRate`` exactly (4063 points, 127 UI, 9.95328 GBd);
* text waveform files are ``name, value`` header lines (comma separated, CR/LF),
  then ``Data,`` and one value (Y) or one ``x, y`` pair per line; clipped samples are
  written as ``Infinity`` unless "convert holes and clipped values" is selected;
* over SCPI the same data comes as float32 blocks from ``:WAVeform:XYFORmat:FLOat:XDATa?``
  / ``:YDATa?`` with the length in UI from ``:WAVeform:PATTern:BITS?``
  (:func:`from_flexdca_xy` builds the Waveform from those).

What is assumed (not confirmed): the exact key spelling and ``FileType`` label of the text
export (the reader therefore accepts the ``.wfmx`` names with or without spaces and
case-insensitively, and ``Symbol Rate (Baud)``), the column order of XY data (the reader
takes the increasing column as time), and the binary payload of ``.wfmx`` files (read as
little-endian float32 or float64 right after ``</DcaFile>``, chosen by its size).  The
symbol rate is ``BitRate`` when present (unless it is twice ``PatternLength / (Points *
XInc)``, i.e. counts the bits of a PAM4 signal), else ``PatternLength / (Points * XInc)``
(a pattern waveform spans exactly one pattern).

Text files are written with 15 significant digits (:mod:`optics.io.textdata`), so a
round trip returns every value within a relative error of 1e-14.

Examples
--------
>>> import numpy as np
>>> from optics.io import from_flexdca_xy
>>> x = (np.arange(8) * 10e-12).astype(np.float32)  # :WAVeform:XYFORmat:FLOat:XDATa?
>>> y = np.full(8, 1e-3, dtype=np.float32)           # :WAVeform:XYFORmat:FLOat:YDATa?
>>> round(from_flexdca_xy(x, y, pattern_length_ui=4).symbol_rate_baud / 1e9, 3)
50.0
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from optics import validate
from optics.errors import FileFormatError, InvalidParameter, InvalidType, value_text
from optics.io.fields import (
    TIME_GRID_TOLERANCE,
    _at_line,
    _build,
    _check_not_empty,
    _check_uniform_time,
    _coerce_pattern,
    _float_field,
    _path,
    _require_waveform,
)
from optics.io.textdata import _read_numeric_block, _write_table
from optics.waveform import Quantity, Waveform

_FLEXDCA_KEYS = {
    "filetype", "fileformat", "formatversion", "revision", "instrument", "swversion", "serialnumber",
    "date", "sourcename", "points", "signaltype", "xorg", "xinc", "bitrate", "symbolratebaud",
    "symbolrate", "samplesperbit", "samplesperui", "patternlength", "xunits", "yunits", "data",
    "resolution", "bandwidth", "ymax", "ymin", "waveformstatus", "acquisitiontype",
}
_FLEXDCA_YUNITS = {"watt": Quantity.OPTICAL_POWER, "w": Quantity.OPTICAL_POWER,
                   "volt": Quantity.VOLTAGE, "v": Quantity.VOLTAGE,
                   "ampere": Quantity.CURRENT, "amp": Quantity.CURRENT, "a": Quantity.CURRENT}
_FLEXDCA_YUNIT_OF = {Quantity.OPTICAL_POWER: "Watt", Quantity.VOLTAGE: "Volt", Quantity.CURRENT: "Ampere"}
#: What to do about a clipped (``Infinity``) sample or a hole (NaN) in a FlexDCA export.
_CLIPPED_HINT = ("; FlexDCA writes clipped samples as Infinity: re-save with 'convert holes and clipped "
                 "values', or widen the vertical range")


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_()\-]", "", key).lower()


def _looks_like_wfmx(head: bytes) -> bool:
    """True if the first bytes of a file (after a BOM and blank space) start an XML ``.wfmx`` header."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<?xml") or text.startswith(b"<DcaFile")


def from_flexdca_xy(x_s: Any, y: Any, *, pattern_length_ui: int | None,
                    quantity: Quantity | str = "optical_power", symbol_rate_baud: float | None = None,
                    meta: Mapping[str, Any] | None = None, pattern: Any = None) -> Waveform:
    """Waveform from FlexDCA pattern-waveform x/y data (e.g. the SCPI float32 blocks).

    Parameters
    ----------
    x_s : array_like
        Sample times in s (``:WAVeform:XYFORmat:FLOat:XDATa?``); uniform within 1 % of the
        interval or the float32 resolution of the largest time, whichever is larger.
    y : array_like
        Samples in W (optical channel), V or A (``:WAVeform:XYFORmat:FLOat:YDATa?``).
    pattern_length_ui : int or None
        Pattern length in UI (``:WAVeform:PATTern:BITS?``).  The record is one whole
        pattern, so the symbol rate is ``pattern_length_ui / (n * dt)``.
    quantity : Quantity or str
        What ``y`` holds.
    symbol_rate_baud : float, optional
        Use this symbol rate instead of the one derived from the pattern length.
    meta : mapping, optional
        Extra metadata; ``pattern_length_symbols`` is added.
    pattern : str or array_like, optional
        The known pattern (name or symbols), if any.

    Returns
    -------
    Waveform

    Raises
    ------
    FileFormatError
        Mismatched lengths, fewer than 2 points, non-finite (clipped) values, non-uniform x.
    """
    x = _xy_block("x_s", x_s)
    yy = _xy_block("y", y)
    if pattern_length_ui is not None:
        pattern_length_ui = validate.integer("pattern_length_ui", pattern_length_ui, 1)
    if meta is not None and not isinstance(meta, Mapping):
        raise InvalidType(f"meta must be a mapping, got {type(meta).__name__}")
    return _flexdca_waveform(x, yy, pattern_length_ui, Quantity.parse(quantity), symbol_rate_baud,
                             dict(meta or {}), "", atol_rel=float(np.finfo(np.float32).eps), pattern=pattern)


def _xy_block(name: str, values: Any) -> np.ndarray:
    """A 1-D float64 copy of an x or y block; non-finite values are left for the caller to name."""
    if values is None or isinstance(values, (str, bytes)):
        raise InvalidType(f"{name} must be an array of real numbers, got {type(values).__name__}")
    arr = np.asarray(values)
    if np.iscomplexobj(arr):
        raise InvalidType(f"{name} must be real numbers, got complex values (dtype {arr.dtype})")
    if arr.ndim != 1:
        raise InvalidParameter(f"{name} must be 1-dimensional, got shape {arr.shape}")
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidType(f"{name} must be an array of real numbers: {exc}") from None


def _flexdca_waveform(x: np.ndarray | None, y: np.ndarray, pattern_length: int | None, quantity: Quantity,
                      baud: float | None, meta: dict[str, Any], where: str, *, atol_rel: float,
                      xorg: float | None = None, xinc: float | None = None, bit_rate: float | None = None,
                      pattern: Any = None, first_line: int | None = None) -> Waveform:
    n = y.size
    if x is not None and x.size != n:
        raise FileFormatError(f"{where}{x.size} x values but {n} y values")
    if n < 2:
        raise FileFormatError(f"{where}{n} data point(s); at least 2 are needed")
    bad = ~np.isfinite(y)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise FileFormatError(
            f"{where}sample {k}{_at_line(first_line, k)} is {value_text(y[k])}: a clipped value or a "
            f"hole{_CLIPPED_HINT}"
        )
    if x is not None:
        if not np.all(np.isfinite(x)):
            raise FileFormatError(f"{where}x (time) data contain non-finite values")
        atol = atol_rel * float(np.max(np.abs(x)))
        dt = _check_uniform_time(x, atol=atol, first_line=first_line, where=where)
        if xinc is not None:
            if abs(xinc - dt) > max(TIME_GRID_TOLERANCE * dt, 2 * atol / max(n - 1, 1)):
                raise FileFormatError(f"{where}XInc = {xinc!r} s disagrees with the x data ({dt!r} s)")
            dt = xinc
        t0 = float(x[0]) if xorg is None else xorg
    else:
        if xinc is None:
            raise FileFormatError(f"{where}Y-only data need an XInc header value (sample interval)")
        dt = xinc
        t0 = 0.0 if xorg is None else xorg
    if not (dt > 0 and math.isfinite(dt)):
        raise FileFormatError(f"{where}sample interval {dt!r} s is not positive")
    if pattern_length is not None:
        meta["pattern_length_symbols"] = int(pattern_length)
    if bit_rate is not None:
        meta["flexdca_bit_rate"] = bit_rate
    if baud is None:
        derived = None if pattern_length is None else pattern_length / (n * dt)
        if bit_rate is None:
            baud = derived
        elif derived is not None and abs(2.0 * derived / bit_rate - 1.0) < 1e-3:
            baud = derived  # BitRate counted the bits of a PAM4 signal (2 per symbol)
        else:
            baud = bit_rate
    meta.setdefault("source", "instrument")
    if baud is not None and pattern_length is not None:
        dt = pattern_sample_interval(dt, n, pattern_length, baud)
    return _build(y, 1.0 / dt, quantity, baud, _coerce_pattern(pattern), meta, t0, where)


#: Largest relative disagreement between the recorded sample interval and
#: ``pattern_length / (n_points * symbol_rate)`` taken as rounding of the time stamps.
PATTERN_SNAP_TOLERANCE = 1e-5


def pattern_sample_interval(dt_s: float, n_points: int, pattern_length: int,
                            symbol_rate_baud: float) -> float:
    """Sample interval of a pattern-locked record, free of time-stamp rounding.

    A pattern waveform spans exactly one pattern: ``n_points * dt = pattern_length / baud``.
    Time stamps exported as float32 carry ~1e-7 relative rounding, which would put e.g.
    7.9999998 instead of 8 samples in a UI and shift the phase of every symbol of a long
    pattern.  When the recorded interval agrees with the exact one within
    :data:`PATTERN_SNAP_TOLERANCE` (relative), the exact one is returned; otherwise the
    recorded one, unchanged (the record is then not an exact pattern repetition).

    Examples
    --------
    >>> pattern_sample_interval(2.3529411e-12, 8 * 65535, 65535, 53.125e9) * 53.125e9 * 8
    1.0
    """
    exact = pattern_length / (n_points * symbol_rate_baud)
    return exact if abs(dt_s / exact - 1.0) <= PATTERN_SNAP_TOLERANCE else dt_s


def _points_field(value: str, where: str) -> int:
    """The ``Points`` header value: a whole number >= 1."""
    v = _float_field(value, "Points", where.rstrip(": "))
    if v != math.floor(v) or v < 1:
        raise FileFormatError(f"{where}Points = {value.strip()!r} must be a whole number >= 1")
    return int(v)


def _flexdca_header_value(header: dict[str, str], *keys: str) -> str | None:
    for k in keys:
        if k in header:
            return header[k]
    return None


def _flexdca_from_header(header: dict[str, str], x: np.ndarray | None, y: np.ndarray, where: str,
                         symbol_rate_baud: float | None, pattern: Any, file_format: str, path: Path,
                         first_line: int | None, atol_rel: float) -> Waveform:
    def num(*keys: str) -> float | None:
        v = _flexdca_header_value(header, *keys)
        return None if v is None or v == "" else _float_field(v, keys[0], where.rstrip(": "))

    yunits = _flexdca_header_value(header, "yunits")
    if yunits is None:
        raise FileFormatError(f"{where}no YUnits header; cannot tell W from V (allowed: Watt, Volt, Ampere)")
    quantity = _FLEXDCA_YUNITS.get(yunits.strip().lower())
    if quantity is None:
        raise FileFormatError(f"{where}YUnits {yunits!r} is not supported; allowed: Watt, Volt, Ampere")
    xunits = _flexdca_header_value(header, "xunits")
    if xunits is not None and xunits.strip().lower() not in ("second", "s"):
        raise FileFormatError(f"{where}XUnits {xunits!r} is not supported; allowed: Second")
    points = _flexdca_header_value(header, "points")
    points = None if points is None or points == "" else _points_field(points, where)
    if points is not None and points != y.size:
        raise FileFormatError(f"{where}header says Points = {points} but {y.size} data points follow "
                              "(truncated file?)")
    plen = num("patternlength")
    if plen is not None and not plen >= 1:
        raise FileFormatError(f"{where}PatternLength = {plen!r} UI must be >= 1")
    meta: dict[str, Any] = {"file": str(path), "file_format": file_format}
    for key, name in (("instrument", "instrument"), ("sourcename", "source_name"),
                      ("signaltype", "signal_type"), ("swversion", "instrument_sw_version"),
                      ("date", "date")):
        if key in header:
            meta[name] = header[key]
    return _flexdca_waveform(
        x, y, None if plen is None else int(round(plen)), quantity, symbol_rate_baud, meta, where,
        atol_rel=atol_rel, xorg=num("xorg"), xinc=num("xinc"),
        bit_rate=num("bitrate", "symbolratebaud", "symbolrate"), pattern=pattern, first_line=first_line,
    )


def _read_flexdca_text(p: Path, symbol_rate_baud: float | None, pattern: Any) -> Waveform:
    where = f"{p.name}: "
    header: dict[str, str] = {}
    n_lines = 0
    found_data = False
    try:
        with open(p, encoding="utf-8-sig", newline="") as f:
            for raw in f:
                n_lines += 1
                line = raw.strip()
                if not line:
                    continue
                key, _, value = line.partition(",")
                k = _norm_key(key)
                if k == "data":
                    found_data = True
                    break
                header[k] = value.strip()
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{where}not a text file ({exc.reason})") from None
    if not found_data:
        raise FileFormatError(f"{where}no 'Data,' line found after the FlexDCA header ({n_lines} lines read)")
    # Some exports put a type word ("float") on the line after "Data,".
    skip = n_lines
    with open(p, encoding="utf-8-sig", newline="") as f:
        for _ in range(n_lines):
            f.readline()
        nxt = f.readline().strip()
    if nxt and re.fullmatch(r"[A-Za-z][A-Za-z0-9 ]*", nxt) and nxt.lower() not in ("infinity", "nan"):
        skip += 1
    data = _read_numeric_block_flexdca(p, skip, where)
    if data.shape[1] == 1:
        x, y = None, data[:, 0]
    elif data.shape[1] == 2:
        c0, c1 = data[:, 0], data[:, 1]
        if data.shape[0] > 1 and np.all(np.diff(c0) > 0):
            x, y = c0, c1
        elif data.shape[0] > 1 and np.all(np.diff(c1) > 0):
            x, y = c1, c0
        else:
            raise FileFormatError(f"{where}neither data column increases steadily; cannot tell time from y")
    else:
        raise FileFormatError(f"{where}data rows have {data.shape[1]} columns; expected 1 (y) or 2 (x, y)")
    return _flexdca_from_header(header, x, y, where, symbol_rate_baud, pattern, "flexdca-text", p,
                                skip + 1, atol_rel=5e-6)


def _read_numeric_block_flexdca(p: Path, skip: int, where: str) -> np.ndarray:
    """:func:`_read_numeric_block` with the FlexDCA remedy for ``Infinity`` (clipped) and NaN
    (hole) cells."""
    return _read_numeric_block(p, skip, None, where, nonfinite_hint=_CLIPPED_HINT)


def _read_flexdca_wfmx(p: Path, raw: bytes, symbol_rate_baud: float | None, pattern: Any) -> Waveform:
    where = f"{p.name}: "
    end_tag = b"</DcaFile>"
    end = raw.find(end_tag)
    if end < 0:
        raise FileFormatError(f"{where}XML header has no closing </DcaFile> tag (truncated file?)")
    try:
        root = ET.fromstring(raw[: end + len(end_tag)])
    except ET.ParseError as exc:
        raise FileFormatError(f"{where}XML header cannot be parsed ({exc})") from None
    header: dict[str, str] = {}
    for el in root.iter():
        if el.text and el.text.strip() and len(el) == 0:
            header[_norm_key(el.tag)] = el.text.strip()
    points = header.get("points")
    if points is None:
        raise FileFormatError(f"{where}XML header has no <Points>")
    n = _points_field(points, where)
    payload = raw[end + len(end_tag):]
    # at most one line break separates the header from the payload; strip only as many
    # CR/LF bytes as make the size fit (the first float can itself start with 0x0a/0x0d)
    for k in range(3):
        if payload[:k].strip(b"\r\n") == b"" and len(payload) - k in (4 * n, 8 * n):
            payload = payload[k:]
            break
    if len(payload) == 4 * n:
        y = np.frombuffer(payload, dtype="<f4").astype(np.float64)
    elif len(payload) == 8 * n:
        y = np.frombuffer(payload, dtype="<f8").copy()
    else:
        raise FileFormatError(
            f"{where}binary payload of {len(payload)} bytes matches neither {n} float32 nor float64 "
            "values; this .wfmx layout is not supported (save the pattern waveform as .csv/.txt)"
        )
    return _flexdca_from_header(header, None, y, where, symbol_rate_baud, pattern, "flexdca-wfmx", p,
                                None, atol_rel=0.0)


def read_flexdca(path: str | os.PathLike, *, symbol_rate_baud: float | None = None,
                 pattern: Any = None) -> Waveform:
    """Read a Keysight FlexDCA pattern-waveform file (text ``.csv``/``.txt`` or ``.wfmx``).

    See the module docstring for what of the format is confirmed and what is assumed.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    symbol_rate_baud : float, optional
        Overrides the symbol rate taken from ``BitRate`` or ``PatternLength / (Points * XInc)``.
    pattern : str or array_like, optional
        The pattern the capture holds (FlexDCA files carry only its length, stored in
        ``meta["pattern_length_symbols"]``).

    Returns
    -------
    Waveform
        Quantity from ``YUnits``; ``meta`` holds instrument, source and signal type.

    Raises
    ------
    FileFormatError
        An empty file, missing ``Data,`` line or ``YUnits``, clipped (``Infinity``) samples or holes,
        ``Points`` disagreeing with the data (truncation), non-uniform x data.

    Examples
    --------
    A hand-written file (one value per line, time from ``XOrg``/``XInc``)::

        XOrg, 0
        XInc, 1e-12
        PatternLength, 4
        YUnits, Watt
        Data,
        1.0E-3
        ...
    """
    p = _path(path)
    _check_not_empty(p, f"{p.name}: ")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{p.name}: cannot read ({exc.strerror})") from None
    if _looks_like_wfmx(raw[:64]):
        return _read_flexdca_wfmx(p, raw, symbol_rate_baud, pattern)
    return _read_flexdca_text(p, symbol_rate_baud, pattern)


def write_flexdca(wf: Waveform, path: str | os.PathLike, *, pattern_length_ui: int | None = None) -> Path:
    """Write ``wf`` as a FlexDCA-style XY pattern-waveform text file.

    The header uses the ``.wfmx`` field names (``Points, SignalType, XOrg, XInc, BitRate,
    SamplesPerBit, PatternLength, XUnits, YUnits``) as ``name, value`` lines, then
    ``Data,`` and ``x, y`` pairs with 15 significant digits.

    Parameters
    ----------
    wf : Waveform
        The waveform; a pattern waveform spans whole patterns.
    path : str or os.PathLike
        Destination (``.csv`` or ``.txt`` so that :func:`optics.io.read_waveform` accepts it).
    pattern_length_ui : int, optional
        Pattern length in UI.  Default: ``len(wf.pattern)``, else
        ``meta["pattern_length_symbols"]``, else the number of symbols in the record.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InvalidWaveform
        ``wf`` has no symbol rate.
    InvalidParameter
        ``pattern_length_ui`` not a positive integer.
    """
    wf = _require_waveform(wf)
    p = _path(path)
    baud = wf.require_symbol_rate()
    if pattern_length_ui is None:
        if wf.pattern is not None:
            pattern_length_ui = int(wf.pattern.size)
        elif "pattern_length_symbols" in wf.meta:
            pattern_length_ui = int(wf.meta["pattern_length_symbols"])
        else:
            pattern_length_ui = int(round(wf.n_symbols))
    if isinstance(pattern_length_ui, bool) or not isinstance(pattern_length_ui, (int, np.integer)) \
            or pattern_length_ui < 1:
        raise InvalidParameter(
            f"pattern_length_ui must be a positive integer, got {value_text(pattern_length_ui)}"
        )
    header = [
        ("FileType", "WaveformPatternXYValues"),
        ("Instrument", str(wf.meta.get("instrument", "pam4-optics"))),
        ("SourceName", str(wf.meta.get("source_name", "Channel 1A"))),
        ("Points", str(wf.n_samples)),
        ("SignalType", str(wf.meta.get("signal_type", "PAM4"))),
        ("XOrg", repr(wf.t0_s)),
        ("XInc", repr(wf.dt_s)),
        ("BitRate", repr(baud)),
        ("SamplesPerBit", repr(wf.samples_per_symbol)),
        ("PatternLength", str(int(pattern_length_ui))),
        ("XUnits", "Second"),
        ("YUnits", _FLEXDCA_YUNIT_OF[wf.quantity]),
        ("Data", ""),
    ]
    text = "\r\n".join(f"{k}, {v}" if v else f"{k}," for k, v in header) + "\r\n"
    _write_table(p, text.encode("ascii"), [wf.time_s, wf.samples])
    return p


__all__ = ["from_flexdca_xy", "read_flexdca", "write_flexdca"]
