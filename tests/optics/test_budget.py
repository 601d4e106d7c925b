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
        # Case-study numbers (Cole, B400G msg01599) with the D1.3 draft's TDECQ max 3.4 dB (a draft row
        # takes precedence over the blog's 3.0 dB proposal row): Tx OMA -1.2 + 3.4 = 2.2 dBm; IL 3.0 dB
        # split as 0.5 dB/km x 500 m + 2.75 dB; MPI/DGD 0.1 dB; RxS -2.8 dBm at 1.5 dB stress -> -0.9 dBm
        # at 3.4 dB.  (The TDECQ max enters Tx OMA and sensitivity alike, so the margins are unchanged.)
        (500.0, None, 2.2 - (0.25 + 2.75) - 0.1 - (-2.8 + 3.4 - 1.5)),  # 0.0 at the reach
        (300.0, 2, 2.2 - (0.15 + 2 * 0.5) - 0.1 - (-0.9)),  # 1.85
        (1000.0, None, 2.2 - (0.5 + 2.75) - 0.1 + 0.9),  # -0.25
    ],
)
def test_proposal_budget_by_hand(name, reach_m, connectors, margin):
    b = link_budget(name, reach_m=reach_m, connectors=connectors, allow_proposal=True)
    assert b.standard.margin_db == pytest.approx(margin, abs=1e-9)
    assert b.standard.item("tx_oma").value == pytest.approx(2.2, abs=1e-12)
    assert b.standard.item("rx_sensitivity").value == pytest.approx(-0.9, abs=1e-12)
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
    # TDECQ max 3.4 dB (the draft row, over the 3.0 dB proposal row): Tx -1.0 + 3.4 = 2.4 dBm;
    # sensitivity -2.8 + 3.4 - 2.0 = -1.4 dBm; IL 3.0; MPI 0.2
    assert b.standard.margin_db == pytest.approx(2.4 - 3.0 - 0.2 + 1.4, abs=1e-9)
    assert worst_case_tx_oma_dbm(load_phy("1.6TBASE-DR8"), allow_proposal=True,
                                 proposal_allocations=alloc) == pytest.approx(2.4, abs=1e-12)


def test_a_proposal_row_does_not_override_a_draft_row_of_the_same_metric():
    """1.6TBASE-DR8 has TDECQ max 3.4 dB (802.3dj D1.3, draft) and 3.0 dB (a blog, proposal): the
    budget takes the draft's, with --allow-proposal as with --allow-draft; a metric with only a
    proposal row (its Rx sensitivity, -2.8 dBm) still takes the proposal."""
    from optics.budget.standard import _rows

    spec = load_phy("1.6TBASE-DR8")
    assert sorted((r.status, r.max) for r in spec.rows_for("tdecq_db")) == [("DRAFT", 3.4), ("PROPOSAL", 3.0)]
    for flags in ({"allow_proposal": True}, {"allow_draft": True, "allow_proposal": True}, {"allow_draft": True}):
        assert [(r.status, r.max) for r in _rows(spec, "tdecq_db", flags.get("allow_proposal", False),
                                                 flags.get("allow_draft", False))] == [("DRAFT", 3.4)]
    assert [r.max for r in _rows(spec, "rx_sensitivity_oma_dbm", True)] == [-2.8]
    assert _rows(spec, "rx_sensitivity_oma_dbm", False, True) == ()
    b = link_budget(spec, allow_proposal=True)
    assert b.standard.item("tx_oma").value == pytest.approx(-1.2 + 3.4, abs=1e-12)
    assert b.standard.item("tdecq_allocation").value == pytest.approx(3.4, abs=1e-12)


def test_cli_budget_allow_proposal_uses_the_draft_tdecq(capsys):
    import json

    from optics.cli import main

    assert main(["budget", "--phy", "1.6TBASE-DR8", "--physics", "closed-form", "--allow-proposal", "--json"]) in (0, 1)
    d = json.loads(capsys.readouterr().out)
    tx = next(i for i in d["standard"]["items"] if i["name"] == "tx_oma")
    assert tx["value"] == pytest.approx(2.2, abs=1e-12)       # -1.2 dBm (case study) + 3.4 dB (draft)


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


# ---------------------------------------------------------------- link-model physics
from models.electrical import Pam4Driver  # noqa: E402
from models.fiber import Channel, Fiber, dispersion_ps_per_nm_km  # noqa: E402
from models.link import SimulationSettings, simulate  # noqa: E402
from models.modulator import IdealIntensityModulator  # noqa: E402
from models.presets import preset  # noqa: E402
from models.receiver import Photodiode, Receiver, Tia  # noqa: E402

