"""``analyze(..., phy=NAME)`` measures TDECQ with the PHY's transmitter-test method (issue 15)."""

from __future__ import annotations

import pytest

from optics.analyze import analyze
from optics.phy import load_phy
from optics.tdecq import tdecq


def test_a_200g_lane_is_measured_with_the_15_tap_draft_method(isi_lane):
    spec = load_phy("1.6TBASE-DR8")
    wf = isi_lane(spec.symbol_rate_baud, seed=11, periods=2)
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


def test_a_100g_lane_keeps_the_121_8_5_result(isi_lane):
    wf = isi_lane(53.125e9, seed=11, periods=2)
    with_phy = analyze(wf, phy="400GBASE-DR4")
    without = analyze(wf)
    assert len(with_phy.tdecq.taps) == 5
    assert with_phy.tdecq.tdecq_db == pytest.approx(without.tdecq.tdecq_db, abs=1e-12)
    assert "tdecq_method" not in without.to_dict()
