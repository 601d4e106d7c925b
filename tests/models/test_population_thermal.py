"""Populations spread the die's thermal resistance (its temperature is solved from its heat), and
refuse a die-thermal parameter the design does not use."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.chip_temperature import chip_temperature_c, die_heat_w
from models.population import load_population, loads_population, shipped_population
from optics.errors import ConfigError

R_PATH = "module.chip_thermal_resistance_k_per_w"
RISE_PATH = "module.chip_temperature_rise_k"


@pytest.mark.parametrize("name", ["800g-dr8", "1.6t-dr8"])
def test_shipped_populations_spread_the_thermal_resistance(name):
    pop = load_population(shipped_population(name))
    spreads = {sp.parameter: sp for sp in pop.spreads}
    assert RISE_PATH not in spreads and pop.base.chip_temperature_rise_k is None   # the die is solved
    sp = spreads[R_PATH]
    assert "ASSUMPTION" in sp.source
    # 15 % (1 sigma) of the design's 19 K/W, truncated to 0.5...1.6 of it
    assert (sp.loc, sp.scale, sp.low, sp.high) == pytest.approx((19.0, 0.15 * 19.0, 0.5 * 19.0, 1.6 * 19.0), rel=1e-12)
    ref = stats.truncnorm((sp.low - sp.loc) / sp.scale, (sp.high - sp.loc) / sp.scale, loc=sp.loc, scale=sp.scale)
    draws = [pop.module(k) for k in range(120)]
    r = np.array([d.values[R_PATH][0] for d in draws])
    assert stats.kstest(r, ref.cdf).pvalue > 1e-3
    for d in draws[:6]:
        m = d.module
        # the draw reaches the module, and its die sits at the fixed point T = T_case + R P_die(T)
        assert m.chip_thermal_resistance_k_per_w == d.values[R_PATH][0] and m.chip_temperature_rise_k is None
        t = chip_temperature_c(m, 25.0)
        assert t - 25.0 == pytest.approx(m.chip_thermal_resistance_k_per_w * die_heat_w(m, t), abs=1e-8)


def _spread(path: str) -> str:
    return (f'[[spread]]\nparameter = "{path}"\nlevel = "module"\ndistribution = "truncnormal"\n'
            'sigma_rel = 0.1\nlow_rel = 0.8\nhigh_rel = 1.2\nsource = "test"\n')


def test_a_fixed_rise_on_a_solved_die_is_refused():
    with pytest.raises(ConfigError, match=r"pop.toml:5: module.chip_temperature_rise_k would replace .*"
                                          r"spread module.chip_thermal_resistance_k_per_w"):
        loads_population('design = "800GBASE-DR8"\nseed = 1\n\n' + _spread(RISE_PATH), source="pop.toml")
    with pytest.raises(ConfigError, match="chip_temperature_rise_k would replace"):
        loads_population('design = "800GBASE-DR8"\n[[defect]]\nname = "hot"\nlevel = "module"\nrate = 0.1\n'
                         f'set = {{ "{RISE_PATH}" = 20.0 }}\n', source="pop.toml")


def test_the_resistance_of_a_fixed_rise_design_is_refused(tmp_path):
    (tmp_path / "link.toml").write_text('preset = "800GBASE-DR8"\nchip_temperature_rise_k = 10.0\n')
    head = 'link = "link.toml"\nseed = 1\n'
    with pytest.raises(ConfigError, match=r"pop.toml:4: module.chip_thermal_resistance_k_per_w has no effect: "
                                          r"the design fixes its die temperature rise \(chip_temperature_rise_k = 10 K\)"):
        loads_population(head + _spread(R_PATH), source="pop.toml", base_dir=tmp_path)
    # that design's rise is what a line spreads then: accepted, and the draws set the die temperature
    pop = loads_population(head + _spread(RISE_PATH), source="pop.toml", base_dir=tmp_path)
    d = pop.module(3)
    rise = d.values[RISE_PATH][0]
    assert 8.0 <= rise <= 12.0 and chip_temperature_c(d.module, 40.0) == pytest.approx(40.0 + rise, abs=1e-12)
