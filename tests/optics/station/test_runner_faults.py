"""Runner faults on a fake bench (fast, no sockets): safe state, store failures, artifacts, outcomes.

The fake instruments log what is done to them, so each test checks the safe state
(BERT outputs off, attenuator shutters closed, thermal head to ambient) directly.
"""

import sqlite3
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from optics import Waveform
from optics.errors import InstrumentError, ScpiError
from optics.station.bench_adapter import StationBench
from optics.station.plan import load_plan
from optics.station.records import Outcome, RunStatus
from optics.station.runner import run_plan
from optics.station.store import SQLiteStore

AMBIENT_C = 22.0


class FakeInstrument:
    def __init__(self, name, log, fail_shutdown=None):
        self.name, self.log, self.fail_shutdown = name, log, fail_shutdown
        self.idn = SimpleNamespace(raw=f"Fake,{name},0001,1.0")

    def shutdown(self):
        if self.fail_shutdown is not None:
            raise self.fail_shutdown
        self.log.append((self.name, "shutdown"))


class FakeBert(FakeInstrument):
    def __setattr__(self, key, value):
        if key == "output_enabled":
            self.log.append(("bert", f"output_enabled={value}"))
        object.__setattr__(self, key, value)


class FakeThermal(FakeInstrument):
    temperature_c = 25.0

    def remote(self):
        pass

    def set_temperature(self, t):
        self.log.append(("thermal", f"set {t:g}"))
        self.temperature_c = t

    def wait_until_at_temperature(self, timeout_s):
        pass


class FakePowerMeter(FakeInstrument):
    def port(self, n):
        return SimpleNamespace(wavelength_m=None)


class FakeScope(FakeInstrument):
    """A scope whose measurement values are set by the test (tdecq_db etc.)."""

    def __init__(self, name, log, tdecq_db=2.0, waveform=False):
        super().__init__(name, log)
        self.tdecq_db, self.waveform = tdecq_db, waveform

    def lock_pattern(self, **kw):
        pass

    def set_reference_receiver(self, **kw):
        pass

    def configure_tdecq(self, **kw):
        pass

    def write_checked(self, cmd):
        raise ScpiError(-113, "Undefined header", cmd)

    def acquire(self, n):
        pass

    def measure_all(self):
        return {"average_power_dbm": 1.0, "oma_outer_dbm": 1.5, "extinction_ratio_db": 5.0,
                "tdecq_db": self.tdecq_db, "rlm": 0.97}

    def read_pattern_waveform(self, *, pattern, meta):
        sps = 8
        levels = np.repeat(np.asarray(pattern[:256], float), sps) * 1e-4 + 1e-4
        return Waveform(samples=levels, sample_rate_hz=sps * 53.125e9, quantity="optical_power",
                        symbol_rate_baud=53.125e9, meta=dict(meta))


class FakeModule:
    vendor_name, vendor_part_number, vendor_revision = "FAKE", "DR8", "A"
    temperature_c, vcc_v = 40.0, 3.3

    def __init__(self, serial, monitors_fail=False):
        self.vendor_serial_number = serial
        self.monitors_fail = monitors_fail

    def lane_monitors(self):
        if self.monitors_fail:
            raise InstrumentError("CMIS page 11h read failed")
        return SimpleNamespace(tx_power_w=[1e-3], tx_bias_a=[0.05])


def fake_bench(log, *, bert_shutdown=None, scope=None, module_kw=None, drop=()):
    inst = {
        "bert": FakeBert("bert", log, fail_shutdown=bert_shutdown),
        "attenuator": FakeInstrument("attenuator", log),
        "thermal": FakeThermal("thermal", log),
        "power_meter": FakePowerMeter("power_meter", log),
        "scope": scope or FakeScope("scope", log),
    }
    for name in drop:
        del inst[name]
    return StationBench(instruments=inst, module=FakeModule("SNFAKE", **(module_kw or {})), ambient_c=AMBIENT_C)


