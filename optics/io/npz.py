"""The toolkit's NumPy waveform format: :func:`read_npz` and :func:`write_npz`.

Format
------
A ``.npz`` archive written by :func:`write_npz` (uncompressed, no pickled objects) holds
the arrays ``samples``, ``sample_rate_hz``, ``quantity``, ``symbol_rate_baud`` (NaN when
unknown), ``pattern`` (empty when unknown), ``meta_json``, ``t0_s`` and
``format_version``.  Round trips are exact.  The file is replaced whole or not at all: it is
written to a temporary file beside the target, flushed to the disk and renamed over it
(``os.replace``) by :func:`optics.io.atomic.atomic_file`.

``optics simulate --save-waveforms DIR`` writes each lane's waveforms in this format, with
``meta`` keys ``waveform`` (``"tx"`` or ``"rx"``), ``lane``, ``lane_index``,
``temperature_c`` (case), ``module``, ``preset``, ``link_file``, ``phy``, ``pattern_name``,
``samples_per_symbol`` and ``unit``, so ``optics analyze FILE`` needs no other option.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> from optics import Waveform
>>> from optics.io import read_npz, write_npz
>>> wf = Waveform(samples=np.linspace(0, 1e-3, 64), sample_rate_hz=1e12, quantity="voltage")
>>> path = write_npz(wf, pathlib.Path(tempfile.mkdtemp()) / "wf.npz")
>>> bool(np.array_equal(read_npz(path).samples, wf.samples))
True
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from optics.errors import FileFormatError, InvalidParameter
from optics.io.atomic import atomic_file
from optics.io.fields import _build, _check_not_empty, _coerce_pattern, _meta_json, _path, _require_waveform
from optics.waveform import Quantity, Waveform

_NPZ_VERSION = 1
_NPZ_KEYS = ("samples", "sample_rate_hz", "quantity", "symbol_rate_baud", "pattern", "meta_json", "t0_s")


def write_npz(wf: Waveform, path: str | os.PathLike) -> Path:
    """Write ``wf`` to an uncompressed NumPy ``.npz`` archive (exact round trip).

    Parameters
    ----------
    wf : Waveform
        The waveform.  ``meta`` is stored as JSON; values JSON cannot hold are stored as
        their ``str()``.
    path : str or os.PathLike
        Destination; ``.npz`` is appended if the name lacks it.  Its directory must exist.
        The file is replaced atomically: a reader sees the previous file or the new one,
        and a failed write (disk full, an interrupt) leaves the previous file as it was.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidType
        ``wf`` is not a Waveform.
    OSError
        The directory is missing or not writable, the disk is full...: ``path`` is unchanged.
    """
    wf = _require_waveform(wf)
    p = _path(path)
    if p.suffix != ".npz":
        p = p.with_name(p.name + ".npz")
    with atomic_file(p, "wb") as fh:
        _save_arrays(fh, wf)
    return p


def _save_arrays(fh: Any, wf: Waveform) -> None:
    np.savez(
        fh,
        format_version=np.int64(_NPZ_VERSION),
        samples=wf.samples,
        sample_rate_hz=np.float64(wf.sample_rate_hz),
        quantity=np.str_(wf.quantity.label),
        symbol_rate_baud=np.float64(np.nan if wf.symbol_rate_baud is None else wf.symbol_rate_baud),
        pattern=np.zeros(0, np.uint8) if wf.pattern is None else wf.pattern,
        meta_json=np.str_(_meta_json(wf.meta)),
        t0_s=np.float64(wf.t0_s),
    )


def read_npz(path: str | os.PathLike, *, symbol_rate_baud: float | None = None,
             pattern: Any = None) -> Waveform:
    """Read a ``.npz`` written by :func:`write_npz`.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    symbol_rate_baud, pattern : optional
        Override the stored values (as in :func:`read_csv`).

    Returns
    -------
    Waveform

    Raises
    ------
    FileFormatError
        An empty file, not a zip/npz archive, missing arrays (listed), bad values.
    """
    p = _path(path)
    where = f"{p.name}: "
    _check_not_empty(p, where)
    try:
        # open the file here: np.load(path) leaks its handle when the zip is corrupt
        with open(p, "rb") as fh:
            z = np.load(fh, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):  # a bare .npy array
                raise FileFormatError(f"{where}holds a single .npy array, not a waveform .npz archive")
            with z:
                missing = [k for k in _NPZ_KEYS if k not in z.files]
                if missing:
                    raise FileFormatError(
                        f"{where}missing array(s) {', '.join(missing)}; "
                        f"a waveform .npz holds {', '.join(_NPZ_KEYS)}"
                    )
                arrays = {k: z[k] for k in _NPZ_KEYS}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"{where}not a readable .npz archive ({exc})") from None
    try:
        meta = json.loads(str(arrays["meta_json"]))
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{where}meta_json is not valid JSON ({exc.msg})") from None
    if not isinstance(meta, dict):
        raise FileFormatError(f"{where}meta_json must hold a JSON object")
    try:
        quantity = Quantity.parse(str(arrays["quantity"]))
    except InvalidParameter as exc:
        raise FileFormatError(f"{where}{exc}") from None
    pat = arrays["pattern"]
    meta.setdefault("source", "file")
    meta["file"] = str(p)
    meta["file_format"] = "npz"
    try:
        rate = float(arrays["sample_rate_hz"])
        t0 = float(arrays["t0_s"])
        baud = float(arrays["symbol_rate_baud"])
    except (TypeError, ValueError) as exc:
        raise FileFormatError(
            f"{where}sample_rate_hz, t0_s and symbol_rate_baud must be numeric scalars ({exc})"
        ) from None
    return _build(arrays["samples"], rate, quantity,
                  (None if math.isnan(baud) else baud) if symbol_rate_baud is None else symbol_rate_baud,
                  (pat if pat.size else None) if pattern is None else _coerce_pattern(pattern),
                  meta, t0, where)


__all__ = ["read_npz", "write_npz"]
