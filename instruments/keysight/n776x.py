"""Keysight N7762A/N7764A variable optical attenuators with power monitor and shutter.

Commands (from public drivers citing the N77xx programming guide 9018-02434; not checked
against the guide itself):

* attenuation ``:INPn:ATT`` (dB), offset ``:INPn:OFFS`` (dB), wavelength ``:INPn:WAV`` (m);
* shutter ``:OUTPn:STAT ON|OFF`` (ON = light passes);
* mode ``:OUTPn:APMode 0|1`` (0 attenuation, 1 power control), setpoint ``:OUTPn:POW``,
  closed loop ``:OUTPn:POW:CONTR``, setpoint unit ``:OUTPn:POW:UN 0|1`` (0 dBm, 1 W);
* monitor ``:READn:POW?`` / ``:FETCn:POW?``.

Channels are numbered 1, 3 (N7762A) and 1, 3, 5, 7 (N7764A).  The driver pins the power
unit to W (``:OUTPn:POW:UN 1``) before the first power setpoint or monitor reading of a
channel.  Unconfirmed: that ``:OUTPn:POW:UN`` also sets the unit of the monitor reply
(``:READn:POW?``); we assume it does.

Safety limits (per instance): ``output_power_w`` (max power-control setpoint) and
``attenuation_db`` (minimum *actual* attenuation, i.e. set value minus offset, e.g. to protect
a receiver or scope input; power-control mode is refused unless ``output_power_w`` is limited
too, since the instrument then picks the attenuation itself).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from instruments.keysight.n77xx import UNDER_RANGE_W
from instruments.scpi import Adapter, Channel, ScpiInstrument, control
from instruments.scpi.replies import parse_float
from instruments.scpi.validators import boolean, strict_discrete_set, strict_range
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


class AttenuatorChannel(Channel):
    """One attenuator (``n`` = 1, 3, 5, 7)."""

    attenuation_db = control(
        ":INP{n}:ATT?", ":INP{n}:ATT {value}",
        "Control the attenuation in dB (0 .. 45).",
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
    shutter_open = control(
        ":OUTP{n}:STAT?", ":OUTP{n}:STAT {value}",
        "Control the shutter: True = open (light passes), False = closed.",
        kind=bool, validator=boolean)
    _mode = control(
        ":OUTP{n}:APMode?", ":OUTP{n}:APMode {value}",
        'Control the operating mode: "attenuation" or "power" (power control).',
        choices={"attenuation": "0", "power": "1"})
    power_control = control(
        ":OUTP{n}:POW:CONTR?", ":OUTP{n}:POW:CONTR {value}",
        "Control closed-loop power tracking in power mode (bool).", kind=bool, validator=boolean)
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

    @property
    def mode(self) -> str:
        """Control the operating mode: ``"attenuation"`` or ``"power"`` (power control).

        In power mode the instrument chooses the attenuation itself, so it is refused
        (:class:`~optics.errors.SafetyLimitError`) while an ``attenuation_db`` limit is
        configured without an ``output_power_w`` limit to bound that path.
        """
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        value = strict_discrete_set(("attenuation", "power"))(value, "mode")
        limits = self.parent.safety_limits
        if value == "power" and "attenuation_db" in limits and "output_power_w" not in limits:
            raise SafetyLimitError(
                f"{self.resource_name}: power-control mode sets the attenuation itself, below the configured "
                f"minimum attenuation_db = {limits['attenuation_db']:g} dB; configure an output_power_w limit "
                "as well to allow it; nothing was sent"
            )
        self._mode = value

    @property
    def output_power_w(self) -> float:
        """Control the power-control setpoint in W (1e-9 .. 0.1 W; safety limit ``output_power_w``)."""
        self._pin_watts()
        command = ":OUTP{n}:POW?".format(**self.context)
        return parse_float(self.ask(command), command=command, resource=self.resource_name)

    @output_power_w.setter
    def output_power_w(self, value: float) -> None:
        value = strict_range(1e-9, 0.1, "W")(value, "output_power_w")
        self.check_safety("output_power_w", value)
        self._pin_watts()
        self.write_checked(":OUTP{n}:POW {v}".format(v=f"{value:.12g}", **self.context))

    @property
    def output_power_dbm(self) -> float:
        """Control the power-control setpoint in dBm (converted to W on the wire)."""
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


__all__ = ["AttenuatorChannel", "N7762A", "N7764A", "check_actual_attenuation"]