def plan(tmp_path, steps, temps="[70.0]"):
    """A one-lane plan; one of only ddm steps judges nothing, so it is a characterisation plan."""
    p = tmp_path / "plan.toml"
    p.write_text(textwrap.dedent(f"""\
        name = "fake"
        phy = "800GBASE-DR8"
        lanes = 1
        temperatures_c = {temps}
        characterisation = {str("limits" not in steps).lower()}
        """) + textwrap.dedent(steps))
    return load_plan(p)


DDM = """
[[step]]
name = "{name}"
kind = "ddm"
"""

TX = """
[[step]]
name = "tx"
kind = "tx"
limits = ["average_power_dbm", "tdecq_db"]
settings = {{ export_eye = {eye} }}
"""


def assert_safe(log):
    assert ("bert", "output_enabled=False") in log
    assert ("attenuator", "shutdown") in log
    assert ("thermal", f"set {AMBIENT_C:g}") in log and ("thermal", "shutdown") in log


class NoShutdownBert(FakeBert):
    shutdown = property(lambda self: (_ for _ in ()).throw(AttributeError("'Bert' has no attribute 'shutdown'")))


@pytest.mark.parametrize("fault", [KeyboardInterrupt(), SystemExit(143), "no_method"])
def test_safe_state_reaches_every_instrument_when_one_interrupts_it(tmp_path, fault):
    """A second Ctrl-C / SIGTERM (or a driver lacking a method) inside the safe state must not
    leave the attenuator open and the thermal head hot, nor the run unclosed."""
    log = []
    bench = fake_bench(log, bert_shutdown=None if fault == "no_method" else fault)
    if fault == "no_method":
        bench.instruments["bert"] = NoShutdownBert("bert", log)
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        if fault == "no_method":
            result = run_plan(plan(tmp_path, DDM.format(name="ddm")), bench, store, serial="SNFAKE")
            assert "bert" in result.note and "AttributeError" in result.note
        else:
            with pytest.raises(type(fault)):
                run_plan(plan(tmp_path, DDM.format(name="ddm")), bench, store, serial="SNFAKE")
        (run,) = store.runs()
    assert_safe(log)
    assert run.status is not RunStatus.RUNNING and run.ended_at_s is not None


def test_step_named_thermal_does_not_cancel_the_thermal_safe_state(tmp_path):
    log = []
    bench = fake_bench(log, module_kw={"monitors_fail": True})
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, DDM.format(name="thermal")), bench, store, serial="SNFAKE")
    assert any(r.outcome is Outcome.ERROR for r in result.records)
    assert_safe(log)


class FailingStore(SQLiteStore):
    """The database becomes unwritable (locked past the timeout, disk full) after n records."""

    def __init__(self, path, n_ok):
        super().__init__(path)
        self.n_ok = n_ok

    def add_measurements(self, records):
        if self.n_ok <= 0:
            raise sqlite3.OperationalError("database is locked")
        self.n_ok -= 1
        super().add_measurements(records)

    def end_run(self, run_id, **kw):
        raise sqlite3.OperationalError("disk I/O error")


def test_store_failure_mid_run_keeps_the_cause_and_makes_the_bench_safe(tmp_path):
    log = []
    bench = fake_bench(log)
    store = FailingStore(tmp_path / "r.sqlite", n_ok=2)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            run_plan(plan(tmp_path, DDM.format(name="ddm")), bench, store, serial="SNFAKE")
        (run,) = store.runs()
        stored = store.measurements(run_id=run.run_id)
    finally:
        store.close()
    assert_safe(log)
    assert len(stored) == 2                       # what was committed stays
    # the run could not be closed; its process is alive (this one), so it still reads running --
    # once the process ends the store reports it incomplete (test_store: kill -9)
    assert run.status is RunStatus.RUNNING


