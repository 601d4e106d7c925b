"""Transports under a driver: a pyvisa session, or anything with the same four methods.

A driver never touches pyvisa itself; it talks to an :class:`Adapter`.  :class:`VisaAdapter`
opens any VISA resource string (default backend ``"@py"`` = pyvisa-py, so
``TCPIP::host::5025::SOCKET``, ``TCPIP::host::INSTR`` (VXI-11) and
``TCPIP::host::hislip0::INSTR`` work without vendor VISA) and translates transport faults
into the toolkit's errors:

* no reply within the timeout -> :class:`~optics.errors.InstrumentTimeout` naming the resource;
* refused, reset or dropped connection, unknown resource -> :class:`~optics.errors.ConnectionLost`
  naming the resource.

After a timeout or a malformed reply the stream may still hold (or later receive) the rest of
that reply; the adapter then discards pending input -- right away and again before the next
command -- so the next query is not answered with a stale reply.  On a raw socket this is a
drain of the receive buffer (which also notices a connection the instrument closed) followed,
before the next command, by an ``*OPC?`` marker exchange that discards every line before the
marker's ``1`` (a reply still owed arrives first, since instruments answer in order); on other
sessions (VXI-11, HiSLIP, GPIB, USB) it is a VISA device clear.

Before each command on a raw socket the adapter also checks, without blocking, whether the
instrument has closed the connection; if so it raises ``ConnectionLost`` with
``command_sent = False`` (nothing of that command went out), which tells a driver that
repeating the command on a new session is safe.  :meth:`VisaAdapter.reopen` opens that new
session on the same resource with the same settings.

On raw ``::SOCKET`` sessions the adapter switches Nagle's algorithm off (``TCP_NODELAY``) when
it opens and reopens a session.  A checked setting is two small writes (the setting, then
``:SYST:ERR?``); with Nagle on, the second waits for the delayed ACK of the first (about 40 ms
on Linux), as on any LAN instrument.  See :meth:`VisaAdapter.apply_tcp_nodelay`.

The protocol-test adapter lives in :mod:`instruments.scpi.protocol`.
"""

from __future__ import annotations

import abc

import functools
import os
import select
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from optics.errors import ConnectionLost, GarbledReply, InstrumentError, InstrumentTimeout, InvalidParameter

F = TypeVar("F", bound=Callable[..., Any])


class Adapter(abc.ABC):
    """Interface every transport offers to a driver.

    Attributes
    ----------
    resource_name : str
        What errors name (a VISA resource string, ``"protocol-test"``, an I2C bus...).
    """

    resource_name: str = "<adapter>"
    timeout_s: float = 5.0
    #: Whether :meth:`reopen` can open a new session (False: it raises ``ConnectionLost``).
    reopenable: bool = False

    def set_timeout(self, timeout_s: float) -> None:
        """Change the I/O timeout in s (for long operations such as a ``*OPC?`` wait)."""
        self.timeout_s = float(timeout_s)

    @abc.abstractmethod
    def write(self, command: str) -> None:
        """Send one command (the transport adds its line end)."""

    @abc.abstractmethod
    def read(self) -> str:
        """Read one reply line, without its line end."""

    def query(self, command: str) -> str:
        """Send ``command`` and read its reply."""
        self.write(command)
        return self.read()

    @abc.abstractmethod
    def query_block(self, command: str) -> bytes:
        """Send ``command`` and read an IEEE 488.2 definite-length block; return its payload."""

    def close(self) -> None:
        """Release the transport (idempotent)."""

    def reopen(self, timeout_s: float | None = None) -> None:
        """Close the session and open a new one to the same resource.

        Raises
        ------
        ConnectionLost
            Always here: this transport cannot reopen (see :attr:`reopenable`).
        """
        raise ConnectionLost(f"{self.resource_name}: a {type(self).__name__} cannot reopen its connection")


