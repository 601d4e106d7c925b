"""Lot statistics a line engineer expects: split by temperature and lane, retest policy,
conditions, per-record limits, Pareto, yield by temperature, throughput, both read paths."""

import time
import uuid

import numpy as np
import pytest

from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.stats import lot_stats
from optics.station.store import ResultStore, SQLiteStore


def run_with(st, serial, rows, *, t, station="s1", plan="p", duration_s=60.0, outcome=None):
    """rows: (step, name, unit, lane, temp, value, low, high); judged against their own limits."""
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name=plan, plan_hash="h", station_id=station,
                    started_at_s=t, toolkit_version="t")
    st.begin_run(run)
    recs = []
    for step, name, unit, lane, temp, v, lo, hi in rows:
        o, m = judge(v, lo, hi)
        recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step=step, name=name, value=v, unit=unit,
                                      outcome=o, lane=lane, temperature_c=temp, low_limit=lo, high_limit=hi,
                                      margin=m, taken_at_s=t))
    st.add_measurements(recs)
    bad = any(r.outcome is Outcome.FAIL for r in recs)
    st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=outcome or ("FAIL" if bad else "PASS"))
    # the store stamps ended_at_s with the wall clock; throughput tests use their own
    return run


def test_retest_counts_once_per_lane_and_temperatures_are_not_pooled(tmp_path):
    """The issue's example: SN0001 tested twice must not give n = 48 for 16 lanes; 25 and 70 °C
    have their own mean, σ and Cpk."""
    rng = np.random.default_rng(3)
    t0 = time.time() - 3600
    values = {}
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        for k, serial in enumerate(["SN0001", "SN0002", "SN0001"]):      # SN0001 retested last
            rows = []
            for temp, centre in ((25.0, 1.5), (70.0, 2.5)):
                for lane in range(8):
                    v = float(rng.normal(centre, 0.2))
                    rows.append(("tx", "tdecq_db", "dB", lane, temp, v, None, 3.4))
                    values[(k, temp, lane)] = v
                rows.append(("thermal", "case_temperature_c", "°C", None, temp, temp + 0.3, None, None))
            run_with(st, serial, rows, t=t0 + k)
        s = lot_stats(st)
        every = lot_stats(st, runs="all")
    tdecq = [m for m in s.measurements if m.name == "tdecq_db"]
    assert [m.temperature_c for m in tdecq] == [25.0, 70.0]
    for m in tdecq:
        v = np.array([values[(k, m.temperature_c, lane)] for k in (1, 2) for lane in range(8)])   # last runs
        assert m.n == 16 and m.mean == pytest.approx(v.mean()) and m.sigma == pytest.approx(v.std(ddof=1))
        assert m.cpk == pytest.approx((3.4 - v.mean()) / (3 * v.std(ddof=1)))
        assert [lane.lane for lane in m.lanes] == list(range(8)) and all(lane.n == 2 for lane in m.lanes)
        lane3 = np.array([values[(k, m.temperature_c, 3)] for k in (1, 2)])
        assert m.lanes[3].mean == pytest.approx(lane3.mean()) and m.lanes[3].sigma == pytest.approx(lane3.std(ddof=1))
    assert [m.n for m in every.measurements if m.name == "tdecq_db"] == [24, 24]
    # the case temperature is a condition, not a measurement
    assert not [m for m in s.measurements if m.name == "case_temperature_c"]
    assert [(c["name"], c["temperature_c"], c["minimum"], c["maximum"]) for c in s.conditions] == [
        ("case_temperature_c", 25.0, 25.3, 25.3), ("case_temperature_c", 70.0, 70.3, 70.3)]
    assert "case_temperature_c" not in s.repeatability


def test_a_limit_that_depends_on_another_metric_is_judged_per_record(tmp_path):
    """OMA−TDECQ's floor follows each lane's ER: every record against its own limit; Cpk on the
    distance to each record's limit (independent computation below)."""
    lows = [-2.2, -1.8, -1.4, -2.2, -1.0, -2.2]
    vals = [-1.0, -1.9, -0.5, -2.0, -0.9, -1.5]         # lane 1 below its own -1.8 floor: FAIL
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        for k in range(2):
            run_with(st, f"M{k}", [("tx", "oma_minus_tdecq_dbm", "dBm", lane, 25.0, vals[3 * k + lane],
                                    lows[3 * k + lane], None) for lane in range(3)], t=time.time() + k)
        s = lot_stats(st)
    (m,) = s.measurements
    d = np.array(vals) - np.array(lows)
    assert m.n_fail == 1 and m.limits_per_record and m.low_limit_range == (-2.2, -1.0)
    assert m.cpk == pytest.approx(d.mean() / (3 * d.std(ddof=1)))
    assert m.low_limit == -2.2                                   # the most frequent floor, for display
    assert "per rec" in s.to_text()


