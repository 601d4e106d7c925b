"""CMIS (OIF Common Management Interface Specification) module management over I2C.

:class:`I2CBus` is the transport interface (USB-I2C bridges, smbus2, SONiC...);
:class:`SimulatedBus` a dict-backed paged memory map for tests and the virtual bench;
:class:`CmisModule` reads identity and digital diagnostics in SI units.
"""

from instruments.cmis.bus import I2CBus, SimulatedBus
from instruments.cmis.module import DATA_PATH_STATES, CmisModule, LaneMonitors

__all__ = ["DATA_PATH_STATES", "CmisModule", "I2CBus", "LaneMonitors", "SimulatedBus"]
