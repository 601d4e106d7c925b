"""Reading any supported waveform file: :func:`read_waveform` picks the reader from the content.

The suffix says which formats a file may hold (:data:`SUFFIX_FORMATS`); the first bytes
say which one it does: a zip archive is ``.npz`` (:mod:`optics.io.npz`), an XML
``<DcaFile>`` header is a FlexDCA ``.wfmx``, a first line starting with ``#`` or
``time`` is the toolkit's CSV (:mod:`optics.io.csvfile`) and a ``name, value`` line with
a FlexDCA header name is a FlexDCA text export (:mod:`optics.io.flexdca`).  A file
whose content does not match its suffix is rejected rather than guessed.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> from optics import Waveform
>>> from optics.io import write_csv, read_waveform
>>> wf = Waveform(samples=np.linspace(0, 1e-3, 64), sample_rate_hz=1e12,
...               quantity="optical_power", symbol_rate_baud=1e11)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "wf.csv"
>>> _ = write_csv(wf, path)
>>> read_waveform(path).sample_rate_hz
1000000000000.0
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from optics.errors import FileFormatError
from optics.io.csvfile import TIME_COLUMN, read_csv
from optics.io.fields import _check_not_empty, _path
from optics.io.flexdca import _FLEXDCA_KEYS, _looks_like_wfmx, _norm_key, read_flexdca
from optics.io.npz import read_npz
from optics.waveform import Waveform

#: File suffixes :func:`read_waveform` accepts and the formats each may hold.
SUFFIX_FORMATS: dict[str, tuple[str, ...]] = {
    ".csv": ("csv", "flexdca"),
    ".txt": ("csv", "flexdca"),
    ".npz": ("npz",),
    ".wfmx": ("flexdca",),
}


def _sniff(p: Path) -> str | None:
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise FileFormatError(f"{p.name}: cannot read ({exc.strerror})") from None
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    if _looks_like_wfmx(head):
        return "flexdca"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        first = text.split(b"\n", 1)[0].decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if first.startswith("#") or first.lower().startswith("time"):
        return "csv"
    key = _norm_key(first.partition(",")[0])
    if key in _FLEXDCA_KEYS:
        return "flexdca"
    return None


def read_waveform(path: str | os.PathLike, *, symbol_rate_baud: float | None = None,
                  pattern: Any = None) -> Waveform:
    """Read any supported waveform file, choosing the reader from the content.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``/``.txt`` (toolkit CSV or FlexDCA text), ``.npz`` or ``.wfmx`` file.
    symbol_rate_baud : float, optional
        Symbol rate in Bd; overrides the file's value.
    pattern : str or array_like, optional
        Pattern name or symbols; overrides the file's value.

    Returns
    -------
    Waveform

    Raises
    ------
    FileFormatError
        Unsupported suffix, an empty file, unrecognised content, content that does not
        match the suffix, or any error of the selected reader.

    Examples
    --------
    See the module docstring.
    """
    p = _path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise FileFormatError(
            f"{p.name}: suffix {p.suffix or '(none)'!r} is not supported; "
            f"allowed: {', '.join(SUFFIX_FORMATS)}"
        )
    if not p.is_file():
        raise FileFormatError(f"{p.name}: no such file")
    _check_not_empty(p, f"{p.name}: ")
    kind = _sniff(p)
    if kind is None:
        raise FileFormatError(
            f"{p.name}: content not recognised; expected a CSV starting with '#' comments or "
            f"'{TIME_COLUMN},<quantity>', a FlexDCA 'name, value' header, XML .wfmx or a .npz archive"
        )
    if kind not in SUFFIX_FORMATS[suffix]:
        raise FileFormatError(f"{p.name}: content looks like {kind} but the suffix {suffix!r} is for "
                              f"{' / '.join(SUFFIX_FORMATS[suffix])}")
    reader = {"csv": read_csv, "npz": read_npz, "flexdca": read_flexdca}[kind]
    return reader(p, symbol_rate_baud=symbol_rate_baud, pattern=pattern)


__all__ = ["SUFFIX_FORMATS", "read_waveform"]
