"""Tests of optics.levels: OMA, ER, RLM, average and the run-based outer levels."""

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from optics import Waveform
from optics.errors import InvalidWaveform, NoEyeFound
from optics.levels import Pam4Levels, cluster_levels, eye_valley_ratios, measure_levels
from optics.timing import recover_timing

P_W = np.array([0.3e-3, 0.7e-3, 1.1e-3, 1.5e-3])


def step_wf(symbols, levels=P_W, sps=8, noise_w=0.0, rng=None, pattern=None, blur_samples=0.0,
            quantity="optical_power"):
    x = np.repeat(np.asarray(levels)[symbols], sps).astype(float)
    if blur_samples:
        x = gaussian_filter1d(x, blur_samples, mode="wrap")
    if noise_w:
        x = x + noise_w * rng.standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * 1e9, symbol_rate_baud=1e9, pattern=pattern,
                    quantity=quantity)


def test_oma_er_average_of_constructed_levels():
    rng = np.random.default_rng(1)
    sym = rng.integers(0, 4, 2000)
    lv = measure_levels(step_wf(sym))
    assert lv.method == "histogram"
    np.testing.assert_allclose(lv.levels, P_W, rtol=1e-12)
    assert lv.oma_outer == pytest.approx(1.2e-3, rel=1e-12)
    assert lv.extinction_ratio_db == pytest.approx(10 * math.log10(5.0), abs=1e-9)  # 6.990 dB
    expected_avg = np.sum(P_W * np.bincount(sym, minlength=4)) / sym.size
    assert lv.average == pytest.approx(expected_avg, rel=1e-12)
    np.testing.assert_allclose(lv.sigmas, 0.0, atol=1e-15)


def test_noisy_levels_and_sigmas_within_statistical_tolerance():
    rng = np.random.default_rng(2)
    sigma = 3e-5  # per-eye Q = 0.2 mW / 30 uW = 6.7: clusters do not overlap
    lv = measure_levels(step_wf(rng.integers(0, 4, 20_000), noise_w=sigma, rng=rng))
    # ~5000 samples per level: mean error sigma/sqrt(5000) = 0.4 uW, allow 2 uW
    np.testing.assert_allclose(lv.levels, P_W, atol=2e-6)
    # the eye centre falls half-way between samples 3 and 4 of each symbol; the level sigma
    # is that of a recorded sample, the added noise itself (an interpolated value would
    # average two independent samples: sigma/sqrt(2)).
    # std of a std estimate: 1/sqrt(2*5000) = 1 %, allow 5 %
    np.testing.assert_allclose(lv.sigmas, sigma, rtol=0.05)


def test_rlm_of_equally_spaced_levels_is_one():
    lv = Pam4Levels(levels=P_W, sigmas=np.zeros(4), p0=P_W[0], p3=P_W[3], average=0.9e-3,
                    method="histogram")
    assert lv.rlm == pytest.approx(1.0, abs=1e-12)


def test_rlm_of_compressed_levels_by_hand():
    # V = 0, 0.3, 0.62, 1.0: V_mid = 0.5, ES1 = -0.2/-0.5 = 0.4, ES2 = 0.12/0.5 = 0.24
    # RLM = min(1.2, 0.72, 0.8, 1.28) = 0.72
    v = np.array([0.0, 0.3, 0.62, 1.0])
    lv = Pam4Levels(levels=v, sigmas=np.zeros(4), p0=0.0, p3=1.0, average=0.5, method="histogram")
    assert lv.rlm == pytest.approx(0.72, abs=1e-12)
    # the same levels measured from a waveform (scaled into W, offset so P0 > 0)
    rng = np.random.default_rng(3)
    meas = measure_levels(step_wf(rng.integers(0, 4, 1000), levels=0.1e-3 + 1e-3 * v))
    assert meas.rlm == pytest.approx(0.72, abs=1e-9)


def test_pattern_runs_give_the_settled_outer_levels():
    # heavy blur: the eye-centre means of 0 and 3 are pulled inwards by ISI, while the middle
    # of runs of >= 4 equal symbols settles at the true level
    rng = np.random.default_rng(4)
    pat = rng.integers(0, 4, 4095).astype(np.uint8)
    wf = step_wf(np.tile(pat, 2), sps=16, blur_samples=5.0, pattern=pat)
    lv = measure_levels(wf)
    assert lv.method == "pattern-runs"
    oma = P_W[3] - P_W[0]
    assert abs(lv.p0 - P_W[0]) < 0.01 * oma
    assert abs(lv.p3 - P_W[3]) < 0.01 * oma
    assert lv.levels[0] - P_W[0] > 0.02 * oma  # the centre mean is visibly pulled in
    assert lv.oma_outer > lv.levels[3] - lv.levels[0]


def test_pattern_without_long_runs_falls_back_to_centres():
    pat = np.array([0, 1, 2, 3, 3, 2, 1, 0, 0, 2, 1, 3, 3, 1, 2, 0], dtype=np.uint8)
    wf = step_wf(np.tile(pat, 20), pattern=pat)
    lv = measure_levels(wf)
    assert lv.method == "pattern-centres"
    assert lv.p0 == pytest.approx(P_W[0])
    assert lv.p3 == pytest.approx(P_W[3])


def test_er_of_zero_mean_waveform_raises():
    rng = np.random.default_rng(5)
    v = np.array([-0.3, -0.1, 0.1, 0.3])
    lv = measure_levels(step_wf(rng.integers(0, 4, 500), levels=v, quantity="voltage"))
    assert lv.oma_outer == pytest.approx(0.6)
    with pytest.raises(InvalidWaveform, match="P3 > P0 > 0"):
        lv.extinction_ratio_db
    flat = Pam4Levels(levels=np.full(4, 1e-3), sigmas=np.zeros(4), p0=1e-3, p3=1e-3,
                      average=1e-3, method="histogram")
    with pytest.raises(InvalidWaveform, match="V3 > V0"):
        flat.rlm


def test_nrz_is_not_pam4():
    rng = np.random.default_rng(6)
    wf = step_wf(3 * rng.integers(0, 2, 2000), noise_w=2e-5, rng=rng)
    with pytest.raises(NoEyeFound):
        measure_levels(wf)


def test_inverted_signal_with_pattern_is_no_eye():
    rng = np.random.default_rng(7)
    pat = rng.integers(0, 4, 511).astype(np.uint8)
    wf = step_wf(np.tile(pat, 3), pattern=pat)
    timing = recover_timing(wf)
    flipped = wf.with_samples(P_W.sum() / 2 * 2 - wf.samples)  # mirror levels
    with pytest.raises(NoEyeFound, match="not increasing"):
        measure_levels(flipped, timing)


def test_cluster_levels_rejects_three_levels():
    x = np.repeat([0.0, 1.0, 2.0], 50)
    with pytest.raises(NoEyeFound, match="fewer than 4"):
        cluster_levels(x)


def test_valley_ratio_matches_gaussian_model():
    # Gaussian levels of per-eye Q = g/(2 sigma) = 2: model ratio 2 exp(-Q^2/2) = 0.271
    rng = np.random.default_rng(8)
    g, s = 1.0, 0.25
    x = (np.arange(4)[:, None] * g + s * rng.standard_normal((4, 200_000))).ravel()
    levels, sigmas, thr = cluster_levels(x)
    np.testing.assert_allclose(levels, [0, 1, 2, 3], atol=0.02)
    ratios = eye_valley_ratios(x, levels)
    # window averaging (+-0.1 g) raises the valley and lowers the peak a little: allow 25 %
    np.testing.assert_allclose(ratios, 2 * math.exp(-2.0), rtol=0.25)
