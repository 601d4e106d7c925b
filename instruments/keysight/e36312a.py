"""Keysight E36312A triple-output DC supply (6 V/5 A, 25 V/1 A, 25 V/1 A).

Commands (PyMeasure ``keysightE36312A.py``; SCPI channel lists ``(@n)``): ``VOLT <V>, (@n)``,
``CURR <A>, (@n)``, ``OUTP 1|0, (@n)``, ``MEAS:VOLT? (@n)``, ``MEAS:CURR? (@n)``;
queries ``VOLT? (@n)``, ``CURR? (@n)``, ``OUTP? (@n)``.

Safety limits (per instance): ``voltage_v``/``current_a`` for all outputs, or
``ch1_voltage_v`` ... ``ch3_current_a`` for one output; the stricter applies.  A setting
beyond a limit raises :class:`~optics.errors.SafetyLimitError` before anything is sent.
"""

from __future__ import annotations

from typing import Any

from instruments.scpi import Adapter, Channel, ScpiInstrument, control, measurement
from instruments.scpi.validators import boolean, strict_range
from optics.errors import InvalidParameter


class _SupplyChannel(Channel):
    voltage_setpoint_v: float
    current_limit_a: float

    output_enabled = control(
        "OUTP? (@{ch})", "OUTP {value}, (@{ch})",
        "Control the output state (bool).", kind=bool, validator=boolean)
    voltage_v = measurement("MEAS:VOLT? (@{ch})", "Measure the output voltage in V.")
    current_a = measurement("MEAS:CURR? (@{ch})", "Measure the output current in A.")

    def check_safety(self, key: str, value: float) -> None:
        self.parent.check_safety(key, value)
        self.parent.check_safety(f"ch{self.context['ch']}_{key}", value)


class SupplyChannel6V(_SupplyChannel):
    """Output 1: 0 .. 6 V, 0 .. 5 A."""

    voltage_setpoint_v = control(
        "VOLT? (@{ch})", "VOLT {value}, (@{ch})",
        "Control the voltage setpoint in V (0 .. 6.18).",
        validator=strict_range(0.0, 6.18, "V"), safety="voltage_v")
    current_limit_a = control(
        "CURR? (@{ch})", "CURR {value}, (@{ch})",
        "Control the current limit in A (0.001 .. 5.15).",
        validator=strict_range(0.001, 5.15, "A"), safety="current_a")


class SupplyChannel25V(_SupplyChannel):
    """Outputs 2 and 3: 0 .. 25 V, 0 .. 1 A."""

    voltage_setpoint_v = control(
        "VOLT? (@{ch})", "VOLT {value}, (@{ch})",
        "Control the voltage setpoint in V (0 .. 25.75).",
        validator=strict_range(0.0, 25.75, "V"), safety="voltage_v")
    current_limit_a = control(
        "CURR? (@{ch})", "CURR {value}, (@{ch})",
        "Control the current limit in A (0.001 .. 1.03).",
        validator=strict_range(0.001, 1.03, "A"), safety="current_a")


class E36312A(ScpiInstrument):
    """Keysight E36312A triple-output supply.

    Examples
    --------
    >>> psu = E36312A("TCPIP::10.0.0.11::5025::SOCKET", safety_limits={"ch1_voltage_v": 3.47})  # doctest: +SKIP
    >>> psu.channel(1).voltage_setpoint_v = 3.3          # doctest: +SKIP
    >>> psu.channel(1).output_enabled = True             # doctest: +SKIP
    """

    SAFETY_LIMITS = {
        "voltage_v": ("V", "max"),
        "current_a": ("A", "max"),
        **{f"ch{n}_voltage_v": ("V", "max") for n in (1, 2, 3)},
        **{f"ch{n}_current_a": ("A", "max") for n in (1, 2, 3)},
    }

    def __init__(self, resource: str | Adapter, **kwargs: Any) -> None:
        super().__init__(resource, **kwargs)
        self._channels = {1: SupplyChannel6V(self, ch=1), 2: SupplyChannel25V(self, ch=2), 3: SupplyChannel25V(self, ch=3)}

    def channel(self, n: int) -> _SupplyChannel:
        """Return output ``n`` (1..3)."""
        if n not in self._channels:
            raise InvalidParameter(f"E36312A output {n!r} does not exist; outputs 1..3")
        return self._channels[n]

    def shutdown(self) -> None:
        """Switch all outputs off (every output is tried even if one reports an error)."""
        self._attempt_all(
            [lambda ch=ch: setattr(ch, "output_enabled", False) for ch in self._channels.values()]
        )


__all__ = ["E36312A", "SupplyChannel25V", "SupplyChannel6V"]
