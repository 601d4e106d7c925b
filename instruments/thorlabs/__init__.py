"""Thorlabs drivers: PM100D/PM101/PM100USB power meter consoles."""

from instruments.thorlabs.pm100d import PM100D, SensorInfo

__all__ = ["PM100D", "SensorInfo"]
