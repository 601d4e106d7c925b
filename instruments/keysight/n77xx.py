"""Keysight optical power meters: N7744A/N7745A (ports) and 8163B mainframe (slot, channel).

Command set (Keysight N77xx programming guide 9018-02434 and the 8163B/8164B guide, as used
by LabExT ``PowerMeterGenericKeysight.py``; checked against public driver code, not the
guides themselves):

=====================  ======================================  ============================
Function               8163B (slot n, channel m)               N774xA (port n)
=====================  ======================================  ============================
Power (new / last)     ``:READn:CHANm:POW?`` / ``:FETCn:...``  ``:READn:POW?`` / ``:FETCn:POW?``
Wavelength (m)         ``:SENSn:CHANm:POW:WAV``                ``:SENSn:POW:WAV``
Averaging time (s)     ``:SENSn:CHANm:POW:ATIM``               ``:SENSn:POW:ATIM``
Unit (0 dBm, 1 W)      ``:SENSn:CHANm:POW:UNIT``               ``:SENSn:POW:UNIT``
Auto range / range     ``:SENSn:CHANm:POW:RANG:AUTO`` / ``:RANG`` (dBm)
Continuous trigger     ``:INITn:CHANm:CONT``                   ``:INITn:CONT``
Single trigger         ``:INITn:CHANm:IMM``                    ``:INITn:IMM``
Trigger input          ``:TRIGn:CHANm:INP IGN|SME|CME|MME``    ``:TRIGn:INP ...``
Logging                ``:SENSn:..:FUNC:STAT LOGG,STOP`` (before and after a run),
                       ``:SENSn:CHANm:FUNC:PAR:LOGG <n>,<s>``, ``:SENSn:..:FUNC:STAT LOGG,STAR``,
                       ``:SENSn:..:FUNC:STAT?`` (``...,COMPLETE``), ``:SENSn:..:FUNC:RES?``
                       (float32 little-endian block, W)
=====================  ======================================  ============================

Units: the driver pins the power unit to W (``:SENS..:POW:UNIT 1``) before the first power
reading of a port, so ``power_w`` is always watts.  Replies of 1e20 W or more mean the
head is out of range (under-range / no valid reading; LabExT notes this quirk) and raise
:class:`~optics.errors.MeasurementInvalid`.  Not confirmed against the guide: the exact
reply of an under-range reading on N7744A firmware (we treat any value >= 1e20 as invalid).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from instruments.scpi import Adapter, Channel, ScpiInstrument, control
from instruments.scpi.replies import parse_float, strip_reply
from instruments.scpi.validators import boolean, strict_int_range, strict_range
from optics.errors import GarbledReply, InvalidParameter, MeasurementInvalid

#: Readings at or above this (W) are the meter's "no valid value".
UNDER_RANGE_W = 1e20


class PowerMeterPort(Channel):
    """One detector: ``slot``/``port`` number and the ``chan`` infix (``":CHAN1"`` or ``""``)."""

    wavelength_m = control(
        ":SENS{slot}{chan}:POW:WAV?", ":SENS{slot}{chan}:POW:WAV {value}",
        "Control the calibration wavelength in m (1250e-9 .. 1650e-9).",
        validator=strict_range(1250e-9, 1650e-9, "m"))
    averaging_time_s = control(
        ":SENS{slot}{chan}:POW:ATIM?", ":SENS{slot}{chan}:POW:ATIM {value}",
        "Control the averaging time in s (1e-6 .. 10).",
        validator=strict_range(1e-6, 10.0, "s"))
    auto_range = control(
        ":SENS{slot}{chan}:POW:RANG:AUTO?", ":SENS{slot}{chan}:POW:RANG:AUTO {value}",
        "Control automatic ranging (bool).", kind=bool, validator=boolean)
    range_dbm = control(
        ":SENS{slot}{chan}:POW:RANG?", ":SENS{slot}{chan}:POW:RANG {value}",
        "Control the manual power range in dBm (-60 .. +10, steps of 10 dB on most heads).",
        validator=strict_range(-60.0, 10.0, "dBm"))
    continuous = control(
        ":INIT{slot}{chan}:CONT?", ":INIT{slot}{chan}:CONT {value}",
        "Control continuous (free-running) measurement (bool).", kind=bool, validator=boolean)
    trigger_input = control(
        ":TRIG{slot}{chan}:INP?", ":TRIG{slot}{chan}:INP {value}",
        'Control the response to trigger input: "ignore", "single", "complete" or "multiple".',
        choices={"ignore": "IGN", "single": "SME", "complete": "CME", "multiple": "MME"})

    def __init__(self, parent: ScpiInstrument, *, slot: int, chan: str) -> None:
        super().__init__(parent, slot=slot, chan=chan)
        self._unit_pinned = False

    def _pin_watts(self) -> None:
        if not self._unit_pinned:
            self.write_checked(":SENS{slot}{chan}:POW:UNIT 1".format(**self.context))
            self._unit_pinned = True

    def _power(self, verb: str) -> float:
        self._pin_watts()
        command = f":{verb}{{slot}}{{chan}}:POW?".format(**self.context)
        value = parse_float(self.ask(command), command=command, resource=self.resource_name)
        if value >= UNDER_RANGE_W:
            raise MeasurementInvalid(
                f"{self.resource_name}: {command} returned {value:g} (out of range, no valid reading)"
            )
        return value

    @property
    def power_w(self) -> float:
        """Measure the optical power in W (triggers a new reading, ``:READ``)."""
        return self._power("READ")

    def fetch_power_w(self) -> float:
        """Get the last reading in W without triggering (``:FETC``)."""
        return self._power("FETC")

    def initiate(self) -> None:
        """Start one measurement (``:INIT..:IMM``); read it with :meth:`fetch_power_w`."""
        self.write_checked(":INIT{slot}{chan}:IMM".format(**self.context))

    def log_power_w(self, n_points: int, averaging_time_s: float, *, timeout_s: float | None = None) -> np.ndarray:
        """Run the logging function and return ``n_points`` readings in W.

        Parameters
        ----------
        n_points : int
            Readings to log (1 .. 1_000_000).
        averaging_time_s : float
            Averaging time per reading in s (1e-6 .. 10).
        timeout_s : float, optional
            How long to wait for completion (default: 2 x the logging duration + 5 s).

        Raises
        ------
        MeasurementInvalid
            Logging not complete within ``timeout_s``, or a reading is out of range.
        """
        strict_int_range(1, 1_000_000)(n_points, "n_points")
        strict_range(1e-6, 10.0, "s")(averaging_time_s, "averaging_time_s")
        duration = n_points * averaging_time_s
        wait = 2.0 * duration + 5.0 if timeout_s is None else timeout_s
        self._pin_watts()
        fn = ":SENS{slot}{chan}:FUNC".format(**self.context)
        stop = f"{fn}:STAT LOGG,STOP"
        self.write_checked(stop)  # end an earlier (e.g. timed-out) run, or the parameters are refused
        self.write_checked(f"{fn}:PAR:LOGG {n_points},{averaging_time_s:.12g}")
        self.write_checked(f"{fn}:STAT LOGG,STAR")
        try:
            done, state = self.parent.poll(lambda: strip_reply(self.ask(f"{fn}:STAT?")).upper(),
                                           lambda s: "COMPLETE" in s, wait)
            if not done:
                raise MeasurementInvalid(
                    f"{self.resource_name}: logging not complete after {wait:g} s (state {state!r})"
                )
            values = self.parent.ask_block_values(f"{fn}:RES?", "f")
        except Exception:
            # leave the meter out of the logging function; the original error is the one raised
            with contextlib.suppress(Exception):
                self.write_checked(stop)
            raise
        self.write_checked(stop)
        if values.size != n_points:
            raise GarbledReply(f"{self.resource_name}: logging returned {values.size} values, expected {n_points}")
        if np.any(values >= UNDER_RANGE_W) or not np.all(np.isfinite(values)):
            raise MeasurementInvalid(f"{self.resource_name}: logged readings out of range")
        return values

    @property
    def power_dbm(self) -> float:
        """Measure the optical power in dBm, 10 log10(P / 1 mW).

        Raises
        ------
        MeasurementInvalid
            The reading is <= 0 W (possible after zeroing) and has no dBm value.
        """
        p = self.power_w
        if p <= 0:
            raise MeasurementInvalid(f"{self.resource_name}: power {p:g} W <= 0 has no dBm value")
        return 10.0 * math.log10(p / 1e-3)


class _PortMeter(ScpiInstrument):
    N_PORTS = 4

    def __init__(self, resource: str | Adapter, **kwargs: Any) -> None:
        super().__init__(resource, **kwargs)
        self._ports = {n: PowerMeterPort(self, slot=n, chan="") for n in range(1, self.N_PORTS + 1)}

    def forget_pinned_state(self) -> None:
        """After a reset the unit is dBm again: pin W before the next reading of every port."""
        for port in self._ports.values():
            port._unit_pinned = False

    def port(self, n: int) -> PowerMeterPort:
        """Return detector port ``n`` (1-based)."""
        if n not in self._ports:
            raise InvalidParameter(f"port {n!r} does not exist on {type(self).__name__}; ports 1..{self.N_PORTS}")
        return self._ports[n]


class N7744A(_PortMeter):
    """Keysight N7744A 4-port optical power meter.

    Examples
    --------
    >>> opm = N7744A("TCPIP::10.0.0.7::5025::SOCKET")      # doctest: +SKIP
    >>> opm.port(1).wavelength_m = 1310e-9                 # doctest: +SKIP
    >>> opm.port(1).power_w                                # doctest: +SKIP
    """

    N_PORTS = 4


class N7745A(_PortMeter):
    """Keysight N7745A 8-port optical power meter."""

    N_PORTS = 8


class Keysight8163B(ScpiInstrument):
    """Keysight 8163B/8164B mainframe with power-meter modules (slot 1..4, channel 1..2)."""

    N_SLOTS = 4

    def __init__(self, resource: str | Adapter, **kwargs: Any) -> None:
        super().__init__(resource, **kwargs)
        self._channels: dict[tuple[int, int], PowerMeterPort] = {}

    def forget_pinned_state(self) -> None:
        """After a reset the unit is dBm again: pin W before the next reading of every channel."""
        for port in self._channels.values():
            port._unit_pinned = False

    def channel(self, slot: int, ch: int = 1) -> PowerMeterPort:
        """Return the detector in ``slot`` (1..4), channel ``ch`` (1..2)."""
        if slot not in range(1, self.N_SLOTS + 1) or ch not in (1, 2):
            raise InvalidParameter(f"slot {slot!r}, channel {ch!r} invalid; slots 1..{self.N_SLOTS}, channels 1..2")
        key = (slot, ch)
        if key not in self._channels:
            self._channels[key] = PowerMeterPort(self, slot=slot, chan=f":CHAN{ch}")
        return self._channels[key]


__all__ = ["Keysight8163B", "N7744A", "N7745A", "PowerMeterPort", "UNDER_RANGE_W"]
