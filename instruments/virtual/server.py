"""The SCPI engine of the virtual instruments and the threaded TCP server that serves them.

A :class:`VirtualInstrument` owns a command table (header pattern in vendor notation →
query and/or set handler), an error queue and the IEEE 488.2 status bytes.  A
:class:`ScpiServer` serves one instrument on ``127.0.0.1`` over a raw socket, newline
terminated, to any number of clients (the instrument state is shared, as on real gear),
the way pyvisa-py's ``TCPIP::host::port::SOCKET`` resource expects.

Fault injection (:meth:`ScpiServer.inject_fault`) makes the server misbehave on purpose so
that driver error handling can be tested: no reply, dropped connection, garbage, a SCPI
error in the queue, slow replies.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import socket
import threading
import time
from collections.abc import Callable, Sequence

from instruments.virtual.grammar import (
    Args,
    CommandError,
    HeaderPattern,
    ParsedCommand,
    nr1,
    parse_message,
    parse_pattern,
    quoted,
)
from optics import validate
from optics.errors import ConnectionLost, InvalidParameter

#: Error queue depth; SCPI-99 requires the last entry to become -350 when it overflows.
ERROR_QUEUE_DEPTH = 30

Reply = str | bytes | None


@dataclasses.dataclass(frozen=True)
class Request:
    """What a handler receives: the parameters and the header's numeric suffixes."""

    args: Args
    suffixes: tuple[int | str, ...]
    query: bool
    text: str

    def suffix(self, i: int = 0, default: int | str = 1) -> int | str:
        """Return the ``i``-th numeric suffix of the header (``default`` if absent)."""
        return self.suffixes[i] if i < len(self.suffixes) else default


Handler = Callable[[Request], Reply]


@dataclasses.dataclass(frozen=True)
class Command:
    """One command-table entry: header pattern and its query and/or set handler."""

    pattern: HeaderPattern
    query: Handler | None
    set: Handler | None


