"""Link budgets: standard allocations by hand, closed-form penalties vs independent calculations."""

import dataclasses
import math

import matplotlib
import numpy as np
import pytest
from scipy import signal, stats

from optics.budget import (
    BudgetColumn,
    BudgetItem,
    ClosedFormPhysics,
    LinkConditions,
    budget_vs_reach,
    budget_vs_temperature,
    bt4_noise_bandwidth_hz,
    dispersion_fading_penalty_db,
    er_penalty_db,
    link_budget,
    mpi_relative_variance,
    noise_penalty_db,
    q_inverse_for_ser,
    rin_relative_variance,
    worst_case_tx_oma_dbm,
)
from optics.errors import InvalidParameter, SpecError
from optics.phy import load_phy

matplotlib.use("Agg")


# ---------------------------------------------------------------- standard allocations
@pytest.mark.parametrize(
    "reach_m, connectors, margin",
    [
        # 400GBASE-DR4: OMA 1.2 dBm (= -2.2 + 3.4) - IL - MPI/DGD 0.1 - (-1.9 dBm stressed sensitivity)
        (500.0, None, 1.2 - (0.25 + 2.75) - 0.1 + 1.9),  # 0.0 at the reach
        (300.0, 2, 1.2 - (0.15 + 1.0) - 0.1 + 1.9),  # 1.85
        (3000.0, None, 1.2 - (1.5 + 2.75) - 0.1 + 1.9),  # -1.25
    ],
)
def test_standard_margin_by_hand_dr4(reach_m, connectors, margin):
    b = link_budget("400GBASE-DR4", reach_m=reach_m, connectors=connectors)
    assert b.standard.margin_db == pytest.approx(margin, abs=1e-9)
    assert b.standard.item("tx_oma").value == pytest.approx(1.2, abs=1e-12)
    assert b.standard.item("rx_sensitivity").value == -1.9


def test_standard_margin_fr4_and_dr8():
    # FR4: worst compliant OMA uses the ER >= 4.5 dB floor: -1.7 + 3.4 = 1.7 dBm; IL 4.0 at 2 km
    spec = load_phy("400GBASE-FR4")
    assert worst_case_tx_oma_dbm(spec) == pytest.approx(1.7, abs=1e-12)
    b = link_budget(spec)
    assert b.standard.margin_db == pytest.approx(1.7 - 4.0 - 0.3 + 2.6, abs=1e-9)
    # DR8 (ER split -2.2 / -1.9): worst case is -2.2 + 3.4
    assert worst_case_tx_oma_dbm(load_phy("800GBASE-DR8")) == pytest.approx(1.2, abs=1e-12)


def test_standard_notes_beyond_reach_and_il():
    b = link_budget("400GBASE-DR4", reach_m=800.0)
    assert any("exceeds the PHY reach" in n for n in b.standard.notes)
    assert any("exceeds the 3 dB limit" in n for n in b.standard.notes)
    assert not b.standard.item("dispersion_penalty").verified
    # dispersion shown for the actual reach: 800 m of the DR window, S0 0.093 (cf. -0.93/+0.80 at 500 m)
    assert b.standard.item("dispersion_min").value == pytest.approx(-0.9273 * 800 / 500, abs=1e-3)
    assert b.standard.item("dispersion_max").value == pytest.approx(0.7977 * 800 / 500, abs=1e-3)


def test_standard_margin_does_not_depend_on_temperature():
    s = budget_vs_temperature("400GBASE-DR4", [0, 25, 70])
    assert s.standard_margin_db[0] == s.standard_margin_db[1] == s.standard_margin_db[2]


# ---------------------------------------------------------------- closed forms
def test_q_inverse_and_er_penalty():
    assert q_inverse_for_ser(4.8e-4) == pytest.approx(3.4141, abs=1e-4)  # reference notes §4
    assert q_inverse_for_ser(4.8e-3) == pytest.approx(2.7266, abs=1e-4)
    assert 1.5 * stats.norm.sf(q_inverse_for_ser(1e-5)) == pytest.approx(1e-5, rel=1e-9)
    er = 10 ** 0.5
    assert er_penalty_db(5.0) == pytest.approx(10 * math.log10((er + 1) / (er - 1)), rel=1e-12)
    assert er_penalty_db(5.0) == pytest.approx(2.8442, abs=1e-4)
    with pytest.raises(InvalidParameter):
        er_penalty_db(0.0)
    with pytest.raises(InvalidParameter):
        q_inverse_for_ser(2.0)


