"""The least-squares moments of the TDECQ tap search by lag running sums (integer samples/UI)
equal the direct product of the tap inputs, and long-FFE TDECQ of a long record uses them."""

from __future__ import annotations

import numpy as np
import pytest

import optics.tdecq.search as search
from optics import Waveform
from optics.patterns import prbs_q
from optics.reference_receiver import bessel_thomson
from optics.tdecq import tdecq
from optics.tdecq.windows import _WindowSamples


@pytest.mark.parametrize("n_taps, main", [(1, 0), (5, 1), (15, 3)])
def test_lag_moments_equal_the_direct_product(n_taps, main):
    rng = np.random.default_rng(7)
    x = 1e-3 * (0.6 + 0.3 * rng.standard_normal(16 * 3000))
    samples = _WindowSamples(x, 16.0, 7.3, 3000, 0.35, 0.65, n_taps, main)
    eng = search._Engine(samples, n_taps, main, np.r_[1.0, np.zeros(n_taps - 1)],
                         np.array([0.4e-3, 0.6e-3, 0.8e-3]), 4.8e-4, -5, 5, 10, 0.01, 0.04)
    nominal = np.array([0.3e-3, 0.5e-3, 0.7e-3, 0.9e-3])
    sym = rng.integers(0, 4, eng.rows)
    for c in range(samples.grid.shape[0]):
        b = np.stack([t[c] for t in samples.tap_inputs])          # direct: (n_taps, rows)
        gram, cross = eng._lag_moments(samples.grid[c], nominal, sym)
        np.testing.assert_allclose(gram, b @ b.T, rtol=1e-10, atol=0)
        np.testing.assert_allclose(cross, b @ nominal[sym], rtol=1e-10, atol=0)


def test_long_ffe_of_a_long_record_fits_its_start_on_every_row(monkeypatch):
    """A record too long for the strided fit (PRBS13Q x 8 at 32 samples/UI: > 4 LS_MAX_ROWS
    window samples) takes its least-squares start from the moments of all rows; TDECQ is that
    of the strided reference path within 0.01 dB (both then optimise the taps)."""
    sym = np.tile(prbs_q(13), 8)
    baud, sps = 53.125e9, 32
    x = np.repeat(np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    x = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / (0.7 * baud)), x.size)
    x += 1.5e-5 * np.random.default_rng(3).standard_normal(x.size)
    wf = bessel_thomson(Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud, pattern=sym))
    calls = []
    real = search.constrained_least_squares_moments
    monkeypatch.setattr(search, "constrained_least_squares_moments",
                        lambda *a: calls.append(1) or real(*a))
    fast = tdecq(wf, reference_filter=False, n_taps=15, n_precursors=3)
    assert calls, "the moments path was not taken"
    monkeypatch.setattr(search, "MOMENTS_BY_LAG", False)
    ref = tdecq(wf, reference_filter=False, n_taps=15, n_precursors=3)
    assert fast.tdecq_db == pytest.approx(ref.tdecq_db, abs=0.01)
    assert sum(fast.taps) == pytest.approx(1.0, abs=1e-12)
