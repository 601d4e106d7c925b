"""Every report file is written to a temporary file and renamed into place: a report that fails
half-way leaves the previous one intact."""

import os
import time
import uuid

import pytest

from optics.station import report as report_module
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.report import write_report
from optics.station.stats import lot_stats
from optics.station.store import SQLiteStore


def stored_run(store, n=3):
    run = RunRecord(run_id=str(uuid.uuid4()), serial="SNATOM", plan_name="p", plan_hash="ab" * 32, station_id="st",
                    started_at_s=time.time(), toolkit_version="0.1.0")
    store.begin_run(run)
    store.add_measurements([MeasurementRecord(run_id=run.run_id, serial="SNATOM", step="tx", name="tdecq_db",
                                              value=1.0 + lane, unit="dB", outcome="PASS", lane=lane, high_limit=9.0,
                                              margin=8.0 - lane) for lane in range(n)])
    store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)
    return run


def test_a_csv_report_failing_mid_write_leaves_the_previous_report_intact(tmp_path, monkeypatch):
    out = tmp_path / "reports"
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = stored_run(store)
        first = write_report(store, run.run_id, out)
        before = {p: p.read_bytes() for p in out.iterdir()}
        store.add_measurement(MeasurementRecord(run_id=run.run_id, serial="SNATOM", step="rx", name="x", value=1.0,
                                                unit="", outcome="PASS", message="a later record"))
        real, calls = report_module.csv_text, []

        def failing(text):       # the disk fills up after the header and a few rows were written
            calls.append(text)
            if len(calls) > 30:
                raise OSError(28, "No space left on device")
            return real(text)

        monkeypatch.setattr(report_module, "csv_text", failing)
        with pytest.raises(OSError, match="No space left"):
            write_report(store, run.run_id, out)
    assert len(calls) > 30                                   # it did fail part-way through the rows
    assert {p: p.read_bytes() for p in out.iterdir()} == before   # every file as it was, nothing else
    assert first.csv.read_text(encoding="utf-8").count("\n") == 1 + 3


def test_every_report_file_is_renamed_into_place(tmp_path, monkeypatch):
    renamed = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renamed.append((src, dst)), real(src, dst)))
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = stored_run(store, n=2)
        paths = write_report(store, run.run_id, tmp_path / "out")
        stats = lot_stats(store)
    lot_html = stats.write_html(tmp_path / "lot.html")
    targets = {os.fspath(dst) for _, dst in renamed}
    assert {os.fspath(p) for p in (paths.html, paths.csv, paths.openhtf, lot_html)} <= targets
    assert all(os.path.dirname(src) == os.path.dirname(dst) for src, dst in renamed)
    assert paths.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert lot_html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in (paths.html, paths.csv, paths.openhtf))
