"""Lot statistics over a results store: yield, first-pass yield, per-temperature and per-lane
distributions with Cpk, Pareto of failure causes, control charts, throughput, repeatability.

Definitions
-----------
- A module is a serial number.  A run stopped by an invalid plan before any instrument was
  touched tests no module and is left out (it counts in ``n_runs`` only).  PASS and MARGINAL
  count as passing; FAIL, ERROR and incomplete runs do not.
- **Retest policy** ``runs``: ``"last"`` (default) -- each module's last closed run;
  ``"first"`` -- its first run; ``"all"`` -- every run (then yield counts runs, not modules).
  Yield, yield by temperature, Pareto, distributions and control charts use the runs the
  policy selects.  **First-pass yield (FPY)** always uses first runs: modules that passed on
  their first run (ever, of the plan) / modules tested.
- **Yield by temperature**: of the selected runs with records at a case temperature, the
  fraction with no FAIL or ERROR record at it.
- **Conditions** (:data:`CONDITION_NAMES`: the case temperature read at a set point, an
  attenuation) are what a value was measured *at*: listed with their range, never as a
  measurement with σ and Cpk.
- Per measurement, **split by case temperature** (and within it by lane): n, mean μ, sample
  standard deviation σ (ddof = 1) and the process capability.  Each record is judged against
  its **own** limits (stored with it; a limit may depend on another metric, e.g. the
  OMA−TDECQ floor on the extinction ratio), so Cpk is computed on the distances to each
  record's limits, ``d_L = x − LSL_i`` and ``d_U = USL_i − x``:
  ``Cpk = min(mean(d_U) / 3σ(d_U), mean(d_L) / 3σ(d_L))`` -- with constant limits exactly
  ``min(USL − μ, μ − LSL) / 3σ`` (Montgomery, *Introduction to Statistical Quality Control*,
  7th ed., §8.2); undefined (``None``) for n < 2 or σ = 0.
- **Pareto**: failing (FAIL or ERROR) modules per measurement and per step, most first, with
  the cumulative share.
- **Control charts**: an I-MR chart (:mod:`optics.station.control_charts`) per measurement
  and temperature, one point per selected run (its mean over the lanes), in module order.
- **Throughput**: per station, runs per hour between its first start and its last end.
- **Repeatability**: pooled within-module σ of the retests (:mod:`optics.station.repeatability`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optics.errors import ConfigError, InvalidParameter
from optics.station.lot_read import ERROR, FAIL, OK, RecordTable, read_records
from optics.station.records import Outcome, RunStatus, utc_text

#: Records that are conditions of a measurement, not measurements (shown as conditions).
CONDITION_NAMES = frozenset({"case_temperature_c", "attenuation_db", "rx_attenuation_db", "reference_secq_db",
                             "secq_db"})

#: Retest policies of :func:`lot_stats`.
RUN_POLICIES = ("first", "last", "all")

_PASSING = (Outcome.PASS.value, Outcome.MARGINAL.value)
_BAD = (Outcome.FAIL.value, Outcome.ERROR.value)


class EmptyLot(ConfigError):
    """The selection (plan, time window) holds no run of a module."""


def cpk(mean: float, sigma: float, low: float | None, high: float | None) -> float | None:
    """Process capability index ``min(USL − μ, μ − LSL) / (3σ)``; ``None`` if undefined.

    Examples
    --------
    >>> cpk(0.0, 1.0, -3.0, 6.0)
    1.0
    """
    if sigma is None or not (sigma > 0) or (low is None and high is None):
        return None
    sides = []
    if high is not None:
        sides.append((high - mean) / (3.0 * sigma))
    if low is not None:
        sides.append((mean - low) / (3.0 * sigma))
    return float(min(sides))


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and not np.isfinite(x)) else float(x)


def _temp_key(t: float | None) -> str:
    return "none" if t is None else f"{t:g}"


@dataclasses.dataclass(frozen=True)
class LaneStats:
    """One lane of a measurement at one temperature."""

    lane: int | None
    n: int
    n_fail: int
    mean: float | None
    sigma: float | None
    cpk: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class MeasurementStats:
    """Statistics of one measurement at one case temperature (units are the measurement's own).

    ``low_limit``/``high_limit`` are the limits when every record had the same ones; with
    ``limits_per_record`` they differ between records (each judged against its own), the
    ranges give the spread and the limits shown are the most frequent ones.
    """

    step: str
    name: str
    unit: str
    temperature_c: float | None
    n: int
    n_fail: int
    n_error: int
    mean: float | None
    sigma: float | None
    minimum: float | None
    maximum: float | None
    low_limit: float | None
    high_limit: float | None
    cpk: float | None
    histogram_counts: tuple[int, ...]
    histogram_edges: tuple[float, ...]
    limits_per_record: bool = False
    low_limit_range: tuple[float, float] | None = None
    high_limit_range: tuple[float, float] | None = None
    lanes: tuple[LaneStats, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary."""
        d = dataclasses.asdict(self)
        d["histogram_counts"] = list(self.histogram_counts)
        d["histogram_edges"] = list(self.histogram_edges)
        d["low_limit_range"] = None if self.low_limit_range is None else list(self.low_limit_range)
        d["high_limit_range"] = None if self.high_limit_range is None else list(self.high_limit_range)
        d["lanes"] = [lane.to_dict() for lane in self.lanes]
        return d


@dataclasses.dataclass(frozen=True)
class LoadedLot:
    """The runs of a selection (plan-error runs left out; row ``i`` is run index ``i``) and
    their records (:class:`~optics.station.lot_read.RecordTable`) with ``run``, each record's
    run index."""

    runs: pd.DataFrame
    records: RecordTable
    run: np.ndarray
    n_runs: int


def load_lot(store: Any, *, plan_name: str | None = None, since_s: float | None = None) -> LoadedLot:
    """Read the runs and records of a selection from a results store (any :class:`ResultStore`)."""
    from optics.station.runner import PLAN_ERROR_NOTE

    all_runs = store.runs(plan_name=plan_name, since_s=since_s)
    runs = [r for r in all_runs if not r.note.startswith(PLAN_ERROR_NOTE)]
    run_table = pd.DataFrame({
        "run_id": [r.run_id for r in runs], "serial": [r.serial for r in runs],
        "plan_name": [r.plan_name for r in runs], "station_id": [r.station_id for r in runs],
        "started_at_s": np.array([r.started_at_s for r in runs], dtype=float),
        "ended_at_s": np.array([np.nan if r.ended_at_s is None else r.ended_at_s for r in runs], dtype=float),
        "status": [r.status.value for r in runs],
        "outcome": [r.outcome.value if r.outcome else "RUNNING" for r in runs],
        "note": [r.note for r in runs],
    })
    table = read_records(store, plan_name=plan_name, since_s=since_s)
    index_of = {r.run_id: i for i, r in enumerate(runs)}
    lookup = np.array([index_of.get(u, -1) for u in table.run_ids], dtype=np.int64)
    run = lookup[table.run_id_code] if len(table) else np.zeros(0, dtype=np.int64)
    keep = run >= 0
    return LoadedLot(runs=run_table, records=table.take(keep), run=run[keep], n_runs=len(all_runs))


def code_column(x: np.ndarray) -> tuple[list[float | None], np.ndarray]:
    """Distinct values of a float column (sorted, NaN as None last) and each row's code
    (hashing, no sort of the column)."""
    codes, uniques = pd.factorize(x, use_na_sentinel=True)
    order = np.argsort(uniques)
    remap = np.empty(len(uniques) + 1, dtype=np.int64)
    remap[order] = np.arange(len(uniques))
    remap[-1] = len(uniques)                       # NaN (code -1) after every value
    values: list[float | None] = [float(v) for v in np.asarray(uniques)[order]]
    if (codes < 0).any():
        values.append(None)
    return values, remap[codes]


class _Groups:
    """Groups of rows by a non-negative integer id: ``inverse`` maps rows to groups 0..n-1 in
    the order of ``ids``; :meth:`rows` gives the rows of a group."""

    def __init__(self, gid: np.ndarray) -> None:
        gid = np.asarray(gid, dtype=np.int64)
        if gid.size and int(gid.max()) < 8 * gid.size + 4096:        # small range: counting, no sort
            counts = np.bincount(gid)
            self.ids = np.flatnonzero(counts)
            remap = np.zeros(counts.size, dtype=np.int64)
            remap[self.ids] = np.arange(self.ids.size)
            self.inverse = remap[gid]
        else:
            self.ids, inverse = np.unique(gid, return_inverse=True)
            self.inverse = inverse.reshape(-1)
        self._order: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ids.size)

    def rows(self, g: int) -> np.ndarray:
        if self._order is None:
            small = self.inverse.astype(np.int16) if len(self) < 2 ** 15 else self.inverse
            self._order = np.argsort(small, kind="stable")               # radix sort for 16-bit keys
            self._bounds = np.searchsorted(self.inverse[self._order], np.arange(len(self) + 1))
        return self._order[self._bounds[g]:self._bounds[g + 1]]

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.inverse[mask], minlength=len(self))

    def moments(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n, mean and sample σ (ddof = 1; NaN where undefined) of the finite ``x`` per group
        (two passes: the squares are of deviations from the group mean)."""
        ok = np.isfinite(x)
        inv = self.inverse[ok]
        n = np.bincount(inv, minlength=len(self))
        total = np.bincount(inv, weights=x[ok], minlength=len(self))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
            dev = x[ok] - mean[inv]
            ss = np.bincount(inv, weights=dev * dev, minlength=len(self))
            sigma = np.where(n > 1, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)
        return n, mean, sigma


def _cpk_per_record(groups: _Groups, value: np.ndarray, low: np.ndarray, high: np.ndarray,
                    n: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Cpk of each group on the distances to each record's own limits (module docstring)."""
    sides = []
    for d in (value - low, high - value):
        dn, dmean, dsd = groups.moments(d)
        ok = (dn >= 2) & (dsd > 0)
        sides.append(np.where(ok, dmean / (3.0 * np.where(ok, dsd, 1.0)), np.inf))
    best = np.minimum(*sides)
    return np.where(np.isfinite(best) & (n >= 2) & (sigma > 0), best, np.nan)


def _empty_reason(store: Any, plan_name: str | None, since_s: float | None) -> str:
    everything = store.runs()
    if not everything:
        return "the results database holds no runs"
    plans = sorted({r.plan_name for r in everything})
    if plan_name is not None and plan_name not in plans:
        return f"no run of plan {plan_name!r}; plans in the database: {', '.join(repr(p) for p in plans)}"
    of_plan = [r for r in everything if plan_name is None or r.plan_name == plan_name]
    if since_s is not None:
        last = max(r.started_at_s for r in of_plan)
        return (f"no run started at or after {utc_text(since_s)}"
                + ("" if plan_name is None else f" of plan {plan_name!r}")
                + f"; the latest started {utc_text(last)}")
    return "no run tested a module (only runs stopped by an invalid plan)"


@dataclasses.dataclass(frozen=True)
class LotStats:
    """Yield and per-measurement statistics of a lot (see the module docstring)."""

    n_modules: int
    n_runs: int
    n_incomplete_runs: int
    yield_fraction: float | None
    first_pass_yield: float | None
    module_outcomes: dict[str, str]
    measurements: tuple[MeasurementStats, ...]
    plan_name: str | None = None
    since_s: float | None = None
    runs_policy: str = "last"
    by_temperature: tuple[dict[str, Any], ...] = ()
    pareto: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    control_charts: tuple[dict[str, Any], ...] = ()
    conditions: tuple[dict[str, Any], ...] = ()
    throughput: dict[str, Any] = dataclasses.field(default_factory=dict)
    repeatability: dict[str, float] = dataclasses.field(default_factory=dict)
    repeatability_detail: tuple[dict[str, Any], ...] = ()
    modules: tuple[dict[str, Any], ...] = ()
    lot: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary (the ``--json`` output)."""
        return {
            "n_modules": self.n_modules, "n_runs": self.n_runs, "n_incomplete_runs": self.n_incomplete_runs,
            "runs_policy": self.runs_policy, "yield": self.yield_fraction,
            "first_pass_yield": self.first_pass_yield, "by_temperature": list(self.by_temperature),
            "pareto": self.pareto, "control_charts": [dict(c) for c in self.control_charts],
            "measurements": [m.to_dict() for m in self.measurements], "conditions": list(self.conditions),
            "throughput": self.throughput, "repeatability": dict(self.repeatability),
            "repeatability_detail": list(self.repeatability_detail), "module_outcomes": dict(self.module_outcomes),
            "modules": list(self.modules), "lot": dict(self.lot), "plan_name": self.plan_name,
            "since_s": self.since_s,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per measurement and temperature (pandas-friendly), histograms and lanes left out."""
        rows = []
        for m in self.measurements:
            d = m.to_dict()
            for k in ("histogram_counts", "histogram_edges", "lanes"):
                d.pop(k)
            rows.append(d)
        return rows

    def to_text(self) -> str:
        """Readable tables."""
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f} %"

        def num(x: float | None, fmt: str = ".4g") -> str:
            return "-" if x is None else format(x, fmt)

        basis = "runs" if self.runs_policy == "all" else f"{self.runs_policy} run of each module"
        lines = [
            f"modules: {self.n_modules}   runs: {self.n_runs} ({self.n_incomplete_runs} incomplete)   "
            f"statistics over: {basis}",
            f"yield: {pct(self.yield_fraction)}   first-pass yield: {pct(self.first_pass_yield)}   by temperature: "
            + (", ".join(f"{_temp_key(t['temperature_c'])} °C {pct(t['yield'])}" for t in self.by_temperature) or "-"),
        ]
        if self.conditions:
            lines.append("conditions: " + "; ".join(
                f"{c['name']} at {_temp_key(c['temperature_c'])} °C set point: {num(c['minimum'])}..{num(c['maximum'])} "
                f"{c['unit']}" for c in self.conditions))
        if self.pareto.get("by_measurement"):
            lines.append("failures (modules): " + ", ".join(
                f"{p['key']} {p['n_modules']}" for p in self.pareto["by_measurement"]))
        lines += ["", f"{'step':<8} {'measurement':<24} {'°C':>5} {'unit':<5} {'n':>6} {'fail':>5} {'mean':>9} "
                      f"{'sigma':>9} {'LSL':>9} {'USL':>9} {'Cpk':>6}"]
        for m in self.measurements:
            lsl = "per rec" if m.limits_per_record and m.low_limit_range else num(m.low_limit)
            usl = "per rec" if m.limits_per_record and m.high_limit_range else num(m.high_limit)
            lines.append(
                f"{m.step[:8]:<8} {m.name[:24]:<24} {_temp_key(m.temperature_c):>5} {m.unit[:5]:<5} {m.n:>6} "
                f"{m.n_fail:>5} {num(m.mean):>9} {num(m.sigma):>9} {lsl:>9} {usl:>9} {num(m.cpk, '.2f'):>6}")
        if self.repeatability:
            lines.append("repeatability sigma (retests): " + ", ".join(
                f"{k} {v:.3g}" for k, v in self.repeatability.items()))
        return "\n".join(lines)

    def to_html(self, *, reports_dir: str | os.PathLike[str] | None = None,
                page_path: str | os.PathLike[str] | None = None) -> str:
        """The lot page (:func:`optics.station.lot_page.render_lot_page`)."""
        from optics.station.lot_page import render_lot_page

        return render_lot_page(self, reports_dir=reports_dir, page_path=page_path)

    def write_html(self, path: str | os.PathLike[str], *,
                   reports_dir: str | os.PathLike[str] | None = None) -> Path:
        """Write the lot page to ``path``, replaced whole or not at all
        (:func:`optics.io.atomic.write_text`); module verdicts link to the reports in
        ``reports_dir`` (relative to the page); returns the path."""
        from optics.io.atomic import write_text

        return write_text(path, self.to_html(reports_dir=reports_dir, page_path=path))

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2)


