"""A station run as an OpenHTF test record (JSON), for factory systems that read OpenHTF output.

OpenHTF (github.com/google/openhtf) writes one JSON object per test run, the
``TestRecord.as_base_types()`` of its ``json_factory`` output callback.  :func:`openhtf_record`
builds the same object from a run in the results store, so a line that collects OpenHTF
records can take this station's runs unchanged:

- the record: ``dut_id`` (the serial), ``station_id``, ``start_time_millis``,
  ``end_time_millis``, ``outcome`` (``PASS``, ``FAIL``, ``ERROR``), ``outcome_details``
  (``{code, description}``: why a run did not finish), ``marginal``, ``metadata``
  (``test_name`` = plan name, plan hash, toolkit version, run id, bench identities),
  ``code_info``, ``phases``, ``log_records`` (the ERROR messages) and the empty
  ``subtests``, ``branches``, ``diagnosers``, ``diagnoses``;
- one phase per step and case temperature, in the order they ran (``tx@25C``): ``name``,
  start and end times (of its first and last record), ``outcome`` (``PASS``, ``FAIL``, or
  ``ERROR`` when a record of it has no value), ``result`` (``{"phase_result": "CONTINUE"}``),
  ``measurements``, ``attachments`` (none), ``codeinfo``;
- one measurement per record: ``name`` (``<metric>_lane<k>`` for a lane's record, a ``#2``
  suffix on a repeat), ``outcome`` (``PASS`` / ``FAIL``, ``UNSET`` without a value; a
  MARGINAL record is a ``PASS`` with ``marginal: true``), ``measured_value``, ``units``
  (``{name, code, suffix}``, UN/ECE codes where OpenHTF has them), ``validators`` (OpenHTF's
  ``InRange`` text, ``"lo <= x <= hi"``) and ``docstring`` (the spec reference and message).

The field set follows OpenHTF's ``openhtf/core/test_record.py`` and
``openhtf/core/measurements.py`` as read (no OpenHTF code is used or needed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optics.io.atomic import write_text
from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus

#: Units as OpenHTF describes them: name, UN/ECE Rec. 20 code, suffix.
_UNITS = {
    "dB": ("decibel", "2N"),
    "s": ("second [unit of time]", "SEC"),
    "W": ("watt", "WTT"),
    "V": ("volt", "VLT"),
    "A": ("ampere", "AMP"),
    "°C": ("degree Celsius", "CEL"),
    "m": ("metre", "MTR"),
    "Hz": ("hertz", "HTZ"),
}


def _millis(t: float | None) -> int | None:
    return None if t is None else int(round(t * 1000.0))


def _units(unit: str) -> dict[str, Any] | None:
    if not unit:
        return None
    name, code = _UNITS.get(unit, (unit, ""))
    return {"name": name, "code": code, "suffix": unit}


def _validator(low: float | None, high: float | None) -> list[str]:
    """OpenHTF's ``InRange`` validator text."""
    if low is None and high is None:
        return []
    if low is not None and high is not None and low == high:
        return [f"x == {low!r}"]
    text = "" if low is None else f"{low!r} <= "
    text += "x"
    if high is not None:
        text += f" <= {high!r}"
    return [text]


def _measurement(r: MeasurementRecord, name: str) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name}
    if r.value is None:
        m["outcome"] = "UNSET"
    else:
        m["outcome"] = "FAIL" if r.outcome is Outcome.FAIL else "PASS"
        m["measured_value"] = r.value
        if r.outcome is Outcome.MARGINAL:
            m["marginal"] = True
    validators = _validator(r.low_limit, r.high_limit)
    if validators:
        m["validators"] = validators
    units = _units(r.unit)
    if units:
        m["units"] = units
    doc = "; ".join(x for x in (r.spec_ref, r.message) if x)
    if doc:
        m["docstring"] = doc
    return m


def _phase_name(r: MeasurementRecord) -> str:
    return r.step if r.temperature_c is None else f"{r.step}@{r.temperature_c:g}C"


