"""Tests of models.electrical: the PAM4 driver and the Touchstone channel.

References are independent of the code under test: the Gaussian step response (normal CDF),
hand-computed RLM (IEEE 802.3 Annex 120D form), hand-computed mixed-mode SDD21, and
scikit-rf's own reading of the same network.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import scipy.stats
import skrf

from models.electrical import (
    Pam4Driver,
    TouchstoneChannel,
    gaussian_bandwidth_hz,
    predistortion_levels,
)
from optics import Waveform
from optics.errors import FileFormatError, InvalidParameter, InvalidType, InvalidWaveform

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "touchstone"
S4P = DATA / "host-smt-io-4in-42ghz.s4p"
BAUD = 53.125e9
NYQUIST = BAUD / 2  # 26.5625 GHz


def _crossing_times(t, y, level):
    """Times where y crosses ``level`` upward or downward, linearly interpolated."""
    d = y - level
    i = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
    return t[i] + (t[i + 1] - t[i]) * d[i] / (d[i] - d[i + 1])


def _rlm(v):
    """RLM of four levels (lowest first), IEEE 802.3 Annex 120D (120D.3.1.2)."""
    v0, v1, v2, v3 = v
    mid = (v0 + v3) / 2
    es1 = (v1 - mid) / (v0 - mid)
    es2 = (v2 - mid) / (v3 - mid)
    return min(3 * es1, 3 * es2, 2 - 3 * es1, 2 - 3 * es2)


# --- driver: rise time and bandwidth ----------------------------------------------------
@pytest.mark.parametrize("rise_time_s", [8e-12, 15e-12])
def test_step_response_rise_time_matches_parameter(rise_time_s):
    sps = 64
    sym = np.r_[np.zeros(64, int), np.full(64, 3)]
    wf = Pam4Driver(swing_v=1.0, rise_time_s=rise_time_s).drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=sps)
    y, t = wf.samples, wf.time_s
    lo, hi = y.min(), y.max()
    # the rising edge sits at symbol 64; the falling one wraps round the record's ends
    half = slice(32 * sps, 96 * sps)
    t20 = _crossing_times(t[half], y[half], lo + 0.2 * (hi - lo))
    t80 = _crossing_times(t[half], y[half], lo + 0.8 * (hi - lo))
    measured = t80[0] - t20[0]
    # tolerance 0.1 %: linear interpolation on a 0.29 ps grid of a smooth edge (measured ~5e-5)
    assert measured == pytest.approx(rise_time_s, rel=1e-3)


def test_gaussian_rise_bandwidth_relation_by_transfer_ratio():
    # closed form: t_r(20-80) = 2 Phi^-1(0.8) sigma, sigma = sqrt(ln 2)/(2 pi f3)
    t_r = 12e-12
    f3_expected = 2 * scipy.stats.norm.ppf(0.8) * math.sqrt(math.log(2)) / (2 * math.pi * t_r)
    assert gaussian_bandwidth_hz(t_r) == pytest.approx(f3_expected, rel=1e-12)
    rng = np.random.default_rng(3)
    sym = rng.integers(0, 4, 2048)
    sps = 16
    drv = Pam4Driver(swing_v=1.0, rise_time_s=t_r)
    y = drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=sps).samples
    x = np.repeat((np.array([0, 1, 2, 3])[sym] / 3.0 - 0.5), sps)  # the undistorted staircase
    f = np.fft.rfftfreq(x.size, 1 / (BAUD * sps))
    X, Y = np.fft.rfft(x), np.fft.rfft(y)
    ok = (np.abs(X) > 1e-3 * np.abs(X).max()) & (f > 0) & (f < 2 * f3_expected)
    mag = np.abs(Y[ok] / X[ok])
    # |H| falls monotonically: find where it crosses 1/sqrt(2)
    f3_measured = np.interp(-1 / math.sqrt(2), -mag, f[ok])
    assert f3_measured == pytest.approx(f3_expected, rel=1e-3)


# --- driver: pre-distortion -----------------------------------------------------------------
def _cos2(v, v_pi=2.0):
    """A quadrature-biased MZM: P = cos^2(pi v / (2 V_pi) - pi/4), increasing on [-0.8, 0.8] V."""
    return np.cos(np.pi * v / (2 * v_pi) - np.pi / 4) ** 2


def test_predistortion_makes_cos2_transfer_equally_spaced():
    swing = 1.6
    lv = predistortion_levels(_cos2, x_low=-swing / 2, x_high=swing / 2)
    assert lv[0] == 0.0 and lv[3] == 1.0
    # compressive transfer: the inner drive levels move towards the centre
    assert lv[1] > 1 / 3 and lv[2] < 2 / 3
    sym = np.tile([0, 1, 2, 3, 3, 1, 0, 2], 8)
    sps = 4
    for levels, expect_flat in ((lv, True), (None, False)):
        drv = Pam4Driver(swing_v=swing, rise_time_s=0.0, level_predistortion=levels)
        wf = drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=sps)
        v = wf.samples[sps // 2 :: sps]
        power = _cos2(v)
        out = [power[sym == k].mean() for k in range(4)]
        rlm = _rlm(out)
        if expect_flat:
            assert rlm == pytest.approx(1.0, abs=1e-9)
            assert np.diff(out) == pytest.approx(np.full(3, (out[3] - out[0]) / 3), rel=1e-9)
        else:
            assert rlm < 0.97  # cos^2 compresses the outer eyes


def test_predistortion_handles_decreasing_transfer_and_rejects_non_monotonic():
    lv = predistortion_levels(lambda x: -(x**3), x_low=0.0, x_high=1.0)
    # -x^3 equally spaced: x_k = (k/3)^(1/3)
    assert lv == pytest.approx((0.0, (1 / 3) ** (1 / 3), (2 / 3) ** (1 / 3), 1.0), abs=1e-10)
    with pytest.raises(InvalidParameter, match="monotonic"):
        predistortion_levels(lambda x: np.sin(4 * x), x_low=0.0, x_high=1.0)
    with pytest.raises(InvalidParameter, match="x_high"):
        predistortion_levels(_cos2, x_low=1.0, x_high=1.0)


# --- driver: FFE -------------------------------------------------------------------------
@pytest.mark.parametrize("normalization", ["none", "sum_abs"])
def test_ffe_pulse_response_equals_tap_vector(normalization):
    taps = np.array([-0.1, 1.0, -0.05])
    swing = 0.9
    sym = np.zeros(16, int)
    sym[8] = 3
    drv = Pam4Driver(swing_v=swing, rise_time_s=0.0, ffe_taps=tuple(taps), ffe_normalization=normalization)
    assert drv.ffe_main_index == 1
    sps = 4
    v = drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=sps).samples[sps // 2 :: sps]
    scale = 1.0 if normalization == "none" else np.sum(np.abs(taps))
    baseline = -swing / 2 * taps.sum() / scale  # all-zero symbols through the FFE
    pulse = (v - baseline) / swing  # a 0 -> 3 -> 0 pulse has height swing
    expected = np.zeros(16)
    expected[7:10] = taps / scale
    assert pulse == pytest.approx(expected, abs=1e-12)


# --- driver: jitter and noise ---------------------------------------------------------------
def test_random_jitter_rms_is_measured_on_edges():
    rj = 0.5e-12
    sps = 32
    sym = np.tile([0, 3], 2048)
    drv = Pam4Driver(swing_v=1.0, rise_time_s=4e-12, rj_rms_s=rj)
    wf = drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=sps, rng=np.random.default_rng(11))
    assert wf.meta["seed"] == 11
    t = np.arange(wf.n_samples) / wf.sample_rate_hz
    tc = _crossing_times(t, wf.samples, 0.0)
    ui = 1 / BAUD
    # nominal edge times: k UI - half a sample (see the driver's jitter model)
    err = tc - (np.round((tc + 0.5 * wf.dt_s) / ui) * ui - 0.5 * wf.dt_s)
    assert tc.size > 4000
    # 4000 edges: the std estimate has ~1.1 % rms error; allow 5 %
    assert np.std(err) == pytest.approx(rj, rel=0.05)
    assert abs(np.mean(err)) < 0.05 * rj


def test_additive_noise_rms():
    sym = np.random.default_rng(1).integers(0, 4, 4096)
    kw = dict(symbol_rate_baud=BAUD, samples_per_symbol=16)
    clean = Pam4Driver(swing_v=0.8, rise_time_s=10e-12).drive(sym, **kw)
    noisy = Pam4Driver(swing_v=0.8, rise_time_s=10e-12, noise_rms_v=5e-3).drive(
        sym, rng=np.random.default_rng(2), **kw
    )
    # 65536 samples: std estimate error ~0.3 %; allow 2 %
    assert np.std(noisy.samples - clean.samples) == pytest.approx(5e-3, rel=0.02)


def test_drive_output_fields():
    sym = np.array([0, 1, 2, 3, 2, 1])
    wf = Pam4Driver(swing_v=1.2, rise_time_s=0.0, offset_v=0.3).drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=8)
    assert isinstance(wf, Waveform)
    assert wf.unit == "V" and wf.symbol_rate_baud == BAUD and wf.sample_rate_hz == BAUD * 8
    assert np.array_equal(wf.pattern, sym) and wf.meta["source"] == "model"
    assert wf.samples.min() == pytest.approx(0.3 - 0.6) and wf.samples.max() == pytest.approx(0.3 + 0.6)


def test_driver_rejects_bad_input():
    drv = Pam4Driver(swing_v=1.0, rise_time_s=10e-12)
    sym = np.array([0, 1, 2, 3])
    with pytest.raises(InvalidParameter, match="samples_per_symbol"):
        drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=1)
    with pytest.raises(InvalidParameter, match="samples_per_symbol"):
        drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=2.5)
    with pytest.raises(InvalidType, match="samples_per_symbol"):
        drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol="16")
    assert drv.drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=16.0).n_samples == 64
    with pytest.raises(InvalidParameter, match="0..3"):
        drv.drive(np.array([0, 4, 1]), symbol_rate_baud=BAUD, samples_per_symbol=4)
    with pytest.raises(InvalidParameter, match="symbol_rate_baud"):
        drv.drive(sym, symbol_rate_baud=-1.0, samples_per_symbol=4)
    with pytest.raises(InvalidParameter, match="rng"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, noise_rms_v=1e-3).drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=4)
    with pytest.raises(InvalidParameter, match="UI"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, rj_rms_s=2e-12).drive(
            sym, symbol_rate_baud=BAUD, samples_per_symbol=4, rng=np.random.default_rng(0)
        )
    with pytest.raises(TypeError):
        Pam4Driver(swing_v=1.0, rise_time=10e-12)  # typo'd keyword
    with pytest.raises(InvalidParameter, match="swing_v"):
        Pam4Driver(swing_v=0.0, rise_time_s=10e-12)
    with pytest.raises(InvalidParameter, match="increasing"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, level_predistortion=(0.0, 0.7, 0.5, 1.0))
    with pytest.raises(InvalidParameter, match="4 levels"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, level_predistortion=(0.0, 0.3, 0.6, 0.8, 1.0))
    with pytest.raises(InvalidParameter, match="ffe_main_index"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, ffe_taps=(1.0, -0.2), ffe_main_index=2)
    with pytest.raises(InvalidParameter, match="ffe_normalization"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, ffe_normalization="peak")


# --- Touchstone channel --------------------------------------------------------------------
@pytest.fixture(scope="module")
def network():
    return skrf.Network(str(S4P))


@pytest.fixture(scope="module")
def sdd_network(network):
    """skrf's own mixed-mode conversion: ports reordered to (in+, in-, out+, out-) = (1, 3, 2, 4)."""
    mm = network.copy()
    mm.renumber([0, 1, 2, 3], [0, 2, 1, 3])
    mm.se2gmm(p=2)
    return mm


