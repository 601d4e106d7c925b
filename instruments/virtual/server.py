"""The SCPI engine of the virtual instruments and the threaded TCP server that serves them.

A :class:`VirtualInstrument` owns a command table (header pattern in vendor notation →
query and/or set handler), an error queue and the IEEE 488.2 status bytes.  A
:class:`ScpiServer` serves one instrument on ``127.0.0.1`` over a raw socket, newline
terminated, to any number of clients (the instrument state is shared, as on real gear),
the way pyvisa-py's ``TCPIP::host::port::SOCKET`` resource expects.

A server is bounded (:class:`ServerLimits`): a program message longer than
``max_line_bytes`` is read and discarded in bounded memory and queues ``-223,"Too much
data"`` quoting its first characters; every error text is cut to 255 characters (SCPI-99)
and the error queue holds :data:`ERROR_QUEUE_DEPTH` entries, the last one becoming ``-350,
"Queue overflow"``; at most ``max_connections`` clients are served at once (one more is
accepted and closed at once); a client silent for ``idle_timeout_s`` is disconnected.

Fault injection makes an instrument misbehave on purpose so that error handling can be
tested: no reply, slow replies, dropped connection, garbage, a SCPI error in the queue,
invalid values.  Faults are armed from Python (:meth:`ScpiServer.inject_fault`) or by any
client with ``:VIRTual:FAULt <kind>,<count>[,<delay_s>]`` (every virtual instrument has it;
see :mod:`instruments.virtual.faults`).
"""

from __future__ import annotations

