"""Verdicts against PHY tables: PASS/FAIL/MARGINAL around limits, NOT TESTED, units, derived metrics."""

import json

import pytest

from optics.errors import InvalidParameter, InvalidType, SpecError, UnitError
from optics.phy import load_phy
from optics.phy.limits import DERIVED, Expression
from optics.verdict import evaluate, normalize_metrics

DR4 = "400GBASE-DR4"
# A fully compliant 400GBASE-DR4 transmitter + receiver (hand-picked, each >= 0.5 dB inside)
GOOD_DR4 = {
    "wavelength_m": 1311e-9,
    "smsr_db": 40.0,
    "average_power_dbm": 1.0,
    "oma_outer_dbm": 2.0,
    "tdecq_db": 2.0,
    "ceq_db": 0.5,
    "transition_time_s": 12e-12,
    "off_power_dbm": -30.0,
    "extinction_ratio_db": 5.0,
    "rin_db_per_hz": -145.0,
    "tx_reflectance_db": -35.0,
    "damage_threshold_dbm": 6.0,
    "receive_power_dbm": 0.0,
    "receive_oma_dbm": 1.0,
    "rx_reflectance_db": -35.0,
    "rx_sensitivity_oma_dbm": -6.0,
    "secq_db": 2.0,
    "stressed_rx_sensitivity_oma_dbm": -3.0,
    "reach_m": 300.0,
    "channel_insertion_loss_db": 2.0,
    "chromatic_dispersion_ps_per_nm": 0.1,
}


def status_of(verdict, label):
    return [r for r in verdict.rows if r.row.label == label][0]


def test_good_dr4_passes_everything():
    v = evaluate(GOOD_DR4, DR4)
    assert v.outcome == "PASS", v.to_text()
    assert all(r.status == "PASS" for r in v.rows)
    assert not v.decided_by_unverified


# ------------------------------------------------------------- around each numeric limit
def numeric_rows():
    out = []
    for r in load_phy(DR4).rows:
        for side in ("min", "max"):
            b = getattr(r, side)
            if isinstance(b, float):
                out.append(pytest.param(r.label, r.metric, side, b, id=f"{r.metric}-{side}-{r.label[:20]}"))
    return out


@pytest.mark.parametrize("label, metric, side, limit", numeric_rows())
def test_pass_marginal_fail_around_each_limit(label, metric, side, limit):
    log_unit = load_phy(DR4).rows_for(metric)[0].unit in ("dB", "dBm", "dB/Hz")
    # guard band 0.3 in the row's unit; linear rows (s, m) get a guard in their own unit
    guard = 0.3 if log_unit else abs(limit) * 1e-4
    step = guard / 3  # inside the guard band
    sign = 1.0 if side == "min" else -1.0  # direction towards the inside
    kwargs = {"guard_band_db": 0.3} if log_unit else {"guard_bands": {metric: guard}}
    expected = {
        limit + sign * 3 * guard: "PASS",
        limit + sign * step: "MARGINAL",
        limit: "MARGINAL",  # margin 0 is inside (limits are inclusive) but within the guard
        limit - sign * step: "FAIL",
    }
    for value, status in expected.items():
        metrics = dict(GOOD_DR4, **{metric: value})
        if metric in DERIVED and all(i in metrics for i in DERIVED[metric][0]):
            metrics.pop(DERIVED[metric][0][-1])  # given directly: drop an input so it is not also derived
        v = evaluate(metrics, DR4, **kwargs)
        row = status_of(v, label)
        assert row.status == status, (value, row)
        assert row.margin == pytest.approx(sign * (value - limit), abs=1e-12 + 1e-9 * abs(limit))


def test_guard_zero_margin_zero_is_pass():
    v = evaluate(dict(GOOD_DR4, tdecq_db=3.4, oma_outer_dbm=2.0), DR4)
    assert status_of(v, "TDECQ, each lane (max)").status == "PASS"


@pytest.mark.parametrize(
    "tdecq, oma, status",
    [
        # floor max(-0.8, -2.2 + TDECQ): TDECQ 3.0 -> 0.8 dBm
        (3.0, 0.79, "FAIL"),
        (3.0, 0.85, "MARGINAL"),
        (3.0, 1.0, "PASS"),
        # TDECQ 1.0 < 1.4: floor stays -0.8 dBm although OMA - TDECQ = -1.85 >= -2.2
        (1.0, -0.85, "FAIL"),
        (1.0, -0.65, "PASS"),
    ],
)
def test_oma_equation_limit_in_verdict(tdecq, oma, status):
    v = evaluate(dict(GOOD_DR4, tdecq_db=tdecq, oma_outer_dbm=oma), DR4, guard_band_db=0.1)
    assert status_of(v, "Outer OMA, each lane").status == status