@pytest.fixture(scope="module")
def channels():
    return {
        "se": TouchstoneChannel.from_file(S4P, differential=False),
        "dd": TouchstoneChannel.from_file(S4P, differential=True),
    }


def test_insertion_loss_at_nyquist_matches_skrf(network, sdd_network, channels):
    f = skrf.Frequency.from_f([NYQUIST], unit="Hz")
    il_skrf_se = -network.interpolate(f).s_db[0, 1, 0]
    il_skrf_dd = -sdd_network.interpolate(f).s_db[0, 1, 0]
    # skrf interpolates re/im linearly, we use magnitude/phase: 0.01 dB covers the difference
    assert channels["se"].insertion_loss_db(NYQUIST) == pytest.approx(il_skrf_se, abs=0.01)
    assert channels["dd"].insertion_loss_db(NYQUIST) == pytest.approx(il_skrf_dd, abs=0.01)
    il_polar = -sdd_network.interpolate(f, coords="polar").s_db[0, 1, 0]
    assert channels["dd"].insertion_loss_db(NYQUIST) == pytest.approx(il_polar, abs=1e-9)
    # plausibility: a 4" Megtron 6 host trace plus connector loses several dB at 26.6 GHz
    assert 5.0 < channels["dd"].insertion_loss_db(NYQUIST) < 15.0