class VirtualInstrument:
    """Base class of a virtual SCPI instrument.

    Subclasses set :attr:`idn` and register commands in :meth:`build` with :meth:`add`.
    The base provides ``*IDN? *RST *CLS *OPC *OPC? *WAI *ESR? *ESE *STB? *TST?`` and
    ``:SYSTem:ERRor[:NEXT]?`` / ``:SYSTem:ERRor:COUNt?``.

    Parameters
    ----------
    link : BenchLink or None
        The shared physics model (``instruments.virtual.physics.BenchLink``).
    """

    #: ``*IDN?`` reply: manufacturer, model, serial, firmware.
    idn: str = "Virtual,Instrument,0,0"

    def __init__(self, link=None) -> None:
        self.link = link
        self.lock = threading.RLock()
        self._commands: list[Command] = []
        self._cache: dict[tuple[str, ...], tuple[Command, tuple]] = {}
        self._errors: collections.deque[tuple[int, str]] = collections.deque()
        self.esr = 0
        self.ese = 0
        self.add("*IDN", query=lambda r: self.idn)
        self.add("*RST", set=self._rst)
        self.add("*CLS", set=self._cls)
        self.add("*OPC", set=self._opc_set, query=lambda r: "1")
        self.add("*WAI", set=lambda r: None)
        self.add("*ESR", query=self._esr)
        self.add("*ESE", set=self._ese_set, query=lambda r: nr1(self.ese))
        self.add("*STB", query=lambda r: nr1(self.status_byte()))
        self.add("*TST", query=lambda r: "0")
        self.add(":SYSTem:ERRor[:NEXT]", query=self._error_next)
        self.add(":SYSTem:ERRor:COUNt", query=lambda r: nr1(len(self._errors)))
        self.build()
        self.reset()

    # --- to be filled by subclasses --------------------------------------------------
    def build(self) -> None:
        """Register the instrument's commands with :meth:`add` (subclasses)."""

    def reset(self) -> None:
        """Return settings to their ``*RST`` state (subclasses)."""

    # --- command table -----------------------------------------------------------------
    def add(self, pattern: str, *, query: Handler | None = None, set: Handler | None = None) -> None:
        """Register a header pattern with a query and/or set handler.

        A query handler returns the reply text (``str``), a binary block (``bytes``) or
        None; a set handler returns None (or, for the rare non-SCPI command that answers,
        such as the AQ6370 ``OPEN``, its reply).  Both raise :class:`CommandError` on bad input.
        """
        if query is None and set is None:
            raise ValueError(f"command {pattern!r} needs a query or a set handler")
        self._commands.append(Command(parse_pattern(pattern), query, set))

    def _lookup(self, cmd: ParsedCommand) -> tuple[Command, tuple]:
        key = cmd.mnemonics
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        for entry in self._commands:
            suffixes = entry.pattern.match(key)
            if suffixes is not None:
                self._cache[key] = (entry, suffixes)
                return entry, suffixes
        raise CommandError(-113, ":".join(key))

    # --- error queue and status ----------------------------------------------------------
    def push_error(self, code: int, message: str) -> None:
        """Append an error to the queue (the last slot becomes -350 when it is full)."""
        if len(self._errors) >= ERROR_QUEUE_DEPTH:
            self._errors[-1] = (-350, "Queue overflow")
            return
        self._errors.append((int(code), str(message)))
        if -199 <= code <= -100:
            self.esr |= 0x20  # command error
        elif -299 <= code <= -200:
            self.esr |= 0x10  # execution error
        elif -399 <= code <= -300 or code > 0:
            self.esr |= 0x08  # device-dependent error
        elif -499 <= code <= -400:
            self.esr |= 0x04  # query error

    def errors(self) -> list[tuple[int, str]]:
        """Return (without removing) the queued errors, oldest first."""
        return list(self._errors)

    def status_byte(self) -> int:
        """IEEE 488.2 status byte: bit 2 error queue not empty, bit 5 event summary."""
        stb = 0x04 if self._errors else 0
        if self.esr & self.ese:
            stb |= 0x20
        return stb

    def _error_next(self, req: Request) -> str:
        code, message = self._errors.popleft() if self._errors else (0, "No error")
        return f"{code:+d},{quoted(message)}"

    def _rst(self, req: Request) -> None:
        self.reset()

    def _cls(self, req: Request) -> None:
        self._errors.clear()
        self.esr = 0

    def _opc_set(self, req: Request) -> None:
        self.esr |= 0x01

    def _esr(self, req: Request) -> str:
        value, self.esr = self.esr, 0
        return nr1(value)

    def _ese_set(self, req: Request) -> None:
        req.args.expect(1)
        self.ese = req.args.integer(0, low=0, high=255)

    # --- execution -----------------------------------------------------------------------
    def execute(self, message: str) -> list[Reply]:
        """Execute one program message; return the replies of its queries in order.

        An error stops the rest of the message (IEEE 488.2 §6.1.6) and goes to the queue.
        """
        replies: list[Reply] = []
        with self.lock:
            try:
                commands = parse_message(message)
                for cmd in commands:
                    entry, suffixes = self._lookup(cmd)
                    handler = entry.query if cmd.query else entry.set
                    if handler is None:
                        raise CommandError(-113, f"{cmd.text.split()[0]} is {'set' if cmd.query else 'query'}-only")
                    req = Request(Args(cmd.args), tuple(suffixes), cmd.query, cmd.text)
                    reply = handler(req)
                    if reply is not None:  # queries; also the odd non-SCPI command that answers
                        replies.append(reply)
            except CommandError as exc:
                self.push_error(exc.code, exc.message)
            except Exception as exc:  # a bug or a physics failure must not kill the connection
                self.push_error(-300, f"Device-specific error;{type(exc).__name__}: {exc}")
        return replies

    def handle(self, message: str) -> bytes | None:
        """Execute a message and return its full reply line (without terminator) or None.

        Text replies of a compound query are joined with ``;`` (IEEE 488.2 §8.4.2).
        """
        replies = self.execute(message)
        if not replies:
            return None
        out = b""
        for i, reply in enumerate(replies):
            if i:
                out += b";"
            out += reply if isinstance(reply, bytes) else str(reply).encode("ascii", "replace")
        return out


