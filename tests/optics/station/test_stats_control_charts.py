"""I-MR charts and the run rules against hand-made series whose violations are known."""

import numpy as np
import pytest

from optics.errors import InvalidParameter
from optics.station.control_charts import D2_N2, D4_N2, imr_chart, rule_violations


def flagged(values, rule, centre=0.0, sigma=1.0):
    return [v.index for v in rule_violations(values, centre, sigma) if v.rule == rule]


def test_imr_limits_closed_form():
    x = [10.0, 12.0, 11.0, 13.0, 12.0]
    c = imr_chart(x)
    mr = np.abs(np.diff(x)).mean()                   # (2 + 1 + 2 + 1) / 4 = 1.5
    assert c.mr_mean == pytest.approx(1.5) and mr == pytest.approx(1.5)
    assert c.sigma == pytest.approx(1.5 / 1.128) and D2_N2 == 1.128      # Montgomery Table VI, n = 2
    assert c.centre == pytest.approx(11.6)
    assert c.ucl == pytest.approx(11.6 + 3 * 1.5 / 1.128) and c.lcl == pytest.approx(11.6 - 3 * 1.5 / 1.128)
    assert c.mr_ucl == pytest.approx(3.267 * 1.5) and D4_N2 == 3.267
    assert c.violations == ()


def test_rule_1_one_point_beyond_3_sigma():
    assert flagged([0, 0.5, 3.2, -0.4, -3.01, 2.9], 1) == [2, 4]


def test_rule_2_two_of_three_beyond_2_sigma_same_side():
    assert flagged([0, 2.5, 0, 2.2, 0, 0], 2) == [3]                    # points 1 and 3 (of 1..3)
    assert flagged([0, 2.5, -2.5, 0, 0], 2) == []                       # opposite sides
    assert flagged([2.5, 0, 0, 2.5], 2) == []                           # 4 apart: never 2 in a window of 3


def test_rule_3_four_of_five_beyond_1_sigma_same_side():
    assert flagged([1.5, 1.2, 0.0, 1.1, 1.3, 0.0], 3) == [4]
    assert flagged([1.5, 1.2, 0.0, 1.1, -1.3, 0.0], 3) == []
    assert flagged([-1.5, -1.2, -1.1, -1.3, 0.2], 3) == [3]


def test_rule_4_eight_in_a_row_on_one_side():
    x = [0.1] * 7 + [-0.1] + [0.2] * 8 + [0.3]
    assert flagged(x, 4) == [15, 16]                                    # the 8th point of the second run on
    assert flagged([0.1] * 7, 4) == []


def test_nelson_trend_and_alternation():
    assert [v.index for v in rule_violations([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.4], 0.0, 1.0) if v.rule == 5] == [5]
    alternating = [0.1 * (-1) ** k for k in range(14)]
    assert [v.index for v in rule_violations(alternating, 0.0, 1.0) if v.rule == 6] == [13]
    assert not [v for v in rule_violations(alternating[:13], 0.0, 1.0) if v.rule == 6]


def test_a_shift_after_the_reference_period_is_flagged_where_it_happens():
    """Limits from 30 reference points (σ 0.1), then a +1.0 (10 σ) shift: rule 1 flags exactly
    the shifted points, rule 4 wherever 8 points in a row are on one side (brute force)."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.normal(0.0, 0.1, 30), rng.normal(1.0, 0.1, 10)])
    ref = imr_chart(x[:30])
    assert ref.sigma == pytest.approx(0.1, rel=0.3)
    found = rule_violations(x, ref.centre, ref.sigma)
    assert [v.index for v in found if v.rule == 1] == list(range(30, 40))
    z = x - ref.centre
    brute = [i for i in range(7, 40) if (z[i - 7:i + 1] > 0).all() or (z[i - 7:i + 1] < 0).all()]
    assert [v.index for v in found if v.rule == 4] == brute and {37, 38, 39} <= set(brute)


def test_bad_input_is_refused():
    with pytest.raises(InvalidParameter, match="at least one finite value"):
        imr_chart([])
    with pytest.raises(InvalidParameter, match="non-finite"):
        imr_chart([1.0, float("nan")])
    with pytest.raises(InvalidParameter, match="sigma"):
        rule_violations([1.0, 2.0], 0.0, 0.0)
    with pytest.raises(InvalidParameter, match="3 values but 2 positions"):
        imr_chart([1.0, 2.0, 3.0], positions=[0.0, 1.0])
    assert imr_chart([2.0, 2.0, 2.0]).sigma is None                    # constant: no limits, no rules
