"""Virtual Keysight M8040A BERT (the SCPI of the M8070B system software): PPG and ED.

Locations are quoted strings (``'M1.DataOut1'``, ``'M1.DataIn1'``, ``'M1.ClkGen'``,
``'M1.System'``).  Commands (``reference/instruments-scpi-and-stations.md`` §1.5):

* PPG: ``:SOURce:FREQuency '<clk>',<Bd>``; ``:DATA:LINecoding:VALue '<loc>',NRZ|PAM4``
  (PAM4 set on a generator output takes effect only if the other output of its pair --
  ``DataOut1``/``DataOut2``, ``DataOut3``/``DataOut4`` of the module -- is PAM4 at the end of
  the same program message, so a pair in NRZ goes to PAM4 only with both outputs in one
  compound write; otherwise the output keeps its coding and -221 "Settings conflict" is
  queued, like the warning the M8070B gives for PAM4 on a single output);
  ``:DATA:SEQuence:SET "Generator"|"Analyzer",PRBS,"2^13-1"``; ``:SOURce:VOLTage:AMPLitude``;
  ``:OUTPut:STATe '<loc>',1``; ``:OUTPut:GLOBal '<sys>',1``; de-emphasis
  ``:OUTPut:DEEMphasis:PRECursor#`` / ``:POSTcursor#``; jitter
  ``:SOURce:JITTer:HFRequency:PERiodic#:AMPLitude|FREQuency|STATe``; error insertion
  ``:OUTPut:EINSertion:MODE '<loc>',ERATio|OFF`` and ``:OUTPut:EINSertion:RATio '<loc>',RM6``
  (RMn = 10^-n errors added to the link BER).
* ED: ``:INPut:CDR[:STATe]``, ``:INPut:ALIGnment:EYE:AUTO '<in>'``, ``:CLOCk:SOURce``;
  ``:STATus:INSTrument:CLOSs? | DLOSs? | SLOSs? | SALoss? '<in>'``;
  ``:STATus:INSTrument:RUN:WAIT? '<loc>'[,<timeout>]`` (1 when settled).
* ERATio plug-in: ``:PLUGin:ERATio:NEW|DELete|STARt|STOP '<name>'``, ``:CATalog?``,
  ``:ACQuisition:ALOCation '<name>','<in>'``, ``:ACQuisition:DURation '<name>',FTIMe|INDefinite``,
  ``:ACQuisition:TIME '<name>',<s>``, ``:RUN:STATe? '<name>'`` (1 running, 0 stopped) and
  ``:FETCh:DATA? '<name>'`` = ``('<in>','<timestamp>',cmp1,cmp0,err1,err0)`` for NRZ and,
  for PAM4, followed by ``cmp_symbols,err_symbols`` and ``cmp_level_k,err_level_k`` for k = 0..3
  (16 fields; the PAM4 part is the driver helper's assumption, see
  :mod:`instruments.keysight.m8040a`).

Counting model: bits compared ``= bits/symbol · symbol rate · t`` (simulated time), errors
Poisson with mean ``BER · bits`` drawn as the gate runs (seeded generator), BER from
:meth:`BenchLink.received` (closed form).  Symbol errors equal bit errors (Gray code: one
bit per symbol error), shared between levels 1 : 2 : 2 : 1 (outer levels have one
neighbour, inner levels two).  Without sync (PPG or global output off, analyzer pattern or
coding different from the generator's, loss of signal) the ratio is 0.5 and ``SLOS`` is 1.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

import numpy as np

from instruments.virtual.grammar import CommandError, boolean, nr1, nr3, quoted
from instruments.virtual.server import Request, VirtualInstrument

#: Share of symbol errors per transmitted level (outer levels have one neighbour).
LEVEL_ERROR_SHARE = np.array([1.0, 2.0, 2.0, 1.0]) / 6.0
#: Line coding of a location never set (the instrument's default on the bench).
DEFAULT_CODING = "PAM4"
_DATA_OUT = re.compile(r"^(.+\.DataOut)([1-8])$", re.IGNORECASE)


def _partner(location: str) -> str | None:
    """The other output of a generator output's PAM4 pair (None for anything else)."""
    m = _DATA_OUT.match(location)
    if not m:
        return None
    k = int(m.group(2))
    return f"{m.group(1)}{k + 1 if k % 2 else k - 1}"


