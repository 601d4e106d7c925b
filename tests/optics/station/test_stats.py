import time
import uuid

import numpy as np
import pytest

from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.stats import EmptyLot, cpk, lot_stats
from optics.station.store import SQLiteStore


def add_run(st, serial, values, outcome, hi=3.4, status=RunStatus.COMPLETE, t=None):
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="p", plan_hash="h",
                    station_id="s", started_at_s=t or time.time(), toolkit_version="t")
    st.begin_run(run)
    recs = []
    for lane, v in enumerate(values):
        o, m = judge(v, None, hi)
        recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="tx", name="tdecq_db",
                                      value=v, unit="dB", outcome=o, lane=lane, high_limit=hi,
                                      margin=m))
    st.add_measurements(recs)
    if status is not RunStatus.RUNNING:
        st.end_run(run.run_id, status=status, outcome=outcome)
    return run


def test_cpk_closed_form():
    # mean 1, sigma 0.5, USL 3.4: (3.4-1)/(1.5) = 1.6 ; two-sided takes the nearer limit
    assert cpk(1.0, 0.5, None, 3.4) == pytest.approx(1.6)
    assert cpk(1.0, 0.5, 0.7, 3.4) == pytest.approx(0.2)
    assert cpk(1.0, 0.0, None, 3.4) is None
    assert cpk(1.0, 0.5, None, None) is None


def test_yield_fpy_and_measurement_stats(tmp_path):
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        t0 = time.time()
        add_run(st, "A", [1.0, 1.5], Outcome.PASS, t=t0)
        add_run(st, "B", [3.6, 2.0], Outcome.FAIL, t=t0 + 1)       # fails first ...
        add_run(st, "B", [2.1, 2.0], Outcome.PASS, t=t0 + 2)       # ... passes on retest
        add_run(st, "C", [3.9, 3.8], Outcome.FAIL, t=t0 + 3)
        add_run(st, "D", [1.2, 1.1], Outcome.MARGINAL, t=t0 + 4)
        s = lot_stats(st)
        every = lot_stats(st, runs="all")
        first = lot_stats(st, runs="first")
    assert s.n_modules == 4 and s.n_runs == 5 and s.runs_policy == "last"
    assert s.yield_fraction == pytest.approx(3 / 4)           # A, B (retest), D
    assert s.first_pass_yield == pytest.approx(2 / 4)         # A, D
    assert s.module_outcomes == {"A": "PASS", "B": "PASS", "C": "FAIL", "D": "MARGINAL"}
    # default: the last run of each module -- B's failed first run is not in the distribution
    (m,) = s.measurements
    vals = np.array([1.0, 1.5, 2.1, 2.0, 3.9, 3.8, 1.2, 1.1])
    assert m.n == vals.size and m.n_fail == 2
    assert m.mean == pytest.approx(vals.mean())
    assert m.sigma == pytest.approx(vals.std(ddof=1))
    assert m.cpk == pytest.approx((3.4 - vals.mean()) / (3 * vals.std(ddof=1)))
    assert sum(m.histogram_counts) == vals.size
    # every run: 10 values, yield over runs (A, B retest, D of 5)
    (ma,) = every.measurements
    all_vals = np.array([1.0, 1.5, 3.6, 2.0, 2.1, 2.0, 3.9, 3.8, 1.2, 1.1])
    assert ma.n == 10 and ma.n_fail == 3 and ma.mean == pytest.approx(all_vals.mean())
    assert every.yield_fraction == pytest.approx(3 / 5) and every.first_pass_yield == pytest.approx(2 / 4)
    # first runs: B's failing first run instead of its retest; yield = FPY
    (mf,) = first.measurements
    assert mf.mean == pytest.approx(np.array([1.0, 1.5, 3.6, 2.0, 3.9, 3.8, 1.2, 1.1]).mean())
    assert first.yield_fraction == pytest.approx(2 / 4) == first.first_pass_yield
    d = s.to_dict()
    assert d["yield"] == pytest.approx(0.75)
    assert {"yield", "first_pass_yield", "by_temperature", "pareto", "control_charts", "measurements",
            "repeatability"} <= set(d)
    assert "Cpk" in s.to_text()
    html = s.to_html()
    assert html.startswith("<!DOCTYPE html>") and "base64" in html


