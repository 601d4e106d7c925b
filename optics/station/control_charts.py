"""Individuals / moving-range (I-MR) control charts and the Western Electric / Nelson run rules.

For a series x_1 .. x_n in production order (module order or time), the I chart has the
centre line x̄ and limits x̄ ± 3σ̂ with σ̂ = MR̄ / d2, MR̄ the mean of the moving ranges
``|x_i − x_{i−1}|`` and d2 = 1.128 (subgroups of 2); the MR chart has the centre line MR̄ and
the upper limit D4·MR̄ with D4 = 3.267 (Montgomery, *Introduction to Statistical Quality
Control*, 7th ed., §6.4, Table VI).  The zones are x̄ ± 1σ̂, ± 2σ̂, ± 3σ̂.

Run rules flagged (Western Electric *Statistical Quality Control Handbook*, 1956, rules 1-4;
Nelson, J. Qual. Technol. 16 (1984) 237, rules 3-4).  A violation is reported at the point
that completes the pattern:

1. one point beyond 3σ̂ (either side);
2. two of three consecutive points beyond 2σ̂ on the same side;
3. four of five consecutive points beyond 1σ̂ on the same side;
4. eight consecutive points on the same side of the centre line;
5. (Nelson 3) six points in a row steadily increasing or decreasing;
6. (Nelson 4) fourteen points in a row alternating up and down.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from optics.errors import InvalidParameter

#: d2 of subgroups of two (moving range of consecutive points), Montgomery Table VI.
D2_N2 = 1.128
#: D4 of subgroups of two: upper limit of the moving-range chart = D4 · MR̄.
D4_N2 = 3.267

#: Short description of each rule, by number.
RULES: dict[int, str] = {
    1: "1 point beyond 3 sigma",
    2: "2 of 3 beyond 2 sigma, same side",
    3: "4 of 5 beyond 1 sigma, same side",
    4: "8 in a row on one side of the centre",
    5: "6 in a row steadily increasing or decreasing",
    6: "14 in a row alternating up and down",
}


@dataclasses.dataclass(frozen=True)
class RuleViolation:
    """One run-rule violation: the rule number (:data:`RULES`) and the index of the point that
    completes the pattern (0-based, in the series' order)."""

    rule: int
    index: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary."""
        return {"rule": self.rule, "index": self.index, "description": RULES[self.rule]}


@dataclasses.dataclass(frozen=True)
class ControlChart:
    """An I-MR chart of one series with its run-rule violations.

    ``values`` and ``positions`` (module order or time, s since the epoch) are in the series'
    order; ``labels`` name each point (a serial).  ``sigma`` is σ̂ = MR̄/d2 (None for fewer
    than two points or a constant series, when no limits and no rules apply).
    """

    values: tuple[float, ...]
    positions: tuple[float, ...]
    labels: tuple[str, ...]
    centre: float
    sigma: float | None
    mr_mean: float | None
    violations: tuple[RuleViolation, ...]

    @property
    def ucl(self) -> float | None:
        """Upper control limit x̄ + 3σ̂."""
        return None if self.sigma is None else self.centre + 3.0 * self.sigma

    @property
    def lcl(self) -> float | None:
        """Lower control limit x̄ − 3σ̂."""
        return None if self.sigma is None else self.centre - 3.0 * self.sigma

    @property
    def mr_ucl(self) -> float | None:
        """Upper limit of the moving-range chart D4·MR̄."""
        return None if self.mr_mean is None else D4_N2 * self.mr_mean

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary."""
        return {
            "n": len(self.values), "centre": self.centre, "sigma": self.sigma, "ucl": self.ucl, "lcl": self.lcl,
            "mr_mean": self.mr_mean, "mr_ucl": self.mr_ucl, "values": list(self.values),
            "positions": list(self.positions), "labels": list(self.labels),
            "violations": [v.to_dict() for v in self.violations],
        }


def _runs_of(flags: np.ndarray, k: int, m: int) -> list[int]:
    """Indices i at which at least ``k`` of the (up to) ``m`` points ending at i are flagged and
    point i is flagged itself (the point completing the pattern; the first windows are shorter)."""
    if flags.size == 0:
        return []
    window = np.convolve(flags.astype(int), np.ones(m, dtype=int), mode="full")[:flags.size]   # sum over [i-m+1, i]
    return [int(i) for i in np.flatnonzero((window >= k) & flags)]


def rule_violations(values: Sequence[float], centre: float, sigma: float) -> list[RuleViolation]:
    """Western Electric rules 1-4 and Nelson rules 3-4 (see the module docstring).

    Parameters
    ----------
    values : sequence of float
        The series, in production order.
    centre, sigma : float
        Centre line and σ of the zones (σ > 0).

    Returns
    -------
    list of RuleViolation
        Sorted by index, then rule.

    Raises
    ------
    InvalidParameter
        A non-finite value or centre, or σ not > 0.

    Examples
    --------
    >>> [(v.rule, v.index) for v in rule_violations([0, 0, 3.5, 0], 0.0, 1.0)]
    [(1, 2)]
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise InvalidParameter("control-chart values must be a 1-D series of finite numbers")
    if not (np.isfinite(centre) and np.isfinite(sigma) and sigma > 0):
        raise InvalidParameter(f"control chart centre {centre!r} and sigma {sigma!r}: both finite, sigma > 0")
    z = (x - centre) / sigma
    found: set[tuple[int, int]] = set()
    found |= {(1, int(i)) for i in np.flatnonzero(np.abs(z) > 3.0)}
    for side in (z, -z):
        found |= {(2, i) for i in _runs_of(side > 2.0, 2, 3)}
        found |= {(3, i) for i in _runs_of(side > 1.0, 4, 5)}
        found |= {(4, i) for i in _runs_of(side > 0.0, 8, 8)}
    d = np.sign(np.diff(x))
    for direction in (1.0, -1.0):      # 6 points in a row rising: 5 consecutive rising steps
        found |= {(5, i + 1) for i in _runs_of(d == direction, 5, 5)}
    alternating = (d[1:] * d[:-1]) < 0  # step i+1 reverses step i; 14 points: 13 steps, 12 reversals
    found |= {(6, i + 2) for i in _runs_of(alternating, 12, 12)}
    return [RuleViolation(rule, index) for index, rule in sorted((i, r) for r, i in found)]


def imr_chart(values: Sequence[float], *, positions: Sequence[float] | None = None,
              labels: Sequence[str] | None = None) -> ControlChart:
    """The I-MR chart of ``values`` (in production order) with its run-rule violations.

    Parameters
    ----------
    values : sequence of float
        One value per point (a module's value of a measurement), in production order.
    positions : sequence of float, optional
        Where each point is on the chart's axis (default 0, 1, ...): module order or time.
    labels : sequence of str, optional
        A name per point (default its index).

    Returns
    -------
    ControlChart

    Raises
    ------
    InvalidParameter
        No value, a non-finite value, or positions/labels of another length.

    Examples
    --------
    >>> c = imr_chart([1.0, 2.0, 1.0, 2.0])
    >>> round(c.mr_mean, 3), round(c.sigma, 4)
    (1.0, 0.8865)
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise InvalidParameter(f"an I-MR chart needs at least one finite value, got {x.size} values"
                               + ("" if x.size == 0 or np.all(np.isfinite(x)) else " with non-finite ones"))
    pos = np.arange(x.size, dtype=float) if positions is None else np.asarray(positions, dtype=float)
    lab = [str(i) for i in range(x.size)] if labels is None else [str(s) for s in labels]
    if pos.shape != x.shape or len(lab) != x.size:
        raise InvalidParameter(f"{x.size} values but {pos.size} positions and {len(lab)} labels")
    centre = float(x.mean())
    mr_mean = float(np.abs(np.diff(x)).mean()) if x.size > 1 else None
    sigma = mr_mean / D2_N2 if mr_mean else None
    violations = tuple(rule_violations(x, centre, sigma)) if sigma else ()
    return ControlChart(values=tuple(float(v) for v in x), positions=tuple(float(p) for p in pos),
                        labels=tuple(lab), centre=centre, sigma=sigma, mr_mean=mr_mean, violations=violations)


def plot_chart(chart: ControlChart, ax: Any, *, title: str = "", unit: str = "") -> None:
    """Draw the I chart on a matplotlib axis: points, centre line, ±3σ̂ limits, violations in red."""
    x = np.asarray(chart.positions)
    y = np.asarray(chart.values)
    ax.plot(x, y, "o-", ms=3, lw=0.8, color="#3465a4")
    ax.axhline(chart.centre, color="k", lw=0.8)
    for lim in (chart.ucl, chart.lcl):
        if lim is not None:
            ax.axhline(lim, color="red", lw=0.8, ls="--")
    bad = sorted({v.index for v in chart.violations})
    if bad:
        ax.plot(x[bad], y[bad], "o", ms=6, mfc="none", mec="red", mew=1.5)
    ax.set_title(title, fontsize=8)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)


__all__ = ["D2_N2", "D4_N2", "RULES", "ControlChart", "RuleViolation", "imr_chart", "plot_chart", "rule_violations"]
