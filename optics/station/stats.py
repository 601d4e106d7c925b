"""Lot statistics over a results store: yield, first-pass yield, mean, σ, Cpk, histograms.

Definitions
-----------
- A module is a serial number.  Its **final** outcome is that of its last closed run, its
  **first-pass** outcome that of its first run.  A run stopped by an invalid plan before any
  instrument was touched tests no module and is left out (it counts in ``n_runs`` only).  PASS and MARGINAL count as passing; FAIL,
  ERROR and incomplete runs do not.
- **Yield** = passing modules (final outcome) / modules tested.
  **First-pass yield (FPY)** = modules that passed on their first run / modules tested.
- Per measurement (grouped by step, name and unit, over all lanes and temperatures):
  n, mean μ, sample standard deviation σ (ddof = 1), and the process capability
  ``Cpk = min(USL − μ, μ − LSL) / (3σ)`` (one-sided when only one limit exists; undefined,
  reported as ``None``, for n < 2 or σ = 0).  Limits are those stored with the records
  (the most frequent pair when a plan changed within the lot).
  Source: Montgomery, *Introduction to Statistical Quality Control*, 7th ed., §8.2.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optics.station.records import Outcome, RunRecord, RunStatus
from optics.station.store import SQLiteStore

_PASSING = {Outcome.PASS, Outcome.MARGINAL}


@dataclasses.dataclass(frozen=True)
class MeasurementStats:
    """Statistics of one measurement over a lot (units are the measurement's own)."""

    step: str
    name: str
    unit: str
    n: int
    n_fail: int
    mean: float | None
    sigma: float | None
    minimum: float | None
    maximum: float | None
    low_limit: float | None
    high_limit: float | None
    cpk: float | None
    histogram_counts: tuple[int, ...]
    histogram_edges: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary."""
        d = dataclasses.asdict(self)
        d["histogram_counts"] = list(self.histogram_counts)
        d["histogram_edges"] = list(self.histogram_edges)
        return d


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


@dataclasses.dataclass(frozen=True)
class LotStats:
    """Yield and per-measurement statistics of a lot."""

    n_modules: int
    n_runs: int
    n_incomplete_runs: int
    yield_fraction: float | None
    first_pass_yield: float | None
    module_outcomes: dict[str, str]
    measurements: tuple[MeasurementStats, ...]
    plan_name: str | None = None
    since_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary (the ``--json`` output)."""
        return {
            "n_modules": self.n_modules,
            "n_runs": self.n_runs,
            "n_incomplete_runs": self.n_incomplete_runs,
            "yield": self.yield_fraction,
            "first_pass_yield": self.first_pass_yield,
            "module_outcomes": dict(self.module_outcomes),
            "plan_name": self.plan_name,
            "since_s": self.since_s,
            "measurements": [m.to_dict() for m in self.measurements],
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per measurement (pandas-friendly), histograms left out."""
        rows = []
        for m in self.measurements:
            d = m.to_dict()
            d.pop("histogram_counts")
            d.pop("histogram_edges")
            rows.append(d)
        return rows

    def to_text(self) -> str:
        """Readable table."""
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f} %"

        def num(x: float | None, fmt: str = ".4g") -> str:
            return "-" if x is None else format(x, fmt)

        lines = [
            f"modules: {self.n_modules}   runs: {self.n_runs} ({self.n_incomplete_runs} incomplete)",
            f"yield: {pct(self.yield_fraction)}   first-pass yield: {pct(self.first_pass_yield)}",
            "",
            f"{'step':<12} {'measurement':<24} {'unit':<6} {'n':>6} {'fail':>5} {'mean':>10} "
            f"{'sigma':>10} {'LSL':>9} {'USL':>9} {'Cpk':>7}",
        ]
        for m in self.measurements:
            lines.append(
                f"{m.step[:12]:<12} {m.name[:24]:<24} {m.unit[:6]:<6} {m.n:>6} {m.n_fail:>5} "
                f"{num(m.mean):>10} {num(m.sigma):>10} {num(m.low_limit):>9} {num(m.high_limit):>9} "
                f"{num(m.cpk, '.2f'):>7}"
            )
        return "\n".join(lines)

    def plot(self, *, max_panels: int = 12):
        """Histograms of the measurements with their limits; returns the matplotlib Figure."""
        import matplotlib.pyplot as plt

        items = [m for m in self.measurements if m.n > 0][:max_panels]
        n = max(1, len(items))
        cols = min(3, n)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
        for ax, m in zip(axes.ravel(), items):
            edges = np.asarray(m.histogram_edges)
            ax.stairs(np.asarray(m.histogram_counts), edges, fill=True, alpha=0.7)
            for lim in (m.low_limit, m.high_limit):
                if lim is not None:
                    ax.axvline(lim, color="red", lw=1.2)
            cpk_txt = "n/a" if m.cpk is None else f"{m.cpk:.2f}"
            ax.set_title(f"{m.name} ({m.step})\nCpk {cpk_txt}", fontsize=9)
            ax.set_xlabel(m.unit)
        for ax in axes.ravel()[len(items):]:
            ax.set_visible(False)
        fig.tight_layout()
        return fig

    def to_html(self) -> str:
        """A self-contained HTML page: yield, the statistics table and the histograms."""
        import matplotlib.pyplot as plt

        fig = self.plot()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        img = base64.b64encode(buf.getvalue()).decode()
        head = "".join(
            f"<th>{h}</th>" for h in ("step", "measurement", "unit", "n", "fail", "mean", "σ",
                                      "LSL", "USL", "Cpk")
        )

        def cell(x: Any) -> str:
            if x is None:
                return "<td>-</td>"
            if isinstance(x, float):
                return f"<td>{x:.4g}</td>"
            return f"<td>{html.escape(str(x))}</td>"

        body = "".join(
            "<tr>" + "".join(cell(v) for v in (m.step, m.name, m.unit, m.n, m.n_fail, m.mean,
                                                 m.sigma, m.low_limit, m.high_limit, m.cpk)) + "</tr>"
            for m in self.measurements
        )
        y = "n/a" if self.yield_fraction is None else f"{100 * self.yield_fraction:.1f} %"
        fpy = "n/a" if self.first_pass_yield is None else f"{100 * self.first_pass_yield:.1f} %"
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lot statistics</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:2px 6px;text-align:right}</style></head><body>"
            f"<h1>Lot statistics</h1><p>Modules: {self.n_modules}; runs: {self.n_runs} "
            f"({self.n_incomplete_runs} incomplete). Yield: {y}; first-pass yield: {fpy}.</p>"
            f"<table><tr>{head}</tr>{body}</table>"
            f"<h2>Histograms</h2><img alt='histograms' src='data:image/png;base64,{img}'/>"
            "</body></html>"
        )

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path``, replaced whole or not at all
        (:func:`optics.station.atomic.write_text`); returns the path."""
        from optics.station.atomic import write_text

        return write_text(path, self.to_html())

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2)


def _run_passed(outcome: Outcome | None, status: RunStatus) -> bool:
    return status is RunStatus.COMPLETE and outcome in _PASSING


def _module_runs(runs: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """Runs by serial, oldest first, without the runs an invalid plan stopped (no module tested)."""
    from optics.station.runner import PLAN_ERROR_NOTE

    by_serial: dict[str, list[RunRecord]] = {}
    for r in runs:
        if not r.note.startswith(PLAN_ERROR_NOTE):
            by_serial.setdefault(r.serial, []).append(r)
    return by_serial


def lot_stats(
    store: SQLiteStore,
    *,
    plan_name: str | None = None,
    since_s: float | None = None,
    bins: int = 20,
) -> LotStats:
    """Compute :class:`LotStats` from a results store.

    Parameters
    ----------
    store : SQLiteStore
        The results store.
    plan_name : str, optional
        Only runs of this plan.
    since_s : float, optional
        Only runs started at or after this time, s since the epoch (yield and measurement
        statistics over the same runs).  A module counts as a first pass only if its first
        run ever (of the plan) is in the window and passed: a module first tested before
        the window and retested in it is in the yield but not a first pass.
    bins : int
        Histogram bins per measurement.
    """
    if bins < 1:
        from optics.errors import InvalidParameter

        raise InvalidParameter(f"bins = {bins} must be >= 1")
    runs = store.runs(plan_name=plan_name, since_s=since_s)
    by_serial = _module_runs(runs)
    # a module's first pass is its first run ever (of the plan), even when --since starts later:
    # a retest inside the window of a module first tested before it is no first pass
    first_ever = by_serial if since_s is None else {
        serial: rs[0].run_id for serial, rs in _module_runs(store.runs(plan_name=plan_name)).items()}
    module_outcomes: dict[str, str] = {}
    n_pass = n_first = 0
    for serial, rs in by_serial.items():
        closed = [r for r in rs if r.status is not RunStatus.RUNNING]
        last = closed[-1] if closed else rs[-1]
        final_ok = _run_passed(last.outcome, last.status)
        n_pass += final_ok
        first = rs[0]
        is_first = since_s is None or first_ever.get(serial) == first.run_id
        n_first += is_first and _run_passed(first.outcome, first.status)
        if last.status is RunStatus.INCOMPLETE:
            module_outcomes[serial] = "INCOMPLETE"
        else:
            module_outcomes[serial] = last.outcome.value if last.outcome else "RUNNING"
    n_mod = len(by_serial)

    cols = store.measurement_columns(plan_name=plan_name, since_s=since_s)
    stats = _measurement_stats(cols, bins)
    return LotStats(
        n_modules=n_mod,
        n_runs=len(runs),
        n_incomplete_runs=sum(r.status is RunStatus.INCOMPLETE for r in runs),
        yield_fraction=(n_pass / n_mod) if n_mod else None,
        first_pass_yield=(n_first / n_mod) if n_mod else None,
        module_outcomes=module_outcomes,
        measurements=tuple(stats),
        plan_name=plan_name,
        since_s=since_s,
    )


def _measurement_stats(cols: dict[str, list[Any]], bins: int) -> list[MeasurementStats]:
    n = len(cols["name"])
    if n == 0:
        return []
    keys = np.array([f"{s}\x1f{nm}\x1f{u}" for s, nm, u in zip(cols["step"], cols["name"], cols["unit"])])
    values = np.array([np.nan if v is None else v for v in cols["value"]], dtype=float)
    lows = cols["low_limit"]
    highs = cols["high_limit"]
    fails = np.array([o == Outcome.FAIL.value for o in cols["outcome"]])
    uniq, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    out = []
    for g, key in enumerate(uniq):
        idx = order[bounds[g]:bounds[g + 1]]
        step, name, unit = key.split("\x1f")
        v = values[idx]
        v = v[np.isfinite(v)]
        low, high = Counter((lows[i], highs[i]) for i in idx).most_common(1)[0][0]
        if v.size:
            mean = float(v.mean())
            sigma = float(v.std(ddof=1)) if v.size > 1 else None
            counts, edges = np.histogram(v, bins=bins)
            hist = (tuple(int(c) for c in counts), tuple(float(e) for e in edges))
            vmin, vmax = float(v.min()), float(v.max())
        else:
            mean = sigma = vmin = vmax = None
            hist = ((), ())
        out.append(MeasurementStats(
            step=step, name=name, unit=unit, n=int(v.size), n_fail=int(fails[idx].sum()),
            mean=mean, sigma=sigma, minimum=vmin, maximum=vmax, low_limit=low, high_limit=high,
            cpk=cpk(mean, sigma, low, high) if (mean is not None and sigma is not None) else None,
            histogram_counts=hist[0], histogram_edges=hist[1],
        ))
    return out