def test_pareto_by_measurement_and_step_and_yield_by_temperature(tmp_path):
    def rows(fail_tdecq_25=False, fail_er_70=False, fail_sens=False):
        return [("tx", "tdecq_db", "dB", 0, 25.0, 3.6 if fail_tdecq_25 else 2.0, None, 3.4),
                ("tx", "tdecq_db", "dB", 1, 25.0, 3.7 if fail_tdecq_25 else 2.0, None, 3.4),
                ("tx", "extinction_ratio_db", "dB", 0, 70.0, 3.0 if fail_er_70 else 4.0, 3.5, None),
                ("rx", "rx_sensitivity_oma_dbm", "dBm", 0, 70.0, -3.0 if fail_sens else -6.0, None, -4.4)]

    t0 = time.time()
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        run_with(st, "A", rows(fail_tdecq_25=True, fail_er_70=True), t=t0)
        run_with(st, "B", rows(fail_tdecq_25=True), t=t0 + 1)
        run_with(st, "C", rows(fail_sens=True), t=t0 + 2)
        run_with(st, "D", rows(), t=t0 + 3)
        s = lot_stats(st)
    by_m = [(p["key"], p["n_modules"], p["n_records"]) for p in s.pareto["by_measurement"]]
    assert by_m == [("tdecq_db", 2, 4), ("extinction_ratio_db", 1, 1), ("rx_sensitivity_oma_dbm", 1, 1)]
    assert [p["cumulative_fraction"] for p in s.pareto["by_measurement"]] == pytest.approx([0.5, 0.75, 1.0])
    assert [(p["key"], p["n_modules"]) for p in s.pareto["by_step"]] == [("tx", 2), ("rx", 1)]
    by_t = {t["temperature_c"]: (t["n_tested"], t["n_pass"]) for t in s.by_temperature}
    assert by_t == {25.0: (4, 2), 70.0: (4, 2)}                  # 25: A, B fail; 70: A (ER), C (sens)
    assert s.yield_fraction == pytest.approx(1 / 4)


def test_throughput_per_station(tmp_path):
    """Runs of 10 min every 20 min on station s1 for 2 h: 7 runs between t0 and t0 + 2 h 10 min."""
    t0 = 1_700_000_000.0
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        ids = [run_with(st, f"S{k}", [("tx", "tdecq_db", "dB", 0, 25.0, 2.0, None, 3.4)], t=t0 + 1200.0 * k).run_id
               for k in range(7)]
        run_with(st, "OTHER", [("tx", "tdecq_db", "dB", 0, 25.0, 2.0, None, 3.4)], t=t0, station="s2")
        # end times as a station would have set them (the store stamps the wall clock)
        for k, rid in enumerate(ids):
            st._conn.execute("UPDATE runs SET ended_at_s = ? WHERE run_id = ?", (t0 + 1200.0 * k + 600.0, rid))
        s = lot_stats(st)
    s1 = s.throughput["by_station"]["s1"]
    hours = (6 * 1200.0 + 600.0) / 3600.0
    assert s1["n_runs"] == 7 and s1["hours"] == pytest.approx(hours)
    assert s1["modules_per_hour"] == pytest.approx(7 / hours) and s1["mean_test_time_s"] == pytest.approx(600.0)
    assert set(s.throughput["by_station"]) == {"s1", "s2"}


class ReadAPIOnly(ResultStore):
    """A store offering only the read API (no SQL connection): the generic read paths."""

    def __init__(self, inner, columns=True):
        self.inner = inner
        if not columns:                 # a store without the column read: measurements() it is
            self.measurement_columns = None

    def add_measurements(self, records):
        raise NotImplementedError

    def close_stale_runs(self):
        raise NotImplementedError

    def close(self):
        pass

    def measurement_columns(self, **kw):
        return self.inner.measurement_columns(**kw)

    def begin_run(self, run):
        raise NotImplementedError

    def add_measurement(self, record):
        raise NotImplementedError

    def end_run(self, run_id, *, status, outcome, note=""):
        raise NotImplementedError

    def runs(self, **kw):
        return self.inner.runs(**kw)

    def measurements(self, **kw):
        return self.inner.measurements(**kw)


def test_the_store_read_api_and_the_column_read_give_the_same_statistics(tmp_path):
    rng = np.random.default_rng(5)
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        t0 = time.time()
        for k in range(6):
            rows = [("tx", name, "dB", lane, temp, float(rng.normal(2.0, 0.5)), lo, hi)
                    for temp in (25.0, 70.0) for lane in range(4)
                    for name, lo, hi in (("tdecq_db", None, 3.4), ("extinction_ratio_db", 3.5, None))]
            rows.append(("thermal", "case_temperature_c", "°C", None, 25.0, 25.2, None, None))
            run_with(st, f"M{k % 4}", rows, t=t0 + k, plan="p" if k < 5 else "q")
        for kw in ({}, {"plan_name": "p", "runs": "all"}, {"since_s": t0 + 2, "runs": "first"}):
            try:
                fast = lot_stats(st, **kw).to_dict()
                columns = lot_stats(ReadAPIOnly(st), **kw).to_dict()
                records = lot_stats(ReadAPIOnly(st, columns=False), **kw).to_dict()
            except Exception as exc:            # pragma: no cover - shown in the failure
                raise AssertionError(f"{kw}: {exc}") from exc
            assert columns == fast, kw
            assert records == fast, kw
    assert fast["n_modules"] > 0 and fast["measurements"]
