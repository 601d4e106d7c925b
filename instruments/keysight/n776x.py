"""Keysight N7762A/N7764A variable optical attenuators with power monitor and shutter.

Commands (``n`` = channel 1, 3, 5, 7):

* attenuation ``:INPn:ATT`` (dB), offset ``:INPn:OFFS`` (dB), speed ``:INPn:ATT:SPE`` (dB/s),
  wavelength ``:INPn:WAV`` (m);
* shutter ``:OUTPn:STAT ON|OFF`` (ON = light passes);
* power control ``:OUTPn:POW:CONTR ON|OFF``, power set point ``:OUTPn:POW`` (in the unit
  of ``:OUTPn:POW:UN 0|1``, 0 dBm, 1 W), monitor averaging time ``:OUTPn:ATIM`` (s);
* monitor ``:READn:POW?``.

Commands confirmed by: Keysight 8163A/B, 8164A/B & 8166A/B Mainframes Programming Guide,
"Measurement Operations & Settings / Signal Conditioning" (the attenuator command set the
N776xA shares): ``:INPut:ATTenuation`` (shown attenuation = filter attenuation + offset),
``:OUTPut:POWer`` ("if your attenuator module includes the power control feature, the
filter attenuation is changed until the set power (measured by the module's internal power
meter) has been reached"; without it the attenuation is computed from a reference power, so a
set point *always* moves the attenuation), and ``:OUTPut:APMode`` ("included for
compatibility with the 8156A ... only sets an internal flag"; its query tells whether power
or attenuation was changed last).  ``:OUTPn:POW:CONTR``, ``:OUTPn:POW:UN DBM(0)|WATT(1)``
and channels 1/3/5/7 as cited from the N77xx programming guide 9018-02434 (Ed. 7, 2015) in
``reference/instruments-scpi-and-stations.md`` (appendix) and the public LabExT / N7761A
drivers.  ``APMode`` is therefore not used: it switches nothing.  Not confirmed: that
``:OUTPn:POW:UN`` also sets the unit of the monitor reply (``:READn:POW?``); we assume it
does.  The driver pins the power unit to W (``:OUTPn:POW:UN 1``) before the first power set
point or monitor reading of a channel.

Safety limits (per instance; :class:`~optics.errors.SafetyLimitError`, nothing set):

``output_power_w`` (maximum power at the output)
    Bounds every power set point written (``:OUTPn:POW``), the stored set point when power
    control is switched on, and the stored set point when the shutter is opened with power
    control on.
``attenuation_db`` (minimum *actual* attenuation: shown value minus offset)
    Bounds every attenuation written (``:INPn:ATT``, offset read from the instrument), the
    attenuation present when the shutter is opened, and the attenuation a power set point
    implies (:meth:`AttenuatorChannel.implied_attenuation_db`, from the monitor) when a set
    point is written or power control is switched on.  With this limit, power control is
    refused unless ``output_power_w`` is limited too (the control loop follows the input
    power below any minimum attenuation), and the shutter is not opened while power control
    is on (the attenuation it would settle at cannot be known with the shutter closed).

Without limits no extra command is sent; with them the checks read the instrument state
(``:INPn:ATT?``, ``:INPn:OFFS?``, ``:OUTPn:POW:CONTR?``, ``:OUTPn:POW?``, ``:READn:POW?``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from instruments.keysight.n77xx import UNDER_RANGE_W
from instruments.scpi import Adapter, Channel, ScpiInstrument, control
from instruments.scpi.replies import parse_float
from instruments.scpi.validators import boolean, strict_range
from optics.errors import InvalidParameter, MeasurementInvalid, SafetyLimitError


def check_actual_attenuation(attenuator: Any, key: str, value: float, limits: Mapping[str, float]) -> None:
    """Refuse an attenuation setting whose *actual* attenuation is below the configured minimum.

    An attenuator with an offset shows (and is set to) ``shown = actual + offset``, so the
    attenuation actually in the path is ``actual = value - offset``.  With an
    ``attenuation_db`` limit configured, the offset is read from the instrument
    (``attenuator.attenuation_offset_db``) and ``actual >= limit`` is required.  Shared by the
    N776xA channels and the HP 8156A.

    Parameters
    ----------
    attenuator : object
        The channel or instrument being set: has ``attenuation_offset_db`` (dB, read from
        the instrument) and ``resource_name``.
    key : str
        Safety key of the setting; only ``"attenuation_db"`` is checked here.
    value : float
        Attenuation about to be set (shown value, offset included), dB.
    limits : mapping
        The instrument's ``safety_limits``; ``limits["attenuation_db"]`` is the minimum
        actual attenuation, dB.  Nothing is read when it is absent.

    Raises
    ------
    SafetyLimitError
        ``value - offset`` is below the limit (nothing was sent).
    """
    limit = limits.get("attenuation_db")
    if key == "attenuation_db" and limit is not None:
        offset = attenuator.attenuation_offset_db
        if value - offset < limit:
            raise SafetyLimitError(
                f"{attenuator.resource_name}: attenuation_db = {value:g} dB with an offset of {offset:g} dB is "
                f"{value - offset:g} dB of actual attenuation, below the minimum {limit:g} dB configured "
                "for this instrument; nothing was sent"
            )


def check_attenuation_before_opening(attenuator: Any, limits: Mapping[str, float]) -> None:
    """Refuse to open a shutter while the actual attenuation is below the configured minimum.

    The attenuation may have been set before the limit was configured, from the front panel,
    or by a power-control loop; opening the shutter is what puts that light on the device
    under test.  With an ``attenuation_db`` limit the shown attenuation and the offset are
    read (``attenuator.attenuation_db``, ``attenuator.attenuation_offset_db``) and
    ``shown - offset >= limit`` is required.  Shared by the N776xA channels and the HP 8156A.

    Parameters
    ----------
    attenuator : object
        Has ``attenuation_db``, ``attenuation_offset_db`` (dB, read from the instrument) and
        ``resource_name``.
    limits : mapping
        The instrument's ``safety_limits``; nothing is read without ``"attenuation_db"``.

    Raises
    ------
    SafetyLimitError
        The actual attenuation is below the limit (the shutter was not opened).
    """
    limit = limits.get("attenuation_db")
    if limit is None:
        return
    shown = attenuator.attenuation_db
    offset = attenuator.attenuation_offset_db
    if shown - offset < limit:
        raise SafetyLimitError(
            f"{attenuator.resource_name}: opening the shutter at {shown:g} dB with an offset of {offset:g} dB "
            f"({shown - offset:g} dB of actual attenuation) is below the minimum attenuation_db = {limit:g} dB "
            "configured for this instrument; raise the attenuation first; the shutter was not opened"
        )


class AttenuatorChannel(Channel):
    """One attenuator (``n`` = 1, 3, 5, 7).

    Every command that changes the light at the output is checked against the instrument's
    safety limits first (see the module docstring): :attr:`attenuation_db`,
    :attr:`output_power_w` / :attr:`output_power_dbm`, :attr:`power_control` and
    :attr:`shutter_open`.
    """

    attenuation_db = control(
        ":INP{n}:ATT?", ":INP{n}:ATT {value}",
        "Control the attenuation in dB (0 .. 45; safety limit attenuation_db on the actual value).",
        validator=strict_range(0.0, 45.0, "dB"), safety="attenuation_db")
    attenuation_offset_db = control(
        ":INP{n}:OFFS?", ":INP{n}:OFFS {value}",
        "Control the attenuation offset in dB (-200 .. 200).",
        validator=strict_range(-200.0, 200.0, "dB"))
    attenuation_speed_db_per_s = control(
        ":INP{n}:ATT:SPE?", ":INP{n}:ATT:SPE {value}",
        "Control the attenuation transition speed in dB/s (0.1 .. 1000).",
        validator=strict_range(0.1, 1000.0, "dB/s"))
    wavelength_m = control(
        ":INP{n}:WAV?", ":INP{n}:WAV {value}",
        "Control the calibration wavelength in m (1260e-9 .. 1640e-9).",
        validator=strict_range(1260e-9, 1640e-9, "m"))
    _shutter = control(
        ":OUTP{n}:STAT?", ":OUTP{n}:STAT {value}",
        "Control the shutter without the safety checks (see shutter_open).", kind=bool, validator=boolean)
    _power_control = control(
        ":OUTP{n}:POW:CONTR?", ":OUTP{n}:POW:CONTR {value}",
        "Control power control without the safety checks (see power_control).", kind=bool, validator=boolean)
    monitor_averaging_time_s = control(
        ":OUTP{n}:ATIM?", ":OUTP{n}:ATIM {value}",
        "Control the monitor averaging time in s (2e-3 .. 1).",
        validator=strict_range(2e-3, 1.0, "s"))

    def __init__(self, parent: ScpiInstrument, *, n: int) -> None:
        super().__init__(parent, n=n)
        self._unit_pinned = False

    def _pin_watts(self) -> None:
        if not self._unit_pinned:
            self.write_checked(":OUTP{n}:POW:UN 1".format(**self.context))
            self._unit_pinned = True

    def check_safety(self, key: str, value: float) -> None:
        """Check a limit; ``attenuation_db`` bounds the *actual* attenuation (set value - offset).

        The set and shown attenuation include the offset (shown = actual + offset), so with
        an ``attenuation_db`` limit configured the offset is read (``:INPn:OFFS?``) and the
        actual attenuation checked too.  A value below the limit as given is refused first,
        with no I/O.
        """
        self.parent.check_safety(key, value)
        check_actual_attenuation(self, key, value, self.parent.safety_limits)

    def _refuse(self, what: str, why: str) -> SafetyLimitError:
        return SafetyLimitError(f"{self.resource_name}: channel {self.context['n']}: {what} refused: {why}")

    # --- shutter ------------------------------------------------------------------------
    @property
    def shutter_open(self) -> bool:
        """Control the shutter: True = open (light passes), False = closed.

        Closing is never refused.  Opening is checked first (with limits configured): the
        actual attenuation must not be below ``attenuation_db`` (read ``:INPn:ATT?`` and
        ``:INPn:OFFS?``); with power control on, the shutter is not opened under an
        ``attenuation_db`` limit, and the stored set point must not exceed ``output_power_w``.

        Raises
        ------
        SafetyLimitError
            Opening would break a configured limit (the shutter stays as it was).
        """
        return self._shutter

    @shutter_open.setter
    def shutter_open(self, value: bool) -> None:
        value = boolean(value, "shutter_open")
        limits = self.parent.safety_limits
        if value and ("attenuation_db" in limits or "output_power_w" in limits):
            if self._power_control:
                if "attenuation_db" in limits:
                    raise self._refuse(
                        "opening the shutter",
                        "power control is on, so the attenuation settles wherever the input power puts it, "
                        f"which cannot be checked against the minimum attenuation_db = {limits['attenuation_db']:g} dB "
                        "with the shutter closed; switch power control off, open the shutter, then switch it on "
                        "(that is checked); the shutter was not opened",
                    )
                self.check_safety("output_power_w", self.output_power_w)
            else:
                check_attenuation_before_opening(self, limits)
        self._shutter = value

    # --- power control --------------------------------------------------------------------
    def implied_attenuation_db(self, setpoint_w: float) -> float:
        """Estimate the actual attenuation (dB, offset excluded) at which the output would be ``setpoint_w``.

        ``A_new = A_now + 10 log10(P_now / P_set)``, with ``A_now`` the actual attenuation now
        (``:INPn:ATT?`` - ``:INPn:OFFS?``) and ``P_now`` the monitored output power now
        (``:READn:POW?``, W); the monitor's power offset cancels in the ratio.  This is what a
        power set point makes the instrument do (the control loop, or the reference-power
        calculation without it, both aim at ``P_set`` at the output).

        Raises
        ------
        SafetyLimitError
            No light at the monitor (shutter closed, source off, reading invalid): the
            attenuation the set point implies cannot be known.
        """
        strict_range(1e-9, 0.1, "W")(setpoint_w, "setpoint_w")
        actual_db = self.attenuation_db - self.attenuation_offset_db
        try:
            p_now = self.power_w
        except MeasurementInvalid as exc:
            raise self._refuse("power set point", f"the monitor reading is invalid ({exc}), so the attenuation "
                               "the set point implies cannot be checked") from exc
        if p_now <= 0.0:
            raise self._refuse(
                "power set point",
                f"the monitor reads {p_now:g} W (no light: shutter closed or source off), so the attenuation "
                "the set point implies cannot be checked; open the shutter with power control off first",
            )
        return actual_db + 10.0 * math.log10(p_now / setpoint_w)

    def _check_setpoint(self, setpoint_w: float, what: str) -> None:
        """Check a set point that is about to act: max power, then the attenuation it implies."""
        limits = self.parent.safety_limits
        self.check_safety("output_power_w", setpoint_w)
        minimum = limits.get("attenuation_db")
        if minimum is not None:
            implied = self.implied_attenuation_db(setpoint_w)
            if implied < minimum:
                raise self._refuse(
                    what,
                    f"a set point of {setpoint_w:g} W implies {implied:.3g} dB of actual attenuation, below the "
                    f"minimum attenuation_db = {minimum:g} dB configured for this instrument; nothing was set",
                )

    @property
    def power_control(self) -> bool:
        """Control closed-loop power control (``:OUTPn:POW:CONTR``): the instrument moves the
        attenuation until the monitored output equals the set point.

        Switching off is never refused.  Switching on is refused while an ``attenuation_db``
        limit is configured without an ``output_power_w`` limit, when the stored set point
        (``:OUTPn:POW?``) exceeds ``output_power_w``, or when the attenuation it implies
        (:meth:`implied_attenuation_db`) is below ``attenuation_db``.

        Raises
        ------
        SafetyLimitError
            Switching on would break a configured limit (nothing was set).
        """
        return self._power_control

    @power_control.setter
    def power_control(self, value: bool) -> None:
        value = boolean(value, "power_control")
        limits = self.parent.safety_limits
        if value and ("attenuation_db" in limits or "output_power_w" in limits):
            if "attenuation_db" in limits and "output_power_w" not in limits:
                raise self._refuse(
                    "power control",
                    "the control loop sets the attenuation itself and follows the input power below the "
                    f"configured minimum attenuation_db = {limits['attenuation_db']:g} dB; configure an "
                    "output_power_w limit as well to allow it; nothing was set",
                )
            self._check_setpoint(self.output_power_w, "power control")
        self._power_control = value

    @property
    def output_power_w(self) -> float:
        """Control the power set point in W (1e-9 .. 0.1 W).

        Writing it moves the attenuation (module docstring), so a set point is checked first:
        not above ``output_power_w``, and, with an ``attenuation_db`` limit, the attenuation it
        implies (:meth:`implied_attenuation_db`, read from the monitor) not below it.

        Raises
        ------
        SafetyLimitError
            The set point breaks a configured limit (it was not written).
        """
        self._pin_watts()
        command = ":OUTP{n}:POW?".format(**self.context)
        return parse_float(self.ask(command), command=command, resource=self.resource_name)

    @output_power_w.setter
    def output_power_w(self, value: float) -> None:
        value = strict_range(1e-9, 0.1, "W")(value, "output_power_w")
        self._check_setpoint(value, "power set point")
        self._pin_watts()
        self.write_checked(":OUTP{n}:POW {v}".format(v=f"{value:.12g}", **self.context))

    @property
    def output_power_dbm(self) -> float:
        """Control the power set point in dBm (converted to W on the wire; checked as :attr:`output_power_w`)."""
        return 10.0 * math.log10(self.output_power_w / 1e-3)

    @output_power_dbm.setter
    def output_power_dbm(self, value_dbm: float) -> None:
        value_dbm = strict_range(-90.0, 20.0, "dBm")(value_dbm, "output_power_dbm")
        self.output_power_w = 1e-3 * 10.0 ** (value_dbm / 10.0)

    @property
    def power_w(self) -> float:
        """Measure the monitored output power in W (``:READn:POW?``)."""
        self._pin_watts()
        command = ":READ{n}:POW?".format(**self.context)
        value = parse_float(self.ask(command), command=command, resource=self.resource_name)
        if value >= UNDER_RANGE_W:
            raise MeasurementInvalid(f"{self.resource_name}: {command} returned {value:g} (out of range)")
        return value


class _N776x(ScpiInstrument):
    CHANNELS: tuple[int, ...] = (1, 3)
    SAFETY_LIMITS = {"output_power_w": ("W", "max"), "attenuation_db": ("dB", "min")}

    def __init__(self, resource: str | Adapter, **kwargs: Any) -> None:
        super().__init__(resource, **kwargs)
        self._channels = {n: AttenuatorChannel(self, n=n) for n in self.CHANNELS}

    def forget_pinned_state(self) -> None:
        """After a reset the power unit is the default again: pin W before the next use."""
        for ch in self._channels.values():
            ch._unit_pinned = False

    def channel(self, n: int) -> AttenuatorChannel:
        """Return attenuator channel ``n`` (see ``CHANNELS``)."""
        if n not in self._channels:
            raise InvalidParameter(f"channel {n!r} does not exist on {type(self).__name__}; channels {self.CHANNELS}")
        return self._channels[n]

    def shutdown(self) -> None:
        """Close every shutter (every channel is tried even if one reports an error)."""
        self._attempt_all([lambda ch=ch: setattr(ch, "shutter_open", False) for ch in self._channels.values()])


class N7762A(_N776x):
    """Keysight N7762A 2-channel VOA with power monitor (channels 1, 3).

    Examples
    --------
    >>> voa = N7762A("TCPIP::10.0.0.8::5025::SOCKET", safety_limits={"attenuation_db": 3.0})  # doctest: +SKIP
    >>> voa.channel(1).attenuation_db = 10.0    # doctest: +SKIP
    """

    CHANNELS = (1, 3)


class N7764A(_N776x):
    """Keysight N7764A 4-channel VOA with power monitor (channels 1, 3, 5, 7)."""

    CHANNELS = (1, 3, 5, 7)


__all__ = ["AttenuatorChannel", "N7762A", "N7764A", "check_actual_attenuation", "check_attenuation_before_opening"]
