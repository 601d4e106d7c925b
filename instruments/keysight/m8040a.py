"""Keysight M8040A 64 GBd BERT (SCPI served by the M8070B system software): PAM4 PPG and ED.

Locations are quoted strings: ``'M1.DataOut1'`` (generator output), ``'M1.DataIn1'``
(analyzer input), ``'M1.ClkGen'``, ``'M1.System'``.  Commands:

* PPG: ``:SOUR:FREQ 'M1.ClkGen',<Bd>``; ``:DATA:LIN:VAL '<loc>',NRZ|PAM4``;
  ``:DATA:SEQ:SET "Generator",PRBS,"2^13-1"`` (and ``"Analyzer"``);
  ``:SOUR:VOLT:AMPL '<loc>',<V>``; ``:OUTP:STAT '<loc>',1``; ``:OUTP:GLOB 'M1.System',1``.
* ED: ``:INP:CDR:STAT '<in>',1``; ``:INP:ALIG:EYE:AUTO '<in>'`` + ``*OPC?``; loss flags
  ``:STAT:INST:CLOS?|DLOS?|SLOS?|SAL? '<in>'``.
* BER (ERATio plug-in): ``:PLUG:ERAT:NEW 'B'``, ``:PLUG:ERAT:ACQ:ALOC 'B','<in>'``,
  ``:PLUG:ERAT:ACQ:DUR 'B',FTIM``, ``:PLUG:ERAT:ACQ:TIME 'B',<s>``, ``:PLUG:ERAT:STAR 'B'``,
  ``:PLUG:ERAT:RUN:STAT? 'B'``, ``:PLUG:ERAT:FETC:DATA? 'B'``, ``:PLUG:ERAT:DEL 'B'``.

Commands confirmed by: mikef5410/gpib ``Keysight_M8070A_32G.pm`` and a Keysight
field-engineer M8070B example script (as cited in ``reference/instruments-scpi-and-stations.md``
§1.5 and its appendix); the Keysight M8070A Programming Guide (M8020-91040, Ed. 9.1, 2017),
"SCPI Command Reference", ``:DATA:LINecoding[:VALue] 'identifier', NRZ | PAM4`` (identifiers
``M*.DataOut1 .. M*.DataOut4`` and ``M*.DataIn``; applicable to the M8045A/M8046A modules of
the M8040A) and ``:FETCh:BCO?`` (the PAM4 counters: compared/errored symbols in total and
per symbol 0..3).

**PAM4 line coding is set on both outputs of a generator pair in one compound write**
(``:DATA:LIN:VAL 'M1.DataOut1',PAM4;:DATA:LIN:VAL 'M1.DataOut2',PAM4``): the M8070B
example script notes that PAM4 set on a single output "will not work and will generate a
warning".  :attr:`M8040A.coding` does that for the generator output and its pair
(``DataOut1``/``DataOut2``, ``DataOut3``/``DataOut4``); the analyzer is set with
:attr:`M8040A.analyzer_coding` or with both at once by :meth:`M8040A.set_coding`.

``FETC:DATA?`` answers ``(location,timestamp,compared_ones,compared_zeros,errored_ones,
errored_zeros)`` for NRZ and, for PAM4, continues with ``compared_symbols,errored_symbols``
and ``compared_level_k,errored_level_k`` for k = 0..3 (16 fields in all; the layout the
reference notes record as confirmed, matching the ``:FETCh:BCO?`` PAM4 counters).
``:PLUG:ERAT:RUN:STAT?`` answers 1 while the acquisition runs and 0 once it stopped (recorded
as confirmed there); since a public M8070B driver (mikef5410/gpib ``BERtime``) reads it the
other way round, :meth:`M8040A.measure_ber` still waits the whole gate time before it polls
the state at all.  ``*OPC?`` does not wait for channels after rate or pattern changes
(``:STAT:INST:RUN:WAIT?`` would).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from instruments.scpi import Adapter, ScpiInstrument, control, measurement
from instruments.scpi.properties import match_choice
from instruments.scpi.replies import parse_float, parse_int, strip_reply
from instruments.scpi.validators import boolean, strict_discrete_set, strict_range
from optics.errors import GarbledReply, InvalidParameter, MeasurementInvalid

_PRBS = re.compile(r"^PRBS(7|9|10|11|13|15|20|23|31)Q?$", re.I)
_DATA_OUT = re.compile(r"^(.+\.DataOut)([1-8])$")
#: Line codings of :attr:`M8040A.coding`, as sent.
CODINGS = ("NRZ", "PAM4")


def output_pair(location: str) -> tuple[str, str]:
    """Return the generator output ``location`` and the output it forms a PAM4 pair with.

    Outputs pair as ``DataOut1``/``DataOut2``, ``DataOut3``/``DataOut4`` ... of one module.

    Raises
    ------
    InvalidParameter
        ``location`` is not a ``M<n>.DataOut<k>`` output.

    Examples
    --------
    >>> output_pair("M1.DataOut1")
    ('M1.DataOut1', 'M1.DataOut2')
    >>> output_pair("M2.DataOut4")
    ('M2.DataOut4', 'M2.DataOut3')
    """
    m = _DATA_OUT.match(location) if isinstance(location, str) else None
    if not m:
        raise InvalidParameter(
            f"generator location {location!r} is not a data output 'M<n>.DataOut<k>'; give the PAM4 pair "
            "explicitly with coding_outputs=(output, partner)"
        )
    k = int(m.group(2))
    partner = k + 1 if k % 2 else k - 1
    return location, f"{m.group(1)}{partner}"


@dataclasses.dataclass(frozen=True)
class BerResult:
    """Counts from one ERATio acquisition (``:PLUG:ERAT:FETC:DATA?``).

    Attributes
    ----------
    location, timestamp : str
        Analyzer location and the instrument's time stamp.
    compared_ones, compared_zeros, errored_ones, errored_zeros : int
        Bit counts.
    compared_symbols, errored_symbols : int or None
        PAM4 symbol counts (None for NRZ).
    compared_per_level, errored_per_level : tuple of 4 int, or None
        PAM4 symbol counts per transmitted level 0..3.
    """

    location: str
    timestamp: str
    compared_ones: int
    compared_zeros: int
    errored_ones: int
    errored_zeros: int
    compared_symbols: int | None = None
    errored_symbols: int | None = None
    compared_per_level: tuple[int, int, int, int] | None = None
    errored_per_level: tuple[int, int, int, int] | None = None

    @property
    def compared_bits(self) -> int:
        """Bits compared."""
        return self.compared_ones + self.compared_zeros

    @property
    def errored_bits(self) -> int:
        """Bits in error."""
        return self.errored_ones + self.errored_zeros

    @property
    def ber(self) -> float:
        """Counted bit-error ratio, errored/compared bits (``MeasurementInvalid`` if none compared)."""
        if self.compared_bits <= 0:
            raise MeasurementInvalid(f"{self.location}: no bits compared, BER undefined")
        return self.errored_bits / self.compared_bits

    @property
    def ser(self) -> float:
        """Counted PAM4 symbol-error ratio (``MeasurementInvalid`` for NRZ or zero symbols)."""
        if not self.compared_symbols:
            raise MeasurementInvalid(f"{self.location}: no PAM4 symbols compared, SER undefined")
        return self.errored_symbols / self.compared_symbols  # type: ignore[operator]

    @property
    def ser_per_level(self) -> tuple[float, float, float, float]:
        """SER of symbols sent at level 0..3."""
        if self.compared_per_level is None or self.errored_per_level is None or min(self.compared_per_level) <= 0:
            raise MeasurementInvalid(f"{self.location}: per-level symbol counts missing or zero")
        return tuple(e / c for e, c in zip(self.errored_per_level, self.compared_per_level))  # type: ignore[return-value]

    def to_metrics(self) -> dict[str, float]:
        """Metrics under the toolkit's names: ``ber_counted`` and, for PAM4, ``ser``."""
        out = {"ber_counted": self.ber}
        if self.compared_symbols:
            out["ser"] = self.ser
        return out


