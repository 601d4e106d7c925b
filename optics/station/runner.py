"""The station runner: one test plan on one module, every record committed as it is taken.

Order of a run (:func:`run_plan`)::

    check the plan against the bench            (ConfigError before any instrument is touched)
    begin the run in the store                  (run record: serial, plan + hash, bench identities)
    identify the module                         (CMIS serial == the given serial, if the bench can read it)
    for each temperature:   thermal head to the set point, wait until at temperature (window + soak)
        for each step:      (retries after an ERROR, per lane)
            for each lane:  lane switch -> measure -> verdict (optics.verdict) -> records
    finally:                BERT outputs off, attenuator shutters closed, thermal head to ambient
                            and air flow off, each instrument retried over a fresh session and read
                            back (optics.station.safe_state); the run closed complete or incomplete

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

Outcome of a run: ERROR if any record is ERROR, the run is incomplete or the bench could
not be confirmed safe at its end, else FAIL if any is FAIL, else MARGINAL if any is
MARGINAL, else PASS.  An instrument not confirmed safe (after its reconnects and retries,
:mod:`optics.station.safe_state`) gets an ERROR record ``safe_state`` naming it and what
was not confirmed, the run's note starts ``BENCH NOT SAFE``, and the ``optics.station``
logger reports it as an error (on stderr even without any logging set up).  Limits: the
PHY table's rows named by the plan (with the plan's product guard bands), evaluated by
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
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from optics.errors import ConfigError, OpticsError
from optics.station.artifacts import RunArtifacts, load_artifacts
from optics.station.plan import TestPlan
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus
from optics.station.steps import FATAL_ERRORS, PLAN_ERROR_NOTE, UNITS, Progress, _Abort, _Run, overall_outcome
from optics.station.store import ResultStore


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
    closed = store.begin_run(run) or []     # runs of this serial left running by a station that is gone
    state = _Run(plan, bench, store, run, progress)
    state.notes.extend(f"closed stale run {r.run_id}: {r.note}" for r in closed)
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
        safety = state.safe_state()
        interrupt = safety.interrupt
        if state.notes:
            note = "; ".join(([note] if note else []) + state.notes)
        try:
            unsafe = state.record_safe_state(safety)
        except Exception as exc:  # the store failed: end_run below meets it too (and says so)
            unsafe = ("BENCH NOT SAFE: " + "; ".join(i.describe() for i in safety.unconfirmed)
                      + f" (its ERROR record failed: {type(exc).__name__}: {exc})")
        if unsafe:  # first: what the operator must act on
            note = unsafe + ("; " + note if note else "")
        try:
            state.flag_concurrent_runs()
        except Exception as exc:  # the store failed: end_run below meets it too (and says so)
            note = (note + "; " if note else "") + f"concurrent-run check failed: {type(exc).__name__}: {exc}"
        # ERROR/INCOMPLETE > FAIL > MARGINAL > PASS: a run that did not finish is ERROR even with
        # a FAIL among its records (the module was not fully tested: retest, not a final reject);
        # so is a run that could not confirm the bench safe (hot head, light or drive still on)
        outcome = overall_outcome(state.records)
        if status is not RunStatus.COMPLETE or safety.unconfirmed:
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


# FATAL_ERRORS, PLAN_ERROR_NOTE, UNITS, RunArtifacts, load_artifacts and overall_outcome live in
# optics.station.steps / optics.station.artifacts and are re-exported here
__all__ = ["FATAL_ERRORS", "PLAN_ERROR_NOTE", "UNITS", "RunArtifacts", "RunResult", "format_record", "load_artifacts",
           "overall_outcome", "record_plan_error", "run_plan"]
