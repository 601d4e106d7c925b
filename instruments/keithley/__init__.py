"""Keithley drivers: 2400 source-measure unit."""

from instruments.keithley.k2400 import Keithley2400

__all__ = ["Keithley2400"]
