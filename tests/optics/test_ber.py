"""Tests of optics.ber against closed forms, exact binomial values and injected errors."""

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.special import ndtr  # noqa: E402

from optics import Waveform  # noqa: E402
from optics.ber import (  # noqa: E402
    BIT_DISTANCE,
    bathtub,
    clopper_pearson,
    count_errors,
    decide,
    estimate_ber,
    statistical_ber,
)
from optics.errors import InvalidParameter, InvalidWaveform  # noqa: E402
from optics.levels import measure_levels  # noqa: E402
from optics.timing import recover_timing  # noqa: E402

P_W = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])


def Q(x):
    return ndtr(-x)


def step_wf(sym, sps=9, noise_w=0.0, rng=None, pattern=None, levels=P_W):
    x = np.repeat(levels[sym], sps)
    if noise_w:
        x = x + noise_w * rng.standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * 1e9, symbol_rate_baud=1e9, pattern=pattern)


# --- statistical core ----------------------------------------------------------------------
@pytest.mark.parametrize("d_over_sigma", [2.0, 4.0, 7.0, 8.0])
def test_gaussian_pam4_matches_closed_form(d_over_sigma):
    # equally spaced levels 0, 2, 4, 6 (half spacing d = 1), thresholds 1, 3, 5
    sigma = 1.0 / d_over_sigma
    r = statistical_ber(np.eye(4), [0.0, 2.0, 4.0, 6.0], [1.0, 3.0, 5.0], sigma)
    ser = 1.5 * Q(d_over_sigma)  # 2(1 - 1/M) Q(d/sigma), M = 4
    # the only difference is the 2-threshold crossings, Q(3d/sigma) << Q(d/sigma)
    assert r.ser == pytest.approx(ser, rel=1e-6)
    assert r.ber == pytest.approx(ser / 2, rel=1e-6)  # Gray: one bit per adjacent error
    np.testing.assert_allclose(r.ser_per_eye, ser / 3, rtol=1e-6)
    if d_over_sigma == 8.0:
        assert 1e-16 < r.ber < 1e-15  # deep BER without Monte Carlo: 4.7e-16


def test_unequal_levels_and_sigmas_match_the_sum_of_tails():
    mu = np.array([0.0, 1.8, 4.3, 6.0])
    sig = np.array([0.2, 0.35, 0.3, 0.45])
    t = np.array([1.0, 3.0, 5.0])
    r = statistical_ber(np.eye(4), mu, t, sig)
    # notes section 4: SER = 1/4 sum_k [Q((t_k - mu_{k-1})/s_{k-1}) + Q((mu_k - t_k)/s_k)]
    # (adjacent crossings only, the rest is below 1e-12 here)
    ser = 0.25 * sum(Q((t[k] - mu[k]) / sig[k]) + Q((mu[k + 1] - t[k]) / sig[k + 1]) for k in range(3))
    assert r.ser == pytest.approx(ser, rel=1e-9)


def test_two_threshold_crossing_costs_two_bits():
    # a level sitting exactly on threshold t2, large noise: symbol 0 placed at 3.0 (t2)
    h = np.zeros((4, 1))
    h[0, 0] = 1.0
    r = statistical_ber(h, [3.0], [1.0, 3.0, 5.0], 1e-3)
    # half the time it lands in region 2 (0 -> 2 is Gray 00 -> 11, 2 bits), half in region 1
    assert r.ser == pytest.approx(1.0, rel=1e-9)
    assert r.ber == pytest.approx((0.5 * 1 + 0.5 * 2) / 2, rel=1e-9)
    assert BIT_DISTANCE[0, 2] == 2 and BIT_DISTANCE[0, 3] == 1


def test_zero_noise_zero_errors_without_warnings():
    r = statistical_ber(np.eye(4), [0.0, 2.0, 4.0, 6.0], [1.0, 3.0, 5.0], 0.0)
    assert r.ser == 0.0 and r.ber == 0.0


@pytest.mark.parametrize(
    "args",
    [
        (np.eye(3), [0, 1, 2], [1, 2, 3], 0.1),  # wrong shape
        (-np.eye(4), [0, 2, 4, 6], [1, 3, 5], 0.1),  # negative weights
        (np.eye(4), [0, 2, 4, 6], [3, 1, 5], 0.1),  # thresholds not increasing
        (np.eye(4), [0, 2, 4, 6], [1, 3, 5], -0.1),  # negative sigma
    ],
)
def test_statistical_ber_bad_input(args):
    with pytest.raises(InvalidParameter):
        statistical_ber(*args)


# --- Clopper-Pearson -----------------------------------------------------------------------
def test_clopper_pearson_known_value():
    # textbook value for 5 errors in 100 at 95 %: [0.0164, 0.1128]
    lo, hi = clopper_pearson(5, 100, 0.95)
    assert lo == pytest.approx(0.0164, abs=5e-5)
    assert hi == pytest.approx(0.1128, abs=5e-5)
    # second method, the defining binomial tails: P(X >= 5 | lo) = P(X <= 5 | hi) = 0.025
    from scipy.stats import binom

    assert binom.sf(4, 100, lo) == pytest.approx(0.025, rel=1e-6)
    assert binom.cdf(5, 100, hi) == pytest.approx(0.025, rel=1e-6)


