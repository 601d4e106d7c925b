"""HP 8156A optical attenuator.

Commands (lightlab ``HP_8156A_VA.py`` for attenuation and shutter; wavelength and offset
from the SCPI tree of the 8156A manual as remembered, **not confirmed**):
``:INP:ATT`` (dB), ``:INP:OFFS`` (dB), ``:INP:WAV`` (m), ``:OUTP:STAT 1|0`` (shutter).
The 8156A has no power-control mode (that is the N776xA).  Allow about 1 s to settle after a
large attenuation step (:meth:`HP8156A.settle`).
"""

from __future__ import annotations

from instruments.keysight.n776x import check_actual_attenuation
from instruments.scpi import ScpiInstrument, control
from instruments.scpi.validators import boolean, strict_range


class HP8156A(ScpiInstrument):
    """HP 8156A attenuator (0 .. 60 dB).

    Safety limit ``attenuation_db`` (minimum) refuses settings whose actual attenuation (set
    value minus the offset, read from the instrument) is below it, before sending.
    """

    SAFETY_LIMITS = {"attenuation_db": ("dB", "min")}

    attenuation_db = control(
        ":INP:ATT?", ":INP:ATT {value}",
        "Control the attenuation in dB (0 .. 60).",
        validator=strict_range(0.0, 60.0, "dB"), safety="attenuation_db")
    attenuation_offset_db = control(
        ":INP:OFFS?", ":INP:OFFS {value}",
        "Control the attenuation offset in dB (-60 .. 60).",
        validator=strict_range(-60.0, 60.0, "dB"))
    wavelength_m = control(
        ":INP:WAV?", ":INP:WAV {value}",
        "Control the calibration wavelength in m (1200e-9 .. 1650e-9).",
        validator=strict_range(1200e-9, 1650e-9, "m"))
    shutter_open = control(
        ":OUTP:STAT?", ":OUTP:STAT {value}",
        "Control the shutter: True = open (light passes).", kind=bool, validator=boolean)

    #: Settling time after an attenuation change, s.
    SETTLE_S = 1.0

    def check_safety(self, key: str, value: float) -> None:
        """Check a limit; ``attenuation_db`` bounds the *actual* attenuation (set value - offset).

        Shown (and set) attenuation = actual + offset, so with the limit configured the
        offset is read (``:INP:OFFS?``) and the actual attenuation checked too.  A value below
        the limit as given is refused first, with no I/O.
        """
        super().check_safety(key, value)
        check_actual_attenuation(self, key, value, self.safety_limits)

    def settle(self) -> None:
        """Wait ``SETTLE_S`` for the filter wheel to settle."""
        self._sleep(self.SETTLE_S)

    def shutdown(self) -> None:
        """Close the shutter."""
        self.shutter_open = False


__all__ = ["HP8156A"]
