"""Virtual Keithley 2400 source-measure unit biasing the bench receiver photodiode.

Commands (PyMeasure ``keithley2400``, QCoDeS ``Keithley_2400``; ``reference`` §1.8):
``:SOURce:FUNCtion[:MODE] VOLTage|CURRent``, ``:SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]``,
``:SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]``, ``:SENSe:CURRent[:DC]:PROTection[:LEVel]``
(compliance A), ``:SENSe:VOLTage[:DC]:PROTection[:LEVel]`` (compliance V),
``:SENSe:FUNCtion[:ON]`` (accepted, stored), ``:OUTPut[:STATe]``,
``:FORMat:ELEMents[:SENSe[1]] VOLTage,CURRent,RESistance,TIME,STATus``, ``:READ?`` and
``:MEASure[:<function>]?`` (both reply the elements, ``9.91E+37`` for the resistance as the
2400 does when it is not measured; ``:MEASure`` turns the output on).  ``:READ?`` with the
output off queues error +803 "Output disabled".

Device: a photodiode receiving the attenuated signal,
``I(V) = I_s (exp(V/V_T) - 1) - R P_rx`` with ``I_s = 1 pA``, ``V_T = 25.85 mV``; the
source is clamped at its compliance (status bit 3).
"""

from __future__ import annotations

import math

from instruments.virtual.grammar import CommandError, boolean, nr3
from instruments.virtual.server import Request, VirtualInstrument

#: Photodiode saturation current (A) and thermal voltage at 300 K (V).
DIODE_IS_A = 1e-12
DIODE_VT_V = 0.02585
_ELEMENTS = ("VOLTage", "CURRent", "RESistance", "TIME", "STATus")


class Keithley2400(VirtualInstrument):
    """Virtual Keithley 2400 SMU on the receiver photodiode.

    Parameters
    ----------
    link : BenchLink
        The shared physics (received power gives the photocurrent).
    """

    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 2400,4000001,C32-virtual"

    def reset(self) -> None:
        """Source voltage 0 V, compliance 105 uA / 21 V, output off, all five elements."""
        self.source_current = False
        self.v_level = 0.0
        self.i_level = 0.0
        self.i_compliance = 105e-6
        self.v_compliance = 21.0
        self.output = False
        self.elements = ["VOLT", "CURR", "RES", "TIME", "STAT"]
        self.sense_functions = '"CURR:DC"'

    def build(self) -> None:
        """Register the SMU commands."""
        self.add(":SOURce:FUNCtion[:MODE]", set=self._set_func, query=lambda r: "CURR" if self.source_current else "VOLT")
        self.add(":SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]", set=self._set_v, query=lambda r: nr3(self.v_level))
        self.add(":SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]", set=self._set_i, query=lambda r: nr3(self.i_level))
        self.add(":SENSe:CURRent[:DC]:PROTection[:LEVel]", set=self._set_icomp, query=lambda r: nr3(self.i_compliance))
        self.add(":SENSe:VOLTage[:DC]:PROTection[:LEVel]", set=self._set_vcomp, query=lambda r: nr3(self.v_compliance))
        self.add(":SENSe:FUNCtion[:ON]", set=self._set_sense, query=lambda r: self.sense_functions)
        self.add(":OUTPut[:STATe]", set=self._set_out, query=lambda r: boolean(self.output))
        self.add(":FORMat:ELEMents[:SENSe#]", set=self._set_elements, query=lambda r: ",".join(self.elements))
        self.add(":READ", query=self._read)
        self.add(":MEASure[:CURRent][:DC]", query=self._measure)
        self.add(":MEASure:VOLTage[:DC]", query=self._measure)
        self.add(":MEASure:RESistance", query=self._measure)

    # --- device --------------------------------------------------------------------------
    def _photocurrent_a(self) -> float:
        if self.link is None:
            return 0.0
        return self.link.params.receiver.responsivity_a_per_w * self.link.received().average_power_w

    def operating_point(self) -> tuple[float, float, bool]:
        """Return (voltage V, current A, in compliance) at the terminals."""
        if not self.output:
            return 0.0, 0.0, False
        iph = self._photocurrent_a()
        if not self.source_current:
            v = self.v_level
            x = min(v / DIODE_VT_V, 700.0)
            i = DIODE_IS_A * math.expm1(x) - iph
            if abs(i) <= self.i_compliance:
                return v, i, False
            i = math.copysign(self.i_compliance, i)
            arg = (i + iph) / DIODE_IS_A + 1.0
            v = DIODE_VT_V * math.log(arg) if arg > 0 else -self.v_compliance
            return v, i, True
        i = self.i_level
        arg = (i + iph) / DIODE_IS_A + 1.0
        if arg <= 0:
            return -self.v_compliance, i, True
        v = DIODE_VT_V * math.log(arg)
        if abs(v) > self.v_compliance:
            return math.copysign(self.v_compliance, v), i, True
        return v, i, False

    def _reading(self) -> str:
        v, i, compliance = self.operating_point()
        values = {
            "VOLT": v,
            "CURR": i,
            "RES": math.inf,
            "TIME": self.link.sim_time_s if self.link is not None else 0.0,
            "STAT": float(8 if compliance else 0),
        }
        return ",".join(nr3(values[e]) for e in self.elements)

    # --- handlers ------------------------------------------------------------------------
    def _set_func(self, req: Request) -> None:
        req.args.expect(1)
        self.source_current = req.args.choice(0, ("VOLTage", "CURRent")) == "CURR"

    def _set_v(self, req: Request) -> None:
        req.args.expect(1)
        self.v_level = req.args.number(0, units="V", low=-210.0, high=210.0)

    def _set_i(self, req: Request) -> None:
        req.args.expect(1)
        self.i_level = req.args.number(0, units="A", low=-1.05, high=1.05)

    def _set_icomp(self, req: Request) -> None:
        req.args.expect(1)
        self.i_compliance = req.args.number(0, units="A", low=1e-9, high=1.05)

    def _set_vcomp(self, req: Request) -> None:
        req.args.expect(1)
        self.v_compliance = req.args.number(0, units="V", low=0.2, high=210.0)

    def _set_sense(self, req: Request) -> None:
        req.args.expect(1, 3)
        self.sense_functions = ",".join(req.args.tokens)

    def _set_out(self, req: Request) -> None:
        req.args.expect(1)
        self.output = req.args.boolean(0)

    def _set_elements(self, req: Request) -> None:
        req.args.expect(1, 5)
        self.elements = [req.args.choice(k, _ELEMENTS) for k in range(len(req.args))]

    def _read(self, req: Request) -> str | None:
        req.args.expect(0)
        if not self.output:
            raise CommandError(803, "Output disabled")
        return self._reading()

    def _measure(self, req: Request) -> str:
        req.args.expect(0)
        self.output = True
        return self._reading()


__all__ = ["DIODE_IS_A", "DIODE_VT_V", "Keithley2400"]
