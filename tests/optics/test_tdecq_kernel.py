"""The compiled TDECQ kernel (optics.tdecq.kernel) against the numpy path and closed forms.

* equalize + bin + pair: bit for bit the numpy path (einsum, ``_binned``, ``_distances``),
  with and without histogram weights, and for a window whose samples are all equal;
* the SER sum and its slope: the closed form ``sum w Q(d/s)`` with scipy's ``ndtr``;
* the sigma solve: the SER at the returned sigma is the target (checked with scipy);
* one compiled window evaluation (equalize from the tap inputs or from the record's grid,
  bin, pair, solve sigma): the pairs bit for bit, sigma the Python solve's to rounding;
* the compiled SER gradient: the numpy path's sums to rounding, and the tap search's analytic
  gradient against central finite differences of its cost;
* TDECQ with the kernel equals TDECQ with the numpy path (to rounding: the gradient's sums
  run in another order).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

import optics.tdecq.search as search
from optics import Waveform
from optics.patterns import prbs_q
from optics.reference_receiver import bessel_thomson
from optics.tdecq import kernel, tdecq
from optics.tdecq.ser import _binned, _distances, _solve_sigma

THRESHOLDS = np.array([0.5, 1.5, 2.5])


def _window(rng: np.random.Generator, n_taps: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Tap inputs of a PAM4 window (levels 0..3 with noise) and a main-cursor FFE."""
    x = np.ascontiguousarray(rng.integers(0, 4, (n_taps, m)) + 0.08 * rng.standard_normal((n_taps, m)))
    taps = 0.04 * rng.standard_normal(n_taps)
    taps[n_taps // 2] = 1.0 - (taps.sum() - taps[n_taps // 2])
    return taps, x


def _numpy_pairs(taps, x, weights, n_bins=1000):
    y = np.einsum("k,kn->n", taps, x)
    cen, h, raw, nz = _binned(y, n_bins, weights)
    d, w, sign, bins = _distances(cen, h, THRESHOLDS)
    return d, w, sign, bins, raw, nz


@pytest.mark.parametrize("n_taps", [1, 5, 15])
@pytest.mark.parametrize("weighted", [False, True])
def test_window_pairs_are_the_numpy_path_bit_for_bit(n_taps, weighted):
    rng = np.random.default_rng(n_taps + 10 * weighted)
    taps, x = _window(rng, n_taps, 16382)
    weights = None
    if weighted:  # two columns with fractional window coverage, as _Engine._weights makes them
        weights = np.concatenate((np.full(8191, 0.37), np.full(8191, 0.81)))
    total = float(x.shape[1] if weights is None else weights.sum())
    got = kernel.window_pairs(taps, x, weights, total, THRESHOLDS, 1000)
    ref = _numpy_pairs(taps, x, weights)
    for name, g, r in zip(("d", "w", "sign", "bin", "raw", "nz"), got, ref):
        assert g.shape == r.shape, name
        assert np.array_equal(g, r), name
    y = np.einsum("k,kn->n", taps, x)
    again = kernel.histogram_pairs(y, weights, total, THRESHOLDS, 1000)
    for g, r in zip(again, ref):
        assert np.array_equal(g, r)


def test_a_window_of_equal_samples_is_one_bin():
    x = np.full((3, 50), 1.2)
    got = kernel.window_pairs(np.array([0.0, 1.0, 0.0]), x, None, 50.0, THRESHOLDS, 1000)
    ref = _numpy_pairs(np.array([0.0, 1.0, 0.0]), x, None)
    for g, r in zip(got, ref):
        assert np.array_equal(g, r)
    d, w = got[:2]
    np.testing.assert_allclose(d, [0.7, 0.3], rtol=1e-15)   # 1.2 - 0.5 and 1.5 - 1.2
    np.testing.assert_array_equal(w, [1.0, 1.0])


def test_ser_and_slope_are_the_closed_form():
    rng = np.random.default_rng(5)
    d = rng.uniform(0.0, 0.4, 1500)
    w = rng.uniform(0.0, 1.0, 1500)
    w /= w.sum()
    for sigma in (0.01, 0.05, 0.3):
        z = d / sigma
        ser, slope = kernel.ser_and_slope(d, w, sigma)
        assert ser == pytest.approx(float(w @ scipy.special.ndtr(-z)), rel=1e-13)
        assert slope == pytest.approx(float(w @ (np.exp(-0.5 * z * z) * z)), rel=1e-13)


@pytest.mark.parametrize("start", [None, 0.02, 0.2])
def test_solved_sigma_meets_the_target_ser(start):
    rng = np.random.default_rng(11)
    y = rng.integers(0, 4, 20000) + 0.06 * rng.standard_normal(20000)
    cen, h, _, _ = _binned(y, 1000)
    d, w, _, _ = _distances(cen, h, THRESHOLDS)
    s = _solve_sigma(d, w, 4.8e-4, start)
    assert s > 0.0
    assert float(w @ scipy.special.ndtr(-d / s)) == pytest.approx(4.8e-4, rel=1e-9)
    # the root is unique (SER rises with sigma): a little more noise breaks the target
    assert float(w @ scipy.special.ndtr(-d / (1.001 * s))) > 4.8e-4
    # a closed eye (samples on a threshold) gives 0
    assert _solve_sigma(np.array([0.0, 0.0]), np.array([0.5, 0.5]), 4.8e-4) == 0.0
    assert math.isfinite(s)


def test_tdecq_with_the_kernel_is_the_numpy_path(monkeypatch):
    sym = prbs_q(11)
    baud, sps = 53.125e9, 16
    x = np.repeat(np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    x = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / (0.6 * baud)), x.size)
    x += 2e-5 * np.random.default_rng(3).standard_normal(x.size)
    wf = bessel_thomson(Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud, pattern=sym))
    fast = tdecq(wf, reference_filter=False)
    monkeypatch.setattr(search, "COMPILED_KERNEL", False)
    ref = tdecq(wf, reference_filter=False)
    assert fast.tdecq_db == pytest.approx(ref.tdecq_db, abs=1e-9)
    np.testing.assert_allclose(fast.taps, ref.taps, rtol=0, atol=1e-9)
    assert fast.window_centres_ui == ref.window_centres_ui
    assert 0.5 < fast.tdecq_db < 6.0


