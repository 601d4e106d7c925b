"""Bessel-Thomson reference receiver: response against closed forms, both application paths."""

import math

import numpy as np
import pytest

from optics import Waveform
from optics.errors import InvalidParameter, InvalidType, InvalidWaveform
from optics.reference_receiver import (
    bessel_thomson,
    bessel_thomson_coefficients,
    bessel_thomson_response,
)

BAUD = 53.125e9


def ieee_bt4(f_hz, fr_hz):
    """802.3 121.8.5.2 form: H = 105/(105 + 105y + 45y^2 + 10y^3 + y^4), y = 2.1139 j f/f_r.

    2.11391767 is the -3 dB frequency (rad/s) of the delay-normalised BT4 polynomial, an
    independent constant (not from scipy's normalisation).
    """
    y = 2.11391767490422 * 1j * np.asarray(f_hz) / fr_hz
    return 105.0 / (105.0 + 105.0 * y + 45.0 * y**2 + 10.0 * y**3 + y**4)


def test_minus_3db_at_bandwidth():
    h = bessel_thomson_response([0.0, 26.5625e9], 26.5625e9)
    assert abs(h[0]) == pytest.approx(1.0, abs=1e-12)
    assert 20 * math.log10(abs(h[1])) == pytest.approx(-3.0103, abs=1e-3)  # 1/sqrt(2)


def test_magnitude_matches_ieee_polynomial_form():
    f = np.linspace(0, 4 * 26.5625e9, 401)
    ours = np.abs(bessel_thomson_response(f, 26.5625e9))
    ref = np.abs(ieee_bt4(f, 26.5625e9))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


def test_phase_without_delay_matches_ieee_form_and_delay_removal_is_linear():
    f = np.linspace(1e9, 40e9, 50)
    raw = bessel_thomson_response(f, 26.5625e9, remove_delay=False)
    np.testing.assert_allclose(raw, ieee_bt4(f, 26.5625e9), atol=1e-6)
    b, a = bessel_thomson_coefficients(26.5625e9)
    tau0 = a[-2] / a[-1]
    # the DC group delay of 105/(105+105y+...) is 2.1139/omega_r seconds
    assert tau0 == pytest.approx(2.11391767490422 / (2 * math.pi * 26.5625e9), rel=1e-6)
    comp = bessel_thomson_response(f, 26.5625e9)
    np.testing.assert_allclose(comp, raw * np.exp(2j * math.pi * f * tau0), atol=1e-12)


def _sine_wave(sps, n_cycles, f_over_bw, n_samples=8192):
    # a whole number of cycles in the record: periodic, so the steady state is exact
    fs = sps * BAUD
    f = n_cycles * fs / n_samples
    bw = f / f_over_bw
    t = np.arange(n_samples) / fs
    x = np.sin(2 * math.pi * f * t)
    return Waveform(samples=x, sample_rate_hz=fs, symbol_rate_baud=BAUD, quantity="voltage"), bw, f


@pytest.mark.parametrize(
    "method, sps, tol", [("fft", 4, 1e-9), ("fft", 64, 1e-9), ("iir", 64, 2e-3)]
)
def test_sine_at_bandwidth_is_attenuated_3db(method, sps, tol):
    wf, bw, f = _sine_wave(sps, 64, 1.0)
    out = bessel_thomson(wf, bw, method=method)
    amp = math.sqrt(2.0 * np.mean(out.samples**2))
    assert amp == pytest.approx(1 / math.sqrt(2), abs=tol)
    assert out.meta["reference_receiver"]["method"] == method


@pytest.mark.parametrize("method, tol", [("fft", 1e-9), ("iir", 5e-3)])
def test_delay_is_removed(method, tol):
    # a low sine well inside the passband comes out in phase with the input
    wf, bw, f = _sine_wave(64, 16, 0.05)
    out = bessel_thomson(wf, bw, method=method)
    gain = abs(ieee_bt4(f, bw))
    np.testing.assert_allclose(out.samples, gain * wf.samples, atol=tol)


def test_iir_and_fft_paths_agree_on_pam4():
    rng = np.random.default_rng(3)
    sym = rng.integers(0, 4, 4096)
    x = np.repeat(sym / 3.0 * 1e-3, 64)
    wf = Waveform(samples=x, sample_rate_hz=64 * BAUD, symbol_rate_baud=BAUD)
    a = bessel_thomson(wf, method="fft").samples
    b = bessel_thomson(wf, method="iir").samples
    # bilinear warping and linear fractional delay: < 0.1 % of OMA at 64 samples/UI
    assert np.max(np.abs(a - b)) < 1e-3 * 1e-3


