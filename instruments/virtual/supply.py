"""Virtual Keysight E36312A triple-output supply (channel 1 powers the bench module).

Commands (PyMeasure ``keysightE36312A``, E36300 programming guide; ``reference`` §1.8):
``[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude] <V>[, (@ch)]`` / ``VOLT? (@ch)``,
``[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude] <A>[, (@ch)]``,
``OUTPut[:STATe] 1|0[, (@ch)]``, ``MEASure[:SCALar]:VOLTage[:DC]? (@ch)``,
``MEASure[:SCALar]:CURRent[:DC]? (@ch)``, ``INSTrument:NSELect n`` (the channel used when
no ``(@ch)`` list is given).  Queries with a list of channels reply one value per channel.

Load model: channel 1 feeds a constant-power load (the module, ``BenchLink.module_power_w``:
for a module of the link models, its power from :mod:`models.power` at the module temperature,
DC-DC losses included) that runs from 2.8 V up: ``I = P/V``.  If that exceeds the current limit, the supply goes
into constant current, its output voltage collapses below what the load needs (a
constant-power load draws *more* current as the voltage falls), and the module's input
under-voltage lock-out switches it off: the module browns out, draws nothing, and the supply
reads its set voltage at 0 A.  Channels 2 and 3 are open circuit.
"""

from __future__ import annotations

from instruments.virtual.grammar import CommandError, boolean, nr3
from instruments.virtual.server import Request, VirtualInstrument

#: Voltage and current ranges per channel (V, A).
RANGES = {1: (6.18, 5.15), 2: (25.75, 1.03), 3: (25.75, 1.03)}
#: Lowest voltage at which the module runs, V.
MODULE_MIN_V = 2.8


class E36312A(VirtualInstrument):
    """Virtual Keysight E36312A triple-output DC supply.

    Parameters
    ----------
    link : BenchLink
        The shared physics (module power on channel 1).
    """

    idn = "Keysight Technologies,E36312A,MY00000005,2.1.0-virtual"

    def reset(self) -> None:
        """0 V, current limit 1 A, outputs off, channel 1 selected."""
        self.voltage = {ch: 0.0 for ch in RANGES}
        self.current = {ch: 1.0 for ch in RANGES}
        self.output = {ch: False for ch in RANGES}
        self.selected = 1

    def build(self) -> None:
        """Register the supply commands."""
        self.add("[:SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]", set=self._set_v, query=self._get_v)
        self.add("[:SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", set=self._set_i, query=self._get_i)
        self.add(":OUTPut[:STATe]", set=self._set_out, query=self._get_out)
        self.add(":MEASure[:SCALar]:VOLTage[:DC]", query=lambda r: self._measure(r, 0))
        self.add(":MEASure[:SCALar]:CURRent[:DC]", query=lambda r: self._measure(r, 1))
        self.add(":INSTrument:NSELect", set=self._set_nsel, query=lambda r: str(self.selected))

    def _channels(self, req: Request, index: int) -> list[int]:
        if req.args.has(index):
            chans = req.args.channel_list(index)
        else:
            chans = [self.selected]
        for ch in chans:
            if ch not in RANGES:
                raise CommandError(-222, f"channel {ch} does not exist; channels 1..3")
        return chans

    def operating_point(self, ch: int) -> tuple[float, float]:
        """Return the (voltage V, current A) at the terminals of channel ``ch``."""
        if not self.output[ch]:
            return 0.0, 0.0
        v_set, i_lim = self.voltage[ch], self.current[ch]
        if ch != 1 or self.link is None or v_set < MODULE_MIN_V:
            return v_set, 0.0
        p = self.link.module_power_w()
        if p / v_set <= i_lim:
            return v_set, p / v_set
        # Current limit: V = P / I_lim would exceed V_set, which a supply in constant current
        # cannot deliver, so the constant-power load browns out and stops drawing power.
        return v_set, 0.0

    def _set_v(self, req: Request) -> None:
        req.args.expect(1, 2)
        for ch in self._channels(req, 1):
            self.voltage[ch] = req.args.number(0, units="V", low=0.0, high=RANGES[ch][0])

    def _get_v(self, req: Request) -> str:
        return ",".join(nr3(self.voltage[ch]) for ch in self._channels(req, 0))

    def _set_i(self, req: Request) -> None:
        req.args.expect(1, 2)
        for ch in self._channels(req, 1):
            self.current[ch] = req.args.number(0, units="A", low=0.002, high=RANGES[ch][1])

    def _get_i(self, req: Request) -> str:
        return ",".join(nr3(self.current[ch]) for ch in self._channels(req, 0))

    def _set_out(self, req: Request) -> None:
        req.args.expect(1, 2)
        for ch in self._channels(req, 1):
            self.output[ch] = req.args.boolean(0)

    def _get_out(self, req: Request) -> str:
        return ",".join(boolean(self.output[ch]) for ch in self._channels(req, 0))

    def _measure(self, req: Request, which: int) -> str:
        req.args.expect(0, 1)
        return ",".join(nr3(self.operating_point(ch)[which]) for ch in self._channels(req, 0))

    def _set_nsel(self, req: Request) -> None:
        req.args.expect(1)
        self.selected = req.args.integer(0, low=1, high=3)


__all__ = ["E36312A", "MODULE_MIN_V", "RANGES"]
