"""What every waveform format shares: argument checks, header values and Waveform assembly.

The readers of :mod:`optics.io.csvfile`, :mod:`optics.io.npz` and :mod:`optics.io.flexdca`
parse header values with the helpers here (numbers, patterns given by name or as symbol
digits, ``meta`` as JSON), check that a time axis is strictly increasing and uniform
(every time value within :data:`TIME_GRID_TOLERANCE` of a sample interval of
``t0 + k / sample_rate``) and build the :class:`optics.Waveform`, turning its validation
errors into :class:`optics.errors.FileFormatError` that name the file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from optics import patterns as _patterns
from optics.errors import FileFormatError, InvalidType, InvalidWaveform, value_text
from optics.waveform import Quantity, Waveform

#: Allowed deviation of a time value from the uniform grid, in sample intervals.
TIME_GRID_TOLERANCE = 0.01


def _path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidType(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


#: Bytes read to tell an empty (blank) file from a file with content.
_EMPTY_PROBE_BYTES = 4096


def _check_not_empty(p: Path, where: str) -> None:
    """Raise FileFormatError, saying so, if ``p`` is empty: 0 bytes, or only blank space (and
    a UTF-8 byte-order mark)."""
    try:
        with open(p, "rb") as f:
            head = f.read(_EMPTY_PROBE_BYTES)
    except OSError as exc:
        raise FileFormatError(f"{where}cannot read ({exc.strerror})") from None
    if not head:
        raise FileFormatError(f"{where}the file is empty (0 bytes)")
    if len(head) < _EMPTY_PROBE_BYTES and not head.removeprefix(b"\xef\xbb\xbf").strip():
        raise FileFormatError(f"{where}the file is empty (only blank lines)")


def _require_waveform(wf: Any) -> Waveform:
    if not isinstance(wf, Waveform):
        raise InvalidType(f"expected an optics.Waveform, got {type(wf).__name__}")
    return wf


def _float_field(value: str, what: str, where: str) -> float:
    try:
        out = float(value)
    except ValueError:
        raise FileFormatError(f"{where}: {what} {value.strip()!r} is not a number") from None
    if not math.isfinite(out):
        raise FileFormatError(f"{where}: {what} {value.strip()!r} is not finite")
    return out


def _parse_pattern(text: str, where: str) -> np.ndarray:
    """A pattern given as a name or as inline symbol digits."""
    key = text.strip()
    if key.upper() in _patterns.PATTERN_NAMES:
        if key.upper() == "PRBS31Q":
            raise FileFormatError(f"{where}: PRBS31Q is too long to attach as a pattern; give the symbols")
        return _patterns.pattern(key)
    digits = re.sub(r"[\s,;]", "", key)
    if digits and set(digits) <= set("0123"):
        return np.frombuffer(digits.encode("ascii"), dtype=np.uint8) - ord("0")
    raise FileFormatError(
        f"{where}: pattern {key[:40]!r} is neither a pattern name "
        f"({', '.join(_patterns.PATTERN_NAMES)}) nor a list of symbols 0..3"
    )


def _pattern_text(pattern: np.ndarray) -> str:
    """Name of a standard pattern equal to ``pattern``, else its symbols as digits."""
    candidates = {_patterns.SSPRQ_LENGTH: "SSPRQ"}
    for order in (7, 9, 11, 13, 15):
        candidates[(1 << order) - 1] = f"PRBS{order}Q"
    name = candidates.get(pattern.size)
    if name is not None and np.array_equal(pattern, _patterns.pattern(name)):
        return name
    return (pattern.astype(np.uint8) + ord("0")).tobytes().decode("ascii")


def _coerce_pattern(pattern: Any) -> np.ndarray | None:
    if pattern is None:
        return None
    if isinstance(pattern, str):
        return _patterns.pattern(pattern)
    return np.asarray(pattern)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


def _meta_json(meta: Mapping[str, Any]) -> str:
    return json.dumps(dict(meta), default=_json_default, separators=(",", ":"))


def _at_line(first_line: int | None, k: int) -> str:
    """`` (line N)`` for sample ``k`` of data starting on line ``first_line``, else ``""``."""
    return f" (line {first_line + k})" if first_line is not None else ""


def _check_uniform_time(t: np.ndarray, *, atol: float = 0.0, first_line: int | None = None,
                        where: str = "") -> float:
    """Sample interval of a uniform time axis; raise naming the first bad sample."""
    n = t.size
    steps = np.diff(t)
    if not np.all(steps > 0):
        k = int(np.flatnonzero(~(steps > 0))[0]) + 1
        raise FileFormatError(
            f"{where}time values must increase strictly: sample {k}{_at_line(first_line, k)} "
            f"has t = {value_text(t[k])} s after t = {value_text(t[k - 1])} s"
        )
    dt = (t[-1] - t[0]) / (n - 1)
    resid = np.abs(t - (t[0] + np.arange(n) * dt))
    tol = max(TIME_GRID_TOLERANCE * dt, atol)
    worst = int(np.argmax(resid))
    if resid[worst] > tol:
        raise FileFormatError(
            f"{where}time axis is not uniformly sampled: sample {worst}{_at_line(first_line, worst)} "
            f"at t = {value_text(t[worst])} s is {resid[worst] / dt:.3g} sample intervals from the uniform grid t0 + k*{dt:.6g} s "
            f"(tolerance {tol / dt:.3g}); resample the waveform, or print time with more digits"
        )
    return float(dt)


def _build(samples: np.ndarray, rate: float, quantity: Quantity, baud: float | None,
           pattern: np.ndarray | None, meta: dict[str, Any], t0: float, where: str) -> Waveform:
    try:
        return Waveform(samples=samples, sample_rate_hz=rate, quantity=quantity,
                        symbol_rate_baud=baud, pattern=pattern, meta=meta, t0_s=t0)
    except InvalidWaveform as exc:
        raise FileFormatError(f"{where}{exc}") from None

