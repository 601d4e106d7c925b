"""Virtual Yokogawa AQ6370 optical spectrum analyser on the bench's transmitter tap.

Commands (PyMeasure ``aq6370series``, LabExT ``OpticalSpectrumAnalyzerAQ6370C``;
``reference`` §1.6): ``OPEN "<user>"`` + password line (login on the Ethernet port: any user and password are
accepted), ``CFORM1`` (command format, accepted), ``:SENSe:WAVelength:CENTer``,
``:SPAN``, ``:STARt``, ``:STOP`` (m; ``1550NM`` accepted), ``:SENSe:BANDwidth|BWIDth[:RESolution]``
(m), ``:SENSe:SENSe NHLD|NAUT|NORMal|MID|HIGH1|HIGH2|HIGH3``, ``:SENSe:SWEep:POINts``,
``:SENSe:SWEep:POINts:AUTO``, ``:INITiate:SMODe 1|2|3|SINGle|REPeat|AUTO``,
``:INITiate[:IMMediate]``, ``:ABORt``, ``:STATus:OPERation:EVENt?`` (bit 0: a sweep
finished since the last read; cleared by reading and by ``*CLS``),
``:STATus:OPERation:CONDition?`` (bit 0: not sweeping), ``:TRACe[:DATA]:X? TRA`` (m) and
``:TRACe[:DATA]:Y? TRA`` (dBm), ASCII or, after ``:FORMat[:DATA] REAL[,64]``, a float64
little-endian block; ``:TRACe[:DATA]:SNUMber? TRA``; ``:CALCulate:MARKer:MAXimum``,
``:CALCulate:MARKer:X? 0`` / ``:Y? 0``; ``:CALCulate:CATegory SMSR|SWTHresh``,
``:CALCulate[:IMMediate]``, ``:CALCulate:DATA?`` (SMSR: ``peak_wl, peak_dBm, side_wl,
side_dBm, side_wl - peak_wl, SMSR``; SWTH: ``centre_wl, width``) and
``:CALCulate:PARameter[:CATegory]:SWTHresh[:TH]`` (dB).

Traces other than TRA were never written and hold ``-210`` dBm (the instrument's empty
value).  A sweep lasts ``points/1001 ·`` 0.2 (NHLD) ... 20 s (HIGH3) of simulated time.
"""

from __future__ import annotations

import numpy as np

from instruments.virtual.grammar import CommandError, float64_block, nr1, nr3
from instruments.virtual.server import Request, VirtualInstrument

#: Simulated sweep time per 1001 points for each sensitivity, s.
SWEEP_TIME_S = {"NHLD": 0.2, "NAUT": 0.5, "NORM": 0.5, "MID": 1.0, "HIGH1": 5.0, "HIGH2": 10.0, "HIGH3": 20.0}
_TRACES = ("TRA", "TRB", "TRC", "TRD", "TRE", "TRF", "TRG")
#: Empty-sample value of the AQ6370, dBm.
EMPTY_DBM = -210.0