def test_interrupted_run_with_a_fail_is_error_not_fail(tmp_path):
    """Overall ordering ERROR/INCOMPLETE > FAIL: an incomplete run is never a final FAIL."""
    log = []
    bench = fake_bench(log, scope=FakeScope("scope", log, tdecq_db=4.0))   # TDECQ limit 3.4 dB: FAIL

    def stop_after_tdecq(rec):
        if rec.name == "tdecq_db":
            raise KeyboardInterrupt

    with SQLiteStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            run_plan(plan(tmp_path, TX.format(eye="false")), bench, store, serial="SNFAKE",
                     progress=stop_after_tdecq)
        (run,) = store.runs()
        stored = store.measurements(run_id=run.run_id)
    assert [m.outcome for m in stored if m.name == "tdecq_db"] == [Outcome.FAIL]
    assert run.status is RunStatus.INCOMPLETE and run.outcome is Outcome.ERROR
    assert_safe(log)


def test_unwritable_artifact_directory_does_not_cost_the_measurements(tmp_path):
    """The eye file is for the report only: failing to write it must not turn measured values
    into ERROR records (nor re-measure the lane)."""
    log = []
    bench = fake_bench(log, scope=FakeScope("scope", log, waveform=True))
    blocker = tmp_path / "artifacts"
    blocker.write_text("a file where the artifact directory should be")
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, TX.format(eye="true")), bench, store, serial="SNFAKE",
                          artifacts_dir=blocker)
        stored = store.measurements(run_id=result.run.run_id)
    tdecq = [m for m in stored if m.name == "tdecq_db"]
    assert [(m.outcome, m.value) for m in tdecq] == [(Outcome.PASS, 2.0)]
    assert not [m for m in stored if m.outcome is Outcome.ERROR]
    assert result.status is RunStatus.COMPLETE and result.outcome is Outcome.PASS
    assert "artifact" in result.note and str(blocker) in result.note
    assert (70.0, 0) in result.artifacts.eyes          # kept in memory for the report


class FlakyScope(FakeScope):
    """measure_all fails once (a lost reply), then works."""

    failures = 1

    def measure_all(self):
        if self.failures:
            self.failures -= 1
            raise InstrumentError("scope: measurement not ready")
        return super().measure_all()


def test_a_retried_lane_says_so_in_its_records(tmp_path):
    log = []
    bench = fake_bench(log, scope=FlakyScope("scope", log))
    steps = TX.format(eye="false").replace('kind = "tx"', 'kind = "tx"\nretries = 1')
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, steps), bench, store, serial="SNFAKE")
        stored = store.measurements(run_id=result.run.run_id)
    assert result.outcome is Outcome.PASS and len(stored) == len(result.records)
    tdecq = [m for m in stored if m.name == "tdecq_db"]
    assert len(tdecq) == 1 and "retried after: InstrumentError: scope: measurement not ready" in tdecq[0].message


class FlakyModule(FakeModule):
    """The module's lane monitors fail on the first read only."""

    def lane_monitors(self):
        if self.monitors_fail:
            self.monitors_fail = False
            raise InstrumentError("CMIS page 11h read failed")
        return super().lane_monitors()


def test_a_retried_ddm_step_records_each_value_once(tmp_path):
    log = []
    bench = fake_bench(log)
    bench.module = FlakyModule("SNFAKE", monitors_fail=True)
    steps = DDM.format(name="ddm") + "retries = 1\n"
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, steps, temps="[]"), bench, store, serial="SNFAKE")
        stored = store.measurements(run_id=result.run.run_id)
    names = [m.name for m in stored]
    assert sorted(names) == sorted(["module_temperature_c", "supply_voltage_v", "tx_power_dbm", "laser_bias_a"])
    assert result.outcome is Outcome.PASS


class InfRlmScope(FakeScope):
    def measure_all(self):
        return {**super().measure_all(), "rlm": float("inf")}


