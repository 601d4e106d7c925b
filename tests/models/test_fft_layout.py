"""Tests of models.fft_layout: the four-step transforms against numpy's FFT."""

import numpy as np
import pytest

from models import response
from models.fft_layout import MIN_FOUR_STEP_LENGTH, FourStep, four_step, four_step_split
from optics.errors import InvalidParameter


def _bins(fs: FourStep, freqs: np.ndarray) -> np.ndarray:
    return np.rint(freqs * fs.n).astype(np.int64) % fs.n


def test_split_picks_the_divisor_nearest_the_square_root():
    assert four_step_split(1 << 20) == (1024, 1024)
    assert four_step_split(1 << 21) == (2048, 1024)
    assert four_step_split(3 << 18) == (1024, 768)
    assert four_step_split(MIN_FOUR_STEP_LENGTH // 2) is None  # short: one 1-D call
    assert four_step_split(65535 * 32) is None  # not a fast length: Good-Thomas instead
    assert response.pfa_plan(65535 * 32) is not None
    with pytest.raises(InvalidParameter, match="four-step"):
        FourStep(65535 * 32)


@pytest.mark.parametrize("n", [1 << 17, 3 << 17])
def test_forward_is_the_dft_in_the_transposed_layout_and_inverse_undoes_it(n):
    fs = four_step(n)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    ref = np.fft.fft(x)
    spec = fs.forward(x)
    k = _bins(fs, fs.frequencies())
    assert sorted(k.ravel().tolist()) == list(range(n))  # every bin exactly once
    scale = np.max(np.abs(ref))
    np.testing.assert_allclose(spec, ref[k], rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(fs.inverse(spec.copy(), workers=2), x, rtol=0, atol=1e-13)
    # complex64: float32 rounding only (about 1e-7 of the largest bin)
    spec32 = fs.forward(x.astype(np.complex64))
    assert spec32.dtype == np.complex64
    assert np.max(np.abs(spec32 - ref[k])) < 1e-6 * scale
    np.testing.assert_array_equal(fs.forward(x, workers=2), spec)  # threads split the batch only


def test_real_transforms_filter_like_rfft_irfft():
    n = 1 << 17
    fs = four_step(n)
    assert fs.real_ok and fs.real_shape == (fs.n1 // 2 + 1, fs.n2)
    x = np.random.default_rng(2).standard_normal(n)
    spec = fs.real_forward(x)
    f = fs.real_frequencies()
    np.testing.assert_allclose(spec, np.fft.fft(x)[_bins(fs, f)], rtol=0, atol=1e-12 * np.sqrt(n))
    h = 1.0 / (1.0 + 1j * f / 0.03)  # a Hermitian response: first-order low-pass at 0.03 fs
    y = fs.real_inverse(spec * h)
    ref = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * np.fft.rfftfreq(n) / 0.03), n)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-13)
    # response.real_spectrum and friends use this layout for such lengths
    assert response.real_four_step(n) is fs
    np.testing.assert_array_equal(response.real_spectrum(x), spec)
    np.testing.assert_allclose(response.real_inverse(spec.copy(), n), x, atol=1e-13)


def test_real_white_noise_is_white_with_the_asked_variance():
    n, sigma = 1 << 18, 3e-3
    fs = four_step(n)
    w = fs.real_inverse(fs.real_white_noise(sigma, np.random.default_rng(3)))
    # variance within 4 standard errors (2/n relative variance of a sample variance)
    assert np.var(w) == pytest.approx(sigma**2, rel=4 * np.sqrt(2 / n))
    # white: no correlation at lags 1, a column (N2) and a row (N1) apart: |rho| < 4/sqrt(n)
    for lag in (1, fs.n2, fs.n1, fs.n2 + 1):
        rho = np.corrcoef(w[:-lag], w[lag:])[0, 1]
        assert abs(rho) < 4 / np.sqrt(n), lag
    # flat: the mean periodogram in eight bands agrees with sigma^2 within 5 %
    p = np.abs(np.fft.rfft(w)[1:-1]) ** 2 / n
    for band in np.array_split(p, 8):
        assert band.mean() == pytest.approx(sigma**2, rel=0.05)


@pytest.mark.parametrize("m, sps", [(1 << 16, 16), (4096, 8), (1000, 7), (2047, 32), (5, 3)])
def test_staircase_spectrum_equals_the_transform_of_the_repeated_symbols(m, sps):
    # four-step (2^20), plain rfft, Good-Thomas 2-D and tiny layouts: X[k] = S[k mod M]·P[k]
    rng = np.random.default_rng(m)
    s = rng.standard_normal(m)
    direct = response.real_spectrum(np.repeat(s, sps))
    via_symbols = response.staircase_spectrum(s, sps)
    assert via_symbols.shape == direct.shape
    np.testing.assert_allclose(via_symbols, direct, rtol=0, atol=1e-12 * np.abs(direct).max())
    index, hold = response.staircase_grid(m, sps)
    # the hold response is sps at DC and zero at every multiple of the symbol rate
    k = np.rint(response.real_spectrum_freqs(m * sps, float(m * sps))).astype(np.int64)
    assert hold[k == 0] == pytest.approx(sps)
    zeros = (k % m == 0) & (k != 0)
    if zeros.any():
        assert np.abs(hold[zeros]).max() < 1e-12 * sps
    with pytest.raises(InvalidParameter, match="samples_per_symbol"):
        response.staircase_grid(m, 0)


@pytest.mark.parametrize("n", [1 << 20, 4096, 3 * 5 * 7 * 11 * 13])  # four-step, plain rfft, Good-Thomas
def test_white_noise_spectrum_in_single_precision_is_the_double_one_rounded(n):
    s64 = response.white_noise_spectrum(n, 2.5, np.random.default_rng(7))
    s32 = response.white_noise_spectrum(n, 2.5, np.random.default_rng(7), dtype=np.complex64)
    assert s32.dtype == np.complex64 and s32.shape == s64.shape
    np.testing.assert_allclose(s32, s64, rtol=1e-6, atol=1e-6 * np.abs(s64).max())
    with pytest.raises(InvalidParameter, match="dtype"):
        response.white_noise_spectrum(n, 2.5, np.random.default_rng(7), dtype=np.float64)