def _select_runs(runs: pd.DataFrame, policy: str) -> pd.Index:
    """Run indices the retest policy selects (runs are oldest first)."""
    if policy == "all":
        return runs.index
    if policy == "first":
        return pd.Index(runs.groupby("serial", sort=False).head(1).index)
    closed = runs[runs["status"] != RunStatus.RUNNING.value]
    last_closed = closed.groupby("serial", sort=False).tail(1)
    open_only = runs[~runs["serial"].isin(closed["serial"])].groupby("serial", sort=False).tail(1)
    return pd.Index(pd.concat([last_closed, open_only]).index).sort_values()


def _passed(runs: pd.DataFrame) -> pd.Series:
    return (runs["status"] == RunStatus.COMPLETE.value) & runs["outcome"].isin(_PASSING)


def lot_stats(
    store: Any,
    *,
    plan_name: str | None = None,
    since_s: float | None = None,
    bins: int = 20,
    runs: str = "last",
    chart_by: str = "order",
    golden_serial: str | None = None,
    allow_empty: bool = False,
) -> LotStats:
    """Compute :class:`LotStats` from a results store.

    Parameters
    ----------
    store : ResultStore
        The results store (read through ``runs()`` and ``measurements()``, or its column
        read ``measurement_columns()`` when it has one).
    plan_name : str, optional
        Only runs of this plan.
    since_s : float, optional
        Only runs started at or after this time, s since the epoch.  A module counts as a
        first pass only if its first run ever (of the plan) is in the window and passed.
    bins : int
        Histogram bins per measurement.
    runs : {"last", "first", "all"}
        Retest policy (module docstring).
    chart_by : {"order", "time"}
        Control-chart axis: module order or the run's start time.
    golden_serial : str, optional
        Take the repeatability from this module's runs only.
    allow_empty : bool
        Return an empty lot instead of raising :class:`EmptyLot`.

    Raises
    ------
    EmptyLot
        No run of a module in the selection (the message says what the database holds).
    InvalidParameter
        ``bins`` < 1, an unknown ``runs`` or ``chart_by``.
    """
    from optics.station import repeatability as rep

    if not isinstance(bins, int) or bins < 1:
        raise InvalidParameter(f"bins = {bins!r} must be an integer >= 1")
    if runs not in RUN_POLICIES:
        raise InvalidParameter(f"runs = {runs!r}; allowed: {', '.join(RUN_POLICIES)}")
    if chart_by not in ("order", "time"):
        raise InvalidParameter(f"chart_by = {chart_by!r}; allowed: order, time")
    lot = load_lot(store, plan_name=plan_name, since_s=since_s)
    rt = lot.runs
    if rt.empty and not allow_empty:
        raise EmptyLot(f"nothing to compute: {_empty_reason(store, plan_name, since_s)}")
    firsts = rt.groupby("serial", sort=False).head(1)
    if since_s is not None:     # a first pass is the module's first run ever (of the plan)
        from optics.station.runner import PLAN_ERROR_NOTE

        ever: dict[str, str] = {}
        for r in store.runs(plan_name=plan_name):
            if not r.note.startswith(PLAN_ERROR_NOTE):
                ever.setdefault(r.serial, r.run_id)
        firsts = firsts[firsts["serial"].map(ever) == firsts["run_id"]]
    n_mod = int(rt["serial"].nunique())
    final = rt.loc[_select_runs(rt, "last")]
    selected_idx = _select_runs(rt, runs)
    sel = rt.loc[selected_idx]
    outcomes = {s: ("INCOMPLETE" if st == RunStatus.INCOMPLETE.value else o)
                for s, st, o in zip(final["serial"].tolist(), final["status"].tolist(), final["outcome"].tolist())}
    chosen = np.zeros(len(rt), dtype=bool)
    chosen[selected_idx.to_numpy()] = True
    table = lot.records
    is_cond = np.array([k[1] in CONDITION_NAMES for k in table.keys], dtype=bool)[table.key] if len(table) else (
        np.zeros(0, dtype=bool))
    in_sel = chosen[lot.run]
    meas, meas_run = table.take(in_sel & ~is_cond), lot.run[in_sel & ~is_cond]
    reps = rep.estimate(lot, golden_serial=golden_serial)
    serial_code = pd.factorize(rt["serial"])[0].astype(np.int64)
    return LotStats(
        n_modules=n_mod, n_runs=lot.n_runs,
        n_incomplete_runs=int((rt["status"] == RunStatus.INCOMPLETE.value).sum()),
        yield_fraction=float(_passed(sel).mean()) if len(sel) else None,
        first_pass_yield=(float(_passed(firsts).sum()) / n_mod) if n_mod else None,
        module_outcomes=outcomes, measurements=tuple(_measurement_stats(meas, bins)),
        plan_name=plan_name, since_s=since_s, runs_policy=runs, by_temperature=_by_temperature(meas, meas_run),
        pareto=_pareto(meas, serial_code[meas_run]),
        control_charts=tuple(_control_charts(meas, meas_run, rt, chart_by)),
        conditions=tuple(_conditions(table.take(in_sel & is_cond))), throughput=_throughput(rt),
        repeatability={e.name: e.sigma for e in reps}, repeatability_detail=tuple(e.to_dict() for e in reps),
        modules=tuple(_modules(rt, final)), lot=_lot_header(rt, plan_name, since_s),
    )


