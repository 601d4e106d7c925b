"""Reading a lot's measurement records as columns (numpy arrays), fast enough for 10^6 records.

:func:`read_records` takes any results store.  With a store that hands out its DB-API
connection (``store.connection()`` and ``store.sql()``: both SQL back ends) it reads only the
columns the statistics need in one query, the text columns coded by the database (step, name
and unit as an integer key, the outcome as 0/1/2); otherwise it goes through the store's read
API (``store.measurement_columns()``, or ``store.measurements()`` for a store without it).
All give the same table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from optics.station.records import Outcome

#: Outcome codes of :attr:`RecordTable.outcome`.
OK, FAIL, ERROR = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class RecordTable:
    """Measurement records as columns: ``run_id_code`` indexes ``run_ids``, ``key`` indexes
    ``keys`` (``(step, name, unit)``), lane / temperature / value / limits are float (NaN:
    none), ``outcome`` is :data:`OK`, :data:`FAIL` or :data:`ERROR`."""

    run_ids: tuple[str, ...]
    run_id_code: np.ndarray
    keys: tuple[tuple[str, str, str], ...]
    key: np.ndarray
    lane: np.ndarray
    temperature_c: np.ndarray
    value: np.ndarray
    low_limit: np.ndarray
    high_limit: np.ndarray
    outcome: np.ndarray

    def __len__(self) -> int:
        return int(self.key.size)

    def take(self, mask: np.ndarray) -> RecordTable:
        """The records where ``mask`` holds (same code books)."""
        return dataclasses.replace(self, **{f: getattr(self, f)[mask] for f in _ARRAYS})


_ARRAYS = ("run_id_code", "key", "lane", "temperature_c", "value", "low_limit", "high_limit", "outcome")


def _connection(store: Any) -> tuple[Any, Any] | None:
    """The store's DB-API connection and its SQL translation (``?`` markers to the driver's:
    ``store.connection()`` and ``store.sql()``), or None (then the store's read API is used)."""
    get, sql = getattr(store, "connection", None), getattr(store, "sql", None)
    if not (callable(get) and callable(sql)):
        return None
    return get(), sql


def read_records(store: Any, *, plan_name: str | None = None, since_s: float | None = None) -> RecordTable:
    """The records of the runs ``store.runs(plan_name=..., since_s=...)`` selects, as a :class:`RecordTable`."""
    found = _connection(store)
    if found is not None:
        table = _from_sql(*found, plan_name, since_s)
    elif callable(columns := getattr(store, "measurement_columns", None)):
        table = _from_columns(columns(plan_name=plan_name, since_s=since_s))
    else:
        table = _from_records(store.measurements(plan_name=plan_name, since_s=since_s))
    return _sorted_keys(table)


def _sorted_keys(table: RecordTable) -> RecordTable:
    """The same table with its (step, name, unit) keys in sorted order (whatever the read path)."""
    order = sorted(range(len(table.keys)), key=lambda i: table.keys[i])
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return dataclasses.replace(table, keys=tuple(table.keys[i] for i in order),
                               key=remap[table.key] if len(table) else table.key)


def _from_sql(conn: Any, sql: Any, plan_name: str | None, since_s: float | None) -> RecordTable:
    clauses, args = [], []
    if plan_name is not None:
        clauses.append("r.plan_name = ?")
        args.append(plan_name)
    if since_s is not None:
        clauses.append("r.started_at_s >= ?")
        args.append(float(since_s))
    join = " JOIN runs r ON r.run_id = m.run_id" if clauses else ""
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    cur = conn.cursor()
    cur.execute(sql(f"SELECT DISTINCT m.step, m.name, m.unit FROM measurements m{join}{where}"), args)
    keys = tuple(tuple(k) for k in cur.fetchall())
    if not keys:
        return _empty()
    case = "CASE " + " ".join(f"WHEN m.step = ? AND m.name = ? AND m.unit = ? THEN {i}"
                              for i in range(len(keys))) + " END"
    fail, error = Outcome.FAIL.value, Outcome.ERROR.value
    cur.execute(sql(
        f"SELECT m.run_id, {case}, m.lane, m.temperature_c, m.value, m.low_limit, m.high_limit, "
        f"CASE m.outcome WHEN '{fail}' THEN {FAIL} WHEN '{error}' THEN {ERROR} ELSE {OK} END "
        f"FROM measurements m{join}{where}"), [x for k in keys for x in k] + args)
    rows = cur.fetchall()
    if not rows:
        return _empty()
    codes, uniques = pd.factorize(np.array([r[0] for r in rows], dtype=object))
    num = np.array(rows, dtype=object)[:, 1:].astype(float)     # None -> NaN
    return RecordTable(run_ids=tuple(uniques), run_id_code=codes.astype(np.int64), keys=keys,
                       key=num[:, 0].astype(np.int64), lane=num[:, 1], temperature_c=num[:, 2], value=num[:, 3],
                       low_limit=num[:, 4], high_limit=num[:, 5], outcome=num[:, 6].astype(np.int8))


def _from_columns(cols: dict[str, Sequence[Any]]) -> RecordTable:
    """From the store's ``measurement_columns()`` (column name -> values)."""
    if not len(cols.get("run_id", ())):
        return _empty()
    codes, uniques = pd.factorize(np.array(cols["run_id"], dtype=object))
    kcodes, kuniq = pd.factorize(pd.Series(list(zip(cols["step"], cols["name"], cols["unit"])), dtype=object))
    code_of = {Outcome.FAIL.value: FAIL, Outcome.ERROR.value: ERROR}
    return RecordTable(run_ids=tuple(uniques), run_id_code=codes.astype(np.int64),
                       keys=tuple(tuple(k) for k in kuniq), key=kcodes.astype(np.int64),
                       **{c: np.array(cols[c], dtype=float) for c in ("lane", "temperature_c", "value", "low_limit",
                                                                      "high_limit")},
                       outcome=np.array([code_of.get(str(o), OK) for o in cols["outcome"]], dtype=np.int8))


def _from_records(records: Sequence[Any]) -> RecordTable:
    if not records:
        return _empty()
    codes, uniques = pd.factorize(np.array([r.run_id for r in records], dtype=object))
    kcodes, kuniq = pd.factorize(pd.Series([(r.step, r.name, r.unit) for r in records], dtype=object))
    code_of = {Outcome.FAIL: FAIL, Outcome.ERROR: ERROR}

    def col(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in records], dtype=float)

    return RecordTable(run_ids=tuple(uniques), run_id_code=codes.astype(np.int64),
                       keys=tuple(tuple(k) for k in kuniq), key=kcodes.astype(np.int64), lane=col("lane"),
                       temperature_c=col("temperature_c"), value=col("value"), low_limit=col("low_limit"),
                       high_limit=col("high_limit"),
                       outcome=np.array([code_of.get(r.outcome, OK) for r in records], dtype=np.int8))


def _empty() -> RecordTable:
    f = np.zeros(0)
    i = np.zeros(0, dtype=np.int64)
    return RecordTable(run_ids=(), run_id_code=i, keys=(), key=i, lane=f, temperature_c=f, value=f, low_limit=f,
                       high_limit=f, outcome=np.zeros(0, dtype=np.int8))


__all__ = ["ERROR", "FAIL", "OK", "RecordTable", "read_records"]
