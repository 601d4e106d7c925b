"""End-of-life column of a link budget: its parameters (:class:`EndOfLife`).

:class:`EndOfLife` says how old the lasers are: ``hours`` of operation at a chip temperature
``temperature_c``, and the wear-out model that ages them.  The column itself comes from a
physics provider that can age its lasers (its ``end_of_life_column`` method): the link models'
:class:`optics.budget.model_physics.ModelPhysics`, whose ledger at end of life is described in
:mod:`optics.budget.model_end_of_life`.  This module holds only the parameters, so the budget
core does not import the link models (the design card's layers).

Examples
--------
>>> EndOfLife(hours=1e5, temperature_c=55.0).hours
100000.0
"""

from __future__ import annotations

import dataclasses
from typing import Any

from optics import validate
from optics.errors import InvalidParameter, InvalidType

#: ``BudgetColumn.method`` of the end-of-life column.
END_OF_LIFE_METHOD = "link-model physics at end of life"


@dataclasses.dataclass(frozen=True, kw_only=True)
class EndOfLife:
    """Age of the lasers for the end-of-life column.

    Parameters
    ----------
    hours : float or None
        Hours of operation, >= 0 [None: the hours to the end-of-life criterion of ``aging`` at
        ``temperature_c``, ``aging.hours_to_end_of_life``].
    temperature_c : float or None
        Laser chip temperature during those hours, °C, -40...150 [None: the budget's chip
        temperature, the begin-of-life module's die at the budget's case temperature].
    aging : models.aging.LaserAging or None
        Wear-out model: anything with ``bias_increase(hours, temperature_c)`` and
        ``hours_to_end_of_life(temperature_c)``, such as :class:`models.aging.LaserAging`
        [None: the provider's default, ``LaserAging()`` for the link models].
    """

    hours: float | None = None
    temperature_c: float | None = None
    aging: Any = None

    def __post_init__(self) -> None:
        if self.hours is not None:
            validate.in_range("hours", self.hours, 0.0, 1e8, unit="h")
        if self.temperature_c is not None:
            validate.in_range("temperature_c", self.temperature_c, -40.0, 150.0, unit="°C")
        if self.aging is not None and not all(
                callable(getattr(self.aging, m, None)) for m in ("bias_increase", "hours_to_end_of_life")):
            raise InvalidType("aging must be a wear-out model such as models.aging.LaserAging (with "
                              f"bias_increase and hours_to_end_of_life) or None, got {type(self.aging).__name__}")


def check_end_of_life(value: Any) -> EndOfLife | None:
    """``value`` if it is None or an :class:`EndOfLife`; else InvalidParameter."""
    if value is None or isinstance(value, EndOfLife):
        return value
    raise InvalidParameter(f"end_of_life must be an EndOfLife or None, got {value!r}")


__all__ = ["END_OF_LIFE_METHOD", "EndOfLife", "check_end_of_life"]
