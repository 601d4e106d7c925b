"""The models' Tx metrics measure TDECQ with a PHY's method when given one; ``optics simulate``
passes the PHY's (issue 15).  Without a method (or with a 100 G/lane one) nothing changes."""

from __future__ import annotations

import dataclasses
import json

import pytest

from models.lane import SimulationSettings
from models.lane_metrics import scale_tx_metrics, tx_metrics
from optics.cli import main
from optics.errors import InvalidType
from optics.phy import load_phy
from optics.tdecq import tdecq

SMALL = ["--pattern", "PRBS9Q", "--symbols", "2044", "--samples-per-symbol", "8"]


def test_tx_metrics_with_the_200g_method_uses_15_taps(isi_lane):
    method = load_phy("1.6TBASE-DR8").tdecq_method
    wf = isi_lane(106.25e9, seed=3)
    m = tx_metrics(wf, tdecq_method=method)
    assert len(m["tdecq_taps"]) == 15 and m["tdecq_n_precursors"] == 3
    assert m["tdecq_method"]["n_taps"] == 15 and m["tdecq_method"]["status"] == "draft"
    assert m["tdecq_db"] == pytest.approx(tdecq(wf, **method.tdecq_options()).tdecq_db, abs=1e-9)
    default = tx_metrics(wf)
    assert len(default["tdecq_taps"]) == 5 and "tdecq_method" not in default
    # a scaled copy keeps the FFE (TDECQ and its taps are scale-free)
    assert scale_tx_metrics(m, 0.5)["tdecq_taps"] == m["tdecq_taps"]


def test_tx_metrics_with_a_100g_method_equal_the_default_call(isi_lane):
    wf = isi_lane(53.125e9, seed=3)
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
    # the 121.8.5 method is unchanged: the back-to-back closure with the PHY (its TECQ) is the
    # TDECQ without one, bit for bit (the same record, the same method) ...
    assert [la["tecq_db"] for la in lanes_a] == [lb["tdecq_db"] for lb in lanes_b]
    assert all("tdecq_method" not in lb and "tecq_db" not in lb for lb in lanes_b)
    # ... and with the PHY TDECQ is measured after its compliance fibre (-0.927 ps/nm at 1304.5 nm,
    # models.compliance): at 53 GBd that fading (first notch near 310 GHz) moves it by < 0.01 dB
    for la in lanes_a:
        assert la["tdecq_dispersion_ps_per_nm"] == pytest.approx(-0.9273, abs=1e-4)
        assert la["tdecq_db"] == pytest.approx(la["tecq_db"], abs=0.01) and la["tdecq_db"] is not None


def test_tx_metrics_measure_tdecq_after_the_compliance_fibre_and_tecq_back_to_back(isi_lane):
    """800GBASE-FR4 (113.4375 GBd, 2 km CWDM: -11.87 ps/nm at 1264.5 nm): the fibre closes the eye
    measurably; tdecq_db is the TDECQ of the record through models.compliance, tecq_db that of the
    record itself, each equal to optics.tdecq.tdecq called directly."""
    from models.compliance import compliance_channel, through_compliance_fibre

    spec = load_phy("800GBASE-FR4")
    ch = compliance_channel(spec)
    wf = isi_lane(spec.symbol_rate_baud, seed=3)
    opts = spec.tdecq_method.tdecq_options()
    m = tx_metrics(wf, tdecq_method=spec.tdecq_method, compliance=ch)
    assert m["tdecq_dispersion_ps_per_nm"] == ch.dispersion_ps_per_nm == pytest.approx(-11.87, abs=0.01)
    assert m["tecq_db"] == pytest.approx(tdecq(wf, **opts).tdecq_db, abs=1e-9)
    assert m["tdecq_db"] == pytest.approx(tdecq(through_compliance_fibre(wf, ch), **opts).tdecq_db, abs=1e-9)
    assert m["tdecq_db"] > m["tecq_db"] + 0.1
    # power, OMA and ER stay those of the back-to-back record (TP2)
    plain = tx_metrics(wf, tdecq_method=spec.tdecq_method)
    assert m["oma_outer_w"] == plain["oma_outer_w"] and m["extinction_ratio_db"] == plain["extinction_ratio_db"]
    assert plain["tdecq_db"] == m["tecq_db"] and "tecq_db" not in plain
    # scale-free: a scaled copy keeps both closures
    scaled = scale_tx_metrics(m, 0.5)
    assert (scaled["tdecq_db"], scaled["tecq_db"]) == (m["tdecq_db"], m["tecq_db"])
    with pytest.raises(InvalidType, match="compliance must be a models.compliance.ComplianceChannel"):
        SimulationSettings(compliance=-11.9)
