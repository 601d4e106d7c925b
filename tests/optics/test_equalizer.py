"""Reference FFE: full-waveform application, noise enhancement C_eq, constrained LS."""

import math

import numpy as np
import pytest

from optics import Waveform
from optics.equalizer import (
    apply_ffe,
    constrained_least_squares,
    constrained_least_squares_moments,
    default_precursors,
    noise_autocorrelation,
    noise_enhancement,
)
from optics.errors import InvalidParameter, InvalidType, InvalidWaveform
from optics.reference_receiver import bessel_thomson, bessel_thomson_response

BAUD = 53.125e9


def test_default_main_cursor_is_centred():
    assert [default_precursors(n) for n in (1, 3, 5, 7)] == [0, 1, 2, 3]


def test_integer_sps_ffe_equals_shifted_sum():
    rng = np.random.default_rng(0)
    sps = 8
    x = rng.standard_normal(512 * sps)
    wf = Waveform(samples=x, sample_rate_hz=sps * BAUD, symbol_rate_baud=BAUD, quantity="voltage")
    taps = [0.1, -0.2, 1.3, -0.25, 0.05]
    y = apply_ffe(wf, taps).samples  # main cursor at index 2
    # y[n] = sum_k c_k x[n - (k - 2) sps], circular
    ref = sum(c * np.roll(x, (k - 2) * sps) for k, c in enumerate(taps))
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_non_integer_sps_ffe_on_a_sine_matches_analytic_delays():
    sps = 7.3
    n = 7300  # 1000 symbols
    fs = sps * BAUD
    f = 37 * fs / n  # whole number of cycles: periodic
    t = np.arange(n) / fs
    wf = Waveform(samples=np.cos(2 * math.pi * f * t), sample_rate_hz=fs, symbol_rate_baud=BAUD,
                  quantity="voltage")
    taps = [-0.1, 1.2, -0.1]
    y = apply_ffe(wf, taps, n_precursors=1).samples
    T = 1 / BAUD
    ref = sum(c * np.cos(2 * math.pi * f * (t - (k - 1) * T)) for k, c in enumerate(taps))
    np.testing.assert_allclose(y, ref, atol=1e-9)


def test_autocorrelation_against_direct_integration():
    # second method: trapezoid integration of |H|^2 cos(2 pi f k T) on a dense grid
    f = np.linspace(0.0, 200.0, 2_000_001)  # in units of f_3dB; |H|^2 ~ f^-8 beyond
    p = np.abs(bessel_thomson_response(f, 1.0)) ** 2
    for bw_ui in (0.5, 0.25):
        # lag k T with T = 1 s and f = u * bw_ui Hz: cos(2 pi u bw_ui k)
        ref = np.array([np.trapezoid(p * np.cos(2 * math.pi * f * bw_ui * k), f) for k in range(4)])
        ref = ref / ref[0]
        r = noise_autocorrelation(4, symbol_rate_baud=1.0, bandwidth_hz=bw_ui)
        np.testing.assert_allclose(r, ref, atol=1e-7)


def test_ceq_white_noise_is_root_sum_of_squares_monte_carlo():
    # Monte Carlo: white noise (independent samples), FFE, RMS gain
    rng = np.random.default_rng(11)
    sps = 4
    x = rng.standard_normal(2**20)
    wf = Waveform(samples=x, sample_rate_hz=sps * BAUD, symbol_rate_baud=BAUD, quantity="voltage")
    taps = np.array([0.05, -0.3, 1.5, -0.3, 0.05])
    gain = apply_ffe(wf, taps).samples.std() / x.std()
    assert noise_enhancement(taps) == pytest.approx(math.sqrt(np.sum(taps**2)), rel=1e-12)
    # the estimate's relative standard error is ~ 1/sqrt(2N) = 0.07 %
    assert gain == pytest.approx(math.sqrt(np.sum(taps**2)), rel=5e-3)


def test_ceq_with_bt4_filtered_noise_monte_carlo():
    # noise through the reference receiver (here at baud/4, where adjacent-symbol
    # correlation is 0.44 so the white-noise formula would be 16 % off), then the FFE
    rng = np.random.default_rng(12)
    sps = 8
    x = rng.standard_normal(2**21)
    wf = Waveform(samples=x, sample_rate_hz=sps * BAUD, symbol_rate_baud=BAUD, quantity="voltage")
    filtered = bessel_thomson(wf, BAUD / 4, method="fft")
    taps = np.array([0.05, -0.25, 1.4, -0.25, 0.05])
    gain = apply_ffe(filtered, taps).samples.std() / filtered.samples.std()
    ceq = noise_enhancement(taps, symbol_rate_baud=BAUD, bandwidth_hz=BAUD / 4)
    white = noise_enhancement(taps)
    assert abs(white / ceq - 1) > 0.1  # the test can tell the two formulas apart
    assert gain == pytest.approx(ceq, rel=3e-3)  # MC standard error ~0.1 %