def test_a_non_finite_value_is_an_error_without_half_a_lane_in_the_store(tmp_path):
    """A value the records refuse (inf) must not leave the lane's other values committed
    once per attempt: the lane is one clear ERROR, nothing duplicated."""
    log = []
    bench = fake_bench(log, scope=InfRlmScope("scope", log))
    steps = TX.format(eye="false").replace('kind = "tx"', 'kind = "tx"\nretries = 1')
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, steps), bench, store, serial="SNFAKE")
        stored = store.measurements(run_id=result.run.run_id)
    assert [(m.name, m.outcome) for m in stored if m.step == "tx"] == [
        ("average_power_dbm", Outcome.ERROR), ("tdecq_db", Outcome.ERROR)]
    assert all("rlm" in m.message and "2 attempts" in m.message for m in stored if m.step == "tx")
    assert result.outcome is Outcome.ERROR


class PowerScope(FakeScope):
    def __init__(self, name, log, power_dbm):
        super().__init__(name, log)
        self.power_dbm = power_dbm

    def measure_all(self):
        return {**super().measure_all(), "average_power_dbm": self.power_dbm}


@pytest.mark.parametrize("power_dbm, outcome, margin", [(-2.8, Outcome.MARGINAL, 0.1), (-3.0, Outcome.FAIL, -0.1),
                                                        (3.9, Outcome.MARGINAL, 0.1), (1.0, Outcome.PASS, 3.0)])
def test_a_metric_with_a_min_row_and_a_max_row_is_judged_on_both(tmp_path, power_dbm, outcome, margin):
    """400GBASE-DR4 gives average power as two rows (max 4 dBm, min -2.9 dBm): the record must
    carry both limits and the worse outcome (a MARGINAL on the second row is not lost)."""
    log = []
    bench = fake_bench(log, scope=PowerScope("scope", log, power_dbm))
    p = tmp_path / "dr4.toml"
    p.write_text(textwrap.dedent("""\
        name = "dr4"
        phy = "400GBASE-DR4"
        lanes = 1
        guard_band = 0.2
        [[step]]
        name = "tx"
        kind = "tx"
        limits = ["average_power_dbm"]
        settings = { export_eye = false }
        """))
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(load_plan(p), bench, store, serial="SNFAKE")
        (rec,) = [m for m in store.measurements(run_id=result.run.run_id) if m.name == "average_power_dbm"]
    assert (rec.low_limit, rec.high_limit) == (-2.9, 4.0)
    assert rec.outcome is outcome and rec.margin == pytest.approx(margin, abs=1e-9)


class ErScope(FakeScope):
    def __init__(self, name, log, er_db):
        super().__init__(name, log)
        self.er_db = er_db

    def measure_all(self):
        return {**super().measure_all(), "extinction_ratio_db": self.er_db}


class RxBert(FakeBert):
    def set_pattern(self, name):
        pass


class RxAttenuator(FakeInstrument):
    def channel(self, n):
        return SimpleNamespace(shutter_open=False, wavelength_m=None, attenuation_db=45.0)


RX = """
[[step]]
name = "rx"
kind = "rx_sensitivity"
limits = ["rx_sensitivity_oma_dbm"]
settings = { reference_secq_db = 1.0 }
"""


@pytest.mark.parametrize("er_db", [0.0, -0.3])
def test_a_lane_without_extinction_is_an_rx_error_record_not_a_crash(tmp_path, er_db):
    """A fully detuned ring measures ER <= 0 dB at the Tx step; the Rx step's OMA/average ratio
    2(r-1)/(r+1) is then <= 0 and log10 of it must not stop the whole run with a ValueError."""
    log = []
    bench = fake_bench(log, scope=ErScope("scope", log, er_db))
    bench.instruments["bert"] = RxBert("bert", log)
    bench.instruments["attenuator"] = RxAttenuator("attenuator", log)
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, TX.format(eye="false") + RX, temps="[]"), bench, store, serial="SNFAKE")
    assert result.status is RunStatus.COMPLETE
    (rx,) = [r for r in result.records if r.step == "rx"]
    assert rx.outcome is Outcome.ERROR and rx.value is None
    assert "extinction ratio" in rx.message and "MeasurementInvalid" in rx.message
    # the ERROR record still says which PHY row it stands for, and that the row is unverified
    assert rx.verified is False and rx.spec_ref
    assert ("attenuator", "shutdown") in log and ("bert", "output_enabled=False") in log