from optics.budget import q_for_ber  # noqa: E402
from optics.budget.model_physics import (  # noqa: E402
    MODEL_PHYSICS_METHOD,
    ModelPhysics,
    _lambda0_for_dispersion_m,
    has_model_preset,
    receiver_sensitivity_oma_dbm,
)
from optics.errors import InvalidType  # noqa: E402

SETTINGS = {"pattern": "PRBS13Q", "samples_per_symbol": 16}


def test_q_for_ber_and_closed_form_sensitivity():
    for ber in (2.4e-4, 1e-5, 1e-2):
        assert 0.75 * stats.norm.sf(q_for_ber(ber)) == pytest.approx(ber, rel=1e-9)
    # independent: sigma = i_n sqrt(ENBW) with the BT4 ENBW integrated from scipy's Bessel filter
    b, a = signal.bessel(4, 2 * np.pi, analog=True, norm="mag")
    f = np.linspace(0.0, 200.0, 400001)
    _, h = signal.freqs(b, a, 2 * np.pi * f)
    enbw = np.trapezoid(np.abs(h) ** 2, f) * 40e9
    sigma = 12e-12 * math.sqrt(enbw)  # preset/default TIA: 12 pA/rtHz, 40 GHz bessel4
    q = stats.norm.isf(2.4e-4 / 0.75)
    expected = 10 * math.log10(6 * q * sigma / 0.85 / 1e-3)
    rx = Receiver(photodiode=Photodiode(responsivity_a_per_w=0.85),
                  tia=Tia(input_noise_density_a_per_rthz=12e-12, bandwidth_hz=40e9))
    assert receiver_sensitivity_oma_dbm(rx, 2.4e-4) == pytest.approx(expected, abs=1e-3)
    with pytest.raises(InvalidType):
        receiver_sensitivity_oma_dbm("rx", 2.4e-4)
    with pytest.raises(InvalidParameter):
        receiver_sensitivity_oma_dbm(rx, 0.5)
    with pytest.raises(InvalidParameter):
        receiver_sensitivity_oma_dbm(Receiver(tia=Tia(input_noise_density_a_per_rthz=0.0)), 2.4e-4)


def test_lambda0_gives_the_target_dispersion():
    # the fibre the dispersion probe builds has exactly the PHY's worst-case D at the laser
    for lam, d_km in ((1271.9e-9, -5.94), (1331.9e-9, 3.34), (1311.9e-9, -1.85)):
        l0 = _lambda0_for_dispersion_m(lam, d_km, 0.093)
        assert dispersion_ps_per_nm_km(lam, l0, 0.093) == pytest.approx(d_km, abs=1e-9)


def _ideal_module():
    """DR4 preset lane with an ideal Tx (linear modulator, fast driver, no RIN) and an ISI-free,
    shot-noise-free photodiode: the searched sensitivity must meet the thermal-noise closed form."""
    m = preset("400GBASE-DR4")
    lane = m.lanes[0]
    tx = dataclasses.replace(lane.transmitter, modulator=IdealIntensityModulator(extinction_ratio_db=5.0, swing_v=1.0),
                             driver=Pam4Driver(swing_v=1.0, rise_time_s=2e-12),
                             laser=dataclasses.replace(lane.transmitter.laser, rin_db_per_hz=-200.0))
    rx = Receiver(photodiode=Photodiode(responsivity_a_per_w=0.85, bandwidth_hz=300e9, shot_noise=False),
                  tia=Tia(transimpedance_ohm=2000.0, input_noise_density_a_per_rthz=12e-12, bandwidth_hz=40e9))
    return dataclasses.replace(m, lanes=[dataclasses.replace(lane, transmitter=tx, receiver=rx)])


def test_searched_sensitivity_matches_closed_form_and_simulation():
    spec = load_phy("400GBASE-DR4")
    mp = ModelPhysics(module=_ideal_module())
    s = mp.search_sensitivity(spec, 0, 25.0)
    cf = mp.closed_form_sensitivity_oma_dbm(spec)
    # tolerance 0.1 dB: the residual is the 40 GHz BT4 TIA's ISI at 53 GBd (measured 0.01 dB)
    assert s["converged"] and s["oma_dbm"] == pytest.approx(cf, abs=0.1)
    # independent of the search: simulate at the power it found; the BER estimate is the limit
    m = _ideal_module()
    b2b = dataclasses.replace(m, lanes=[dataclasses.replace(m.lanes[0], channel=Channel(fiber=Fiber(length_m=0.0),
                                                                                      n_connectors=0))])
    r = simulate(b2b, SimulationSettings(**SETTINGS, compute_tdecq=False, count_errors=False,
                                         rx_power_dbm=s["rx_power_dbm"]), seed=1)
    ber = r.lanes[0].metrics["ber_estimate"]
    assert 10 * math.log10(q_for_ber(ber) / q_for_ber(2.4e-4)) == pytest.approx(0.0, abs=0.01)
    # received OMA at that point = P_ave + the Tx OMA/P_ave ratio (linear, lossless channel)
    tx = r.lanes[0].metrics
    assert s["oma_dbm"] == pytest.approx(s["rx_power_dbm"] + tx["oma_outer_dbm"] - tx["average_power_dbm"], abs=0.01)


