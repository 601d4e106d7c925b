"""Tests of optics.io.dispatch: read_waveform rejects unsupported suffixes, content that does
not match the suffix, unrecognised content and missing files, naming what is allowed."""

from __future__ import annotations

import numpy as np
import pytest

from optics.errors import FileFormatError, InvalidType
from optics.io import read_waveform, write_csv


def test_wrong_suffix_is_rejected_with_allowed_list(tmp_path, make_wf):
    p = write_csv(make_wf(), tmp_path / "a.csv")
    q = p.rename(tmp_path / "a.dat")
    allowed = r"'\.dat' is not supported; allowed: \.csv, \.txt, \.npz, \.wfmx"
    with pytest.raises(FileFormatError, match=allowed):
        read_waveform(q)


def test_content_suffix_mismatch_and_unknown_content(tmp_path, make_wf, write_text):
    p = write_csv(make_wf(), tmp_path / "a.csv")
    q = tmp_path / "a.npz"
    q.write_bytes(p.read_bytes())
    with pytest.raises(FileFormatError, match="looks like csv but the suffix '.npz'"):
        read_waveform(q)
    r = write_text(tmp_path / "r.csv", "hello world\n1,2\n")
    with pytest.raises(FileFormatError, match="content not recognised"):
        read_waveform(r)
    with pytest.raises(FileFormatError, match="no such file"):
        read_waveform(tmp_path / "missing.csv")
    with pytest.raises(InvalidType):
        write_csv(np.ones(3), tmp_path / "x.csv")