def test_er_split_in_verdict_fr4():
    base = {"oma_outer_dbm": 1.65, "tdecq_db": 3.4}
    # OMA - TDECQ = -1.75: passes nothing; ER decides the limit (-1.7 or -1.6)
    v1 = evaluate(dict(base, extinction_ratio_db=5.0), "400GBASE-FR4", scope="tx")
    r = status_of(v1, "Launch power in OMAouter minus TDECQ, each lane (min)")
    assert r.status == "FAIL" and r.min == -1.7 and r.margin == pytest.approx(-0.05)
    v2 = evaluate(dict(base, oma_outer_dbm=1.75, extinction_ratio_db=4.0), "400GBASE-FR4", scope="tx")
    r = status_of(v2, "Launch power in OMAouter minus TDECQ, each lane (min)")
    assert r.status == "FAIL" and r.min == -1.6
    v3 = evaluate(dict(base, oma_outer_dbm=1.75, extinction_ratio_db=4.6), "400GBASE-FR4", scope="tx")
    assert status_of(v3, "Launch power in OMAouter minus TDECQ, each lane (min)").status == "PASS"


# ------------------------------------------------------------- missing metrics
def test_missing_metric_is_not_tested_and_never_pass():
    metrics = dict(GOOD_DR4)
    del metrics["smsr_db"]
    v = evaluate(metrics, DR4)
    assert status_of(v, "Side-mode suppression ratio (min)").status == "NOT TESTED"
    assert v.outcome == "INCOMPLETE"
    assert "NOT TESTED" in v.to_text()


def test_equation_dependency_missing_is_not_tested():
    metrics = dict(GOOD_DR4)
    del metrics["tdecq_db"]
    v = evaluate(metrics, DR4)
    row = status_of(v, "Outer OMA, each lane")
    assert row.status == "NOT TESTED" and "tdecq_db" in row.note
    assert v.outcome == "INCOMPLETE"


def test_fail_wins_over_incomplete_and_marginal():
    v = evaluate({"tdecq_db": 3.5, "oma_outer_dbm": 1.3}, DR4, scope="tx", guard_band_db=0.5)
    assert v.outcome == "FAIL"


def test_require_subset_and_marginal_outcome():
    v = evaluate({"tdecq_db": 3.3, "oma_outer_dbm": 2.0}, DR4, scope="tx", guard_band_db=0.2,
                 require=["tdecq_db", "oma_outer_dbm"])
    assert v.outcome == "MARGINAL"
    v = evaluate({"tdecq_db": 3.0, "oma_outer_dbm": 2.0}, DR4, scope="tx", require=["tdecq_db", "oma_outer_dbm"])
    assert v.outcome == "PASS"
    v = evaluate({}, DR4, scope="tx", require=[])
    assert v.outcome == "INCOMPLETE"  # nothing tested is never a pass


# ------------------------------------------------------------- unverified / advisory rows
def test_unverified_row_flagged_everywhere():
    v = evaluate(dict(GOOD_DR4, transition_time_s=20e-12), DR4)
    row = status_of(v, "Transmitter transition time, each lane (max)")
    assert row.status == "FAIL" and row.row.status == "UNVERIFIED"
    assert v.outcome == "FAIL" and v.decided_by_unverified
    d = v.to_dict()
    assert "Transmitter transition time, each lane (max)" in d["unverified_rows"]
    assert d["decided_by_unverified"] is True
    rec = [r for r in v.to_records() if r["metric"] == "transition_time_s"][0]
    assert rec["verified"] is False and rec["row_status"] == "UNVERIFIED"
    assert "UNVERIFIED" in v.to_text() and "outcome depends on them" in v.to_text()


def test_proposal_rows_are_advisory():
    v = evaluate({"tdecq_db": 3.2}, "800GBASE-DR4", scope="tx")
    row = v.rows[[r.row.metric for r in v.rows].index("tdecq_db")]
    assert row.status == "FAIL" and row.row.status == "PROPOSAL" and not row.decides
    assert v.outcome == "INCOMPLETE"


