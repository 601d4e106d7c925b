"""HP 8156A optical attenuator.

Commands: ``:INP:ATT`` (dB), ``:INP:OFFS`` (dB), ``:INP:WAV`` (m), ``:OUTP:STAT 1|0``
(shutter).

Commands confirmed by: lightlab ``HP_8156A_VA.py`` (attenuation, shutter) and the Agilent
8156A Operating and Programming Manual, "Remote Commands" (``:INPut:ATTenuation``: filter
attenuation = attenuation - calibration factor, i.e. shown = actual + offset;
``:INPut:OFFSet``; ``:OUTPut:APMode`` / ``:OUTPut:POWer``, the through-power mode, which
this driver does not use: "any of the :INPut:ATTenuation or :INPut:OFFSet commands or
queries switches the absolute power mode off").  ``:INP:WAV`` not confirmed; no evidence that
the 8156A supports ``:SYST:ERR?``.  Allow about 1 s to settle after a large attenuation step
(:meth:`HP8156A.settle`).
"""

from __future__ import annotations

from instruments.keysight.n776x import check_actual_attenuation, check_attenuation_before_opening
from instruments.scpi import ScpiInstrument, control
from instruments.scpi.validators import boolean, strict_range


class HP8156A(ScpiInstrument):
    """HP 8156A attenuator (0 .. 60 dB).

    Safety limit ``attenuation_db`` (minimum) refuses settings whose actual attenuation (set
    value minus the offset, read from the instrument) is below it, before sending, and
    refuses to open the shutter while the actual attenuation is below it.
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
    _shutter = control(
        ":OUTP:STAT?", ":OUTP:STAT {value}",
        "Control the shutter without the safety check (see shutter_open).", kind=bool, validator=boolean)

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

    @property
    def shutter_open(self) -> bool:
        """Control the shutter: True = open (light passes).

        Opening is refused (:class:`~optics.errors.SafetyLimitError`) while the actual
        attenuation (``:INP:ATT?`` - ``:INP:OFFS?``, read only with an ``attenuation_db`` limit)
        is below the limit; closing is never refused.
        """
        return self._shutter

    @shutter_open.setter
    def shutter_open(self, value: bool) -> None:
        if boolean(value, "shutter_open"):
            check_attenuation_before_opening(self, self.safety_limits)
        self._shutter = value

    def settle(self) -> None:
        """Wait ``SETTLE_S`` for the filter wheel to settle."""
        self._sleep(self.SETTLE_S)

    def shutdown(self) -> None:
        """Close the shutter."""
        self.shutter_open = False


__all__ = ["HP8156A"]
