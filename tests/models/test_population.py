"""Populations: parsing and validation, deterministic draws, distributions, correlation, defects."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from models.lane import Transmitter
from models.laser import DfbLaser
from models.modulator import MachZehnderModulator
from models.population import (
    POPULATIONS_DIR,
    _RANGES,
    lane_tx_waveform,
    load_population,
    loads_population,
    parameter_table,
    shipped_population,
)
from models.presets import preset
from optics.errors import ConfigError, InvalidParameter

HEAD = 'design = "800GBASE-DR8"\nserial_prefix = "T"\nseed = 7\n'


def pop_of(body: str):
    return loads_population(HEAD + body, source="pop.toml")


def test_shipped_populations_load_and_name_sources():
    names = sorted(p.stem for p in POPULATIONS_DIR.glob("*.toml"))
    assert {"800g-dr8", "1.6t-dr8"} <= set(names)
    for name in names:
        pop = load_population(shipped_population(name))
        assert pop.spreads and pop.defects
        # every number has its source or says it is an assumption
        assert all(sp.source for sp in pop.spreads) and all(d.source for d in pop.defects)


def test_module_k_depends_on_seed_and_k_only():
    pop = load_population(shipped_population("800g-dr8"))
    a = pop.module(41)
    # drawing other modules first, or in another order, changes nothing
    for k in (3, 0, 99):
        pop.module(k)
    b = pop.module(41)
    assert a.values == b.values and a.defects == b.defects and a.serial == b.serial == "DR8P000041"
    assert pop.index_of("DR8P000041") == 41
    other = dataclasses.replace(pop, seed=pop.seed + 1).module(41)
    assert other.values != a.values


def test_adding_a_spread_leaves_the_other_draws_alone():
    body = ('[[spread]]\nparameter = "driver.swing_v"\ndistribution = "normal"\nsigma = 0.05\n')
    extra = ('[[spread]]\nparameter = "tia.input_noise_density_a_per_rthz"\ndistribution = "lognormal"\n'
             'sigma_ln = 0.1\n')
    one, two = pop_of(body), pop_of(extra + body)
    assert one.module(5).values["driver.swing_v"] == two.module(5).values["driver.swing_v"]


@pytest.mark.parametrize("dist, body, ref", [
    ("normal", "mean = 2.0\nsigma = 0.1", stats.norm(2.0, 0.1)),
    ("truncnormal", "mean = 2.0\nsigma = 0.2\nlow = 1.9\nhigh = 2.3", stats.truncnorm(-0.5, 1.5, 2.0, 0.2)),
    ("lognormal", "median = 2.0\nsigma_ln = 0.1", stats.lognorm(0.1, scale=2.0)),
    ("uniform", "low = 1.8\nhigh = 2.4", stats.uniform(1.8, 0.6)),
])
def test_draws_follow_the_distribution(dist, body, ref):
    pop = pop_of(f'[[spread]]\nparameter = "driver.swing_v"\nlevel = "lane"\ndistribution = "{dist}"\n{body}\n')
    x = np.concatenate([pop.module(k).values["driver.swing_v"] for k in range(150)])   # 1200 lane draws
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    # the draws reach the lanes' parameter sets
    m = pop.module(3)
    assert [ln.transmitter.driver.swing_v for ln in m.module.lanes] == list(m.values["driver.swing_v"])


def test_module_correlation_is_the_shared_variance():
    pop = pop_of('[[spread]]\nparameter = "modulator.vpi_l_v_m"\ndistribution = "normal"\nsigma_rel = 0.05\n'
                 'module_correlation = 0.7\n')
    v = np.array([pop.module(k).values["modulator.vpi_l_v_m"] for k in range(400)])
    r = np.corrcoef(v[:, 0], v[:, 1])[0, 1]         # two lanes of the same modules
    assert abs(r - 0.7) < 4 * (1 - 0.7**2) / math.sqrt(400)


def test_a_shared_laser_is_one_draw_for_its_lanes():
    pop = pop_of('[[spread]]\nparameter = "laser.slope_efficiency_w_per_a"\ndistribution = "normal"\n'
                 'sigma_rel = 0.05\n')
    v = pop.module(2).values["laser.slope_efficiency_w_per_a"]
    assert preset("800GBASE-DR8").lanes[0].transmitter.lasers_shared_by == 4
    assert len(set(v[:4])) == 1 and len(set(v[4:])) == 1 and v[0] != v[4]


def test_defect_rate_and_effect():
    pop = pop_of('[[defect]]\nname = "slow"\nlevel = "lane"\nrate = 0.05\n'
                 'set = { "modulator.eo_bandwidth_hz" = 20e9 }\nsource = "test"\n')
    n_mod = 300
    hits = [d for k in range(n_mod) for d in pop.module(k).defects]
    n = 8 * n_mod
    assert abs(len(hits) - 0.05 * n) < 4 * math.sqrt(n * 0.05 * 0.95)
    m = next(pop.module(k) for k in range(n_mod) if pop.module(k).defects)
    lane = m.defects[0][1]
    assert m.module.lanes[lane].transmitter.modulator.eo_bandwidth_hz == 20e9
    assert m.note.startswith("slow (lane")


@pytest.mark.parametrize("body, words", [
    ('[[spread]]\nparameter = "laser.slope"\ndistribution = "normal"\nsigma = 0.1\n', "unknown parameter"),
    ('[[spread]]\nparameter = "driver.swing_v"\ndistribution = "gamma"\nsigma = 0.1\n', "distribution"),
    ('[[spread]]\nparameter = "driver.swing_v"\ndistribution = "normal"\nsigma = 0.1\ncolour = 1\n', "unknown key"),
    ('[[spread]]\nparameter = "photodiode.responsivity_a_per_w"\ndistribution = "normal"\nsigma = 0.2\n',
     "use a truncnormal"),
    ('[[spread]]\nparameter = "driver.swing_v"\ndistribution = "normal"\nsigma = 0.1\nsigma_rel = 0.1\n',
     "exactly one of sigma"),
    ('[[defect]]\nname = "x"\nrate = 1.5\nscale = { "driver.swing_v" = 0.5 }\n', "probability"),
    ('[[defect]]\nname = "x"\nrate = 0.1\nset = { "photodiode.responsivity_a_per_w" = 3.0 }\n', "allowed range"),
    ('colour = 3\n', "unknown key"),
])
def test_bad_files_are_clear_errors_with_their_line(body, words):
    with pytest.raises(ConfigError, match=words) as err:
        pop_of(body)
    assert "pop.toml:" in str(err.value)
    line = int(str(err.value).split("pop.toml:")[1].split(":")[0])
    assert 4 <= line <= 4 + body.count("\n")


def test_parameter_table_ranges_are_the_models_own():
    """Each listed range's ends are accepted by the parameter set and a step beyond is refused
    where the model bounds it (so --list-parameters never promises a value the model refuses)."""
    objs = [DfbLaser(), MachZehnderModulator(), Transmitter()]
    for obj in objs:
        for field, (lo, hi) in _RANGES[type(obj)].items():
            if field not in {f.name for f in dataclasses.fields(obj)}:
                continue
            for v in (lo, hi):
                if field == "bias_phase_rad" or v == 0.0 and field in ("bias_current_a",):
                    continue
                dataclasses.replace(obj, **{field: v})      # no error
    rows = {p.path: p for p in parameter_table(preset("800GBASE-DR8"))}
    assert rows["laser.slope_efficiency_w_per_a"].unit == "W/A"
    assert rows["tia.input_noise_density_a_per_rthz"].nominal == 12e-12
    assert rows["module.chip_temperature_rise_k"].unit == "K"
    with pytest.raises(InvalidParameter):
        dataclasses.replace(MachZehnderModulator(), static_extinction_db=0.0)


def test_lane_waveform_is_the_same_for_a_serial_everywhere():
    pop = load_population(shipped_population("800g-dr8"))
    a = lane_tx_waveform(pop.module(7), 2, 70.0, samples_per_symbol=8)
    b = lane_tx_waveform(pop.module(7), 2, 70.1, samples_per_symbol=8)   # same 0.25 K bin
    c = lane_tx_waveform(pop.module(7), 3, 70.0, samples_per_symbol=8)
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert a.meta["serial"] == "DR8P000007"
