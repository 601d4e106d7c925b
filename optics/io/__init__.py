"""Waveform files: the toolkit's CSV and NumPy formats and Keysight FlexDCA pattern waveforms.

Every reader returns an :class:`optics.Waveform`, so a capture saved on a scope, a file
written by a model run and a waveform held in memory go through the same analysis.

Modules
-------
:mod:`optics.io.csvfile`
    The toolkit's CSV format (``time_s,<quantity>`` columns, ``# key: value`` header
    lines): :func:`read_csv`, :func:`write_csv`; 15 significant digits.
:mod:`optics.io.npz`
    The toolkit's NumPy ``.npz`` format, exact round trips: :func:`read_npz`,
    :func:`write_npz`.
:mod:`optics.io.flexdca`
    Keysight FlexDCA pattern waveforms (text export, ``.wfmx``, SCPI float32 blocks):
    :func:`read_flexdca`, :func:`write_flexdca`, :func:`from_flexdca_xy`; what of the
    format is confirmed and what is assumed is listed there.
:mod:`optics.io.dispatch`
    :func:`read_waveform`, which picks the reader from the file's suffix and content.
:mod:`optics.io.fields`, :mod:`optics.io.textdata`
    What the formats share: header values, the uniform time-axis check and Waveform
    assembly; fast printing and checked parsing of numeric text rows.

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

from optics.io.csvfile import QUANTITY_COLUMNS, TIME_COLUMN, read_csv, write_csv
from optics.io.dispatch import SUFFIX_FORMATS, read_waveform
from optics.io.fields import TIME_GRID_TOLERANCE
from optics.io.flexdca import from_flexdca_xy, read_flexdca, write_flexdca
from optics.io.npz import read_npz, write_npz
from optics.io.textdata import CSV_DIGITS

__all__ = [
    "QUANTITY_COLUMNS",
    "SUFFIX_FORMATS",
    "TIME_COLUMN",
    "from_flexdca_xy",
    "read_csv",
    "read_flexdca",
    "read_npz",
    "read_waveform",
    "write_csv",
    "write_flexdca",
    "write_npz",
]