def test_clopper_pearson_zero_errors_is_one_sided_upper_bound():
    lo, hi = clopper_pearson(0, 1_000_000, 0.95)
    assert lo == 0.0
    assert hi == pytest.approx(-math.log(0.05) / 1e6, rel=1e-5)  # "rule of three": 2.996e-6


def test_clopper_pearson_all_errors_and_bad_input():
    assert clopper_pearson(10, 10)[1] == 1.0
    with pytest.raises(InvalidParameter):
        clopper_pearson(11, 10)
    with pytest.raises(InvalidParameter):
        clopper_pearson(1, 10, 1.0)


# --- counted -------------------------------------------------------------------------------
def test_counted_errors_equal_the_injected_ones():
    rng = np.random.default_rng(1)
    pat = rng.integers(0, 4, 4095).astype(np.uint8)
    sent = np.tile(pat, 2)
    pos = rng.choice(np.arange(20, sent.size - 20), size=30, replace=False)
    wrong = sent.copy()
    # 10 one-bit (adjacent) errors, 10 two-bit (0 <-> 2 or 1 <-> 3), 10 of 0 <-> 3 (one bit)
    for i, p in enumerate(pos):
        s = int(sent[p])
        if i < 10:
            wrong[p] = s + 1 if s < 3 else 2
        elif i < 20:
            wrong[p] = {0: 2, 1: 3, 2: 0, 3: 1}[s]
        else:
            wrong[p] = {0: 3, 1: 3, 2: 0, 3: 0}[s]
    wf = step_wf(wrong, noise_w=1e-5, rng=rng, pattern=pat)
    c = count_errors(wf)
    assert c.symbol_errors == 30
    expected_bits = int(sum(BIT_DISTANCE[sent[p], wrong[p]] for p in pos))
    assert c.bit_errors == expected_bits
    assert c.n_bits == 2 * c.n_symbols
    assert c.ber == pytest.approx(expected_bits / c.n_bits)
    lo, hi = c.ber_interval
    assert lo < c.ber < hi


@pytest.mark.parametrize("record_periods, pattern_periods", [
    (8.4, 1.0),   # a capture of 8.4 periods, the pattern given by name (one period)
    (8.4, 8.4),   # ... the pattern given as the symbols sent during the record
    (3.0, 20.0),  # whole periods, the pattern array 20 periods long
    (1.0, 8.4),   # one period, the shortest record counted
    (2.37, 2.37),
])
def test_errors_counted_on_any_record_of_at_least_one_period(record_periods, pattern_periods):
    # issue 11 item 2: "second peak 0.87 of the first" on a record that was not a whole
    # number of pattern periods; the pattern array then repeats itself a period later
    from optics.patterns import pattern

    rng = np.random.default_rng(21)
    period = 8191
    start = 1234  # the record starts at this symbol of the pattern
    n_rec = int(round(record_periods * period))
    sent = pattern("PRBS13Q", start + n_rec + 1)[start:start + n_rec]
    pos = rng.choice(np.arange(20, n_rec - 20), size=25, replace=False)
    wrong = sent.copy()
    wrong[pos] = np.where(sent[pos] < 3, sent[pos] + 1, 2)  # adjacent: one bit each
    given = pattern("PRBS13Q", int(round(pattern_periods * period)))
    wf = step_wf(wrong, noise_w=1e-5, rng=rng, pattern=given)
    t = recover_timing(wf)
    assert t.pattern_offset in (start % period, (start + 1) % period)
    c = count_errors(wf, t)
    assert c.n_symbols == t.n_symbols >= n_rec - 1
    assert c.symbol_errors == 25 and c.bit_errors == 25
    assert c == count_errors(wf)  # the same without a timing handed in


def test_decide_counts_the_thresholds_at_or_below_each_value():
    rng = np.random.default_rng(11)
    thr = np.array([-0.5, 0.1, 0.7])
    values = np.concatenate((rng.uniform(-2.0, 2.0, 5000), thr, np.nextafter(thr, -np.inf)))
    got = decide(values, thr)
    # reference: the insertion point to the right (a value on a threshold goes above it)
    np.testing.assert_array_equal(got, np.searchsorted(thr, values, side="right"))
    assert got.dtype == np.uint8
    with pytest.raises(InvalidParameter, match="finite"):
        decide(np.array([0.0, np.nan]), thr)


def test_default_thresholds_are_the_midpoints_of_measure_levels():
    rng = np.random.default_rng(12)
    pat = rng.integers(0, 4, 2047).astype(np.uint8)
    wf = step_wf(np.tile(pat, 3), noise_w=90e-6, rng=rng, pattern=pat)
    lv = measure_levels(wf)
    c = count_errors(wf)
    np.testing.assert_allclose(c.thresholds, lv.thresholds, rtol=1e-15)
    assert c == count_errors(wf, levels=lv)
    assert c.symbol_errors > 20  # the count is not trivially zero


