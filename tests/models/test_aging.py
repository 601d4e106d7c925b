"""Tests of models.aging: Arrhenius acceleration, the t^m bias-rise law, end of life and the
burn-in screen, each against its closed form written out here."""

from __future__ import annotations

import math

import pytest

from models.aging import BurnInScreen, LaserAging, aged_laser, aged_module, arrhenius_factor
from models.laser import DfbLaser
from models.presets import preset
from optics.errors import InvalidParameter, InvalidType

K_B = 8.617333262e-5      # eV/K, CODATA 2018


def test_arrhenius_factor_against_its_formula():
    # 0.5 eV, 25 -> 85 °C: exp(0.5/k (1/298.15 - 1/358.15)) = 26.06
    assert arrhenius_factor(85.0, 25.0, 0.5) == pytest.approx(math.exp(0.5 / K_B * (1 / 298.15 - 1 / 358.15)),
                                                              rel=1e-12)
    assert arrhenius_factor(85.0, 25.0, 0.5) == pytest.approx(26.06, abs=0.01)
    assert arrhenius_factor(55.0, 55.0, 0.7) == 1.0
    assert arrhenius_factor(25.0, 85.0, 0.5) == pytest.approx(1 / 26.06, rel=1e-3)
    with pytest.raises(InvalidParameter, match="activation_energy_ev"):
        arrhenius_factor(85.0, 25.0, -0.1)


def test_bias_rise_law_and_end_of_life():
    a = LaserAging()
    # δ_ref (t AF / t_ref)^m: 8 % at 100 000 h and 55 °C, x sqrt(4) after 400 000 h
    assert a.bias_increase(1e5, 55.0) == pytest.approx(0.08, rel=1e-12)
    assert a.bias_increase(4e5, 55.0) == pytest.approx(0.16, rel=1e-12)
    af = math.exp(0.5 / K_B * (1 / 328.15 - 1 / 353.15))          # 55 -> 80 °C, 3.50
    assert a.bias_increase(1e5, 80.0) == pytest.approx(0.08 * math.sqrt(af), rel=1e-12)
    # +20 % after t_ref (0.2/0.08)^2 = 625 000 h at 55 °C, / AF at 80 °C (178 800 h)
    assert a.hours_to_end_of_life(55.0) == pytest.approx(625_000.0, rel=1e-12)
    assert a.hours_to_end_of_life(80.0) == pytest.approx(625_000.0 / af, rel=1e-12)
    assert a.bias_increase(a.hours_to_end_of_life(80.0), 80.0) == pytest.approx(0.2, rel=1e-12)
    with pytest.raises(InvalidParameter, match="hours"):
        a.bias_increase(-1.0, 55.0)
    with pytest.raises(InvalidParameter, match="exponent"):
        LaserAging(exponent=0.0)


def test_aged_apc_laser_needs_the_bias_rise_and_a_cc_laser_loses_power():
    new = DfbLaser(apc_power_w=40e-3, max_bias_current_a=0.25)
    old = aged_laser(new, 1e5, temperature_c=55.0)
    i0 = 8e-3 * math.exp(30 / 64) + 0.04 / (0.3 * math.exp(-30 / 260))      # I_APC at 55 °C, new
    assert old.bias_current_at(55.0) == pytest.approx(1.08 * i0, rel=1e-12)
    assert old.output_power_w(55.0) == pytest.approx(0.04, rel=1e-12)       # APC still holds the power
    # elsewhere the threshold's own law carries the rise: +0.08 I0 exp((T - 55)/T0)
    assert old.bias_current_at(80.0) - new.bias_current_at(80.0) == pytest.approx(
        0.08 * i0 * math.exp(25 / 64), rel=1e-12)
    cc = DfbLaser(bias_current_a=0.15)
    cc_old = aged_laser(cc, 1e5, temperature_c=55.0)
    eta = 0.3 * math.exp(-30 / 260)
    assert cc.output_power_w(55.0) - cc_old.output_power_w(55.0) == pytest.approx(eta * 0.08 * 0.15, rel=1e-12)
    assert aged_laser(new, 0.0, temperature_c=55.0) == new
    with pytest.raises(InvalidType):
        aged_laser("laser", 1.0, temperature_c=55.0)


def test_aged_module_needs_more_bias_and_module_power():
    from models.lane_metrics import module_power_at

    m = preset("1.6TBASE-DR8")
    old = aged_module(m, 1e5, temperature_c=55.0)
    t = 35.0
    assert old.lanes[3].transmitter.laser.bias_current_at(t) > m.lanes[3].transmitter.laser.bias_current_at(t)
    assert module_power_at(old, t, 0.0).total_w > module_power_at(m, t, 0.0).total_w


def test_burn_in_screen_against_the_weibull_closed_form():
    b = BurnInScreen()
    af = math.exp(0.7 / K_B * (1 / 328.15 - 1 / 398.15))         # 125 °C burn-in over the 55 °C reference
    t_eq = 48.0 * af
    f = 1.0 - math.exp(-((t_eq / 2000.0) ** 0.5))
    res = b.screen(48.0, 125.0)
    assert res.equivalent_hours == pytest.approx(t_eq, rel=1e-12)
    assert res.weak_removed_fraction == pytest.approx(f, rel=1e-12)
    assert res.fallout_fraction == pytest.approx(0.01 * f, rel=1e-12)
    assert res.escape_fraction == pytest.approx(0.01 * (1 - f) / (1 - 0.01 * f), rel=1e-12)
    # first year in the field at 55 °C: conditional Weibull failure of the escapes
    f1 = 1.0 - math.exp(-(((t_eq + 8760.0) / 2000.0) ** 0.5))
    with_bi = b.field_failure_fraction(48.0, 125.0, field_hours=8760.0, field_temperature_c=55.0)
    assert with_bi == pytest.approx(res.escape_fraction * (f1 - f) / (1 - f), rel=1e-12)
    without = b.field_failure_fraction(0.0, 125.0, field_hours=8760.0, field_temperature_c=55.0)
    assert without == pytest.approx(0.01 * (1.0 - math.exp(-((8760.0 / 2000.0) ** 0.5))), rel=1e-12)
    assert with_bi < without / 4                                   # the screen removes most early failures
    with pytest.raises(InvalidParameter, match="weak_shape"):
        BurnInScreen(weak_shape=1.5)
