"""Ledger objects of a link budget: lines, columns, side-by-side budgets and sweeps.

A budget is a ledger from transmitter OMA to receiver sensitivity; the margin (dB) is

    margin = P_tx,OMA - channel insertion loss - penalties - receiver sensitivity.

:class:`BudgetItem` is one line (a power, a loss or penalty, or info), :class:`BudgetColumn` a
ledger with its margin, :class:`LinkBudget` the standard and physics columns side by side, and
:class:`BudgetSweep` the two margins over a swept reach or temperature.  Each has text, dict or
record output (and the sweep a plot); lines built from task-force values are shown as PROPOSAL.
A physics provider (:data:`PhysicsProvider`) is any callable
``provider(spec, conditions) -> BudgetColumn``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from optics.budget.conditions import LinkConditions
from optics.errors import InvalidParameter
from optics.phy import PhySpec


@dataclasses.dataclass(frozen=True)
class BudgetItem:
    """One ledger line: a power (dBm, sign +1), a loss or penalty (dB, sign −1) or info (sign 0).

    ``value`` is None when a penalty is unbounded (an error floor or a dispersion notch).
    ``proposal`` is True when the value comes from a task-force proposal, not a standard.
    """

    name: str
    label: str
    value: float | None
    unit: str
    sign: int
    basis: str
    verified: bool = False
    proposal: bool = False


@dataclasses.dataclass(frozen=True)
class BudgetColumn:
    """A ledger and its margin (dB); ``margin_db`` is None when a penalty is unbounded."""

    method: str
    items: tuple[BudgetItem, ...]
    margin_db: float | None
    notes: tuple[str, ...] = ()

    def item(self, name: str) -> BudgetItem:
        """The ledger line called ``name``."""
        for it in self.items:
            if it.name == name:
                return it
        raise InvalidParameter(f"no budget item {name!r}; items: {', '.join(i.name for i in self.items)}")

    @property
    def proposal(self) -> bool:
        """True when any ledger line uses a task-force PROPOSAL value."""
        return any(i.proposal for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"method": self.method, "margin_db": self.margin_db, "proposal": self.proposal,
                "notes": list(self.notes), "items": [dataclasses.asdict(i) for i in self.items]}


def _margin(items: Sequence[BudgetItem]) -> float | None:
    total = 0.0
    for it in items:
        if it.sign == 0:
            continue
        if it.value is None:
            return None
        total += it.sign * it.value
    return total


def _shown(x: float) -> float:
    """For display only: print rounding noise around zero as 0.000, not -0.000."""
    return 0.0 if abs(x) < 5e-4 else x


#: A physics column provider: any callable ``provider(spec, conditions) -> BudgetColumn``.
PhysicsProvider = Callable[[PhySpec, LinkConditions], BudgetColumn]


@dataclasses.dataclass(frozen=True)
class LinkBudget:
    """Side-by-side budget of one PHY under one set of conditions."""

    phy: str
    conditions: LinkConditions
    standard: BudgetColumn
    physics: BudgetColumn
    end_of_life: BudgetColumn | None = None

    @property
    def columns(self) -> tuple[BudgetColumn, ...]:
        """The standard and physics columns, and the end-of-life column when there is one."""
        return (self.standard, self.physics) + (() if self.end_of_life is None else (self.end_of_life,))

    @property
    def proposal(self) -> bool:
        """True when either column uses a task-force PROPOSAL value."""
        return self.standard.proposal or self.physics.proposal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``end_of_life`` only when that column was computed)."""
        out = {"phy": self.phy, "proposal": self.proposal, "conditions": dataclasses.asdict(self.conditions),
               "standard": self.standard.to_dict(), "physics": self.physics.to_dict()}
        if self.end_of_life is not None:
            out["end_of_life"] = self.end_of_life.to_dict()
        return out

    def to_text(self) -> str:
        """Both ledgers as aligned text."""
        c = self.conditions
        conn = "standard allocation" if c.connectors is None else f"{c.connectors} connectors"
        lines = [f"{self.phy} link budget: reach {c.reach_m:g} m, {conn}, {c.temperature_c:g} °C"]
        if self.proposal:
            lines.append("  PROPOSAL: built from task-force proposal numbers, not a published standard; advisory only")
        for col in self.columns:
            lines.append(f"  [{col.method}]" + ("  PROPOSAL values" if col.proposal else ""))
            for it in col.items:
                sign = {1: "+", -1: "-", 0: " "}[it.sign]
                val = "unbounded" if it.value is None else f"{_shown(it.value):8.3f}"
                if it.proposal:
                    flag = "  PROPOSAL"
                else:
                    flag = "" if it.verified or col is not self.standard else "  UNVERIFIED"
                lines.append(f"    {sign} {it.label:48s} {val:>9s} {it.unit:4s} {it.basis}{flag}")
            m = "n/a (unbounded penalty)" if col.margin_db is None else f"{_shown(col.margin_db):.3f} dB"
            lines.append(f"    = margin {m}")
            lines += [f"    note: {n}" for n in col.notes]
        return "\n".join(lines)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per ledger line of both columns."""
        return [{"phy": self.phy, "method": col.method, "column_proposal": col.proposal, **dataclasses.asdict(it)}
                for col in self.columns for it in col.items]


@dataclasses.dataclass(frozen=True)
class BudgetSweep:
    """Margins (dB) of both columns over a swept condition (reach in m or temperature in °C)."""

    phy: str
    variable: str
    values: tuple[float, ...]
    standard_margin_db: tuple[float | None, ...]
    physics_margin_db: tuple[float | None, ...]
    proposal: bool = False
    physics_method: str = "closed-form physics"

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per point (``proposal`` True when built from task-force PROPOSAL values)."""
        return [{"phy": self.phy, self.variable: x, "standard_margin_db": s, "physics_margin_db": p,
                 "proposal": self.proposal, "physics_method": self.physics_method}
                for x, s, p in zip(self.values, self.standard_margin_db, self.physics_margin_db)]

    def to_text(self) -> str:
        """Aligned table."""
        def f(v: float | None) -> str:
            return "unbounded" if v is None else f"{_shown(v):.3f}"

        lines = [f"{self.phy}: margin vs {self.variable}" + ("  (PROPOSAL values, advisory)" if self.proposal else "")
                 + f"  [physics: {self.physics_method}]",
                 f"  {self.variable:>14s}  {'standard dB':>12s}  {'physics dB':>12s}"]
        lines += [f"  {x:14g}  {f(s):>12s}  {f(p):>12s}"
                  for x, s, p in zip(self.values, self.standard_margin_db, self.physics_margin_db)]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Plot both margins against the swept variable; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        x = np.asarray(self.values, dtype=float)
        for label, ys in (("standard allocations", self.standard_margin_db), (self.physics_method, self.physics_margin_db)):
            y = np.array([np.nan if v is None else v for v in ys], dtype=float)
            ax.plot(x, y, marker="o", label=label)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xlabel(self.variable.replace("_", " "))
        ax.set_ylabel("margin (dB)")
        ax.set_title(f"{self.phy} link margin" + (" (PROPOSAL values)" if self.proposal else ""))
        ax.legend()
        return ax