def test_counting_with_a_timing_that_has_no_pattern_offset_names_it():
    rng = np.random.default_rng(13)
    pat = rng.integers(0, 4, 511).astype(np.uint8)
    wf = step_wf(np.tile(pat, 2), pattern=pat)
    timing = dataclasses.replace(recover_timing(wf), pattern_offset=None)
    with pytest.raises(InvalidWaveform, match="pattern_offset"):
        count_errors(wf, timing)


def test_counted_needs_a_pattern():
    rng = np.random.default_rng(2)
    with pytest.raises(InvalidWaveform, match="pattern"):
        count_errors(step_wf(rng.integers(0, 4, 500)))


# --- estimated from a waveform -------------------------------------------------------------
def test_estimate_from_waveform_matches_closed_form():
    rng = np.random.default_rng(3)
    sigma = 50e-6  # d/sigma = 0.2 mW / 50 uW = 4: SER = 1.5 Q(4) = 4.75e-5
    wf = step_wf(rng.integers(0, 4, 40_000), noise_w=sigma, rng=rng)
    r = estimate_ber(wf)
    # sigma estimated to ~0.35 %, d/sigma = 4 amplifies that ~16x in SER: allow 20 %
    assert r.ser == pytest.approx(1.5 * Q(4.0), rel=0.2)
    assert r.ber == pytest.approx(r.ser / 2, rel=0.01)


def test_estimate_agrees_with_counting_at_high_ser():
    rng = np.random.default_rng(4)
    pat = rng.integers(0, 4, 8191).astype(np.uint8)
    sigma = 80e-6  # d/sigma = 2.5: SER = 1.5 Q(2.5) = 9.3e-3
    wf = step_wf(np.tile(pat, 5), noise_w=sigma, rng=rng, pattern=pat)
    counted = count_errors(wf)
    est = estimate_ber(wf)
    # ~380 counted symbol errors (Poisson 5 %), estimate within 15 % of the count
    assert counted.symbol_errors > 250
    assert est.ser == pytest.approx(counted.ser, rel=0.15)
    assert est.ber == pytest.approx(counted.ber, rel=0.15)


def test_estimate_agrees_with_counting_through_a_band_limited_channel():
    # 4th-order Bessel at 0.4 x baud (strong ISI) with noise filtered by the same response:
    # the ISI/noise split must still predict the counted BER (~130 bit errors: Poisson 9 %)
    from scipy.signal import bessel, sosfilt

    rng = np.random.default_rng(7)
    pat = rng.integers(0, 4, 8191).astype(np.uint8)
    sps = 16
    sos = bessel(4, 0.4 / sps, norm="mag", output="sos", fs=1.0)
    x = sosfilt(sos, np.repeat(P_W[np.tile(pat, 4)], sps))
    noise = sosfilt(sos, rng.standard_normal(x.size))
    x = x + 45e-6 * noise / noise.std()
    wf = Waveform(samples=x, sample_rate_hz=sps * 1e9, symbol_rate_baud=1e9, pattern=pat)
    counted = count_errors(wf)
    est = estimate_ber(wf)
    assert counted.bit_errors > 80
    assert est.ber == pytest.approx(counted.ber, rel=0.3)  # seeds 0..4 gave 0.92..1.10


def test_isi_is_not_counted_as_noise():
    # a deterministic 2-tap channel (no noise): the ISI model is exact and sigma -> 0,
    # so the eye that is open gives SER 0 rather than a Gaussian-inflated value
    rng = np.random.default_rng(5)
    sym = rng.integers(0, 4, 5000)
    a = P_W[sym]
    y = 0.85 * a + 0.15 * np.concatenate(([a[0]], a[:-1]))
    wf = Waveform(samples=np.repeat(y, 9), sample_rate_hz=9e9, symbol_rate_baud=1e9)
    r = estimate_ber(wf)
    assert r.ser < 1e-30
    np.testing.assert_array_less(r.sigmas, 1e-12)


def test_bathtub_shape_and_centre_value():
    rng = np.random.default_rng(6)
    sym = rng.integers(0, 4, 10_000)
    # smooth edges: 5-sample moving average at 9 samples per symbol, noise after it
    x = np.convolve(np.repeat(P_W[sym], 9), np.ones(5) / 5, mode="same")
    x = x + 20e-6 * rng.standard_normal(x.size)  # d/sigma = 10 at the centre
    wf = Waveform(samples=x, sample_rate_hz=9e9, symbol_rate_baud=1e9)
    b = bathtub(wf, n_phases=41)
    centre = b.ber[20]
    assert b.phases_ui[20] == pytest.approx(0.5)
    assert centre == pytest.approx(estimate_ber(wf).ber, rel=1e-6)
    assert b.ber[0] > 1e-2 and b.ber[-1] > 1e-2  # at the crossings
    w3, w12 = b.eye_width_ui(1e-3), b.eye_width_ui(1e-12)
    assert 0 < w12 < w3 < 1
    ax = b.plot()
    assert ax.get_yscale() == "log"
    import matplotlib.pyplot as plt

    plt.close("all")
