"""Measurement repeatability from retests: the pooled within-module σ of every measurement.

A module tested more than once (a retest of the same serial, or a golden module tested every
shift) gives, per measurement, lane and case temperature, a group of repeated values of one
true value.  Their scatter is the station's measurement repeatability (the σ of "repeatability
conditions", ISO 5725-1 §3.13), estimated pooled over all groups:

    σ_r² = Σ_g Σ_i (x_gi − x̄_g)² / Σ_g (n_g − 1)

with Σ_g (n_g − 1) degrees of freedom (Montgomery, *Design and Analysis of Experiments*,
8th ed., §13.2: the within-part variance of a gauge study).  Only complete runs count; a
group needs at least two values.  ``optics yield --repeatability`` takes the resulting
``{measurement name: σ}`` for its guard-band analysis (:mod:`optics.volume.summary`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from optics.errors import InvalidParameter


@dataclasses.dataclass(frozen=True)
class RepeatabilityEstimate:
    """Pooled within-module σ of one measurement (its unit), with its degrees of freedom and
    the number of (module, lane, temperature) groups and modules it came from."""

    name: str
    unit: str
    sigma: float
    dof: int
    n_groups: int
    n_modules: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary."""
        return dataclasses.asdict(self)


def pooled_sigma(name: Sequence[str], unit: Sequence[str], group: np.ndarray, module: np.ndarray,
                 value: np.ndarray) -> list[RepeatabilityEstimate]:
    """Pooled within-group σ per measurement of repeated values.

    Parameters
    ----------
    name, unit : sequence of str
        Per row, the measurement's name and unit (the estimate's key).
    group : array of int
        Per row, the group of repeated values it belongs to (one module, lane, temperature and
        measurement); rows of one group have the same name.
    module : array of int
        Per row, a code of its module (for the count of modules).
    value : array of float
        The values (finite).

    Returns
    -------
    list of RepeatabilityEstimate
        One per name with at least one group of two or more values, sorted by name.

    Examples
    --------
    >>> e, = pooled_sigma(["x"] * 4, ["dB"] * 4, np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]),
    ...                   np.array([1.0, 2.0, 5.0, 6.0]))
    >>> round(e.sigma, 6), e.dof                       # sqrt((0.5 + 0.5) / 2)
    (0.707107, 2)
    """
    value = np.asarray(value, dtype=float)
    if value.size == 0:
        return []
    if not np.all(np.isfinite(value)):
        raise InvalidParameter("repeatability values must be finite")
    ids, inv = np.unique(np.asarray(group), return_inverse=True)
    inv = inv.reshape(-1)
    n = np.bincount(inv, minlength=ids.size)
    mean = np.bincount(inv, weights=value, minlength=ids.size) / n
    ss = np.bincount(inv, weights=(value - mean[inv]) ** 2, minlength=ids.size)
    first = np.zeros(ids.size, dtype=np.int64)
    first[inv[::-1]] = np.arange(value.size)[::-1]              # a row of each group
    acc: dict[tuple[str, str], list[Any]] = {}
    for g in np.flatnonzero(n >= 2):
        row = int(first[g])
        a = acc.setdefault((str(name[row]), str(unit[row])), [0.0, 0, 0, set()])
        a[0] += float(ss[g])
        a[1] += int(n[g]) - 1
        a[2] += 1
        a[3].add(int(module[row]))
    return [RepeatabilityEstimate(name=k[0], unit=k[1], sigma=float(np.sqrt(a[0] / a[1])), dof=a[1], n_groups=a[2],
                                  n_modules=len(a[3])) for k, a in sorted(acc.items())]


def repeatability_sigma(store: Any, *, plan_name: str | None = None, since_s: float | None = None,
                        golden_serial: str | None = None) -> dict[str, float]:
    """``{measurement name: repeatability σ}`` from the retests in a results store.

    Parameters
    ----------
    store : ResultStore
        The results.
    plan_name : str, optional
        Only runs of this plan.
    since_s : float, optional
        Only runs started at or after this time (s since the epoch).
    golden_serial : str, optional
        Only this module's runs (a golden module tested again and again); default: every
        module tested more than once.

    Returns
    -------
    dict
        Measurement name → σ in the measurement's unit (conditions such as the case
        temperature left out); empty when no module was tested twice.

    Raises
    ------
    InvalidParameter
        ``golden_serial`` was given but has fewer than two complete runs in the selection.

    Examples
    --------
    >>> repeatability_sigma(store, plan_name="800G-DR8")          # doctest: +SKIP
    {'tdecq_db': 0.14, 'oma_outer_dbm': 0.09, ...}
    """
    from optics.station.stats import load_lot

    lot = load_lot(store, plan_name=plan_name, since_s=since_s)
    return {e.name: e.sigma for e in estimate(lot, golden_serial=golden_serial)}


def estimate(lot: Any, *, golden_serial: str | None = None) -> list[RepeatabilityEstimate]:
    """Repeatability estimates of a loaded lot (:func:`optics.station.stats.load_lot`): the
    complete runs of every serial tested more than once (or of ``golden_serial`` only)."""
    from optics.station.records import RunStatus
    from optics.station.stats import CONDITION_NAMES, code_column

    runs = lot.runs
    complete = runs[runs["status"] == RunStatus.COMPLETE.value]
    if golden_serial is not None:
        complete = complete[complete["serial"] == golden_serial]
        if len(complete) < 2:
            raise InvalidParameter(f"golden module {golden_serial!r} has {len(complete)} complete run(s) in the "
                                   "selection; a repeatability study needs at least 2")
    counts = complete["serial"].value_counts()
    retested = complete[complete["serial"].isin(counts.index[counts >= 2])].index.to_numpy()
    t = lot.records
    if not len(t) or not retested.size:
        return []
    chosen = np.zeros(len(runs), dtype=bool)
    chosen[retested] = True
    condition = np.array([k[1] in CONDITION_NAMES for k in t.keys], dtype=bool)
    keep = chosen[lot.run] & np.isfinite(t.value) & ~condition[t.key]
    t, run = t.take(keep), lot.run[keep]
    serial = pd.factorize(runs["serial"])[0].astype(np.int64)[run]
    lanes, lane = code_column(t.lane)
    temps, temp = code_column(t.temperature_c)
    n_s = int(serial.max()) + 1
    group = ((t.key * n_s + serial) * len(lanes) + lane) * len(temps) + temp
    names = [k[1] for k in t.keys]
    units = [k[2] for k in t.keys]
    # the estimate is per measurement name: the same name in two steps is one measurement
    return pooled_sigma([names[k] for k in t.key], [units[k] for k in t.key], group, serial, t.value)


__all__ = ["RepeatabilityEstimate", "estimate", "pooled_sigma", "repeatability_sigma"]
