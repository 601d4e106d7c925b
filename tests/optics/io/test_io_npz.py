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



def test_bare_npy_array_is_a_file_format_error(tmp_path):
    # np.load returns an ndarray for .npy content: "does not support the context manager
    # protocol" (TypeError) before
    p = tmp_path / "bare.npz"
    with open(p, "wb") as f:
        np.save(f, np.ones(3))
    with pytest.raises(FileFormatError, match="single .npy array"):
        read_npz(p)


@pytest.mark.parametrize("bad", [np.array([1e11, 2e11]), np.str_("fast")])
def test_non_scalar_symbol_rate_is_a_file_format_error(tmp_path, make_wf, bad):
    # float() of the stored symbol_rate_baud raised a bare TypeError / ValueError
    p = write_npz(make_wf(), tmp_path / "w.npz")
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["symbol_rate_baud"] = bad
    np.savez(p, **arrays)
    with pytest.raises(FileFormatError, match="symbol_rate_baud must be numeric"):
        read_npz(p)


def test_npz_write_is_atomic_a_failed_write_leaves_the_old_file(tmp_path, make_wf, monkeypatch):
    # the archive is written beside the target and renamed over it: an error half-way (here in
    # numpy's writer, as a full disk would raise) keeps the previous file and leaves no temporary
    import optics.io.npz as npz_mod

    p = write_npz(make_wf(), tmp_path / "w.npz")
    before = p.read_bytes()

    def broken(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(npz_mod.np, "savez", broken)
    with pytest.raises(OSError, match="No space"):
        write_npz(make_wf(samples=np.zeros(4096)), p)
    assert p.read_bytes() == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["w.npz"]


def test_npz_overwrite_replaces_the_file_and_keeps_its_mode(tmp_path, make_wf):
    p = write_npz(make_wf(), tmp_path / "w.npz")
    p.chmod(0o640)
    wf2 = make_wf(samples=np.full(4096, 2e-3))
    write_npz(wf2, p)
    assert np.array_equal(read_npz(p).samples, wf2.samples)
    assert (p.stat().st_mode & 0o777) == 0o640
    assert sorted(f.name for f in tmp_path.iterdir()) == ["w.npz"]


def test_npz_missing_directory_is_an_os_error(tmp_path, make_wf):
    with pytest.raises(FileNotFoundError):
        write_npz(make_wf(), tmp_path / "nope" / "w.npz")