def test_informative_row_does_not_decide():
    v = evaluate(dict(GOOD_DR4, average_power_dbm=-3.5, oma_outer_dbm=2.0), DR4)
    assert status_of(v, "Average launch power, each lane (min)").status == "FAIL"
    assert v.outcome == "PASS"


# ------------------------------------------------------------- units and derived metrics
def test_derived_metrics():
    v = evaluate({"oma_outer_w": 1e-3, "tdecq_db": 2.0, "ceq_db": 0.25, "average_power_w": 0.5e-3},
                 DR4, scope="tx")
    r = status_of(v, "Launch power in OMAouter minus TDECQ, each lane (min)")
    assert r.value == pytest.approx(-2.0, abs=1e-12) and r.derived
    assert status_of(v, "TDECQ - 10log10(Ceq), each lane (max)").value == pytest.approx(1.75)
    assert status_of(v, "Average launch power, each lane (max)").value == pytest.approx(-3.0103, abs=1e-4)


@pytest.mark.parametrize(
    "metrics",
    [
        {"oma_outer_mw": 1.0},
        {"tdecq": 2.0},
        {"transition_time_ps": 12.0},
        {"wavelength_nm": 1311.0},
        {"oma_outer_dbm": {"value": 1.0, "unit": "mW"}},
        {"transition_time_s": {"value": 12.0, "unit": "ps"}},
    ],
)
def test_wrong_unit_raises_unit_error(metrics):
    with pytest.raises(UnitError):
        evaluate(metrics, DR4)


def test_value_dicts_and_ignored_keys():
    values, ignored = normalize_metrics({
        "oma_outer_dbm": {"value": 1.0, "unit": "dBm"}, "tdecq_db": {"value": 2.0},
        "levels_w": [1e-4, 2e-4, 3e-4, 4e-4], "ber_estimate": None, "station": "A",
    })
    assert values == {"oma_outer_dbm": 1.0, "tdecq_db": 2.0}
    assert set(ignored) == {"levels_w", "station"}


@pytest.mark.parametrize(
    "metrics, exc",
    [
        ({"tdecq_db": float("nan")}, InvalidParameter),
        ({"tdecq_db": "2.0"}, InvalidType),
        ({"tdecq_db": True}, InvalidType),
        ({"tdecq_db": {"unit": "dB"}}, InvalidType),
        ([("tdecq_db", 2.0)], InvalidType),
    ],
)
def test_bad_values(metrics, exc):
    with pytest.raises(exc):
        evaluate(metrics, DR4)


def test_bad_arguments():
    with pytest.raises(InvalidParameter):
        evaluate({}, DR4, guard_band_db=-0.1)
    with pytest.raises(InvalidParameter):
        evaluate({}, DR4, scope="transmitter")
    with pytest.raises(InvalidParameter):
        evaluate({}, DR4, require=["tdecq"])
    with pytest.raises(InvalidParameter):
        evaluate({}, "400GBASE-FR4", lane=4)
    with pytest.raises(SpecError, match="400GBASE-DR4"):
        evaluate({}, "400GBASE-DR")


# ------------------------------------------------------------- lanes
@pytest.mark.parametrize(
    "wl_nm, lane, status, chosen",
    [(1311.0, None, "PASS", 2), (1271.0, None, "PASS", 0), (1281.0, None, "FAIL", None),
     (1311.0, 0, "FAIL", 0), (1336.0, 3, "PASS", 3)],
)
def test_cwdm_lane_rows(wl_nm, lane, status, chosen):
    v = evaluate({"wavelength_m": wl_nm * 1e-9}, "400GBASE-FR4", scope="tx", lane=lane)
    rows = [r for r in v.rows if r.row.metric == "wavelength_m"]
    assert len(rows) == 1 and rows[0].status == status
    if chosen is not None:
        assert rows[0].row.lane == chosen


# ------------------------------------------------------------- outputs
def test_outputs_are_json_and_pandas_friendly():
    v = evaluate(dict(GOOD_DR4, smsr_db=29.0), DR4, guard_band_db=0.2)
    d = json.loads(json.dumps(v.to_dict()))
    assert d["outcome"] == "FAIL" and d["counts"]["FAIL"] == 1 and d["phy"] == DR4
    frame = v.to_frame()
    assert len(frame) == len(v.rows)
    assert {"metric", "status", "margin", "unit", "verified", "min", "max"} <= set(frame.columns)
    assert frame.loc[frame.metric == "smsr_db", "margin"].item() == pytest.approx(-1.0)
    text = v.to_text()
    assert text.splitlines()[0].endswith("FAIL") and "12" in text  # transition time shown in ps


