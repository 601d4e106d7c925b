"""Streaming yield statistics against closed forms: Clopper-Pearson, Cpk, escapes vs guard band."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from optics.volume.evaluate import ModuleOutcome, Record
from optics.volume.summary import GUARD_BAND_STEPS, YieldSummary, json_ready


def module(i: int, values: dict[tuple[str, float], float], low=None, high=3.4) -> ModuleOutcome:
    recs = []
    for (name, t), v in values.items():
        margin = (high - v) if high is not None else (v - low)
        outcome = "FAIL" if margin < 0 else "PASS"
        recs.append(Record("tx", name, 0, t, v, outcome, low, high, margin, 0.0))
    verdict = "FAIL" if any(r.outcome == "FAIL" for r in recs) else "PASS"
    return ModuleOutcome(index=i, serial=f"S{i}", verdict=verdict, defects="", records=tuple(recs), seconds=0.01)


def test_yield_interval_pareto_and_temperatures():
    s = YieldSummary()
    rng = np.random.default_rng(1)
    x25 = rng.normal(2.5, 0.4, 500)
    x70 = rng.normal(2.9, 0.4, 500)
    for i in range(500):
        s.add(module(i, {("tdecq_db", 25.0): x25[i], ("tdecq_db", 70.0): x70[i]}))
    d = s.to_dict()
    n_pass = int(np.sum((x25 <= 3.4) & (x70 <= 3.4)))
    assert d["yield"] == n_pass / 500
    lo, hi = d["yield_ci95"]
    assert lo == pytest.approx(stats.beta.ppf(0.025, n_pass, 500 - n_pass + 1))
    assert hi == pytest.approx(stats.beta.ppf(0.975, n_pass + 1, 500 - n_pass))
    by_t = {r["temperature_c"]: r["yield"] for r in d["by_temperature"]}
    assert by_t[25.0] == np.mean(x25 <= 3.4) and by_t[70.0] == np.mean(x70 <= 3.4)
    assert d["failures"][0] == {"measurement": "tdecq_db", "modules": 500 - n_pass, "fraction": (500 - n_pass) / 500}
    m70 = next(m for m in d["measurements"] if m["temperature_c"] == 70.0)
    assert m70["mean"] == pytest.approx(np.mean(x70)) and m70["sigma"] == pytest.approx(np.std(x70, ddof=1))
    assert m70["cpk"] == pytest.approx((3.4 - np.mean(x70)) / (3 * np.std(x70, ddof=1)))


def test_escapes_and_false_rejects_are_the_normal_tail_of_each_margin():
    """One record per module: P(test passes) = Φ((margin − g)/σ_m)."""
    sigma = 0.2
    s = YieldSummary({"tdecq_db": sigma})
    values = [3.0, 3.3, 3.45, 3.6]
    for i, v in enumerate(values):
        s.add(module(i, {("tdecq_db", 25.0): v}))
    gb = s.guard_bands()
    k = np.asarray(GUARD_BAND_STEPS)
    p = [stats.norm.cdf((3.4 - v - k * sigma) / sigma) for v in values]
    assert np.allclose(gb["all"]["escapes"], (p[2] + p[3]) / 4)
    assert np.allclose(gb["all"]["false_rejects"], ((1 - p[0]) + (1 - p[1])) / 4)
    assert np.allclose(gb["each"]["tdecq_db"]["escapes"], gb["all"]["escapes"])
    assert gb["truly_out_of_spec"] == 0.5
    # a wider guard band trades escapes for false rejects
    assert np.all(np.diff(gb["all"]["escapes"]) < 0) and np.all(np.diff(gb["all"]["false_rejects"]) > 0)


def test_reservoir_keeps_memory_bounded(monkeypatch):
    from optics.volume import summary as sm

    monkeypatch.setattr(sm, "SAMPLE_SIZE", 50)
    s = YieldSummary()
    for i in range(400):
        s.add(module(i, {("tdecq_db", 25.0): 2.0 + i * 1e-3}))
    m = s.moments[("tdecq_db", 25.0)]
    assert len(m.values) == 50 and m.n == 400
    assert m.mean == pytest.approx(2.0 + 399e-3 / 2)


def test_json_ready_replaces_non_finite():
    assert json_ready({"a": (1.0, math.inf), "b": float("nan")}) == {"a": [1.0, None], "b": None}


def test_repeatability_must_be_finite():
    with pytest.raises(ValueError, match="tdecq_db"):
        YieldSummary({"tdecq_db": math.nan})
