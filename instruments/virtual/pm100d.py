"""Virtual Thorlabs PM100D power meter console on the bench's transmitter monitor tap.

Commands (PyMeasure ``thorlabspm100usb``, QCoDeS-contrib ``PM100D``; ``reference`` §1.3):
``MEASure[:SCALar][:POWer]?``, ``CONFigure[:SCALar][:POWer]``, ``INITiate[:IMMediate]``,
``FETCh?``, ``READ?``, ``[SENSe]:CORRection:WAVelength`` (**nm** without suffix, unlike
Keysight), ``[SENSe]:AVERage[:COUNt]`` (samples, ~3 ms each), ``[SENSe]:POWer[:DC]:RANGe:AUTO``,
``[SENSe]:POWer[:DC]:UNIT W|DBM``, ``[SENSe]:CORRection:COLLect:ZERO[:INITiate]``,
``[SENSe]:CORRection:COLLect:ZERO:STATe?`` and ``SYSTem:SENSor:IDN?`` (name, serial,
calibration message, type, subtype, flags; flag 32 = wavelength settable).

Replies are plain ``%.6E`` numbers (no leading ``+``), as the console prints them.  The
reading is ``P (1 + e)`` with ``e ~ N(0, 1e-3/sqrt(count))`` plus a 10 pW dark offset
removed by zeroing.
"""

from __future__ import annotations

import math

import numpy as np

from instruments.virtual.grammar import boolean, nr1
from instruments.virtual.server import Request, VirtualInstrument

#: Dark offset of the head before zeroing, W.
DARK_OFFSET_W = 1e-11


def _num(value: float) -> str:
    return f"{value:.6E}" if math.isfinite(value) else "9.91E+37"


class PM100D(VirtualInstrument):
    """Virtual Thorlabs PM100D with an S122C germanium photodiode head.

    Parameters
    ----------
    link : BenchLink
        The shared physics (``monitor_power_w``).
    seed : int
        Seed of the reading noise.
    """

    idn = "Thorlabs,PM100D,P0000006,2.8.0-virtual"

    def __init__(self, link=None, *, seed: int = 11) -> None:
        self._rng = np.random.default_rng(seed)
        super().__init__(link)

    def reset(self) -> None:
        """1550 nm, 1 sample, auto range, W, not zeroed."""
        self.wavelength_m = 1550e-9
        self.count = 1
        self.auto_range = True
        self.unit_dbm = False
        self.dark_w = DARK_OFFSET_W
        self.last_w = 0.0

    def build(self) -> None:
        """Register the PM100D commands."""
        self.add(":MEASure[:SCALar][:POWer]", query=self._measure)
        self.add(":CONFigure[:SCALar][:POWer]", set=lambda r: None)
        self.add(":INITiate[:IMMediate]", set=self._init)
        self.add(":FETCh", query=lambda r: self._format(self.last_w))
        self.add(":READ", query=self._measure)
        self.add("[:SENSe]:CORRection:WAVelength", set=self._set_wav, query=lambda r: _num(self.wavelength_m * 1e9))
        self.add("[:SENSe]:AVERage[:COUNt]", set=self._set_count, query=lambda r: nr1(self.count))
        self.add("[:SENSe]:POWer[:DC]:RANGe:AUTO", set=self._set_auto, query=lambda r: boolean(self.auto_range))
        self.add("[:SENSe]:POWer[:DC]:UNIT", set=self._set_unit, query=lambda r: "DBM" if self.unit_dbm else "W")
        self.add("[:SENSe]:CORRection:COLLect:ZERO[:INITiate]", set=self._zero)
        self.add("[:SENSe]:CORRection:COLLect:ZERO:STATe", query=lambda r: "0")
        self.add(":SYSTem:SENSor:IDN", query=lambda r: '"S122C","00000007","15-Jan-2026",1,18,289')

    def _sample(self) -> float:
        true_w = self.link.monitor_power_w() if self.link is not None else 0.0
        return true_w * (1.0 + self._rng.normal(0.0, 1e-3 / math.sqrt(self.count))) + self.dark_w

    def _format(self, watts: float) -> str:
        if not self.unit_dbm:
            return _num(watts)
        return _num(10.0 * math.log10(watts / 1e-3)) if watts > 0 else "9.91E+37"

    def _measure(self, req: Request) -> str:
        self.last_w = self._sample()
        return self._format(self.last_w)

    def _init(self, req: Request) -> None:
        self.last_w = self._sample()

    def _set_wav(self, req: Request) -> None:
        req.args.expect(1)
        self.wavelength_m = req.args.number(0, units="M", low=400e-9, high=1800e-9, scale_without_unit=1e-9)

    def _set_count(self, req: Request) -> None:
        req.args.expect(1)
        self.count = req.args.integer(0, low=1, high=10000)

    def _set_auto(self, req: Request) -> None:
        req.args.expect(1)
        self.auto_range = req.args.boolean(0)

    def _set_unit(self, req: Request) -> None:
        req.args.expect(1)
        self.unit_dbm = req.args.choice(0, ("W", "DBM")) == "DBM"

    def _zero(self, req: Request) -> None:
        self.dark_w = 0.0


__all__ = ["DARK_OFFSET_W", "PM100D"]
