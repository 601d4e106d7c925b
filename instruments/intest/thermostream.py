"""inTEST/Temptronic ThermoStream (ATS-525/545, ECO-560) temperature forcing system.

Non-SCPI four-letter mnemonics: ``%RM``/``%GL`` (remote/local), ``HEAD 1|0``,
``FLOW 1|0``, ``SETN n`` (0 hot, 1 ambient, 2 cold) then ``SETP <degC>``, ``WNDW <K>``,
``SOAK <s>``, ``TEMP?`` (> 400 means invalid), ``TMPA?`` (air), ``TMPD?`` (DUT),
``TECR?`` (bit 0 = at temperature after the soak), ``EROR?`` (error bits), ``CLER``,
``RSTO`` (reset to the Operator screen; ``*RST`` would force the Cycle screen).

Commands confirmed by: PyMeasure ``temptronic/temptronic_base.py`` (``ATSBase``, written
from the ATS-515/615, 525/625 & 535/635 ThermoStream Systems Interface & Applications Manual,
Rev. E, 2019): every mnemonic above, ``SETN`` 0..2 = hot/ambient/cold on the Operator screen
(``WHAT?`` 5), and the set-point choice of its ``set_temperature``: cold (2) at or below
20 degC, ambient (1) above 20 and below 30 degC, hot (0) at or above 30 degC, which
:data:`SETPOINT_BOUNDS_C` and :meth:`ThermoStream.set_temperature` follow.  ``TEMP?`` > 400,
``TECR?`` bit 0, ``EROR?`` bits, ``RSTO`` and ``FLOW?`` also as recorded in
``reference/instruments-scpi-and-stations.md`` (appendix).

There is no ``:SYST:ERR?``; the error check after each setting reads ``EROR?`` and raises
:class:`~optics.errors.ScpiError` with the error bits as the code.  Safety limits:
``temperature_max_c`` and ``temperature_min_c`` refuse set points outside them.
"""

from __future__ import annotations

from instruments.scpi import ScpiInstrument, control
from instruments.scpi.replies import parse_float, parse_int
from instruments.scpi.validators import boolean, strict_range
from optics.errors import InstrumentTimeout, MeasurementInvalid, ScpiError

#: Temperature readings above this (degC) mean "no valid sensor reading".
INVALID_ABOVE_C = 400.0
#: Set-point choice on the Operator screen: cold (SETN 2) at or below the first bound, hot
#: (SETN 0) at or above the second, ambient (SETN 1) strictly between (degC).
SETPOINT_BOUNDS_C = (20.0, 30.0)


def setpoint_number(temperature_c: float) -> int:
    """Return the Operator-screen set point for ``temperature_c``: 2 cold, 1 ambient, 0 hot.

    Cold at or below 20 degC, hot at or above 30 degC, ambient in between
    (:data:`SETPOINT_BOUNDS_C`, as PyMeasure's ATS driver chooses).

    Examples
    --------
    >>> [setpoint_number(t) for t in (20.0, 20.1, 29.9, 30.0)]
    [2, 1, 1, 0]
    """
    cold_max, hot_min = SETPOINT_BOUNDS_C
    if temperature_c <= cold_max:
        return 2
    if temperature_c >= hot_min:
        return 0
    return 1


