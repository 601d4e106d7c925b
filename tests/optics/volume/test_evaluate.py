"""A population module evaluated as its plan would test it: physics and judging."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from models.population import load_population, shipped_population
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
    """At a fixed bias the laser gives P = η(I − I_th): a die with 0.3 of the slope launches
    10·log10(0.3) = −5.23 dB less (the same module without the defect is the reference)."""
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
    for lane in (0, 1):
        assert power[lane] - ref_power[lane] == pytest.approx(10 * math.log10(0.3), abs=0.05)
    failed = {r.name for r in out.records if r.outcome == "FAIL"}
    assert "average_power_dbm" in failed
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
