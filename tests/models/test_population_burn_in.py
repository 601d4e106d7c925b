"""Burn-in and aging as population process steps: fallout against the Weibull closed form."""

import math

import pytest
from scipy import stats

from models.aging import aged_laser
from models.population import loads_population
from optics.errors import ConfigError

TEXT = """design = "800GBASE-DR8"
seed = 11
[burn_in]
hours = 48.0
temperature_c = 125.0
weak_fraction = 0.05
"""


def test_burn_in_fallout_vs_weibull_closed_form():
    pop = loads_population(TEXT)
    # by hand: t_eq = 48 h x exp(0.7 eV/k (1/328.15 - 1/398.15)), F_w = 1 - exp(-(t_eq/2000)^0.5)
    af = math.exp(0.7 / 8.617333262e-5 * (1 / 328.15 - 1 / 398.15))
    f_w = 1 - math.exp(-((48.0 * af / 2000.0) ** 0.5))
    n_lasers = 2                                   # DR8: one laser per 4 lanes
    expected = 1 - (1 - 0.05 * f_w) ** n_lasers
    assert pop.burn_in_fallout_expected() == pytest.approx(expected, rel=1e-12)
    n = 20000
    failed = sum(bool(pop.burn_in_lasers_failed(k).any()) for k in range(n))
    # 99.9 % binomial interval around the closed form
    lo, hi = stats.binom.interval(0.999, n, expected)
    assert lo <= failed <= hi, (failed, expected * n)
    # laser by laser: each fails with f_w F_w
    lasers = sum(int(pop.burn_in_lasers_failed(k).sum()) for k in range(n))
    lo, hi = stats.binom.interval(0.999, n * n_lasers, 0.05 * f_w)
    assert lo <= lasers <= hi


def test_burn_in_is_deterministic_per_serial():
    pop = loads_population(TEXT)
    flags = [pop.module(k).burn_in_failed for k in range(40)]
    assert flags == [bool(pop.burn_in_lasers_failed(k).any()) for k in range(40)]
    assert any(flags) and not all(flags)
    assert [pop.module(k).burn_in_failed for k in (39, 3, 17)] == [flags[39], flags[3], flags[17]]
    # no burn-in: nobody removed
    plain = loads_population('design = "800GBASE-DR8"\nseed = 11\n')
    assert not any(plain.module(k).burn_in_failed for k in range(40)) and plain.burn_in_fallout_expected() == 0.0


def test_aging_step_ages_every_module():
    pop = loads_population('design = "800GBASE-DR8"\nseed = 1\n[aging]\nhours = 1e5\ntemperature_c = 55.0\n')
    new = loads_population('design = "800GBASE-DR8"\nseed = 1\n').module(3).module.lanes[0].transmitter.laser
    old = pop.module(3).module.lanes[0].transmitter.laser
    # delta_ref = 8 % after 10^5 h at 55 °C: the APC bias there is 1.08 x
    assert old.bias_current_at(55.0) == pytest.approx(1.08 * new.bias_current_at(55.0), rel=1e-12)
    assert old == aged_laser(new, 1e5, temperature_c=55.0)


@pytest.mark.parametrize("extra, match", [
    ("[burn_in]\nhours = 48\ntemperature_c = 125\nweak_fractoin = 0.1\n", r"<string>:5: unknown key 'weak_fractoin'"),
    ("[burn_in]\nhours = 1e6\ntemperature_c = 125\n", r"<string>:3: \[burn_in\] hours = 1e\+06 h is outside"),
    ("[burn_in]\nhours = 48\n", r"needs temperature_c"),
    ("[burn_in]\nhours = 48\ntemperature_c = 125\nweak_fraction = 1.5\n", r"weak_fraction"),
    ("[aging]\nhours = 1e5\ntemperature_c = 400\n", r"<string>:4: \[aging\] temperature_c = 400"),
    ("[aging]\nhours = \"long\"\ntemperature_c = 55\n", r"hours = 'long' must be a finite number"),
])
def test_bad_process_steps(extra, match):
    with pytest.raises(ConfigError, match=match):
        loads_population('design = "800GBASE-DR8"\n' + extra)


def test_shipped_1p6t_population_burns_in_96_h_at_85_c():
    from models.population import load_population, shipped_population

    pop = load_population(shipped_population("1.6t-dr8"))
    screen, hours, temp = pop.burn_in
    assert (hours, temp, screen.weak_fraction) == (96.0, 85.0, 0.01)
    # by hand: AF = exp(0.7 eV/k (1/328.15 - 1/358.15)) ~ 8.8, F_w = 1 - exp(-(96 AF / 2000)^0.5), 2 lasers
    af = math.exp(0.7 / 8.617333262e-5 * (1 / 328.15 - 1 / 358.15))
    f_w = 1 - math.exp(-((96.0 * af / 2000.0) ** 0.5))
    assert pop.burn_in_fallout_expected() == pytest.approx(1 - (1 - 0.01 * f_w) ** 2, rel=1e-12)
    assert 0.005 < pop.burn_in_fallout_expected() < 0.015
