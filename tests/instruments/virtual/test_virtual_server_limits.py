"""The virtual servers are bounded: line length, error text, error queue, connections, idle time.

References: SCPI-99 Vol. 2 §21.8 (error/event queue: -223 "Too much data", -350 "Queue
overflow" replacing the last entry when the queue is full, at most 255 characters of error
text) and the limits' documented defaults (64 KiB lines, 16 connections, 300 s idle).
"""

import socket
import threading
import time
import tracemalloc

import pytest

from instruments.bench import BenchConfig, VirtualBench
from instruments.keysight.n77xx import N7744A
from instruments.virtual.server import (
    ERROR_QUEUE_DEPTH,
    MAX_CONNECTIONS,
    MAX_LINE_BYTES,
    OverlongLine,
    ScpiServer,
    ServerLimits,
    VirtualInstrument,
    read_lines,
)
from optics.errors import ConfigError, ConnectionLost, InvalidParameter

#: SCPI-99 Vol. 2 §21.8: error description plus device-dependent info, at most 255 characters.
SCPI_MAX_ERROR_TEXT = 255


class Counter(VirtualInstrument):
    """Counts ``:COUN`` commands."""

    idn = "Test,Counter,1,1"

    def reset(self):
        self.count = 0

    def build(self):
        self.add(":COUNt", set=self._inc, query=lambda r: str(self.count))

    def _inc(self, req):
        self.count += 1


class Client:
    """A raw line client (no pyvisa), so the test controls every byte sent."""

    def __init__(self, server, timeout_s=2.0):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout_s)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ask(self, line: bytes) -> bytes:
        self.sock.sendall(line + b"\n")
        return self.file.readline().rstrip(b"\n")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _error_reply_fields(reply: bytes) -> tuple[int, str]:
    code, _, text = reply.decode("latin-1").partition(",")
    assert text.startswith('"') and text.endswith('"'), reply[:80]
    return int(code), text[1:-1]


def _wait_for(predicate, timeout_s=2.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --- line length ------------------------------------------------------------------------------
def test_a_10_mb_header_is_discarded_in_bounded_memory_and_queues_223():
    """10 MB of header and no terminator until the end: the server never holds the line, the
    error reply is bounded, and the connection still works afterwards."""
    n_bytes = 10 * 2**20
    block = b"X" * 65536
    with ScpiServer(Counter()) as srv:
        client = Client(srv, timeout_s=10.0)
        tracemalloc.start()
        try:
            client.send(b":")
            for _ in range(n_bytes // len(block)):
                client.send(block)
            client.send(b"\n")
            reply = client.ask(b":SYST:ERR?")
            _, peak_bytes = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        code, text = _error_reply_fields(reply)
        assert code == -223
        assert text.startswith("Too much data;")
        assert str(n_bytes + 1) in text  # the discarded length, terminator excluded
        assert "':" + "X" * 39 + "...'" in text  # the header quoted as its first 40 characters
        assert len(reply) < 400
        # the line was never accumulated: the peak is a few 64 KiB buffers, not 10 MB
        assert peak_bytes < 2 * 2**20, f"peak {peak_bytes / 2**20:.1f} MiB"
        assert client.ask(b"*IDN?") == b"Test,Counter,1,1"
        assert client.ask(b":SYST:ERR?") == b'+0,"No error"'
        assert srv.instrument.count == 0
        client.close()


def test_a_line_at_the_limit_runs_and_one_byte_more_is_refused():
    limit = 256
    with ScpiServer(Counter(), limits=ServerLimits(max_line_bytes=limit)) as srv:
        client = Client(srv)
        at_limit = b":COUN" + b" " * (limit - len(b":COUN"))
        assert len(at_limit) == limit
        client.send(at_limit + b"\n")
        assert client.ask(b":COUN?") == b"1"
        client.send(at_limit + b" \n")
        code, text = _error_reply_fields(client.ask(b":SYST:ERR?"))
        assert code == -223
        assert f"{limit + 1} bytes > {limit} bytes" in text
        assert client.ask(b":COUN?") == b"1"  # the over-long message was not executed
        client.close()


def test_read_lines_splits_and_discards_across_chunk_boundaries():
    """Lines split over chunks, several lines in one chunk, an over-long line over three chunks."""
    chunks = [b"*IDN?\n:CO", b"UN\n" + b"A" * 30, b"B" * 30, b"C" * 10 + b"\n:COUN?\n", b"partial"]
    feed = iter(chunks + [b""])
    lines = list(read_lines(lambda n: next(feed), 40))
    assert lines == [b"*IDN?", b":COUN", OverlongLine(head=(b"A" * 30 + b"B" * 30)[:41], length=70), b":COUN?"]


# --- error text and queue ------------------------------------------------------------------------
def test_an_unknown_header_is_quoted_as_40_characters_and_the_text_is_capped():
    header = ":" + "Q" * 1000
    with ScpiServer(Counter()) as srv:
        client = Client(srv)
        client.send(header.encode() + b" 1\n")
        reply = client.ask(b":SYST:ERR?")
        code, text = _error_reply_fields(reply)
        assert code == -113
        assert text == "Undefined header;" + "Q" * 40 + "..."
        client.close()
    inst = Counter()
    inst.push_error(-300, "Device-specific error;" + "z" * 5000)
    (code, text), = inst.errors()
    assert code == -300 and len(text) == SCPI_MAX_ERROR_TEXT and text.endswith("...")


def test_error_queue_overflow_replaces_the_last_entry_with_350():
    inst = Counter()
    for k in range(ERROR_QUEUE_DEPTH + 10):
        inst.handle(f":NOPE{k}")
    errors = inst.errors()
    assert len(errors) == ERROR_QUEUE_DEPTH
    assert errors[-1] == (-350, "Queue overflow")
    assert [c for c, _ in errors[:-1]] == [-113] * (ERROR_QUEUE_DEPTH - 1)
    assert errors[0][1] == "Undefined header;NOPE0"


# --- connections and idle time ---------------------------------------------------------------------
def test_200_idle_connections_keep_the_thread_count_bounded():
    before = threading.active_count()
    with ScpiServer(Counter()) as srv:

        def accepted() -> int:
            return srv.n_clients + getattr(srv, "connections_refused", 0)

        socks = []
        try:
            for _ in range(200):
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=2.0))
                if len(socks) % 50 == 0:  # let the accept thread keep the listen backlog short
                    assert _wait_for(lambda: accepted() == len(socks))
            # the accept thread plus one per served client, nothing per refused client
            assert threading.active_count() - before <= MAX_CONNECTIONS + 1
            assert srv.n_clients == MAX_CONNECTIONS
            assert srv.connections_refused == 200 - MAX_CONNECTIONS
            assert socks[-1].recv(16) == b""  # refused: closed by the server at once
            socks[0].sendall(b"*IDN?\n")
            assert socks[0].recv(64) == b"Test,Counter,1,1\n"  # served
            for s in socks[:MAX_CONNECTIONS]:
                s.close()
            assert _wait_for(lambda: srv.n_clients == 0)
            client = Client(srv)  # room again
            assert client.ask(b"*IDN?") == b"Test,Counter,1,1"
            client.close()
        finally:
            for s in socks:
                s.close()


