"""Keithley 2400 SourceMeter (SMU): source V or I, measure V and I, with compliance.

Commands (PyMeasure ``keithley2400.py``, QCoDeS ``Keithley_2400.py``; the 2400 reference
manual was not reachable): ``:SOUR:FUNC VOLT|CURR``, ``:SOUR:VOLT:LEV``, ``:SOUR:CURR:LEV``,
``:SENS:CURR:PROT`` / ``:SENS:VOLT:PROT`` (compliance), ``:OUTP ON|OFF``,
``:FORM:ELEM VOLT,CURR`` + ``:READ?``.  A reading in compliance overflow is 9.91E+37 and
raises :class:`~optics.errors.MeasurementInvalid`.

Safety limits (per instance): ``voltage_v`` and ``current_a`` bound the magnitude of every
source level *and* compliance setting.
"""

from __future__ import annotations

from typing import Any

from instruments.scpi import Adapter, ScpiInstrument, control
from instruments.scpi.replies import parse_floats
from instruments.scpi.validators import boolean, strict_range
from optics.errors import GarbledReply


class Keithley2400(ScpiInstrument):
    """Keithley 2400 SMU (+-210 V, +-1.05 A).

    Examples
    --------
    >>> smu = Keithley2400("GPIB0::24::INSTR", safety_limits={"voltage_v": 5.0, "current_a": 0.05})  # doctest: +SKIP
    >>> smu.source_function = "voltage"; smu.compliance_current_a = 0.01                          # doctest: +SKIP
    >>> smu.source_voltage_v = 1.0; smu.output_enabled = True; smu.measure()                      # doctest: +SKIP
    """

    SAFETY_LIMITS = {"voltage_v": ("V", "abs_max"), "current_a": ("A", "abs_max")}

    source_function = control(
        ":SOUR:FUNC?", ":SOUR:FUNC {value}",
        'Control what is sourced: "voltage" or "current".',
        choices={"voltage": "VOLT", "current": "CURR"})
    source_voltage_v = control(
        ":SOUR:VOLT:LEV?", ":SOUR:VOLT:LEV {value}",
        "Control the source voltage level in V (-210 .. 210).",
        validator=strict_range(-210.0, 210.0, "V"), safety="voltage_v")
    source_current_a = control(
        ":SOUR:CURR:LEV?", ":SOUR:CURR:LEV {value}",
        "Control the source current level in A (-1.05 .. 1.05).",
        validator=strict_range(-1.05, 1.05, "A"), safety="current_a")
    compliance_current_a = control(
        ":SENS:CURR:PROT?", ":SENS:CURR:PROT {value}",
        "Control the current compliance in A (1e-9 .. 1.05) when sourcing voltage.",
        validator=strict_range(1e-9, 1.05, "A"), safety="current_a")
    compliance_voltage_v = control(
        ":SENS:VOLT:PROT?", ":SENS:VOLT:PROT {value}",
        "Control the voltage compliance in V (0.2 .. 210) when sourcing current.",
        validator=strict_range(0.2, 210.0, "V"), safety="voltage_v")
    output_enabled = control(
        ":OUTP?", ":OUTP {value}", "Control the output state (bool).", kind=bool, validator=boolean)

    def __init__(self, resource: str | Adapter, **kwargs: Any) -> None:
        super().__init__(resource, **kwargs)
        self._elements_pinned = False

    def forget_pinned_state(self) -> None:
        """After a reset pin ``:FORM:ELEM VOLT,CURR`` again before the next reading."""
        self._elements_pinned = False

    def measure(self) -> tuple[float, float]:
        """Trigger a reading and return ``(voltage_v, current_a)``.

        The reading elements are pinned to ``VOLT,CURR`` before the first reading.
        """
        if not self._elements_pinned:
            self.write_checked(":FORM:ELEM VOLT,CURR")
            self._elements_pinned = True
        values = parse_floats(self.ask(":READ?"), command=":READ?", resource=self.resource_name)
        if values.size != 2:
            raise GarbledReply(f"{self.resource_name}: :READ? gave {values.size} values, expected 2 (VOLT,CURR)")
        return float(values[0]), float(values[1])

    @property
    def voltage_v(self) -> float:
        """Measure the voltage in V."""
        return self.measure()[0]

    @property
    def current_a(self) -> float:
        """Measure the current in A."""
        return self.measure()[1]

    def shutdown(self) -> None:
        """Switch the output off."""
        self.output_enabled = False


__all__ = ["Keithley2400"]
