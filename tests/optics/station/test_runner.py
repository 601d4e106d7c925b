"""Station runs on the virtual bench: verdicts, faults, a silent module, reports."""

import csv
import dataclasses
import math
import textwrap

import numpy as np
import pytest
from scipy.special import erfcinv

from instruments.bench import BenchConfig
from optics.errors import ConfigError
from optics.station.bench_adapter import open_bench
from models.population import lane_tx_waveform
from optics.station.dut import design_module, nominal_module, with_lane
from optics.station.plan import load_plan
from optics.station.records import Outcome, RunStatus
from optics.station.report import CSV_COLUMNS, write_report
from optics.station.runner import load_artifacts, run_plan
from optics.station.store import SQLiteStore

PLAN = textwrap.dedent(
    """\
    name = "dr8-test"
    phy = "800GBASE-DR8"
    lanes = {lanes}
    temperatures_c = {temps}
    guard_band = 0.2

    [thermal]
    soak_s = 5.0

    [[step]]
    name = "tx"
    kind = "tx"
    retries = {retries}
    limits = ["average_power_dbm", "oma_outer_dbm", "extinction_ratio_db", "tdecq_db", "oma_minus_tdecq_dbm"]
    guard_bands = {{ tdecq_db = 0.3 }}

    [[step]]
    name = "rx"
    kind = "rx_sensitivity"
    retries = {retries}
    limits = ["rx_sensitivity_oma_dbm"]
    settings = {{ gate_time_s = 0.01, rx_path_offset_db = -0.5, reference_secq_db = 1.0 }}
    """
)

FAST = dataclasses.replace(BenchConfig.default(),
                           physics=dataclasses.replace(BenchConfig.default().physics, time_scale=1000.0))


def plan_file(tmp_path, lanes=8, temps=(25.0, 70.0), retries=1):
    p = tmp_path / "plan.toml"
    p.write_text(PLAN.format(lanes=lanes, temps=list(temps), retries=retries))
    return load_plan(p)


def expected_outcome(value, lo, hi, guard):
    """Independent judgement: FAIL outside, MARGINAL within the guard band inside, else PASS."""
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return "FAIL"
    dist = min(([value - lo] if lo is not None else []) + ([hi - value] if hi is not None else []))
    return "MARGINAL" if dist < guard else "PASS"