class AQ6370(VirtualInstrument):
    """Virtual Yokogawa AQ6370D.

    Parameters
    ----------
    link : BenchLink
        The shared physics (``spectrum_dbm``).
    seed : int
        Seed of the noise floor.
    """

    idn = "YOKOGAWA,AQ6370D,90000008,02.08-virtual"

    def __init__(self, link=None, *, seed: int = 13) -> None:
        self._rng = np.random.default_rng(seed)
        super().__init__(link)

    def reset(self) -> None:
        """1310 nm centre, 10 nm span, 0.02 nm resolution, MID, 1001 points, single sweep."""
        self.centre_m = 1310e-9
        self.span_m = 10e-9
        self.resolution_m = 0.02e-9
        self.sensitivity = "MID"
        self.points = 1001
        self.points_auto = False
        self.sweep_mode = 1
        self.binary = False
        self.linear_y = False
        self.category = "SMSR"
        self.swth_db = 3.0
        self.sweep_end_s: float | None = None
        self.event = 0
        self.trace_x = np.zeros(0)
        self.trace_y = np.zeros(0)
        self.marker = (0.0, EMPTY_DBM)
        self.result = ""
        self._awaiting_password = False

    def build(self) -> None:
        """Register the OSA commands."""
        self.add("CFORM#", set=lambda r: None)
        self.add("OPEN", set=self._open)
        w = ":SENSe:WAVelength"
        self.add(f"{w}:CENTer", set=self._setter("centre_m", 600e-9, 1700e-9), query=lambda r: nr3(self.centre_m))
        self.add(f"{w}:SPAN", set=self._setter("span_m", 0.0, 1100e-9), query=lambda r: nr3(self.span_m))
        self.add(f"{w}:STARt", set=self._set_start, query=lambda r: nr3(self.centre_m - self.span_m / 2))
        self.add(f"{w}:STOP", set=self._set_stop, query=lambda r: nr3(self.centre_m + self.span_m / 2))
        for node in ("BANDwidth", "BWIDth"):
            self.add(f":SENSe:{node}[:RESolution]", set=self._setter("resolution_m", 0.02e-9, 2e-9), query=lambda r: nr3(self.resolution_m))
        self.add(":SENSe:SENSe", set=self._set_sens, query=lambda r: self.sensitivity)
        self.add(":SENSe:SWEep:POINts", set=self._set_points, query=lambda r: nr1(self.points))
        self.add(":SENSe:SWEep:POINts:AUTO", set=self._set_points_auto, query=lambda r: nr1(int(self.points_auto)))
        self.add(":INITiate:SMODe", set=self._set_smode, query=lambda r: nr1(self.sweep_mode))
        self.add(":INITiate[:IMMediate]", set=self._sweep)
        self.add(":ABORt", set=self._abort)
        self.add(":STATus:OPERation:EVENt", query=self._event)
        self.add(":STATus:OPERation:CONDition", query=lambda r: nr1(0 if self._sweeping() else 1))
        self.add(":TRACe[:DATA]:X", query=lambda r: self._trace(r, x=True))
        self.add(":TRACe[:DATA]:Y", query=lambda r: self._trace(r, x=False))
        self.add(":TRACe[:DATA]:SNUMber", query=lambda r: nr1(self._trace_arrays(r)[0].size))
        self.add(":DISPlay:TRACe:Y#:SPACing", set=self._set_y_spacing,
                 query=lambda r: nr1(1 if self.linear_y else 0))
        self.add(":FORMat[:DATA]", set=self._set_format, query=lambda r: "REAL,64" if self.binary else "ASCII")
        self.add(":CALCulate:MARKer:MAXimum", set=self._marker_max)
        self.add(":CALCulate:MARKer:X", query=lambda r: nr3(self.marker[0]))
        self.add(":CALCulate:MARKer:Y", query=lambda r: nr3(self.marker[1]))
        self.add(":CALCulate:CATegory", set=self._set_category, query=lambda r: self.category)
        self.add(":CALCulate[:IMMediate]", set=self._calculate)
        self.add(":CALCulate:DATA", query=lambda r: self.result)
        self.add(":CALCulate:PARameter[:CATegory]:SWTHresh[:TH]", set=self._set_swth, query=lambda r: nr3(self.swth_db))

    # --- Ethernet login (OPEN "user", then the password line) -------------------------------------
    def handle(self, message: str) -> bytes | None:
        """As :meth:`VirtualInstrument.handle`, plus the login handshake of the Ethernet port:
        ``OPEN "<user>"`` answers ``AUTHENTICATE CRAM-MD5.`` and the next line (the password,
        any text) answers ``ready``."""
        with self.lock:
            if self._awaiting_password:
                self._awaiting_password = False
                return b"ready"
        return super().handle(message)

    def _open(self, req: Request) -> str:
        req.args.expect(1)
        req.args.string(0)
        self._awaiting_password = True
        return "AUTHENTICATE CRAM-MD5."

    # --- settings ---------------------------------------------------------------------------
    def _setter(self, attr: str, low: float, high: float):
        def handler(req: Request) -> None:
            req.args.expect(1)
            setattr(self, attr, req.args.number(0, units="M", low=low, high=high))

        return handler

    def _set_start(self, req: Request) -> None:
        req.args.expect(1)
        start = req.args.number(0, units="M", low=600e-9, high=1700e-9)
        stop = self.centre_m + self.span_m / 2
        if start > stop:
            stop = start
        self.centre_m, self.span_m = (start + stop) / 2, stop - start

    def _set_stop(self, req: Request) -> None:
        req.args.expect(1)
        stop = req.args.number(0, units="M", low=600e-9, high=1700e-9)
        start = self.centre_m - self.span_m / 2
        if stop < start:
            start = stop
        self.centre_m, self.span_m = (start + stop) / 2, stop - start

    def _set_sens(self, req: Request) -> None:
        req.args.expect(1)
        self.sensitivity = req.args.choice(0, ("NHLD", "NAUT", "NORMal", "MID", "HIGH1", "HIGH2", "HIGH3"))

    def _set_points(self, req: Request) -> None:
        req.args.expect(1)
        self.points = req.args.integer(0, low=101, high=50001)
        self.points_auto = False

    def _set_points_auto(self, req: Request) -> None:
        req.args.expect(1)
        self.points_auto = req.args.boolean(0)

    def _set_smode(self, req: Request) -> None:
        req.args.expect(1)
        token = req.args.token(0).upper()
        names = {"SINGLE": 1, "SING": 1, "REPEAT": 2, "REP": 2, "AUTO": 3, "SEGMENT": 4, "SEGM": 4}
        if token in names:
            self.sweep_mode = names[token]
        else:
            self.sweep_mode = req.args.integer(0, low=1, high=4)

    def _set_format(self, req: Request) -> None:
        req.args.expect(1, 2)
        kind = req.args.choice(0, ("ASCii", "REAL"))
        if req.args.has(1) and req.args.integer(1) not in (32, 64):
            raise CommandError(-224, "REAL precision must be 32 or 64")
        self.binary = kind == "REAL"

    def _set_category(self, req: Request) -> None:
        req.args.expect(1)
        self.category = req.args.choice(0, ("SMSR", "SWTHresh"))

    def _set_swth(self, req: Request) -> None:
        req.args.expect(1)
        self.swth_db = req.args.number(0, units="DB", low=0.01, high=50.0)

    # --- sweep ------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.link.sim_time_s if self.link is not None else 0.0

    def _n_points(self) -> int:
        if self.points_auto:
            return int(min(50001, max(101, round(self.span_m / (self.resolution_m / 5)) + 1)))
        return self.points

    def _sweep(self, req: Request) -> None:
        req.args.expect(0)
        n = self._n_points()
        lam = np.linspace(self.centre_m - self.span_m / 2, self.centre_m + self.span_m / 2, n)
        if self.link is not None:
            y = self.link.spectrum_dbm(lam, self.resolution_m, self._rng)
        else:
            y = np.full(n, -75.0)
        self.trace_x, self.trace_y = lam, y
        self.sweep_end_s = self._now() + SWEEP_TIME_S[self.sensitivity] * n / 1001

    def _sweeping(self) -> bool:
        if self.sweep_end_s is None:
            return False
        if self._now() >= self.sweep_end_s:
            self.sweep_end_s = None
            self.event |= 1
            return False
        return True

    def _abort(self, req: Request) -> None:
        self.sweep_end_s = None

    def _event(self, req: Request) -> str:
        self._sweeping()
        value, self.event = self.event, 0
        return nr1(value)

    def _cls(self, req: Request) -> None:
        super()._cls(req)
        self._sweeping()
        self.event = 0

    def _trace_arrays(self, req: Request) -> tuple[np.ndarray, np.ndarray]:
        req.args.expect(1)
        name = req.args.choice(0, _TRACES)
        if self._sweeping():
            raise CommandError(-221, "sweep in progress")
        if name == "TRA":
            return self.trace_x, self.trace_y
        return self.trace_x, np.full(self.trace_x.size, EMPTY_DBM)

    def _set_y_spacing(self, req: Request) -> None:
        """``:DISPlay:TRACe:Y1:SPACing LOGarithmic|LINear`` (or 0|1)."""
        req.args.expect(1)
        token = req.args.token(0).upper()
        if token in ("0", "LOG", "LOGARITHMIC"):
            self.linear_y = False
        elif token in ("1", "LIN", "LINEAR"):
            self.linear_y = True
        else:
            raise CommandError(-224, f"Y1 spacing {token!r}: LOGarithmic or LINear")

    def _trace(self, req: Request, *, x: bool) -> str | bytes:
        xs, ys = self._trace_arrays(req)
        if not x and self.linear_y:  # linear scale: the level in W (empty samples read 0 W)
            ys = np.where(ys <= EMPTY_DBM, 0.0, 1e-3 * 10.0 ** (ys / 10.0))
        values = xs if x else ys
        if self.binary:
            return float64_block(values, big_endian=False)
        fmt = "{:+.8E}" if (x or self.linear_y) else "{:+.3f}"
        return ",".join(fmt.format(v) for v in values)

    # --- analysis ---------------------------------------------------------------------------
    def _marker_max(self, req: Request) -> None:
        if self.trace_y.size == 0:
            raise CommandError(-221, "no trace")
        k = int(np.argmax(self.trace_y))
        self.marker = (float(self.trace_x[k]), float(self.trace_y[k]))

    def _calculate(self, req: Request) -> None:
        if self.trace_y.size == 0 or self._sweeping():
            raise CommandError(-221, "no completed trace")
        x, y = self.trace_x, self.trace_y
        k = int(np.argmax(y))
        if self.category == "SMSR":
            # side mode: the highest local maximum outside the main lobe (> 0.2 nm away)
            local = np.zeros(y.size, dtype=bool)
            local[1:-1] = (y[1:-1] >= y[:-2]) & (y[1:-1] >= y[2:])
            candidates = np.flatnonzero(local & (np.abs(x - x[k]) > 0.2e-9))
            if candidates.size == 0:
                raise CommandError(-221, "no side mode in the span")
            s = int(candidates[np.argmax(y[candidates])])
            self.result = ",".join(
                nr3(v) for v in (x[k], y[k], x[s], y[s], x[s] - x[k], y[k] - y[s])
            )
        else:
            inside = np.flatnonzero(y >= y[k] - self.swth_db)
            lo, hi = x[inside[0]], x[inside[-1]]
            self.result = f"{nr3((lo + hi) / 2)},{nr3(hi - lo)}"


__all__ = ["AQ6370", "EMPTY_DBM", "SWEEP_TIME_S"]
