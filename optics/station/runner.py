"""The station runner: one test plan on one module, every record committed as it is taken.

Order of a run (:func:`run_plan`)::

    check the plan against the bench            (ConfigError before any instrument is touched)
    begin the run in the store                  (run record: serial, plan + hash, bench identities)
    identify the module                         (CMIS serial == the given serial, if the bench can read it)
    for each temperature:   thermal head to the set point, wait until at temperature (window + soak)
        for each step:      (retries after an ERROR, per lane)
            for each lane:  lane switch -> measure -> verdict (optics.verdict) -> records
    finally:                BERT outputs off, attenuator shutters closed, thermal head to ambient
                            and air flow off; the run closed complete or incomplete

Each :class:`~optics.station.records.MeasurementRecord` is committed with
``store.add_measurement`` the moment it exists, so a crash, a kill or an instrument fault
loses nothing already measured; a run that stops early is closed ``incomplete`` (or, after
``kill -9``, reported incomplete by the store because its process is gone).

Receiver sensitivity is measured in optical loopback, as production lines do: the BERT's
pattern generator drives the module's host input, lane ``k``'s transmitter feeds the VOA and
the lane's own receiver, whose host output goes back to the BERT's error detector.  The
received OMA is the power-meter reading (plus the bench's ``rx_path_offset_db``
calibration) times ``2(r - 1)/(r + 1)``, ``r`` the lane's extinction ratio measured in the
Tx step; the sweep is :func:`optics.station.sensitivity.find_sensitivity`.

Outcome of a run: ERROR if any record is ERROR or the run is incomplete, else FAIL if any
is FAIL, else MARGINAL if any is MARGINAL, else PASS.  Limits: the PHY table's rows named
by the plan (with the plan's product guard bands), evaluated by
:func:`optics.verdict.evaluate`; a MARGINAL value is inside the limits but within the guard
band; a metric the table gives as several rows (a min row and a max row) is judged on all
of them (both limits in the record, the worst outcome, the smallest margin).

Retries: a FAIL is never retried; ``retries`` of a step group follow only an ERROR (an
exception).  A failed attempt leaves no ERROR record of its own (the retry decides), but it
is never silent: the records of a retry that succeeded carry ``retried after: <error>`` in
their message, and the ERROR records of a retry that failed too carry ``before: <error>``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
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
from optics.station.plan import Step, TestPlan
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.sensitivity import NoCrossing, SensitivityResult, SweepPoint, find_sensitivity
from optics.station.store import ResultStore

#: Units of the metrics a station records.
UNITS: Mapping[str, str] = {
    "average_power_dbm": "dBm", "oma_outer_dbm": "dBm", "extinction_ratio_db": "dB", "tdecq_db": "dB",
    "ceq_db": "dB", "tdecq_minus_ceq_db": "dB", "oma_minus_tdecq_dbm": "dBm", "rlm": "",
    "rx_sensitivity_oma_dbm": "dBm", "rx_sensitivity_average_dbm": "dBm", "module_temperature_c": "°C",
    "supply_voltage_v": "V", "tx_power_dbm": "dBm", "rx_power_dbm": "dBm", "laser_bias_a": "A",
    "case_temperature_c": "°C", "serial_number": "", "plan_valid": "", "instrument_identity": "",
}

#: Errors after which the bench cannot go on (the run stops, incomplete).
FATAL_ERRORS: tuple[type[BaseException], ...] = (ConnectionLost, InstrumentTimeout)

Progress = Callable[[MeasurementRecord], None]

#: Note of a run that ended before it began because its plan is invalid (no module tested);
#: the lot statistics leave such runs out of the modules' yield.
PLAN_ERROR_NOTE = "invalid plan: "


@dataclasses.dataclass
class RunArtifacts:
    """What a run keeps besides records, for the report: eye waveforms and sensitivity curves.

    Keys are ``(temperature_c, lane)``.  With ``directory`` set, each item is also written
    there the moment it is taken (``eye_<T>_L<k>.npz``, toolkit NumPy format, and
    ``curve_<T>_L<k>.json``), so a report can be rebuilt after a crash
    (:func:`load_artifacts`).
    """

    eyes: dict[tuple[float | None, int], Any] = dataclasses.field(default_factory=dict)
    curves: dict[tuple[float | None, int], SensitivityResult] = dataclasses.field(default_factory=dict)
    tx_metrics: dict[tuple[float | None, int], dict[str, float]] = dataclasses.field(default_factory=dict)
    directory: Path | None = None

    @staticmethod
    def _stem(kind: str, key: tuple[float | None, int]) -> str:
        t, lane = key
        return f"{kind}_{'none' if t is None else format(t, 'g')}_L{lane}"

    def add_eye(self, key: tuple[float | None, int], wf: Any) -> None:
        """Keep (and write) the exported pattern waveform of a lane."""
        self.eyes[key] = wf
        if self.directory is not None:
            from optics.io import write_npz

            self.directory.mkdir(parents=True, exist_ok=True)
            write_npz(wf, self.directory / f"{self._stem('eye', key)}.npz")

    def add_curve(self, key: tuple[float | None, int], result: SensitivityResult) -> None:
        """Keep (and write) a lane's sensitivity sweep."""
        self.curves[key] = result
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            doc = {"temperature_c": key[0], "lane": key[1], "oma_dbm": result.oma_dbm,
                   "average_power_dbm": result.average_power_dbm, "threshold": result.threshold,
                   "points": [p.to_dict() for p in result.points]}
            (self.directory / f"{self._stem('curve', key)}.json").write_text(json.dumps(doc, indent=1))


