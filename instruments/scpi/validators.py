"""Validators for driver settings: they REFUSE a bad value before anything is sent.

A validator is a callable ``validator(value, name) -> value`` that returns the (possibly
normalised) value or raises :class:`~optics.errors.InvalidParameter` naming the value and
the allowed range.  There is deliberately no clipping validator: a setting the instrument
cannot take is an error, not a silent change of the experiment.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from optics.errors import InvalidParameter, InvalidType

Validator = Callable[[Any, str], Any]


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidType(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidParameter(f"{name} must be finite, got {value!r}")
    return value


def strict_range(lo: float, hi: float, unit: str = "") -> Validator:
    """Accept a real number in ``[lo, hi]``, refuse anything else.

    Examples
    --------
    >>> v = strict_range(0.0, 60.0, "dB")
    >>> v(10, "attenuation_db")
    10.0
    """
    suffix = f" {unit}" if unit else ""

    def check(value: Any, name: str) -> float:
        x = _real(value, name)
        if not lo <= x <= hi:
            raise InvalidParameter(f"{name} = {x:g}{suffix} is outside the allowed range [{lo:g}, {hi:g}]{suffix}")
        return x

    check.__doc__ = f"value in [{lo:g}, {hi:g}]{suffix}"
    return check


def strict_int_range(lo: int, hi: int) -> Validator:
    """Accept an integer (not bool, not float) in ``[lo, hi]``."""

    def check(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InvalidType(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
        if not lo <= int(value) <= hi:
            raise InvalidParameter(f"{name} = {value} is outside the allowed range [{lo}, {hi}]")
        return int(value)

    check.__doc__ = f"integer in [{lo}, {hi}]"
    return check


def strict_discrete_set(values: Iterable[Any]) -> Validator:
    """Accept only one of ``values`` (strings compared case-insensitively)."""
    allowed = list(values)

    def check(value: Any, name: str) -> Any:
        for a in allowed:
            if isinstance(a, str) and isinstance(value, str):
                if a.lower() == value.lower():
                    return a
            elif a == value and type(a) is type(value):
                return a
        raise InvalidParameter(f"{name} = {value!r} is not one of {allowed}")

    check.__doc__ = f"one of {allowed}"
    return check


def boolean(value: Any, name: str) -> bool:
    """Accept only ``True``/``False`` (not 0/1, not strings)."""
    if not isinstance(value, bool):
        raise InvalidType(f"{name} must be True or False, got {value!r}")
    return value


__all__ = ["Validator", "boolean", "strict_discrete_set", "strict_int_range", "strict_range"]
