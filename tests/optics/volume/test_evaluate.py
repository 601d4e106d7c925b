"""A population module evaluated as its plan would test it: physics and judging."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from models.population import load_population, shipped_population
from models.thermal import chip_temperature_c
from optics.errors import ConfigError
from optics.volume.evaluate import YieldJob, context, evaluate_module

PLAN = Path(__file__).with_name("dr8-2lanes-25c.toml")


@pytest.fixture(scope="module")
def job():
    return YieldJob.from_files("800g-dr8", PLAN, samples_per_symbol=8)


def _weak_laser_module(pop):
    return next(k for k in range(400) if any(n == "weak laser die" and lane is not None and lane < 2
                                             for n, lane in pop.module(k).defects))


def test_weak_laser_lanes_lose_the_slope_ratio_and_fail(job):
    """The laser runs under APC (P = P_set while I_th(T) + P_set/η(T) is within the driver's
    limit I_max): a die with 0.3 of the slope needs 1/0.3 of the slope current, hits I_max and
    launches P = η(T)·(I_max − I_th(T)) < P_set (the same module without the defect, held at
    P_set, is the reference)."""
    ctx = context(job)
    k = _weak_laser_module(ctx.population)
    out = evaluate_module(job, k)
    assert out.verdict == "FAIL" and "weak laser die" in out.defects
    power = {r.lane: r.value for r in out.records if r.name == "average_power_dbm"}
    # the same draw without the defect
    healthy_pop = dataclasses.replace(ctx.population, defects=())
    healthy_job = dataclasses.replace(job, seed=ctx.population.seed)   # same physics, its own cache key
    from optics.volume import evaluate as ev

    ev._CONTEXTS[healthy_job] = dataclasses.replace(ctx, population=healthy_pop)
    try:
        ref = evaluate_module(healthy_job, k)
    finally:
        ev._CONTEXTS.pop(healthy_job, None)
    ref_power = {r.lane: r.value for r in ref.records if r.name == "average_power_dbm"}
    weak = ctx.population.module(k).module
    t_chip = chip_temperature_c(weak, 25.0)     # the weak module's own die (its lasers at the limit)
    for lane in (0, 1):
        laser = weak.lanes[lane].transmitter.laser
        d = t_chip - laser.temperature_ref_c
        eta = laser.slope_efficiency_w_per_a * math.exp(-d / laser.t1_k)     # the weak die's 0.3 x slope
        i_th = laser.threshold_current_a * math.exp(d / laser.t0_k)
        assert i_th + laser.apc_power_w / eta > laser.max_bias_current_a    # beyond the servo's reach
        expected_db = 10 * math.log10(eta * (laser.max_bias_current_a - i_th) / laser.apc_power_w)
        assert -5.0 < expected_db < -2.0
        assert power[lane] - ref_power[lane] == pytest.approx(expected_db, abs=0.05)
    failed = {r.name for r in out.records if r.outcome == "FAIL"}
    assert "oma_outer_dbm" in failed            # OMA falls by the same ratio, below its limit
    assert all(r.outcome in ("PASS", "MARGINAL", "RECORDED") for r in ref.records)


def test_records_carry_the_plan_limits_and_rx_sensitivity(job):
    out = evaluate_module(job, 0)
    names = [r.name for r in out.records]
    assert names.count("tdecq_db") == 2 and names.count("rx_sensitivity_oma_dbm") == 2
    tdecq = next(r for r in out.records if r.name == "tdecq_db")
    assert tdecq.high == pytest.approx(3.4) and tdecq.guard_band == pytest.approx(0.3)   # 800GBASE-DR8 row, plan guard
    sens = next(r for r in out.records if r.name == "rx_sensitivity_oma_dbm")
    # thermal-noise floor of the 12 pA/√Hz, 0.85 A/W design receiver near -12 dBm OMA
    assert -13.5 < sens.value < -10.5
    assert out.to_dict()["serial"] == "DR8P000000"


def test_evaluation_is_deterministic(job):
    a, b = evaluate_module(job, 3), evaluate_module(job, 3)
    assert a.records == b.records and a.verdict == b.verdict


def test_plan_with_more_lanes_than_the_design_is_refused(tmp_path):
    plan = tmp_path / "p.toml"
    plan.write_text(PLAN.read_text().replace("lanes = 2", "lanes = 8"))
    pop = tmp_path / "pop.toml"
    pop.write_text('design = "400GBASE-DR4"\n')
    with pytest.raises(ConfigError, match="tests 8 lanes"):
        YieldJob.from_files(pop, plan)