def test_incomplete_run_is_not_a_pass(tmp_path):
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        add_run(st, "A", [1.0], Outcome.PASS, status=RunStatus.INCOMPLETE)
        s = lot_stats(st)
    assert s.yield_fraction == 0.0 and s.n_incomplete_runs == 1
    assert s.module_outcomes["A"] == "INCOMPLETE"


def test_empty_store_is_an_error_unless_allowed(tmp_path):
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        with pytest.raises(EmptyLot, match="holds no runs"):
            lot_stats(st)
        s = lot_stats(st, allow_empty=True)
    assert s.n_modules == 0 and s.yield_fraction is None and s.measurements == ()


def test_since_selects_whole_runs_for_yield_and_measurements_alike(tmp_path):
    """--since must not count the late records of a run it leaves out (nor the reverse)."""
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        t_old = time.time() - 3600.0
        add_run(st, "OLD", [1.0, 1.2], Outcome.PASS, t=t_old)   # started an hour ago, records taken now
        add_run(st, "NEW", [2.0, 2.2], Outcome.PASS)
        s = lot_stats(st, since_s=t_old + 60.0)
    assert s.n_runs == 1 and set(s.module_outcomes) == {"NEW"}
    (m,) = s.measurements
    assert m.n == 2 and m.mean == pytest.approx(2.1)


def test_since_in_the_future_and_unknown_plan_are_errors_naming_what_the_database_holds(tmp_path):
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        add_run(st, "A", [1.0], Outcome.PASS)
        with pytest.raises(EmptyLot, match=r"no run of plan 'no-such-plan'; plans in the database: 'p'"):
            lot_stats(st, plan_name="no-such-plan")
        with pytest.raises(EmptyLot, match=r"no run started at or after .* UTC; the latest started"):
            lot_stats(st, since_s=time.time() + 86400.0)
        for s in (lot_stats(st, since_s=time.time() + 86400.0, allow_empty=True),
                  lot_stats(st, plan_name="no-such-plan", allow_empty=True)):
            assert s.n_modules == 0 and s.yield_fraction is None and s.measurements == ()
            assert "n/a" in s.to_text() and s.to_dict()["yield"] is None


def test_a_run_stopped_by_an_invalid_plan_is_not_the_modules_first_pass(tmp_path):
    """An operator's plan typo (record_plan_error: no instrument touched, no module tested) must
    not count as the module's failed first pass, nor as a module of its own."""
    from optics.errors import ConfigError
    from optics.station.runner import record_plan_error

    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        t0 = time.time()
        record_plan_error(st, serial="A", plan_path=str(tmp_path / "typo.toml"), error=ConfigError("bad key"))
        record_plan_error(st, serial="unknown", plan_path=str(tmp_path / "typo.toml"), error=ConfigError("bad"))
        add_run(st, "A", [1.0], Outcome.PASS, t=t0 + 1)
        add_run(st, "B", [3.9], Outcome.FAIL, t=t0 + 2)
        s = lot_stats(st)
    assert s.n_modules == 2 and set(s.module_outcomes) == {"A", "B"}
    assert s.first_pass_yield == pytest.approx(0.5) and s.yield_fraction == pytest.approx(0.5)
    assert s.n_runs == 4


def test_since_counts_no_retest_as_a_first_pass(tmp_path):
    """A module failed before the window and passed on retest inside it: in the yield, not a first pass."""
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        t0 = time.time() - 3600.0
        add_run(st, "B", [3.9], Outcome.FAIL, t=t0)                 # before the window
        add_run(st, "B", [2.0], Outcome.PASS, t=t0 + 1800.0)        # retest in the window
        add_run(st, "C", [1.0], Outcome.PASS, t=t0 + 1900.0)        # first tested in the window
        window = lot_stats(st, since_s=t0 + 60.0)
        whole = lot_stats(st)
    assert window.n_modules == 2 and window.yield_fraction == pytest.approx(1.0)
    assert window.first_pass_yield == pytest.approx(1 / 2)          # C only
    assert whole.first_pass_yield == pytest.approx(1 / 2) and whole.yield_fraction == pytest.approx(1.0)
