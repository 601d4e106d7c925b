"""Lot statistics, the lot page and ``optics lot stats`` on both store back ends (an SQLite file
and a real PostgreSQL server: conftest.py), through the column read and the store's read API."""

import json
import time
import uuid

import numpy as np
import pytest

from optics.cli import main
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.stats import EmptyLot, lot_stats

from test_stats_lot import ReadAPIOnly


def fill(store, rng):
    """3 modules x 2 temperatures x 4 lanes, module M1 retested; OMA-TDECQ floor per record."""
    values = {}
    t0 = time.time() - 60
    for k, serial in enumerate(["M0", "M1", "M2", "M1"]):
        run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="800G-DR8", plan_hash="h",
                        station_id="st", started_at_s=t0 + k, toolkit_version="t")
        store.begin_run(run)
        recs = []
        for temp in (25.0, 70.0):
            recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="thermal", name="case_temperature_c",
                                          value=temp + 0.1, unit="°C", outcome=Outcome.PASS, temperature_c=temp))
            for lane in range(4):
                v = float(rng.normal(2.0 if temp == 25.0 else 2.6, 0.3))
                lo = -2.2 - 0.1 * lane
                w = float(rng.normal(-1.0, 0.4))
                values[(k, temp, lane)] = (v, w, lo)
                for name, unit, x, low, high in (("tdecq_db", "dB", v, None, 3.4),
                                                 ("oma_minus_tdecq_dbm", "dBm", w, lo, None)):
                    o, m = judge(x, low, high)
                    recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="tx", name=name, value=x,
                                                  unit=unit, outcome=o, lane=lane, temperature_c=temp, low_limit=low,
                                                  high_limit=high, margin=m))
        store.add_measurements(recs)
        store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)
    return values


def test_lot_statistics_on_each_back_end(backend, capsys):
    rng = np.random.default_rng(8)
    with backend.open() as store:
        values = fill(store, rng)
        s = lot_stats(store)
        generic = lot_stats(ReadAPIOnly(store)).to_dict()
        with pytest.raises(EmptyLot, match="no run of plan 'X'"):
            lot_stats(store, plan_name="X")
        page = s.to_html()
    assert generic == s.to_dict()
    last = (0, 2, 3)                                  # M1's retest (run 3) replaces its first run
    for m in s.measurements:
        k = 0 if m.name == "tdecq_db" else 1
        x = np.array([values[(r, m.temperature_c, lane)][k] for r in last for lane in range(4)])
        assert m.n == 12 and m.mean == pytest.approx(x.mean()) and m.sigma == pytest.approx(x.std(ddof=1))
        if m.name == "oma_minus_tdecq_dbm":
            d = x - np.array([values[(r, m.temperature_c, lane)][2] for r in last for lane in range(4)])
            assert m.limits_per_record and m.cpk == pytest.approx(d.mean() / (3 * d.std(ddof=1)))
    rep = np.sqrt(np.mean([np.var([values[(r, t, lane)][0] for r in (1, 3)], ddof=1)
                           for t in (25.0, 70.0) for lane in range(4)]))   # equal groups of 2: pooled = RMS
    assert s.repeatability["tdecq_db"] == pytest.approx(rep)
    assert [c["name"] for c in s.conditions] == ["case_temperature_c"] * 2
    assert "<table id='modules'>" in page and page.count("<tr class='module'>") == 3
    assert main(["lot", "stats", "--db", backend.target, "--json", "--runs", "all"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_modules"] == 3 and [m["n"] for m in d["measurements"]] == [16, 16, 16, 16]
    assert main(["lot", "stats", "--db", backend.target, "--plan", "NO-SUCH-PLAN"]) == 2
    assert "no run of plan 'NO-SUCH-PLAN'" in capsys.readouterr().err
