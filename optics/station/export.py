"""A lot's records exported for a data team: one row per measurement, with its run (CSV or Parquet).

:func:`export_lot` reads either results store (SQLite or PostgreSQL, through
:meth:`~optics.station.store.SQLResultStore.connection`) and writes every measurement record of
the runs ``store.runs(plan_name=..., since_s=...)`` selects, in the order taken, joined with its
run (serial, plan, station, host, status and outcome -- a run whose station is gone as the
store reports it: ``incomplete``).  The file is replaced whole or not at all.  The export is
of the runs read when it starts: records of a run a station begins meanwhile are left out.

* CSV: numbers written exactly (``repr``: 17 significant digits), empty cells for none; text
  cells go through :func:`optics.station.report.csv_text` (no spreadsheet formula injection).
* Parquet (``pyarrow``): the same columns, typed (:data:`PARQUET_TYPES`: float64 values and
  limits, int lane, bool verified, UTC text stamps, nulls for none), text unescaped (no
  spreadsheet reads it), written in row groups of ``batch_rows``.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path
from typing import Any

from optics.errors import InvalidParameter
from optics.io.atomic import atomic_file
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


#: Export formats.
FORMATS = ("csv", "parquet")
_FLOAT_COLUMNS = frozenset({"temperature_c", "value", "low_limit", "high_limit", "margin", "taken_at_s"})


def _parquet_schema() -> Any:
    import pyarrow as pa

    def kind(c: str) -> Any:
        if c in _FLOAT_COLUMNS:
            return pa.float64()
        if c == "lane":
            return pa.int64()
        if c == "verified":
            return pa.bool_()
        return pa.string()

    return pa.schema([(c, kind(c)) for c in EXPORT_COLUMNS])


def export_lot(store: SQLResultStore, out: str | os.PathLike[str], *, plan_name: str | None = None,
               since_s: float | None = None, batch_rows: int = 10_000, fmt: str = "csv") -> ExportResult:
    """Write the records of a lot as CSV or Parquet (columns :data:`EXPORT_COLUMNS`).

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
        Rows fetched from the database at a time (a Parquet row group).
    fmt : str
        ``"csv"`` (default) or ``"parquet"``.

    Returns
    -------
    ExportResult

    Raises
    ------
    InvalidParameter
        No run matches (the file is not written), ``batch_rows`` < 1, an unknown format.
    """
    if not (isinstance(batch_rows, int) and batch_rows >= 1):
        raise InvalidParameter(f"batch_rows = {batch_rows!r} must be an integer >= 1")
    if fmt not in FORMATS:
        raise InvalidParameter(f"format {fmt!r} unknown; allowed: {', '.join(FORMATS)}")
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
    path = Path(out)
    if fmt == "parquet":
        n = _write_parquet(cur, runs, path, batch_rows)
        return ExportResult(path=path, n_runs=len(runs), n_records=n)
    n = 0
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


def _write_parquet(cur: Any, runs: dict[str, Any], path: Path, batch_rows: int) -> int:
    """The records as Parquet row groups into a temporary file, renamed over ``path`` at the end."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    n = 0
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            while rows := cur.fetchmany(batch_rows):
                table_rows = [_typed_row(runs[m["run_id"]], m) for m in (dict(zip(_MEAS, r)) for r in rows)
                              if m["run_id"] in runs]
                if table_rows:
                    cols = list(zip(*table_rows))
                    writer.write_table(pa.table({c: list(v) for c, v in zip(EXPORT_COLUMNS, cols)}, schema=schema))
                    n += len(table_rows)
            if n == 0:
                writer.write_table(schema.empty_table())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def _typed_row(run: Any, m: dict[str, Any]) -> tuple[Any, ...]:
    out: list[Any] = [run.run_id, run.serial, run.plan_name, run.plan_hash, run.station_id, run.host,
                      run.toolkit_version, utc_text(run.started_at_s), run.status.value,
                      None if run.outcome is None else run.outcome.value]
    for c in _MEAS[1:]:
        v = m[c]
        if c == "taken_at_s":
            out.extend((float(v), utc_text(v)))
        elif v is None:
            out.append(None)
        elif c in _FLOAT_COLUMNS:
            out.append(float(v))
        elif c == "lane":
            out.append(int(v))
        elif c == "verified":
            out.append(bool(v))
        else:
            out.append(str(v))
    return tuple(out)


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


__all__ = ["EXPORT_COLUMNS", "FORMATS", "ExportResult", "export_lot"]
