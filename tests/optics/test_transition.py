"""Tests of optics.transition against closed-form edge shapes and scipy's Bessel step response."""

import numpy as np
import pytest
from scipy import signal
from scipy.special import ndtri

from optics import Waveform
from optics.errors import InvalidParameter, InvalidWaveform
from optics.patterns import pattern
from optics.transition import transition_time

BAUD = 53.125e9
LEVELS_W = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])


def ramped(sym, sps, t_up_ui, t_down_ui):
    """Levels joined by linear ramps centred on the symbol boundaries: rising ones last
    ``t_up_ui``, falling ones ``t_down_ui`` (both < 1 UI)."""
    lv = LEVELS_W[sym]
    n = sym.size * sps
    k = np.arange(n) // sps
    u = (np.arange(n) % sps + 0.5) / sps  # position in the symbol, UI
    prev, nxt = lv[k - 1], lv[(k + 1) % sym.size]
    cur = lv[k]

    def ramp(tau, step):  # fraction of a step done at tau UI after its boundary
        dur = np.where(step > 0, t_up_ui, t_down_ui)
        return np.clip(0.5 + tau / dur, 0.0, 1.0)

    d_in, d_out = cur - prev, nxt - cur
    x = cur + d_in * (ramp(u, d_in) - 1.0) + d_out * ramp(u - 1.0, d_out)
    return Waveform(samples=x, sample_rate_hz=BAUD * sps, symbol_rate_baud=BAUD, pattern=sym)


def test_piecewise_linear_edges_give_0p6_of_their_ramps_and_the_slower_one():
    sym = pattern("SSPRQ")
    wf = ramped(sym, 32, t_up_ui=0.5, t_down_ui=0.8)
    r = transition_time(wf, reference_filter=False)
    ui = 1.0 / BAUD
    # 20 % to 80 % of a linear ramp: 0.6 of its length
    assert r.rise_time_s == pytest.approx(0.6 * 0.5 * ui, rel=0.01)
    assert r.fall_time_s == pytest.approx(0.6 * 0.8 * ui, rel=0.01)
    assert r.transition_time_s == r.fall_time_s
    assert r.n_rising == 2 and r.n_falling == 2 and r.note == ""
    assert r.p0 == pytest.approx(LEVELS_W[0], rel=1e-9) and r.p3 == pytest.approx(LEVELS_W[3], rel=1e-9)


def test_gaussian_edges_match_the_error_function_and_average_out_noise():
    # a zero-phase Gaussian filter of rms sigma: step response Phi(t/sigma), 20-80 % = 2*ndtri(0.8)*sigma
    sym = np.tile(pattern("SSPRQ"), 2)
    sps, sigma_s = 32, 5e-12
    x = np.repeat(LEVELS_W[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (BAUD * sps))
    x = np.fft.irfft(np.fft.rfft(x) * np.exp(-2.0 * (np.pi * sigma_s * f) ** 2), x.size)
    x += 10e-6 * np.random.default_rng(3).standard_normal(x.size)  # 2.5 % of the OMA per sample
    wf = Waveform(samples=x, sample_rate_hz=BAUD * sps, symbol_rate_baud=BAUD, pattern=pattern("SSPRQ"))
    r = transition_time(wf, reference_filter=False)
    expected = 2.0 * ndtri(0.8) * sigma_s  # 8.42 ps
    assert r.n_rising == 4 and r.n_falling == 4   # two periods
    assert r.rise_time_s == pytest.approx(expected, rel=0.03)
    assert r.fall_time_s == pytest.approx(expected, rel=0.03)


def test_reference_receiver_step_response_against_scipy():
    # ideal steps seen through the 4th-order Bessel-Thomson at baud/2: its own 20-80 % time,
    # from scipy's analog step response (second method), plus the 1-sample ramp of the record
    sym = pattern("SSPRQ")
    sps = 64
    wf = Waveform(samples=np.repeat(LEVELS_W[sym], sps), sample_rate_hz=BAUD * sps, symbol_rate_baud=BAUD,
                  pattern=sym)
    r = transition_time(wf)
    b, a = signal.bessel(4, 2 * np.pi * BAUD / 2, norm="mag", analog=True)
    t = np.linspace(0, 200e-12, 200_001)
    _, y = signal.step((b, a), T=t)
    y /= y[-1]
    t20, t80 = np.interp(0.2, y, t), np.interp(0.8, y, t)
    assert r.rise_time_s == pytest.approx(t80 - t20, rel=0.02)
    assert r.fall_time_s == pytest.approx(t80 - t20, rel=0.02)
    # without the filter the same waveform times its one-sample steps instead
    assert transition_time(wf, reference_filter=False).rise_time_s < 0.1 * r.rise_time_s


def test_pattern_without_long_edges_says_so_and_bad_input():
    sym = pattern("PRBS13Q")
    wf = ramped(np.tile(sym, 2), 16, 0.4, 0.4)
    wf = Waveform(samples=wf.samples, sample_rate_hz=wf.sample_rate_hz, symbol_rate_baud=BAUD, pattern=sym)
    r = transition_time(wf, reference_filter=False)
    assert r.transition_time_s is None and r.n_rising == 0 and r.n_falling == 0
    assert "no rising edge" in r.note and "none in the record" in r.note
    # shorter runs find PRBS13Q's two 3-symbol edges each way
    short = transition_time(wf, reference_filter=False, min_leading=3, min_lagging=3)
    assert short.n_rising == 4 and short.transition_time_s == pytest.approx(0.6 * 0.4 / BAUD, rel=0.02)
    with pytest.raises(InvalidParameter, match="min_leading"):
        transition_time(wf, min_leading=0)
    no_pattern = Waveform(samples=wf.samples, sample_rate_hz=wf.sample_rate_hz, symbol_rate_baud=BAUD)
    with pytest.raises(InvalidWaveform, match="pattern"):
        transition_time(no_pattern)
