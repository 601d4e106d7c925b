"""Thorlabs PM100D (also PM101, PM100USB) optical power meter console.

Commands (PyMeasure ``thorlabspm100usb.py``, QCoDeS-contrib ``PM100D.py``; the Thorlabs
PM100D SCPI reference was not reachable): ``MEAS:POW?`` (W), ``SENS:CORR:WAV`` (**nm** on
the wire, unlike Keysight), ``SENS:AVER:COUN`` (about 3 ms per sample),
``SENS:POW:RANG:AUTO``, ``SENS:CORR:COLL:ZERO``, ``SENS:POW:UNIT W|DBM``,
``SYST:SENS:IDN?`` -> ``name,serial,calibration message,type,subtype,flags``.

The driver pins ``SENS:POW:UNIT W`` before its first power reading, so ``power_w`` is W.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from instruments.scpi import Adapter, ScpiInstrument, control
from instruments.scpi.replies import parse_float, strip_reply
from instruments.scpi.validators import boolean, strict_int_range, strict_range
from optics.errors import GarbledReply, MeasurementInvalid


@dataclasses.dataclass(frozen=True)
class SensorInfo:
    """The head attached to the console (``SYST:SENS:IDN?``)."""

    name: str
    serial: str
    calibration: str
    sensor_type: int
    subtype: int
    flags: int

    @property
    def wavelength_settable(self) -> bool:
        """True if the head accepts a correction wavelength (flag bit 32)."""
        return bool(self.flags & 32)


class PM100D(ScpiInstrument):
    """Thorlabs PM100D console with a photodiode or thermal head.

    Examples
    --------
    >>> pm = PM100D("USB0::0x1313::0x8078::P0012345::INSTR")   # doctest: +SKIP
    >>> pm.wavelength_m = 1310e-9                              # doctest: +SKIP
    >>> pm.power_w                                             # doctest: +SKIP
    """

    ERROR_QUERY = "SYST:ERR?"

    wavelength_m = control(
        "SENS:CORR:WAV?", "SENS:CORR:WAV {value}",
        "Control the correction wavelength in m (185e-9 .. 25e-6; sent in nm).",
        validator=strict_range(185e-9, 25e-6, "m"),
        set_process=lambda m: m * 1e9, get_process=lambda nm: nm * 1e-9)
    averaging_count = control(
        "SENS:AVER:COUN?", "SENS:AVER:COUN {value}",
        "Control the number of samples averaged per reading (1 .. 10000, ~3 ms each).",
        kind=int, validator=strict_int_range(1, 10000))
    auto_range = control(
        "SENS:POW:RANG:AUTO?", "SENS:POW:RANG:AUTO {value}",
        "Control automatic ranging (bool).", kind=bool, validator=boolean)

    def __init__(self, resource: str | Adapter, **kwargs: Any) -> None:
        super().__init__(resource, **kwargs)
        self._unit_pinned = False

    def forget_pinned_state(self) -> None:
        """After a reset pin ``SENS:POW:UNIT W`` again before the next reading."""
        self._unit_pinned = False

    @property
    def power_w(self) -> float:
        """Measure the optical power in W (``MEAS:POW?``)."""
        if not self._unit_pinned:
            self.write_checked("SENS:POW:UNIT W")
            self._unit_pinned = True
        return parse_float(self.ask("MEAS:POW?"), command="MEAS:POW?", resource=self.resource_name)

    @property
    def power_dbm(self) -> float:
        """Measure the optical power in dBm (raises ``MeasurementInvalid`` for P <= 0)."""
        p = self.power_w
        if p <= 0:
            raise MeasurementInvalid(f"{self.resource_name}: power {p:g} W <= 0 has no dBm value")
        return 10.0 * math.log10(p / 1e-3)

    def zero(self) -> None:
        """Start dark-current zeroing (cover the head first)."""
        self.write_checked("SENS:CORR:COLL:ZERO")

    @property
    def sensor(self) -> SensorInfo:
        """Get the attached head's identity (``SYST:SENS:IDN?``)."""
        reply = self.ask("SYST:SENS:IDN?")
        fields = [strip_reply(f) for f in strip_reply(reply).split(",")]
        if len(fields) < 6:
            raise GarbledReply(f"SYST:SENS:IDN? reply {reply!r} has {len(fields)} fields, expected 6 ({self.resource_name})")
        try:
            return SensorInfo(name=fields[0], serial=fields[1], calibration=fields[2],
                              sensor_type=int(fields[3]), subtype=int(fields[4]), flags=int(fields[5]))
        except ValueError:
            raise GarbledReply(f"SYST:SENS:IDN? reply {reply!r}: type/subtype/flags not integers ({self.resource_name})") from None


__all__ = ["PM100D", "SensorInfo"]