def test_a_driver_beyond_the_connection_limit_gets_connection_lost():
    cfg = BenchConfig.from_dict({"instruments": {"power_meter": {}}, "server": {"max_connections": 1}})
    with VirtualBench(cfg) as bench:
        first = bench.connect("power_meter", timeout_s=1.0)
        try:
            assert first.idn.model == "N7744A"
            second = N7744A(bench.resources["power_meter"], timeout_s=1.0)
            try:
                with pytest.raises(ConnectionLost):
                    second.idn
            finally:
                second.close()
            assert first.idn.model == "N7744A"
        finally:
            first.close()


def test_an_idle_client_is_disconnected_and_a_busy_one_is_not():
    idle_s = 0.2
    with ScpiServer(Counter(), limits=ServerLimits(idle_timeout_s=idle_s)) as srv:
        idle = Client(srv, timeout_s=2.0)
        busy = Client(srv, timeout_s=2.0)
        t0 = time.perf_counter()
        for _ in range(6):  # 0.6 s of traffic, one message per 0.1 s < idle_s
            assert busy.ask(b"*IDN?") == b"Test,Counter,1,1"
            time.sleep(0.1)
        assert idle.sock.recv(16) == b""  # closed by the server ...
        assert idle_s <= time.perf_counter() - t0  # ... not before its idle time
        assert busy.ask(b"*IDN?") == b"Test,Counter,1,1"
        assert srv.idle_disconnects == 1
        idle.close()
        busy.close()


# --- configuration ---------------------------------------------------------------------------------
def test_limit_defaults_and_validation():
    limits = ServerLimits()
    assert (limits.max_line_bytes, limits.max_connections, limits.idle_timeout_s) == (MAX_LINE_BYTES, 16, 300.0)
    assert MAX_LINE_BYTES == 64 * 1024
    assert ServerLimits(idle_timeout_s=None).idle_timeout_s is None
    for bad in ({"max_line_bytes": 10}, {"max_connections": 0}, {"idle_timeout_s": 0.0}, {"idle_timeout_s": -1.0}):
        with pytest.raises(InvalidParameter):
            ServerLimits(**bad)
    with pytest.raises(InvalidParameter, match="ServerLimits"):
        ScpiServer(Counter(), limits={"max_connections": 2})


def test_bench_server_table():
    cfg = BenchConfig.from_dict({"server": {"max_line_bytes": 4096, "idle_timeout_s": 5.0}}, source="b.toml")
    assert cfg.server == ServerLimits(max_line_bytes=4096, idle_timeout_s=5.0)
    with pytest.raises(ConfigError, match=r"b\.toml.*server\.max_lines"):
        BenchConfig.from_dict({"server": {"max_lines": 3}}, source="b.toml")
    with pytest.raises(ConfigError, match=r"b\.toml: \[server\].*max_connections"):
        BenchConfig.from_dict({"server": {"max_connections": 0}}, source="b.toml")