def test_sdd21_equals_hand_mixed_mode_formula(network, channels):
    s = network.s
    # ports 1->2 and 3->4 are the through lines; pair (1, 3) in, (2, 4) out (file header)
    sdd21 = (s[:, 1, 0] - s[:, 1, 2] - s[:, 3, 0] + s[:, 3, 2]) / 2
    k = np.array([1, 500, 2656, 4000])
    assert channels["dd"].response(network.f[k]) == pytest.approx(sdd21[k], abs=1e-12)
    assert channels["se"].response(network.f[k]) == pytest.approx(s[k, 1, 0], abs=1e-12)


@pytest.mark.parametrize("kind", ["se", "dd"])
def test_apply_to_sine_gives_s21_attenuation(channels, kind):
    ch = channels[kind]
    fs = BAUD * 16
    for n, cycles, f in ((8500, 100, 10e9), (3200, 100, NYQUIST)):
        assert cycles * fs / n == pytest.approx(f)
        t = np.arange(n) / fs
        wf = Waveform(samples=np.sin(2 * np.pi * f * t), sample_rate_hz=fs, quantity="voltage")
        y = ch.apply(wf).samples
        gain = np.abs(np.fft.rfft(y)[cycles]) / (n / 2)
        assert 20 * np.log10(gain) == pytest.approx(-ch.insertion_loss_db(f), abs=1e-6)
        # a pure sine stays a sine: the time-domain amplitude (sqrt(2) x rms) agrees too
        assert math.sqrt(2) * np.std(y) == pytest.approx(gain, rel=1e-6)


