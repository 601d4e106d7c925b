"""Transports under a driver: a pyvisa session, or anything with the same four methods.

A driver never touches pyvisa itself; it talks to an :class:`Adapter`.  :class:`VisaAdapter`
opens any VISA resource string (default backend ``"@py"`` = pyvisa-py, so
``TCPIP::host::5025::SOCKET``, ``TCPIP::host::INSTR`` (VXI-11) and
``TCPIP::host::hislip0::INSTR`` work without vendor VISA) and translates transport faults
into the toolkit's errors:

* no reply within the timeout -> :class:`~optics.errors.InstrumentTimeout` naming the resource;
* refused, reset or dropped connection, unknown resource -> :class:`~optics.errors.ConnectionLost`
  naming the resource.

The protocol-test adapter lives in :mod:`instruments.scpi.protocol`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from optics.errors import ConnectionLost, InstrumentError, InstrumentTimeout

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
        except pyvisa.errors.VisaIOError as exc:
            if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
                raise InstrumentTimeout(
                    f"{self.resource_name}: no reply within {self.timeout_s:g} s{what}"
                ) from None
            raise ConnectionLost(f"{self.resource_name}: VISA I/O error{what}: {exc.description}") from None
        except pyvisa.errors.InvalidSession:
            raise ConnectionLost(f"{self.resource_name}: session is closed{what}") from None
        except (pyvisa.errors.InvalidBinaryFormat, ValueError) as exc:
            from optics.errors import GarbledReply

            raise GarbledReply(f"{self.resource_name}: malformed reply{what}: {exc}") from None
        except TimeoutError:
            raise InstrumentTimeout(f"{self.resource_name}: no reply within {self.timeout_s:g} s{what}") from None
        except OSError as exc:
            raise ConnectionLost(f"{self.resource_name}: connection failed{what}: {exc}") from None
        except UnicodeDecodeError as exc:
            from optics.errors import GarbledReply

            raise GarbledReply(f"{self.resource_name}: reply is not text{what}: {exc}") from None

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
        self._require().write(command)

    @_translate
    def read(self) -> str:
        return self._require().read()

    @_translate
    def query(self, command: str) -> str:
        return self._require().query(command)

    @_translate
    def query_block(self, command: str) -> bytes:
        return self._require().query_binary_values(
            command, datatype="B", container=bytes, header_fmt="ieee", expect_termination=True
        )

    def _require(self) -> Any:
        if self._session is None:
            raise ConnectionLost(f"{self.resource_name}: session is closed")
        return self._session

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.close()
            except Exception:  # noqa: BLE001 - closing a dead session must not mask the cause
                pass
            self._session = None


__all__ = ["Adapter", "VisaAdapter"]
