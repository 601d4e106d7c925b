"""Virtual Keysight optical power meters: N7744A/N7745A (ports) and 8163B (slot, channel).

Commands (Keysight N77xx / 8163 programming guides, see
``reference/instruments-scpi-and-stations.md`` §1.3); ``n`` is the port or slot, ``m`` the
8163B channel (``[:CHANnel#]`` may be omitted on both models):

``:READ#[:CHANnel#][:SCALar]:POWer[:DC]?`` / ``:FETCh#...?`` (reading in the present unit),
``:SENSe#[:CHANnel#]:POWer:WAVelength`` (m; ``1310NM`` accepted), ``...:POWer:ATIMe`` (s),
``...:POWer:UNIT 0|1|DBM|W``, ``...:POWer:RANGe:AUTO``, ``...:POWer:RANGe[:UPPer]`` (dBm),
``:INITiate#[:CHANnel#][:IMMediate]``, ``:INITiate#[:CHANnel#]:CONTinuous``,
``:TRIGger#[:CHANnel#]:INPut IGNore|SMEasure|CMEasure|MMEasure``, logging
``:SENSe#[:CHANnel#]:FUNCtion:PARameter:LOGGing <n>,<t>``,
``:SENSe#[:CHANnel#]:FUNCtion:STATe LOGGing,STARt|STOP`` / ``?`` and
``:SENSe#[:CHANnel#]:FUNCtion:RESult?`` (float32 little-endian block, W).

Port 1 (slot 1, channel 1 on the 8163B) is connected after the bench attenuator; the other
ports see no light.  A reading is ``P (1 + e1) + e2`` with ``e1 ~ N(0, 5e-4)`` and
``e2 ~ N(0, 1 pW)``, both scaled by ``sqrt(0.1 s / ATIM)``.  In dBm, a reading <= 0 W is
returned as ``9.91E+37`` (no valid value).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from instruments.virtual.grammar import CommandError, boolean, definite_block, nr1, nr3
from instruments.virtual.server import Request, VirtualInstrument


@dataclasses.dataclass
class _Port:
    wavelength_m: float = 1550e-9
    averaging_time_s: float = 0.1
    unit_watt: bool = False
    auto_range: bool = True
    range_dbm: float = 0.0
    continuous: bool = False
    trigger: str = "IGN"
    last_w: float = 0.0
    log_points: int = 100
    log_time_s: float = 0.1
    log_state: str = "NONE"
    log_started_s: float = 0.0
    log_values: np.ndarray | None = None


class N7744A(VirtualInstrument):
    """Virtual Keysight N7744A 4-port optical power meter (port 1 on the bench link).

    Parameters
    ----------
    link : BenchLink
        The shared physics.
    seed : int
        Seed of the reading noise.
    """

    idn = "Keysight Technologies,N7744A,MY00000001,V1.0.0-virtual"
    #: Valid port (slot) numbers and channel numbers.
    PORTS: tuple[int, ...] = (1, 2, 3, 4)
    CHANNELS: tuple[int, ...] = (1,)

    def __init__(self, link=None, *, seed: int = 7) -> None:
        self._rng = np.random.default_rng(seed)
        super().__init__(link)

    def reset(self) -> None:
        """All ports: 1550 nm, 100 ms, dBm, auto range, not continuous."""
        self._ports = {(n, m): _Port() for n in self.PORTS for m in self.CHANNELS}

    def build(self) -> None:
        """Register the power-meter commands."""
        for verb in ("READ", "FETCh"):
            self.add(f":{verb}#[:CHANnel#][:SCALar]:POWer[:DC]", query=self._read if verb == "READ" else self._fetch)
        base = ":SENSe#[:CHANnel#]:POWer"
        self.add(f"{base}:WAVelength", set=self._set_wav, query=lambda r: nr3(self._port(r).wavelength_m))
        self.add(f"{base}:ATIMe", set=self._set_atim, query=lambda r: nr3(self._port(r).averaging_time_s))
        self.add(f"{base}:UNIT", set=self._set_unit, query=lambda r: nr1(int(self._port(r).unit_watt)))
        self.add(f"{base}:RANGe:AUTO", set=self._set_auto, query=lambda r: boolean(self._port(r).auto_range))
        self.add(f"{base}:RANGe[:UPPer]", set=self._set_range, query=lambda r: nr3(self._port(r).range_dbm))
        self.add(":INITiate#[:CHANnel#][:IMMediate]", set=self._init)
        self.add(":INITiate#[:CHANnel#]:CONTinuous", set=self._set_cont, query=lambda r: boolean(self._port(r).continuous))
        self.add(":TRIGger#[:CHANnel#]:INPut", set=self._set_trig, query=lambda r: self._port(r).trigger)
        fn = ":SENSe#[:CHANnel#]:FUNCtion"
        self.add(f"{fn}:PARameter:LOGGing", set=self._set_log, query=self._log_params)
        self.add(f"{fn}:STATe", set=self._set_func_state, query=self._func_state)
        self.add(f"{fn}:RESult", query=self._log_result)

    # --- helpers ---------------------------------------------------------------------
    def _port(self, req: Request) -> _Port:
        key = (int(req.suffix(0)), int(req.suffix(1)))
        port = self._ports.get(key)
        if port is None:
            raise CommandError(-114, f"slot/port {key[0]}, channel {key[1]} does not exist")
        return port

    def _is_link(self, req: Request) -> bool:
        return int(req.suffix(0)) == 1 and int(req.suffix(1)) == 1

    def _measure_w(self, req: Request, port: _Port) -> float:
        true_w = self.link.meter_power_w() if (self.link is not None and self._is_link(req)) else 0.0
        k = math.sqrt(0.1 / port.averaging_time_s)
        return true_w * (1.0 + self._rng.normal(0.0, 5e-4 * k)) + self._rng.normal(0.0, 1e-12 * k)

    def _format(self, port: _Port, watts: float) -> str:
        if port.unit_watt:
            return nr3(watts)
        if watts <= 0:
            return nr3(math.inf)
        return nr3(10.0 * math.log10(watts / 1e-3))

    # --- handlers -----------------------------------------------------------------------
    def _read(self, req: Request) -> str:
        port = self._port(req)
        port.last_w = self._measure_w(req, port)
        return self._format(port, port.last_w)

    def _fetch(self, req: Request) -> str:
        port = self._port(req)
        if port.continuous:
            port.last_w = self._measure_w(req, port)
        return self._format(port, port.last_w)

    def _init(self, req: Request) -> None:
        req.args.expect(0)
        port = self._port(req)
        port.last_w = self._measure_w(req, port)

    def _set_wav(self, req: Request) -> None:
        req.args.expect(1)
        self._port(req).wavelength_m = req.args.number(0, units="M", low=1250e-9, high=1650e-9)

    def _set_atim(self, req: Request) -> None:
        req.args.expect(1)
        self._port(req).averaging_time_s = req.args.number(0, units="S", low=1e-6, high=10.0)

    def _set_unit(self, req: Request) -> None:
        req.args.expect(1)
        token = req.args.token(0).upper()
        if token in ("DBM", "0"):
            self._port(req).unit_watt = False
        elif token in ("W", "WATT", "1"):
            self._port(req).unit_watt = True
        else:
            raise CommandError(-224, f"unit {req.args.token(0)!r}: 0|1|DBM|W")

    def _set_auto(self, req: Request) -> None:
        req.args.expect(1)
        self._port(req).auto_range = req.args.boolean(0)

    def _set_range(self, req: Request) -> None:
        req.args.expect(1)
        port = self._port(req)
        port.range_dbm = req.args.number(0, units="DBM", low=-60.0, high=10.0)
        port.auto_range = False

    def _set_cont(self, req: Request) -> None:
        req.args.expect(1)
        self._port(req).continuous = req.args.boolean(0)

    def _set_trig(self, req: Request) -> None:
        req.args.expect(1)
        self._port(req).trigger = req.args.choice(0, ("IGNore", "SMEasure", "CMEasure", "MMEasure"))

    def _set_log(self, req: Request) -> None:
        req.args.expect(2)
        port = self._port(req)
        port.log_points = req.args.integer(0, low=1, high=1_000_000)
        port.log_time_s = req.args.number(1, units="S", low=1e-6, high=10.0)

    def _log_params(self, req: Request) -> str:
        port = self._port(req)
        return f"{nr1(port.log_points)},{nr3(port.log_time_s)}"

    def _set_func_state(self, req: Request) -> None:
        req.args.expect(2)
        port = self._port(req)
        req.args.choice(0, ("LOGGing",))
        action = req.args.choice(1, ("STARt", "STOP"))
        if action == "STAR":
            k = math.sqrt(0.1 / port.log_time_s)
            true_w = self.link.meter_power_w() if (self.link is not None and self._is_link(req)) else 0.0
            n = port.log_points
            port.log_values = true_w * (1.0 + self._rng.normal(0.0, 5e-4 * k, n)) + self._rng.normal(0.0, 1e-12 * k, n)
            port.log_state = "PROG"
            port.log_started_s = self._now()
        else:
            port.log_state = "NONE" if port.log_values is None else "COMP"

    def _now(self) -> float:
        return self.link.sim_time_s if self.link is not None else 0.0

    def _log_state(self, port: _Port) -> str:
        if port.log_state == "PROG" and self._now() - port.log_started_s >= port.log_points * port.log_time_s:
            port.log_state = "COMP"
        return port.log_state

    def _func_state(self, req: Request) -> str:
        state = self._log_state(self._port(req))
        if state == "NONE":
            return "NONE,NONE"
        return "LOGGING_STABILITY," + ("PROGRESS" if state == "PROG" else "COMPLETE")

    def _log_result(self, req: Request) -> bytes:
        port = self._port(req)
        if self._log_state(port) != "COMP" or port.log_values is None:
            raise CommandError(-221, "no completed logging result")
        return definite_block(port.log_values.astype("<f4").tobytes())


class N7745A(N7744A):
    """Virtual Keysight N7745A 8-port optical power meter."""

    idn = "Keysight Technologies,N7745A,MY00000002,V1.0.0-virtual"
    PORTS = tuple(range(1, 9))


class Keysight8163B(N7744A):
    """Virtual Keysight 8163B mainframe with power-meter modules in slots 1..4 (2 channels)."""

    idn = "Agilent Technologies,8163B,DE00000003,V5.25(72637)-virtual"
    PORTS = (1, 2, 3, 4)
    CHANNELS = (1, 2)


__all__ = ["Keysight8163B", "N7744A", "N7745A"]