def parse_erat_data(reply: str, *, resource: str | None = None) -> BerResult:
    """Parse a ``:PLUG:ERAT:FETC:DATA?`` reply (6 fields NRZ, 16 fields PAM4).

    Examples
    --------
    >>> r = parse_erat_data("('M1.DataIn1','2026-11-23 10:00:00',500,500,1,0)")
    >>> r.ber
    0.001
    """
    text = strip_reply(reply)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    fields = [strip_reply(f) for f in text.split(",")]
    if len(fields) not in (6, 16):
        raise GarbledReply(f"ERATio data {reply!r} has {len(fields)} fields, expected 6 (NRZ) or 16 (PAM4) ({resource})")

    def count(s: str) -> int:
        v = parse_float(s, command=":PLUG:ERAT:FETC:DATA?", resource=resource)
        if v < 0 or v != round(v):
            raise GarbledReply(f"ERATio count {s!r} is not a non-negative integer ({resource})")
        return int(round(v))

    nums = [count(f) for f in fields[2:]]
    kwargs: dict = {}
    if len(fields) == 16:
        kwargs = dict(compared_symbols=nums[4], errored_symbols=nums[5],
                      compared_per_level=tuple(nums[6::2]), errored_per_level=tuple(nums[7::2]))
    return BerResult(fields[0], fields[1], *nums[:4], **kwargs)


