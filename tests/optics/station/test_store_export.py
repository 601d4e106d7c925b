"""``optics lot export``: every record of the lot, with its run, read back from the CSV exactly, on
both back ends."""

import csv
import time
import uuid

from optics.cli import main
from optics.station.export import EXPORT_COLUMNS, export_lot
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus


def lot(backend):
    """Two complete runs of plan p1 (values with 17 digits, limits absent on one side, a message
    that starts like a formula), one run of p2 left running by a gone process."""
    t0 = time.time()
    runs = [RunRecord(run_id=str(uuid.uuid4()), serial=f"SN{k}", plan_name=plan, plan_hash="h", station_id="st",
                      started_at_s=t0 + k, toolkit_version="t", **extra)
            for k, (plan, extra) in enumerate((("p1", {}), ("p1", {}), ("p2", {"pid": 999_999_999})))]
    recs = []
    with backend.open() as st:
        for k, run in enumerate(runs):
            st.begin_run(run)
            mine = [MeasurementRecord(run_id=run.run_id, serial=run.serial, step="tx", name="tdecq_db",
                                      value=2.0 + k / 3 + lane * 1e-13, unit="dB", outcome="PASS", lane=lane,
                                      temperature_c=25.0, high_limit=3.4, margin=1.4 - k / 3,
                                      message="=HYPERLINK(x)" if lane == 1 else "")
                    for lane in range(2)]
            mine.append(MeasurementRecord(run_id=run.run_id, serial=run.serial, step="ddm", name="bias_ma",
                                          value=-7.25, unit="mA", outcome="FAIL", low_limit=0.0))
            st.add_measurements(mine)
            recs += mine
            if run.plan_name == "p1":
                st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.FAIL)
    return runs, recs


def test_export_reads_back_every_record_exactly(backend, tmp_path):
    runs, recs = lot(backend)
    out = tmp_path / "lot.csv"
    with backend.open(read_only=True) as st:
        result = export_lot(st, out, batch_rows=2)
    assert (result.n_runs, result.n_records) == (3, 9)
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(EXPORT_COLUMNS) and len(rows) == len(recs)
    for row, rec in zip(rows, recs):
        assert (row["run_id"], row["serial"], row["step"], row["name"]) == (rec.run_id, rec.serial, rec.step, rec.name)
        assert float(row["value"]) == rec.value and row["outcome"] == rec.outcome.value
        assert row["lane"] == ("" if rec.lane is None else str(rec.lane))
        assert row["high_limit"] == ("" if rec.high_limit is None else repr(rec.high_limit))
        assert float(row["taken_at_s"]) == rec.taken_at_s
    assert rows[1]["message"] == "'=HYPERLINK(x)" and rows[2]["value"] == "-7.25"
    by_run = {r["run_id"]: (r["run_status"], r["run_outcome"]) for r in rows}
    assert by_run[runs[0].run_id] == ("complete", "FAIL")
    assert by_run[runs[2].run_id] == ("incomplete", "ERROR")      # its process is gone, as runs() reports it


def test_export_command_selects_the_plan_and_refuses_an_empty_lot(backend, tmp_path, capsys):
    lot(backend)
    out = tmp_path / "p1.csv"
    assert main(["lot", "export", "--db", backend.target, "--plan", "p1", str(out)]) == 0
    assert "6 records of 2 runs" in capsys.readouterr().out
    with out.open(newline="") as fh:
        assert {r["plan_name"] for r in csv.DictReader(fh)} == {"p1"}
    assert main(["lot", "export", "--db", backend.target, "--plan", "NO-SUCH-PLAN", str(tmp_path / "x.csv")]) == 2
    assert "no run of plan 'NO-SUCH-PLAN'" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


def test_parquet_export_holds_the_same_records_typed(backend, tmp_path, capsys):
    import math

    import pyarrow.parquet as pq

    runs, recs = lot(backend)
    out = tmp_path / "lot.parquet"
    assert main(["lot", "export", "--db", backend.target, str(out)]) == 0      # format from the suffix
    assert "9 records of 3 runs" in capsys.readouterr().out
    table = pq.read_table(out)
    assert table.column_names == list(EXPORT_COLUMNS) and table.num_rows == len(recs)
    assert str(table.schema.field("value").type) == "double" and str(table.schema.field("lane").type) == "int64"
    rows = table.to_pylist()
    for row, rec in zip(rows, recs):
        assert row["value"] == rec.value and row["lane"] == rec.lane and row["outcome"] == rec.outcome.value
        assert row["high_limit"] == rec.high_limit and row["taken_at_s"] == rec.taken_at_s
    assert rows[1]["message"] == "=HYPERLINK(x)"          # no spreadsheet escaping in typed data
    assert rows[2]["low_limit"] == 0.0 and rows[2]["lane"] is None
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())
    # an explicit format wins over the suffix
    assert main(["lot", "export", "--db", backend.target, "--format", "csv", str(tmp_path / "x.parquet")]) == 0
    assert (tmp_path / "x.parquet").read_text().startswith("run_id,")
