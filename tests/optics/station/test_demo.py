import io
import re
from pathlib import Path

import pytest

from optics.station.demo import DEFAULT_PLAN, run_demo_lot


def test_demo_lot_one_lane(tmp_path):
    # the shipped plan cut to one lane (every defect moves to lane 0): same steps, limits, temperatures
    text = DEFAULT_PLAN.read_text().replace("lanes = 8", "lanes = 1").replace("export_eye = true",
                                                                             "export_eye = false")
    assert "lanes = 1" in text and "export_eye = false" in text
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    out = io.StringIO()
    res = run_demo_lot(tmp_path / "lot", n_modules=5, seed=11, plan=plan, out=out)
    assert [m.outcome for m in res.modules] == ["PASS", "FAIL", "PASS", "FAIL", "MARGINAL"]
    weak, hot, slow = res.modules[1], res.modules[3], res.modules[4]
    assert all("L0" in f for f in weak.failed) and any(f.startswith("average_power_dbm L0@25") for f in weak.failed)
    assert hot.failed and all("@70°C" in f for f in hot.failed)          # passes cold, fails hot
    assert slow.failed == (slow.failed[0],) and slow.failed[0].startswith("tdecq_db L0@70°C")
    assert res.stats.yield_fraction == pytest.approx(3 / 5) and res.stats.n_modules == 5
    text = out.getvalue()
    assert "weak laser" in text and "Cpk" in text and "yield: 60.0 %" in text
    for m in res.modules:
        assert m.html.is_file() and m.csv.is_file()
        assert re.search(rf"<title>{m.serial}: {m.outcome}</title>", m.html.read_text())
    assert res.lot_html.read_text().startswith("<!DOCTYPE html>") and Path(res.db).is_file()


@pytest.mark.slow
def test_full_demo_lot(tmp_path):
    res = run_demo_lot(tmp_path / "lot", n_modules=5, out=None)
    assert [m.outcome for m in res.modules] == ["PASS", "FAIL", "PASS", "FAIL", "MARGINAL"]
    assert all(m.n_records == 2 + 2 * 8 * 10 for m in res.modules)   # thermal + (8 tx + 2 rx) per lane-temperature
    assert res.modules[4].failed[0].startswith("tdecq_db L2@70°C")
    assert res.modules[1].html.read_text().count("data:image/png") == 16 + 2


def test_demo_never_deletes_a_database_holding_real_runs(tmp_path):
    """`optics station demo --out DIR` starts a fresh lot.sqlite in DIR; if that file holds runs
    of a real station, it must be refused, not unlinked."""
    import time
    import uuid

    from optics.errors import ConfigError
    from optics.station.records import RunRecord
    from optics.station.store import SQLiteStore

    db = tmp_path / "lot.sqlite"
    with SQLiteStore(db) as store:
        store.begin_run(RunRecord(run_id=str(uuid.uuid4()), serial="PROD0001", plan_name="800G-DR8",
                                  plan_hash="ab" * 32, station_id="line-3", started_at_s=time.time(),
                                  toolkit_version="0.1.0"))
    with pytest.raises(ConfigError, match=r"lot.sqlite holds 1 run\(s\) of other stations \(line-3\)"):
        run_demo_lot(tmp_path, n_modules=1)
    with SQLiteStore(db) as store:
        assert [r.serial for r in store.runs()] == ["PROD0001"]