def test_apply_to_sine_matches_skrf_reading(network):
    """Second path: output amplitude vs skrf's interpolated |S21| at Nyquist (0.1 % tolerance)."""
    ch = TouchstoneChannel.from_network(network, differential=False)
    fs, n, cycles = BAUD * 16, 3200, 100
    t = np.arange(n) / fs
    wf = Waveform(samples=np.cos(2 * np.pi * NYQUIST * t), sample_rate_hz=fs, quantity="voltage")
    y = ch.apply(wf).samples
    ref = np.abs(network.interpolate(skrf.Frequency.from_f([NYQUIST], unit="Hz")).s[0, 1, 0])
    assert math.sqrt(2) * np.std(y) == pytest.approx(ref, rel=1e-3)


def test_delay_and_remove_delay(channels):
    ch = channels["dd"]
    sym = np.random.default_rng(4).integers(0, 4, 1024)
    wf = Pam4Driver(swing_v=1.0, rise_time_s=15e-12).drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=8)

    def lag_s(a, b):
        xc = np.fft.irfft(np.fft.rfft(b - b.mean()) * np.conj(np.fft.rfft(a - a.mean())), n=a.size)
        return int(np.argmax(xc)) / wf.sample_rate_hz

    # a 4-inch stripline + connector: about 0.9 ns (Megtron 6, ~170 ps/inch, plus the plug card)
    assert 0.5e-9 < ch.delay_s < 1.5e-9
    assert lag_s(wf.samples, ch.apply(wf).samples) == pytest.approx(ch.delay_s, abs=3 * wf.dt_s)
    aligned = ch.apply(wf, remove_delay=True)
    assert abs(lag_s(wf.samples, aligned.samples)) <= 3 * wf.dt_s
    assert aligned.meta["channel_delay_removed"] is True