def test_a_failing_progress_display_is_not_an_instrument_error(tmp_path):
    """`optics station run ... | head` closes the pipe: the progress print raises BrokenPipeError
    (an OSError).  It must neither be retried as an instrument fault (committing the lane's
    records twice) nor cost any record."""
    log = []
    bench = fake_bench(log)
    steps = TX.format(eye="false").replace('kind = "tx"', 'kind = "tx"\nretries = 1')

    def progress(rec):
        raise BrokenPipeError(32, "Broken pipe")

    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, steps), bench, store, serial="SNFAKE", progress=progress)
        stored = store.measurements(run_id=result.run.run_id)
    names = [m.name for m in stored]
    assert len(names) == len(set(names)) and {"case_temperature_c", "average_power_dbm", "tdecq_db"} <= set(names)
    assert not [m for m in stored if m.outcome is Outcome.ERROR]
    assert result.status is RunStatus.COMPLETE and "progress" in result.note


class DeafBert(RxBert):
    """A receiver whose BER stays at 1e-2 whatever the power (a dead photodiode / TIA)."""

    def measure_ber(self, gate_s):
        return SimpleNamespace(ber=1e-2, errored_bits=10**7, compared_bits=10**9)


class LinkedAttenuator(FakeInstrument):
    def __init__(self, name, log):
        super().__init__(name, log)
        self.ch = SimpleNamespace(shutter_open=False, wavelength_m=None, attenuation_db=45.0)

    def channel(self, n):
        return self.ch


class LinkedPowerMeter(FakePowerMeter):
    """Reads 1 dBm average through the attenuator."""

    def __init__(self, name, log, att):
        super().__init__(name, log)
        self.att = att

    def port(self, n):
        att = self.att

        class Port:
            wavelength_m = None

            @property
            def power_w(self):
                return 10 ** ((1.0 - att.ch.attenuation_db) / 10) * 1e-3

        return Port()


def test_a_receiver_failing_even_at_full_power_is_a_fail_not_an_error(tmp_path):
    """BER above the threshold down to 0 dB attenuation, at a received OMA above the limit: the
    receiver's sensitivity is worse than that OMA, so worse than the limit -- a FAIL with the
    bound and a clear message (an ERROR would send the module to endless retests)."""
    log = []
    bench = fake_bench(log)                       # Tx: ER 5 dB -> OMA = average + 10log10(2(r-1)/(r+1))
    att = LinkedAttenuator("attenuator", log)
    bench.instruments.update(bert=DeafBert("bert", log), attenuator=att,
                             power_meter=LinkedPowerMeter("power_meter", log, att))
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(plan(tmp_path, TX.format(eye="false") + RX, temps="[]"), bench, store, serial="SNFAKE")
    (rx,) = [r for r in result.records if r.name == "rx_sensitivity_oma_dbm"]
    r = 10 ** 0.5
    oma_at_0db = 1.0 + 10 * np.log10(2 * (r - 1) / (r + 1))        # independent: 0.29 dBm
    assert rx.outcome is Outcome.FAIL and rx.value == pytest.approx(oma_at_0db, abs=1e-9)
    assert rx.high_limit == -4.4 and rx.margin == pytest.approx(-4.4 - oma_at_0db, abs=1e-9)
    assert "worse than" in rx.message and "0.00 dB" in rx.message
    assert result.status is RunStatus.COMPLETE and result.outcome is Outcome.FAIL