def test_ceq_of_identity_is_one():
    assert noise_enhancement([0, 1, 0], symbol_rate_baud=BAUD, bandwidth_hz=BAUD / 2) == 1.0


def test_constrained_least_squares_recovers_exact_taps():
    rng = np.random.default_rng(4)
    basis = rng.standard_normal((5, 2000))
    true = np.array([0.02, -0.1, 1.2, -0.15, 0.03])  # sums to 1
    c = constrained_least_squares(basis, true @ basis, 2)
    np.testing.assert_allclose(c, true, atol=1e-12)
    # a target not reachable exactly still gives taps summing to 1
    c2 = constrained_least_squares(basis, rng.standard_normal(2000), 1)
    assert c2.sum() == pytest.approx(1.0, abs=1e-12)


def test_bad_input():
    wf = Waveform(samples=np.zeros(64), sample_rate_hz=8 * BAUD, symbol_rate_baud=BAUD)
    with pytest.raises(InvalidParameter, match="taps"):
        apply_ffe(wf, [])
    with pytest.raises(InvalidParameter, match="non-finite"):
        apply_ffe(wf, [0.0, np.nan, 1.0])
    with pytest.raises(InvalidParameter, match="n_precursors"):
        apply_ffe(wf, [0.0, 1.0, 0.0], n_precursors=3)
    with pytest.raises(InvalidType):
        apply_ffe(wf.samples, [1.0])
    with pytest.raises(InvalidWaveform, match="symbol rate"):
        apply_ffe(Waveform(samples=np.zeros(64), sample_rate_hz=1e9), [1.0])
    with pytest.raises(InvalidParameter, match="all zero"):
        noise_enhancement([0.0, 0.0])
    with pytest.raises(InvalidParameter, match="symbol_rate_baud"):
        noise_enhancement([1.0], bandwidth_hz=1e9)
    with pytest.raises(InvalidParameter, match="bandwidth_hz"):
        noise_autocorrelation(3, symbol_rate_baud=BAUD, bandwidth_hz=-1.0)


def test_noise_far_below_baud_is_fully_correlated():
    # bandwidth 1e-5 of the symbol rate: the filtered noise barely changes over a few UI,
    # r(kT) = 1 - O((2 pi k 1e-5)^2), so an FFE with unit DC gain passes it unchanged:
    # C_eq = |sum c| = 1 (QAWF returned r ~ 0 here, i.e. the white-noise 0.8124).
    r = noise_autocorrelation(5, symbol_rate_baud=1e9, bandwidth_hz=1e4)
    np.testing.assert_allclose(r, 1.0, atol=1e-6)
    ceq = noise_enhancement([0.1, 0.8, 0.1], symbol_rate_baud=1e9, bandwidth_hz=1e4)
    assert ceq == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("main", [0, 1, 2, 4])
def test_least_squares_from_moments_equals_least_squares_on_the_data(main):
    # weighted least squares on two sample sets (the histogram columns' weights): from the data
    # (rows scaled by sqrt(w)) and from the sets' moments B W B^T, B W t added up
    rng = np.random.default_rng(main)
    sets = []
    for w in (0.3, 0.7):
        sym = rng.integers(0, 4, 3000)
        b = np.stack([np.roll(sym, k) * 0.4 + 0.1 for k in range(5)]) + 0.02 * rng.standard_normal((5, sym.size))
        sets.append((b, sym * 0.4 + 0.1, w))
    b_all = np.concatenate([b * math.sqrt(w) for b, _, w in sets], axis=1)
    t_all = np.concatenate([t * math.sqrt(w) for _, t, w in sets])
    ref = constrained_least_squares(b_all, t_all, main)
    gram = sum(w * (b @ b.T) for b, _, w in sets)
    cross = sum(w * (b @ t) for b, t, w in sets)
    got = constrained_least_squares_moments(gram, cross, main)
    np.testing.assert_allclose(got, ref, rtol=0.0, atol=1e-10)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.array_equal(constrained_least_squares_moments(np.ones((1, 1)), np.ones(1), 0), [1.0])
