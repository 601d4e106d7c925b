"""Re-running the demo leaves no reports of runs no longer in its database."""

import io
import time
import uuid

import pytest

from optics.station.demo import DEFAULT_PLAN, remove_stale_reports, run_demo_lot
from optics.station.records import RunRecord
from optics.station.report import file_stem
from optics.station.store import SQLiteStore


def test_only_report_files_of_runs_not_in_the_database_are_removed(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    with SQLiteStore(tmp_path / "lot.sqlite") as st:
        kept = RunRecord(run_id=str(uuid.uuid4()), serial="LOT7/SN1", plan_name="p", plan_hash="h",
                         station_id="demo-station", started_at_s=time.time(), toolkit_version="t")
        st.begin_run(kept)
        runs = st.runs()
    stale_stem = file_stem("SN9", str(uuid.uuid4()))
    for stem in (file_stem(kept.serial, kept.run_id), stale_stem):
        for suffix in (".html", ".csv", ".openhtf.json"):
            (reports / f"{stem}{suffix}").write_text("x")
    (reports / "README.txt").write_text("mine")
    (reports / "summary.html").write_text("mine")                 # not a <serial>_<run> report
    removed = remove_stale_reports(reports, runs)
    assert sorted(p.name for p in removed) == sorted(f"{stale_stem}{s}" for s in (".csv", ".html", ".openhtf.json"))
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        ["README.txt", "summary.html"] + [f"{file_stem(kept.serial, kept.run_id)}{s}"
                                          for s in (".csv", ".html", ".openhtf.json")])
    assert remove_stale_reports(tmp_path / "absent", runs) == []


@pytest.mark.slow          # two demo lots on the virtual bench: ~12 s
def test_rerunning_the_demo_keeps_only_reports_of_its_runs(tmp_path):
    text = DEFAULT_PLAN.read_text().replace("lanes = 8", "lanes = 1").replace("export_eye = true", "export_eye = false")
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    first = run_demo_lot(tmp_path / "lot", n_modules=1, plan=plan, out=io.StringIO(), predict=False)
    second = run_demo_lot(tmp_path / "lot", n_modules=1, plan=plan, out=io.StringIO(), predict=False)
    assert first.modules[0].html != second.modules[0].html         # a new run id: a new report name
    with SQLiteStore(second.db, read_only=True) as st:
        stems = {file_stem(r.serial, r.run_id) for r in st.runs()}
    names = sorted(p.name for p in (tmp_path / "lot" / "reports").iterdir())
    assert names == sorted(f"{s}{x}" for s in stems for x in (".csv", ".html", ".openhtf.json"))
    page = second.lot_html.read_text()
    assert f"href='reports/{second.modules[0].html.name}'" in page
