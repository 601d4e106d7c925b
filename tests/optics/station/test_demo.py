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
