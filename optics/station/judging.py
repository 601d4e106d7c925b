"""Judging a step's measurements against the plan's PHY rows: one function for the station and
for yield prediction (:mod:`optics.volume`), so that both give a value the same verdict.

:func:`judge_step` evaluates the metrics of one lane with :func:`optics.verdict.evaluate`
(the plan's product guard band, the step's per-metric guard bands), merges the rows a metric
stands for (:func:`merge_rows`) and returns one :class:`Judgement` per metric the step
produces, in the step's metric order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from optics.phy import PhySpec
from optics.phy.limits import LOG_UNITS
from optics.station.plan import STEP_METRICS, Step, TestPlan

_STATUS_RANK = {"NOT TESTED": 3, "FAIL": 2, "MARGINAL": 1, "PASS": 0}


@dataclasses.dataclass(frozen=True)
class Judgement:
    """One metric of one lane, judged.

    ``outcome`` is ``"PASS"``, ``"MARGINAL"``, ``"FAIL"``, ``"NOT TESTED"`` (a limited metric
    without a value) or ``"RECORDED"`` (a value the plan does not limit).  ``low``/``high`` are
    the limits (None where open), ``margin`` the distance inside the nearer limit (row unit),
    ``guard_band`` the product guard band that applied.
    """

    name: str
    value: float | None
    outcome: str
    low: float | None = None
    high: float | None = None
    margin: float | None = None
    guard_band: float = 0.0
    clause: str = ""
    verified: bool = True
    note: str = ""


def merge_rows(rows: list[Any]) -> Any:
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


def metric_order(step: Step) -> tuple[str, ...]:
    """The metrics a step of this kind produces, in record order."""
    return tuple(STEP_METRICS[step.kind])


def judge_step(spec: PhySpec, plan: TestPlan, step: Step, metrics: Mapping[str, float | None], *,
               scope: str, extra: Mapping[str, float] | None = None,
               notes: Mapping[str, str] | None = None) -> list[Judgement]:
    """Judge one lane's ``metrics`` of ``step`` (see the module docstring).

    Parameters
    ----------
    spec : PhySpec
        The plan's PHY table.
    plan, step : TestPlan, Step
    metrics : mapping
        Measured values (None: not measured).
    scope : str
        Verdict scope (``"tx"`` or ``"rx"``).
    extra : mapping, optional
        Values recorded with the lane that no row judges (e.g. ``rlm``).
    notes : mapping, optional
        Why a metric has no value.

    Returns
    -------
    list of Judgement
    """
    from optics.verdict import evaluate

    given = {k: float(v) for k, v in metrics.items() if v is not None}
    verdict = evaluate(given, spec, guard_band_db=plan.guard_band, guard_bands=dict(step.guard_bands) or None,
                       scope=scope, require=list(step.limits), lane=None)
    grouped: dict[str, list[Any]] = {}
    for row in verdict.rows:
        if row.row.metric in step.limits:
            grouped.setdefault(row.row.metric, []).append(row)
    by_metric = {name: merge_rows(rows) for name, rows in grouped.items()}
    values = {**given, **(extra or {})}
    derived = {r.row.metric: r.value for r in verdict.rows if r.value is not None}
    out = []
    for name in metric_order(step):
        value = values.get(name, derived.get(name))
        row = by_metric.get(name)
        if row is None:
            if value is None or name in ("secq_db",):
                continue
            out.append(Judgement(name, float(value), "RECORDED", note="recorded, no limit in the plan"))
            continue
        guard = float(step.guard_bands.get(name, plan.guard_band if row.row.unit in LOG_UNITS else 0.0))
        if row.status == "NOT TESTED":
            out.append(Judgement(name, None if row.value is None else float(row.value), "NOT TESTED",
                                 clause=row.row.clause, verified=row.row.verified, guard_band=guard,
                                 note=f"not judged: {(notes or {}).get(name) or row.note or 'no value'}"))
            continue
        out.append(Judgement(name, float(row.value), row.status, low=row.min, high=row.max, margin=row.margin,
                             guard_band=guard, clause=row.row.clause, verified=row.row.verified))
    return out


__all__ = ["Judgement", "judge_step", "merge_rows", "metric_order"]