# --- fault injection -----------------------------------------------------------------------
class FaultKind(enum.Enum):
    """Ways a :class:`ScpiServer` can be told to misbehave."""

    NO_REPLY = "no_reply"  # execute queries but send no reply (the client times out)
    DROP = "drop"  # close the connection when the next message arrives
    GARBAGE = "garbage"  # replace query replies with unparsable bytes
    ERROR = "error"  # push a SCPI error after the next message(s)
    SLOW = "slow"  # delay every reply by delay_s


#: What a garbled reply looks like on the wire (printable, so it reaches the parser).
GARBAGE_REPLY = b"#?\x15GARBLED~~%%;;,,\x7f!"


@dataclasses.dataclass
class _Fault:
    kind: FaultKind
    remaining: int | None  # None: until cleared
    delay_s: float = 0.0
    code: int = -300
    message: str = "Device-specific error"


class ScpiServer:
    """Serve one :class:`VirtualInstrument` over TCP, newline terminated.

    Parameters
    ----------
    instrument : VirtualInstrument
        What answers.
    host : str, optional
        Interface to listen on (default ``"127.0.0.1"``).
    port : int, optional
        TCP port; 0 (default) picks a free ephemeral port.
    latency_s : float, optional
        Delay before every reply, s (default 0), to mimic an instrument's response time.

    Examples
    --------
    >>> from instruments.virtual.thermostream import ThermoStream
    >>> with ScpiServer(ThermoStream()) as srv:
    ...     srv.resource.startswith("TCPIP::127.0.0.1::")
    True
    """

    def __init__(self, instrument: VirtualInstrument, *, host: str = "127.0.0.1", port: int = 0,
                 latency_s: float = 0.0) -> None:
        self.instrument = instrument
        self.latency_s = validate.non_negative("latency_s", latency_s, "s")
        self._host = host
        self._port = validate.integer("port", port, 0, 65535)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._clients: dict[socket.socket, threading.Thread] = {}
        self._clients_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._fault_lock = threading.Lock()
        self._running = threading.Event()
        self.messages_served = 0

    # --- life cycle ---------------------------------------------------------------------
    def start(self) -> ScpiServer:
        """Bind, listen and start accepting clients; returns self.

        Raises
        ------
        ConnectionLost
            The address cannot be bound.
        """
        if self._running.is_set():
            return self
        try:
            listener = socket.create_server((self._host, self._port))
        except OSError as exc:
            raise ConnectionLost(f"cannot listen on {self._host}:{self._port}: {exc}") from None
        listener.settimeout(0.1)
        self._listener = listener
        self._running.set()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"scpi-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every client connection and join the threads."""
        if not self._running.is_set():
            return
        self._running.clear()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=2.0)
        if self._listener is not None:
            self._listener.close()
        with self._clients_lock:
            clients = list(self._clients.items())
        for conn, _ in clients:
            _close(conn)
        for _, thread in clients:
            thread.join(timeout=2.0)

    def __enter__(self) -> ScpiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port in use (the ephemeral one once started)."""
        if self._listener is not None:
            return int(self._listener.getsockname()[1])
        return self._port

    @property
    def resource(self) -> str:
        """VISA resource string for pyvisa-py: ``TCPIP::127.0.0.1::<port>::SOCKET``."""
        return f"TCPIP::{self._host}::{self.port}::SOCKET"

    @property
    def n_clients(self) -> int:
        """Number of connected clients."""
        with self._clients_lock:
            return len(self._clients)

    # --- faults ------------------------------------------------------------------------
    def inject_fault(
        self,
        kind: FaultKind | str,
        *,
        count: int | None = 1,
        delay_s: float = 0.5,
        code: int = -300,
        message: str = "Device-specific error",
    ) -> None:
        """Arm a fault for the next ``count`` events (None: until :meth:`clear_faults`).

        Parameters
        ----------
        kind : FaultKind or str
            ``"no_reply"`` (the next ``count`` query replies are swallowed),
            ``"drop"`` (the next ``count`` messages close their connection unanswered),
            ``"garbage"`` (the next ``count`` replies are replaced by :data:`GARBAGE_REPLY`),
            ``"error"`` (``(code, message)`` is queued after each of the next ``count``
            messages), ``"slow"`` (the next ``count`` replies wait ``delay_s`` first).
        count : int or None
            How many events the fault lasts, >= 1, or None for "until cleared".
        delay_s : float
            Delay of a ``"slow"`` reply in s, >= 0.
        code, message
            The SCPI error of an ``"error"`` fault.

        Raises
        ------
        InvalidParameter
            Unknown kind, count < 1 or negative delay.
        """
        try:
            fk = kind if isinstance(kind, FaultKind) else FaultKind(str(kind).lower())
        except ValueError:
            allowed = ", ".join(k.value for k in FaultKind)
            raise InvalidParameter(f"unknown fault kind {kind!r}; allowed: {allowed}") from None
        if count is not None:
            validate.integer("count", count, 1)
        delay = validate.non_negative("delay_s", delay_s, "s")
        with self._fault_lock:
            self._faults.append(_Fault(fk, count, delay, int(code), str(message)))

    def clear_faults(self) -> None:
        """Disarm every fault."""
        with self._fault_lock:
            self._faults.clear()

    def _take_fault(self, kind: FaultKind) -> _Fault | None:
        with self._fault_lock:
            for fault in self._faults:
                if fault.kind is kind:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # --- serving ------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        listener = self._listener
        while listener is not None and self._running.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve_client, args=(conn,), daemon=True)
            with self._clients_lock:
                self._clients[conn] = thread
            thread.start()

    def _serve_client(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while self._running.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not self._serve_line(conn, line):
                        return
        finally:
            with self._clients_lock:
                self._clients.pop(conn, None)
            _close(conn)

    def _serve_line(self, conn: socket.socket, line: bytes) -> bool:
        """Execute one message; return False if the connection must close."""
        if self._take_fault(FaultKind.DROP) is not None:
            return False
        text = line.decode("latin-1").rstrip("\r")
        reply = self.instrument.handle(text)
        self.messages_served += 1
        error = self._take_fault(FaultKind.ERROR)
        if error is not None:
            with self.instrument.lock:
                self.instrument.push_error(error.code, error.message)
        if reply is None:
            return True
        if self._take_fault(FaultKind.NO_REPLY) is not None:
            return True
        if self._take_fault(FaultKind.GARBAGE) is not None:
            reply = GARBAGE_REPLY
        delay = self.latency_s
        slow = self._take_fault(FaultKind.SLOW)
        if slow is not None:
            delay += slow.delay_s
        if delay > 0:
            time.sleep(delay)
        try:
            conn.sendall(reply + b"\n")
        except OSError:
            return False
        return True


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


def serve_all(instruments: Sequence[VirtualInstrument]) -> list[ScpiServer]:
    """Start one server per instrument; returns them started (stop each when done)."""
    servers = []
    try:
        for inst in instruments:
            servers.append(ScpiServer(inst).start())
    except BaseException:
        for srv in servers:
            srv.stop()
        raise
    return servers


__all__ = [
    "Command",
    "ERROR_QUEUE_DEPTH",
    "FaultKind",
    "GARBAGE_REPLY",
    "Request",
    "ScpiServer",
    "VirtualInstrument",
    "serve_all",
]
