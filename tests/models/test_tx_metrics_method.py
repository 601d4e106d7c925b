"""The models' Tx metrics measure TDECQ with a PHY's method when given one; ``optics simulate``
passes the PHY's (issue 15).  Without a method (or with a 100 G/lane one) nothing changes."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from models.lane import SimulationSettings
from models.lane_metrics import scale_tx_metrics, tx_metrics
from optics import Waveform
from optics.cli import main
from optics.errors import InvalidType
from optics.patterns import prbs_q
from optics.phy import load_phy
from optics.tdecq import tdecq

SMALL = ["--pattern", "PRBS9Q", "--symbols", "2044", "--samples-per-symbol", "8"]


def _lane(baud: float, sps: int = 16) -> Waveform:
    sym = prbs_q(13)
    x = np.repeat(np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    x = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / (0.6 * baud)), x.size)
    x += 1.5e-5 * np.random.default_rng(3).standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud, pattern=sym)


def test_tx_metrics_with_the_200g_method_uses_15_taps():
    method = load_phy("1.6TBASE-DR8").tdecq_method
    wf = _lane(106.25e9)
    m = tx_metrics(wf, tdecq_method=method)
    assert len(m["tdecq_taps"]) == 15 and m["tdecq_n_precursors"] == 3
    assert m["tdecq_method"]["n_taps"] == 15 and m["tdecq_method"]["status"] == "draft"
    assert m["tdecq_db"] == pytest.approx(tdecq(wf, **method.tdecq_options()).tdecq_db, abs=1e-9)
    default = tx_metrics(wf)
    assert len(default["tdecq_taps"]) == 5 and "tdecq_method" not in default
    # a scaled copy keeps the FFE (TDECQ and its taps are scale-free)
    assert scale_tx_metrics(m, 0.5)["tdecq_taps"] == m["tdecq_taps"]


def test_tx_metrics_with_a_100g_method_equal_the_default_call():
    wf = _lane(53.125e9)
    with_method = tx_metrics(wf, tdecq_method=load_phy("400GBASE-DR4").tdecq_method)
    without = tx_metrics(wf)
    assert with_method.pop("tdecq_method")["n_taps"] == 5
    assert with_method == without


def test_settings_refuse_a_method_of_the_wrong_type():
    with pytest.raises(InvalidType, match="tdecq_method must be an optics.phy.method.TdecqMethod"):
        SimulationSettings(tdecq_method={"n_taps": 15})
    s = dataclasses.replace(SimulationSettings(), tdecq_method=load_phy("1.6TBASE-DR8").tdecq_method)
    assert s.tdecq_method.n_taps == 15


def test_simulate_with_a_200g_phy_reports_the_15_tap_method(capsys):
    assert main(["simulate", "--preset", "800GBASE-DR4", "--phy", "800GBASE-DR4", "--json", *SMALL]) in (0, 1)
    lanes = json.loads(capsys.readouterr().out)["lanes"]
    assert len(lanes) == 4
    for lane in lanes:
        assert lane["tdecq_db"] is not None and len(lane["tdecq_taps"]) == 15
        assert lane["tdecq_method"]["n_taps"] == 15


def test_simulate_100g_tdecq_unchanged_by_the_phy(capsys):
    args = ["simulate", "--preset", "400GBASE-DR4", "--json", *SMALL]
    main([*args, "--phy", "400GBASE-DR4"])
    with_phy = json.loads(capsys.readouterr().out)
    main([*args, "--phy", "none"])
    without = json.loads(capsys.readouterr().out)
    lanes_a, lanes_b = with_phy["lanes"], without["lanes"]
    assert [la["tdecq_db"] for la in lanes_a] == [lb["tdecq_db"] for lb in lanes_b]
    assert all(la["tdecq_db"] is not None for la in lanes_a)
    assert all("tdecq_method" not in lb for lb in lanes_b)
