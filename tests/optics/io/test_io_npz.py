"""Tests of optics.io.npz: exact round trips (with and without optional fields), missing arrays."""

from __future__ import annotations

import numpy as np
import pytest

from optics import Quantity
from optics.errors import FileFormatError
from optics.io import read_npz, read_waveform, write_npz


def test_npz_round_trip_is_exact(tmp_path, make_wf):
    wf = make_wf(meta={"seed": 1, "idn": "X", "arr": np.arange(3)})
    back = read_waveform(write_npz(wf, tmp_path / "a.npz"))
    assert np.array_equal(back.samples, wf.samples)
    assert (back.sample_rate_hz, back.symbol_rate_baud, back.t0_s) == (wf.sample_rate_hz, wf.symbol_rate_baud,
                                                                        wf.t0_s)
    assert np.array_equal(back.pattern, wf.pattern) and back.meta["arr"] == [0, 1, 2]


def test_npz_round_trip_without_optional_fields(tmp_path, make_wf):
    wf = make_wf(symbol_rate_baud=None, pattern=None, meta={}, quantity="current")
    back = read_npz(write_npz(wf, tmp_path / "b"))  # suffix added
    assert back.symbol_rate_baud is None and back.pattern is None and back.quantity is Quantity.CURRENT


def test_npz_missing_arrays_are_listed(tmp_path):
    p = tmp_path / "c.npz"
    np.savez(p, samples=np.ones(4))
    with pytest.raises(FileFormatError, match="missing array.*sample_rate_hz"):
        read_waveform(p)