def load_artifacts(directory: str | Path) -> RunArtifacts:
    """Read the eyes and curves a run wrote into ``directory`` (missing directory: none)."""
    from optics.io import read_npz

    d = Path(directory)
    art = RunArtifacts()
    if not d.is_dir():
        return art
    for f in sorted(d.glob("eye_*.npz")):
        wf = read_npz(f)
        t = wf.meta.get("temperature_c")
        art.eyes[(None if t is None else float(t), int(wf.meta.get("lane", 0)))] = wf
    for f in sorted(d.glob("curve_*.json")):
        doc = json.loads(f.read_text())
        t = doc["temperature_c"]
        art.curves[(None if t is None else float(t), int(doc["lane"]))] = SensitivityResult(
            oma_dbm=doc["oma_dbm"], average_power_dbm=doc["average_power_dbm"], threshold=doc["threshold"],
            points=tuple(SweepPoint(**p) for p in doc["points"]))
    return art


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What :func:`run_plan` returns."""

    run: RunRecord
    status: RunStatus
    outcome: Outcome
    records: tuple[MeasurementRecord, ...]
    note: str
    artifacts: RunArtifacts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (records included)."""
        counts = {o.value: sum(r.outcome is o for r in self.records) for o in Outcome}
        return {
            "run_id": self.run.run_id, "serial": self.run.serial, "plan": self.run.plan_name,
            "plan_hash": self.run.plan_hash, "status": self.status.value, "outcome": self.outcome.value,
            "note": self.note, "counts": counts, "toolkit_version": self.run.toolkit_version,
            "bench": dict(self.run.bench),
            "records": [_record_dict(r) for r in self.records],
        }


