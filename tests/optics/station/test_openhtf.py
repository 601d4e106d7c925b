"""A station run as an OpenHTF test record: the fields OpenHTF's JSON output has, filled from the store."""

import json
import time
import uuid

import pytest

from optics.station.openhtf import openhtf_record
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.report import write_report
from optics.station.store import SQLiteStore

# the keys of OpenHTF's TestRecord.as_base_types(), its phase records and measurements
RECORD_KEYS = {"dut_id", "station_id", "start_time_millis", "end_time_millis", "outcome", "outcome_details",
               "marginal", "metadata", "code_info", "phases", "subtests", "branches", "diagnosers", "diagnoses",
               "log_records"}
PHASE_KEYS = {"name", "descriptor_id", "codeinfo", "start_time_millis", "end_time_millis", "outcome", "marginal",
              "result", "measurements", "attachments", "diagnosers", "diagnosis_results", "failure_diagnosis_results",
              "subtest_name"}


def stored_run(store, *, end=True):
    t0 = time.time()
    run = RunRecord(run_id=str(uuid.uuid4()), serial="SNHTF", plan_name="dr8", plan_hash="ab" * 32,
                    station_id="st3", started_at_s=t0, toolkit_version="0.1.0", bench={"scope": "N1000A"})
    store.begin_run(run)
    for t in (25.0, 70.0):
        for lane, v in enumerate((1.2, 3.35, 3.9)):               # PASS, MARGINAL, FAIL (guard 0.2)
            o, m = judge(v, None, 3.4, guard_band=0.2)
            store.add_measurement(MeasurementRecord(
                run_id=run.run_id, serial=run.serial, step="tx", name="tdecq_db", value=v, unit="dB", outcome=o,
                lane=lane, temperature_c=t, high_limit=3.4, margin=m, spec_ref="124 Tx table"))
    store.add_measurement(MeasurementRecord(
        run_id=run.run_id, serial=run.serial, step="rx", name="rx_sensitivity_oma_dbm", value=None, unit="dBm",
        outcome="ERROR", lane=0, temperature_c=70.0, low_limit=-9.0, high_limit=-3.0,
        message="InstrumentTimeout: no reply"))
    if end:
        store.end_run(run.run_id, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR, note="BERT stopped answering")
    return run


def test_record_phases_and_measurements_follow_the_openhtf_layout(tmp_path):
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = stored_run(store)
        paths = write_report(store, run.run_id, tmp_path / "out")
        (stored,) = store.runs()
        rec = openhtf_record(stored, store.measurements(run_id=run.run_id))
    assert json.loads(paths.openhtf.read_text(encoding="utf-8")) == rec   # the report writes the same record
    assert set(rec) == RECORD_KEYS
    assert rec["dut_id"] == "SNHTF" and rec["station_id"] == "st3" and rec["outcome"] == "ERROR"
    assert rec["start_time_millis"] == round(run.started_at_s * 1000) <= rec["end_time_millis"]
    assert rec["outcome_details"] == [{"code": "INCOMPLETE", "description": "BERT stopped answering"}]
    assert rec["metadata"]["test_name"] == "dr8" and rec["metadata"]["run_id"] == run.run_id
    # one phase per step and temperature, in the order they ran
    assert [p["name"] for p in rec["phases"]] == ["tx@25C", "tx@70C", "rx@70C"]
    for p in rec["phases"]:
        assert set(p) == PHASE_KEYS and p["result"] == {"phase_result": "CONTINUE"}
    tx25 = rec["phases"][0]
    assert tx25["outcome"] == "FAIL" and tx25["marginal"] is True
    m = tx25["measurements"]
    assert list(m) == ["tdecq_db_lane0", "tdecq_db_lane1", "tdecq_db_lane2"]
    assert m["tdecq_db_lane0"] == {"name": "tdecq_db_lane0", "outcome": "PASS", "measured_value": 1.2,
                                   "validators": ["x <= 3.4"], "docstring": "124 Tx table",
                                   "units": {"name": "decibel", "code": "2N", "suffix": "dB"}}
    assert m["tdecq_db_lane1"]["outcome"] == "PASS" and m["tdecq_db_lane1"]["marginal"] is True
    assert m["tdecq_db_lane2"]["outcome"] == "FAIL"
    rx = rec["phases"][2]
    assert rx["outcome"] == "ERROR"
    sens = rx["measurements"]["rx_sensitivity_oma_dbm_lane0"]
    assert sens["outcome"] == "UNSET" and "measured_value" not in sens
    assert sens["validators"] == ["-9.0 <= x <= -3.0"] and "InstrumentTimeout" in sens["docstring"]
    assert len(rec["log_records"]) == 1 and rec["log_records"][0]["level"] == 40


@pytest.mark.parametrize("outcome, expected", [(Outcome.PASS, "PASS"), (Outcome.MARGINAL, "PASS"),
                                               (Outcome.FAIL, "FAIL")])
def test_complete_run_outcomes(tmp_path, outcome, expected):
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = stored_run(store, end=False)
        store.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=outcome)
        (stored,) = store.runs()
        rec = openhtf_record(stored, store.measurements(run_id=run.run_id))
    assert rec["outcome"] == expected and rec["marginal"] is (outcome is Outcome.MARGINAL)
    assert rec["outcome_details"] == []


def test_repeated_measurement_keeps_both_values(tmp_path):
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = stored_run(store, end=False)
        store.add_measurement(MeasurementRecord(
            run_id=run.run_id, serial=run.serial, step="tx", name="tdecq_db", value=1.1, unit="dB",
            outcome="PASS", lane=0, temperature_c=25.0, high_limit=3.4))
        rec = openhtf_record(run, store.measurements(run_id=run.run_id))
    m = rec["phases"][0]["measurements"]
    assert m["tdecq_db_lane0"]["measured_value"] == 1.2 and m["tdecq_db_lane0#2"]["measured_value"] == 1.1
    assert rec["outcome"] is None            # still running: no outcome yet
