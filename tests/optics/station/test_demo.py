import io
import re
from pathlib import Path

import pytest

from optics.station.demo import DEFAULT_PLAN, run_demo_lot


DEFECTIVE = Path(__file__).resolve().parents[1] / "volume" / "defective-dr8.toml"


def test_demo_lot_one_lane(tmp_path):
    # the shipped plan cut to one lane: same steps, limits, temperatures; a population whose
    # weak lasers are frequent, so the lot holds failing modules
    text = DEFAULT_PLAN.read_text().replace("lanes = 8", "lanes = 1").replace("export_eye = true",
                                                                             "export_eye = false")
    assert "lanes = 1" in text and "export_eye = false" in text
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    out = io.StringIO()
    res = run_demo_lot(tmp_path / "lot", n_modules=4, plan=plan, out=out, population=DEFECTIVE)
    outcomes = [m.outcome for m in res.modules]
    # the station on the virtual bench reaches the verdicts yield prediction gives the same serials
    assert outcomes == [m.predicted for m in res.modules]
    assert "FAIL" in outcomes and "PASS" in outcomes
    weak = next(m for m in res.modules if m.outcome == "FAIL")
    assert "weak laser die (lane 0)" in weak.note and all("L0" in f for f in weak.failed)
    n_pass = sum(o in ("PASS", "MARGINAL") for o in outcomes)
    assert res.stats.yield_fraction == pytest.approx(n_pass / 4) and res.stats.n_modules == 4
    text = out.getvalue()
    assert "weak laser die" in text and "Cpk" in text and f"yield: {100 * n_pass / 4:.1f} %" in text
    assert "(predicted FAIL)" in text
    for m in res.modules:
        assert m.html.is_file() and m.csv.is_file()
        assert re.search(rf"<title>{m.serial}: {m.outcome}</title>", m.html.read_text())
    assert res.lot_html.read_text().startswith("<!DOCTYPE html>") and Path(res.db).is_file()


@pytest.mark.slow
def test_full_demo_lot(tmp_path):
    res = run_demo_lot(tmp_path / "lot", n_modules=5, out=None)
    assert [m.outcome for m in res.modules] == [m.predicted for m in res.modules]
    assert any(m.outcome == "FAIL" for m in res.modules)            # the population's weak laser die
    assert all(m.n_records == 2 + 2 * 8 * 10 for m in res.modules)   # thermal + (8 tx + 2 rx) per lane-temperature
    assert res.modules[0].html.read_text().count("data:image/png") == 16 + 2


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
