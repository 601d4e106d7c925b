"""Virtual inTEST/Temptronic ThermoStream (ATS-5xx/ECO-560) thermal forcer.

Its commands are four-letter mnemonics, not SCPI trees (PyMeasure ``temptronic_base``,
``reference/instruments-scpi-and-stations.md`` §1.7): ``%RM``/``%GL`` (remote/local),
``FLOW 1|0``, ``HEAD 1|0``, ``SETN n`` (0 hot, 1 ambient, 2 cold, up to 11) then
``SETP <°C>``/``SETP?``, ``WNDW <K>``, ``SOAK <s>``, ``RAMP <°C/min>``, ``DUTM 1|0`` (control
on the DUT sensor), ``DSNS n``, ``LLIM``/``ULIM`` (air limits), ``TEMP?`` (controlled
temperature), ``TMPA?`` (air), ``TMPD?`` (DUT), ``TECR?`` (bit 0 = at temperature: within
the window for the soak time; bit 1 = not at temperature), ``EROR?``, ``CLER``.

The temperatures come from :class:`~instruments.virtual.physics.BenchLink` (two first-order
lags in accelerated time).  The air only follows the set point while ``FLOW`` is on.
"""

from __future__ import annotations

from instruments.virtual.grammar import CommandError, boolean, nr1
from instruments.virtual.server import Request, VirtualInstrument

#: Default set points of SETN 0 (hot), 1 (ambient), 2 (cold), °C.
DEFAULT_SETPOINTS_C = (125.0, 25.0, -40.0)


def _temp(value: float) -> str:
    return f"{value:.1f}"


class ThermoStream(VirtualInstrument):
    """Virtual ThermoStream thermal forcer driving the bench module temperature.

    Parameters
    ----------
    link : BenchLink
        The shared physics (set point, flow, window and soak tracking).
    """

    idn = "inTEST Thermal Solutions,ATS-545,TS000001,V1.0-virtual"

    def reset(self) -> None:
        """Flow off, set point 1 (ambient) selected, window 1 K, soak 30 s, DUT control."""
        self.setpoints = list(DEFAULT_SETPOINTS_C) + [25.0] * 9
        self.selected = 1
        self.flow = False
        self.head_down = False
        self.window_k = 1.0
        self.soak_s = 30.0
        self.ramp_c_per_min = 9999.0
        self.dut_mode = True
        self.dut_sensor = 1
        self.lower_limit_c = -99.0
        self.upper_limit_c = 225.0
        self.remote = False
        self._push()

    def _push(self) -> None:
        if self.link is not None:
            self.link.set_thermal(
                setpoint_c=self.setpoints[self.selected],
                flow_on=self.flow,
                control_on_dut=self.dut_mode,
                window_k=self.window_k,
            )

    def build(self) -> None:
        """Register the ThermoStream mnemonics."""
        self.add("%RM", set=lambda r: setattr(self, "remote", True))
        self.add("%GL", set=lambda r: setattr(self, "remote", False))
        self.add("FLOW", set=self._set_flow, query=lambda r: boolean(self.flow))
        self.add("HEAD", set=self._set_head, query=lambda r: boolean(self.head_down))
        self.add("SETN", set=self._set_n, query=lambda r: nr1(self.selected))
        self.add("SETP", set=self._set_p, query=lambda r: _temp(self.setpoints[self.selected]))
        self.add("WNDW", set=self._set_window, query=lambda r: _temp(self.window_k))
        self.add("SOAK", set=self._set_soak, query=lambda r: nr1(round(self.soak_s)))
        self.add("RAMP", set=self._set_ramp, query=lambda r: _temp(self.ramp_c_per_min))
        self.add("DUTM", set=self._set_dutm, query=lambda r: boolean(self.dut_mode))
        self.add("DSNS", set=self._set_dsns, query=lambda r: nr1(self.dut_sensor))
        self.add("LLIM", set=self._set_llim, query=lambda r: _temp(self.lower_limit_c))
        self.add("ULIM", set=self._set_ulim, query=lambda r: _temp(self.upper_limit_c))
        self.add("TEMP", query=lambda r: _temp(self._controlled()))
        self.add("TMPA", query=lambda r: _temp(self._air()))
        self.add("TMPD", query=lambda r: _temp(self._dut()))
        self.add("TECR", query=self._tecr)
        self.add("EROR", query=lambda r: "0")
        self.add("CLER", set=lambda r: None)
        self.add("RSTO", set=lambda r: None)  # reset to the operator screen (keeps set points)

    # --- readings -----------------------------------------------------------------------
    def _air(self) -> float:
        return self.link.air_temperature_c if self.link is not None else 25.0

    def _dut(self) -> float:
        return self.link.module_temperature_c if self.link is not None else 25.0

    def _controlled(self) -> float:
        return self._dut() if self.dut_mode else self._air()

    def _tecr(self, req: Request) -> str:
        soaked = self.link is not None and self.flow and self.link.soaked_for_s() >= self.soak_s
        return nr1(1 if soaked else 2)

    # --- settings -----------------------------------------------------------------------
    def _set_flow(self, req: Request) -> None:
        req.args.expect(1)
        self.flow = req.args.boolean(0)
        self._push()

    def _set_head(self, req: Request) -> None:
        req.args.expect(1)
        self.head_down = req.args.boolean(0)

    def _set_n(self, req: Request) -> None:
        req.args.expect(1)
        self.selected = req.args.integer(0, low=0, high=11)
        self._push()

    def _set_p(self, req: Request) -> None:
        req.args.expect(1)
        value = req.args.number(0, low=-99.9, high=225.0)
        if not self.lower_limit_c <= value <= self.upper_limit_c:
            raise CommandError(-222, f"set point {value:g} °C outside the limits [{self.lower_limit_c:g}, {self.upper_limit_c:g}]")
        self.setpoints[self.selected] = value
        self._push()

    def _set_window(self, req: Request) -> None:
        req.args.expect(1)
        self.window_k = req.args.number(0, low=0.1, high=9.9)
        self._push()

    def _set_soak(self, req: Request) -> None:
        req.args.expect(1)
        self.soak_s = req.args.number(0, low=0.0, high=9999.0)

    def _set_ramp(self, req: Request) -> None:
        req.args.expect(1)
        self.ramp_c_per_min = req.args.number(0, low=0.0, high=9999.9)

    def _set_dutm(self, req: Request) -> None:
        req.args.expect(1)
        self.dut_mode = req.args.boolean(0)
        self._push()

    def _set_dsns(self, req: Request) -> None:
        req.args.expect(1)
        self.dut_sensor = req.args.integer(0, low=0, high=4)

    def _set_llim(self, req: Request) -> None:
        req.args.expect(1)
        self.lower_limit_c = req.args.number(0, low=-99.9, high=25.0)

    def _set_ulim(self, req: Request) -> None:
        req.args.expect(1)
        self.upper_limit_c = req.args.number(0, low=25.0, high=225.0)


__all__ = ["DEFAULT_SETPOINTS_C", "ThermoStream"]