class M8040A(ScpiInstrument):
    """Keysight M8040A BERT: PAM4 pattern generator and error detector.

    Parameters
    ----------
    resource : str or Adapter
        Usually ``"TCPIP::host::hislip0::INSTR"`` (M8070B).
    generator, analyzer, clock, system : str
        Locations of the PPG output, ED input, clock generator and system.
    coding_outputs : tuple of 2 str, optional
        The generator outputs whose line coding is set together (default: ``generator`` and
        its pair, :func:`output_pair`).
    ber_margin_s : float
        Extra time allowed beyond the gate time for an acquisition to stop.
    align_timeout_s : float
        I/O timeout of the ``*OPC?`` wait of :meth:`auto_align` (0.001 .. 1e5 s; never below
        the normal I/O timeout).
    safety_limits : mapping, optional
        ``{"amplitude_v": ...}``: the largest PPG amplitude the DUT input tolerates.

    Examples
    --------
    >>> bert = M8040A("TCPIP::10.0.0.10::hislip0::INSTR", safety_limits={"amplitude_v": 0.9})  # doctest: +SKIP
    >>> bert.symbol_rate_baud = 53.125e9                                                   # doctest: +SKIP
    >>> bert.set_pattern("PRBS13Q")                                                        # doctest: +SKIP
    >>> bert.measure_ber(10.0).ser                                                         # doctest: +SKIP
    """

    SAFETY_LIMITS = {"amplitude_v": ("V", "max")}

    symbol_rate_baud = control(
        ":SOUR:FREQ? '{clk}'", ":SOUR:FREQ '{clk}',{value}",
        "Control the symbol rate in Bd (2e9 .. 64e9).", validator=strict_range(2e9, 64e9, "Bd"))
    analyzer_coding = control(
        ":DATA:LIN:VAL? '{ana}'", ":DATA:LIN:VAL '{ana}',{value}",
        'Control the analyzer line coding, "NRZ" or "PAM4".', choices={"NRZ": "NRZ", "PAM4": "PAM4"})
    amplitude_v = control(
        ":SOUR:VOLT:AMPL? '{gen}'", ":SOUR:VOLT:AMPL '{gen}',{value}",
        "Control the PPG output amplitude in V peak-peak (0.05 .. 1.3; safety limit amplitude_v).",
        validator=strict_range(0.05, 1.3, "V"), safety="amplitude_v")
    output_enabled = control(
        ":OUTP:STAT? '{gen}'", ":OUTP:STAT '{gen}',{value}",
        "Control the PPG output state (bool).", kind=bool, validator=boolean)
    global_outputs_enabled = control(
        ":OUTP:GLOB? '{sys}'", ":OUTP:GLOB '{sys}',{value}",
        "Control the global output switch (bool).", kind=bool, validator=boolean)
    cdr_enabled = control(
        ":INP:CDR:STAT? '{ana}'", ":INP:CDR:STAT '{ana}',{value}",
        "Control the analyzer's clock-data recovery (bool).", kind=bool, validator=boolean)
    clock_lost = measurement(":STAT:INST:CLOS? '{ana}'", "Get the analyzer clock-loss flag (bool).", kind=bool)
    data_lost = measurement(":STAT:INST:DLOS? '{ana}'", "Get the analyzer data-loss flag (bool).", kind=bool)
    sync_lost = measurement(":STAT:INST:SLOS? '{ana}'", "Get the analyzer sync-loss flag (bool).", kind=bool)
    alignment_lost = measurement(":STAT:INST:SAL? '{ana}'", "Get the analyzer alignment-loss flag (bool).", kind=bool)

    def __init__(self, resource: str | Adapter, *, generator: str = "M1.DataOut1", analyzer: str = "M1.DataIn1",
                 clock: str = "M1.ClkGen", system: str = "M1.System", ber_margin_s: float = 30.0,
                 align_timeout_s: float = 60.0, coding_outputs: tuple[str, str] | None = None,
                 **kwargs: Any) -> None:
        align = strict_range(0.001, 1e5, "s")(align_timeout_s, "align_timeout_s")
        pair = output_pair(generator) if coding_outputs is None else tuple(coding_outputs)
        if len(pair) != 2 or generator not in pair or not all(isinstance(p, str) and p for p in pair):
            raise InvalidParameter(f"coding_outputs = {coding_outputs!r} must be 2 locations including {generator!r}")
        super().__init__(resource, **kwargs)
        self.coding_outputs: tuple[str, str] = (pair[0], pair[1])
        self.align_timeout_s = align
        self.context = {"gen": generator, "ana": analyzer, "clk": clock, "sys": system}
        self.ber_margin_s = float(ber_margin_s)
        self._erat: set[str] = set()

    @property
    def coding(self) -> str:
        """Control the generator line coding, ``"NRZ"`` or ``"PAM4"``.

        Reads the generator output; sets both outputs of :attr:`coding_outputs` in one
        compound write (PAM4 on a single output does not take effect), then reads the error
        queue.
        """
        command = ":DATA:LIN:VAL? '{gen}'".format(**self.context)
        try:
            return match_choice(self.ask(command), {c: c for c in CODINGS})
        except GarbledReply as exc:
            raise GarbledReply(f"{exc} (to {command!r} from {self.resource_name})") from None

    @coding.setter
    def coding(self, value: str) -> None:
        self.set_coding(value, analyzer=False)

    def set_coding(self, value: str, *, analyzer: bool = True) -> None:
        """Set the line coding of the generator pair and (by default) the analyzer in one write.

        Parameters
        ----------
        value : {"NRZ", "PAM4"}
            Line coding.
        analyzer : bool
            Also set the analyzer input (so that it expects what the generator sends).

        Raises
        ------
        InvalidParameter
            ``value`` is not one of ``CODINGS`` (nothing was sent).
        ScpiError
            The instrument reported an error or warning for the write.
        """
        token = strict_discrete_set(CODINGS)(value, "coding")
        targets = list(self.coding_outputs) + ([self.context["ana"]] if analyzer else [])
        command = ";".join(f":DATA:LIN:VAL '{loc}',{token}" for loc in targets)
        self.write_checked(command)

    @staticmethod
    def pattern_token(name: str) -> str:
        """Map ``"PRBS13Q"``/``"PRBS31"`` to the M8070B polynomial string ``"2^13-1"``."""
        m = _PRBS.match(name.strip()) if isinstance(name, str) else None
        if not m:
            raise InvalidParameter(f"pattern {name!r} not supported; use PRBS7, 9, 10, 11, 13, 15, 20, 23, 31 (suffix Q for PAM4)")
        return f"2^{m.group(1)}-1"

    def set_pattern(self, name: str, *, generator: bool = True, analyzer: bool = True) -> None:
        """Load PRBS ``name`` into the generator and/or analyzer sequences."""
        token = self.pattern_token(name)
        for seq, on in (("Generator", generator), ("Analyzer", analyzer)):
            if on:
                self.write_checked(f':DATA:SEQ:SET "{seq}",PRBS,"{token}"')

    def auto_align(self) -> None:
        """Run the analyzer's automatic eye alignment and wait; raise if alignment is lost.

        Raises
        ------
        MeasurementInvalid
            The analyzer reports alignment loss afterwards.
        """
        command = ":INP:ALIG:EYE:AUTO '{ana}'".format(**self.context)
        self.write(command)
        with self.io_timeout(max(self.adapter.timeout_s, self.align_timeout_s)):
            self.wait_complete()
        self.check_errors(command)
        if self.alignment_lost:
            raise MeasurementInvalid(f"{self.resource_name}: auto alignment of {self.context['ana']} failed")

    def measure_ber(self, duration_s: float, *, name: str = "BER1") -> BerResult:
        """Run a fixed-time ERATio acquisition on the analyzer and return its counts.

        Parameters
        ----------
        duration_s : float
            Gate time in s (1e-3 .. 1e6).
        name : str
            ERATio measurement name (created on first use).

        Raises
        ------
        MeasurementInvalid
            The analyzer is not synchronised, or the acquisition did not stop within
            ``duration_s + ber_margin_s``.
        """
        strict_range(1e-3, 1e6, "s")(duration_s, "duration_s")
        if not re.match(r"^\w{1,32}$", name):
            raise InvalidParameter(f"ERATio name {name!r} must be 1..32 letters, digits or _")
        if self.sync_lost:
            raise MeasurementInvalid(f"{self.resource_name}: analyzer {self.context['ana']} has no sync; check pattern and alignment")
        if name not in self._erat:
            self.write_checked(f":PLUG:ERAT:NEW '{name}'")
            self._erat.add(name)
        self.write_checked(f":PLUG:ERAT:ACQ:ALOC '{name}','{self.context['ana']}'")
        self.write_checked(f":PLUG:ERAT:ACQ:DUR '{name}',FTIM")
        self.write_checked(f":PLUG:ERAT:ACQ:TIME '{name}',{duration_s:.12g}")
        self.write_checked(f":PLUG:ERAT:STAR '{name}'")
        # The run-state polarity is not confirmed (see the module docstring): never trust a
        # "stopped" reply before the gate time has elapsed, so a misread state cannot cut the
        # acquisition short and return the counts of a fraction of the gate.
        self._sleep(duration_s)
        query = f":PLUG:ERAT:RUN:STAT? '{name}'"
        done, state = self.poll(lambda: parse_int(self.ask(query), command=query, resource=self.resource_name),
                                lambda s: s == 0, duration_s + self.ber_margin_s)
        if not done:
            raise MeasurementInvalid(f"{self.resource_name}: ERATio {name!r} still running after {duration_s + self.ber_margin_s:g} s")
        return parse_erat_data(self.ask(f":PLUG:ERAT:FETC:DATA? '{name}'"), resource=self.resource_name)

    def delete_ber(self, name: str = "BER1") -> None:
        """Delete the ERATio measurement ``name``."""
        self.write_checked(f":PLUG:ERAT:DEL '{name}'")
        self._erat.discard(name)

    def shutdown(self) -> None:
        """Switch the global outputs off."""
        self.global_outputs_enabled = False


__all__ = ["CODINGS", "BerResult", "M8040A", "output_pair", "parse_erat_data"]
