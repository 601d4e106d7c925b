"""Checks for parameter values, shared by every frozen parameter set in the toolkit.

Each check returns the value (converted to ``float`` where it is a scalar) or raises
:class:`~optics.errors.InvalidParameter` / :class:`~optics.errors.InvalidType` with a
message that names the parameter, the value and the allowed range.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from optics.errors import InvalidParameter, InvalidType, value_text


def real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise InvalidType(f"{name} must be a real number, got {value_text(value)} ({type(value).__name__})")
    out = float(value)
    if not math.isfinite(out):
        raise InvalidParameter(f"{name} must be finite, got {out!r}")
    return out


def in_range(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    unit: str = "",
) -> float:
    """Return ``value`` as float if ``low <= value <= high`` (bounds per flags), else raise."""
    out = real(name, value)
    ok_low = out >= low if low_inclusive else out > low
    ok_high = out <= high if high_inclusive else out < high
    if not (ok_low and ok_high):
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        u = f" {unit}" if unit else ""
        raise InvalidParameter(f"{name} = {out!r}{u} is outside the allowed range {lb}{low}, {high}{hb}{u}")
    return out


def positive(name: str, value: Any, unit: str = "") -> float:
    """Return ``value`` if it is a finite real number > 0."""
    return in_range(name, value, 0.0, math.inf, low_inclusive=False, unit=unit)


def non_negative(name: str, value: Any, unit: str = "") -> float:
    """Return ``value`` if it is a finite real number >= 0."""
    return in_range(name, value, 0.0, math.inf, unit=unit)


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as int if it is an integer within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidType(f"{name} must be an integer, got {value_text(value)} ({type(value).__name__})")
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        raise InvalidParameter(
            f"{name} = {out} is outside the allowed range [{'-inf' if low is None else low}, "
            f"{'inf' if high is None else high}]"
        )
    return out


def finite_array(name: str, values: Any, *, ndim: int = 1, min_size: int = 1) -> np.ndarray:
    """Return ``values`` as a float64 array after checking shape, size and finiteness."""
    try:
        raw = np.asarray(values)
        complex_values = np.iscomplexobj(raw)
        if not complex_values:
            arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidType(f"{name} must be an array of real numbers: {exc}") from None
    if complex_values:
        # np.asarray(..., float64) would drop the imaginary part with only a ComplexWarning
        raise InvalidType(f"{name} must be real numbers, got complex values (dtype {raw.dtype})")
    if arr.ndim != ndim:
        raise InvalidParameter(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size < min_size:
        raise InvalidParameter(f"{name} needs at least {min_size} values, got {arr.size}")
    # min and max propagate NaN and are +-inf if any value is: two passes, no mask array
    if arr.size and np.isfinite(arr.min()) and np.isfinite(arr.max()):
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = int(np.flatnonzero(bad.ravel())[0])
        raise InvalidParameter(
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), first at index {idx}"
        )
    return arr
