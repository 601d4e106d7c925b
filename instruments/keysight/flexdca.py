"""Keysight FlexDCA (N1000A / 86100D with N1092/N1030 optical modules) for PAM4 transmitters.

Everything the IEEE 802.3 transmitter tests need: mode, pattern lock, the SIRC reference
receiver, TDECQ (TEQualizer function), outer OMA, extinction ratio, RLM, average power, a
limit-test acquisition, and the pattern-waveform export that turns the scope's samples into
an :class:`optics.Waveform` -- so the toolkit can recompute TDECQ from the very samples the
DCA measured and compare.

Command set (Keysight ``kf.py`` sample and ``Keysight_86100D_Oscope.py`` in lightwave-lab/
lightlab; public FlexDCA scripts using ``:MEASure:EYE:OOMA``, ``:OER``, ``:PAM:LINearity``,
``:APOWer``, ``:TDEQ``; pages of the FlexDCA programmer's guide, helpfiles.keysight.com
``FlexDCA-PG``, where cited below):

=============================  ===========================================================
Mode / set-up                  ``:SYSTem:MODE EYE|OSCilloscope|JITTer``, ``:SYSTem:DEFault``,
                               ``:SYSTem:AUToscale``, ``:TIMebase:UNITs UINTerval``, ``:TIMebase:UIRange``
Pattern lock                   ``:TRIGger:MODE CLOCk``, ``:TRIGger:SRATe:AUTodetect OFF``,
                               ``:TRIGger:PLENgth:AUTodetect OFF``, ``:TIMebase:SRATe <Bd>``,
                               ``:TRIGger:PLENgth <n>``, ``:TRIGger:PLOCk ON`` + ``*OPC?``
Reference receiver             ``:CHAN1A:SIRC ON``, ``:SIRC:FRATe <Bd>``, ``:SIRC:FBANdwidth <Hz>``
TDECQ / C_eq                   ``:FUNCtion1:FOPerator TEQualizer``, ``:FUNCtion1:OPERand1``,
                               ``:SPRocess1:TEQualizer:TSPacing:TPUI`` (taps per UI),
                               ``...:TAPS:COUNt``,
                               ``:SPRocess1:TEQualizer:NPRecursors`` (as in Keysight's public
                               TDECQ example scripts; not under ``:TAPS``),
                               ``:MEASure:EYE:TDEQ:SOURce1 FUNCtion1``, ``:MEASure:EYE:TDEQ?``,
                               ``:MEASure:EYE:CEQ:SOURce1 FUNCtion1``, ``:CEQ?``
Outer OMA / ER / RLM / power   ``:MEASure:EYE:OOMA`` (``:UNITs WATT``), ``:OER`` (``:UNITs DECibel``),
                               ``:PAM:LINearity`` (``:DEFinition RLMA120``), ``:APOWer`` (``:UNITs WATT``)
Transition time                ``:MEASure:EYE:TTIMe:SOURce1 FUNCtion1`` (the TDECQ function, as
                               for CEQ and TDEQ), ``:MEASure:EYE:TTIMe``, ``:TTIMe?`` (s)
Validity                       ``<meas>:STATus?`` -> ``CORR`` | ``QUES`` | ``INV``;
                               ``<meas>:STATus:REASon?``
Acquisition                    ``:ACQuire:EPATtern ON``, ``:ACQuire:STOP``, ``:ACQuire:CDISplay``,
                               ``:LTESt:ACQuire:CTYPe:PATTerns n``, ``:LTESt:ACQuire:STATe ON``,
                               ``:ACQuire:RUN`` + ``*OPC?``, ``:LTESt:ACQuire:STATe OFF``
Waveform export                ``:WAVeform:SOURce``, ``:SYSTem:BORDer LENDian``,
                               ``:WAVeform:PATTern:COMPlete?``, ``:WAVeform:PATTern:BITS?``,
                               ``:WAVeform:XYFORmat:POINts?``,
                               ``:WAVeform:XYFORmat:FLOat:XDATa?`` / ``YDATa?`` (float32 blocks)
=============================  ===========================================================

Commands confirmed by: FlexDCA-PG ``:MEASure:EYE:CEQ`` (A.06.00+; its example sources CEQ
from a ``TEQualizer`` function: ``:MEASure:EYE:CEQ:SOURce1 FUNCtion2``);
FlexDCA-PG ``:MEASure:EYE:TTIMe`` (A.06.00+; IEEE 802.3cd PAM transition time, 20-80 % of
the long 0 <-> 3 edges through the SIRC filter "used with the TDECQ measurement"); the
transition time's source being the TDECQ function like CEQ/TDEQ as recorded in
``reference/instruments-scpi-and-stations.md`` (appendix); FlexDCA-PG
``:SLOT:TRIGger:SRATe:AUTodetect`` (A.05.60+: "A default setup turns automatic detection on.
When automatic detection is turned off, use the ... SRATe command to enter the symbol rate";
it replaces the deprecated ``...:BRATe:AUTodetect``) and, for the mainframe commands
``:TRIGger:SRATe:AUTodetect`` / ``:TRIGger:PLENgth:AUTodetect ON|OFF``, public FlexDCA drivers
(a Python ``Keysight86100X`` driver; Keysight's MATLAB iqtools, which send
``:TRIGger:BRATe:AUTodetect OFF`` and ``:TRIGger:PLENgth:AUTodetect OFF`` before entering rate
and length); FlexDCA-PG ``:TIMebase:SRATe``.  :meth:`FlexDCA.lock_pattern` switches both
autodetections off before it enters rate and length: with them on, ``:TRIGger:PLOCk ON``
detects rate and length itself and ignores the values entered.

Not confirmed: the ``DECibel`` token of ``:OER:UNITs``; whether ``:APOWer?`` or
``:APOWer:MEAN?`` is the preferred average-power query (we use the former, as public station
code does); whether pattern lock uses the rate of ``:TIMebase:SRATe`` (kf.py, iqtools'
``:TIMebase:BRATe``) or of ``:TRIGger:SRATe`` (the Python driver) on every firmware -- the
guide describes ``:TIMebase:SRATe`` as the symbol rate of the UI time axis; we send the former.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from instruments.scpi import Adapter, Channel, ScpiInstrument, control
from instruments.scpi.replies import strip_reply
from instruments.scpi.validators import boolean, strict_int_range, strict_range
from optics.errors import GarbledReply, InvalidParameter, MeasurementInvalid, SafetyLimitError
from optics.io.flexdca import pattern_sample_interval
from optics.waveform import Waveform

_CHANNEL = re.compile(r"^[1-8][A-D]$")


class FlexDCAChannel(Channel):
    """A scope channel such as ``"1A"`` (slot 1, channel A)."""

    display = control(
        ":CHAN{ch}:DISPlay?", ":CHAN{ch}:DISPlay {value}",
        "Control whether the channel is displayed (and acquired).", kind=bool, validator=boolean)
    reference_receiver = control(
        ":CHAN{ch}:SIRC?", ":CHAN{ch}:SIRC {value}",
        "Control the system-impulse-response-corrected reference receiver filter (bool).",
        kind=bool, validator=boolean)
    reference_receiver_rate_baud = control(
        ":CHAN{ch}:SIRC:FRATe?", ":CHAN{ch}:SIRC:FRATe {value}",
        "Control the symbol rate the SIRC filter is designed for, in Bd (1e9 .. 2e11).",
        validator=strict_range(1e9, 2e11, "Bd"))
    reference_receiver_bandwidth_hz = control(
        ":CHAN{ch}:SIRC:FBANdwidth?", ":CHAN{ch}:SIRC:FBANdwidth {value}",
        "Control the SIRC filter 3 dB bandwidth in Hz (1e9 .. 1e11); IEEE 802.3 uses baud/2.",
        validator=strict_range(1e9, 1e11, "Hz"))

    @property
    def source(self) -> str:
        """The SCPI source name, e.g. ``"CHAN1A"``."""
        return f"CHAN{self.context['ch']}"


class FlexDCA(ScpiInstrument):
    """Keysight FlexDCA sampling oscilloscope with an optical channel.

    Parameters
    ----------
    resource : str or Adapter
        Usually ``"TCPIP::host::hislip0::INSTR"``.
    channel : str
        Default optical channel, ``"1A"`` .. ``"8D"``.
    measurement_timeout_s : float
        How long a measurement may stay ``INV``/``QUES`` before
        :class:`~optics.errors.MeasurementInvalid` is raised; also the I/O timeout of the
        ``*OPC?`` waits of pattern lock, autoscale and default set-up (0 .. 1e5 s; never below
        the I/O timeout).
    safety_limits : mapping, optional
        ``{"input_power_w": ...}``: the damage (or maximum safe) average input power of the
        optical module; see :meth:`check_input_power`.
    **kwargs
        Passed to :class:`~instruments.scpi.ScpiInstrument`.

    Examples
    --------
    >>> dca = FlexDCA("TCPIP::10.0.0.9::hislip0::INSTR", safety_limits={"input_power_w": 2e-3})  # doctest: +SKIP
    >>> dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=8191)                       # doctest: +SKIP
    >>> dca.configure_tdecq()                                                                  # doctest: +SKIP
    >>> dca.measure_tdecq_db()                                                                 # doctest: +SKIP
    >>> wf = dca.read_pattern_waveform()                                                       # doctest: +SKIP
    """

    SAFETY_LIMITS = {"input_power_w": ("W", "max")}

    mode = control(
        ":SYSTem:MODE?", ":SYSTem:MODE {value}",
        'Control the instrument mode: "eye", "oscilloscope", "jitter" or "tdr".',
        choices={"eye": "EYE", "oscilloscope": "OSC", "jitter": "JITT", "tdr": "TDR"})
    symbol_rate_baud = control(
        ":TIMebase:SRATe?", ":TIMebase:SRATe {value}",
        "Control the symbol rate used by pattern lock, in Bd (1e8 .. 2e11).",
        validator=strict_range(1e8, 2e11, "Bd"))
    pattern_length = control(
        ":TRIGger:PLENgth?", ":TRIGger:PLENgth {value}",
        "Control the pattern length in symbols (1 .. 2**23).",
        kind=int, validator=strict_int_range(1, 2**23))
    entire_pattern = control(
        ":ACQuire:EPATtern?", ":ACQuire:EPATtern {value}",
        "Control acquisition of the entire pattern (needed for the pattern-waveform export).",
        kind=bool, validator=boolean)
    pattern_lock = control(
        ":TRIGger:PLOCk?", ":TRIGger:PLOCk {value}",
        "Control pattern lock (bool); prefer :meth:`lock_pattern`, which waits for the lock.",
        kind=bool, validator=boolean)

    def __init__(self, resource: str | Adapter, *, channel: str = "1A", measurement_timeout_s: float = 30.0,
                 **kwargs: Any) -> None:
        timeout = strict_range(0.0, 1e5, "s")(measurement_timeout_s, "measurement_timeout_s")
        super().__init__(resource, **kwargs)
        self.default_channel = self.channel(channel)
        self.measurement_timeout_s = timeout
        self._idn_raw: str | None = None

    def channel(self, name: str) -> FlexDCAChannel:
        """Return channel ``name`` (``"1A"`` .. ``"8D"``)."""
        if not isinstance(name, str) or not _CHANNEL.match(name.upper()):
            raise InvalidParameter(f"FlexDCA channel {name!r} invalid; expected slot 1..8 and letter A..D, e.g. '1A'")
        return FlexDCAChannel(self, ch=name.upper())

    def _source(self, channel: str | None) -> FlexDCAChannel:
        return self.default_channel if channel is None else self.channel(channel)

    # --- set-up ------------------------------------------------------------------------
    def _wait_long(self) -> None:
        """``*OPC?`` with the I/O timeout raised to ``measurement_timeout_s`` for that wait."""
        with self.io_timeout(max(self.adapter.timeout_s, self.measurement_timeout_s)):
            self.wait_complete()

    def default_setup(self) -> None:
        """Restore the default set-up (``:SYSTem:DEFault``) and wait for it."""
        self.write_checked(":SYSTem:DEFault")
        self._wait_long()

    def show_pattern(self, n_ui: float | None = None) -> None:
        """Set the time axis in UI spanning ``n_ui`` (default: the whole pattern).

        Sends ``:TIMebase:UNITs UINTerval`` and ``:TIMebase:UIRange <n>``.
        """
        n = float(self.pattern_length) if n_ui is None else strict_range(0.1, 2**23, "UI")(n_ui, "n_ui")
        self.write_checked(":TIMebase:UNITs UINTerval")
        self.write_checked(f":TIMebase:UIRange {n:.12g}")

    def autoscale(self) -> None:
        """Autoscale (``:SYSTem:AUToscale``) and wait for it to finish."""
        self.write_checked(":SYSTem:AUToscale")
        self._wait_long()

    def lock_pattern(self, *, symbol_rate_baud: float, pattern_length: int) -> None:
        """Set clock trigger, symbol rate and pattern length, then lock and wait (``*OPC?``).

        Rate and length autodetection (``:TRIGger:SRATe:AUTodetect``,
        ``:TRIGger:PLENgth:AUTodetect``) are switched off first, so the lock uses the values
        given here rather than whatever the scope detects.

        Parameters
        ----------
        symbol_rate_baud : float
            Symbol rate in Bd (e.g. 53.125e9 for 100G-per-lane PAM4).
        pattern_length : int
            Pattern length in symbols (e.g. 8191 for PRBS13Q, 65535 for SSPRQ).
        """
        strict_range(1e8, 2e11, "Bd")(symbol_rate_baud, "symbol_rate_baud")
        strict_int_range(1, 2**23)(pattern_length, "pattern_length")
        self.write_checked(":TRIGger:MODE CLOCk")
        # with autodetection on, PLOCk ON would detect rate and length and ignore ours
        self.write_checked(":TRIGger:SRATe:AUTodetect OFF")
        self.write_checked(":TRIGger:PLENgth:AUTodetect OFF")
        self.symbol_rate_baud = symbol_rate_baud
        self.pattern_length = pattern_length
        self.write(":TRIGger:PLOCk ON")
        self._wait_long()
        self.check_errors(":TRIGger:PLOCk ON")

    def set_reference_receiver(self, *, symbol_rate_baud: float, bandwidth_hz: float | None = None,
                               channel: str | None = None) -> None:
        """Switch on the SIRC reference receiver at ``bandwidth_hz`` (default baud/2).

        IEEE 802.3 (e.g. 121.8.5.3, 124.8.5) specifies a 4th-order Bessel-Thomson response with
        a 3 dB bandwidth of half the signalling rate for TDECQ; the DCA's SIRC realises it.
        """
        ch = self._source(channel)
        bw = 0.5 * symbol_rate_baud if bandwidth_hz is None else bandwidth_hz
        # validate both before sending anything
        strict_range(1e9, 2e11, "Bd")(symbol_rate_baud, "reference_receiver_rate_baud")
        strict_range(1e9, 1e11, "Hz")(bw, "reference_receiver_bandwidth_hz")
        ch.reference_receiver = True
        ch.reference_receiver_rate_baud = symbol_rate_baud
        ch.reference_receiver_bandwidth_hz = bw

    def configure_tdecq(self, *, n_taps: int = 5, n_precursors: int = 2, tap_spacing_ui: float = 1.0,
                        channel: str | None = None) -> None:
        """Route the channel through the TDECQ equaliser function and add the measurement.

        Of a PHY's TDECQ method (:class:`optics.phy.method.TdecqMethod`) this sets the FFE
        length and precursors; the reference receiver's bandwidth is
        :meth:`set_reference_receiver`'s.  No SCPI command is known (reference notes §1.1) for
        the target SER, the histogram windows or the filter order: the DCA measures with its
        own (the 121.8.5 values, SER 4.8e-4, per Keysight's defaults), and
        :func:`optics.phy.method.step_tdecq` lists a method field that differs.

        Parameters
        ----------
        n_taps : int
            FFE taps (IEEE 802.3 121.8.5.4: 5 T-spaced taps).
        n_precursors : int
            Taps before the main cursor (0 .. n_taps-1).
        tap_spacing_ui : float
            Tap spacing in UI: 1 (T-spaced), 1/2, 1/4 or 1/8; sent as the number of taps per UI
            (``:TSPacing:TPUI`` = 1 / ``tap_spacing_ui``).
        """
        strict_int_range(1, 41)(n_taps, "n_taps")
        strict_int_range(0, n_taps - 1)(n_precursors, "n_precursors")
        spacing = strict_range(0.125, 1.0, "UI")(tap_spacing_ui, "tap_spacing_ui")
        taps_per_ui = round(1.0 / spacing)
        if abs(taps_per_ui * spacing - 1.0) > 1e-9 or taps_per_ui not in (1, 2, 4, 8):
            raise InvalidParameter(
                f"tap_spacing_ui = {spacing:g} UI must be 1, 1/2, 1/4 or 1/8 (sent as taps per UI)"
            )
        src = self._source(channel).source
        for command in (
            ":FUNCtion1:FOPerator TEQualizer",
            f":FUNCtion1:OPERand1 {src}",
            f":SPRocess1:TEQualizer:TSPacing:TPUI {taps_per_ui}",
            f":SPRocess1:TEQualizer:TAPS:COUNt {n_taps}",
            f":SPRocess1:TEQualizer:NPRecursors {n_precursors}",
            ":MEASure:EYE:TDEQ:SOURce1 FUNCtion1",
            ":MEASure:EYE:TDEQ",
        ):
            self.write_checked(command)

    def acquire(self, n_patterns: int, *, timeout_s: float = 300.0) -> None:
        """Clear, acquire exactly ``n_patterns`` pattern repetitions (limit test), stop.

        ``*OPC?`` returns at the end of the acquisition; the I/O timeout is raised to
        ``timeout_s`` for that wait only.
        """
        strict_int_range(1, 10**6)(n_patterns, "n_patterns")
        strict_range(0.001, 1e5, "s")(timeout_s, "timeout_s")
        self.write_checked(":ACQuire:STOP")
        self.write_checked(":ACQuire:CDISplay")
        self.write_checked(f":LTESt:ACQuire:CTYPe:PATTerns {n_patterns}")
        self.write_checked(":LTESt:ACQuire:STATe ON")
        self.write(":ACQuire:RUN")
        with self.io_timeout(timeout_s):
            self.wait_complete()
        self.write_checked(":LTESt:ACQuire:STATe OFF")

    # --- measurements ------------------------------------------------------------------
    def read_measurement(self, base: str) -> float:
        """Poll ``<base>:STATus?`` until ``CORR``, then return ``<base>?``.

        Raises
        ------
        MeasurementInvalid
            The status stayed ``INV`` or ``QUES`` for ``measurement_timeout_s``; the message
            carries ``<base>:STATus:REASon?``.
        """
        ok, status = self.poll(
            lambda: strip_reply(self.ask(f"{base}:STATus?")).upper(),
            lambda s: s.startswith("CORR"),
            self.measurement_timeout_s,
        )
        if not ok:
            reason = strip_reply(self.ask(f"{base}:STATus:REASon?"))
            raise MeasurementInvalid(
                f"{self.resource_name}: {base} status {status!r} after {self.measurement_timeout_s:g} s "
                f"(reason: {reason!r})"
            )
        return self.ask_float(f"{base}?")

    def _prepare(self, base: str, channel: str | None, extra: tuple[str, ...] = ()) -> None:
        self.write_checked(f"{base}:SOURce1 {self._source(channel).source}")
        for command in extra:
            self.write_checked(command)
        self.write_checked(base)

    def measure_tdecq_db(self) -> float:
        """Measure TDECQ in dB (after :meth:`configure_tdecq`)."""
        return self.read_measurement(":MEASure:EYE:TDEQ")

    def measure_ceq_db(self) -> float:
        """Measure the equaliser noise enhancement C_eq in dB (IEEE 802.3 121.8.5.3), on FUNCtion1."""
        base = ":MEASure:EYE:CEQ"
        self.write_checked(f"{base}:SOURce1 FUNCtion1")
        self.write_checked(base)
        return self.read_measurement(base)

    def measure_transition_time_s(self) -> float:
        """Measure the IEEE 802.3cd PAM transition time in s (``:MEASure:EYE:TTIMe``, FlexDCA
        A.06.00+) on the TDECQ function ``FUNCtion1`` (as C_eq and TDECQ; set up by
        :meth:`configure_tdecq`): 20 %-80 % of the slowest long 0 <-> 3 edge, through the
        channel's SIRC (:meth:`set_reference_receiver`).  Needs a pattern with such edges
        (SSPRQ); else the scope reports the measurement invalid (``MeasurementInvalid`` with
        its reason)."""
        base = ":MEASure:EYE:TTIMe"
        self.write_checked(f"{base}:SOURce1 FUNCtion1")
        self.write_checked(base)
        return self.read_measurement(base)

    def measure_outer_oma_w(self, channel: str | None = None) -> float:
        """Measure outer OMA (P3 - P0) in W."""
        base = ":MEASure:EYE:OOMA"
        self._prepare(base, channel, (f"{base}:UNITs WATT",))
        return self.read_measurement(base)

    def measure_extinction_ratio_db(self, channel: str | None = None) -> float:
        """Measure the outer extinction ratio 10 log10(P3/P0) in dB."""
        base = ":MEASure:EYE:OER"
        self._prepare(base, channel, (f"{base}:UNITs DECibel",))
        return self.read_measurement(base)

    def measure_rlm(self, channel: str | None = None) -> float:
        """Measure the level-separation mismatch ratio R_LM (IEEE 802.3 120D.3.1.2 definition)."""
        base = ":MEASure:EYE:PAM:LINearity"
        self._prepare(base, channel, (f"{base}:DEFinition RLMA120",))
        return self.read_measurement(base)

    def measure_average_power_w(self, channel: str | None = None) -> float:
        """Measure the average optical power in W.

        Raises
        ------
        SafetyLimitError
            The measured power exceeds the configured ``input_power_w`` limit (reduce the
            power now: the input is at risk).
        """
        base = ":MEASure:EYE:APOWer"
        self._prepare(base, channel, (f"{base}:UNITs WATT",))
        value = self.read_measurement(base)
        limit = self.safety_limits.get("input_power_w")
        if limit is not None and value > limit:
            raise SafetyLimitError(
                f"{self.resource_name}: measured average input power {value:g} W exceeds the "
                f"configured limit {limit:g} W; reduce the optical power"
            )
        return value

    def check_input_power(self, power_w: float) -> None:
        """Refuse (``SafetyLimitError``) an expected input power above the configured limit.

        Call before raising the power into the scope (e.g. before lowering a VOA).
        """
        self.check_safety("input_power_w", strict_range(0.0, 10.0, "W")(power_w, "power_w"))

    def measure_all(self, channel: str | None = None) -> dict[str, float]:
        """Measure the transmitter metrics under the toolkit's metric names.

        Returns ``tdecq_db, ceq_db, oma_outer_w, oma_outer_dbm, extinction_ratio_db, rlm,
        average_power_w, average_power_dbm`` (TDECQ and C_eq need :meth:`configure_tdecq` first).
        """
        oma = self.measure_outer_oma_w(channel)
        er = self.measure_extinction_ratio_db(channel)
        rlm = self.measure_rlm(channel)
        pav = self.measure_average_power_w(channel)
        tdecq = self.measure_tdecq_db()
        ceq = self.measure_ceq_db()
        out = {"tdecq_db": tdecq, "ceq_db": ceq, "oma_outer_w": oma, "extinction_ratio_db": er, "rlm": rlm, "average_power_w": pav}
        for key, watts in (("oma_outer_dbm", oma), ("average_power_dbm", pav)):
            if watts <= 0:
                raise MeasurementInvalid(f"{self.resource_name}: {key[:-4]} = {watts:g} W has no dBm value")
            out[key] = 10.0 * math.log10(watts / 1e-3)
        return out

    # --- waveform export ---------------------------------------------------------------
    def read_pattern_waveform(self, *, channel: str | None = None, pattern: np.ndarray | None = None,
                              quantity: str = "optical_power", meta: Mapping[str, Any] | None = None) -> Waveform:
        """Export the pattern waveform (one full pattern repetition) as a :class:`Waveform`.

        The DCA must be pattern-locked and have acquired the complete pattern.  X data (s)
        and Y data (W for an optical channel) are read as little-endian float32 IEEE blocks;
        the sample rate is ``(n - 1) / (x[-1] - x[0])``, snapped to
        ``n * baud / pattern_length`` when it agrees within float32 rounding
        (:func:`optics.io.flexdca.pattern_sample_interval`); the symbol rate comes from
        ``:TIMebase:SRATe?``.

        Parameters
        ----------
        channel : str, optional
            Channel to export (default: the instrument's default channel).
        pattern : array of int, optional
            The known PAM4 symbol pattern (e.g. ``optics.patterns.prbs_q(13)``); its length
            must equal the DCA's pattern length.
        quantity : str
            ``"optical_power"`` (default) or ``"voltage"`` for an electrical channel.
        meta : mapping, optional
            Extra metadata merged into ``Waveform.meta``.

        Returns
        -------
        Waveform
            ``meta`` holds ``source='instrument'``, ``instrument_idn``, ``channel`` and
            ``settings`` (symbol rate, pattern length, points).

        Raises
        ------
        MeasurementInvalid
            Pattern not complete, or samples flagged invalid (9.91E+37 / NaN).
        GarbledReply
            X/Y lengths disagree with ``:XYFORmat:POINts?``, or X is not uniformly increasing,
            or the record length disagrees with pattern length / symbol rate by more than 2 %.
        """
        ch = self._source(channel)
        self.write_checked(f":WAVeform:SOURce {ch.source}")
        self.write_checked(":SYSTem:BORDer LENDian")
        if not self.ask_bool(":WAVeform:PATTern:COMPlete?"):
            raise MeasurementInvalid(f"{self.resource_name}: pattern waveform of {ch.source} is not complete "
                                     "(pattern lock lost or acquisition too short)")
        n_pattern = self.ask_int(":WAVeform:PATTern:BITS?")
        n_points = self.ask_int(":WAVeform:XYFORmat:POINts?")
        x = self.ask_block_values(":WAVeform:XYFORmat:FLOat:XDATa?", "f")
        y = self.ask_block_values(":WAVeform:XYFORmat:FLOat:YDATa?", "f")
        baud = self.ask_float(":TIMebase:SRATe?")
        if self._idn_raw is None:
            self._idn_raw = self.idn.raw
        return self._build_waveform(x, y, n_points=n_points, n_pattern=n_pattern, symbol_rate_baud=baud,
                                    source=ch.source, pattern=pattern, quantity=quantity, meta=meta)

    def _build_waveform(self, x: np.ndarray, y: np.ndarray, *, n_points: int, n_pattern: int,
                        symbol_rate_baud: float, source: str, pattern: np.ndarray | None,
                        quantity: str, meta: Mapping[str, Any] | None) -> Waveform:
        where = f"{self.resource_name} ({source})"
        if x.size != n_points or y.size != n_points:
            raise GarbledReply(f"{where}: XYFORmat:POINts? = {n_points} but X has {x.size}, Y has {y.size} values")
        if n_points < 2:
            raise GarbledReply(f"{where}: pattern waveform has {n_points} points")
        if not np.all(np.isfinite(y)) or np.any(np.abs(y) >= 9.9e37):
            bad = int(np.count_nonzero(~np.isfinite(y) | (np.abs(y) >= 9.9e37)))
            raise MeasurementInvalid(f"{where}: {bad} of {n_points} samples are invalid (9.91E+37/NaN)")
        dx = np.diff(x)
        span = float(x[-1] - x[0])
        if not np.all(np.isfinite(x)) or span <= 0 or np.any(dx < 0):
            raise GarbledReply(f"{where}: X data is not strictly increasing")
        dt = span / (n_points - 1)
        # float32 time stamps are quantised to ~6e-8 of their magnitude; allow for that
        tolerance = max(0.1 * dt, 4.0 * float(np.finfo(np.float32).eps) * float(np.max(np.abs(x))))
        if np.max(np.abs(dx - dt)) > tolerance:
            raise GarbledReply(f"{where}: X data is not uniformly spaced (step {dt:g} s +- {np.max(np.abs(dx - dt)):g} s)")
        expected = n_pattern / symbol_rate_baud
        record = n_points * dt
        if abs(record - expected) > 0.02 * expected:
            raise GarbledReply(
                f"{where}: record of {n_points} points x {dt:g} s = {record:g} s does not span the pattern "
                f"of {n_pattern} symbols at {symbol_rate_baud:g} Bd ({expected:g} s)"
            )
        if pattern is not None and np.asarray(pattern).size != n_pattern:
            raise InvalidParameter(f"pattern has {np.asarray(pattern).size} symbols but the DCA pattern length is {n_pattern}")
        info = {
            "source": "instrument",
            "instrument_idn": self._idn_raw,
            "instrument": "Keysight FlexDCA",
            "resource": self.resource_name,
            "channel": source,
            "settings": {
                "symbol_rate_baud": symbol_rate_baud,
                "pattern_length_symbols": n_pattern,
                "n_points": n_points,
                "byte_order": "LENDian",
                "format": "XYFORmat FLOat",
            },
        }
        info.update(meta or {})
        dt = pattern_sample_interval(dt, n_points, n_pattern, symbol_rate_baud)
        return Waveform(samples=y, sample_rate_hz=1.0 / dt, quantity=quantity, symbol_rate_baud=symbol_rate_baud,
                        pattern=pattern, meta=info, t0_s=float(x[0]))


__all__ = ["FlexDCA", "FlexDCAChannel"]
