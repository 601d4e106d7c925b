"""Virtual Keysight N7734A-style 1xN optical switch: the lane switch of a single-scope station.

An 8-lane module (800G DR8, MPO-16) is tested with one scope, one power meter, one VOA and
one BERT by routing one lane at a time through two 1xN switches: channel 1 on the transmit
side (lane k's Tx fibre -> the scope/power-meter tap), channel 2 on the receive side (the
BERT's attenuated signal -> lane k's Rx fibre).  Routing moves the bench physics
(:meth:`BenchLink.select_lane <instruments.virtual.physics.BenchLink.select_lane>`), so the
instruments see the routed lane's transmitter and receiver.

Command set: the "Signal Routing" commands of Keysight's optical switch modules and
N77xx switch instruments, as printed in the *Agilent 8163A/B, 8164A/B & 8166A/B Mainframes
Programming Guide*, 5th ed., p. 169-170 (``:ROUTe[n][:CHANnel[m]]:CONFig?`` returns
``<first>,<last>;<min>,<max>``, e.g. ``A,B;1,2``; ``:ROUTe[n][:CHANnel[m]]:CONFig:ROUTe?``
lists the allowed routes, ``,`` between the two ports of a connection, ``.`` between
states):

* ``:ROUTe[n][:CHANnel[m]] A,<k>`` -- connect input port A to output ``k`` (1..N);
* ``:ROUTe[n][:CHANnel[m]]?`` -- the present route, ``A,<k>``;
* ``:ROUTe[n][:CHANnel[m]]:CONFig?`` -- ``A,A;1,N``;
* ``:ROUTe[n][:CHANnel[m]]:CONFig:ROUTe?`` -- ``A,1.A,2. ... .A,N``.

``n`` is the slot (1 here), ``m`` the switch channel (1 Tx side, 2 Rx side); both default
to 1.  The route query format is confirmed by a public N7734A script
(``:ROUTe{slot}?`` / ``:ROUTe{slot} <route>``); not confirmed against the N773x user
guide: the exact ``*IDN?`` model string, the reply of a route query on a never-routed
channel (we answer the ``*RST`` route ``A,1``), and the error number for an impossible
route (we queue -222 "Data out of range").  Output ``k`` of the switch is lane ``k - 1``.
"""

from __future__ import annotations

from instruments.virtual.grammar import CommandError
from instruments.virtual.server import Request, VirtualInstrument

#: Switch channels: 1 routes the transmit side, 2 the receive side.
CHANNEL_SIDES = {1: "tx", 2: "rx"}


class N7734A(VirtualInstrument):
    """Virtual 1xN optical switch with two channels (Tx side and Rx side), slot 1.

    Parameters
    ----------
    link : BenchLink or None
        The bench physics; routing channel 1 (2) selects that lane's transmitter
        (receiver).  Without a link the switch only remembers its routes.
    outputs : int
        Output ports per channel, N (default 8, one per lane of a DR8 module).
    """

    idn = "Keysight Technologies,N7734A,VIRT7734,1.0-virtual"

    def __init__(self, link=None, *, outputs: int = 8) -> None:
        if isinstance(outputs, bool) or not isinstance(outputs, int) or not 1 <= outputs <= 64:
            raise ValueError(f"outputs = {outputs!r} must be an integer in 1..64")
        self.outputs = outputs
        self.routes: dict[int, int] = {}
        self.switch_count = 0
        super().__init__(link)

    def reset(self) -> None:
        """Every channel routes A to output 1 (lane 0)."""
        self.routes = dict.fromkeys(CHANNEL_SIDES, 1)
        if self.link is not None and getattr(self.link, "n_lanes", 0) >= 1:
            self.link.select_lane(0)

    def build(self) -> None:
        """Register the routing commands."""
        self.add(":ROUTe#[:CHANnel#]", set=self._set_route, query=self._route)
        self.add(":ROUTe#[:CHANnel#]:CONFig", query=lambda r: self._channel(r) and f"A,A;1,{self.outputs}")
        self.add(":ROUTe#[:CHANnel#]:CONFig:ROUTe",
                 query=lambda r: self._channel(r) and ".".join(f"A,{k}" for k in range(1, self.outputs + 1)))

    def _channel(self, req: Request) -> int:
        slot = req.suffix(0, 1)
        channel = req.suffix(1, 1)
        if slot != 1:
            raise CommandError(-222, f"no switch module in slot {slot}")
        if channel not in CHANNEL_SIDES:
            raise CommandError(-222, f"channel {channel} not in 1..{len(CHANNEL_SIDES)}")
        return int(channel)

    def _route(self, req: Request) -> str:
        return f"A,{self.routes[self._channel(req)]}"

    def _set_route(self, req: Request) -> None:
        channel = self._channel(req)
        req.args.expect(2)
        if req.args.token(0).strip().upper() != "A":
            raise CommandError(-222, f"input port {req.args.token(0)!r}: a 1x{self.outputs} switch has only A")
        out = req.args.integer(1, low=1, high=self.outputs)
        if self.link is not None:
            n = self.link.n_lanes
            if out > n:
                raise CommandError(-222, f"output {out}: the module in the socket has {n} lane(s)")
            self.link.select_lane(out - 1, side=CHANNEL_SIDES[channel])
        if self.routes[channel] != out:
            self.switch_count += 1
        self.routes[channel] = out


__all__ = ["CHANNEL_SIDES", "N7734A"]