def test_model_margin_vs_independent_calculation():
    # DR4 at 500 m, closed-form sensitivity: margin = OMA_tx - IL - dispersion - sensitivity, with
    # OMA from simulate(), IL from the preset Channel and sensitivity 6 Q sigma/R from the receiver
    m = preset("400GBASE-DR4")
    b = link_budget("400GBASE-DR4", physics=ModelPhysics(sensitivity="closed-form"))
    assert b.physics.method == MODEL_PHYSICS_METHOD
    r = simulate(m, SimulationSettings(**SETTINGS, compute_tdecq=False, count_errors=False), seed=1)
    oma = r.lanes[0].metrics["oma_outer_dbm"]
    il = m.lanes[0].channel.insertion_loss_db
    assert il == pytest.approx(3.0, abs=1e-12)  # 0.4 dB/km x 0.5 km + 2 x 1.4 dB
    rx = m.lanes[0].receiver
    sens = 10 * math.log10(6 * stats.norm.isf(2.4e-4 / 0.75) * rx.tia.noise_rms_a() / rx.photodiode.responsivity_a_per_w / 1e-3)
    disp = b.physics.item("dispersion_penalty").value
    assert -0.05 < disp < 0.05  # |D L| < 1 ps/nm at 53 GBd: negligible
    assert b.physics.item("mpi_penalty").value == 0.0  # preset channels have no reflectors
    assert b.physics.margin_db == pytest.approx(oma - il - disp - sens, abs=0.02)
    assert b.physics.item("tx_oma").value == pytest.approx(oma, abs=0.02)


def test_model_margin_search_vs_closed_form_columns():
    # the searched sensitivity replaces the closed form one for one; it is worse (Tx ISI, PD
    # bandwidth, shot noise, RIN), by less than the 5 dB a broken receiver would give
    cf = link_budget("800GBASE-DR8", physics=ModelPhysics(sensitivity="closed-form")).physics
    se = link_budget("800GBASE-DR8", physics=ModelPhysics()).physics
    d_sens = se.item("rx_sensitivity").value - cf.item("rx_sensitivity").value
    assert se.margin_db == pytest.approx(cf.margin_db - d_sens, abs=1e-9)
    assert se.item("rx_sensitivity_closed_form").value == cf.item("rx_sensitivity").value
    assert 0.5 < d_sens < 5.0


def test_model_margin_decreases_with_reach():
    # FR4: margin falls at the model fibre's 0.4 dB/km plus the growth of the dispersion penalty
    mp = ModelPhysics(sensitivity="closed-form")
    reaches = [0.0, 2000.0, 4000.0, 10000.0]
    bs = [link_budget("400GBASE-FR4", reach_m=r, physics=mp) for r in reaches]
    disp = [b.physics.item("dispersion_penalty").value for b in bs]
    assert disp[0] == 0.0 and all(d2 >= d1 for d1, d2 in zip(disp, disp[1:]))
    assert disp[-1] > 0.3  # 59 ps/nm at 1272 nm and 53 GBd closes the eye noticeably
    for i in range(1, len(bs)):
        expected = -0.4 * (reaches[i] - reaches[0]) / 1000.0 - (disp[i] - disp[0])
        assert bs[i].physics.margin_db - bs[0].physics.margin_db == pytest.approx(expected, abs=1e-9)
    # the Tx and sensitivity were simulated once for all reaches
    assert len({b.physics.item("tx_oma").value for b in bs}) == 1
    # connectors given: N x the PHY's per-connection loss
    b = link_budget("400GBASE-FR4", reach_m=2000.0, connectors=2, physics=mp)
    assert b.physics.item("connection_loss").value == pytest.approx(2 * load_phy("400GBASE-FR4").budget.connector_loss_db)