def _translate(method: F) -> F:
    """Map transport faults to typed errors; mark a ``ConnectionLost`` with ``command_sent``."""

    @functools.wraps(method)
    def wrapper(self: VisaAdapter, *args: Any, **kwargs: Any) -> Any:
        self._command_sent = False
        try:
            return _typed(self, *args, **kwargs)
        except ConnectionLost as exc:
            if exc.command_sent is None:
                exc.command_sent = self._command_sent
            raise

    def _typed(self: VisaAdapter, *args: Any, **kwargs: Any) -> Any:
        import pyvisa

        what = f" during {args[0]!r}" if args and isinstance(args[0], str) else ""
        try:
            return method(self, *args, **kwargs)
        except GarbledReply:
            self._desynchronised(what)
            raise
        except InstrumentError:  # already typed (e.g. ConnectionLost from a resync): pass it on
            raise
        except pyvisa.errors.VisaIOError as exc:
            if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                self._desynchronised(what)
                raise InstrumentTimeout(
                    f"{self.resource_name}: no reply within {self.timeout_s:g} s{what}"
                ) from None
            raise ConnectionLost(f"{self.resource_name}: VISA I/O error{what}: {exc.description}") from None
        except pyvisa.errors.InvalidSession:
            raise ConnectionLost(f"{self.resource_name}: session is closed{what}") from None
        except UnicodeDecodeError as exc:
            self._desynchronised(what)
            raise GarbledReply(f"{self.resource_name}: reply is not text{what}: {exc}") from None
        except (pyvisa.errors.InvalidBinaryFormat, ValueError) as exc:
            self._desynchronised(what)
            raise GarbledReply(f"{self.resource_name}: malformed reply{what}: {exc}") from None
        except TimeoutError:
            self._desynchronised(what)
            raise InstrumentTimeout(f"{self.resource_name}: no reply within {self.timeout_s:g} s{what}") from None
        except OSError as exc:
            raise ConnectionLost(f"{self.resource_name}: connection failed{what}: {exc}") from None

    return wrapper  # type: ignore[return-value]


def _positive_timeout(timeout_s: Any, name: str = "timeout_s") -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s < 1e6:
        raise InvalidParameter(f"{name} = {timeout_s!r} must be a number in (0, 1e6) s")
    return float(timeout_s)


