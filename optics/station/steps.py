"""The steps of a station run: the running run's state (:class:`_Run`, used by
:func:`optics.station.runner.run_plan`) that identifies the module, reaches each case
temperature, runs the tx / rx_sensitivity / ddm steps lane by lane with their retries, turns
their values into judged records and leaves the bench safe; with the units, fatal errors and
helpers it uses.  The order of a run and its rules are in :mod:`optics.station.runner`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from optics.errors import (
    ConfigError,
    ConnectionLost,
    GarbledReply,
    InstrumentError,
    InstrumentTimeout,
    InvalidParameter,
    MeasurementInvalid,
    OpticsError,
    ScpiError,
)
from optics.station.artifacts import RunArtifacts
from optics.station.judging import judge_step, merge_rows
from optics.station.plan import Step, TestPlan
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, utc_text
from optics.station.safe_state import SafeStateReport, make_safe
from optics.station.sensitivity import NoCrossing, SweepPoint, find_sensitivity
from optics.station.store import ResultStore

#: Units of the metrics a station records.
UNITS: Mapping[str, str] = {
    "average_power_dbm": "dBm", "oma_outer_dbm": "dBm", "extinction_ratio_db": "dB", "tdecq_db": "dB",
    "ceq_db": "dB", "tdecq_minus_ceq_db": "dB", "oma_minus_tdecq_dbm": "dBm", "rlm": "",
    "rx_sensitivity_oma_dbm": "dBm", "rx_sensitivity_average_dbm": "dBm", "module_temperature_c": "°C",
    "supply_voltage_v": "V", "tx_power_dbm": "dBm", "rx_power_dbm": "dBm", "laser_bias_a": "A",
    "case_temperature_c": "°C", "serial_number": "", "plan_valid": "", "instrument_identity": "",
    "transition_time_s": "s", "concurrent_run": "", "safe_state": "",
}

#: Errors after which the bench cannot go on (the run stops, incomplete).
FATAL_ERRORS: tuple[type[BaseException], ...] = (ConnectionLost, InstrumentTimeout)

Progress = Callable[[MeasurementRecord], None]

_log = logging.getLogger("optics.station")

#: Note of a run that ended before it began because its plan is invalid (no module tested);
#: the lot statistics leave such runs out of the modules' yield.
PLAN_ERROR_NOTE = "invalid plan: "


class _Abort(Exception):
    """The run cannot go on (an instrument is gone); records are already written."""


def overall_outcome(records: list[MeasurementRecord] | tuple[MeasurementRecord, ...]) -> Outcome:
    """ERROR > FAIL > MARGINAL > PASS over the records (PASS for none)."""
    outcomes = {r.outcome for r in records}
    for o in (Outcome.ERROR, Outcome.FAIL, Outcome.MARGINAL):
        if o in outcomes:
            return o
    return Outcome.PASS


class _Run:
    """State of one run (see :func:`run_plan`)."""

    def __init__(self, plan: TestPlan, bench: Any, store: ResultStore, run: RunRecord,
                 progress: Progress | None) -> None:
        self.plan = plan
        self.bench = bench
        self.store = store
        self.run = run
        self.progress = progress
        self.records: list[MeasurementRecord] = []
        self.artifacts = RunArtifacts()
        self.temperature_c: float | None = None
        from optics.phy import load_phy

        self.spec = load_phy(plan.phy)
        self._ready: set[str] = set()
        self.thermal_touched = False        # the thermal head was driven: return it to ambient
        self.notes: list[str] = []          # problems that cost no record (e.g. an artifact not written)
        self.retry_note = ""                # the errors a retried attempt follows (put in its records)
        self._ceq = False
        self._tx_pattern: Any = None
        self._tdecq: Any = None             # optics.phy.method.StepTdecq of the tx step set up last

    # --- records -------------------------------------------------------------------------
    def commit(self, record: MeasurementRecord) -> None:
        self.store.add_measurement(record)
        self.records.append(record)
        if self.progress is not None:
            try:
                self.progress(record)
            except Exception as exc:  # e.g. BrokenPipeError: a display is no instrument fault
                self.progress = None
                self.notes.append(f"progress display stopped ({type(exc).__name__}: {exc}); the records "
                                  "are complete")

    def instruments_of(self, names: tuple[str, ...]) -> dict[str, str]:
        ids = self.bench.identities
        return {n: ids.get(n, "") for n in names if n in ids}

    def record(self, step: Step | str, name: str, value: float | None, outcome: Outcome,
               **kw: Any) -> MeasurementRecord:
        """Make one record (:meth:`make_record`) and commit it."""
        rec = self.make_record(step, name, value, outcome, **kw)
        self.commit(rec)
        return rec

    def make_record(self, step: Step | str, name: str, value: float | None, outcome: Outcome, *,
                    lane: int | None = None, low: float | None = None, high: float | None = None,
                    margin: float | None = None, spec_ref: str = "", verified: bool = True, message: str = "",
                    instruments: tuple[str, ...] = ()) -> MeasurementRecord:
        """A record of this run (not committed); raises InvalidParameter for a non-finite value."""
        step_name = step.name if isinstance(step, Step) else step
        # the instruments behind the value: the step's, the lane switch that routed the lane, the
        # thermal forcer that set the temperature
        instruments = tuple(instruments) + (("lane_switch",) if lane is not None else ()) + (
            ("thermal",) if self.temperature_c is not None else ())
        if self.retry_note and outcome is not Outcome.ERROR:
            message = (message + "; " if message else "") + f"retried after: {self.retry_note}"
        rec = MeasurementRecord(
            run_id=self.run.run_id, serial=self.run.serial, step=step_name, name=name, value=value,
            unit=UNITS.get(name, ""), outcome=outcome, lane=lane, temperature_c=self.temperature_c,
            low_limit=low, high_limit=high, margin=margin, spec_ref=spec_ref, verified=verified,
            instruments=self.instruments_of(instruments), message=message,
        )
        return rec

    def error_records(self, step: Step, lane: int | None, exc: BaseException, attempts: int,
                      earlier: list[str] | None = None) -> None:
        msg = f"{type(exc).__name__}: {exc} (after {attempts} attempt{'s' if attempts > 1 else ''})"
        if earlier:
            msg += "; before: " + " | ".join(earlier)
        names = step.limits or ({"tx": ("tdecq_db",), "rx_sensitivity": ("rx_sensitivity_oma_dbm",),
                                 "ddm": ("module_temperature_c",)}[step.kind])
        for name in names:
            rows = [r for r in self.spec.rows if r.metric == name]     # the PHY rows it stands for
            self.record(step, name, None, Outcome.ERROR, lane=lane, message=msg, instruments=step.instruments,
                        spec_ref="; ".join(dict.fromkeys(r.clause for r in rows)),
                        verified=all(r.verified for r in rows))

    def judged_records(self, step: Step, lane: int | None, metrics: Mapping[str, float],
                       scope: str, extra: Mapping[str, float] | None = None, message: str = "",
                       notes: Mapping[str, str] | None = None) -> None:
        """Judge ``metrics`` against the plan's PHY rows (:func:`optics.station.judging.judge_step`,
        the judging yield prediction uses too) and commit one record per metric (``message``
        goes into each judged record; ``notes``: why a metric has no value)."""
        judged = judge_step(self.spec, self.plan, step, metrics, scope=scope, extra=extra, notes=notes)
        # every record of the lane is made before any is committed: a value the records refuse
        # (non-finite) makes the lane an ERROR without leaving half of it in the store, once per attempt
        made = []
        for j in judged:
            if j.outcome == "RECORDED":
                made.append(self.make_record(step, j.name, j.value, Outcome.PASS, lane=lane,
                                             instruments=step.instruments, message=j.note))
            elif j.outcome == "NOT TESTED":
                made.append(self.make_record(step, j.name, j.value, Outcome.ERROR, lane=lane, spec_ref=j.clause,
                                             verified=j.verified, instruments=step.instruments, message=j.note))
            else:
                made.append(self.make_record(step, j.name, j.value, Outcome(j.outcome), lane=lane, low=j.low,
                                             high=j.high, margin=j.margin, spec_ref=j.clause, verified=j.verified,
                                             instruments=step.instruments, message=message))
        for rec in made:
            self.commit(rec)

    # --- instruments -----------------------------------------------------------------------
    def select_lane(self, lane: int) -> None:
        sw = self.bench.lane_switch
        if sw is None:
            if lane != 0:
                raise ConfigError(f"plan {self.plan.name!r} has {self.plan.lanes} lanes but the bench has no lane switch")
            return
        sw.select(lane)

    def go_to_temperature(self, t: float) -> None:
        th = self.bench.get("thermal")
        cfg = self.plan.thermal
        th.remote()
        th.head_down = True
        th.window_k = float(cfg.get("window_k", 1.0))
        th.soak_time_s = float(cfg.get("soak_s", 30.0))
        th.set_temperature(t)
        th.flow_on = True
        th.wait_until_at_temperature(float(cfg.get("timeout_s", 900.0)))

    def safe_state(self) -> SafeStateReport:
        """Outputs off, shutters closed, thermal head to ambient and its air off -- each
        instrument retried over a fresh session and read back (:func:`optics.station.safe_state.make_safe`).

        Every instrument gets its turn whatever the one before did -- an exception, a driver
        lacking the method, even a second Ctrl-C or SIGTERM (``KeyboardInterrupt`` /
        ``SystemExit``), which is held back in the report so the caller can close the run
        first and re-raise it after.
        """
        return make_safe(self.bench, ambient_c=self.bench.ambient_c, thermal_touched=self.thermal_touched)

    def record_safe_state(self, report: SafeStateReport) -> str:
        """An ERROR record per instrument not confirmed safe, said loudly (logged as an error,
        which reaches stderr without any logging set up); returns the text for the run's note."""
        self.temperature_c = None  # a record of the run, not of a temperature
        parts = [inst.describe() for inst in report.unconfirmed]
        for text in parts:  # said before anything is written: a failing store must not silence it
            _log.error("run %s (serial %s): BENCH NOT SAFE: %s", self.run.run_id, self.run.serial, text)
        for inst, text in zip(report.unconfirmed, parts):
            self.record("safe_state", "safe_state", None, Outcome.ERROR, instruments=(inst.name,),
                        message=f"bench not confirmed safe: {text}")
        note = ("BENCH NOT SAFE: " + "; ".join(parts)) if parts else ""
        retried = "; ".join(i.describe() for i in report.retried)
        if retried:
            note = (note + "; " if note else "") + "safe state retried: " + retried
        return note

    def keep_artifact(self, add: Callable[..., None], *args: Any) -> None:
        """Keep an eye or a curve; failing to write its file (disk full, no directory) costs
        no measurement record: it becomes a note of the run."""
        try:
            add(*args)
        except OSError as exc:
            note = f"artifact not written ({type(exc).__name__}: {exc}); the records are complete"
            if note not in self.notes:
                self.notes.append(note)

    # --- identification ----------------------------------------------------------------------
    def identify_module(self) -> None:
        mod = self.bench.module
        if mod is None:
            return
        try:
            reported = mod.vendor_serial_number
            self.bench.identities["module"] = (f"{mod.vendor_name},{mod.vendor_part_number},{reported},"
                                               f"{mod.vendor_revision}")
        except (InstrumentError, OSError) as exc:
            self.record("identify", "serial_number", None, Outcome.ERROR, instruments=("module",),
                        message=f"module did not answer on its management interface: {type(exc).__name__}: {exc}")
            raise _Abort(f"module {self.run.serial} did not answer (CMIS): {exc}") from None
        if reported.strip() != self.run.serial.strip():
            self.record("identify", "serial_number", None, Outcome.ERROR, instruments=("module",),
                        message=f"module reports serial {reported!r}, expected {self.run.serial!r}")
            raise _Abort(f"wrong module in the socket: it reports serial {reported!r}, expected {self.run.serial!r}")

    def flag_concurrent_runs(self) -> None:
        """An ERROR record when another run of this serial overlapped this one in time.

        One module cannot sit in two fixtures at once: two labels carry one serial, or one label
        was scanned at two stations.  Overlapping: started before now and still running (its
        process alive, or on another host) or ended after this run began.  Each of the two runs
        finds the other when it ends, so both are flagged; runs an invalid plan stopped are not
        counted (no module was tested).
        """
        me = self.run
        self.temperature_c = None  # a record of the run, not of a temperature
        now = time.time()
        others = [
            r for r in self.store.runs(serial=me.serial)
            if r.run_id != me.run_id and not r.note.startswith(PLAN_ERROR_NOTE) and r.started_at_s <= now
            and (r.status is RunStatus.RUNNING or (r.ended_at_s is not None and r.ended_at_s >= me.started_at_s))
        ]
        if others:
            seen = "; ".join(
                f"run {r.run_id} at station {r.station_id!r} (host {r.host or '?'}), started "
                f"{utc_text(r.started_at_s)}, {r.status.value}"
                for r in others)
            self.record("identify", "concurrent_run", None, Outcome.ERROR,
                        message=f"serial {me.serial!r} was under test elsewhere during this run ({seen}): "
                                "two modules carry this serial, or one label was scanned twice")

    # --- steps ---------------------------------------------------------------------------------
    def run_step(self, step: Step) -> None:
        lanes = range(self.plan.lanes) if step.kind != "ddm" else (None,)
        for lane in lanes:
            attempts = 0
            history: list[str] = []
            while True:
                attempts += 1
                self.retry_note = " | ".join(history)
                try:
                    if lane is not None:
                        self.select_lane(lane)
                    if step.kind == "tx":
                        self.tx_lane(step, lane)
                    elif step.kind == "rx_sensitivity":
                        self.rx_lane(step, lane)
                    else:
                        self.ddm(step)
                    self.retry_note = ""
                    break
                except (OpticsError, OSError) as exc:
                    self.retry_note = ""
                    if isinstance(exc, ConfigError):
                        raise
                    self._ready.discard(step.name)
                    history.append(f"{type(exc).__name__}: {exc}")
                    if attempts <= step.retries:
                        problem = self._recover(step)
                        if problem:
                            history.append(problem)
                        continue
                    self.error_records(step, lane, exc, attempts, history[:-1])
                    if isinstance(exc, FATAL_ERRORS):
                        raise _Abort(f"step {step.name!r} lane {lane}: {type(exc).__name__}: {exc}") from None
                    break

    def _recover(self, step: Step) -> str:
        """Before a retry: fresh sessions to the step's instruments (drops late replies).

        Returns what went wrong while reconnecting ("" if nothing): the retry will then fail
        too, and its ERROR record says why.
        """
        problems = []
        for name in step.instruments:
            try:
                inst = self.bench.reconnect(name)
                if inst is not None and hasattr(inst, "clear_status"):
                    inst.clear_status()
            except Exception as exc:  # the retry itself will report an instrument that stays dead
                problems.append(f"reconnecting {name}: {type(exc).__name__}: {exc}")
        return "; ".join(problems)

    def _symbol_rate(self, step: Step) -> float:
        return float(step.settings.get("symbol_rate_baud", self.spec.symbol_rate_baud))

    def tx_setup(self, step: Step) -> None:
        from optics.patterns import pattern

        scope = self.bench.get("scope")
        baud = self._symbol_rate(step)
        name = str(step.settings.get("pattern", "PRBS13Q"))
        self._tx_pattern = pattern(name)
        scope.lock_pattern(symbol_rate_baud=baud, pattern_length=int(self._tx_pattern.size))
        # the PHY's TDECQ method, as far as the scope can be told it (optics.phy.method.step_tdecq,
        # the resolution the yield prediction uses too); explicit step settings win
        from optics.phy.method import step_tdecq

        self._tdecq = step_tdecq(step.settings, self.spec.tdecq_method, baud)
        scope.set_reference_receiver(symbol_rate_baud=baud, bandwidth_hz=self._tdecq.bandwidth_hz)
        scope.configure_tdecq(n_taps=self._tdecq.n_taps, n_precursors=self._tdecq.n_precursors)
        note = f"step {step.name}: {self._tdecq.note()}"
        if self._tdecq.note() and note not in self.notes:
            self.notes.append(note)
        spool = spool_note(self.bench, self.spec, step.name)
        if spool and spool not in self.notes:
            self.notes.append(spool)
        # Ceq: the driver has no method for it; the virtual FlexDCA serves :MEASure:EYE:CEQ (the
        # real command path is not confirmed), so a scope refusing it only loses ceq_db
        try:
            scope.write_checked(":MEASure:EYE:CEQ:SOURce1 FUNCtion1")
            scope.write_checked(":MEASure:EYE:CEQ")
            self._ceq = True
        except ScpiError:
            self._ceq = False
        pm = self.bench.instruments.get("power_meter")
        if pm is not None:
            pm.port(1).wavelength_m = 1311e-9
        self._ready.add(step.name)

    def tx_lane(self, step: Step, lane: int) -> None:
        if step.name not in self._ready:
            self.tx_setup(step)
        scope = self.bench.get("scope")
        scope.acquire(int(step.settings.get("n_patterns", 1)))
        m = scope.measure_all()
        metrics = {"average_power_dbm": m["average_power_dbm"], "oma_outer_dbm": m["oma_outer_dbm"],
                   "extinction_ratio_db": m["extinction_ratio_db"], "tdecq_db": m["tdecq_db"]}
        if self._ceq:
            metrics["ceq_db"] = scope.read_measurement(":MEASure:EYE:CEQ")
        notes = {}
        if "transition_time_s" in step.limits:
            # only when the plan limits it: the pattern needs long 0 <-> 3 edges (SSPRQ)
            try:
                metrics["transition_time_s"] = scope.measure_transition_time_s()
            except MeasurementInvalid as exc:
                notes["transition_time_s"] = str(exc)
        if step.settings.get("export_eye", True):
            try:
                wf = scope.read_pattern_waveform(pattern=self._tx_pattern,
                                                 meta={"serial": self.run.serial, "lane": lane,
                                                       "temperature_c": self.temperature_c})
                self.keep_artifact(self.artifacts.add_eye, (self.temperature_c, lane), wf)
            except (MeasurementInvalid, GarbledReply, InvalidParameter):
                pass  # the eye is for the report only; the measurements above stand
        self.artifacts.tx_metrics[(self.temperature_c, lane)] = {**metrics, "rlm": m["rlm"]}
        self.judged_records(step, lane, metrics, "tx", extra={"rlm": m["rlm"]}, notes=notes)

    def rx_setup(self, step: Step) -> None:
        bert = self.bench.get("bert")
        att = self.bench.get("attenuator").channel(1)
        pm = self.bench.get("power_meter").port(1)
        att.shutter_open = False
        att.wavelength_m = 1311e-9
        att.attenuation_db = 45.0
        pm.wavelength_m = 1311e-9
        bert.symbol_rate_baud = self._symbol_rate(step)
        bert.coding = "PAM4"
        bert.analyzer_coding = "PAM4"
        bert.set_pattern(str(step.settings.get("pattern", "PRBS13Q")))
        bert.output_enabled = True
        bert.global_outputs_enabled = True
        att.shutter_open = True
        self._ready.add(step.name)

    def _source_er_db(self, step: Step, lane: int) -> float:
        tx = self.artifacts.tx_metrics.get((self.temperature_c, lane))
        if tx is not None:
            return tx["extinction_ratio_db"]
        scope = self.bench.instruments.get("scope")
        if scope is None:
            raise ConfigError("the rx_sensitivity step needs the source's extinction ratio: run a tx step "
                              "first or put a scope on the bench")
        from optics.patterns import pattern

        scope.lock_pattern(symbol_rate_baud=float(self.spec.symbol_rate_baud),
                           pattern_length=int(pattern(str(step.settings.get("pattern", "PRBS13Q"))).size))
        scope.acquire(1)
        return scope.measure_extinction_ratio_db()

    def rx_lane(self, step: Step, lane: int) -> None:
        from optics.verdict import evaluate

        s = step.settings
        er_db = self._source_er_db(step, lane)
        if not (math.isfinite(er_db) and er_db > 0.0):
            # OMA/average = 2(r-1)/(r+1) is <= 0 for r <= 1: no received OMA can be computed
            raise MeasurementInvalid(
                f"lane {lane}: source extinction ratio {er_db:.3g} dB (from the Tx step) leaves no optical "
                "modulation amplitude; the receiver's sensitivity cannot be measured with this transmitter")
        if step.name not in self._ready:
            self.rx_setup(step)
        bert = self.bench.get("bert")
        att = self.bench.get("attenuator").channel(1)
        pm = self.bench.get("power_meter").port(1)
        offset_db = float(s.get("rx_path_offset_db", 0.0))
        r = 10.0 ** (er_db / 10.0)
        oma_over_avg_db = 10.0 * math.log10(2.0 * (r - 1.0) / (r + 1.0))
        gate = float(s.get("gate_time_s", 0.01))

        def measure(att_db: float) -> SweepPoint:
            att.attenuation_db = att_db
            p_w = pm.power_w
            if p_w <= 0:
                raise MeasurementInvalid(f"power meter reads {p_w:g} W at {att_db:.2f} dB attenuation")
            avg_dbm = 10.0 * math.log10(p_w / 1e-3) + offset_db
            res = bert.measure_ber(gate)
            return SweepPoint(att_db, avg_dbm + oma_over_avg_db, avg_dbm, res.ber, res.errored_bits, res.compared_bits)

        threshold = float(s.get("ber_threshold", self.spec.ber_limit))
        secq = s.get("reference_secq_db")
        extra = {} if secq is None else {"secq_db": float(secq)}
        # where to start: start_margin_db above the sensitivity limit (or -4 dBm OMA)
        probe = evaluate({"rx_sensitivity_oma_dbm": 0.0, **extra}, self.spec, scope="rx",
                         require=["rx_sensitivity_oma_dbm"])
        limit = next((x.max for x in probe.rows if x.row.metric == "rx_sensitivity_oma_dbm" and x.max is not None),
                     -4.0)
        # probe at 10 dB (never the full launch power into the receiver), extrapolate dB for dB
        probe_db = 10.0
        first = measure(probe_db)
        start = first.oma_dbm + probe_db - (limit + float(s.get("start_margin_db", 3.0)))
        start = min(40.0, max(0.0, round(start, 1)))
        try:
            result = find_sensitivity(measure, threshold=threshold, start_db=start,
                                      step_db=float(s.get("coarse_step_db", 1.0)),
                                      refine_points=int(s.get("refine_points", 2)),
                                      max_points=int(s.get("max_points", 20)), min_db=0.0, max_db=45.0)
        except NoCrossing as exc:
            att.attenuation_db = 45.0
            if not self._fails_at_full_power(step, lane, exc, threshold, extra):
                raise
            return
        att.attenuation_db = 45.0
        self.keep_artifact(self.artifacts.add_curve, (self.temperature_c, lane), result)
        self.judged_records(step, lane, {"rx_sensitivity_oma_dbm": result.oma_dbm, **extra}, "rx",
                            extra={"rx_sensitivity_average_dbm": result.average_power_dbm})

    def _fails_at_full_power(self, step: Step, lane: int, exc: NoCrossing, threshold: float,
                             extra: Mapping[str, float]) -> bool:
        """BER at or above the threshold even at the least attenuation: the sensitivity is worse
        (higher) than the OMA received there.  If that OMA already exceeds the limit, the lane
        FAILS by at least the margin: record that bound as a FAIL (True).  Otherwise the sweep
        decides nothing (False: the caller's ERROR stands)."""
        from optics.verdict import evaluate

        name = "rx_sensitivity_oma_dbm"
        if exc.side != "minimum" or name not in step.limits:
            return False
        bound = exc.last
        probe = evaluate({name: bound.oma_dbm, **extra}, self.spec, scope="rx", require=[name])
        rows = [r for r in probe.rows if r.row.metric == name]
        if not rows or merge_rows(rows).status != "FAIL":
            return False
        self.judged_records(step, lane, {name: bound.oma_dbm, **extra}, "rx", message=(
            f"sensitivity worse than {bound.oma_dbm:.2f} dBm OMA: BER {bound.ber:.3g} >= {threshold:g} even at "
            f"the least attenuation ({bound.attenuation_db:.2f} dB); the value is that bound"))
        return True

    def ddm(self, step: Step) -> None:
        mod = self.bench.module
        if mod is None:
            raise ConfigError("the ddm step needs the module's management interface (CMIS)")
        # read everything first, then record: a read failing half-way (retried) must not leave
        # the values read before it in the store twice
        temperature_c, vcc_v = mod.temperature_c, mod.vcc_v
        mon = mod.lane_monitors()
        self.record(step, "module_temperature_c", temperature_c, Outcome.PASS, instruments=("module",))
        self.record(step, "supply_voltage_v", vcc_v, Outcome.PASS, instruments=("module",))
        for k in range(min(self.plan.lanes, len(mon.tx_power_w))):
            p = mon.tx_power_w[k]
            if p > 0:
                self.record(step, "tx_power_dbm", 10.0 * math.log10(p / 1e-3), Outcome.PASS, lane=k,
                            instruments=("module",))
            self.record(step, "laser_bias_a", mon.tx_bias_a[k], Outcome.PASS, lane=k, instruments=("module",))