def test_full_run_verdicts_against_limits_and_physics(tmp_path):
    plan = plan_file(tmp_path)
    # lane 5's laser loses its threshold fast (T0 = 18 K): at 70 °C (80 °C chip) its APC servo would
    # need I_th + P/η = 170 mA + 165 mA, beyond its 250 mA limit, and its OMA falls below the limit
    module = with_lane(design_module("SNHOT"), 5, "hot laser (T0 18 K)", {"laser.t0_k": 18.0})
    with open_bench(FAST, module=module) as bench, SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan, bench, store, serial=module.serial, artifacts_dir=tmp_path / "art")
        stored = store.measurements(run_id=result.run.run_id)
        (run,) = store.runs()
        paths = write_report(store, result.run.run_id, tmp_path / "rep", artifacts=result.artifacts)
    # artifacts written as taken read back identically (a report can be rebuilt after a crash)
    back = load_artifacts(tmp_path / "art" / result.run.run_id)
    assert back.curves == result.artifacts.curves and len(result.artifacts.curves) == 16
    assert sorted(back.eyes) == sorted(result.artifacts.eyes) and len(back.eyes) == 16
    assert np.array_equal(back.eyes[(70.0, 5)].samples, result.artifacts.eyes[(70.0, 5)].samples)
    assert result.status is RunStatus.COMPLETE and run.status is RunStatus.COMPLETE
    assert result.outcome is Outcome.FAIL and run.outcome is Outcome.FAIL
    assert len(stored) == len(result.records)
    # every judged record: recompute the outcome from the stored value and limits
    judged = [m for m in stored if m.low_limit is not None or m.high_limit is not None]
    assert len(judged) == 2 * 8 * 6
    for m in judged:
        guard = 0.3 if m.name == "tdecq_db" else 0.2
        assert m.outcome.value == expected_outcome(m.value, m.low_limit, m.high_limit, guard), m
        lims = [m.value - m.low_limit] if m.low_limit is not None else []
        lims += [m.high_limit - m.value] if m.high_limit is not None else []
        assert m.margin == pytest.approx(min(lims), abs=1e-9)
    # the failures are exactly the hot laser's: lane 5, 70 °C, its OMA-related rows and (with the
    # die's solved temperature, ~84 °C at 70 °C case for this design) its average power too; the
    # values themselves are checked against the laser's physics below
    fails = {(m.lane, m.temperature_c, m.name) for m in stored if m.outcome is Outcome.FAIL}
    assert fails == {(5, 70.0, "oma_outer_dbm"), (5, 70.0, "oma_minus_tdecq_dbm"), (5, 70.0, "average_power_dbm")}
    # PHY limits as published: average power -2.9..4 dBm, TDECQ <= 3.4 dB, sensitivity <= -4.4 dBm
    by = {(m.lane, m.temperature_c, m.name): m for m in stored}
    assert (by[(0, 25.0, "average_power_dbm")].low_limit, by[(0, 25.0, "average_power_dbm")].high_limit) == (-2.9, 4.0)
    assert by[(0, 25.0, "tdecq_db")].high_limit == 3.4
    assert by[(0, 25.0, "rx_sensitivity_oma_dbm")].high_limit == -4.4
    # measured values agree with the module's physics (independent: the record's mean power, the
    # thermal-noise closed form of each lane's model receiver)
    for lane in range(8):
        for t in (25.0, 70.0):
            wf = lane_tx_waveform(module, lane, t)
            p_dbm = 10 * math.log10(float(np.mean(wf.samples)) / 1e-3)
            assert by[(lane, t, "average_power_dbm")].value == pytest.approx(p_dbm, abs=0.15)
            # sensitivity: BER = 0.75 Q(R OMA / (6 sigma)) = 2.4e-4 at the receiver input (thermal
            # noise; the model's shot noise adds ~0.2 dB)
            rx = module.module.lanes[lane].receiver
            q = math.sqrt(2) * erfcinv(2 * 2.4e-4 / 0.75)
            sens_dbm = 10 * math.log10(6 * rx.tia.noise_rms_a() * q / rx.photodiode.responsivity_a_per_w / 1e-3)
            assert by[(lane, t, "rx_sensitivity_oma_dbm")].value == pytest.approx(sens_dbm + 0.15, abs=0.35)
    # identities, version, plan hash in every record / the run
    assert run.plan_hash == plan.sha256 and run.toolkit_version
    assert "N1000A" in by[(0, 25.0, "tdecq_db")].instruments["scope"]
    assert "M8070B" in by[(0, 25.0, "rx_sensitivity_oma_dbm")].instruments["bert"]
    # the report: HTML with verdict, eyes and curves; CSV with one row per record
    text = paths.html.read_text()
    assert module.serial in text and "FAIL" in text and text.count("data:image/png") == 16 + 2
    rows = list(csv.DictReader(paths.csv.open()))
    assert len(rows) == len(stored) and tuple(rows[0]) == CSV_COLUMNS
    # instruments left safe
    link = bench.link
    assert link.shutter_open is False and link.flow_on is False
    assert bench.virtual.instruments["bert"].global_output is False
    assert bench.virtual.instruments["thermal"].setpoints[bench.virtual.instruments["thermal"].selected] == 25.0