def _record_dict(r: MeasurementRecord) -> dict[str, Any]:
    d = dataclasses.asdict(r)
    d["outcome"] = r.outcome.value
    d["instruments"] = dict(r.instruments)
    return d


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
        """Evaluate ``metrics`` against the plan's PHY rows and commit one record per metric
        (``message`` goes into each judged record; ``notes``: why a metric has no value)."""
        from optics.verdict import evaluate

        verdict = evaluate(metrics, self.spec, guard_band_db=self.plan.guard_band,
                           guard_bands=dict(step.guard_bands) or None, scope=scope,
                           require=[m for m in step.limits], lane=None)
        grouped: dict[str, list[Any]] = {}
        for row in verdict.rows:
            if row.row.metric in step.limits:
                grouped.setdefault(row.row.metric, []).append(row)
        by_metric = {name: _merge_rows(rows) for name, rows in grouped.items()}
        values = {**metrics, **(extra or {})}
        derived = {r.row.metric: r.value for r in verdict.rows if r.value is not None}
        # every record of the lane is made before any is committed: a value the records refuse
        # (non-finite) makes the lane an ERROR without leaving half of it in the store, once per attempt
        made = []
        for name in _metric_order(step):
            value = values.get(name, derived.get(name))
            row = by_metric.get(name)
            if row is None:
                if value is None or name in ("secq_db",):
                    continue
                made.append(self.make_record(step, name, float(value), Outcome.PASS, lane=lane,
                                             instruments=step.instruments, message="recorded, no limit in the plan"))
                continue
            if row.status == "NOT TESTED":
                made.append(self.make_record(
                    step, name, None if row.value is None else float(row.value), Outcome.ERROR, lane=lane,
                    spec_ref=row.row.clause, verified=row.row.verified, instruments=step.instruments,
                    message=f"not judged: {(notes or {}).get(name) or row.note or 'no value'}"))
                continue
            made.append(self.make_record(
                step, name, float(row.value), Outcome(row.status), lane=lane, low=row.min, high=row.max,
                margin=row.margin, spec_ref=row.row.clause, verified=row.row.verified, instruments=step.instruments,
                message=message))
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

    def safe_state(self) -> tuple[list[str], BaseException | None]:
        """Outputs off, shutters closed, thermal head to ambient and off.

        Every instrument gets its turn whatever the one before did -- an exception, a driver
        lacking the method, even a second Ctrl-C or SIGTERM (``KeyboardInterrupt`` /
        ``SystemExit``), which is held back and returned so the caller can close the run
        first and re-raise it after.

        Returns
        -------
        problems : list of str
            What could not be made safe, and why.
        interrupt : BaseException or None
            The first interrupt received while making the bench safe.
        """
        problems: list[str] = []
        interrupt: list[BaseException] = []
        inst = self.bench.instruments

        def attempt(what: str, fn: Callable[[], None]) -> None:
            try:
                fn()
            except BaseException as exc:  # keep going: every instrument must get its chance
                problems.append(f"{what}: {type(exc).__name__}: {exc}")
                if not isinstance(exc, Exception) and not interrupt:
                    interrupt.append(exc)

        if "bert" in inst:
            attempt("bert outputs off", lambda: setattr(inst["bert"], "output_enabled", False))
            attempt("bert global outputs off", lambda: inst["bert"].shutdown())
        if "attenuator" in inst:
            attempt("attenuator shutters closed", lambda: inst["attenuator"].shutdown())
        if "thermal" in inst and self.thermal_touched:
            th = inst["thermal"]
            attempt("thermal set point to ambient", lambda: th.set_temperature(self.bench.ambient_c))
            attempt("thermal air flow off", lambda: th.shutdown())
        if self.bench.lane_switch is not None:
            attempt("lane switch", lambda: self.bench.lane_switch.shutdown())
        return problems, (interrupt[0] if interrupt else None)

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
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(r.started_at_s))} UTC, {r.status.value}"
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
        scope.set_reference_receiver(symbol_rate_baud=baud)
        n_taps = int(step.settings.get("tdecq_taps", 5))
        scope.configure_tdecq(n_taps=n_taps, n_precursors=int(step.settings.get("tdecq_precursors", 1)))
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
        if not rows or _merge_rows(rows).status != "FAIL":
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


_STATUS_RANK = {"NOT TESTED": 3, "FAIL": 2, "MARGINAL": 1, "PASS": 0}


def _merge_rows(rows: list[Any]) -> Any:
    """One judgement of a metric the PHY table gives as several rows (e.g. 400GBASE-DR4's
    average power: a max row and a min row): both limits, the worst status, the smallest margin."""
    if len(rows) == 1:
        return rows[0]
    worst = max(rows, key=lambda r: _STATUS_RANK.get(r.status, 3))
    mins = [r.min for r in rows if r.min is not None]
    maxs = [r.max for r in rows if r.max is not None]
    margins = [r.margin for r in rows if r.margin is not None]
    return dataclasses.replace(
        worst, min=max(mins) if mins else None, max=min(maxs) if maxs else None,
        margin=min(margins) if margins else None,
        row=dataclasses.replace(worst.row, clause="; ".join(dict.fromkeys(r.row.clause for r in rows)),
                                verified=all(r.row.verified for r in rows)))


