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

The protocol-test adapter lives in :mod:`instruments.scpi.protocol`.
"""

from __future__ import annotations

import functools
import select
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from optics.errors import ConnectionLost, GarbledReply, InstrumentError, InstrumentTimeout

F = TypeVar("F", bound=Callable[..., Any])


class Adapter:
    """Interface every transport offers to a driver.

    Attributes
    ----------
    resource_name : str
        What errors name (a VISA resource string, ``"protocol-test"``, an I2C bus...).
    """

    resource_name: str = "<adapter>"
    timeout_s: float = 5.0

    def set_timeout(self, timeout_s: float) -> None:
        """Change the I/O timeout in s (for long operations such as a ``*OPC?`` wait)."""
        self.timeout_s = float(timeout_s)

    def write(self, command: str) -> None:
        """Send one command (the transport adds its line end)."""
        raise NotImplementedError

    def read(self) -> str:
        """Read one reply line, without its line end."""
        raise NotImplementedError

    def query(self, command: str) -> str:
        """Send ``command`` and read its reply."""
        self.write(command)
        return self.read()

    def query_block(self, command: str) -> bytes:
        """Send ``command`` and read an IEEE 488.2 definite-length block; return its payload."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the transport (idempotent)."""


def _translate(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: VisaAdapter, *args: Any, **kwargs: Any) -> Any:
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

    Raises
    ------
    ConnectionLost
        The resource cannot be opened (unknown host or resource, refused connection).
    """

    def __init__(
        self,
        resource_name: str,
        *,
        visa_library: str = "@py",
        timeout_s: float = 5.0,
        read_termination: str = "\n",
        write_termination: str = "\n",
        **visa_kwargs: Any,
    ) -> None:
        import pyvisa

        self.resource_name = resource_name
        self.timeout_s = float(timeout_s)
        self._session = None
        self._stale_input = False
        try:
            self._rm = pyvisa.ResourceManager(visa_library)
            self._session = self._rm.open_resource(
                resource_name,
                open_timeout=int(self.timeout_s * 1000),
                timeout=int(self.timeout_s * 1000),
                read_termination=read_termination,
                write_termination=write_termination,
                **visa_kwargs,
            )
        except pyvisa.errors.VisaIOError as exc:
            if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                raise InstrumentTimeout(f"{resource_name}: no connection within {self.timeout_s:g} s") from None
            raise ConnectionLost(f"{resource_name}: cannot open resource: {exc.description}") from None
        except OSError as exc:
            raise ConnectionLost(f"{resource_name}: cannot open resource: {exc}") from None
        except (ValueError, pyvisa.errors.Error) as exc:
            raise InstrumentError(f"{resource_name}: cannot open resource: {exc}") from None

    def set_timeout(self, timeout_s: float) -> None:
        self.timeout_s = float(timeout_s)
        if self._session is not None:
            self._session.timeout = int(self.timeout_s * 1000)

    @_translate
    def write(self, command: str) -> None:
        self._resync_if_stale(command)
        self._require().write(command)

    @_translate
    def read(self) -> str:
        return self._require().read()

    @_translate
    def query(self, command: str) -> str:
        self._resync_if_stale(command)
        return self._require().query(command)

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