def _phases(records: Sequence[MeasurementRecord]) -> list[dict[str, Any]]:
    groups: dict[str, list[MeasurementRecord]] = {}
    for r in records:  # in the order taken; a phase is a step at one temperature
        groups.setdefault(_phase_name(r), []).append(r)
    phases = []
    for index, (name, recs) in enumerate(groups.items()):
        measurements: dict[str, Any] = {}
        for r in recs:
            base = r.name if r.lane is None else f"{r.name}_lane{r.lane}"
            key, k = base, 1
            while key in measurements:  # a retried or repeated measurement keeps both values
                k += 1
                key = f"{base}#{k}"
            measurements[key] = _measurement(r, key)
        if any(r.outcome is Outcome.ERROR or r.value is None for r in recs):
            outcome = "ERROR"
        elif any(r.outcome is Outcome.FAIL for r in recs):
            outcome = "FAIL"
        else:
            outcome = "PASS"
        phases.append({
            "name": name,
            "descriptor_id": index,
            "codeinfo": {"name": name, "docstring": None, "sourcecode": ""},
            "start_time_millis": _millis(min(r.taken_at_s for r in recs)),
            "end_time_millis": _millis(max(r.taken_at_s for r in recs)),
            "outcome": outcome,
            "marginal": any(r.outcome is Outcome.MARGINAL for r in recs),
            "result": {"phase_result": "CONTINUE"},
            "measurements": measurements,
            "attachments": {},
            "diagnosers": [],
            "diagnosis_results": [],
            "failure_diagnosis_results": [],
            "subtest_name": None,
        })
    return phases


def openhtf_record(run: RunRecord, records: Sequence[MeasurementRecord]) -> dict[str, Any]:
    """The OpenHTF ``TestRecord`` (as JSON-ready base types) of a station run (module notes)."""
    if run.outcome is None or run.status is RunStatus.RUNNING:
        outcome = None  # still running: OpenHTF has no outcome before the end
    elif run.status is RunStatus.INCOMPLETE or run.outcome is Outcome.ERROR:
        outcome = "ERROR"
    elif run.outcome is Outcome.FAIL:
        outcome = "FAIL"
    else:
        outcome = "PASS"
    details = []
    if run.status is RunStatus.INCOMPLETE:
        details.append({"code": "INCOMPLETE", "description": run.note or "the run did not finish"})
    elif run.note:
        details.append({"code": "NOTE", "description": run.note})
    logs = [
        {"timestamp_millis": _millis(r.taken_at_s), "level": 40, "source": "optics.station", "lineno": 0,
         "logger_name": "optics.station", "message": f"{_phase_name(r)} {r.name}"
                                                    f"{'' if r.lane is None else f' lane {r.lane}'}: {r.message}"}
        for r in records if r.outcome is Outcome.ERROR
    ]
    return {
        "dut_id": run.serial,
        "station_id": run.station_id,
        "start_time_millis": _millis(run.started_at_s),
        "end_time_millis": _millis(run.ended_at_s),
        "outcome": outcome,
        "outcome_details": details,
        "marginal": run.outcome is Outcome.MARGINAL,
        "metadata": {
            "test_name": run.plan_name,
            "plan_hash": run.plan_hash,
            "toolkit_version": run.toolkit_version,
            "run_id": run.run_id,
            "bench": {k: str(v) for k, v in dict(run.bench).items()},
            "config": {},
        },
        "code_info": {"name": "optics station", "docstring": None, "sourcecode": ""},
        "phases": _phases(records),
        "subtests": [],
        "branches": [],
        "diagnosers": [],
        "diagnoses": [],
        "log_records": logs,
    }


def write_openhtf_json(run: RunRecord, records: Sequence[MeasurementRecord], path: str | Path) -> Path:
    """Write :func:`openhtf_record` of the run to ``path`` (UTF-8 JSON, replaced whole or not at
    all: :func:`optics.io.atomic.write_text`) and return the path."""
    return write_text(path, json.dumps(openhtf_record(run, records), indent=1, allow_nan=False))


__all__ = ["openhtf_record", "write_openhtf_json"]