def test_bt4_noise_bandwidth_vs_scipy_filter():
    # independent: scipy's 4th-order Bessel normalised to -3 dB at 1 Hz, integrated on a grid
    b, a = signal.bessel(4, 2 * np.pi, analog=True, norm="mag")
    f = np.linspace(0.0, 200.0, 400001)
    _, h = signal.freqs(b, a, 2 * np.pi * f)
    enbw = np.trapezoid(np.abs(h) ** 2, f)
    assert bt4_noise_bandwidth_hz(1.0) == pytest.approx(enbw, rel=2e-5)
    assert bt4_noise_bandwidth_hz(26.5625e9) == pytest.approx(1.0464 * 26.5625e9, rel=1e-4)


def test_noise_penalty_closed_form():
    q = 3.4141
    # 36 Q^2 v = 0.5 -> penalty -5 log10(0.5) = 1.505 dB
    assert noise_penalty_db(0.5 / (36 * q * q), q) == pytest.approx(1.50515, abs=1e-5)
    assert noise_penalty_db(0.0, q) == 0.0
    assert noise_penalty_db(1.001 / (36 * q * q), q) is None  # error floor
    # RIN -136 dB/Hz over 27.79 GHz: v = 10^-13.6 * 2.779e10 = 6.97e-4
    v = rin_relative_variance(-136.0, 2.779e10)
    assert v == pytest.approx(6.974e-4, rel=1e-3)
    # MPI: X = -30 dB, ER -> very large: 2X; ER = 3 dB (x1.995): 2X (1.995/0.995)^2
    assert mpi_relative_variance(-30.0, 40.0) == pytest.approx(2e-3, rel=1e-3)
    er = 10 ** 0.3
    assert mpi_relative_variance(-30.0, 3.0) == pytest.approx(2e-3 * (er / (er - 1)) ** 2, rel=1e-12)


def test_dispersion_fading_penalty():
    lam = 1.31e-6
    f = 26.5625e9
    # choose D*L so that theta = pi/3: cos = 0.5 -> 3.0103 dB
    dl_s_per_m = (math.pi / 3) * 299_792_458.0 / (math.pi * lam**2 * f**2)
    dl_ps_per_nm = dl_s_per_m * 1e3
    assert dispersion_fading_penalty_db(dl_ps_per_nm, lam, f) == pytest.approx(10 * math.log10(2), abs=1e-9)
    assert dispersion_fading_penalty_db(-dl_ps_per_nm, lam, f) == pytest.approx(10 * math.log10(2), abs=1e-9)
    assert dispersion_fading_penalty_db(0.0, lam, f) == 0.0
    assert dispersion_fading_penalty_db(1.6 * dl_ps_per_nm, lam, f) is None  # past the notch
    # small-angle: penalty ~ (10/ln10) theta^2 / 2 for theta << 1
    small = dispersion_fading_penalty_db(0.01 * dl_ps_per_nm, lam, f)
    theta = 0.01 * math.pi / 3
    assert small == pytest.approx(10 / math.log(10) * theta**2 / 2, rel=1e-3)


# ---------------------------------------------------------------- physics column
def test_physics_margin_by_hand():
    phys = ClosedFormPhysics(
        tx_oma_outer_dbm=2.0, extinction_ratio_db=6.0, tx_closure_db=2.0, rin_db_per_hz=-150.0,
        mpi_crosstalk_db=-40.0, responsivity_a_per_w=0.8, tia_noise_a_per_rthz=10e-12,
        rx_implementation_penalty_db=1.0, wavelength_drift_m_per_k=0.0,
    )
    b = link_budget("400GBASE-DR4", reach_m=500.0, connectors=2, physics=phys)
    q = 3.4140705542
    bn = 1.046369 * 26.5625e9
    il = 0.25 + 1.0
    v_rin = 10 ** -15 * bn
    er = 10 ** 0.6
    v_mpi = 2 * 1e-4 * (er / (er - 1)) ** 2
    rin = -5 * math.log10(1 - 36 * q * q * v_rin)
    both = -5 * math.log10(1 - 36 * q * q * (v_rin + v_mpi))
    # dispersion at 1311 nm, worst lambda0 1324 nm, 0.5 km
    d = 0.093 / 4 * (1311 - 1324**4 / 1311**3) * 0.5
    theta = math.pi * (1.311e-6) ** 2 * abs(d) * 1e-3 * (26.5625e9) ** 2 / 299_792_458.0
    disp = -10 * math.log10(math.cos(theta))
    sens = 10 * math.log10(6 * q * 10e-12 * math.sqrt(bn) / 0.8 / 1e-3) + 1.0
    expected = 2.0 - il - disp - both - 2.0 - sens
    assert b.physics.item("rin_penalty").value == pytest.approx(rin, rel=1e-4)
    assert b.physics.item("dispersion_penalty").value == pytest.approx(disp, rel=1e-4)
    assert b.physics.item("rx_sensitivity").value == pytest.approx(sens, abs=1e-4)
    assert b.physics.margin_db == pytest.approx(expected, abs=1e-4)
    # the ER ledger lines reproduce the OMA: P_ave + 3.01 - ER penalty = OMA
    p = b.physics
    oma = p.item("tx_average_power").value + p.item("oma_infinite_er").value - p.item("er_penalty").value
    assert oma == pytest.approx(2.0, abs=1e-12)