def _measurement_groups(t: RecordTable) -> tuple[_Groups, list[float | None]]:
    temps, tcode = code_column(t.temperature_c)
    return _Groups(t.key * len(temps) + tcode), temps


def _limits(lows: np.ndarray, highs: np.ndarray) -> tuple[float | None, float | None, bool]:
    """The most frequent (low, high) limit pair of a group's records and whether they differ."""
    lo = np.where(np.isnan(lows), np.inf, lows)
    hi = np.where(np.isnan(highs), np.inf, highs)
    if lo.min() == lo.max() and hi.min() == hi.max():
        pair, varying = (lo[0], hi[0]), False
    else:
        pairs, counts = np.unique(np.column_stack([lo, hi]), axis=0, return_counts=True)
        pair, varying = pairs[int(np.argmax(counts))], True
    return (_num(pair[0]) if np.isfinite(pair[0]) else None), (_num(pair[1]) if np.isfinite(pair[1]) else None), varying


def _measurement_stats(t: RecordTable, bins: int) -> list[MeasurementStats]:
    if not len(t):
        return []
    groups, temps = _measurement_groups(t)
    n, mean, sigma = groups.moments(t.value)
    n_fail = groups.count(t.outcome == FAIL)
    n_error = groups.count(t.outcome == ERROR)
    group_cpk = _cpk_per_record(groups, t.value, t.low_limit, t.high_limit, n, sigma)
    lanes, lcode = code_column(t.lane)
    lane_groups = _Groups(groups.inverse * len(lanes) + lcode)
    ln, lmean, lsigma = lane_groups.moments(t.value)
    lfail = lane_groups.count(t.outcome == FAIL)
    lcpk = _cpk_per_record(lane_groups, t.value, t.low_limit, t.high_limit, ln, lsigma)
    lanes_of: dict[int, list[LaneStats]] = {}
    for j, lid in enumerate(lane_groups.ids):
        g, lc = divmod(int(lid), len(lanes))
        lane = lanes[lc]
        lanes_of.setdefault(g, []).append(LaneStats(
            lane=None if lane is None else int(lane), n=int(ln[j]), n_fail=int(lfail[j]), mean=_num(lmean[j]),
            sigma=_num(lsigma[j]), cpk=_num(lcpk[j])))
    out = []
    for g, gid in enumerate(groups.ids):
        key, tc = divmod(int(gid), len(temps))
        step, name, unit = t.keys[key]
        rows = groups.rows(g)
        v = t.value[rows]
        v = v[np.isfinite(v)]
        lows, highs = t.low_limit[rows], t.high_limit[rows]
        low, high, varying = _limits(lows, highs)

        def span(a: np.ndarray) -> tuple[float, float] | None:
            a = a[np.isfinite(a)]
            return (float(a.min()), float(a.max())) if varying and a.size else None

        if v.size:
            hist_counts, edges = np.histogram(v, bins=bins)
            hist = (tuple(int(c) for c in hist_counts), tuple(float(e) for e in edges))
        else:
            hist = ((), ())
        out.append(MeasurementStats(
            step=step, name=name, unit=unit, temperature_c=temps[tc], n=int(n[g]), n_fail=int(n_fail[g]),
            n_error=int(n_error[g]), mean=_num(mean[g]), sigma=_num(sigma[g]),
            minimum=float(v.min()) if v.size else None, maximum=float(v.max()) if v.size else None,
            low_limit=low, high_limit=high, cpk=_num(group_cpk[g]), histogram_counts=hist[0],
            histogram_edges=hist[1], limits_per_record=varying, low_limit_range=span(lows),
            high_limit_range=span(highs), lanes=tuple(lanes_of.get(g, ()))))
    return out


