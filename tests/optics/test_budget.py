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


# ---------------------------------------------------------------- task-force PROPOSAL budgets
def test_proposal_phy_refused_by_default_with_hint():
    with pytest.raises(SpecError, match="allow_proposal"):
        link_budget("1.6TBASE-DR8")


@pytest.mark.parametrize("name", ["1.6TBASE-DR8", "800GBASE-DR4"])
@pytest.mark.parametrize(
    "reach_m, connectors, margin",
    [
        # Case-study numbers (Cole, B400G msg01599): Tx OMA -1.2 + TDECQ 3.0 = 1.8 dBm; IL 3.0 dB split as
        # 0.5 dB/km x 500 m + 2.75 dB; MPI/DGD 0.1 dB; RxS -2.8 dBm at 1.5 dB stress -> -1.3 dBm at 3.0 dB.
        (500.0, None, 1.8 - (0.25 + 2.75) - 0.1 - (-2.8 + 3.0 - 1.5)),  # 0.0 at the reach
        (300.0, 2, 1.8 - (0.15 + 2 * 0.5) - 0.1 - (-1.3)),  # 1.85
        (1000.0, None, 1.8 - (0.5 + 2.75) - 0.1 + 1.3),  # -0.25
    ],
)
def test_proposal_budget_by_hand(name, reach_m, connectors, margin):
    b = link_budget(name, reach_m=reach_m, connectors=connectors, allow_proposal=True)
    assert b.standard.margin_db == pytest.approx(margin, abs=1e-9)
    assert b.standard.item("tx_oma").value == pytest.approx(1.8, abs=1e-12)
    assert b.standard.item("rx_sensitivity").value == pytest.approx(-1.3, abs=1e-12)
    assert b.standard.item("mpi_dgd_penalty").value == pytest.approx(0.1, abs=1e-12)


def test_proposal_lines_are_marked_everywhere():
    import json

    b = link_budget("1.6TBASE-DR8", allow_proposal=True)
    assert b.proposal and b.standard.proposal and b.physics.proposal
    # every line that moves the standard margin is a proposal value
    assert all(i.proposal for i in b.standard.items if i.sign != 0)
    assert not b.standard.item("dispersion_max").proposal  # derived from the fibre model, not a proposal
    d = json.loads(json.dumps(b.to_dict()))
    assert d["proposal"] is True and d["standard"]["proposal"] is True
    assert d["standard"]["items"][0]["proposal"] is True
    recs = b.to_records()
    assert all(r["column_proposal"] for r in recs)
    assert {r["name"] for r in recs if r["proposal"]} >= {"tx_oma", "fiber_loss", "rx_sensitivity", "tx_closure"}
    text = b.to_text()
    assert text.count("PROPOSAL values") == 2
    tx_line = next(line for line in text.splitlines() if "Tx OMA_outer (worst" in line)
    assert tx_line.rstrip().endswith("PROPOSAL")
    # a published PHY is unchanged by the opt-in and carries no PROPOSAL mark
    ref = link_budget("400GBASE-DR4", allow_proposal=True)
    assert not ref.proposal and "PROPOSAL" not in ref.to_text()
    assert ref.standard.margin_db == pytest.approx(0.0, abs=1e-9)


def test_proposal_allocations_override():
    from optics.budget import ProposalAllocations

    alloc = ProposalAllocations(oma_minus_tdecq_dbm=-1.0, rx_sensitivity_stress_db=2.0, mpi_dgd_allocation_db=0.2)
    b = link_budget("1.6TBASE-DR8", allow_proposal=True, proposal_allocations=alloc)
    # Tx 2.0 dBm; sensitivity -2.8 + 3.0 - 2.0 = -1.8 dBm; IL 3.0; MPI 0.2
    assert b.standard.margin_db == pytest.approx(2.0 - 3.0 - 0.2 + 1.8, abs=1e-9)
    assert worst_case_tx_oma_dbm(load_phy("1.6TBASE-DR8"), allow_proposal=True,
                                 proposal_allocations=alloc) == pytest.approx(2.0, abs=1e-12)


def test_200g_lane_costs_in_physics_column():
    # Same Tx OMA, ER, channel; only the symbol rate doubles (53.125 -> 106.25 GBd).
    phys = ClosedFormPhysics(tx_oma_outer_dbm=1.5, tx_closure_db=2.0)
    b100 = link_budget("800GBASE-DR8", physics=phys)
    b200 = link_budget("1.6TBASE-DR8", physics=phys, allow_proposal=True)
    # thermal-noise sensitivity ~ sqrt(B_n), B_n ~ baud: +5 log10(2) = 1.505 dB in optical OMA (+3 dB electrical)
    s100 = b100.physics.item("rx_sensitivity").value
    s200 = b200.physics.item("rx_sensitivity").value
    assert s200 - s100 == pytest.approx(5.0 * math.log10(2.0), abs=1e-9)
    # RIN variance doubles with B_n: penalty -5 log10(1 - 36 Qt^2 v) with v(200G) = 2 v(100G)
    q_t = q_inverse_for_ser(4.8e-4)
    v100 = 10 ** (-136 / 10) * bt4_noise_bandwidth_hz(53.125e9 / 2)
    assert b200.physics.item("rin_penalty").value == pytest.approx(-5 * math.log10(1 - 72 * q_t**2 * v100), rel=1e-9)
    # dispersion phase θ ∝ f² at the same |D·L| (same DR window); for small θ the penalty -10 log10(cos θ)
    # ≈ (10/ln 10) θ²/2 ∝ f⁴, so 16x at 2x baud (θ ~ 0.01 rad here: small-angle error << 1 %)
    ratio = b200.physics.item("dispersion_penalty").value / b100.physics.item("dispersion_penalty").value
    assert ratio == pytest.approx(16.0, rel=0.01)


def test_proposal_sweep_and_bad_input():
    from optics.budget import ProposalAllocations
    from optics.errors import InvalidType

    sw = budget_vs_reach("1.6TBASE-DR8", [0.0, 500.0, 1000.0], allow_proposal=True)
    assert sw.proposal and all(r["proposal"] for r in sw.to_records())
    assert "PROPOSAL" in sw.to_text()
    # fibre slope 0.5 dB/km in the standard column
    assert np.diff(sw.standard_margin_db) == pytest.approx([-0.25, -0.25], abs=1e-12)
    assert not budget_vs_reach("400GBASE-DR4", [500.0]).proposal
    with pytest.raises(InvalidType):
        link_budget("1.6TBASE-DR8", allow_proposal="yes")
    with pytest.raises(InvalidParameter, match="allow_proposal"):
        link_budget("400GBASE-DR4", proposal_allocations=ProposalAllocations())
    with pytest.raises(InvalidType):
        link_budget("1.6TBASE-DR8", allow_proposal=True, proposal_allocations={"oma_minus_tdecq_dbm": -1.2})
    with pytest.raises(InvalidParameter):
        ProposalAllocations(mpi_dgd_allocation_db=-0.1)
    with pytest.raises(TypeError):
        ProposalAllocations(oma_minus_tdecq=-1.2)
    with pytest.raises(InvalidType):
        worst_case_tx_oma_dbm(load_phy("1.6TBASE-DR8"), allow_proposal=1)
