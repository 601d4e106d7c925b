"""Protocol tests without hardware: scripted command/reply pairs instead of a socket.

:func:`expected_protocol` builds a driver on a :class:`ProtocolAdapter` and checks, when the
``with`` block ends, that every scripted pair was used, in order, and that nothing else was
sent.  A reply may be

* ``None``: the command is a setting, nothing is read back;
* a ``str``: the text line the instrument answers;
* ``bytes``: an IEEE 488.2 block (read by :meth:`Adapter.query_block`);
* an exception instance or class: raised when the reply is read (fault injection, e.g.
  ``InstrumentTimeout``).

Examples
--------
>>> from instruments.keysight.n77xx import N7744A
>>> with expected_protocol(N7744A, [(":SENS1:POW:WAV 1.31e-06", None),
...                                 (":SYST:ERR?", '+0,"No error"')]) as opm:
...     opm.port(1).wavelength_m = 1.31e-6
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from instruments.scpi.adapters import Adapter
from instruments.scpi.replies import parse_ieee_block

Reply = str | bytes | BaseException | type | None


class ProtocolAdapter(Adapter):
    """An adapter that plays back ``[(command, reply), ...]`` and fails on any deviation.

    Deviations raise ``AssertionError`` (this is test tooling: a mismatch is a failed test).
    """

    def __init__(self, pairs: Sequence[tuple[str, Reply]], resource_name: str = "protocol-test") -> None:
        self.resource_name = resource_name
        self._pairs = list(pairs)
        self._index = 0
        self._pending: Reply = None
        self._has_pending = False
        self.sent: list[str] = []

    def write(self, command: str) -> None:
        if self._has_pending:
            raise AssertionError(
                f"wrote {command!r} while the reply {self._pending!r} to the previous query was never read"
            )
        if self._index >= len(self._pairs):
            raise AssertionError(f"unexpected extra command {command!r}; all {len(self._pairs)} pairs already used")
        expected, reply = self._pairs[self._index]
        if command != expected:
            raise AssertionError(f"pair {self._index}: expected command {expected!r}, driver sent {command!r}")
        self.sent.append(command)
        self._index += 1
        if reply is not None:
            self._pending = reply
            self._has_pending = True

    def _take(self) -> Reply:
        if not self._has_pending:
            last = self.sent[-1] if self.sent else None
            raise AssertionError(f"read with no scripted reply pending (last command {last!r})")
        reply = self._pending
        self._pending, self._has_pending = None, False
        if isinstance(reply, BaseException) or (isinstance(reply, type) and issubclass(reply, BaseException)):
            raise reply if isinstance(reply, BaseException) else reply(f"{self.resource_name}: scripted fault")
        return reply

    def read(self) -> str:
        reply = self._take()
        if isinstance(reply, bytes):
            return reply.decode("ascii", errors="replace").rstrip("\n")
        return str(reply)

    def query_block(self, command: str) -> bytes:
        self.write(command)
        reply = self._take()
        if isinstance(reply, str):
            reply = reply.encode("latin-1")
        return parse_ieee_block(reply, command=command, resource=self.resource_name)

    def check_all_consumed(self) -> None:
        """Raise ``AssertionError`` unless every pair was used and every reply read."""
        if self._has_pending:
            raise AssertionError(f"reply {self._pending!r} to {self.sent[-1]!r} was never read")
        if self._index != len(self._pairs):
            rest = [c for c, _ in self._pairs[self._index :]]
            raise AssertionError(f"{len(rest)} scripted command(s) never sent: {rest}")


@contextlib.contextmanager
def expected_protocol(driver_class: type, pairs: Sequence[tuple[str, Reply]], **kwargs: Any) -> Iterator[Any]:
    """Context manager yielding ``driver_class(ProtocolAdapter(pairs), **kwargs)``.

    On leaving the block (without an exception) asserts that every pair was consumed in order.

    Parameters
    ----------
    driver_class : type
        A driver taking an adapter as its first argument.
    pairs : sequence of (str, reply)
        The exact commands the driver must send and the replies to give.
    **kwargs
        Passed to the driver (safety limits, channel names...).
    """
    adapter = ProtocolAdapter(pairs)
    inst = driver_class(adapter, **kwargs)
    yield inst
    adapter.check_all_consumed()


__all__ = ["ProtocolAdapter", "expected_protocol"]
