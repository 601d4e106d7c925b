"""Virtual Keysight FlexDCA (N1000A with an optical module) watching the bench transmitter.

Commands (Keysight ``kf.py`` sample, lightlab ``Keysight_86100D_Oscope.py``;
``reference/instruments-scpi-and-stations.md`` §1.1):

* set-up: ``:SYSTem:MODE EYE|OSCilloscope|JITTer|TDR``, ``:SYSTem:AUToscale``,
  ``:SYSTem:DEFault``, ``:SYSTem:BORDer LENDian|BENDian`` (block byte order, default BENDian),
  ``:CHANnel#@:DISPlay``, ``:CHANnel#@:SIRC``, ``:CHANnel#@:SIRC:FRATe`` (Bd),
  ``:CHANnel#@:SIRC:FBANdwidth`` (Hz), ``:TIMebase:SRATe`` (Bd), ``:TIMebase:UNITs``,
  ``:TIMebase:UIRange``, ``:PTIMebase#:STATe``;
* pattern lock: ``:TRIGger:MODE``, ``:TRIGger:PLENgth`` (symbols),
  ``:TRIGger:SRATe:AUTodetect ON|OFF`` and ``:TRIGger:PLENgth:AUTodetect ON|OFF`` (both ON after
  ``*RST`` / ``:SYSTem:DEFault``, as on the DCA: ``:TRIGger:PLOCk ON`` then takes the symbol
  rate and pattern length from the signal, overwriting ``:TIMebase:SRATe`` / ``:TRIGger:PLENgth``;
  with them OFF it uses the values entered), ``:TRIGger:DCDRatio``, ``:TRIGger:PLOCk ON|OFF``
  (locks only if the symbol rate is within 100 ppm of the signal's and the pattern length
  equals the transmitted pattern's);
* acquisition: ``:ACQuire:RUN|STOP|SINGle|CDISplay``, ``:ACQuire:EPATtern``,
  ``:LTESt:ACQuire:CTYPe:PATTerns|WAVeforms n``, ``:LTESt:ACQuire:STATe``;
* TDECQ equaliser: ``:FUNCtion#:FOPerator``, ``:FUNCtion#:OPERand#``,
  ``:SPRocess#:TEQualizer:TSPacing:TPUI``, ``:SPRocess#:TEQualizer:TAPS:COUNt``,
  ``:SPRocess#:TEQualizer[:TAPS]:NPRecursors``;
* measurements ``:MEASure:EYE:<m>`` (add), ``<m>?`` (value, ``9.91E+37`` when invalid),
  ``<m>:SOURce#``, ``<m>:STATus?`` (``CORR`` / ``INV``), ``<m>:STATus:REASon?`` for
  ``<m>`` = ``TDEQ`` (dB), ``CEQ`` (dB), ``OOMA`` (``:UNITs WATT|DBM``), ``OER``
  (``:UNITs DECibel|RATio|PERCent``), ``PAM:LINearity`` (``:DEFinition RLMA120|RLMC94|EYE``;
  always the Annex 120D R_LM), ``APOWer`` (``:UNITs WATT|DBM``; ``APOWer[:MEAN]?``) and
  ``TTIMe`` (IEEE 802.3cd PAM transition time, s, the slowest edge:
  :func:`optics.transition.transition_time` of the recorded waveform; ``INV`` with the reason
  when the pattern has no long 0 <-> 3 edges, e.g. PRBS13Q);
* export: ``:WAVeform:SOURce``, ``:WAVeform:PATTern:COMPlete?``, ``:WAVeform:PATTern:BITS?``
  (pattern length, symbols), ``:WAVeform:XYFORmat:POINts?``,
  ``:WAVeform:XYFORmat:FLOat:XDATa?`` (s) / ``YDATa?`` (W), float32 blocks.

Validity (``STATus?``): a measurement is ``CORR`` once the channel is pattern-locked and
data exist: after a limit-test acquisition (``:LTESt:ACQuire:STATe ON`` + ``:ACQuire:RUN``,
complete when ``*OPC?`` answers), or after ``SETTLE_S`` simulated seconds of free running.
Clearing the display, (re)locking or changing the SIRC makes it ``INV`` again.  A stopped
acquisition keeps the temperature it was taken at.

Agreement with the toolkit: every value is computed by :mod:`optics` on exactly the samples
the export sends (float32).  The reference receiver is the channel's SIRC, as on the DCA:
``TDEQ`` is ``optics.tdecq.tdecq(wf, reference_filter=False, n_taps=..., n_precursors=...,
sigma_scope=σ_S if ScopeParams.noise_compensation else 0)`` on the recorded waveform
(SIRC-filtered when ``:CHANnel1A:SIRC ON``, unfiltered when off), so a user who exports the
pattern waveform (with the pattern, ``Waveform.pattern``) and calls
``optics.tdecq.tdecq(wf, reference_filter=False)`` gets the same number; OOMA/OER/RLM/APOW
come from ``optics.levels.measure_levels(wf)``.  An eye too closed for TDECQ reads
``9.91E+37``.  Only channel ``1A`` carries the signal.  ``TDEQ`` and ``CEQ`` are measured
on the scope's TDECQ path: through the bench's compliance fibre spool
(``[virtual.scope] compliance_dispersion_ps_per_nm``, :mod:`models.compliance`) when it has
one, the record the export sends otherwise; OOMA/OER/RLM/APOW always on the latter (TP2).

Which parts of a PHY's TDECQ method (:class:`optics.phy.method.TdecqMethod`) the scope can be
told, and honours: the reference receiver's rate and -3 dB bandwidth (``:SIRC:FRATe``,
``:SIRC:FBANdwidth``; the SIRC is a 4th-order Bessel-Thomson), the FFE length
(``:TAPS:COUNt``, 1..41) and precursors (``:NPRecursors``).  No SCPI command is known for the
target SER, the histogram windows or the filter order
(``reference/instruments-scpi-and-stations.md`` §1.1 lists none), so ``TDEQ`` always uses
SER 4.8e-4 and 0.04 UI windows 0.10 UI apart (:data:`optics.phy.method.SCOPE_FIXED_OPTIONS`);
the station notes a method that asks otherwise (:func:`optics.phy.method.step_tdecq`).
``:TSPacing:TPUI`` other than 1 (fractionally spaced taps) is accepted but not simulated:
``TDEQ`` and ``CEQ`` are then ``INV`` with that reason.

Where the channel is connected and the noise it adds are the bench's
:class:`~instruments.virtual.physics.ScopeParams` (at the transmitter, or behind the
attenuator through a splitter; σ_S).  An acquisition keeps the temperature, attenuation and
shutter state it was taken at.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from instruments.virtual.grammar import CommandError, boolean, definite_block, nr1, nr3, quoted
from instruments.virtual.server import Request, VirtualInstrument

#: Simulated seconds of free-running acquisition before measurements become valid.
SETTLE_S = 1.0
#: The channel wired to the bench transmitter.
SIGNAL_CHANNEL = "1A"

_CHAN = re.compile(r"^CHAN(?:NEL)?(\d)([A-D])$")
_FUNC = re.compile(r"^FUNC(?:TION)?(\d+)$")


@dataclasses.dataclass
class _Channel:
    display: bool = True
    sirc: bool = False
    sirc_rate_baud: float = 53.125e9
    sirc_bandwidth_hz: float = 26.5625e9


def _source_token(text: str) -> str:
    key = text.strip().upper()
    m = _CHAN.match(key)
    if m:
        return f"CHAN{int(m.group(1))}{m.group(2)}"
    m = _FUNC.match(key)
    if m:
        return f"FUNC{int(m.group(1))}"
    raise CommandError(-224, f"source {text!r}: CHANnel<slot><A-D> or FUNCtion<n>")


# measurement node -> (unit choices or None, default unit)
_MEASUREMENTS = {
    "TDEQ": (None, None),
    "CEQ": (None, None),
    "OOMA": (("WATT", "DBM"), "WATT"),
    "OER": (("DECibel", "RATio", "PERCent"), "DEC"),
    "PAM:LINearity": (None, None),
    "APOWer": (("WATT", "DBM"), "WATT"),
    "TTIMe": (None, None),
}


class FlexDCA(VirtualInstrument):
    """Virtual FlexDCA whose channel 1A sees the bench transmitter waveform.

    Parameters
    ----------
    link : BenchLink
        The shared physics (``scope_waveform``).
    """

    idn = "Keysight Technologies,N1000A,MY00000010,A.07.00.000-virtual"

    def reset(self) -> None:
        """Eye mode, running, no pattern lock, SIRC off, big-endian blocks, 5-tap TEQ."""
        self.mode = "EYE"
        self.big_endian = True
        self.channels = {f"{s}{c}": _Channel() for s in range(1, 5) for c in "ABCD"}
        self.symbol_rate_baud = 10.3125e9
        self.trigger_mode = "CLOC"
        self.pattern_length = 1
        self.rate_autodetect = True
        self.length_autodetect = True
        self.dcd_ratio = "UNIT"
        self.lock_requested = False
        self.locked = False
        self.timebase_units = "SEC"
        self.ui_range = 2.0
        self.ptimebase = False
        self.epattern = False
        self.ltest_on = False
        self.ltest_kind = "PATT"
        self.ltest_count = 1
        self.running = True
        self.run_started_s = self._now()
        self.acquired_temperature_c: float | None = None
        self.acquired_path: tuple[float, bool] | None = None  # (attenuation dB, shutter open)
        self.functions: dict[int, dict] = {}
        self.taps = 5
        self.precursors = 2
        self.tap_spacing_ui = 1.0
        self.sources: dict[str, str] = {m: "CHAN1A" for m in _MEASUREMENTS}
        self.units = {m: spec[1] for m, spec in _MEASUREMENTS.items()}
        self.lin_definition = "RLMA120"
        self.waveform_source = "CHAN1A"
        self._metrics_cache: dict[tuple, tuple] = {}

    # --- command table ---------------------------------------------------------------------
    def build(self) -> None:
        """Register the FlexDCA commands."""
        self.add(":SYSTem:MODE", set=self._set_mode, query=lambda r: self.mode)
        self.add(":SYSTem:AUToscale", set=lambda r: None)
        self.add(":SYSTem:DEFault", set=lambda r: self.reset())
        self.add(":SYSTem:BORDer", set=self._set_border, query=lambda r: "BEND" if self.big_endian else "LEND")
        ch = ":CHANnel#@"
        self.add(f"{ch}:DISPlay", set=self._chan_setter("display", bool), query=self._chan_getter("display"))
        self.add(f"{ch}:SIRC", set=self._chan_setter("sirc", bool), query=self._chan_getter("sirc"))
        self.add(f"{ch}:SIRC:FRATe", set=self._chan_setter("sirc_rate_baud", (1e9, 2e11)), query=self._chan_getter("sirc_rate_baud"))
        self.add(f"{ch}:SIRC:FBANdwidth", set=self._chan_setter("sirc_bandwidth_hz", (1e9, 1e11)), query=self._chan_getter("sirc_bandwidth_hz"))
        self.add(":TIMebase:SRATe", set=self._set_srate, query=lambda r: nr3(self.symbol_rate_baud))
        self.add(":TIMebase:UNITs", set=self._set_tb_units, query=lambda r: self.timebase_units)
        self.add(":TIMebase:UIRange", set=self._set_uirange, query=lambda r: nr3(self.ui_range))
        self.add(":PTIMebase#:STATe", set=self._set_ptb, query=lambda r: boolean(self.ptimebase))
        self.add(":TRIGger:MODE", set=self._set_trig_mode, query=lambda r: self.trigger_mode)
        self.add(":TRIGger:PLENgth", set=self._set_plength, query=lambda r: nr1(self.pattern_length))
        self.add(":TRIGger:PLENgth:AUTodetect", set=self._autodetect_setter("length_autodetect"),
                 query=lambda r: boolean(self.length_autodetect))
        self.add(":TRIGger:SRATe:AUTodetect", set=self._autodetect_setter("rate_autodetect"),
                 query=lambda r: boolean(self.rate_autodetect))
        self.add(":TRIGger:DCDRatio", set=self._set_dcd, query=lambda r: self.dcd_ratio)
        self.add(":TRIGger:PLOCk", set=self._set_plock, query=lambda r: boolean(self._locked()))
        self.add(":ACQuire:RUN", set=self._run)
        self.add(":ACQuire:SINGle", set=self._single)
        self.add(":ACQuire:STOP", set=self._stop)
        self.add(":ACQuire:CDISplay", set=self._clear)
        self.add(":ACQuire:EPATtern", set=self._set_epat, query=lambda r: boolean(self.epattern))
        self.add(":LTESt:ACQuire:CTYPe:PATTerns", set=self._ltest_count("PATT"), query=lambda r: nr1(self.ltest_count))
        self.add(":LTESt:ACQuire:CTYPe:WAVeforms", set=self._ltest_count("WAV"), query=lambda r: nr1(self.ltest_count))
        self.add(":LTESt:ACQuire:STATe", set=self._set_ltest, query=lambda r: boolean(self.ltest_on))
        self.add(":FUNCtion#:FOPerator", set=self._set_fop, query=lambda r: self._function(r).get("operator", "NONE"))
        self.add(":FUNCtion#:OPERand#", set=self._set_operand, query=self._get_operand)
        self.add(":FUNCtion#:DISPlay", set=lambda r: self._function(r).__setitem__("display", r.args.boolean(0)),
                 query=lambda r: boolean(self._function(r).get("display", True)))
        teq = ":SPRocess#:TEQualizer"
        self.add(f"{teq}:TSPacing:TPUI", set=self._set_tpui, query=lambda r: nr1(round(1.0 / self.tap_spacing_ui)))
        self.add(f"{teq}:TAPS:COUNt", set=self._set_taps, query=lambda r: nr1(self.taps))
        self.add(f"{teq}[:TAPS]:NPRecursors", set=self._set_npre, query=lambda r: nr1(self.precursors))
        for name, (units, _) in _MEASUREMENTS.items():
            base = f":MEASure:EYE:{name}"
            value_pattern = f"{base}[:MEAN]" if name == "APOWer" else base
            self.add(value_pattern, set=lambda r: None, query=self._value_handler(name))
            self.add(f"{base}:SOURce#", set=self._source_setter(name), query=lambda r, n=name: self.sources[n])
            self.add(f"{base}:STATus", query=self._status_handler(name))
            self.add(f"{base}:STATus:REASon", query=self._reason_handler(name))
            if units:
                self.add(f"{base}:UNITs", set=self._unit_setter(name, units), query=lambda r, n=name: self.units[n])
        self.add(":MEASure:EYE:PAM:LINearity:DEFinition", set=self._set_lin_def, query=lambda r: self.lin_definition)
        self.add(":WAVeform:SOURce", set=self._set_wf_source, query=lambda r: self.waveform_source)
        self.add(":WAVeform:PATTern:COMPlete", query=lambda r: boolean(self._data_problem(self.waveform_source) is None))
        self.add(":WAVeform:PATTern:BITS", query=lambda r: nr1(self.pattern_length))
        self.add(":WAVeform:XYFORmat:POINts", query=self._points)
        self.add(":WAVeform:XYFORmat:FLOat:XDATa", query=lambda r: self._export(x=True))
        self.add(":WAVeform:XYFORmat:FLOat:YDATa", query=lambda r: self._export(x=False))

    # --- state helpers -------------------------------------------------------------------------
    def _now(self) -> float:
        return self.link.sim_time_s if self.link is not None else 0.0

    def _invalidate(self) -> None:
        self.acquired_temperature_c = None
        self.acquired_path = None
        self.run_started_s = self._now()

    def _signal_symbol_rate(self) -> float:
        return self.link.symbol_rate_baud if self.link is not None else math.nan

    def _signal_pattern_length(self) -> int:
        if self.link is None:
            return 0
        return int(self.link.transmitter_waveform().pattern.size)

    def _locked(self) -> bool:
        return self.lock_requested and self.locked

    def _resolve(self, source: str) -> str | None:
        """Return the channel (``"1A"``) a source reads, following FUNCtion operands."""
        for _ in range(4):
            if source.startswith("FUNC"):
                source = self.functions.get(int(source[4:]), {}).get("operand1", "CHAN1A")
            else:
                return source[4:]
        return None

    def _data_problem(self, source: str) -> str | None:
        """Why data of ``source`` are not valid now (None when they are)."""
        chan = self._resolve(source)
        if chan != SIGNAL_CHANNEL or self.link is None:
            return "No signal on the source"
        if not self._locked():
            return "Pattern lock required"
        if self._path_state()[1] is False:
            return "No signal on the source"
        if self.acquired_temperature_c is not None:
            return None
        if self.running and self._now() - self.run_started_s >= SETTLE_S:
            return None
        return "Waiting for data"

    def _temperature(self) -> float:
        if self.acquired_temperature_c is not None and not self.running:
            return self.acquired_temperature_c
        return self.link.module_temperature_c

    def _path_state(self) -> tuple[float | None, bool | None]:
        """(attenuation dB, shutter open) the record is taken at: frozen by a stopped
        acquisition, else the present ones; ``(None, None)`` with the scope at the transmitter."""
        if self.link is None or not self.link.params.scope.at_receiver:
            return None, None
        if self.acquired_path is not None and not self.running:
            return self.acquired_path
        return self.link.attenuation_db, self.link.shutter_open

    def _freeze(self) -> None:
        """Remember the state an acquisition is taken at."""
        self.acquired_temperature_c = self.link.module_temperature_c
        self.acquired_path = (self.link.attenuation_db, self.link.shutter_open)

    def _waveform(self, source: str, compliance: bool = False):
        ch = self.channels[self._resolve(source)]
        bw = ch.sirc_bandwidth_hz if ch.sirc else None
        att, shutter = self._path_state()
        wf = self.link.scope_waveform(sirc_bandwidth_hz=bw, temperature_c=self._temperature(),
                                      attenuation_db=att, shutter_open=shutter, compliance=compliance)
        return wf, ch

    def _metrics(self, source: str) -> dict:
        """All measurement values for ``source`` (computed by :mod:`optics`, cached)."""
        from optics.errors import OpticsError
        from optics.levels import measure_levels
        from optics.phy.method import SCOPE_FIXED_OPTIONS
        from optics.tdecq import tdecq

        wf, ch = self._waveform(source)
        # keyed by the waveform object (kept alive in the entry, so its id is not reused):
        # a new transmitter, lane or temperature gives a new waveform
        key = (id(wf), ch.sirc, self.taps, self.precursors)
        hit = self._metrics_cache.get(key)
        if hit is not None and hit[0] is wf:
            return hit[1]
        levels = measure_levels(wf)
        sp = self.link.params.scope
        sigma_s = sp.noise_rms_w if sp.noise_compensation else 0.0
        # target SER and histogram windows: the DCA's fixed 121.8.5 values (no SCPI to change
        # them is known: optics.phy.method.SCOPE_FIXED_OPTIONS, which the yield prediction uses too)
        fixed = {k: v for k, v in SCOPE_FIXED_OPTIONS.items() if k != "filter_order"}
        # TDECQ on the TDECQ path: through the bench's compliance spool (the same record without one)
        tdecq_wf = self._waveform(source, compliance=True)[0]
        try:
            result = tdecq(tdecq_wf, reference_filter=False, n_taps=self.taps, n_precursors=self.precursors,
                           sigma_scope=sigma_s, **fixed)
            tdecq_db, ceq_db = result.tdecq_db, result.ceq_db
        except OpticsError:  # eye too closed to measure: the DCA shows 9.91E+37
            tdecq_db = ceq_db = math.inf
        out = {
            "TDEQ": tdecq_db,
            "CEQ": ceq_db,
            "OOMA": levels.oma_outer,
            "P0": levels.p0,
            "P3": levels.p3,
            "PAM:LINearity": levels.rlm,
            "APOWer": levels.average,
        }
        if len(self._metrics_cache) > 16:
            self._metrics_cache.clear()
        self._metrics_cache[key] = (wf, out)
        return out

    def _transition(self, source: str):
        """:func:`optics.transition.transition_time` of the recorded waveform (cached like the metrics)."""
        from optics.errors import OpticsError
        from optics.transition import transition_time

        wf, ch = self._waveform(source)
        key = ("TTIMe", id(wf), ch.sirc)
        hit = self._metrics_cache.get(key)
        if hit is not None and hit[0] is wf:
            return hit[1]
        try:
            result = transition_time(wf, reference_filter=False)  # the record is SIRC-filtered already
        except OpticsError as exc:
            result = str(exc)
        self._metrics_cache[key] = (wf, result)
        return result

    def _problem(self, name: str) -> str | None:
        """Why measurement ``name`` has no valid value now (None when it has)."""
        source = self.sources[name]
        problem = self._data_problem(source)
        if problem is None and name in ("TDEQ", "CEQ") and self.tap_spacing_ui != 1.0:
            # the toolkit's TDECQ has T-spaced taps only: no number rather than a wrong one
            return (f"fractionally spaced TDECQ equaliser (:TSPacing:TPUI {round(1.0 / self.tap_spacing_ui)}) "
                    "is not simulated; only TPUI 1 (T-spaced)")
        if problem is None and name == "TTIMe":
            tr = self._transition(source)
            if isinstance(tr, str):
                return tr
            if tr.transition_time_s is None:
                return tr.note
        return problem

    def _value(self, name: str) -> float:
        source = self.sources[name]
        if self._problem(name) is not None:
            return math.inf
        if name == "TTIMe":
            return self._transition(source).transition_time_s
        m = self._metrics(source)
        unit = self.units[name]
        if name == "OER":
            ratio = m["P3"] / m["P0"] if m["P0"] > 0 else math.inf
            if unit == "DEC":
                return 10.0 * math.log10(ratio) if math.isfinite(ratio) else math.inf
            return ratio if unit == "RAT" else 100.0 / ratio
        value = m[name]
        if unit == "DBM":
            return 10.0 * math.log10(value / 1e-3) if value > 0 else math.inf
        return value

    # --- handlers: set-up -------------------------------------------------------------------------
    def _set_mode(self, req: Request) -> None:
        req.args.expect(1)
        self.mode = req.args.choice(0, ("EYE", "OSCilloscope", "JITTer", "TDR"))

    def _set_border(self, req: Request) -> None:
        req.args.expect(1)
        self.big_endian = req.args.choice(0, ("LENDian", "BENDian")) == "BEND"

    def _chan(self, req: Request) -> _Channel:
        name = str(req.suffix(0))
        ch = self.channels.get(name)
        if ch is None:
            raise CommandError(-114, f"channel {name} does not exist (1A .. 4D)")
        return ch

    def _chan_setter(self, attr: str, kind):
        def handler(req: Request) -> None:
            req.args.expect(1)
            ch = self._chan(req)
            if kind is bool:
                value = req.args.boolean(0)
            else:
                value = req.args.number(0, units="HZ", low=kind[0], high=kind[1])
            setattr(ch, attr, value)
            if attr.startswith("sirc"):
                self._invalidate()

        return handler

    def _chan_getter(self, attr: str):
        def handler(req: Request) -> str:
            value = getattr(self._chan(req), attr)
            return boolean(value) if isinstance(value, bool) else nr3(value)

        return handler

    def _set_srate(self, req: Request) -> None:
        req.args.expect(1)
        self.symbol_rate_baud = req.args.number(0, units="HZ", low=1e8, high=2e11)
        self._relock()

    def _set_tb_units(self, req: Request) -> None:
        req.args.expect(1)
        self.timebase_units = req.args.choice(0, ("SEConds", "UINTerval"))

    def _set_uirange(self, req: Request) -> None:
        req.args.expect(1)
        self.ui_range = req.args.number(0, low=0.1, high=1e6)

    def _set_ptb(self, req: Request) -> None:
        req.args.expect(1)
        self.ptimebase = req.args.boolean(0)

    def _set_trig_mode(self, req: Request) -> None:
        req.args.expect(1)
        self.trigger_mode = req.args.choice(0, ("CLOCk", "FRUN", "PLOCk", "EXTernal"))

    def _set_plength(self, req: Request) -> None:
        req.args.expect(1)
        self.pattern_length = req.args.integer(0, low=1, high=2**23)
        self._relock()

    def _autodetect_setter(self, attr: str):
        def handler(req: Request) -> None:
            req.args.expect(1)
            setattr(self, attr, req.args.boolean(0))

        return handler

    def _set_dcd(self, req: Request) -> None:
        req.args.expect(1)
        token = req.args.token(0).upper()
        if token not in ("UNIT", "UNITY") and not re.match(r"^SUB\d+$", token):
            raise CommandError(-224, f"divide ratio {req.args.token(0)!r}: UNITy or SUB<n>")
        self.dcd_ratio = token[:4] if token.startswith("UNIT") else token

    def _relock(self) -> None:
        if self.link is None:
            self.locked = False
        else:
            baud = self._signal_symbol_rate()
            self.locked = (
                abs(self.symbol_rate_baud - baud) <= 1e-4 * baud
                and self.pattern_length == self._signal_pattern_length()
            )
        self._invalidate()

    def _set_plock(self, req: Request) -> None:
        req.args.expect(1)
        self.lock_requested = req.args.boolean(0)
        if self.lock_requested and self.link is not None:
            # autodetection replaces whatever was entered by what the signal has
            if self.rate_autodetect:
                self.symbol_rate_baud = self._signal_symbol_rate()
            if self.length_autodetect:
                self.pattern_length = self._signal_pattern_length()
        self._relock()

    def unlock(self) -> None:
        """Lose pattern lock (fault injection: as if the clock was disturbed)."""
        with self.lock:
            self.locked = False
            self._invalidate()

    # --- handlers: acquisition --------------------------------------------------------------------
    def _run(self, req: Request) -> None:
        req.args.expect(0)
        self._invalidate()
        if self.ltest_on:
            self._complete_acquisition()
        else:
            self.running = True

    def _single(self, req: Request) -> None:
        req.args.expect(0)
        self._invalidate()
        self._complete_acquisition()

    def _complete_acquisition(self) -> None:
        """A limit-test or single acquisition: done at once in simulated time, then stopped."""
        self.running = False
        if self._locked() and self.link is not None:
            self._freeze()

    def _stop(self, req: Request) -> None:
        req.args.expect(0)
        if self.running and self._data_problem("CHAN1A") is None and self.link is not None:
            self._freeze()
        self.running = False

    def _clear(self, req: Request) -> None:
        req.args.expect(0)
        self._invalidate()

    def _set_epat(self, req: Request) -> None:
        req.args.expect(1)
        self.epattern = req.args.boolean(0)

    def _ltest_count(self, kind: str):
        def handler(req: Request) -> None:
            req.args.expect(1)
            self.ltest_kind = kind
            self.ltest_count = req.args.integer(0, low=1, high=10**9)

        return handler

    def _set_ltest(self, req: Request) -> None:
        req.args.expect(1)
        self.ltest_on = req.args.boolean(0)

    # --- handlers: functions and equaliser ------------------------------------------------------------
    def _function(self, req: Request) -> dict:
        return self.functions.setdefault(int(req.suffix(0)), {})

    def _set_fop(self, req: Request) -> None:
        req.args.expect(1)
        self._function(req)["operator"] = req.args.choice(0, ("TEQualizer", "FFEQualizer", "CTLequalizer", "INVert", "NONE"))
        self._invalidate()

    def _set_operand(self, req: Request) -> None:
        req.args.expect(1)
        self._function(req)[f"operand{req.suffix(1)}"] = _source_token(req.args.token(0))
        self._invalidate()

    def _get_operand(self, req: Request) -> str:
        return self._function(req).get(f"operand{req.suffix(1)}", "CHAN1A")

    def _set_tpui(self, req: Request) -> None:
        """``TPUI`` is taps per UI (1, 2, 4 or 8): the tap spacing is its inverse."""
        req.args.expect(1)
        taps_per_ui = req.args.number(0, low=1.0, high=8.0)
        if taps_per_ui not in (1.0, 2.0, 4.0, 8.0):
            raise CommandError(-224, f"taps per UI {taps_per_ui:g}; allowed 1, 2, 4, 8")
        self.tap_spacing_ui = 1.0 / taps_per_ui

    def _set_taps(self, req: Request) -> None:
        req.args.expect(1)
        self.taps = req.args.integer(0, low=1, high=41)
        self.precursors = min(self.precursors, self.taps - 1)

    def _set_npre(self, req: Request) -> None:
        req.args.expect(1)
        self.precursors = req.args.integer(0, low=0, high=self.taps - 1)

    # --- handlers: measurements -------------------------------------------------------------------------
    def _value_handler(self, name: str):
        def handler(req: Request) -> str:
            return nr3(self._value(name))

        return handler

    def _status_handler(self, name: str):
        def handler(req: Request) -> str:
            return "CORR" if self._problem(name) is None else "INV"

        return handler

    def _reason_handler(self, name: str):
        def handler(req: Request) -> str:
            return quoted(self._problem(name) or "")

        return handler

    def _source_setter(self, name: str):
        def handler(req: Request) -> None:
            req.args.expect(1)
            self.sources[name] = _source_token(req.args.token(0))

        return handler

    def _unit_setter(self, name: str, units: tuple[str, ...]):
        def handler(req: Request) -> None:
            req.args.expect(1)
            self.units[name] = req.args.choice(0, units)

        return handler

    def _set_lin_def(self, req: Request) -> None:
        req.args.expect(1)
        self.lin_definition = req.args.choice(0, ("RLMA120", "RLMC94", "EYE"))

    # --- handlers: waveform export ------------------------------------------------------------------------
    def _set_wf_source(self, req: Request) -> None:
        req.args.expect(1)
        self.waveform_source = _source_token(req.args.token(0))

    def _points(self, req: Request) -> str:
        if self._data_problem(self.waveform_source) is not None:
            return "0"
        return nr1(self._waveform(self.waveform_source)[0].n_samples)

    def _export(self, *, x: bool) -> bytes:
        problem = self._data_problem(self.waveform_source)
        if problem is not None:
            self.push_error(-221, f"Settings conflict;{problem}")
            return definite_block(b"")
        wf = self._waveform(self.waveform_source)[0]
        values = np.arange(wf.n_samples) / wf.sample_rate_hz if x else wf.samples
        dtype = ">f4" if self.big_endian else "<f4"
        return definite_block(np.asarray(values, dtype=np.float64).astype(dtype).tobytes())


__all__ = ["FlexDCA", "SETTLE_S", "SIGNAL_CHANNEL"]
