"""A lot's records exported for a data team: one CSV row per measurement, with its run.

:func:`export_lot` reads either results store (SQLite or PostgreSQL, through
:meth:`~optics.station.store.SQLResultStore.connection`) and writes every measurement record of
the runs ``store.runs(plan_name=..., since_s=...)`` selects, in the order taken, joined with its
run (serial, plan, station, host, status and outcome -- a run whose station is gone as the
store reports it: ``incomplete``).  Numbers are written exactly (``repr``: 17 significant
digits), empty cells for none; text cells go through :func:`optics.station.report.csv_text`
(no spreadsheet formula injection).  The file is replaced whole or not at all.  The export is
of the runs read when it starts: records of a run a station begins meanwhile are left out.

Only CSV: Parquet would need ``pyarrow``, which is not a dependency of this toolkit.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path
from typing import Any

from optics.errors import InvalidParameter
from optics.station.atomic import atomic_file
from optics.station.records import utc_text
from optics.station.report import csv_text
from optics.station.store import SQLResultStore

#: Columns of the export, in order: the run's, then the measurement's.
EXPORT_COLUMNS = (
    "run_id", "serial", "plan_name", "plan_hash", "station_id", "host", "toolkit_version", "run_started_at_utc",
    "run_status", "run_outcome", "step", "name", "lane", "temperature_c", "value", "unit", "low_limit",
    "high_limit", "outcome", "margin", "spec_ref", "verified", "taken_at_s", "taken_at_utc", "instruments_json",
    "message",
)

_MEAS = ("run_id", "step", "name", "lane", "temperature_c", "value", "unit", "low_limit", "high_limit", "outcome",
         "margin", "spec_ref", "verified", "taken_at_s", "instruments_json", "message")
_TEXT = frozenset({"step", "name", "unit", "outcome", "spec_ref", "instruments_json", "message"})
_EXACT = frozenset({"temperature_c", "value", "low_limit", "high_limit", "margin", "taken_at_s"})


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What :func:`export_lot` wrote: the file, its number of runs and of records (rows)."""

    path: Path
    n_runs: int
    n_records: int


def export_lot(store: SQLResultStore, out: str | os.PathLike[str], *, plan_name: str | None = None,
               since_s: float | None = None, batch_rows: int = 10_000) -> ExportResult:
    """Write the records of a lot as CSV (columns :data:`EXPORT_COLUMNS`).

    Parameters
    ----------
    store : SQLResultStore
        An open results store (read-only is enough).
    out : str or Path
        The CSV file (its directory must exist); replaced atomically.
    plan_name, since_s : str, float, optional
        Only runs of this plan / started at or after this time (s since the epoch), as
        :meth:`~optics.station.store.ResultStore.runs`.
    batch_rows : int
        Rows fetched from the database at a time.

    Returns
    -------
    ExportResult

    Raises
    ------
    InvalidParameter
        No run matches (the file is not written), or ``batch_rows`` < 1.
    """
    if not (isinstance(batch_rows, int) and batch_rows >= 1):
        raise InvalidParameter(f"batch_rows = {batch_rows!r} must be an integer >= 1")
    runs = {r.run_id: r for r in store.runs(plan_name=plan_name, since_s=since_s)}
    if not runs:
        what = " and ".join(filter(None, (f"of plan {plan_name!r}" if plan_name is not None else "",
                                          f"started at or after {utc_text(since_s)}" if since_s is not None else "")))
        raise InvalidParameter(f"nothing to export: no run {what or 'at all'} in {store.location}")
    clauses, args = [], []
    if plan_name is not None:
        clauses.append("r.plan_name = ?")
        args.append(plan_name)
    if since_s is not None:
        clauses.append("r.started_at_s >= ?")
        args.append(float(since_s))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    cur = store.connection().cursor()
    cur.execute(store.sql(f"SELECT {', '.join('m.' + c for c in _MEAS)} FROM measurements m "
                          f"JOIN runs r ON r.run_id = m.run_id{where} ORDER BY m.id"), args)
    n = 0
    path = Path(out)
    with atomic_file(path, newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_COLUMNS)
        while rows := cur.fetchmany(batch_rows):
            for row in rows:
                m = dict(zip(_MEAS, row))
                if m["run_id"] in runs:      # not a run begun after the runs were read (a station writing)
                    w.writerow(_csv_row(runs[m["run_id"]], m))
                    n += 1
    return ExportResult(path=path, n_runs=len(runs), n_records=n)


def _csv_row(run: Any, m: dict[str, Any]) -> list[Any]:
    t = csv_text
    out: list[Any] = [t(run.run_id), t(run.serial), t(run.plan_name), t(run.plan_hash), t(run.station_id),
                      t(run.host), t(run.toolkit_version), utc_text(run.started_at_s), run.status.value,
                      "" if run.outcome is None else run.outcome.value]
    for c in _MEAS[1:]:
        v = m[c]
        if c == "taken_at_s":
            out.extend((repr(float(v)), utc_text(v)))
        elif v is None:
            out.append("")
        elif c in _TEXT:
            out.append(t(str(v)))
        elif c in _EXACT:
            out.append(repr(float(v)))
        else:
            out.append(int(v))
    return out


__all__ = ["EXPORT_COLUMNS", "ExportResult", "export_lot"]
