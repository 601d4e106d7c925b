"""SCPI driver base: instrument and channel classes, property maps, validators, replies, adapters.

See :class:`ScpiInstrument` for the behaviour every driver shares (including
:meth:`ScpiInstrument.reconnect` after a dropped connection, and the rule for automatic
reconnects in :mod:`instruments.scpi.instrument`) and
:func:`~instruments.scpi.protocol.expected_protocol` for hardware-free protocol tests.
"""

from instruments.scpi.adapters import Adapter, VisaAdapter
from instruments.scpi.instrument import Channel, ScpiInstrument
from instruments.scpi.properties import control, measurement, setting
from instruments.scpi.protocol import ProtocolAdapter, expected_protocol
from instruments.scpi.replies import Identity
from instruments.scpi.validators import boolean, strict_discrete_set, strict_int_range, strict_range

__all__ = [
    "Adapter",
    "Channel",
    "Identity",
    "ProtocolAdapter",
    "ScpiInstrument",
    "VisaAdapter",
    "boolean",
    "control",
    "expected_protocol",
    "measurement",
    "setting",
    "strict_discrete_set",
    "strict_int_range",
    "strict_range",
]