import collections
import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from instruments.virtual.faults import (
    DEFAULT_ERROR_CODE,
    DEFAULT_ERROR_MESSAGE,
    GARBAGE_REPLY,
    SCPI_INVALID_REPLY,
    FaultKind,
    FaultPlan,
    add_fault_commands,
    invalidated,
    is_fault_command,
)
from instruments.virtual.grammar import (
    Args,
    CommandError,
    HeaderPattern,
    MAX_QUOTED_TEXT,
    ParsedCommand,
    error_text,
    excerpt,
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
    The base provides ``*IDN? *RST *CLS *OPC *OPC? *WAI *ESR? *ESE *STB? *TST?``,
    ``:SYSTem:ERRor[:NEXT]?`` / ``:SYSTem:ERRor:COUNt?`` and the fault commands
    ``:VIRTual:FAULt``, ``:VIRTual:FAULt?``, ``:VIRTual:FAULt:CLEar`` acting on
    :attr:`faults` (see :mod:`instruments.virtual.faults`).

    Parameters
    ----------
    link : BenchLink or None
        The shared physics model (``instruments.virtual.physics.BenchLink``).
    """

    #: ``*IDN?`` reply: manufacturer, model, serial, firmware.
    idn: str = "Virtual,Instrument,0,0"
    #: What an ``invalid`` fault puts in place of every number of a reply (SCPI NaN).
    invalid_marker: str = SCPI_INVALID_REPLY

    def __init__(self, link=None) -> None:
        self.link = link
        self.lock = threading.RLock()
        self._commands: list[Command] = []
        self._cache: dict[tuple[str, ...], tuple[Command, tuple]] = {}
        self._errors: collections.deque[tuple[int, str]] = collections.deque()
        self.esr = 0
        self.ese = 0
        #: The faults armed on this instrument, shared by every connection to it.
        self.faults = FaultPlan()
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
        add_fault_commands(self)
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
        raise CommandError(-113, excerpt(":".join(key)))

    # --- error queue and status ----------------------------------------------------------
    def push_error(self, code: int, message: str) -> None:
        """Append an error to the queue.

        The text is cut to 255 characters (:func:`~instruments.virtual.grammar.error_text`);
        when the queue holds :data:`ERROR_QUEUE_DEPTH` entries the last one becomes
        ``-350,"Queue overflow"`` instead (SCPI-99 Vol. 2 §21.8, SYSTem:ERRor).
        """
        if len(self._errors) >= ERROR_QUEUE_DEPTH:
            self._errors[-1] = (-350, "Queue overflow")
            return
        self._errors.append((int(code), error_text(message)))
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


# --- limits --------------------------------------------------------------------------------
#: Default longest program message, bytes (64 KiB).
MAX_LINE_BYTES = 65536
#: Default most clients served at once by one server.
MAX_CONNECTIONS = 16
#: Default time a client may stay silent before it is disconnected, s.
IDLE_TIMEOUT_S = 300.0
#: Bytes read from a socket at a time.
_RECV_BYTES = 65536


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServerLimits:
    """Bounds of one :class:`ScpiServer`, so no client can exhaust memory or threads.

    Parameters
    ----------
    max_line_bytes : int
        Longest program message in bytes, terminator excluded (default 65536).  A longer
        one is discarded as it arrives (never held in memory) and queues ``-223,"Too much
        data"`` naming its length and its first characters.
    max_connections : int
        Clients served at once (default 16); a client beyond is accepted and closed at once.
    idle_timeout_s : float or None
        A client that sends nothing for this long is disconnected, s (default 300);
        None: never.

    Raises
    ------
    InvalidParameter
        ``max_line_bytes`` outside 64 .. 2**30, ``max_connections`` outside 1 .. 1024, or
        ``idle_timeout_s`` not > 0.
    """

    max_line_bytes: int = MAX_LINE_BYTES
    max_connections: int = MAX_CONNECTIONS
    idle_timeout_s: float | None = IDLE_TIMEOUT_S

    def __post_init__(self) -> None:
        validate.integer("max_line_bytes", self.max_line_bytes, 64, 2**30)
        validate.integer("max_connections", self.max_connections, 1, 1024)
        if self.idle_timeout_s is not None:
            object.__setattr__(self, "idle_timeout_s", validate.positive("idle_timeout_s", self.idle_timeout_s, "s"))


@dataclasses.dataclass(frozen=True)
class OverlongLine:
    """A program message longer than the line limit, already discarded.

    Attributes
    ----------
    head : bytes
        Its first bytes (at most ``MAX_QUOTED_TEXT + 1``, enough to quote its header).
    length : int
        Its full length in bytes, terminator excluded.
    """

    head: bytes
    length: int


def read_lines(recv: Callable[[int], bytes], max_line_bytes: int) -> Iterator[bytes | OverlongLine]:
    """Yield the newline-terminated lines read with ``recv`` in bounded memory.

    A line longer than ``max_line_bytes`` is not accumulated: its bytes are counted and
    dropped as they arrive and an :class:`OverlongLine` is yielded at its terminator.  At
    most ``max_line_bytes`` plus one ``recv`` chunk is held at any time.  Ends when ``recv``
    returns ``b""`` (a partial last line is dropped); ``recv``'s errors propagate.
    """
    head_bytes = MAX_QUOTED_TEXT + 1
    buffer = bytearray()
    overlong: OverlongLine | None = None
    while True:
        chunk = recv(_RECV_BYTES)
        if not chunk:
            return
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            stop = len(chunk) if newline < 0 else newline
            size = stop - start
            if overlong is not None:
                overlong = OverlongLine(overlong.head, overlong.length + size)
            elif len(buffer) + size > max_line_bytes:
                head = bytes(buffer[:head_bytes]) + chunk[start : start + max(0, head_bytes - len(buffer))]
                overlong = OverlongLine(head, len(buffer) + size)
                buffer = bytearray()
            else:
                buffer += chunk[start:stop]
            if newline < 0:
                break
            start = newline + 1
            if overlong is not None:
                yield overlong
                overlong = None
            else:
                line = bytes(buffer)
                buffer.clear()
                yield line


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
    limits : ServerLimits, optional
        Line length, connection count and idle timeout (default :class:`ServerLimits()`).

    Examples
    --------
    >>> from instruments.virtual.thermostream import ThermoStream
    >>> with ScpiServer(ThermoStream()) as srv:
    ...     srv.resource.startswith("TCPIP::127.0.0.1::")
    True
    """

    def __init__(self, instrument: VirtualInstrument, *, host: str = "127.0.0.1", port: int = 0,
                 latency_s: float = 0.0, limits: ServerLimits | None = None) -> None:
        self.instrument = instrument
        self.latency_s = validate.non_negative("latency_s", latency_s, "s")
        if limits is None:
            limits = ServerLimits()
        if not isinstance(limits, ServerLimits):
            raise InvalidParameter(f"limits must be a ServerLimits, got {type(limits).__name__}")
        self.limits = limits
        self._host = host
        self._port = validate.integer("port", port, 0, 65535)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._clients: dict[socket.socket, threading.Thread] = {}
        self._clients_lock = threading.Lock()
        self._running = threading.Event()
        self.messages_served = 0
        #: Clients closed at once because ``limits.max_connections`` were connected.
        self.connections_refused = 0
        #: Clients disconnected after ``limits.idle_timeout_s`` of silence.
        self.idle_disconnects = 0

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
        delay_s: float | None = None,
        code: int = DEFAULT_ERROR_CODE,
        message: str = DEFAULT_ERROR_MESSAGE,
    ) -> None:
        """Arm a fault on the instrument for its next ``count`` events (None: until cleared).

        The same as ``:VIRTual:FAULt <kind>,<count>[,<delay_s>]`` sent by a client, plus the
        choice of the error of an ``"error"`` fault; see :meth:`FaultPlan.arm
        <instruments.virtual.faults.FaultPlan.arm>`.

        Parameters
        ----------
        kind : FaultKind or str
            ``"timeout"`` (or ``"no_reply"``: the next ``count`` query replies are not
            sent), ``"slow"`` (they wait ``delay_s`` first), ``"drop"`` (the next ``count``
            messages close their connection unexecuted), ``"garbage"`` (replies replaced by
            :data:`GARBAGE_REPLY`), ``"error"`` (``(code, message)`` queued after each of the
            next ``count`` messages), ``"invalid"`` (numbers of numeric replies replaced by
            :attr:`VirtualInstrument.invalid_marker`).
        count : int or None
            How many events the fault lasts, >= 1, or None for "until cleared".
        delay_s : float, optional
            Delay of a ``"slow"`` reply (default 0.5 s) or stall of a ``"timeout"``
            (default 0), s.
        code, message
            The SCPI error of an ``"error"`` fault (default ``-200,"Execution error;..."``).

        Raises
        ------
        InvalidParameter
            Unknown kind, count < 1, a delay out of range or for a kind without one.
        """
        self.instrument.faults.arm(kind, count=count, delay_s=delay_s, code=code, message=message)

    def clear_faults(self) -> None:
        """Disarm every fault of the instrument."""
        self.instrument.faults.clear()

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
            with self._clients_lock:
                full = len(self._clients) >= self.limits.max_connections
            if full:
                self.connections_refused += 1
                _close(conn)
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(self.limits.idle_timeout_s)
            thread = threading.Thread(target=self._serve_client, args=(conn,), daemon=True)
            with self._clients_lock:
                self._clients[conn] = thread
            thread.start()

    def _serve_client(self, conn: socket.socket) -> None:
        try:
            for line in read_lines(conn.recv, self.limits.max_line_bytes):
                if not self._running.is_set():
                    break
                if isinstance(line, OverlongLine):
                    self._discarded(line)
                elif not self._serve_line(conn, line):
                    break
        except TimeoutError:
            with self._clients_lock:
                self.idle_disconnects += 1
        except OSError:
            pass
        finally:
            with self._clients_lock:
                self._clients.pop(conn, None)
            _close(conn)

    def _discarded(self, line: OverlongLine) -> None:
        """Queue -223 for a program message over the line limit (it was not executed)."""
        words = line.head.decode("latin-1").split()
        header = excerpt(words[0] if words else "")
        with self.instrument.lock:
            self.instrument.push_error(
                -223,
                f"Too much data;program message of {line.length} bytes > {self.limits.max_line_bytes} "
                f"bytes discarded, header {header!r}",
            )

    def _serve_line(self, conn: socket.socket, line: bytes) -> bool:
        """Execute one message; return False if the connection must close."""
        if is_fault_command(line):
            return self._send(conn, self.instrument.handle(line.decode("latin-1").rstrip("\r")), 0.0)
        faults = self.instrument.faults
        if faults.take(FaultKind.DROP) is not None:
            return False
        reply = self.instrument.handle(line.decode("latin-1").rstrip("\r"))
        self.messages_served += 1
        error = faults.take(FaultKind.ERROR)
        if error is not None:
            with self.instrument.lock:
                self.instrument.push_error(error.code, error.message)
        if reply is None:
            return True
        timeout = faults.take(FaultKind.TIMEOUT)
        if timeout is not None:
            if timeout.delay_s > 0:
                time.sleep(timeout.delay_s)
            return True
        if faults.is_armed(FaultKind.INVALID):
            invalid = invalidated(reply, self.instrument.invalid_marker.encode("ascii"))
            if invalid is not None and faults.take(FaultKind.INVALID) is not None:
                reply = invalid
        if faults.take(FaultKind.GARBAGE) is not None:
            reply = GARBAGE_REPLY
        delay = self.latency_s
        slow = faults.take(FaultKind.SLOW)
        if slow is not None:
            delay += slow.delay_s
        return self._send(conn, reply, delay)

    @staticmethod
    def _send(conn: socket.socket, reply: bytes | None, delay_s: float) -> bool:
        if reply is None:
            return True
        if delay_s > 0:
            time.sleep(delay_s)
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


def serve_all(instruments: Sequence[VirtualInstrument], *, limits: ServerLimits | None = None) -> list[ScpiServer]:
    """Start one server per instrument; returns them started (stop each when done)."""
    servers = []
    try:
        for inst in instruments:
            servers.append(ScpiServer(inst, limits=limits).start())
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
    "IDLE_TIMEOUT_S",
    "MAX_CONNECTIONS",
    "MAX_LINE_BYTES",
    "OverlongLine",
    "Request",
    "ScpiServer",
    "ServerLimits",
    "VirtualInstrument",
    "read_lines",
    "serve_all",
]