def _metric_order(step: Step) -> tuple[str, ...]:
    from optics.station.plan import STEP_METRICS

    return tuple(STEP_METRICS[step.kind])


def run_plan(
    plan: TestPlan,
    bench: Any,
    store: ResultStore,
    *,
    serial: str,
    station_id: str | None = None,
    progress: Progress | None = None,
    artifacts_dir: str | Path | None = None,
) -> RunResult:
    """Run ``plan`` on the module ``serial`` with the instruments of ``bench``.

    Parameters
    ----------
    plan : TestPlan
        A validated plan (:func:`optics.station.plan.load_plan`).
    bench : StationBench
        Connected instruments (:func:`optics.station.bench_adapter.open_bench`).
    store : ResultStore
        Where the run and its records go (committed one by one).
    serial : str
        Serial number as scanned or given.
    station_id : str, optional
        Station name (default: the host name).
    progress : callable, optional
        Called with each record right after it is committed.  If it raises an ``Exception``
        (a closed pipe...), the display stops and the run goes on (noted in the run's note);
        ``KeyboardInterrupt`` / ``SystemExit`` from it stop the run.
    artifacts_dir : path, optional
        Write eyes and sensitivity curves into ``artifacts_dir/<run_id>/`` as they are taken.

    Returns
    -------
    RunResult
        Status (complete / incomplete), overall outcome, the records, artifacts.

    Raises
    ------
    ConfigError
        The plan needs an instrument the bench lacks (raised before anything is touched).
    KeyboardInterrupt, SystemExit
        Re-raised after the instruments are made safe and the run is closed incomplete.
    Exception
        Anything that is neither an instrument error nor an ``OpticsError`` (a bug, a failing
        results store): the run stops there, is closed incomplete (ERROR) after the safe
        state, and the exception is re-raised; records already committed stay.

    Examples
    --------
    >>> from optics.station.bench_adapter import open_bench            # doctest: +SKIP
    >>> with open_bench() as bench, SQLiteStore("r.sqlite") as store:   # doctest: +SKIP
    ...     result = run_plan(load_plan("plans/800g-dr8.toml"), bench, store, serial="SIM0001")
    """
    from optics import __version__

    plan.check_bench(bench.names)
    if plan.lanes > 1 and bench.lane_switch is None:
        raise ConfigError(f"{plan.path or plan.name}: the plan tests {plan.lanes} lanes but the bench has no lane switch")
    identities = bench.identify()
    from optics.station.bench_adapter import describe

    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name=plan.name, plan_hash=plan.sha256,
                    station_id=station_id or socket.gethostname(), started_at_s=time.time(),
                    toolkit_version=__version__, bench=describe(bench), pid=os.getpid(),
                    host=socket.gethostname())
    store.begin_run(run)
    state = _Run(plan, bench, store, run, progress)
    if artifacts_dir is not None:
        state.artifacts.directory = Path(artifacts_dir) / run.run_id
    status, note = RunStatus.INCOMPLETE, "station stopped before the end of the plan"
    pending: BaseException | None = None
    try:
        for name, idn in identities.items():
            if idn.startswith("<no identity"):
                state.record("identify", "instrument_identity", None, Outcome.ERROR, instruments=(name,),
                             message=f"instrument {name!r} does not answer *IDN?: {idn}")
                raise _Abort(f"instrument {name!r} does not answer: {idn}")
        state.identify_module()
        temperatures = plan.temperatures_c or (None,)
        for t in temperatures:
            state.temperature_c = t
            if t is not None:
                try:
                    state.thermal_touched = True
                    state.go_to_temperature(t)
                    reading = bench.get("thermal").temperature_c
                    state.record("thermal", "case_temperature_c", reading, Outcome.PASS, instruments=("thermal",),
                                 message=f"set point {t:g} °C reached")
                except (OpticsError, OSError) as exc:
                    state.record("thermal", "case_temperature_c", None, Outcome.ERROR, instruments=("thermal",),
                                 message=f"{type(exc).__name__}: {exc}")
                    if isinstance(exc, FATAL_ERRORS):
                        raise _Abort(f"thermal forcer: {exc}") from None
                    continue
            for step in plan.steps:
                state.run_step(step)
        status, note = RunStatus.COMPLETE, ""
    except _Abort as exc:
        note = str(exc)
    except BaseException as exc:  # crash or interrupt: close the run, then re-raise
        note = f"stopped by {type(exc).__name__}: {exc}"
        pending = exc
    finally:
        problems, interrupt = state.safe_state()
        if state.notes:
            note = "; ".join(([note] if note else []) + state.notes)
        if problems:
            note = (note + "; " if note else "") + "safe-state problems: " + "; ".join(problems)
        try:
            state.flag_concurrent_runs()
        except Exception as exc:  # the store failed: end_run below meets it too (and says so)
            note = (note + "; " if note else "") + f"concurrent-run check failed: {type(exc).__name__}: {exc}"
        # ERROR/INCOMPLETE > FAIL > MARGINAL > PASS: a run that did not finish is ERROR even with
        # a FAIL among its records (the module was not fully tested: retest, not a final reject)
        outcome = overall_outcome(state.records)
        if status is not RunStatus.COMPLETE:
            outcome = Outcome.ERROR
        try:
            store.end_run(run.run_id, status=status, outcome=outcome, note=note)
        except Exception:
            # the store itself failed (locked past its timeout, disk full): when that is also why
            # the run stopped, report the first cause; the run stays 'running' in the store, which
            # reports it incomplete once this process has ended
            if pending is None:
                raise
        if pending is None:
            pending = interrupt
    if pending is not None:
        raise pending
    return RunResult(run=run, status=status, outcome=outcome, records=tuple(state.records), note=note,
                     artifacts=state.artifacts)