def _lane(seed: int = 3) -> Waveform:
    """A PRBS11Q lane at 16 samples/UI through a one-pole Tx and the BT4, with noise."""
    sym = prbs_q(11)
    baud, sps = 53.125e9, 16
    x = np.repeat(np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    x = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / (0.6 * baud)), x.size)
    x += 2e-5 * np.random.default_rng(seed).standard_normal(x.size)
    return bessel_thomson(Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud, pattern=sym))


def _search_state(monkeypatch, wf: Waveform) -> tuple:
    """The engine, start and basis of the first tap search TDECQ runs on ``wf``."""
    seen = []
    minimise = search._Engine.minimise
    monkeypatch.setattr(search._Engine, "minimise",
                        lambda eng, u0, basis: seen.append((eng, u0, basis)) or minimise(eng, u0, basis))
    tdecq(wf, reference_filter=False)
    monkeypatch.setattr(search._Engine, "minimise", minimise)
    return seen[0]


def test_window_sigma_from_the_grid_is_the_python_path(monkeypatch):
    eng, u0, basis = _search_state(monkeypatch, _lane())
    c = eng.taps_from_free(u0)
    th = np.sort(eng.thresholds)
    for side, (inputs, wts, total, cols) in enumerate(basis):
        assert cols is not None and inputs is None        # whole columns of the 16-sps grid
        x = eng._grid_inputs(cols)
        want = kernel.window_pairs(c, x, wts, total, th, 1000)
        wt = np.empty(0) if wts is None else wts
        ref_s = _solve_sigma(want[0], want[1], eng.target)
        for start in (0.7 * ref_s, ref_s, 1.6 * ref_s):
            grid = kernel.window_sigma_grid(c, eng.samples.grid, cols, eng.rows, wt, wts is not None, total,
                                            th, 1000, eng.target, math.log(start))
            flat = kernel.window_sigma(c, x, wt, wts is not None, total, th, 1000, eng.target, math.log(start))
            for got in (grid, flat):
                assert got[0] == kernel.SOLVED
                assert got[1] == pytest.approx(ref_s, rel=1e-11)
                for a, b in zip(got[2:], want[:4] + want[4:]):
                    np.testing.assert_array_equal(a, b)
        # no warm start: the kernel returns the pairs and leaves the solve to the Python path
        got = kernel.window_sigma_grid(c, eng.samples.grid, cols, eng.rows, wt, wts is not None, total, th,
                                       1000, eng.target, math.nan)
        assert got[0] == kernel.NEEDS_START and math.isnan(got[1])
        for a, b in zip(got[2:], want):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("compiled", [True, False])
def test_tap_search_gradient_is_the_finite_difference_of_its_cost(monkeypatch, compiled):
    monkeypatch.setattr(search, "COMPILED_KERNEL", compiled)
    eng, u0, basis = _search_state(monkeypatch, _lane())
    grad = eng.cost_and_grad(u0, basis)[1]
    h = 1e-7
    fd = np.empty_like(grad)
    for i in range(u0.size):
        e = np.zeros_like(u0)
        e[i] = h
        fd[i] = (eng._cost_state(u0 + e, basis)[0] - eng._cost_state(u0 - e, basis)[0]) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=2e-3, atol=2e-3 * np.abs(grad).max())


def test_compiled_ser_gradient_is_the_numpy_sums(monkeypatch):
    eng, u0, basis = _search_state(monkeypatch, _lane())
    c = eng.taps_from_free(u0)
    inputs, wts, total, cols = basis[0]
    x = eng._grid_inputs(cols)
    d, w, sign, bins, raw, nz = kernel.window_pairs(c, x, wts, total, np.sort(eng.thresholds), 1000)
    s = _solve_sigma(d, w, eng.target)
    z = d / s
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    per_raw = np.zeros(nz.size)
    per_raw[nz] = np.bincount(bins, weights=sign * pdf, minlength=int(nz.sum())) / s
    share = per_raw[raw] * (wts / total)
    wt = np.empty(0) if wts is None else wts
    for got in (kernel.ser_gradient(x, wt, wts is not None, total, raw, nz, d, w, sign, bins, s),
                kernel.ser_gradient_grid(eng.samples.grid, cols, eng.rows, eng.n_taps, wt, wts is not None,
                                         total, raw, nz, d, w, sign, bins, s)):
        assert got[0] == pytest.approx(float(w @ (pdf * z)) / s, rel=1e-12)
        np.testing.assert_allclose(got[1], x @ share, rtol=1e-11)