def test_instrument_stops_answering_mid_run(tmp_path):
    plan = plan_file(tmp_path, lanes=3, temps=(), retries=1)
    seen = []
    with open_bench(FAST, module=nominal_module("SNFAULT", n_lanes=3), timeout_s=1.5) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:

        def progress(rec):
            seen.append(rec)
            if rec.lane == 0 and rec.name == "oma_minus_tdecq_dbm":        # lane 0 done: the scope goes silent
                bench.virtual.server("scope").inject_fault("no_reply", count=None)

        result = run_plan(plan, bench, store, serial="SNFAULT", progress=progress)
        stored = store.measurements(run_id=result.run.run_id)
        (run,) = store.runs()
        bert_state = bench.virtual.instruments["bert"]
    assert run.status is RunStatus.INCOMPLETE and run.outcome is Outcome.ERROR
    assert "scope" in run.note or "TCPIP" in run.note
    errors = [m for m in stored if m.outcome is Outcome.ERROR]
    assert errors and all(m.lane == 1 and m.step == "tx" and m.value is None for m in errors)
    assert "InstrumentTimeout" in errors[0].message and "2 attempts" in errors[0].message
    # lane 0 results survive, nothing after the fault was measured
    assert {m.lane for m in stored if m.value is not None} == {0}
    assert len(stored) == len(seen)
    assert bench.link.shutter_open is False and bert_state.global_output is False


def test_module_with_no_reply_is_an_error_record(tmp_path):
    plan = plan_file(tmp_path, lanes=2, temps=())
    with open_bench(FAST, module=nominal_module("SNMUTE", n_lanes=2)) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:
        bench.module.bus.fault = "nak"
        result = run_plan(plan, bench, store, serial="SNMUTE")
        (rec,) = store.measurements(run_id=result.run.run_id)
    assert result.status is RunStatus.INCOMPLETE and result.outcome is Outcome.ERROR
    assert rec.outcome is Outcome.ERROR and rec.name == "serial_number"
    assert "did not answer" in rec.message and "ConnectionLost" in rec.message


def test_wrong_module_in_socket(tmp_path):
    plan = plan_file(tmp_path, lanes=1, temps=())
    with open_bench(FAST, module=nominal_module("SNREAL", n_lanes=1)) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan, bench, store, serial="SNTYPO")
    (rec,) = result.records
    assert rec.outcome is Outcome.ERROR and "reports serial 'SNREAL'" in rec.message


def test_plan_needing_a_missing_instrument_touches_nothing(tmp_path):
    plan = plan_file(tmp_path, lanes=1, temps=())
    with open_bench(FAST, needed=("scope", "power_meter")) as bench, SQLiteStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ConfigError, match="needs instrument"):
            run_plan(plan, bench, store, serial="SIM0001")
        assert store.runs() == []


def test_transient_fault_is_retried(tmp_path):
    plan = plan_file(tmp_path, lanes=2, temps=(), retries=1)
    with open_bench(FAST, module=nominal_module("SNRETRY", n_lanes=2), timeout_s=1.5) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:

        def progress(rec):
            if rec.lane == 0 and rec.name == "rlm":                  # one lost reply during lane 1
                bench.virtual.server("scope").inject_fault("no_reply", count=1)

        result = run_plan(plan, bench, store, serial="SNRETRY", progress=progress)
    assert result.status is RunStatus.COMPLETE
    assert not [r for r in result.records if r.outcome is Outcome.ERROR]
    assert {r.lane for r in result.records if r.name == "tdecq_db"} == {0, 1}


def test_ddm_step_reads_the_module_monitors(tmp_path):
    p = tmp_path / "ddm.toml"
    p.write_text('name = "ddm"\nphy = "800GBASE-DR8"\nlanes = 8\ncharacterisation = true   # monitors only\n\n'
                 '[[step]]\nname = "ddm"\nkind = "ddm"\n')
    plan = load_plan(p)
    module = nominal_module("SNDDM")
    with open_bench(FAST, module=module, needed=()) as bench, SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan, bench, store, serial="SNDDM")
    by = {(r.name, r.lane): r for r in result.records}
    assert by[("module_temperature_c", None)].value == pytest.approx(25.0, abs=0.01)
    assert by[("supply_voltage_v", None)].value == pytest.approx(3.3, abs=1e-3)
    for k in range(8):
        # CMIS Tx power LSB is 0.1 uW: the monitor quantises the lane's launch power
        p_dbm = 10 * math.log10(float(np.mean(lane_tx_waveform(module, k, 25.0).samples)) / 1e-3)
        assert by[("tx_power_dbm", k)].value == pytest.approx(p_dbm, abs=0.02)


