"""The safe state at the end of a run: reconnect and retry each instrument, confirm by reading
back, and end the run ERROR -- loudly, naming the instrument -- when it cannot be confirmed.

The virtual-bench tests drop the connection of the ThermoStream, the attenuator and the BERT
right after the run's last measurement, so the faults land on the safe state's own commands.
"""

import dataclasses
import logging
import re
import textwrap
from types import SimpleNamespace

import pytest

from instruments.bench import BenchConfig
from optics.errors import ConnectionLost, InstrumentTimeout, ScpiError
from optics.station.bench_adapter import StationBench, open_bench
from optics.station.dut import nominal_module
from optics.station.plan import load_plan
from optics.station.records import Outcome, RunStatus
from optics.station.runner import run_plan
from optics.station.safe_state import ATTEMPTS, RETRY_PAUSES_S, make_safe
from optics.station.store import SQLiteStore

FAST = dataclasses.replace(BenchConfig.default(),
                           physics=dataclasses.replace(BenchConfig.default().physics, time_scale=1000.0))
AMBIENT_C = FAST.physics.thermal.ambient_c

PLAN = textwrap.dedent("""\
    name = "safe-state"
    phy = "800GBASE-DR8"
    lanes = 1
    temperatures_c = [70.0]

    [thermal]
    soak_s = 5.0

    [[step]]
    name = "tx"
    kind = "tx"
    limits = ["tdecq_db"]
    settings = { export_eye = false }

    [[step]]
    name = "rx"
    kind = "rx_sensitivity"
    limits = ["rx_sensitivity_oma_dbm"]
    settings = { gate_time_s = 0.01, reference_secq_db = 1.0 }
    """)

HOT = ("thermal", "attenuator", "bert")


def run_with_drops(tmp_path, drops, names=HOT, safe_state_timeout_s=0.4):
    """Run PLAN at 70 °C; after the last record, the servers of ``names`` drop ``drops`` messages
    (None: every message).  Returns the result, the stored run and the virtual instruments.

    A dropped query is noticed when its reply times out: the drivers' I/O timeout is shortened
    to ``safe_state_timeout_s`` for the safe state (the run itself keeps 2 s).
    """
    p = tmp_path / "plan.toml"
    p.write_text(PLAN)
    with open_bench(FAST, module=nominal_module("SNSAFE", n_lanes=1), timeout_s=2.0) as bench, \
            SQLiteStore(tmp_path / "r.sqlite") as store:

        def progress(rec):
            if rec.name == "rx_sensitivity_average_dbm":        # the run's last measurement
                for name in names:
                    bench.virtual.server(name).inject_fault("drop", count=drops)
                for inst in bench.instruments.values():
                    inst.adapter.set_timeout(safe_state_timeout_s)

        result = run_plan(load_plan(p), bench, store, serial="SNSAFE", progress=progress)
        (run,) = store.runs()
        virtual = dict(bench.virtual.instruments)
        shutter_open = bench.link.shutter_open
    return result, run, virtual, shutter_open


def thermal_state(virtual):
    th = virtual["thermal"]
    return th.setpoints[th.selected], th.flow


