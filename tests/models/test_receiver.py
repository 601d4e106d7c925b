"""Tests of models.receiver: responsivity, dark current vs T, shot and thermal noise, PAM4 BER."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.special import erfc

from models.laser import OpticalField
from models.receiver import Q_E, Photodiode, Receiver, Tia
from optics.errors import InvalidParameter
from optics.waveform import Waveform

FS = 1e12
# ENBW of a Gaussian response |H|² = 10^(−0.3 (f/f3)²): f3·½·sqrt(π/(0.3 ln 10))  (closed form)
GAUSS_ENBW = 0.5 * math.sqrt(math.pi / (0.3 * math.log(10)))


def cw(power_w, n=2**18):
    return OpticalField(field=np.full(n, math.sqrt(power_w), complex), sample_rate_hz=FS, wavelength_m=1.31e-6)


def test_mean_output_is_z_times_r_times_p_plus_dark():
    rx = Receiver(photodiode=Photodiode(responsivity_a_per_w=0.9, dark_current_a=1e-6),
                  tia=Tia(transimpedance_ohm=1000.0))
    v = rx.detect(cw(0.5e-3, 1024)).samples
    assert v.mean() == pytest.approx(1000.0 * (0.9 * 0.5e-3 + 1e-6), rel=1e-12)


def test_dark_current_grows_by_factor_per_10k():
    pd = Photodiode(dark_current_a=10e-9, dark_current_factor_per_10k=1.8, temperature_ref_c=25.0)
    assert pd.dark_current_at(45.0) == pytest.approx(10e-9 * 1.8**2, rel=1e-12)
    assert pd.dark_current_at(85.0) / pd.dark_current_at(75.0) == pytest.approx(1.8, rel=1e-12)
    doubling = Photodiode(dark_current_factor_per_10k=2.0)
    assert doubling.dark_current_at(35.0) == pytest.approx(2 * doubling.dark_current_a)


def test_shot_noise_variance_is_2qib():
    i = 1e-3
    pd = Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=40e9, shape="gaussian")
    tia = Tia(transimpedance_ohm=1.0, input_noise_density_a_per_rthz=0.0, bandwidth_hz=30e9, shape="gaussian")
    out = Receiver(photodiode=pd, tia=tia).detect(cw(i), rng=np.random.default_rng(2)).samples
    f_eff = 1.0 / math.sqrt(40e9**-2 + 30e9**-2)  # cascade of two Gaussians is Gaussian
    expected = 2 * Q_E * i * GAUSS_ENBW * f_eff
    assert np.var(out) == pytest.approx(expected, rel=0.05)  # ~1 % statistical, 5 % allowed


def test_thermal_noise_variance_is_in2_times_enbw():
    pd = Photodiode(dark_current_a=0.0, bandwidth_hz=400e9, shot_noise=False)
    tia = Tia(transimpedance_ohm=500.0, input_noise_density_a_per_rthz=15e-12, bandwidth_hz=35e9, shape="gaussian")
    out = Receiver(photodiode=pd, tia=tia).detect(cw(0.1e-3), rng=np.random.default_rng(4)).samples
    expected = (500.0 * 15e-12) ** 2 * GAUSS_ENBW * 35e9
    assert np.var(out) == pytest.approx(expected, rel=0.05)
    assert tia.noise_rms_a() == pytest.approx(15e-12 * math.sqrt(GAUSS_ENBW * 35e9), rel=1e-3)


def test_pam4_ber_thermal_noise_only_matches_0p75_q():
    # Gray PAM4, equal levels, AWGN: BER = 0.75·Q(d/σ) (ieee802.3-pam4-optics.md §4)
    baud, sps, n_sym = 53.125e9, 8, 2**17
    rng = np.random.default_rng(11)
    sym = rng.integers(0, 4, n_sym)
    p0, p3 = 0.05e-3, 0.1625e-3  # d/σ ≈ 3.2 with the noise below
    levels_w = p0 + (p3 - p0) * np.arange(4) / 3
    power = np.repeat(levels_w[sym], sps)
    light = OpticalField(field=np.sqrt(power).astype(complex), sample_rate_hz=baud * sps, wavelength_m=1.31e-6)
    pd = Photodiode(responsivity_a_per_w=0.8, dark_current_a=0.0, bandwidth_hz=200e9, shot_noise=False)
    tia = Tia(transimpedance_ohm=1000.0, input_noise_density_a_per_rthz=20e-12, bandwidth_hz=baud, shape="gaussian")
    v = Receiver(photodiode=pd, tia=tia).detect(light, rng=rng).samples
    centres = v[np.arange(n_sym) * sps + sps // 2]
    lv = 1000.0 * 0.8 * levels_w
    decided = np.searchsorted(0.5 * (lv[1:] + lv[:-1]), centres)
    gray_bits = np.array([[0, 0], [0, 1], [1, 1], [1, 0]])
    bit_errors = int(np.sum(gray_bits[decided] != gray_bits[sym]))
    # σ: white i_n through TIA (Gaussian, ENBW closed form) and the 200 GHz PD pole (ENBW
    # π/2·f3 ≫, negligible: |H_pd| at 53 GHz is 0.97; include it by the two-pole product
    # numerically below as a < 1 % correction)
    d = 1000.0 * 0.8 * (p3 - p0) / 6
    f = np.linspace(0, 1e12, 200001)
    h2 = 10 ** (-0.3 * (f / baud) ** 2) / (1 + (f / 200e9) ** 2)
    sigma = 1000.0 * 20e-12 * math.sqrt(np.trapezoid(h2, f))
    ber_theory = 0.75 * 0.5 * erfc(d / sigma / math.sqrt(2))
    expected_errors = ber_theory * 2 * n_sym
    assert 50 < expected_errors < 5000
    assert abs(bit_errors - expected_errors) < 4 * math.sqrt(expected_errors) + 0.03 * expected_errors


def test_tia_overload_raises():
    rx = Receiver(tia=Tia(overload_current_a=1e-3))
    with pytest.raises(InvalidParameter, match="overload"):
        rx.detect(cw(2e-3, 64))


def test_accepts_optical_power_waveform():
    wf = Waveform(samples=np.full(128, 1e-3), sample_rate_hz=FS, quantity="optical_power", symbol_rate_baud=53.125e9)
    out = Receiver().detect(wf)
    assert out.unit == "V" and out.symbol_rate_baud == 53.125e9


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [(Photodiode, {"responsivity_a_per_w": -0.8}, "responsivity_a_per_w"),
     (Photodiode, {"bandwidth_hz": -1.0}, "bandwidth_hz"),
     (Photodiode, {"dark_current_a": -1e-9}, "dark_current_a"),
     (Tia, {"transimpedance_ohm": 0.0}, "transimpedance_ohm"),
     (Tia, {"input_noise_density_a_per_rthz": -1e-12}, "input_noise_density_a_per_rthz"),
     (Tia, {"overload_current_a": 0.0}, "overload_current_a")],
)
def test_bad_parameters(cls, kwargs, name):
    with pytest.raises(InvalidParameter, match=name):
        cls(**kwargs)


def test_sample_rate_below_twice_bandwidth():
    light = OpticalField(field=np.full(64, 0.03 + 0j), sample_rate_hz=60e9, wavelength_m=1.31e-6)
    with pytest.raises(InvalidParameter, match="bandwidth_hz"):
        Receiver().detect(light)


def test_ffe_trained_on_known_symbols_and_applied_like_optics_equalizer():
    from models.receiver import adapt_ffe_taps, apply_ffe_taps
    from optics.equalizer import apply_ffe

    rng = np.random.default_rng(8)
    sps, n = 8, 4096
    sym = rng.integers(0, 4, n)
    x = np.repeat(sym.astype(float), sps)
    # known ISI: y = x + 0.3·x(t − T) (post-cursor); the 5-tap FFE must undo most of it
    y = x + 0.3 * np.roll(x, sps)
    taps, m, phase = adapt_ffe_taps(y, sym, sps, 5)
    eq = apply_ffe_taps(y, taps, m, sps)
    centres = eq[phase::sps] / 1.3  # taps sum to 1: the DC gain of y (1.3) is kept
    # the inverse of 1 + 0.3 z⁻¹ truncated after two post-cursor taps leaves 0.3³·3 < 0.1
    assert np.max(np.abs(centres - sym)) < 0.1
    assert np.max(np.abs(y[phase::sps] / 1.3 - sym)) > 0.5  # without the FFE
    wf = Waveform(samples=y, sample_rate_hz=8e9, symbol_rate_baud=1e9, quantity="voltage")
    np.testing.assert_allclose(apply_ffe(wf, taps, n_precursors=m).samples, eq, atol=1e-9)


def test_prime_factor_length_gives_same_signal_and_noise_statistics():
    # 32 × 8191 samples (8191 prime): the receiver uses the Good-Thomas 2-D transforms
    from models import response

    n = 32 * 8191
    assert response.pfa_plan(n) is not None
    rng = np.random.default_rng(6)
    p = 0.5e-3 * (1 + 0.5 * np.sin(2 * np.pi * 37 * np.arange(n) / n))
    light = OpticalField(field=np.sqrt(p).astype(complex), sample_rate_hz=FS, wavelength_m=1.31e-6)
    pd = Photodiode(responsivity_a_per_w=1.0, dark_current_a=0.0, bandwidth_hz=40e9, shape="gaussian")
    tia = Tia(transimpedance_ohm=1.0, input_noise_density_a_per_rthz=20e-12, bandwidth_hz=30e9, shape="gaussian")
    rx = Receiver(photodiode=pd, tia=tia)
    clean = rx.detect(light).samples
    f = np.fft.rfftfreq(n, 1 / FS)
    h = 10 ** (-0.15 * (f / 40e9) ** 2) * 10 ** (-0.15 * (f / 30e9) ** 2)
    np.testing.assert_allclose(clean, np.fft.irfft(np.fft.rfft(p) * h, n), atol=1e-12)
    noisy = rx.detect(light, rng=rng).samples - clean
    f_eff = 1 / math.sqrt(40e9**-2 + 30e9**-2)
    expected = 2 * Q_E * p.mean() * GAUSS_ENBW * f_eff + (20e-12) ** 2 * GAUSS_ENBW * 30e9
    assert np.var(noisy) == pytest.approx(expected, rel=0.05)


def test_good_thomas_split_puts_the_slow_prime_on_its_own_axis():
    from models import response

    # SSPRQ x 32 samples/UI = 2^5·3·5·17·257: 257 (not a pocketfft radix) against the rest
    assert response._pfa_split(65535 * 32) == (257, 8160)
    assert response._pfa_split(1 << 20) is None  # fast length: plain FFT
    n = 257 * 96
    plan = response.pfa_plan(n)
    x = np.random.default_rng(2).standard_normal(n)
    spec2 = response.real_spectrum(x)
    k = np.rint(response.real_spectrum_freqs(n, float(n))).astype(int) % n  # bin index of each 2-D entry
    np.testing.assert_allclose(spec2, np.fft.fft(x)[k], rtol=0, atol=1e-9 * np.sqrt(n))
    np.testing.assert_allclose(response.real_inverse(spec2.copy(), n), x, atol=1e-12)
    assert plan[0] == 257


# --- closed-form PAM4 BER and sensitivity of the model receiver ---------------------------------
def test_closed_form_ber_without_shot_noise_is_0p75_q():
    from models.receiver import pam4_ber

    rx = Receiver(photodiode=Photodiode(shot_noise=False))
    sigma = rx.tia.noise_rms_a()
    for oma in (5e-5, 1e-4, 2e-4):
        q = rx.photodiode.responsivity_a_per_w * oma / (6.0 * sigma)
        assert pam4_ber(rx, oma, oma) == pytest.approx(0.75 * 0.5 * erfc(q / math.sqrt(2)), rel=1e-12)


def test_closed_form_ber_with_shot_noise_matches_the_simulated_receiver():
    """Second method: the model receiver's own noise (shot + thermal, filtered by PD and TIA)
    on a slow four-level signal (no ISI), errors counted at the symbol centres."""
    from models.receiver import pam4_ber

    rx = Receiver(photodiode=Photodiode(bandwidth_hz=50e9, dark_current_a=1e-6),
                  tia=Tia(input_noise_density_a_per_rthz=3e-12))       # shot noise is a visible share
    baud, sps, n_sym = 5e9, 32, 60_000
    rng = np.random.default_rng(11)
    sym = rng.integers(0, 4, n_sym)
    avg, oma = 0.5e-3, 0.1e-3
    levels = avg + oma * (np.arange(4) / 3.0 - 0.5)
    power = np.repeat(levels[sym], sps)
    wf = Waveform(samples=power, sample_rate_hz=baud * sps, quantity="optical_power", symbol_rate_baud=baud)
    v = rx.detect(wf, rng=rng).samples[sps // 2::sps] / rx.tia.transimpedance_ohm
    i_levels = rx.photodiode.responsivity_a_per_w * levels + rx.photodiode.dark_current_a
    thresholds = 0.5 * (i_levels[1:] + i_levels[:-1])
    decided = np.searchsorted(thresholds, v)
    errors = int(np.count_nonzero(decided != sym))
    expected = 2.0 * pam4_ber(rx, oma, avg) * n_sym      # symbol errors (BER = SER/2)
    shot_free = 2.0 * pam4_ber(Receiver(photodiode=dataclasses.replace(rx.photodiode, shot_noise=False),
                                        tia=rx.tia), oma, avg) * n_sym
    assert expected > 1.3 * shot_free                      # the shot term matters here
    assert abs(errors - expected) < 4.0 * math.sqrt(expected) + 3


def test_sensitivity_solves_the_ber_and_follows_the_extinction_ratio():
    from models.receiver import pam4_ber, sensitivity_oma_w

    rx = Receiver()
    for er_db in (3.5, 5.0, 8.0):
        oma = sensitivity_oma_w(rx, 2.4e-4, extinction_ratio_db=er_db)
        r = 10 ** (er_db / 10)
        assert pam4_ber(rx, oma, oma * (r + 1) / (2 * (r - 1))) == pytest.approx(2.4e-4, rel=1e-6)
    # thermal noise alone: OMA = 6·Q·σ/R (the budget's closed form)
    from optics.budget.model_physics import receiver_sensitivity_oma_dbm

    quiet = Receiver(photodiode=Photodiode(shot_noise=False))
    oma = sensitivity_oma_w(quiet, 2.4e-4, extinction_ratio_db=5.0)
    assert 10 * math.log10(oma / 1e-3) == pytest.approx(receiver_sensitivity_oma_dbm(quiet, 2.4e-4), abs=1e-6)
    with pytest.raises(InvalidParameter, match="ber"):
        sensitivity_oma_w(rx, 0.5, extinction_ratio_db=5.0)
    with pytest.raises(InvalidParameter, match="below half the OMA"):
        pam4_ber(rx, 1e-3, 1e-4)
