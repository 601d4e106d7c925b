"""Yokogawa AQ6370 (C/D/E) optical spectrum analyser.

Commands (PyMeasure ``yokogawa/aq6370series.py``, LabExT ``OpticalSpectrumAnalyzerAQ6370C.py``;
the AQ6370 remote-control manual was not reachable): ``CFORM1`` (SCPI mode),
``:SENS:WAV:CENT|SPAN|STAR|STOP`` (m), ``:SENS:BWID:RES`` (m, only the steps of
:data:`RESOLUTIONS_M`), ``:SENS:SENS NHLD|NAUT|NORM|MID|HIGH1|HIGH2|HIGH3``,
``:SENS:SWE:POIN:AUTO 1``, ``:INIT:SMOD 1`` (single), ``*CLS``, ``:INIT``,
``:STAT:OPER:EVEN?`` (bit 0 = sweep done), ``:TRAC:X? TRA`` (m), ``:TRAC:Y? TRA`` (dBm),
``:CALC:CAT SMSR``, ``:CALC``, ``:CALC:DATA?`` -> ``peak_wl,peak_dBm,side_wl,side_dBm,dwl,SMSR``.

Commands confirmed by: PyMeasure ``yokogawa/aq6370series.py`` (``AQ6370Series``: the
wavelength, sensitivity, sweep and trace commands above; ``:SENSe:BWIDth:RESolution`` as a
discrete set 0.02, 0.05, 0.1, 0.2, 0.5, 1 and 2 nm for the AQ6370C/D/E), LabExT and the
appendix of ``reference/instruments-scpi-and-stations.md`` (resolution steps; ``:CALC:DATA?``
SMSR order peak wl, peak dBm, 2nd wl, 2nd dBm, delta wl, SMSR).  A resolution between the
steps is refused (:class:`~optics.errors.InvalidParameter` naming the steps), never rounded
to one: the OSA would measure with another resolution bandwidth than the one asked for.

Over Ethernet the AQ6370 listens on port 10001 and wants ``OPEN "user"`` and a password
first (:meth:`AQ6370.login`), on every connection: :meth:`AQ6370.on_new_session` logs in
again (and selects the SCPI format again) when ``reconnect()`` reopens it.  Trace samples at -210 dBm are the OSA's "no data" marker.
Not confirmed: the sign convention of the SMSR field (we report it as a positive dB ratio,
taking the magnitude), and whether ``:CALC:DATA?`` lists the side mode before or after
``dwl`` on every firmware.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from instruments.scpi import Adapter, ScpiInstrument, control, setting
from instruments.scpi.replies import parse_floats, parse_int, strip_reply
from instruments.scpi.validators import boolean, strict_range
from optics.errors import ConnectionLost, GarbledReply, InvalidParameter, MeasurementInvalid

#: Trace value meaning "no data" (dBm).
EMPTY_DBM = -210.0
#: Resolution bandwidths the AQ6370C/D/E offers, m.
RESOLUTIONS_M = (0.02e-9, 0.05e-9, 0.1e-9, 0.2e-9, 0.5e-9, 1e-9, 2e-9)
#: Relative tolerance within which a value is taken as one of the steps (float spelling only).
_STEP_RTOL = 1e-9


def resolution_step(value: Any, name: str = "resolution_m") -> float:
    """Return the resolution step ``value`` (m) is, or refuse it.

    Only the steps of :data:`RESOLUTIONS_M` exist; ``value`` must equal one of them up to
    float spelling (relative 1e-9: ``1e-10`` and ``0.1e-9`` are the same step).

    Raises
    ------
    InvalidParameter
        ``value`` is no step (the message lists them, in nm); nothing is rounded.
    InvalidType
        ``value`` is not a real number.

    Examples
    --------
    >>> resolution_step(0.1e-9)
    1e-10
    """
    x = strict_range(0.0, 1.0, "m")(value, name)
    for step in RESOLUTIONS_M:
        if abs(x - step) <= _STEP_RTOL * step:
            return step
    steps = ", ".join(f"{v * 1e9:g}" for v in RESOLUTIONS_M)
    raise InvalidParameter(
        f"{name} = {x:g} m ({x * 1e9:g} nm) is not a resolution of the AQ6370; allowed: {steps} nm "
        "(a value between steps is not rounded)"
    )



@dataclasses.dataclass(frozen=True)
class Spectrum:
    """An OSA trace without its empty (-210 dBm) samples.

    Attributes
    ----------
    wavelength_m, power_dbm : ndarray
        Valid samples (m, dBm).
    n_empty : int
        Samples dropped as -210 dBm.
    """

    wavelength_m: np.ndarray
    power_dbm: np.ndarray
    n_empty: int

    @property
    def power_w(self) -> np.ndarray:
        """Power per sample in W."""
        return 1e-3 * 10.0 ** (self.power_dbm / 10.0)


@dataclasses.dataclass(frozen=True)
class SmsrResult:
    """Result of the OSA's SMSR analysis."""

    peak_wavelength_m: float
    peak_power_dbm: float
    side_wavelength_m: float
    side_power_dbm: float
    smsr_db: float


