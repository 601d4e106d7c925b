"""Fixtures shared by the tests of :mod:`optics.io`: a reference waveform and a text-file writer."""

from __future__ import annotations

import numpy as np
import pytest

from optics import Waveform, patterns


def _make_wf(**changes) -> Waveform:
    rng = np.random.default_rng(42)
    n = 4096
    kw = dict(
        samples=1e-3 + 2e-4 * rng.standard_normal(n),
        sample_rate_hz=53.125e9 * 8,
        quantity="optical_power",
        symbol_rate_baud=53.125e9,
        pattern=patterns.pattern("PRBS7Q"),
        meta={"source": "model", "seed": 42, "settings": {"er_db": 4.5, "lanes": [1, 2]}},
        t0_s=3.5e-9,
    )
    kw.update(changes)
    return Waveform(**kw)


def _write_text(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def make_wf():
    """``make_wf(**changes)``: a 4096-sample PRBS7Q optical-power waveform with nested meta (seed 42)."""
    return _make_wf


@pytest.fixture
def write_text():
    """``write_text(path, text)``: write ``text`` as UTF-8 and return ``path``."""
    return _write_text