class ThermoStream(ScpiInstrument):
    """ThermoStream thermal head controller.

    Examples
    --------
    >>> ts = ThermoStream("GPIB0::10::INSTR", safety_limits={"temperature_max_c": 85.0})  # doctest: +SKIP
    >>> ts.head_down = True; ts.flow_on = True                                            # doctest: +SKIP
    >>> ts.set_temperature(75.0); ts.wait_until_at_temperature(600)                       # doctest: +SKIP
    """

    ERROR_QUERY = "EROR?"
    SAFETY_LIMITS = {"temperature_max_c": ("degC", "max"), "temperature_min_c": ("degC", "min")}

    head_down = control("HEAD?", "HEAD {value}", "Control the test head position: True = down.", kind=bool, validator=boolean)
    flow_on = control("FLOW?", "FLOW {value}", "Control the main air flow (bool).", kind=bool, validator=boolean)
    window_k = control(
        "WNDW?", "WNDW {value}", "Control the at-temperature window in K (0.1 .. 9.9).",
        validator=strict_range(0.1, 9.9, "K"))
    soak_time_s = control(
        "SOAK?", "SOAK {value}", "Control the soak time in s (0 .. 9999).",
        validator=strict_range(0.0, 9999.0, "s"))

    def check_errors(self, command: str | None = None) -> None:
        """Read ``EROR?``; non-zero bits raise :class:`ScpiError` (code = the bits)."""
        if not self.error_checking:
            return
        bits = parse_int(self.ask(self.ERROR_QUERY), command=self.ERROR_QUERY, resource=self.resource_name)
        if bits:
            raise ScpiError(bits, f"ThermoStream error register 0x{bits:04X} [{self.resource_name}]", command)

    def reset(self) -> None:
        """Reset to the Operator screen (``RSTO``); device errors clear, set point 1 is active.

        Not ``*RST``: that forces the Cycle screen, where ``SETN`` selects cycle set points
        rather than the hot/ambient/cold set points :meth:`set_temperature` uses.
        """
        self.write_checked("RSTO")

    def remote(self) -> None:
        """Take remote control (``%RM``)."""
        self.write("%RM")

    def local(self) -> None:
        """Return to front-panel control (``%GL``)."""
        self.write("%GL")

    def set_temperature(self, temperature_c: float) -> None:
        """Select the hot/ambient/cold set point for ``temperature_c`` and set it.

        Set point 2 (cold) at or below 20 degC, 0 (hot) at or above 30 degC, 1 (ambient)
        between (:func:`setpoint_number`).  Range -99.9 .. 225 degC; the set point is sent
        rounded to 0.1 degC, and the range, the safety limits and the set-point choice apply
        to that rounded value (19.96 goes out as 20.0, cold) before anything is sent.
        """
        t = strict_range(-99.9, 225.0, "degC")(temperature_c, "temperature_c")
        # SETP has 0.1 degC resolution: range and limits apply to the value actually sent
        t = strict_range(-99.9, 225.0, "degC")(float(f"{t:.1f}"), "temperature_c (sent with 0.1 degC resolution)")
        self.check_safety("temperature_max_c", t)
        self.check_safety("temperature_min_c", t)
        n = setpoint_number(t)
        self.write_checked(f"SETN {n}")
        self.write_checked(f"SETP {t:.1f}")

    def _temperature(self, query: str) -> float:
        value = parse_float(self.ask(query), command=query, resource=self.resource_name)
        if value > INVALID_ABOVE_C:
            raise MeasurementInvalid(f"{self.resource_name}: {query} = {value:g} (> {INVALID_ABOVE_C:g} means no valid sensor reading)")
        return value

    @property
    def temperature_c(self) -> float:
        """Measure the controlled temperature (air or DUT sensor) in degC."""
        return self._temperature("TEMP?")

    @property
    def air_temperature_c(self) -> float:
        """Measure the air temperature in degC."""
        return self._temperature("TMPA?")

    @property
    def dut_temperature_c(self) -> float:
        """Measure the DUT thermocouple temperature in degC."""
        return self._temperature("TMPD?")

    @property
    def at_temperature(self) -> bool:
        """Get whether the set point is reached and the soak has elapsed (``TECR?`` bit 0)."""
        return bool(parse_int(self.ask("TECR?"), command="TECR?", resource=self.resource_name) & 1)

    def wait_until_at_temperature(self, timeout_s: float) -> None:
        """Poll ``TECR?`` until at temperature.

        Raises
        ------
        InstrumentTimeout
            Not at temperature within ``timeout_s``.
        """
        strict_range(0.0, 86400.0, "s")(timeout_s, "timeout_s")
        ok, _ = self.poll(lambda: self.at_temperature, bool, timeout_s)
        if not ok:
            raise InstrumentTimeout(f"{self.resource_name}: not at temperature within {timeout_s:g} s")

    def shutdown(self) -> None:
        """Switch the air flow off (the head stays where it is)."""
        self.flow_on = False


__all__ = ["INVALID_ABOVE_C", "SETPOINT_BOUNDS_C", "ThermoStream", "setpoint_number"]