def spool_note(bench: Any, spec: Any, step_name: str) -> str:
    """On the virtual bench, a note when its scope's compliance spool is not the PHY's compliance
    fibre (:func:`models.compliance.compliance_channel`): the TDECQ recorded is then not the one
    the PHY (and the yield prediction) measure.  "" when they match, and on a real bench (whose
    spool the station cannot see)."""
    scope = getattr(getattr(getattr(bench, "link", None), "params", None), "scope", None)
    if scope is None:
        return ""
    from models.compliance import compliance_channel

    want = compliance_channel(spec)
    want_d = 0.0 if want is None else want.dispersion_ps_per_nm
    have_d = float(scope.compliance_dispersion_ps_per_nm)
    same_lambda = want is None or have_d == 0.0 or abs(scope.compliance_wavelength_m - want.wavelength_m) <= 1e-12
    if abs(have_d - want_d) <= 1e-6 and same_lambda:
        return ""
    at = "" if want is None else f" at {want.wavelength_m * 1e9:.1f} nm"
    return (f"step {step_name}: the virtual scope measures TDECQ through a {have_d:g} ps/nm spool "
            f"([virtual.scope] compliance_dispersion_ps_per_nm), not {spec.name}'s compliance fibre "
            f"({want_d:.4g} ps/nm{at})")
