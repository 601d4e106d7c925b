"""Whole ``optics station run`` processes on either back end: kill -9 mid-run loses no record the
station reported, 8 stations testing into one database at once lose and duplicate nothing."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optics.station.records import RunStatus
from optics.station.runner import format_record

ROOT = Path(__file__).resolve().parents[3]

PLAN = textwrap.dedent(
    """\
    name = "stations"
    phy = "800GBASE-DR8"
    lanes = {lanes}
    temperatures_c = {temps}

    [thermal]
    soak_s = 5.0

    [[step]]
    name = "tx"
    kind = "tx"
    limits = ["average_power_dbm", "tdecq_db"]
    settings = {{ export_eye = false }}
    """
)


def station(plan, db, serial, *extra, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "optics", "station", "run", "--plan", str(plan), "--db", db,
                             "--serial", serial, *extra], text=True, env=env, cwd=plan.parent, **kw)


def test_kill_9_mid_run_keeps_every_finished_record(tmp_path, backend):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(lanes=8, temps=[25.0, 70.0]))
    proc = station(plan, backend.target, "SNKILL", stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    printed = []
    try:
        while len(printed) < 12:
            line = proc.stderr.readline()
            assert line, f"station ended early: {proc.wait()}"
            printed.append(line.rstrip("\n"))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with backend.open(read_only=True) as store:
        (run,) = store.runs()
        records = store.measurements(run_id=run.run_id)
    assert run.status is RunStatus.INCOMPLETE        # its process is gone (this host)
    # each progress line is printed after its record is committed: all of them are stored, in order, once
    assert [format_record(r) for r in records[: len(printed)]] == printed
    keys = [(r.step, r.name, r.lane, r.temperature_c) for r in records]
    assert len(keys) == len(set(keys))
    assert len(records) < 2 * 8 * 8 + 2              # the plan was not finished


@pytest.mark.slow
def test_eight_stations_one_database(tmp_path, backend):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(lanes=2, temps=[]))
    procs = [station(plan, backend.target, f"SN{k}", "--json", "--quiet", "--station-id", f"st{k}",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k in range(8)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [o[1][-500:] for o in outs]
    reported = [json.loads(o[0]) for o in outs]
    with backend.open(read_only=True) as store:
        runs = store.runs()
        stored = store.measurements()
    assert len(runs) == 8 and all(r.status is RunStatus.COMPLETE for r in runs)
    for rep in reported:
        mine = [m for m in stored if m.run_id == rep["run_id"]]
        assert len(mine) == len(rep["records"]) == 2 * 8
        assert [(m.name, m.lane, m.value) for m in mine] == [(r["name"], r["lane"], r["value"]) for r in rep["records"]]
    assert len(stored) == 8 * 2 * 8
