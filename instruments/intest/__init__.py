"""inTEST drivers: Temptronic ThermoStream thermal forcing systems."""

from instruments.intest.thermostream import ThermoStream

__all__ = ["ThermoStream"]