def record_plan_error(store: ResultStore, *, serial: str, plan_path: str, error: BaseException,
                      station_id: str | None = None) -> RunRecord:
    """Store a run that ended before it began because its plan is invalid (one ERROR record)."""
    from pathlib import Path

    from optics import __version__
    from optics.station.records import plan_hash

    p = Path(plan_path)
    try:
        digest = plan_hash(p.read_bytes())
    except OSError:
        digest = "unreadable"
    run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name=p.stem, plan_hash=digest,
                    station_id=station_id or socket.gethostname(), started_at_s=time.time(),
                    toolkit_version=__version__, pid=os.getpid(), host=socket.gethostname())
    store.begin_run(run)
    store.add_measurement(MeasurementRecord(run_id=run.run_id, serial=serial, step="plan", name="plan_valid",
                                            value=None, unit="", outcome=Outcome.ERROR,
                                            message=f"{PLAN_ERROR_NOTE}{error}"))
    store.end_run(run.run_id, status=RunStatus.INCOMPLETE, outcome=Outcome.ERROR, note=f"{PLAN_ERROR_NOTE}{error}")
    return run


def format_record(r: MeasurementRecord) -> str:
    """One progress line: temperature, step, lane, name, value, limits, outcome, margin."""
    t = "" if r.temperature_c is None else f"{r.temperature_c:5.1f}°C "
    lane = "" if r.lane is None else f"L{r.lane} "
    if r.value is None:
        val = "—"
    else:
        val = f"{r.value:.4g} {r.unit}".rstrip()
    lim = ""
    if r.low_limit is not None or r.high_limit is not None:
        lo = "" if r.low_limit is None else f"{r.low_limit:.4g}"
        hi = "" if r.high_limit is None else f"{r.high_limit:.4g}"
        lim = f" [{lo}..{hi}]"
    margin = "" if r.margin is None else f" margin {r.margin:+.3g}"
    msg = f"  ({r.message})" if r.outcome is Outcome.ERROR and r.message else ""
    return f"{r.serial} {t}{r.step:<5} {lane}{r.name} = {val}{lim} {r.outcome.value}{margin}{msg}"


__all__ = ["FATAL_ERRORS", "PLAN_ERROR_NOTE", "RunArtifacts", "RunResult", "format_record", "load_artifacts", "overall_outcome",
           "record_plan_error", "run_plan"]