def test_manual_lane_switch_prompts_once_per_lane():
    from optics.station.bench_adapter import ManualLaneSwitch

    asked = []
    sw = ManualLaneSwitch(ask=lambda prompt: asked.append(prompt) or "")
    for lane in (0, 0, 1, 3):
        sw.select(lane)
    assert len(asked) == 3 and "connect lane 3" in asked[-1] and sw.position == 3
    sw.shutdown()
    assert sw.position is None


def test_the_same_serial_under_test_at_two_stations_is_flagged(tmp_path):
    """One module cannot be in two fixtures at once: a run overlapping another run of its serial
    ends in an ERROR record naming that run; a run of that serial that ended before does not."""
    import os
    import socket
    import time
    import uuid

    from optics.station.records import RunRecord

    plan = plan_file(tmp_path, lanes=1, temps=())
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        def other_run(serial, station):
            run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="dr8-test", plan_hash="h",
                            station_id=station, started_at_s=time.time(), toolkit_version="t", pid=os.getpid(),
                            host=socket.gethostname())
            store.begin_run(run)
            return run

        earlier = other_run("SNDUP", "st-old")
        store.end_run(earlier.run_id, status=RunStatus.COMPLETE, outcome=Outcome.PASS)  # over before ours
        running = other_run("SNDUP", "st-9")        # still under test at another station (process alive)
        other_run("SNOTHER", "st-8")                # another serial: no concern
        with open_bench(FAST, module=nominal_module("SNDUP", n_lanes=1)) as bench:
            result = run_plan(plan, bench, store, serial="SNDUP")
        with open_bench(FAST, module=nominal_module("SNSOLO", n_lanes=1)) as bench:
            solo = run_plan(plan, bench, store, serial="SNSOLO")
    flags = [r for r in result.records if r.name == "concurrent_run"]
    assert len(flags) == 1 and flags[0].outcome is Outcome.ERROR
    assert running.run_id in flags[0].message and "st-9" in flags[0].message
    assert earlier.run_id not in flags[0].message
    assert result.status is RunStatus.COMPLETE and result.outcome is Outcome.ERROR
    assert solo.outcome is not Outcome.ERROR and not any(r.name == "concurrent_run" for r in solo.records)


def test_transition_time_step_with_an_ssprq_bench(tmp_path):
    """A plan that limits transition_time_s on a bench sending SSPRQ: the scope's value, judged
    against the PHY row, equals optics.transition on the eye record the run kept."""
    from optics.transition import transition_time

    p = tmp_path / "plan.toml"
    p.write_text(PLAN.format(lanes=1, temps=[], retries=0)
                 .replace('"oma_minus_tdecq_dbm"]', '"oma_minus_tdecq_dbm", "transition_time_s"]')
                 .replace('guard_bands = { tdecq_db = 0.3 }', 'guard_bands = { tdecq_db = 0.3 }\nsettings = { pattern = "SSPRQ" }'))
    plan = load_plan(p)
    cfg = dataclasses.replace(FAST, physics=dataclasses.replace(
        FAST.physics, transmitter=dataclasses.replace(FAST.physics.transmitter, pattern_name="SSPRQ")))
    with open_bench(cfg, module=nominal_module("SNTT", n_lanes=1)) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan, bench, store, serial="SNTT", artifacts_dir=tmp_path / "art")
    (rec,) = [r for r in result.records if r.name == "transition_time_s"]
    assert rec.outcome in (Outcome.PASS, Outcome.MARGINAL) and rec.high_limit == pytest.approx(17e-12)
    assert rec.unit == "s"
    eye = result.artifacts.eyes[(None, 0)]
    assert rec.value == pytest.approx(transition_time(eye, reference_filter=False).transition_time_s, rel=1e-4)
    assert 5e-12 < rec.value < 17e-12
