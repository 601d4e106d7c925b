"""The SCPI driver base: one class for any VISA resource or injected adapter.

:class:`ScpiInstrument` gives every driver IEEE 488.2 common commands (``*IDN? *RST *CLS
*OPC?``), an error queue that is read after every setting and raised as
:class:`~optics.errors.ScpiError` (never swallowed), typed transport errors (from the adapter),
per-instance safety limits checked before anything is sent, status polling with a
timeout, and recovery from a dropped connection (:meth:`ScpiInstrument.reconnect`, optionally
automatic).  :class:`Channel` addresses a slot/port/lane/location of its parent.

Errors after measurements
-------------------------
An instrument may queue an error *with* a reading (a power meter's -230 "Data corrupt or
stale", an overload, a settings conflict found at the trigger) and still answer a number.
So the error queue is also read after every **measurement query** -- a query with a SCPI
measurement instruction, ``MEASure``, ``READ`` or ``FETCh`` (SCPI-99 Vol. 1 §3), as a node of
its header (``:READ1:POW?``, ``:MEASure:EYE:TDEQ?``, ``:PLUG:ERAT:FETC:DATA?``; see
:data:`MEASUREMENT_QUERY`), or a read-only property declared with
:func:`~instruments.scpi.properties.measurement` -- and an error raises
:class:`~optics.errors.ScpiError` naming the query, every error read and the discarded
reply.  That costs one ``:SYST:ERR?`` round trip per reading.  It is on by default;
:attr:`ScpiInstrument.CHECK_ERRORS_AFTER_MEASUREMENTS` switches it per driver (False for an
instrument without an error queue) and ``check_measurement_errors=`` per instance.

Reconnecting
------------
When the instrument drops the TCP connection (reboot, network fault, its own idle timeout)
every command raises :class:`~optics.errors.ConnectionLost`.  :meth:`ScpiInstrument.reconnect`
opens a new session on the same resource with the same settings, keeps the driver object
(its channels, safety limits, options), forgets the settings pinned per session (they are
sent again before the next reading), and reads ``*IDN?``: a different instrument (vendor,
model or serial) at that address raises :class:`~optics.errors.WrongInstrument` and closes
the session.

With ``reconnect_attempts = n > 0`` this happens automatically, under one rule: **a command
is repeated only if none of it was sent**, i.e. the dropped connection was noticed before the
command went out (``ConnectionLost.command_sent is False``), and only on a driver that keeps
no settings pinned per session (see :attr:`ScpiInstrument.RETRY_AFTER_RECONNECT`).  A
command that had been sent -- a query whose reply was lost, a setting that may or may not
have arrived -- is never repeated, since its effect is unknown: the session is reopened and
``ConnectionLost`` raised, saying so; the caller decides whether to repeat it.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from instruments.scpi import replies
from instruments.scpi.adapters import Adapter, VisaAdapter
from optics.errors import (
    ConnectionLost,
    InstrumentError,
    InvalidParameter,
    InvalidType,
    SafetyLimitError,
    ScpiError,
    WrongInstrument,
)

#: Most error-queue entries read in one :meth:`ScpiInstrument.check_errors` call.
MAX_ERROR_READS = 32

#: Commands that return an instrument to its default state (units, formats...).
_RESET_COMMAND = re.compile(r"(^|;)\s*(\*RST|:?SYST(EM)?:PRES(ET)?)\b", re.IGNORECASE)

#: A query with a SCPI measurement instruction (SCPI-99 Vol. 1 §3: MEASure?, READ?, FETCh?)
#: as a node of its header, short or long form, with an optional numeric suffix:
#: ``:READ1:POW?``, ``MEAS:VOLT? (@1)``, ``:MEASure:EYE:TDEQ?``, ``:PLUG:ERAT:FETC:DATA? 'E1'``.
MEASUREMENT_QUERY = re.compile(
    r"^\s*:?(?:[A-Z][A-Z0-9]*:)*(?:MEAS(?:URE)?|READ|FETCH?)\d*(?::[A-Z][A-Z0-9]*)*\?", re.IGNORECASE
)


class _Sink:
    """What a property descriptor needs from its owner (instrument or channel)."""

    context: Mapping[str, Any]

    @property
    def resource_name(self) -> str:  # pragma: no cover - overridden
        """The resource string (or adapter name) errors refer to."""
        raise NotImplementedError

    def write(self, command: str) -> None:  # pragma: no cover - overridden
        """Send one command as is."""
        raise NotImplementedError

    def ask(self, command: str) -> str:  # pragma: no cover - overridden
        """Send a query and return the reply text (line end stripped)."""
        raise NotImplementedError

    def check_errors(self, command: str | None = None) -> None:  # pragma: no cover
        """Read the instrument's error queue; raise :class:`ScpiError` if it holds errors."""
        raise NotImplementedError

    def check_safety(self, key: str, value: float) -> None:  # pragma: no cover
        """Raise :class:`SafetyLimitError` if ``value`` breaks the configured limit ``key``."""
        raise NotImplementedError

    def ask_measurement(self, command: str) -> str:  # pragma: no cover - overridden
        """Send a measurement query, read the error queue, return the reply (see :meth:`ask`)."""
        raise NotImplementedError

    def ask_float(self, command: str) -> float:
        """Send a query and parse one number (invalid markers raise ``MeasurementInvalid``)."""
        return replies.parse_float(self.ask(command), command=command, resource=self.resource_name)

    def ask_int(self, command: str) -> int:
        """Send a query and parse one integer."""
        return replies.parse_int(self.ask(command), command=command, resource=self.resource_name)

    def ask_bool(self, command: str) -> bool:
        """Send a query and parse ``0/1/ON/OFF``."""
        return replies.parse_bool(self.ask(command), command=command, resource=self.resource_name)

    def write_checked(self, command: str) -> None:
        """Send a setting and read the error queue (raises :class:`ScpiError`)."""
        self.write(command)
        self.check_errors(command)