class AQ6370(ScpiInstrument):
    """Yokogawa AQ6370 OSA.

    Examples
    --------
    >>> osa = AQ6370("TCPIP::10.0.0.12::10001::SOCKET")   # doctest: +SKIP
    >>> osa.login("anonymous", "")                        # doctest: +SKIP
    >>> osa.center_m = 1310e-9; osa.span_m = 10e-9; osa.sweep()   # doctest: +SKIP
    >>> osa.smsr().smsr_db                                # doctest: +SKIP
    """

    center_m = control(
        ":SENS:WAV:CENT?", ":SENS:WAV:CENT {value}",
        "Control the centre wavelength in m (600e-9 .. 1700e-9).", validator=strict_range(600e-9, 1700e-9, "m"))
    span_m = control(
        ":SENS:WAV:SPAN?", ":SENS:WAV:SPAN {value}",
        "Control the span in m (0 .. 1100e-9).", validator=strict_range(0.0, 1100e-9, "m"))
    start_m = control(
        ":SENS:WAV:STAR?", ":SENS:WAV:STAR {value}",
        "Control the start wavelength in m (600e-9 .. 1700e-9).", validator=strict_range(600e-9, 1700e-9, "m"))
    stop_m = control(
        ":SENS:WAV:STOP?", ":SENS:WAV:STOP {value}",
        "Control the stop wavelength in m (600e-9 .. 1700e-9).", validator=strict_range(600e-9, 1700e-9, "m"))
    resolution_m = control(
        ":SENS:BWID:RES?", ":SENS:BWID:RES {value}",
        "Control the resolution bandwidth in m: 0.02, 0.05, 0.1, 0.2, 0.5, 1 or 2 nm (RESOLUTIONS_M).",
        validator=resolution_step)
    sensitivity = setting(
        ":SENS:SENS {value}",
        'Set the sensitivity: "NHLD", "NAUT", "NORM", "MID", "HIGH1", "HIGH2" or "HIGH3".',
        choices={k: k for k in ("NHLD", "NAUT", "NORM", "MID", "HIGH1", "HIGH2", "HIGH3")})
    auto_points = control(
        ":SENS:SWE:POIN:AUTO?", ":SENS:SWE:POIN:AUTO {value}",
        "Control automatic sampling-point count (bool).", kind=bool, validator=boolean)

    def __init__(self, resource: str | Adapter, *, sweep_timeout_s: float = 120.0, **kwargs: Any) -> None:
        self._login: tuple[str, str] | None = None
        self._scpi_format = False
        super().__init__(resource, **kwargs)
        self.sweep_timeout_s = float(sweep_timeout_s)

    def login(self, user: str, password: str) -> None:
        """Authenticate on the Ethernet port (``OPEN "user"`` then the password).

        Raises
        ------
        ConnectionLost
            The OSA did not answer ``ready`` to the password.
        """
        self.ask(f'OPEN "{user}"')
        reply = strip_reply(self.ask(password))
        if reply.lower() != "ready":
            raise ConnectionLost(f"{self.resource_name}: login as {user!r} refused (reply {reply!r})")
        self._login = (user, password)  # for the next session (on_new_session)

    def select_scpi(self) -> None:
        """Select the SCPI-compatible command format (``CFORM1``)."""
        self.write_checked("CFORM1")
        self._scpi_format = True

    def on_new_session(self) -> None:
        """Log in again and select the SCPI format again on a reopened connection.

        The OSA forgets both with the connection; :meth:`ScpiInstrument.reconnect` calls this
        before it reads ``*IDN?``, with the credentials of the last successful :meth:`login`.
        """
        if self._login is not None:
            self.login(*self._login)
        if self._scpi_format:
            self.select_scpi()

    def sweep(self) -> None:
        """Run one single sweep and wait for it (``:STAT:OPER:EVEN?`` bit 0).

        Raises
        ------
        MeasurementInvalid
            The sweep did not finish within ``sweep_timeout_s``.
        """
        self.write_checked(":INIT:SMOD 1")
        self.write("*CLS")
        self.write_checked(":INIT")
        ok, _ = self.poll(lambda: parse_int(self.ask(":STAT:OPER:EVEN?"), command=":STAT:OPER:EVEN?", resource=self.resource_name),
                          lambda v: bool(v & 1), self.sweep_timeout_s)
        if not ok:
            raise MeasurementInvalid(f"{self.resource_name}: sweep not finished after {self.sweep_timeout_s:g} s")

    def trace(self, name: str = "TRA") -> Spectrum:
        """Read trace ``name`` (``TRA`` .. ``TRG``) in m and dBm, dropping -210 dBm samples.

        Raises
        ------
        MeasurementInvalid
            Every sample is empty.
        GarbledReply
            X and Y lengths differ.
        """
        if name.upper() not in {f"TR{c}" for c in "ABCDEFG"}:
            raise InvalidParameter(f"trace {name!r} invalid; TRA .. TRG")
        x = parse_floats(self.ask(f":TRAC:X? {name.upper()}"), command=":TRAC:X?", resource=self.resource_name)
        y = parse_floats(self.ask(f":TRAC:Y? {name.upper()}"), command=":TRAC:Y?", resource=self.resource_name)
        if x.size != y.size:
            raise GarbledReply(f"{self.resource_name}: trace {name} has {x.size} wavelengths but {y.size} levels")
        valid = y > EMPTY_DBM + 1e-6
        if not np.any(valid):
            raise MeasurementInvalid(f"{self.resource_name}: trace {name} holds no data (all {y.size} samples at -210 dBm)")
        return Spectrum(wavelength_m=x[valid], power_dbm=y[valid], n_empty=int(np.count_nonzero(~valid)))

    def smsr(self) -> SmsrResult:
        """Run the OSA's SMSR analysis on the active trace.

        Raises
        ------
        MeasurementInvalid
            The analysis found no peak (a -210 dBm peak).
        """
        self.write_checked(":CALC:CAT SMSR")
        self.write_checked(":CALC")
        values = parse_floats(self.ask(":CALC:DATA?"), command=":CALC:DATA?", resource=self.resource_name)
        if values.size < 6:
            raise GarbledReply(f"{self.resource_name}: SMSR data has {values.size} values, expected 6")
        peak_wl, peak_dbm, side_wl, side_dbm, _dwl, smsr = values[:6]
        if peak_dbm <= EMPTY_DBM + 1e-6:
            raise MeasurementInvalid(f"{self.resource_name}: SMSR analysis found no peak")
        return SmsrResult(float(peak_wl), float(peak_dbm), float(side_wl), float(side_dbm), float(abs(smsr)))

    @property
    def peak_wavelength_m(self) -> float:
        """Measure the peak wavelength in m (via the SMSR analysis)."""
        return self.smsr().peak_wavelength_m


__all__ = ["AQ6370", "EMPTY_DBM", "RESOLUTIONS_M", "SmsrResult", "Spectrum", "resolution_step"]
