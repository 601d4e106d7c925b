"""Keysight N7731C/N7734A-style 1xN optical switches (and 8163B switch modules).

Commands ("Signal Routing", *Agilent 8163A/B, 8164A/B & 8166A/B Mainframes Programming
Guide*, 5th ed., p. 169-170; route syntax also in a public N7734A script):

* ``:ROUT<n>:CHAN<m> A,<k>`` connect input A of switch channel ``m`` in slot ``n`` to output
  ``k``; ``:ROUT<n>:CHAN<m>?`` reads the route back as ``A,<k>``;
* ``:ROUT<n>:CHAN<m>:CONF?`` -> ``A,A;1,N`` (ports on each side: the output count N).

Unconfirmed against the N773x user guide: the ``CHANnel`` node on the stand-alone N773x
(the 8163B guide has it; the public script omits it, which the optional node allows), and
that a route query always answers ``A,<k>`` (no "not connected" state is handled).

:class:`OpticalSwitch` also offers the station's lane-switch interface (``select(lane)``,
``shutdown()``, ``identity``): lane ``k`` (0-based) is output ``k + 1`` on every channel
listed in ``lane_channels`` (default: channel 1 on the transmit side, 2 on the receive side).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from instruments.scpi import ScpiInstrument
from optics.errors import GarbledReply, InvalidParameter


class OpticalSwitch(ScpiInstrument):
    """A 1xN optical switch instrument.

    Parameters
    ----------
    resource : str or Adapter
        As for :class:`~instruments.scpi.ScpiInstrument`.
    slot : int
        Slot of the switch module (1 on a stand-alone N773x).
    lane_channels : sequence of int
        Switch channels moved together by :meth:`select` (default ``(1, 2)``: Tx and Rx side).
    **kwargs
        Passed to :class:`~instruments.scpi.ScpiInstrument`.

    Examples
    --------
    >>> sw = OpticalSwitch("TCPIP::10.0.0.9::5025::SOCKET")   # doctest: +SKIP
    >>> sw.route(3, channel=1)                              # doctest: +SKIP
    >>> sw.select(0)          # lane 0 on both sides        # doctest: +SKIP
    """

    RETRY_AFTER_RECONNECT = True

    def __init__(self, resource: Any, *, slot: int = 1, lane_channels: Sequence[int] = (1, 2), **kwargs: Any) -> None:
        self.slot = _positive_int("slot", slot, 16)
        channels = tuple(lane_channels)
        if not channels:
            raise InvalidParameter("lane_channels must name at least one switch channel")
        self.lane_channels = tuple(_positive_int("lane_channels item", c, 16) for c in channels)
        super().__init__(resource, **kwargs)
        self.position: int | None = None
        self._outputs: dict[int, int] = {}

    def _head(self, channel: int) -> str:
        return f":ROUT{self.slot}:CHAN{_positive_int('channel', channel, 16)}"

    def output_count(self, channel: int = 1) -> int:
        """Number of outputs N of switch channel ``channel`` (``:CONF?``, cached)."""
        if channel not in self._outputs:
            reply = self.ask(f"{self._head(channel)}:CONF?")
            try:
                left, right = reply.strip().strip('"').split(";")
                first, last = (x.strip() for x in left.split(","))
                low, high = (int(x) for x in right.split(","))
                if not (first.isalpha() and last.isalpha()):
                    raise ValueError(left)
            except ValueError:
                raise GarbledReply(f"{self.resource_name}: switch configuration {reply!r} is not 'A,A;1,N'") from None
            if low != 1 or high < 1:
                raise GarbledReply(f"{self.resource_name}: switch configuration {reply!r} has outputs {low}..{high}")
            self._outputs[channel] = high
        return self._outputs[channel]

    def route(self, output: int, *, channel: int = 1) -> None:
        """Connect input A of ``channel`` to ``output`` (1..N; checked before sending) and check errors."""
        n = self.output_count(channel)
        if isinstance(output, bool) or not isinstance(output, int) or not 1 <= output <= n:
            raise InvalidParameter(f"output = {output!r} not in 1..{n} of switch channel {channel}")
        self.write_checked(f"{self._head(channel)} A,{output}")

    def routed_output(self, channel: int = 1) -> int:
        """The output input A of ``channel`` is connected to."""
        reply = self.ask(f"{self._head(channel)}?")
        left, _, right = reply.strip().strip('"').partition(",")
        if left.strip().upper() != "A" or not right.strip().lstrip("+").isdigit():
            raise GarbledReply(f"{self.resource_name}: route {reply!r} is not 'A,<output>'")
        return int(right)

    # --- the station's lane-switch interface ------------------------------------------------
    @property
    def identity(self) -> str:
        """The ``*IDN?`` reply (read once)."""
        if self._identity is None:
            self._identity = self._read_identity()
        return self._identity.raw

    def select(self, lane: int) -> None:
        """Route lane ``lane`` (0-based: output ``lane + 1``) on every channel of ``lane_channels``."""
        if isinstance(lane, bool) or not isinstance(lane, int) or lane < 0:
            raise InvalidParameter(f"lane = {lane!r} must be an integer >= 0")
        for channel in self.lane_channels:
            self.route(lane + 1, channel=channel)
        self.position = lane

    def shutdown(self) -> None:
        """Nothing to make safe on a passive switch; forget the position."""
        self.position = None


class N7734A(OpticalSwitch):
    """Keysight N7734A optical switch."""


class N7731C(OpticalSwitch):
    """Keysight N7731C optical switch."""


def _positive_int(name: str, value: Any, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise InvalidParameter(f"{name} = {value!r} must be an integer in 1..{high}")
    return value


__all__ = ["N7731C", "N7734A", "OpticalSwitch"]
