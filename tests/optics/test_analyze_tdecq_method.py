"""``analyze(..., phy=NAME)`` measures TDECQ with the PHY's transmitter-test method (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from optics import Waveform
from optics.analyze import analyze
from optics.patterns import prbs_q
from optics.phy import load_phy
from optics.tdecq import tdecq


def _lane(baud: float, sps: int = 16) -> Waveform:
    sym = np.tile(prbs_q(13), 2)
    x = np.repeat(np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    x = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / (0.6 * baud)), x.size)
    x += 1.5e-5 * np.random.default_rng(11).standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud, pattern=sym)


def test_a_200g_lane_is_measured_with_the_15_tap_draft_method():
    spec = load_phy("1.6TBASE-DR8")
    wf = _lane(spec.symbol_rate_baud)
    res = analyze(wf, phy="1.6TBASE-DR8")
    method = spec.tdecq_method
    assert method.n_taps == 15 and len(res.tdecq.taps) == 15
    d = res.to_dict()
    assert len(d["tdecq_taps"]) == 15 and d["tdecq_n_precursors"] == method.n_precursors
    assert d["tdecq_method"]["status"] == "draft" and d["tdecq_method"]["n_taps"] == 15
    # the same number as tdecq() called with the method's keywords directly
    direct = tdecq(wf, **method.tdecq_options())
    assert res.tdecq.tdecq_db == pytest.approx(direct.tdecq_db, abs=1e-9)
    # and not the 5-tap default (a longer FFE never does worse on this ISI, within 0.02 dB)
    assert res.tdecq.tdecq_db <= tdecq(wf).tdecq_db + 0.02


def test_a_100g_lane_keeps_the_121_8_5_result():
    wf = _lane(53.125e9)
    with_phy = analyze(wf, phy="400GBASE-DR4")
    without = analyze(wf)
    assert len(with_phy.tdecq.taps) == 5
    assert with_phy.tdecq.tdecq_db == pytest.approx(without.tdecq.tdecq_db, abs=1e-12)
    assert "tdecq_method" not in without.to_dict()