def test_physics_temperature_slope():
    phys = ClosedFormPhysics(wavelength_drift_m_per_k=0.0)
    s = budget_vs_temperature("400GBASE-DR4", [25.0, 70.0], physics=phys)
    # slope efficiency exp(-dT/T1): -10 log10(e) * 45 / 260 = -0.7517 dB
    assert s.physics_margin_db[1] - s.physics_margin_db[0] == pytest.approx(-10 * math.log10(math.e) * 45 / 260, abs=1e-9)


def test_reach_sweep_and_plot():
    s = budget_vs_reach("400GBASE-FR4", [0.0, 1000.0, 2000.0])
    assert np.diff(s.standard_margin_db) == pytest.approx([-0.5, -0.5], abs=1e-12)  # 0.5 dB/km
    assert all(p is not None for p in s.physics_margin_db)
    assert s.physics_margin_db[0] > s.physics_margin_db[2]
    recs = s.to_records()
    assert recs[1]["reach_m"] == 1000.0 and "physics_margin_db" in recs[1]
    assert "margin vs reach_m" in s.to_text()
    ax = s.plot()
    assert len(ax.lines) == 3
    import matplotlib.pyplot as plt

    plt.close("all")


def test_unbounded_penalty_gives_no_margin():
    # LR4-style dispersion at 113 GBd would close the eye; force it with a very long FR4 reach
    b = link_budget("400GBASE-FR4", reach_m=60000.0)
    assert b.physics.item("dispersion_penalty").value is None
    assert b.physics.margin_db is None
    assert "unbounded" in b.to_text()
    assert b.to_dict()["physics"]["margin_db"] is None


def test_pluggable_provider():
    def provider(spec, cond):
        items = (BudgetItem("tx", "Tx", 0.0, "dBm", 1, "given"), BudgetItem("rx", "Rx", -5.0, "dBm", -1, "given"))
        return BudgetColumn("test provider", items, 5.0 - cond.reach_m / 1000.0)

    b = link_budget("400GBASE-DR4", reach_m=1000.0, physics=provider)
    assert b.physics.method == "test provider" and b.physics.margin_db == 4.0
    with pytest.raises(InvalidParameter):
        link_budget("400GBASE-DR4", physics=lambda spec, cond: 3.0)


def test_bad_input():
    with pytest.raises(SpecError, match="tdecq_db"):
        link_budget("800GBASE-DR4")  # proposal rows only: no standard budget
    with pytest.raises(SpecError):
        link_budget("400GBASE-DR")
    with pytest.raises(InvalidParameter):
        LinkConditions(reach_m=-1.0)
    with pytest.raises(InvalidParameter):
        LinkConditions(reach_m=1.0, connectors=-1)
    with pytest.raises(TypeError):
        LinkConditions(reach_m=1.0, conectors=2)
    with pytest.raises(InvalidParameter):
        ClosedFormPhysics(extinction_ratio_db=0.0)
    with pytest.raises(InvalidParameter):
        budget_vs_reach("400GBASE-DR4", [0.0, float("nan")])
    with pytest.raises(dataclasses.FrozenInstanceError):
        LinkConditions(reach_m=1.0).reach_m = 2.0


def test_records_and_json():
    import json

    b = link_budget("400GBASE-DR4")
    d = json.loads(json.dumps(b.to_dict()))
    assert d["standard"]["margin_db"] == pytest.approx(0.0, abs=1e-9)
    recs = b.to_records()
    assert {r["method"] for r in recs} == {"standard allocations", "closed-form physics"}