@dataclasses.dataclass
class _Erat:
    location: str = "M1.DataIn1"
    fixed_time: bool = True
    time_s: float = 1.0
    running: bool = False
    started_s: float = 0.0
    counted_until_s: float = 0.0
    cmp_bits: int = 0
    err_bits: int = 0
    err1: int = 0
    cmp_symbols: int = 0
    err_levels: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(4, dtype=np.int64))
    pam4: bool = True


class M8040A(VirtualInstrument):
    """Virtual Keysight M8040A BERT whose error detector sees the bench receiver.

    Parameters
    ----------
    link : BenchLink
        The shared physics (``received().ber``).
    seed : int
        Seed of the error counting.
    """

    idn = "Keysight Technologies,M8070B,DE00000009,10.0.0.0-virtual"

    def __init__(self, link=None, *, seed: int = 17) -> None:
        self._rng = np.random.default_rng(seed)
        self._coded_pam4: list[str] = []  # outputs set to PAM4 by the message being executed
        super().__init__(link)

    def reset(self) -> None:
        """26.5625 GHz clock, PAM4, PRBS 2^13-1 in generator and analyzer, outputs off, no ERATio."""
        self.symbol_rate_baud = 26.5625e9
        self.coding: dict[str, str] = {}
        self.sequences = {"GENERATOR": ("PRBS", "2^13-1"), "ANALYZER": ("PRBS", "2^13-1")}
        self.amplitude_v: dict[str, float] = {}
        self.output: dict[str, bool] = {}
        self.global_output = False
        self.deemphasis: dict[tuple, float] = {}
        self.jitter: dict[tuple, str] = {}
        self.einsertion_mode: dict[str, str] = {}
        self.einsertion_ratio: dict[str, float] = {}
        self.cdr: dict[str, bool] = {}
        self.clock_source: dict[str, str] = {}
        self.erats: dict[str, _Erat] = {}

    def execute(self, message: str) -> list:
        """Execute a program message, then undo PAM4 set on one output of a pair alone (-221)."""
        with self.lock:
            before = dict(self.coding)
            self._coded_pam4 = []
            replies = super().execute(message)
            for loc in self._coded_pam4:
                partner = _partner(loc)
                if self.coding.get(partner, DEFAULT_CODING) != "PAM4":
                    if loc in before:
                        self.coding[loc] = before[loc]
                    else:
                        self.coding.pop(loc, None)
                    self.push_error(-221, f"Settings conflict;PAM4 on {loc} needs {partner} set to PAM4 "
                                          "in the same message")
            self._coded_pam4 = []
        return replies

    def build(self) -> None:
        """Register the BERT commands."""
        self.add(":SOURce:FREQuency", set=self._set_freq, query=lambda r: nr3(self.symbol_rate_baud))
        self.add(":DATA:LINecoding[:VALue]", set=self._set_coding, query=lambda r: self.coding.get(self._loc(r), DEFAULT_CODING))
        self.add(":DATA:SEQuence:SET", set=self._set_seq, query=self._get_seq)
        self.add(":SOURce:VOLTage:AMPLitude", set=self._set_ampl, query=lambda r: nr3(self.amplitude_v.get(self._loc(r), 0.5)))
        self.add(":OUTPut[:STATe]", set=self._set_out, query=lambda r: boolean(self.output.get(self._loc(r), False)))
        self.add(":OUTPut:GLOBal", set=self._set_glob, query=lambda r: boolean(self.global_output))
        for node in ("PRECursor", "POSTcursor"):
            self.add(f":OUTPut:DEEMphasis:{node}#", set=self._deem_setter(node), query=self._deem_getter(node))
        for node in ("AMPLitude", "FREQuency", "STATe"):
            self.add(f":SOURce:JITTer:HFRequency:PERiodic#:{node}", set=self._jitter_setter(node), query=self._jitter_getter(node))
        self.add(":OUTPut:EINSertion:MODE", set=self._set_eins_mode, query=lambda r: self.einsertion_mode.get(self._loc(r), "OFF"))
        self.add(":OUTPut:EINSertion:RATio", set=self._set_eins_ratio, query=self._get_eins_ratio)
        self.add(":INPut:CDR[:STATe]", set=self._set_cdr, query=lambda r: boolean(self.cdr.get(self._loc(r), True)))
        self.add(":INPut:ALIGnment:EYE:AUTO", set=self._align)
        self.add(":CLOCk:SOURce", set=self._set_clock, query=lambda r: self.clock_source.get(self._loc(r), "CDR"))
        status = ":STATus:INSTrument"
        self.add(f"{status}:CLOSs", query=lambda r: boolean(self._los(r)))
        self.add(f"{status}:DLOSs", query=lambda r: boolean(self._los(r)))
        self.add(f"{status}:SLOSs", query=lambda r: boolean(not self._synced(r)))
        self.add(f"{status}:SALoss", query=lambda r: boolean(not self._synced(r)))
        self.add(f"{status}:RUN:WAIT", query=self._run_wait)
        erat = ":PLUGin:ERATio"
        self.add(f"{erat}:NEW", set=self._erat_new)
        self.add(f"{erat}:DELete", set=self._erat_delete)
        self.add(f"{erat}:CATalog", query=lambda r: ",".join(quoted(n) for n in self.erats) or '""')
        self.add(f"{erat}:ACQuisition:ALOCation", set=self._erat_aloc, query=lambda r: quoted(self._erat(r).location))
        self.add(f"{erat}:ACQuisition:DURation", set=self._erat_dur, query=lambda r: "FTIM" if self._erat(r).fixed_time else "IND")
        self.add(f"{erat}:ACQuisition:TIME", set=self._erat_time, query=lambda r: nr3(self._erat(r).time_s))
        self.add(f"{erat}:STARt", set=self._erat_start)
        self.add(f"{erat}:STOP", set=self._erat_stop)
        self.add(f"{erat}:RUN:STATe", query=self._erat_state)
        self.add(f"{erat}:FETCh:DATA", query=self._erat_fetch)

    # --- locations and link state ------------------------------------------------------------
    def _loc(self, req: Request, index: int = 0) -> str:
        return req.args.string(index)

    def _los(self, req: Request) -> bool:
        self._loc(req)
        return self.link is None or self.link.received().loss_of_signal

    def _synced(self, req: Request | None) -> bool:
        if req is not None:
            self._loc(req)
        gen_on = any(self.output.values()) and self.global_output
        same = self.sequences["GENERATOR"] == self.sequences["ANALYZER"]
        codings = set(self.coding.values()) or {"PAM4"}
        return gen_on and same and len(codings) == 1 and self.link is not None and not self.link.received().loss_of_signal

    def _pam4(self) -> bool:
        return (set(self.coding.values()) or {"PAM4"}) == {"PAM4"}

    def current_ber(self) -> float:
        """BER the error detector sees now: link BER plus inserted errors, 0.5 without sync."""
        if not self._synced(None):
            return 0.5
        inserted = sum(
            self.einsertion_ratio.get(loc, 0.0) for loc, mode in self.einsertion_mode.items() if mode == "ERAT"
        )
        return min(0.5, self.link.received().ber + inserted)

    def _align(self, req: Request) -> None:
        req.args.expect(1)
        self._loc(req)

    def _run_wait(self, req: Request) -> str:
        req.args.expect(1, 2)
        self._loc(req)
        return "1"

    # --- PPG / ED settings ---------------------------------------------------------------------
    def _set_freq(self, req: Request) -> None:
        req.args.expect(2)
        self._loc(req)
        self.symbol_rate_baud = req.args.number(1, units="HZ", low=2e9, high=64e9)

    def _set_coding(self, req: Request) -> None:
        req.args.expect(2)
        loc = self._loc(req)
        value = req.args.choice(1, ("NRZ", "PAM4"))
        self.coding[loc] = value
        if value == "PAM4" and _partner(loc) is not None:
            self._coded_pam4.append(loc)

    def _seq_name(self, req: Request) -> str:
        name = req.args.string(0).upper()
        if name not in self.sequences:
            raise CommandError(-224, f"sequence {name!r}: \"Generator\" or \"Analyzer\"")
        return name

    def _set_seq(self, req: Request) -> None:
        req.args.expect(3)
        name = self._seq_name(req)
        kind = req.args.choice(1, ("PRBS", "MEMory"))
        self.sequences[name] = (kind, req.args.string(2))

    def _get_seq(self, req: Request) -> str:
        req.args.expect(1)
        kind, value = self.sequences[self._seq_name(req)]
        return f"{kind},{quoted(value)}"

    def _set_ampl(self, req: Request) -> None:
        req.args.expect(2)
        self.amplitude_v[self._loc(req)] = req.args.number(1, units="V", low=0.05, high=1.3)

    def _set_out(self, req: Request) -> None:
        req.args.expect(2)
        self.output[self._loc(req)] = req.args.boolean(1)

    def _set_glob(self, req: Request) -> None:
        req.args.expect(2)
        self._loc(req)
        self.global_output = req.args.boolean(1)

    def _deem_setter(self, node: str):
        def handler(req: Request) -> None:
            req.args.expect(2)
            key = (node, req.suffix(0), self._loc(req))
            self.deemphasis[key] = req.args.number(1, units="DB", low=-20.0, high=20.0)

        return handler

    def _deem_getter(self, node: str):
        def handler(req: Request) -> str:
            return nr3(self.deemphasis.get((node, req.suffix(0), self._loc(req)), 0.0))

        return handler

    def _jitter_setter(self, node: str):
        def handler(req: Request) -> None:
            req.args.expect(2)
            if node == "STATe":
                value = boolean(req.args.boolean(1))
            else:
                value = nr3(req.args.number(1, units=("S", "HZ", "UI")))
            self.jitter[(node, req.suffix(0), self._loc(req))] = value

        return handler

    def _jitter_getter(self, node: str):
        def handler(req: Request) -> str:
            return self.jitter.get((node, req.suffix(0), self._loc(req)), "0")

        return handler

    def _set_eins_mode(self, req: Request) -> None:
        req.args.expect(2)
        self.einsertion_mode[self._loc(req)] = req.args.choice(1, ("ERATio", "OFF", "ONCE"))

    def _set_eins_ratio(self, req: Request) -> None:
        req.args.expect(2)
        token = req.args.token(1).upper()
        if not (token.startswith("RM") and token[2:].isdigit() and 1 <= int(token[2:]) <= 12):
            raise CommandError(-224, f"ratio {req.args.token(1)!r}: RM1 .. RM12")
        self.einsertion_ratio[self._loc(req)] = 10.0 ** -int(token[2:])

    def _get_eins_ratio(self, req: Request) -> str:
        ratio = self.einsertion_ratio.get(self._loc(req))
        return "RM6" if ratio is None else f"RM{round(-np.log10(ratio))}"

    def _set_cdr(self, req: Request) -> None:
        req.args.expect(2)
        self.cdr[self._loc(req)] = req.args.boolean(1)

    def _set_clock(self, req: Request) -> None:
        req.args.expect(2)
        self.clock_source[self._loc(req)] = req.args.choice(1, ("CDR", "CLKIn", "INTernal"))

    # --- ERATio ---------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.link.sim_time_s if self.link is not None else 0.0

    def _erat(self, req: Request) -> _Erat:
        name = req.args.string(0)
        erat = self.erats.get(name)
        if erat is None:
            raise CommandError(-224, f"no ERATio measurement {name!r}")
        return erat

    def _erat_new(self, req: Request) -> None:
        req.args.expect(1)
        name = req.args.string(0)
        if name in self.erats:
            raise CommandError(-221, f"ERATio measurement {name!r} exists")
        self.erats[name] = _Erat()

    def _erat_delete(self, req: Request) -> None:
        req.args.expect(1)
        self._erat(req)
        del self.erats[req.args.string(0)]

    def _erat_aloc(self, req: Request) -> None:
        req.args.expect(2)
        self._erat(req).location = req.args.string(1)

    def _erat_dur(self, req: Request) -> None:
        req.args.expect(2)
        self._erat(req).fixed_time = req.args.choice(1, ("FTIMe", "INDefinite")) == "FTIM"

    def _erat_time(self, req: Request) -> None:
        req.args.expect(2)
        self._erat(req).time_s = req.args.number(1, units="S", low=1e-3, high=1e6)

    def _erat_start(self, req: Request) -> None:
        req.args.expect(1)
        erat = self._erat(req)
        fresh = _Erat(location=erat.location, fixed_time=erat.fixed_time, time_s=erat.time_s)
        fresh.running = True
        fresh.started_s = fresh.counted_until_s = self._now()
        fresh.pam4 = self._pam4()
        self.erats[req.args.string(0)] = fresh

    def _erat_stop(self, req: Request) -> None:
        req.args.expect(1)
        erat = self._erat(req)
        self._count(erat)
        erat.running = False

    def _count(self, erat: _Erat) -> None:
        """Add the bits and errors of the simulated time since the last count."""
        if not erat.running:
            return
        now = self._now()
        end = erat.started_s + erat.time_s if erat.fixed_time else now
        until = min(now, end)
        dt = until - erat.counted_until_s
        if dt > 0:
            bits_per_symbol = 2 if erat.pam4 else 1
            symbols = int(round(self.symbol_rate_baud * dt))
            bits = bits_per_symbol * symbols
            errors = int(self._rng.poisson(min(bits * self.current_ber(), 1e18)))
            errors = min(errors, bits)
            ones = int(self._rng.binomial(errors, 0.5)) if errors else 0
            erat.cmp_bits += bits
            erat.err_bits += errors
            erat.err1 += ones
            erat.cmp_symbols += symbols
            if errors:
                erat.err_levels += self._rng.multinomial(errors, LEVEL_ERROR_SHARE)
            erat.counted_until_s = until
        if erat.fixed_time and now >= end:
            erat.running = False

    def _erat_state(self, req: Request) -> str:
        req.args.expect(1)
        erat = self._erat(req)
        self._count(erat)
        return nr1(int(erat.running))

    def _erat_fetch(self, req: Request) -> str:
        req.args.expect(1)
        erat = self._erat(req)
        self._count(erat)
        stamp = (datetime.datetime(2026, 1, 1) + datetime.timedelta(seconds=erat.counted_until_s)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        cmp1 = erat.cmp_bits // 2
        fields = [
            f"'{erat.location}'",
            f"'{stamp}'",
            str(cmp1),
            str(erat.cmp_bits - cmp1),
            str(erat.err1),
            str(erat.err_bits - erat.err1),
        ]
        if erat.pam4:
            per_level = erat.cmp_symbols // 4
            cmp_levels = [per_level] * 3 + [erat.cmp_symbols - 3 * per_level]
            fields += [str(erat.cmp_symbols), str(erat.err_bits)]
            for k in range(4):
                fields += [str(cmp_levels[k]), str(int(erat.err_levels[k]))]
        return "(" + ",".join(fields) + ")"


__all__ = ["DEFAULT_CODING", "LEVEL_ERROR_SHARE", "M8040A"]