def test_auto_picks_iir_only_when_oversampled():
    rng = np.random.default_rng(0)
    for sps, expected in ((16, "fft"), (32, "iir")):
        wf = Waveform(samples=rng.random(64 * sps), sample_rate_hz=sps * BAUD,
                      symbol_rate_baud=BAUD)
        assert bessel_thomson(wf).meta["reference_receiver"]["method"] == expected


def test_keeps_mean_quantity_and_metadata():
    rng = np.random.default_rng(1)
    wf = Waveform(samples=1e-3 + 1e-4 * rng.standard_normal(5000), sample_rate_hz=16 * BAUD,
                  symbol_rate_baud=BAUD, quantity="optical_power", meta={"source": "model"},
                  pattern=[0, 1, 2, 3])
    out = bessel_thomson(wf)
    assert out.samples.mean() == pytest.approx(wf.samples.mean(), rel=1e-12)  # DC gain 1
    assert out.samples.std() < wf.samples.std()
    assert out.quantity is wf.quantity and out.symbol_rate_baud == BAUD
    assert out.meta["source"] == "model"
    assert out.meta["reference_receiver"]["bandwidth_hz"] == pytest.approx(BAUD / 2)
    np.testing.assert_array_equal(out.pattern, wf.pattern)


def test_bad_input():
    wf = Waveform(samples=np.zeros(64), sample_rate_hz=64e9, symbol_rate_baud=BAUD / 10)
    with pytest.raises(InvalidParameter, match="bandwidth_hz"):
        bessel_thomson(wf, -1e9)
    with pytest.raises(InvalidParameter, match="bandwidth_hz"):
        bessel_thomson(wf, 0.0)
    with pytest.raises(InvalidParameter, match="order"):
        bessel_thomson(wf, 1e9, order=0)
    with pytest.raises(InvalidParameter, match="method"):
        bessel_thomson(wf, 1e9, method="bilinear")
    with pytest.raises(InvalidType):
        bessel_thomson(np.zeros(64), 1e9)
    no_rate = Waveform(samples=np.zeros(64), sample_rate_hz=64e9)
    with pytest.raises(InvalidWaveform, match="symbol rate"):
        bessel_thomson(no_rate)


@pytest.mark.parametrize("method", ["auto", "iir"])
def test_bandwidth_far_below_baud_does_not_build_a_huge_prefix(method):
    # 1 kHz at 1 TSa/s: the IIR settling prefix would be 10/bw * fs = 1e10 samples
    # (MemoryError before the fix).  The record is one period of a periodic signal, so the
    # answer is the periodic response: the offset passes, the 500 MHz sine is attenuated by
    # |H(j 2 pi 5e5 f3dB)| of the IEEE BT4 form (~1e-22), i.e. the output is the offset.
    n, fs, bw = 20_000, 1e12, 1e3
    f_sig = 10.0 * fs / n
    t = np.arange(n) / fs
    wf = Waveform(samples=2.0 + np.sin(2 * math.pi * f_sig * t), sample_rate_hz=fs,
                  quantity="voltage", symbol_rate_baud=1e11)
    out = bessel_thomson(wf, bw, method=method)
    assert abs(ieee_bt4(f_sig, bw)) < 1e-20
    assert np.max(np.abs(out.samples - 2.0)) < 1e-12
    assert out.meta["reference_receiver"]["method"] == "fft"


@pytest.mark.parametrize(
    "freq, err", [([0.0, np.nan], InvalidParameter), (np.inf, InvalidParameter),
                  ([1e9 + 1j], InvalidType), ("abc", InvalidType)])
def test_response_rejects_non_finite_frequencies(freq, err):
    # NaN frequencies gave a NaN response; complex ones lost their imaginary part
    with pytest.raises(err, match="frequency_hz"):
        bessel_thomson_response(freq, 26.5625e9)


@pytest.mark.parametrize("n_sym", [8191, 4095])
def test_fft_filter_equals_the_direct_circular_convolution(n_sym):
    # PRBS13Q x 16 samples (16 x 8191, Good-Thomas) and PRBS12Q x 16 (the same path with a
    # smooth odd factor): the filter is the record's DFT times H(j 2 pi f), transformed back
    rng = np.random.default_rng(n_sym)
    sps, baud = 16, 53.125e9
    x = np.repeat(rng.integers(0, 4, n_sym) * 0.4e-3 + 0.1e-3, sps) + 1e-5 * rng.standard_normal(n_sym * sps)
    wf = Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud)
    out = bessel_thomson(wf, method="fft").samples
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    ref = np.fft.irfft(np.fft.rfft(x) * bessel_thomson_response(f, 0.5 * baud), x.size)
    np.testing.assert_allclose(out, ref, rtol=0.0, atol=1e-12 * np.abs(x).max())
    assert bessel_thomson(wf).meta["reference_receiver"]["method"] == "fft"   # 16 sps: auto -> fft