def _by_temperature(t: RecordTable, run: np.ndarray) -> tuple[dict[str, Any], ...]:
    if not len(t):
        return ()
    temps, tcode = code_column(t.temperature_c)
    n_runs = int(run.max()) + 1
    pair = tcode * n_runs + run
    tested = np.flatnonzero(np.bincount(pair, minlength=len(temps) * n_runs))
    bad = np.flatnonzero(np.bincount(pair[t.outcome != OK], minlength=len(temps) * n_runs))
    out = []
    for c, temp in enumerate(temps):
        n = int(np.count_nonzero(tested // n_runs == c))
        n_bad = int(np.count_nonzero(bad // n_runs == c))
        out.append({"temperature_c": temp, "n_tested": n, "n_pass": n - n_bad, "yield": (n - n_bad) / n})
    return tuple(out)


def _pareto(t: RecordTable, serial: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    bad = t.outcome != OK
    out: dict[str, list[dict[str, Any]]] = {}
    for label, part in (("by_measurement", 1), ("by_step", 0)):
        names = sorted({k[part] for k in t.keys})
        code_of_key = np.array([names.index(k[part]) for k in t.keys], dtype=np.int64)
        c = code_of_key[t.key[bad]] if bad.any() else np.zeros(0, dtype=np.int64)
        s = serial[bad]
        n_records = np.bincount(c, minlength=len(names))
        modules = np.unique(c * (int(serial.max(initial=0)) + 1) + s) // (int(serial.max(initial=0)) + 1)
        n_modules = np.bincount(modules, minlength=len(names))
        order = sorted((i for i in range(len(names)) if n_records[i]), key=lambda i: (-n_modules[i], -n_records[i]))
        total = int(sum(n_modules[i] for i in order))
        cum = np.cumsum([n_modules[i] for i in order]) / total if total else []
        out[label] = [{"key": names[i], "n_modules": int(n_modules[i]), "n_records": int(n_records[i]),
                       "cumulative_fraction": float(f)} for i, f in zip(order, cum)]
    return out


def _control_charts(t: RecordTable, run: np.ndarray, runs: pd.DataFrame, chart_by: str) -> list[dict[str, Any]]:
    from optics.station.control_charts import imr_chart

    ok = np.isfinite(t.value)
    if not ok.any():
        return []
    t, run = t.take(ok), run[ok]
    groups, temps = _measurement_groups(t)
    n_runs = len(runs)
    per = _Groups(groups.inverse.astype(np.int64) * n_runs + run)      # (measurement group, run)
    _, run_mean, _ = per.moments(t.value)
    g_of, r_of = per.ids // n_runs, per.ids % n_runs                      # sorted by group, then run
    starts = runs["started_at_s"].to_numpy()
    serials = runs["serial"].to_numpy()
    out = []
    for g, gid in enumerate(groups.ids):
        sel = slice(*np.searchsorted(g_of, [g, g + 1]))
        idx = r_of[sel]
        key, tc = divmod(int(gid), len(temps))
        step, name, unit = t.keys[key]
        positions = starts[idx] if chart_by == "time" else np.arange(idx.size, dtype=float)
        chart = imr_chart(run_mean[sel], positions=positions, labels=serials[idx])
        out.append({"step": step, "name": name, "unit": unit, "temperature_c": temps[tc], "axis": chart_by,
                    "point": "mean over lanes of one run", **chart.to_dict()})
    return out


def _conditions(t: RecordTable) -> list[dict[str, Any]]:
    if not len(t):
        return []
    groups, temps = _measurement_groups(t)
    n, mean, _ = groups.moments(t.value)
    out = []
    for g, gid in enumerate(groups.ids):
        key, tc = divmod(int(gid), len(temps))
        step, name, unit = t.keys[key]
        v = t.value[groups.rows(g)]
        v = v[np.isfinite(v)]
        out.append({"step": step, "name": name, "unit": unit, "temperature_c": temps[tc], "n": int(n[g]),
                    "minimum": float(v.min()) if v.size else None, "maximum": float(v.max()) if v.size else None,
                    "mean": _num(mean[g])})
    return out


def _throughput(runs: pd.DataFrame) -> dict[str, Any]:
    def rate(rows: pd.DataFrame) -> dict[str, Any]:
        ends = rows["ended_at_s"].to_numpy()
        closed = np.isfinite(ends)
        first = float(rows["started_at_s"].min())
        last = float(np.max(ends[closed])) if closed.any() else None
        hours = None if last is None else (last - first) / 3600.0
        durations = ends[closed] - rows["started_at_s"].to_numpy()[closed]
        return {"n_runs": int(len(rows)), "n_modules": int(rows["serial"].nunique()), "first_start_s": first,
                "last_end_s": last, "hours": hours,
                "modules_per_hour": (int(closed.sum()) / hours) if hours else None,
                "mean_test_time_s": float(durations.mean()) if durations.size else None}

    if runs.empty:
        return {}
    return {"overall": rate(runs),
            "by_station": {str(s): rate(rows) for s, rows in runs.groupby("station_id", sort=True)}}


def _modules(runs: pd.DataFrame, final: pd.DataFrame) -> list[dict[str, Any]]:
    counts = runs.groupby("serial", sort=False).size().to_dict()
    first = runs.groupby("serial", sort=False).head(1)
    first_outcome = dict(zip(first["serial"].tolist(), first["outcome"].tolist()))
    return [{"serial": serial, "run_id": run_id, "station_id": station, "started_at_s": float(start),
             "status": status, "outcome": "INCOMPLETE" if status == RunStatus.INCOMPLETE.value else outcome,
             "n_runs": int(counts[serial]), "first_outcome": first_outcome[serial], "note": note}
            for serial, run_id, station, start, status, outcome, note in zip(*(final[c].tolist() for c in (
                "serial", "run_id", "station_id", "started_at_s", "status", "outcome", "note")))]


def _lot_header(runs: pd.DataFrame, plan_name: str | None, since_s: float | None) -> dict[str, Any]:
    if runs.empty:
        return {"plans": [], "stations": [], "first_start_s": None, "last_end_s": None}
    ends = runs["ended_at_s"].to_numpy()
    return {"plans": sorted(set(runs["plan_name"])), "stations": sorted(set(runs["station_id"])),
            "first_start_s": float(runs["started_at_s"].min()),
            "last_end_s": float(np.nanmax(ends)) if np.isfinite(ends).any() else None,
            "plan_filter": plan_name, "since_s": since_s}


__all__ = ["CONDITION_NAMES", "RUN_POLICIES", "EmptyLot", "LaneStats", "LoadedLot", "LotStats", "MeasurementStats",
           "cpk", "load_lot", "lot_stats"]