def test_dc_extrapolation_of_band_starting_above_zero(network):
    cropped = network[network.f >= 50e6]
    full = TouchstoneChannel.from_network(network, differential=False)
    part = TouchstoneChannel.from_network(cropped, differential=False)
    h0 = part.response(0.0)[0]
    assert h0.imag == pytest.approx(0.0, abs=1e-15) and h0.real > 0
    assert abs(h0) == pytest.approx(abs(full.response(0.0)[0]), abs=0.01)
    h20 = part.response(20e6)[0]
    ref = full.response(20e6)[0]
    assert abs(h20) == pytest.approx(abs(ref), abs=0.01)
    assert np.angle(h20) == pytest.approx(np.angle(ref), abs=0.02)


def test_out_of_band_behaviour(channels):
    ch = channels["dd"]
    with pytest.raises(InvalidParameter, match="above the data range"):
        ch.insertion_loss_db(43e9)
    with pytest.raises(InvalidParameter, match=">= 0"):
        ch.insertion_loss_db(-1e9)
    with pytest.raises(InvalidType, match="freq_hz"):
        ch.insertion_loss_db("26 GHz")
    h = ch.response(np.array([42e9, 60e9, 100e9]), extrapolate=True)
    assert np.all(np.diff(np.abs(h)) <= 0)  # loss never falls above the band
    strict = TouchstoneChannel(freq_hz=ch.freq_hz, transfer=ch.transfer, extrapolation="error")
    wf = Waveform(samples=np.zeros(64), sample_rate_hz=200e9, quantity="voltage")
    with pytest.raises(InvalidParameter, match="extrapolation"):
        strict.apply(wf)
    assert strict.apply(wf.replace(sample_rate_hz=80e9)).n_samples == 64


def test_channel_errors(tmp_path, network):
    with pytest.raises(FileFormatError, match="missing.s4p"):
        TouchstoneChannel.from_file(tmp_path / "missing.s4p")
    bad = tmp_path / "garbage.s4p"
    bad.write_text("# Hz S MA R 50\nthis is not touchstone\n")
    with pytest.raises(FileFormatError, match="garbage.s4p"):
        TouchstoneChannel.from_file(bad)
    two = tmp_path / "thru.s2p"
    network.subnetwork([0, 1]).write_touchstone(str(two.with_suffix("")))
    with pytest.raises(FileFormatError, match="thru.s2p"):
        TouchstoneChannel.from_file(two, differential=True)
    assert TouchstoneChannel.from_file(two, differential=False).insertion_loss_db(0.0) < 0.2
    with pytest.raises(InvalidParameter, match="port numbering"):
        TouchstoneChannel.from_network(network, differential=True, ports=((1, 2), (3, 4)))
    with pytest.raises(InvalidParameter, match="distinct"):
        TouchstoneChannel.from_network(network, differential=False, ports=(1, 1))
    ch = TouchstoneChannel.from_network(network, differential=False)
    with pytest.raises(InvalidWaveform, match="optical"):
        ch.apply(Waveform(samples=np.ones(8), sample_rate_hz=1e11, quantity="optical_power"))