@pytest.mark.parametrize("drops", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_dropped_connections_at_the_safe_state_are_reconnected_and_retried(tmp_path, drops):
    """One or two dropped messages on the ThermoStream, the attenuator and the BERT as the run
    ends: each is reconnected and retried until its state reads back safe -- head at ambient
    with the air off, every shutter closed, both BERT outputs off -- and the run stands."""
    result, run, virtual, shutter_open = run_with_drops(tmp_path, drops)
    assert thermal_state(virtual) == (AMBIENT_C, False)
    assert shutter_open is False
    assert virtual["bert"].global_output is False and not any(virtual["bert"].output.values())
    assert result.status is RunStatus.COMPLETE and run.outcome is result.outcome is Outcome.PASS
    assert not [r for r in result.records if r.step == "safe_state"]
    # the retries are said in the note, with the fault that caused them (a reply slow past the
    # shortened timeout may cost one attempt more, within the bound)
    for name in HOT:
        assert re.search(rf"{name} \([^)]*\) confirmed after [{drops + 1}-{ATTEMPTS}] attempts", result.note), name
    assert "ConnectionLost" in result.note


def test_a_thermal_forcer_that_stays_unreachable_ends_the_run_error_naming_it(tmp_path, caplog):
    """Permanently dropped: the head stays hot, which the run cannot hide behind a PASS -- an
    ERROR record names the ThermoStream and what was not confirmed, the note says BENCH NOT
    SAFE, the error is logged; the other instruments were still made safe."""
    with caplog.at_level(logging.ERROR, logger="optics.station"):
        result, run, virtual, shutter_open = run_with_drops(tmp_path, None, names=("thermal",))
    assert thermal_state(virtual) == (70.0, True)           # what the bench is really left in
    assert result.status is RunStatus.COMPLETE
    assert result.outcome is run.outcome is Outcome.ERROR
    (rec,) = [r for r in result.records if r.step == "safe_state"]
    assert rec.outcome is Outcome.ERROR and rec.value is None and list(rec.instruments) == ["thermal"]
    assert "ATS-545" in rec.instruments["thermal"]
    assert "thermal NOT confirmed safe" in rec.message and "air flow off" in rec.message
    assert f"after {ATTEMPTS} attempts" in rec.message and "ConnectionLost" in rec.message
    assert run.note.startswith("BENCH NOT SAFE: thermal")
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1 and "BENCH NOT SAFE" in logged[0] and "SNSAFE" in logged[0] and "thermal" in logged[0]
    assert shutter_open is False and virtual["bert"].global_output is False


# --- make_safe on fakes: bounded retries, fresh sessions, read-back ------------------------
class FlakyBert:
    """Drops ``failures`` commands, then works; ``reconnect`` counts new sessions."""

    def __init__(self, failures, error=ConnectionLost):
        self.failures, self.error, self.log = failures, error, []
        self.state = {"output_enabled": True, "global_outputs_enabled": True}

    def _cmd(self, key):
        if self.failures:
            self.failures -= 1
            raise self.error(f"bert: dropped while switching {key} off")
        self.state[key] = False
        self.log.append(key)

    def __setattr__(self, key, value):
        if key == "output_enabled":
            self._cmd(key)
        else:
            object.__setattr__(self, key, value)

    def shutdown(self):
        self._cmd("global_outputs_enabled")

    def reconnect(self):
        self.log.append("reconnect")


class StuckShutter:
    """Accepts every command but its shutter reads back open."""

    shutter_open = property(lambda self: True)

    def shutdown(self):
        pass


def bench_of(**instruments):
    return StationBench(instruments=dict(instruments), ambient_c=22.0)


def test_retries_reconnect_first_and_stop_after_the_bound():
    pauses = []
    bert = FlakyBert(failures=1)
    report = make_safe(bench_of(bert=bert), ambient_c=22.0, thermal_touched=False, sleep=pauses.append)
    (b,) = report.instruments
    assert b.confirmed and b.attempts == 2 and pauses == [RETRY_PAUSES_S[0]]
    # the second attempt ran on a fresh session, and switched both outputs off
    assert bert.log == ["global_outputs_enabled", "reconnect", "output_enabled", "global_outputs_enabled"]
    dead = FlakyBert(failures=10**6, error=InstrumentTimeout)
    pauses.clear()
    (b,) = make_safe(bench_of(bert=dead), ambient_c=22.0, thermal_touched=False, sleep=pauses.append).instruments
    assert not b.confirmed and b.attempts == ATTEMPTS == 3 and pauses == list(RETRY_PAUSES_S)
    assert dead.log == ["reconnect", "reconnect"] and len(b.history) == 3


def test_a_scpi_error_is_retried_on_the_same_session():
    bert = FlakyBert(failures=1, error=lambda msg: ScpiError(-300, msg, ":OUTP:STAT"))
    (b,) = make_safe(bench_of(bert=bert), ambient_c=22.0, thermal_touched=False, sleep=lambda s: None).instruments
    assert b.confirmed and b.attempts == 2 and "reconnect" not in bert.log


def test_a_state_that_reads_back_unsafe_is_not_confirmed(tmp_path):
    """The attenuator accepts 'close' but its shutter reads back open: the run is ERROR with a
    record naming the attenuator and the value read back."""
    steps = 'characterisation = true\n[[step]]\nname = "ddm"\nkind = "ddm"\n'
    p = tmp_path / "plan.toml"
    p.write_text('name = "stuck"\nphy = "800GBASE-DR8"\nlanes = 1\n' + steps)
    module = SimpleNamespace(vendor_name="FAKE", vendor_part_number="DR8", vendor_revision="A",
                             vendor_serial_number="SNSTUCK", temperature_c=40.0, vcc_v=3.3,
                             lane_monitors=lambda: SimpleNamespace(tx_power_w=[1e-3], tx_bias_a=[0.05]))
    bench = StationBench(instruments={"attenuator": StuckShutter()}, module=module, ambient_c=22.0)
    bench.identities["attenuator"] = "Fake,VOA,0001,1.0"
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        result = run_plan(load_plan(p), bench, store, serial="SNSTUCK")
        (run,) = store.runs()
    (rec,) = [r for r in result.records if r.step == "safe_state"]
    assert rec.instruments == {"attenuator": "Fake,VOA,0001,1.0"}
    assert "attenuator NOT confirmed safe" in rec.message and "read back shutter_open = True" in rec.message
    assert result.outcome is run.outcome is Outcome.ERROR
