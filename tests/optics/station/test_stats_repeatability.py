"""Repeatability from retests / a golden module: pooled within-module σ per measurement."""

import time
import uuid

import numpy as np
import pytest

from optics.errors import InvalidParameter
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.repeatability import pooled_sigma, repeatability_sigma
from optics.station.stats import lot_stats
from optics.station.store import SQLiteStore


def add(st, serial, values, *, t, status=RunStatus.COMPLETE, name="tdecq_db"):
    """values: {(lane, temp): value}; plus the case temperature (a condition)."""
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="h", station_id="s",
                    started_at_s=t, toolkit_version="t")
    st.begin_run(run)
    recs = [MeasurementRecord(run_id=run.run_id, serial=serial, step="tx", name=name, value=v, unit="dB",
                              outcome=Outcome.PASS, lane=lane, temperature_c=temp, high_limit=3.4)
            for (lane, temp), v in values.items()]
    recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="thermal", name="case_temperature_c",
                                  value=25.0 + t % 1, unit="°C", outcome=Outcome.PASS, temperature_c=25.0))
    st.add_measurements(recs)
    st.end_run(run.run_id, status=status, outcome=Outcome.PASS if status is RunStatus.COMPLETE else Outcome.ERROR)


def test_pooled_within_module_sigma_closed_form(tmp_path):
    """A: lane 0 read 1.0, 1.2, 1.4 (ss 0.08, 2 dof), lane 1 read 2.0, 2.1 (ss 0.005, 1 dof);
    B: lane 0 read 3.0, 3.3 (ss 0.045, 1 dof); C once (no dof).  σ = sqrt(0.13 / 4)."""
    t0 = time.time()
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        add(st, "A", {(0, 25.0): 1.0, (1, 25.0): 2.0}, t=t0)
        add(st, "A", {(0, 25.0): 1.2, (1, 25.0): 2.1}, t=t0 + 1)
        add(st, "A", {(0, 25.0): 1.4}, t=t0 + 2)
        add(st, "B", {(0, 25.0): 3.0}, t=t0 + 3)
        add(st, "B", {(0, 25.0): 3.3}, t=t0 + 4)
        add(st, "C", {(0, 25.0): 9.0}, t=t0 + 5)
        add(st, "B", {(0, 25.0): 99.0}, t=t0 + 6, status=RunStatus.INCOMPLETE)   # not a complete run: out
        sigma = repeatability_sigma(st)
        golden = repeatability_sigma(st, golden_serial="B")
        stats = lot_stats(st)
        with pytest.raises(InvalidParameter, match="golden module 'C' has 1 complete run"):
            repeatability_sigma(st, golden_serial="C")
    assert sigma == {"tdecq_db": pytest.approx(np.sqrt((0.08 + 0.005 + 0.045) / 4))}
    assert golden == {"tdecq_db": pytest.approx(np.sqrt(0.045 / 1))}
    assert stats.repeatability == sigma and stats.to_dict()["repeatability"] == sigma
    (detail,) = stats.repeatability_detail
    assert detail["dof"] == 4 and detail["n_modules"] == 2 and detail["n_groups"] == 3


def test_temperatures_are_separate_groups_and_no_retest_gives_nothing(tmp_path):
    """The same lane at 25 and 70 °C is two true values: no spread between them counts."""
    t0 = time.time()
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        add(st, "A", {(0, 25.0): 1.0, (0, 70.0): 2.0}, t=t0)
        add(st, "A", {(0, 25.0): 1.1, (0, 70.0): 2.1}, t=t0 + 1)
        sigma = repeatability_sigma(st)
        add(st, "B", {(0, 25.0): 1.0}, t=t0 + 2)
    assert sigma == {"tdecq_db": pytest.approx(np.sqrt((0.005 + 0.005) / 2))}
    with SQLiteStore(tmp_path / "single.sqlite") as st:
        add(st, "B", {(0, 25.0): 1.0}, t=t0)
        assert repeatability_sigma(st) == {}


def test_pooled_sigma_function():
    (e,) = pooled_sigma(["x"] * 5, ["dB"] * 5, np.array([0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 2]),
                        np.array([1.0, 3.0, 10.0, 10.0, 7.0]))
    assert e.sigma == pytest.approx(np.sqrt(2.0 / 2)) and e.dof == 2 and e.n_groups == 2
    with pytest.raises(InvalidParameter, match="finite"):
        pooled_sigma(["x"], ["dB"], np.array([0]), np.array([0]), np.array([np.nan]))
