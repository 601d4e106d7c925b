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
that reply; the adapter then resynchronises before the next command, so that no query is
ever answered with another query's reply.  On sessions other than raw sockets (VXI-11,
HiSLIP, GPIB, USB) this is a VISA device clear.  On a raw socket, which has no clear, it is
the marker exchange of :meth:`VisaAdapter.resynchronise`: ``*OPC?`` then ``*IDN?``, and
every line before the ``*OPC?`` reply that is followed at once by the session's identity is
discarded.  No single late reply can pass for that two-line marker (see the method for the
argument); a marker still owed after a failed attempt is waited for, never sent again.

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
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from instruments.scpi.replies import parse_idn, strip_reply
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
        self._forget_marker()
        #: This session's ``*IDN?`` reply (stripped), once seen; the marker must repeat it.
        self._identity_reply: str | None = None
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
        self._forget_marker()
        self._identity_reply = None
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
        reply = session.query(command)
        if command.strip().upper() == "*IDN?":
            self._note_identity(reply)
        return reply

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
        if self._raw_socket()[1] is None:
            self._discard_input(what)  # VISA device clear
            self._stale_input = False
            return
        self.resynchronise(what)

    #: The two marker queries of :meth:`resynchronise`, sent in this order.
    MARKER_QUERIES = ("*OPC?", "*IDN?")
    #: Replies of ``*OPC?`` (IEEE 488.2 §10.19: NR1 ``1``; some firmware prints ``+1``).
    OPC_REPLIES = frozenset({b"1", b"+1"})
    #: Most bytes read in one :meth:`resynchronise` attempt (then ``GarbledReply``).
    MAX_STALE_BYTES = 16 * 2**20
    #: Longest line kept for comparison while resynchronising; longer lines are no marker.
    MAX_MARKER_LINE = 4096

    def resynchronise(self, what: str = "") -> None:
        """Bring a raw-socket stream back in step after a timed-out or malformed reply.

        Algorithm (an instrument answers its messages in order, with at most one reply line
        per text query; a stale session sends nothing but the marker):

        1. If no marker is owed: drop pending input (drain until 50 ms of silence), then
           send the marker, the two queries ``*OPC?`` and ``*IDN?``; it is owed from now on.
        2. Read the stream line by line, waiting at most the I/O timeout for each piece of
           input, and discard lines until one is the session's identity (the ``*IDN?`` reply
           seen on this session before, else any well-formed identity) **and** the line just
           before it was ``1`` (or ``+1``).  That pair is the marker's reply, and nothing was
           asked after it: the stream is in step again.
        3. On a timeout, too much input or a closed connection: raise, leaving the session
           stale, the marker owed and the reading position kept (a partial line, whether the
           last line was ``1``).  The next command continues with step 2 and sends no second
           marker, so there is only ever one ``1``-then-identity pair in flight.

        Why no late reply can be mistaken for the marker: commands are only sent on an
        in-step session, so the only reply that can still arrive before the marker's is the
        rest of the one reply that failed.  A text reply is one line, and it is the *first*
        line read (the "previous line was 1" state starts false), so it is never accepted,
        whatever it is: a late ``1`` (the ``*OPC?`` reply the earlier single-marker scheme
        took for its own), a late identity, or nothing at all (a query the instrument
        dropped).  The marker's ``1`` is no identity; the line after it is accepted.  No
        time-based drain enters the decision, so this holds at any instrument latency and
        any lateness.  (The rest of a timed-out binary block may hold many lines; only a
        line ``1`` followed by a line equal to the identity inside its payload could end the
        search early.)

        Parameters
        ----------
        what : str
            Context for error messages (``" before ':READ1:POW?'"``).

        Raises
        ------
        InstrumentTimeout
            No marker reply yet (the instrument is still busy with the late query, or has
            stopped answering); the command that asked for the resync was not sent.
        GarbledReply
            More than :attr:`MAX_STALE_BYTES` of input in one attempt without the marker.
        ConnectionLost
            The instrument closed the connection (``command_sent`` False).
        """
        session = self._require()
        sock = self._raw_socket()[1]
        if sock is None:
            return
        if not self._marker_owed:
            self._discard_input(what)
            for marker in self.MARKER_QUERIES:
                session.write(marker)
            self._marker_owed = True
        term = (self.read_termination or "\n").encode("ascii")[-1:]
        received = 0
        while True:
            for line in self._stale_lines(term):
                if self._marker_after_opc and self._is_marker_identity(line):
                    self._forget_marker()  # anything after the marker's reply was never asked for
                    self._stale_input = False
                    return
                self._marker_after_opc = line in self.OPC_REPLIES
            if received > self.MAX_STALE_BYTES:
                raise GarbledReply(
                    f"{self.resource_name}: more than {self.MAX_STALE_BYTES} bytes of stale input and no "
                    f"reply to the resynchronisation marker{what}; the next command keeps looking"
                )
            data = self._receive_stale(sock, what)
            received += len(data)
            self._marker_partial.extend(data)
            if len(self._marker_partial) > self.MAX_MARKER_LINE and term not in self._marker_partial:
                self._marker_partial.clear()  # too long for a marker line: only its end matters
                self._marker_overlong = True

    def _stale_lines(self, term: bytes) -> Iterator[bytes]:
        """Pop the complete lines of the stale input, stripped; an overlong line as one NUL byte."""
        buffer = self._marker_partial
        while True:
            index = buffer.find(term)
            if index < 0:
                return
            line = bytes(buffer[:index]).strip()
            del buffer[: index + 1]
            if self._marker_overlong:
                self._marker_overlong = False
                line = b"\x00"
            yield line

    def _receive_stale(self, sock: socket.socket, what: str) -> bytes:
        """Wait up to the I/O timeout for input and return it (never empty)."""
        try:
            ready, _, _ = select.select([sock], [], [], self.timeout_s)
            data = sock.recv(65536) if ready else None
        except (OSError, ValueError) as exc:
            raise ConnectionLost(f"{self.resource_name}: connection failed{what}: {exc}") from None
        if data is None:
            raise InstrumentTimeout(
                f"{self.resource_name}: no reply within {self.timeout_s:g} s to the resynchronisation marker "
                f"(*OPC? then *IDN?, sent after an earlier query failed){what}; that command was not sent; "
                "the instrument is still answering the earlier query or no longer answers (the next command "
                "waits for the marker again; reconnect() opens a new session)"
            )
        if not data:
            raise ConnectionLost(f"{self.resource_name}: the instrument closed the connection{what}")
        return data

    def _is_marker_identity(self, line: bytes) -> bool:
        """True if ``line`` is this session's identity (any well-formed one while none is known)."""
        text = strip_reply(line.decode("latin-1"))
        if self._identity_reply is not None:
            return text == self._identity_reply
        try:
            parse_idn(text, resource=self.resource_name)
        except GarbledReply:
            return False
        self._identity_reply = text
        return True

    def _note_identity(self, reply: str) -> None:
        """Remember this session's ``*IDN?`` reply: the marker must repeat it exactly."""
        try:
            parse_idn(reply, resource=self.resource_name)
        except GarbledReply:
            return
        self._identity_reply = strip_reply(reply)

    def _forget_marker(self) -> None:
        """No marker owed; no partial stale line kept."""
        self._marker_owed = False
        self._marker_after_opc = False
        self._marker_overlong = False
        self._marker_partial = bytearray()

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
        if self._marker_owed:
            return  # the marker's replies are in the stream: resynchronise() reads it line by line
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