def test_model_tx_oma_follows_laser_power_with_temperature():
    m = preset("400GBASE-DR4")
    mp = ModelPhysics(sensitivity="closed-form")
    b25 = link_budget("400GBASE-DR4", temperature_c=25.0, physics=mp)
    b70 = link_budget("400GBASE-DR4", temperature_c=70.0, physics=mp)
    from models.thermal import chip_temperature_c

    laser = m.lanes[0].transmitter.laser
    d_laser = 10 * math.log10(laser.output_power_w(chip_temperature_c(m, 70.0))
                              / laser.output_power_w(chip_temperature_c(m, 25.0)))
    d_oma = b70.physics.item("tx_oma").value - b25.physics.item("tx_oma").value
    # the preset's laser runs under APC: its power holds from 25 to 70 °C; the Tx OMA follows it
    # and the MZM's own change with chip temperature (Vπ(T), residual bias error), whose static
    # OMA is the transfer's difference at the outer drive voltages +-swing/2
    assert laser.apc_power_w is not None and d_laser == pytest.approx(0.0, abs=1e-9)
    tx = m.lanes[0].transmitter

    def static_oma(t_case: float) -> float:
        t_chip = chip_temperature_c(m, t_case)
        mod = tx.modulator.at_temperature(t_chip, laser.wavelength_at(t_chip))
        v = tx.driver.swing_v / 2.0
        return float(mod.power_transfer(v) - mod.power_transfer(-v))

    d_mzm = 10 * math.log10(static_oma(70.0) / static_oma(25.0))
    assert d_oma == pytest.approx(d_laser + d_mzm, abs=0.01)
    # the margin moves with the OMA, the penalties and the sensitivity, nothing else
    items = ("dispersion_penalty", "mpi_penalty", "rin_penalty", "rx_sensitivity")
    d_rest = sum(b70.physics.item(k).value - b25.physics.item(k).value for k in items)
    assert b70.physics.margin_db - b25.physics.margin_db == pytest.approx(d_oma - d_rest, abs=1e-9)
    assert b70.standard.margin_db == b25.standard.margin_db


def test_model_mpi_from_channel_reflectors():
    m = preset("400GBASE-DR4")
    lane = m.lanes[0]
    refl = dataclasses.replace(m, lanes=[dataclasses.replace(lane, channel=dataclasses.replace(lane.channel, reflectance_db=-26.0))])
    b = link_budget("400GBASE-DR4", physics=ModelPhysics(module=refl, sensitivity="closed-form"))
    er = 10 ** (b.physics.item("tx_extinction_ratio").value / 10)
    v = 2 * 10 ** (-52.0 / 10) * (er / (er - 1)) ** 2  # X = R^2 = -52 dB
    q = stats.norm.isf(2.4e-4 / 0.75)
    assert b.physics.item("mpi_penalty").value == pytest.approx(-5 * math.log10(1 - 36 * q * q * v), rel=1e-6)


def test_model_physics_bad_input():
    assert has_model_preset("400gbase-dr4") and not has_model_preset("100GBASE-DR")
    with pytest.raises(InvalidParameter):
        ModelPhysics(sensitivity="guess")
    with pytest.raises(InvalidType):
        ModelPhysics(module="400GBASE-DR4")
    with pytest.raises(InvalidParameter):
        ModelPhysics(samples_per_symbol=4)
    with pytest.raises(SpecError, match="no link-model preset"):
        ModelPhysics().module_for(load_phy("100GBASE-DR"))


def test_cli_budget_models_json(capsys):
    import json

    from optics.cli import main

    assert main(["budget", "--phy", "400GBASE-DR4", "--physics", "models", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["physics_provider"] == "models"
    assert set(d) >= {"phy", "conditions", "standard", "physics", "proposal"}
    assert d["physics"]["method"] == MODEL_PHYSICS_METHOD
    names = {i["name"] for i in d["physics"]["items"]}
    assert names >= {"tx_oma", "tx_average_power", "fiber_loss", "connection_loss", "dispersion_penalty",
                     "mpi_penalty", "rx_sensitivity", "rx_sensitivity_closed_form"}
    assert isinstance(d["physics"]["margin_db"], float)
    assert all(i["basis"] for i in d["physics"]["items"])
    assert main(["budget", "--phy", "400GBASE-DR4", "--physics", "closed-form", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["physics_provider"] == "closed-form"
    assert main(["budget", "--phy", "400GBASE-DR4", "--reach-m", "300", "--connectors", "2"]) == 0
    assert "physics column: models" in capsys.readouterr().out  # default where a preset exists
    assert main(["budget", "--phy", "100GBASE-DR", "--physics", "models"]) == 2