def test_expression_rows_with_custom_spec():
    # a PhySpec can be passed directly; rows with equations use the other metrics
    spec = load_phy(DR4)
    assert isinstance(spec.rows_for("oma_outer_dbm")[0].min, Expression)
    assert evaluate({"tdecq_db": 2.0, "oma_outer_dbm": 0.0}, spec, scope="tx").phy == DR4


def test_inconsistent_given_and_derived_metrics():
    with pytest.raises(InvalidParameter, match="inconsistent"):
        evaluate({"oma_outer_w": 1e-3, "oma_outer_dbm": 1.0}, DR4)
    with pytest.raises(InvalidParameter, match="inconsistent"):
        evaluate({"oma_outer_dbm": 1.0, "tdecq_db": 2.0, "oma_minus_tdecq_dbm": -0.5}, DR4)
    v = evaluate({"oma_outer_w": 1e-3, "oma_outer_dbm": 0.0}, DR4, scope="tx")
    assert status_of(v, "Outer OMA, each lane").value == 0.0


def test_infinite_tdecq_fails_and_json_stays_valid():
    v = evaluate({"tdecq_db": float("inf"), "ceq_db": float("inf"), "oma_outer_dbm": 1.0}, DR4, scope="tx",
                 require=["tdecq_db", "oma_outer_dbm"])
    r = status_of(v, "TDECQ, each lane (max)")
    assert r.status == "FAIL" and r.margin is None and "infinite" in r.note
    # the OMA floor max(-0.8, -2.2 + inf) cannot be computed: NOT TESTED, never PASS
    assert status_of(v, "Outer OMA, each lane").status == "NOT TESTED"
    # inf - inf is not derived
    assert status_of(v, "TDECQ - 10log10(Ceq), each lane (max)").status == "NOT TESTED"
    assert v.outcome == "FAIL"
    json.dumps(v.to_dict(), allow_nan=False)


# ------------------------------------------------------------- review additions
def test_numpy_values_are_accepted_like_python_ones():
    # instrument drivers and analysis code hand over numpy scalars and arrays: a float32
    # inf (closed eye) was rejected as "must be finite", arrays as "not a real number"
    np = pytest.importorskip("numpy")
    values, ignored = normalize_metrics({
        "tdecq_db": np.float32(np.inf), "oma_outer_dbm": np.array(2.0),
        "levels_w": np.array([1e-4, 2e-4, 3e-4, 4e-4]), "eye_heights": np.ones(3),
    })
    assert values == {"tdecq_db": float("inf"), "oma_outer_dbm": 2.0}
    assert set(ignored) == {"levels_w", "eye_heights"}
    v = evaluate({"tdecq_db": np.float32(np.inf)}, DR4, scope="tx", require="tdecq_db")
    assert v.outcome == "FAIL"


def test_zero_optical_power_fails_instead_of_raising():
    # a dead laser: 0 W is -inf dBm, below every OMA floor -> FAIL (it raised before)
    v = evaluate({"oma_outer_w": 0.0, "tdecq_db": 2.0}, DR4, scope="tx")
    assert status_of(v, "Launch power in OMAouter minus TDECQ, each lane (min)").status == "FAIL"
    assert v.outcome == "FAIL"
    with pytest.raises(InvalidParameter, match="average_power_w"):
        evaluate({"average_power_w": -1e-7}, DR4)


def test_require_as_a_single_name():
    # a bare string was split into characters ("unknown metric(s) _, a, b, ...")
    v = evaluate({"tdecq_db": 2.0}, DR4, scope="tx", require="tdecq_db")
    assert v.outcome == "PASS"


@pytest.mark.parametrize("kw", [{"guard_bands": [1.0]}, {"require": 5}, {"require": [None]}])
def test_bad_guard_bands_and_require_types_are_named(kw):
    # AttributeError ('list' has no 'items') / bare TypeErrors from set() and sorted() before
    with pytest.raises(InvalidType, match="guard_bands|require"):
        evaluate({"tdecq_db": 2.0}, DR4, **kw)