class ScpiInstrument(_Sink):
    """Base class of every SCPI driver.

    Parameters
    ----------
    resource : str or Adapter
        A VISA resource string (``"TCPIP::10.0.0.5::5025::SOCKET"``,
        ``"TCPIP::10.0.0.5::hislip0::INSTR"``) opened through pyvisa, or an :class:`Adapter`
        (e.g. :class:`~instruments.scpi.protocol.ProtocolAdapter` in protocol tests).
    timeout_s : float
        I/O and connect timeout in s (resource strings only).
    visa_library : str
        pyvisa backend, default ``"@py"`` (pyvisa-py).
    read_termination, write_termination : str
        Line ends, default ``"\\n"`` (required by raw SOCKET sessions).
    safety_limits : mapping, optional
        Per-instance limits, keys from the class's ``SAFETY_LIMITS`` (e.g.
        ``{"voltage_v": 3.6}``).  A setting beyond a limit raises
        :class:`~optics.errors.SafetyLimitError` before anything is sent.
    check_errors : bool
        Read the error queue after each setting and measurement (default True; switch off
        only for speed on a trusted, scripted sequence).
    check_measurement_errors : bool, optional
        Read the error queue after each measurement query too (see the module docstring);
        default :attr:`CHECK_ERRORS_AFTER_MEASUREMENTS` of the driver class.  Has no effect
        with ``check_errors=False``.
    poll_interval_s : float
        Pause between status polls (:meth:`poll`).
    reconnect_attempts : int
        0 (default): a dropped connection raises ``ConnectionLost`` until :meth:`reconnect`
        is called.  ``n > 0``: reconnect automatically, at most ``n`` times per command, and
        repeat the command only if none of it had been sent (see the module docstring);
        ``*IDN?`` is then read at construction so that a reconnect can check the identity.
    open_check : bool
        Fail at construction, not at the first command: check the connection and read
        ``*IDN?`` now (default False: construction sends nothing).
    **visa_kwargs
        Further pyvisa resource attributes (``chunk_size``...); with an injected adapter any
        extra keyword is a typo and raises :class:`~optics.errors.InvalidType`.

    Raises
    ------
    ConnectionLost, InstrumentTimeout
        The resource cannot be opened (with ``open_check`` or ``reconnect_attempts``: also
        a refused connection or no ``*IDN?`` answer; ``GarbledReply`` for a malformed one).
    InvalidParameter
        Unknown safety-limit key or non-finite limit; ``reconnect_attempts`` not an
        integer in 0..100.
    InvalidType
        ``check_measurement_errors`` neither a bool nor None.

    Examples
    --------
    >>> opm = N7744A("TCPIP::10.0.0.7::5025::SOCKET", open_check=True)   # doctest: +SKIP
    >>> try:                                                             # doctest: +SKIP
    ...     p = opm.port(1).power_w
    ... except ConnectionLost:
    ...     opm.reconnect()            # same driver, channels and limits; identity checked
    ...     p = opm.port(1).power_w    # the W unit is pinned again first
    """

    #: Query reading one error-queue entry.
    ERROR_QUERY = ":SYST:ERR?"
    #: Read the error queue after every measurement query (module docstring).  A driver for
    #: an instrument without an error queue sets this False; ``check_measurement_errors=``
    #: overrides it per instance.
    CHECK_ERRORS_AFTER_MEASUREMENTS: bool = True
    #: Which queries are measurement queries (matched against the whole command).
    MEASUREMENT_QUERY: re.Pattern[str] = MEASUREMENT_QUERY
    #: Whether an automatic reconnect may repeat a command that was not sent.  ``None``
    #: (default): yes, unless the driver overrides :meth:`forget_pinned_state` -- such a
    #: driver checked its pinned settings (unit, reading format) *before* the command, and
    #: the new session lacks them (a setpoint or reading would be in the instrument's default
    #: unit), so the command is not repeated and the driver call must be repeated instead.
    #: A driver whose commands never depend on pinned state may set this to True.
    RETRY_AFTER_RECONNECT: bool | None = None
    #: Most automatic reconnects per command.
    MAX_RECONNECT_ATTEMPTS = 100
    #: Safety limits this driver understands: key -> (unit, "max" | "min" | "abs_max").
    SAFETY_LIMITS: Mapping[str, tuple[str, str]] = {}

    def __init__(
        self,
        resource: str | Adapter,
        *,
        timeout_s: float = 5.0,
        visa_library: str = "@py",
        read_termination: str = "\n",
        write_termination: str = "\n",
        safety_limits: Mapping[str, float] | None = None,
        check_errors: bool = True,
        check_measurement_errors: bool | None = None,
        poll_interval_s: float = 0.2,
        reconnect_attempts: int = 0,
        open_check: bool = False,
        **visa_kwargs: Any,
    ) -> None:
        self.safety_limits = self._validated_limits(safety_limits or {})
        if check_measurement_errors is None:
            check_measurement_errors = bool(self.CHECK_ERRORS_AFTER_MEASUREMENTS)
        if not isinstance(check_measurement_errors, (bool, np.bool_)):
            raise InvalidType(
                f"check_measurement_errors = {check_measurement_errors!r} must be True, False or None (the driver's default)"
            )
        #: Read the error queue after each measurement query (with :attr:`error_checking`).
        self.measurement_error_checking = bool(check_measurement_errors)
        if (
            isinstance(reconnect_attempts, bool)
            or not isinstance(reconnect_attempts, (int, np.integer))
            or not 0 <= reconnect_attempts <= self.MAX_RECONNECT_ATTEMPTS
        ):
            raise InvalidParameter(
                f"reconnect_attempts = {reconnect_attempts!r} must be an integer in 0..{self.MAX_RECONNECT_ATTEMPTS}"
            )
        self.reconnect_attempts = int(reconnect_attempts)
        self._identity: replies.Identity | None = None
        own_adapter = isinstance(resource, str)
        if isinstance(resource, str):
            self.adapter: Adapter = VisaAdapter(
                resource,
                visa_library=visa_library,
                timeout_s=timeout_s,
                read_termination=read_termination,
                write_termination=write_termination,
                **visa_kwargs,
            )
        elif isinstance(resource, Adapter):
            if visa_kwargs:
                raise InvalidType(f"unexpected keyword argument(s) {sorted(visa_kwargs)} for {type(self).__name__}")
            self.adapter = resource
        else:
            raise InvalidType(f"resource must be a VISA resource string or an Adapter, got {type(resource).__name__}")
        self.context: Mapping[str, Any] = {}
        self.error_checking = bool(check_errors)
        self.poll_interval_s = float(poll_interval_s)
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic
        if open_check or self.reconnect_attempts:
            try:
                check = getattr(self.adapter, "check_connected", None)
                if check is not None:
                    check()
                self._identity = self._read_identity()
            except BaseException:
                if own_adapter:
                    self.adapter.close()
                raise

    def _validated_limits(self, limits: Mapping[str, float]) -> dict[str, float]:
        out = {}
        for key, value in limits.items():
            if key not in self.SAFETY_LIMITS:
                allowed = ", ".join(sorted(self.SAFETY_LIMITS)) or "none"
                raise InvalidParameter(f"unknown safety limit {key!r} for {type(self).__name__}; allowed: {allowed}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidParameter(f"safety limit {key} must be a finite number, got {value!r}")
            out[key] = float(value)
        return out

    # --- transport ---------------------------------------------------------------------
    @property
    def resource_name(self) -> str:
        """The resource string (or adapter name) errors refer to."""
        return self.adapter.resource_name

    def write(self, command: str) -> None:
        """Send one command as is.

        A reset (``*RST``, ``:SYSTem:PRESet``) first calls :meth:`forget_pinned_state`, so
        settings a driver pinned once (power unit, reading format) are sent again.
        """
        if _RESET_COMMAND.search(command):
            self.forget_pinned_state()
        self._transact(command, lambda: self.adapter.write(command))

    def forget_pinned_state(self) -> None:
        """Forget settings pinned once per session (called on every reset).

        Drivers that send a setting only before their first reading (a power unit, the
        reading elements) override this to clear their "already pinned" flags, because a
        reset returns the instrument to its defaults (e.g. dBm instead of W).
        """

    def ask(self, command: str) -> str:
        """Send a query and return the reply text (line end stripped).

        After a measurement query (:attr:`MEASUREMENT_QUERY`) the error queue is read before
        the reply is returned (see :meth:`ask_measurement`).
        """
        if self.is_measurement_query(command):
            return self.ask_measurement(command)
        return self._transact(command, lambda: self.adapter.query(command))

    def ask_measurement(self, command: str) -> str:
        """Send a measurement query, read the error queue, then return the reply.

        The queue is read (:meth:`check_errors`) unless :attr:`measurement_error_checking`
        or :attr:`error_checking` is off.

        Raises
        ------
        ScpiError
            The queue held errors: ``code`` of the first, the message lists them all and the
            reply that was discarded, ``command`` is the query.
        """
        reply = self._transact(command, lambda: self.adapter.query(command))
        self._check_after_measurement(command, f"the reply {reply.strip()!r}")
        return reply

    def ask_block(self, command: str) -> bytes:
        """Send a query answered by an IEEE 488.2 block; return the payload bytes.

        After a measurement query the error queue is read too, as in :meth:`ask_measurement`.
        """
        payload = self._transact(command, lambda: self.adapter.query_block(command))
        if self.is_measurement_query(command):
            self._check_after_measurement(command, f"the {len(payload)}-byte block")
        return payload

    def is_measurement_query(self, command: str) -> bool:
        """True if ``command`` is a measurement query (:attr:`MEASUREMENT_QUERY`), not the error query."""
        return command != self.ERROR_QUERY and self.MEASUREMENT_QUERY.match(command) is not None

    def _check_after_measurement(self, command: str, reply: str) -> None:
        if not (self.measurement_error_checking and self.error_checking):
            return
        try:
            self.check_errors(command)
        except ScpiError as exc:
            raise ScpiError(exc.code, f"{exc.message}; {reply} was discarded", command) from None

    def ask_block_values(self, command: str, datatype: str = "f", *, big_endian: bool = False) -> np.ndarray:
        """Read a binary block and interpret it (``"f"`` = float32, ``"d"`` = float64...)."""
        payload = self.ask_block(command)
        return replies.block_values(payload, datatype, big_endian=big_endian, command=command, resource=self.resource_name)

    def close(self) -> None:
        """Close the transport (:meth:`reconnect` can open it again)."""
        self.adapter.close()

    # --- reconnecting ------------------------------------------------------------------
    @property
    def last_identity(self) -> replies.Identity | None:
        """The identity :meth:`reconnect` checks against: the first ``*IDN?`` read (or None)."""
        return self._identity

    def on_new_session(self) -> None:
        """Prepare a freshly opened session before its identity is read (default: nothing).

        Drivers whose instrument needs a login or a mode selection on every new connection
        override this; :meth:`reconnect` calls it right after opening the session.
        """

    def reconnect(self, timeout_s: float | None = None) -> replies.Identity:
        """Reopen the connection to the same instrument and return its identity.

        Closes the old session (errors from a dead socket are ignored), opens a new one on
        the same resource with the same settings (backend, I/O timeout, terminations),
        calls :meth:`forget_pinned_state` (an instrument that rebooted is back at its
        defaults: pinned units are sent again before the next reading) and
        :meth:`on_new_session`, then reads ``*IDN?`` and compares vendor, model and serial
        number with :attr:`last_identity` (firmware may differ).  The driver object, its
        channels, safety limits and options stay as they are.

        If no identity was read before (no ``open_check``, ``reconnect_attempts`` or
        :attr:`idn`), there is nothing to compare: the identity found is recorded and
        returned; check it yourself.

        Parameters
        ----------
        timeout_s : float, optional
            How long to keep trying to connect, in s (default: the I/O timeout).  The
            ``*IDN?`` check then has the I/O timeout.

        Returns
        -------
        Identity
            The identity of the instrument now connected.

        Raises
        ------
        WrongInstrument
            A different instrument answers; the message and the ``expected``/``found``
            attributes give both ``*IDN?`` replies.  The session is closed again, nothing
            else was sent.
        ConnectionLost
            No connection within ``timeout_s``, or no valid ``*IDN?`` reply on the new
            session; names the resource.  The session is left closed.
        """
        self.adapter.reopen(timeout_s)
        self.forget_pinned_state()
        try:
            self.on_new_session()
            found = self._read_identity()
        except ConnectionLost:
            self.adapter.close()
            raise
        except InstrumentError as exc:
            self.adapter.close()
            raise ConnectionLost(
                f"{self.resource_name}: reconnected, but the identity check failed "
                f"({type(exc).__name__}: {exc}); the session was closed"
            ) from None
        expected = self._identity
        if expected is None:
            self._identity = found
            return found
        if _identity_key(found) != _identity_key(expected):
            self.adapter.close()
            raise WrongInstrument(
                f"{self.resource_name}: after reconnecting, a different instrument answers: expected "
                f"{expected.raw!r}, found {found.raw!r} (vendor, model and serial must match); "
                "the session was closed and nothing else was sent",
                expected=expected.raw,
                found=found.raw,
            )
        return found

    def _read_identity(self) -> replies.Identity:
        """Ask ``*IDN?`` straight through the adapter (no automatic reconnect)."""
        return replies.parse_idn(self.adapter.query("*IDN?"), resource=self.resource_name)

    def _retry_is_safe(self) -> bool:
        if self.RETRY_AFTER_RECONNECT is not None:
            return bool(self.RETRY_AFTER_RECONNECT)
        return type(self).forget_pinned_state is ScpiInstrument.forget_pinned_state

    def _transact(self, command: str, operation: Callable[[], Any]) -> Any:
        """Run one adapter operation; after a dropped connection apply the reconnect rule."""
        try:
            return operation()
        except WrongInstrument:
            raise
        except ConnectionLost as exc:
            if not getattr(self.adapter, "reopenable", False):
                raise
            if not self.reconnect_attempts:
                raise _lost(exc, "call reconnect() to open a new session to the same instrument") from None
            return self._recover(command, operation, exc)

    def _recover(self, command: str, operation: Callable[[], Any], lost: ConnectionLost) -> Any:
        """Reconnect up to ``reconnect_attempts`` times; repeat ``operation`` only if safe."""
        failure: ConnectionLost | None = None
        for _ in range(self.reconnect_attempts):
            try:
                self.reconnect()
            except WrongInstrument:
                raise
            except ConnectionLost as exc:
                failure = exc
                continue
            failure = None
            if lost.command_sent is not False:
                raise _lost(
                    lost,
                    f"{command!r} had been sent, so its effect is unknown and it was NOT repeated; "
                    "the session was reopened to the same instrument: repeat it if that is safe",
                ) from None
            if not self._retry_is_safe():
                raise _lost(
                    lost,
                    f"the session was reopened to the same instrument, but {command!r} was not repeated "
                    f"because {type(self).__name__} pins settings per session (units, formats) that the new "
                    "session lacks; repeat the driver call, which sends them again",
                ) from None
            try:
                return operation()
            except WrongInstrument:
                raise
            except ConnectionLost as again:
                lost = again  # dropped again: the next attempt applies the same rule
        sent = (
            "had been sent (not repeated: its effect is unknown)"
            if lost.command_sent is not False
            else "was not sent"
        )
        raise _lost(
            lost,
            f"{command!r} {sent}; {self.reconnect_attempts} automatic reconnect attempt(s) did not restore the connection"
            + (f", last: {failure}" if failure is not None else "")
            + "; call reconnect() to try again",
        ) from None

    @contextlib.contextmanager
    def io_timeout(self, timeout_s: float) -> Iterator[None]:
        """Use an I/O timeout of ``timeout_s`` inside the block (e.g. around a long ``*OPC?``)."""
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s < 1e6:
            raise InvalidParameter(f"timeout_s = {timeout_s!r} must be a number in (0, 1e6) s")
        previous = self.adapter.timeout_s
        self.adapter.set_timeout(timeout_s)
        try:
            yield
        finally:
            self.adapter.set_timeout(previous)

    def shutdown(self) -> None:
        """Bring the instrument to a safe state (outputs off...).  Drivers override this."""

    @staticmethod
    def _attempt_all(steps: Iterator[Callable[[], None]] | list[Callable[[], None]]) -> None:
        """Run every step even if some fail, then re-raise the first failure.

        For shutdowns: an error on one output must not leave the other outputs on.
        """
        first: BaseException | None = None
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the other steps
                if first is None:
                    first = exc
        if first is not None:
            raise first

    def __enter__(self) -> ScpiInstrument:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.shutdown()
        finally:
            self.close()

    # --- IEEE 488.2 common commands ----------------------------------------------------
    @property
    def idn(self) -> replies.Identity:
        """Get the identity (``*IDN?``) as vendor, model, serial, firmware.

        The first identity read is kept as :attr:`last_identity` for :meth:`reconnect`.
        """
        identity = replies.parse_idn(self.ask("*IDN?"), resource=self.resource_name)
        if getattr(self, "_identity", None) is None:
            self._identity = identity
        return identity

    def reset(self) -> None:
        """Reset to the power-on state (``*RST``), then read the error queue."""
        self.write_checked("*RST")

    def clear_status(self) -> None:
        """Clear status registers and the error queue (``*CLS``)."""
        self.write("*CLS")

    def wait_complete(self) -> None:
        """Block until pending operations finish (``*OPC?`` answers 1)."""
        reply = self.ask("*OPC?")
        if replies.parse_int(reply, command="*OPC?", resource=self.resource_name) != 1:
            raise replies.GarbledReply(f"*OPC? answered {reply!r}, expected 1 (from {self.resource_name})")

    # --- error queue -------------------------------------------------------------------
    def check_errors(self, command: str | None = None) -> None:
        """Read the error queue until empty; raise :class:`ScpiError` for the first error.

        All queued errors are read (so the queue is left empty) and listed in the message.

        Raises
        ------
        ScpiError
            ``code``, ``message`` of the first error, ``command`` = the command just sent.
        """
        if not self.error_checking:
            return
        errors: list[tuple[int, str]] = []
        for _ in range(MAX_ERROR_READS):
            code, message = replies.parse_error(self.ask(self.ERROR_QUERY), resource=self.resource_name)
            if code == 0:
                break
            errors.append((code, message))
        if errors:
            code, message = errors[0]
            if len(errors) > 1:
                message += " (then: " + "; ".join(f"{c},{m}" for c, m in errors[1:]) + ")"
            raise ScpiError(code, f"{message} [{self.resource_name}]", command)

    # --- safety ------------------------------------------------------------------------
    def check_safety(self, key: str, value: float) -> None:
        """Refuse ``value`` if it breaks the configured limit ``key`` (nothing is sent).

        Raises
        ------
        SafetyLimitError
            Naming the setting, the value, the limit and the resource.
        """
        if key not in self.SAFETY_LIMITS:
            raise InvalidParameter(f"{type(self).__name__} has no safety limit {key!r}")
        limit = self.safety_limits.get(key)
        if limit is None:
            return
        unit, sense = self.SAFETY_LIMITS[key]
        broken = (
            (sense == "max" and value > limit)
            or (sense == "min" and value < limit)
            or (sense == "abs_max" and abs(value) > limit)
        )
        if broken:
            word = {"max": "above the maximum", "min": "below the minimum", "abs_max": "beyond the magnitude limit"}[sense]
            raise SafetyLimitError(
                f"{self.resource_name}: {key} = {value:g} {unit} is {word} {limit:g} {unit} "
                "configured for this instrument; nothing was sent"
            )

    # --- polling -----------------------------------------------------------------------
    def poll(self, read: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float) -> tuple[bool, Any]:
        """Call ``read()`` until ``done(value)`` or ``timeout_s`` elapses.

        Returns ``(True, value)`` when done, ``(False, last_value)`` on timeout (the caller
        raises the error that fits).  At least one read is always made.
        """
        deadline = self._clock() + timeout_s
        while True:
            value = read()
            if done(value):
                return True, value
            if self._clock() >= deadline:
                return False, value
            self._sleep(self.poll_interval_s)


def _identity_key(identity: replies.Identity) -> tuple[str, str, str]:
    return identity.vendor.strip(), identity.model.strip(), identity.serial.strip()


def _lost(exc: ConnectionLost, advice: str) -> ConnectionLost:
    """A ``ConnectionLost`` with ``advice`` appended, keeping ``command_sent``."""
    out = ConnectionLost(f"{exc}; {advice}")
    out.command_sent = exc.command_sent
    return out


class Channel(_Sink):
    """A slot, port, lane or location of a parent instrument.

    ``ids`` (e.g. ``slot=1, ch=2``) extend the parent's ``context`` and fill the command
    templates of the channel's properties.
    """

    def __init__(self, parent: ScpiInstrument, **ids: Any) -> None:
        self.parent = parent
        self.context = {**parent.context, **ids}

    @property
    def resource_name(self) -> str:
        return self.parent.resource_name

    def write(self, command: str) -> None:
        self.parent.write(command)

    def ask(self, command: str) -> str:
        return self.parent.ask(command)

    def ask_measurement(self, command: str) -> str:
        return self.parent.ask_measurement(command)

    def check_errors(self, command: str | None = None) -> None:
        self.parent.check_errors(command)

    def check_safety(self, key: str, value: float) -> None:
        self.parent.check_safety(key, value)

    def __repr__(self) -> str:
        ids = ", ".join(f"{k}={v!r}" for k, v in self.context.items())
        return f"{type(self).__name__}({ids}) of {self.resource_name}"


__all__ = ["Channel", "MAX_ERROR_READS", "MEASUREMENT_QUERY", "ScpiInstrument"]