def test_driver_extreme_values_give_clear_errors_not_numpy_warnings():
    # RuntimeWarning is an error in this suite: each case below used to overflow inside numpy
    # (or divide by zero) instead of refusing the value or computing a finite answer.
    sym = np.array([0, 1, 2, 3] * 4)
    with pytest.raises(InvalidParameter, match="swing_v"):
        Pam4Driver(swing_v=1e308, rise_time_s=10e-12)
    with pytest.raises(InvalidParameter, match="ffe_taps"):
        Pam4Driver(swing_v=1.0, rise_time_s=0.0, ffe_taps=(1e308, 1e308, 1e308))
    with pytest.raises(InvalidParameter, match="sample rate"):
        Pam4Driver(swing_v=1.0, rise_time_s=10e-12).drive(sym, symbol_rate_baud=1e308, samples_per_symbol=8)
    with pytest.raises(InvalidParameter, match="samples"):
        Pam4Driver(swing_v=1.0, rise_time_s=10e-12).drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=10**12)
    # a rise time far longer than the record filters everything but DC: the output is the
    # mean of the four equally spaced levels, swing * (0.5 - 0.5) = 0 V, and finite
    wf = Pam4Driver(swing_v=1.0, rise_time_s=1e300).drive(sym, symbol_rate_baud=BAUD, samples_per_symbol=8)
    np.testing.assert_allclose(wf.samples, 0.0, atol=1e-12)


def test_ideal_delay_line_is_causal_and_delay_is_its_slope():
    # H(f) = 0.5 exp(-j 2 pi f tau): the output is the input delayed by +tau (later), halved,
    # and delay_s recovers tau (re-derived here from the definition, not from the class)
    tau = 123e-12
    f = np.linspace(0.0, 60e9, 601)
    ch = TouchstoneChannel(freq_hz=f, transfer=0.5 * np.exp(-2j * np.pi * f * tau))
    assert ch.delay_s == pytest.approx(tau, rel=1e-9)
    fs, n = 100e9, 1000                             # 10 ps grid, 10 ns record
    t = np.arange(n) / fs
    x = np.exp(-0.5 * ((t - 2e-9) / 20e-12) ** 2)   # Gaussian pulse at 2 ns, well inside the band
    y = ch.apply(Waveform(samples=x, sample_rate_hz=fs, quantity="voltage")).samples
    centroid = lambda v: float(np.sum(t * v) / np.sum(v))  # noqa: E731
    assert centroid(y) - centroid(x) == pytest.approx(tau, abs=0.1e-12)
    assert np.sum(y) == pytest.approx(0.5 * np.sum(x), rel=1e-9)   # DC gain |H(0)| = 0.5
    # and the shape is the input's, shifted by tau: compare with the analytic delayed pulse
    np.testing.assert_allclose(y, 0.5 * np.exp(-0.5 * ((t - 2e-9 - tau) / 20e-12) ** 2), atol=1e-6)


def test_sum_abs_ffe_never_exceeds_half_swing_and_reaches_it():
    # with taps / sum|c|, |b_n| <= swing/2 (triangle inequality); the bound is met when every
    # cursor sees an outer level whose sign matches its tap
    rng = np.random.default_rng(11)
    taps = (-0.15, 1.0, -0.3, 0.05)
    drv = Pam4Driver(swing_v=0.9, rise_time_s=0.0, ffe_taps=taps)
    v = drv.symbol_voltages(rng.integers(0, 4, 4096))
    assert np.max(np.abs(v)) <= 0.45 + 1e-12
    m = drv.ffe_main_index
    worst = np.zeros(16, dtype=int)
    for k, c in enumerate(taps):                     # b_8 = sum_k c_k a_(8 - k + m)
        worst[8 - k + m] = 3 if c > 0 else 0
    assert drv.symbol_voltages(worst)[8] == pytest.approx(0.45, rel=1e-12)