class VisaAdapter(Adapter):
    """A pyvisa session behind the :class:`Adapter` interface.

    Parameters
    ----------
    resource_name : str
        VISA resource string, e.g. ``"TCPIP::192.168.1.20::5025::SOCKET"``.
    visa_library : str
        pyvisa backend; ``"@py"`` (pyvisa-py, default) needs no vendor VISA.
    timeout_s : float
        I/O timeout in s, also used as the open (connect) timeout.
    read_termination, write_termination : str
        Line ends.  Raw SOCKET sessions *need* ``"\\n"`` for both (there is no END message);
        keep them set for binary blocks too (pyvisa reads a block to its declared length).
    tcp_nodelay : bool
        Switch Nagle's algorithm off on raw TCPIP ``::SOCKET`` sessions (default True; see
        :meth:`apply_tcp_nodelay`).  Other session types are not affected.

    Raises
    ------
    ConnectionLost
        The resource cannot be opened (unknown host or resource).  pyvisa-py opens a raw
        SOCKET session even when the connection is refused; that shows at the first command,
        or at once with :meth:`check_connected`.
    """

    reopenable = True
    #: Pause in s between connection attempts of :meth:`reopen` (a refused connect returns at once).
    REOPEN_PAUSE_S = 0.1

    def __init__(
        self,
        resource_name: str,
        *,
        visa_library: str = "@py",
        timeout_s: float = 5.0,
        read_termination: str = "\n",
        write_termination: str = "\n",
        tcp_nodelay: bool = True,
        **visa_kwargs: Any,
    ) -> None:
        import pyvisa

        self.resource_name = resource_name
        self.timeout_s = float(timeout_s)
        self.visa_library = visa_library
        self.read_termination = read_termination
        self.write_termination = write_termination
        self._visa_kwargs = dict(visa_kwargs)
        self.tcp_nodelay = bool(tcp_nodelay)
        self._session = None
        self._stale_input = False
        self._command_sent = False
        try:
            self._rm = pyvisa.ResourceManager(visa_library)
            self._session = self._open_session(self.timeout_s)
            self.apply_tcp_nodelay()
        except pyvisa.errors.VisaIOError as exc:
            if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                raise InstrumentTimeout(f"{resource_name}: no connection within {self.timeout_s:g} s") from None
            raise ConnectionLost(f"{resource_name}: cannot open resource: {exc.description}") from None
        except OSError as exc:
            raise ConnectionLost(f"{resource_name}: cannot open resource: {exc}") from None
        except (ValueError, pyvisa.errors.Error) as exc:
            raise InstrumentError(f"{resource_name}: cannot open resource: {exc}") from None

    def _open_session(self, open_timeout_s: float) -> Any:
        """Open a pyvisa session on the resource with the stored settings."""
        return self._rm.open_resource(
            self.resource_name,
            open_timeout=max(1, int(open_timeout_s * 1000)),
            timeout=int(self.timeout_s * 1000),
            read_termination=self.read_termination,
            write_termination=self.write_termination,
            **self._visa_kwargs,
        )

    def set_timeout(self, timeout_s: float) -> None:
        self.timeout_s = float(timeout_s)
        if self._session is not None:
            self._session.timeout = int(self.timeout_s * 1000)

    # --- TCP options ----------------------------------------------------------------------
    def apply_tcp_nodelay(self) -> bool:
        """Switch Nagle's algorithm off on a raw TCPIP ``::SOCKET`` session (if :attr:`tcp_nodelay`).

        Called when a session is opened and by :meth:`reopen`.  First through VISA
        (``VI_ATTR_TCPIP_NODELAY``); pyvisa-py 0.8.1 lists that attribute for SOCKET sessions
        and reads it, but its setter is not wired (``set_visa_attribute`` raises
        ``UnknownAttribute``), so when the attribute does not read back as set, the option is
        set on the session's socket -- the only place the adapter reaches below pyvisa for
        this (:meth:`_raw_socket`, also used for draining input).

        Returns
        -------
        bool
            True if ``TCP_NODELAY`` is now on; False for other session types (VXI-11,
            HiSLIP, GPIB...: nothing changed), with :attr:`tcp_nodelay` False, or when
            neither way works (the session still works, only slower).
        """
        if not self.tcp_nodelay or self._session is None:
            return False
        _, sock = self._raw_socket()
        if sock is None:
            return False
        import pyvisa

        try:
            self._session.set_visa_attribute(pyvisa.constants.VI_ATTR_TCPIP_NODELAY, True)
        except Exception:  # noqa: BLE001 - pyvisa-py 0.8: setter not wired; fall back to the socket
            pass
        if self.tcp_nodelay_active():
            return True
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            return False
        return self.tcp_nodelay_active()

    def tcp_nodelay_active(self) -> bool:
        """True if the session is a raw socket with ``TCP_NODELAY`` set."""
        _, sock = self._raw_socket()
        if sock is None:
            return False
        try:
            return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        except OSError:
            return False

    # --- connection state ---------------------------------------------------------------
    def check_connected(self) -> None:
        """Raise unless the session is open and (raw socket) the TCP connection is established.

        pyvisa-py reports a raw SOCKET session as opened even when the connection was
        refused; this check finds that at once.  Other session types are only checked for
        being open (their open already connects).

        Raises
        ------
        ConnectionLost
            Naming the resource: session closed, connection refused or not established,
            or already closed by the instrument.
        """
        self._require()
        _, sock = self._raw_socket()
        if sock is None:
            return
        try:
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error))
            sock.getpeername()
        except (OSError, ValueError) as exc:
            raise ConnectionLost(f"{self.resource_name}: not connected: {exc}") from None
        self._check_alive(None)

    def _check_alive(self, command: str | None) -> None:
        """Raise ``ConnectionLost(command_sent=False)`` if the instrument closed the socket.

        Non-blocking (a zero-timeout ``select`` and, only if input is pending, a peek).
        Pending input that is data (not end of stream) is left for the reader.
        """
        _, sock = self._raw_socket()
        if sock is None:
            return
        before = f" before {command!r} was sent" if command is not None else ""
        try:
            ready, _, _ = select.select([sock], [], [], 0)
            if not ready:
                return
            data = sock.recv(1, socket.MSG_PEEK)
        except (OSError, ValueError) as exc:
            lost = ConnectionLost(f"{self.resource_name}: connection failed{before}: {exc}")
        else:
            if data:
                return
            lost = ConnectionLost(f"{self.resource_name}: the instrument closed the connection{before}")
        self._stale_input = True
        lost.command_sent = False
        raise lost

    def reopen(self, timeout_s: float | None = None) -> None:
        """Close the session (ignoring errors from a dead socket) and open a new one.

        The new session is on the same resource with the same backend, I/O timeout and
        terminations.  Connection attempts repeat (pause :attr:`REOPEN_PAUSE_S`) until one
        succeeds or ``timeout_s`` has elapsed, so an instrument that is still rebooting is
        waited for.  Pending-input bookkeeping starts afresh.

        Parameters
        ----------
        timeout_s : float, optional
            How long to keep trying, in s (default: the I/O timeout :attr:`timeout_s`).

        Raises
        ------
        ConnectionLost
            No connection within ``timeout_s``; names the resource, the time and the last
            failure.  The adapter is then closed (commands raise ``ConnectionLost``).
        InvalidParameter
            ``timeout_s`` not in (0, 1e6) s.
        """
        budget = self.timeout_s if timeout_s is None else _positive_timeout(timeout_s)
        self.close()
        self._stale_input = False
        start = time.monotonic()
        deadline = start + budget
        attempts = 0
        last = "no attempt made"
        while True:
            attempts += 1
            remaining = max(deadline - time.monotonic(), 1e-3)
            try:
                self._session = self._open_session(remaining)
                self.check_connected()
                self.apply_tcp_nodelay()
                return
            except Exception as exc:  # noqa: BLE001 - every failure means "not yet": retry until the deadline
                last = str(exc) or type(exc).__name__
                self.close()
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionLost(
                    f"{self.resource_name}: cannot reconnect within {budget:g} s "
                    f"({attempts} attempt(s) in {time.monotonic() - start:.2f} s); last failure: {last}"
                )
            time.sleep(min(self.REOPEN_PAUSE_S, left))

    # --- I/O ----------------------------------------------------------------------------
    @_translate
    def write(self, command: str) -> None:
        self._resync_if_stale(command)
        session = self._require()
        self._check_alive(command)
        self._command_sent = True
        session.write(command)

    @_translate
    def read(self) -> str:
        self._command_sent = True  # a read answers a command sent earlier
        return self._require().read()

    @_translate
    def query(self, command: str) -> str:
        self._resync_if_stale(command)
        session = self._require()
        self._check_alive(command)
        self._command_sent = True
        return session.query(command)

    @_translate
    def query_block(self, command: str) -> bytes:
        """Send ``command`` and read a definite-length block ``#<n><len><payload>`` + line end.

        Raises
        ------
        GarbledReply
            Not a block, an indefinite-length ``#0`` block (it cannot be delimited on a
            stream whose payload may hold line ends), or more payload than announced.
        InstrumentTimeout
            Fewer bytes than announced arrive within the timeout.
        """
        self._resync_if_stale(command)
        session = self._require()
        self._check_alive(command)
        self._command_sent = True
        session.write(command)
        where = f" to {command!r} from {self.resource_name}"
        head = bytes(session.read_bytes(2))
        if head[:1] != b"#":
            raise GarbledReply(f"expected an IEEE 488.2 block starting with '#', got {head!r}{where}")
        if head[1:2] == b"0":
            raise GarbledReply(f"indefinite-length block '#0' is not supported{where}")
        if not head[1:2].isdigit():
            raise GarbledReply(f"IEEE block header digit must be 1..9, got {head[1:2]!r}{where}")
        length_txt = bytes(session.read_bytes(int(head[1:2])))
        if not length_txt.isdigit():
            raise GarbledReply(f"IEEE block length field {length_txt!r} is not decimal digits{where}")
        length = int(length_txt)
        payload = bytes(session.read_bytes(length)) if length else b""
        term = (session.read_termination or "").encode("ascii")
        if term:
            tail = bytes(session.read_bytes(len(term)))
            if tail != term:
                raise GarbledReply(
                    f"IEEE block is longer than the {length} bytes announced (next byte {tail!r}){where}"
                )
        return payload

    def _require(self) -> Any:
        if self._session is None:
            raise ConnectionLost(f"{self.resource_name}: session is closed")
        return self._session

    # --- recovery after a timeout or a malformed reply ----------------------------------
    def _desynchronised(self, what: str = "") -> None:
        """Note that the input may hold the rest of a failed reply, and discard it now."""
        self._stale_input = True
        self._discard_input(what)

    def _resync_if_stale(self, command: str) -> None:
        if not self._stale_input:
            return
        what = f" before {command!r}"
        self._discard_input(what)
        if self._raw_socket()[1] is not None:
            self._resync_with_marker(what)
        self._stale_input = False

    #: Lines read at most while looking for the ``*OPC?`` marker reply.
    MAX_STALE_LINES = 16

    def _resync_with_marker(self, what: str) -> None:
        """Send ``*OPC?`` and discard every line before its ``1`` (raw sockets only).

        An instrument answers in order, so a reply still owed to a timed-out query arrives
        before the marker's; a drain afterwards removes a second ``1`` when the late reply
        itself was ``1``.  A timeout here leaves the session marked stale (the next command
        tries again) and raises :class:`~optics.errors.InstrumentTimeout`.
        """
        session = self._require()
        session.write("*OPC?")
        for _ in range(self.MAX_STALE_LINES):
            if session.read().strip() in ("1", "+1"):
                break
        else:
            raise GarbledReply(f"{self.resource_name}: no *OPC? reply among {self.MAX_STALE_LINES} lines{what}")
        self._discard_input(what, quiet_s=0.1)

    def _raw_socket(self) -> tuple[Any, socket.socket | None]:
        """The pyvisa-py session object and its socket, for a raw TCPIP SOCKET resource."""
        try:
            low = self._rm.visalib.sessions[self._session.session]  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - another backend: no socket access
            return None, None
        sock = getattr(low, "interface", None)
        return (low, sock) if isinstance(sock, socket.socket) else (None, None)

    def _discard_input(self, what: str = "", *, quiet_s: float = 0.05) -> None:
        """Drop pending input (socket drain, else VISA device clear); detect a closed peer.

        Raises
        ------
        ConnectionLost
            The instrument closed the connection.
        """
        if self._session is None:
            return
        low, sock = self._raw_socket()
        if sock is None:
            try:
                self._session.clear()
            except Exception:  # noqa: BLE001 - best effort; the next command reports real faults
                pass
            return
        pending = getattr(low, "_pending_buffer", None)
        if isinstance(pending, bytearray):
            pending.clear()
        deadline = time.monotonic() + max(1.0, self.timeout_s)
        while time.monotonic() < deadline:
            try:
                ready, _, _ = select.select([sock], [], [], quiet_s)
                if not ready:
                    return
                data = sock.recv(65536)
            except (OSError, ValueError) as exc:
                raise ConnectionLost(f"{self.resource_name}: connection failed{what}: {exc}") from None
            if not data:
                self._stale_input = True
                raise ConnectionLost(f"{self.resource_name}: the instrument closed the connection{what}")

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.close()
            except Exception:  # noqa: BLE001 - closing a dead session must not mask the cause
                pass
            self._session = None


__all__ = ["Adapter", "VisaAdapter"]
