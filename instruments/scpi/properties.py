"""Declarative SCPI property maps, in the spirit of PyMeasure's ``Instrument.control``.

A driver reads like its programming guide::

    class Attenuator(ScpiInstrument):
        attenuation_db = control(
            ":INP1:ATT?", ":INP1:ATT {value}",
            "Control the attenuation in dB.",
            validator=strict_range(0.0, 60.0, "dB"))

* ``control(get_cmd, set_cmd, doc, ...)``: read and write; ``measurement(get_cmd, doc, ...)``:
  read-only; ``setting(set_cmd, doc, ...)``: write-only.
* Commands are ``str.format`` templates: ``{value}`` is the formatted value; any other field
  (``{slot}``, ``{ch}``, ``{loc}``...) comes from the owner's ``context`` (a channel's address).
* Order on set: validator (refuses out-of-range values: ``InvalidParameter``) -> safety limit
  (``SafetyLimitError``) -> ``set_process`` (SI -> instrument unit) -> send -> error queue
  (``ScpiError``).  Nothing is sent when validation or the safety check fails.
* On get: reply parsed by ``kind`` (``float``, ``int``, ``bool``, ``str`` or a ``choices``
  mapping); invalid markers raise ``MeasurementInvalid``; then ``get_process`` (instrument unit
  -> SI).  A ``measurement`` reads the error queue after its query, before parsing
  (``ScpiError``; see :meth:`ScpiInstrument.ask_measurement`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instruments.scpi import replies
from instruments.scpi.validators import Validator, strict_discrete_set


def format_number(value: float) -> str:
    """Format a number for a SCPI command: shortest round-trip form, no unit suffix."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.12g}"


def match_choice(reply: str, choices: Mapping[Any, str]) -> Any:
    """Map an instrument token back to its Python value (short/long form, any case)."""
    text = replies.strip_reply(reply).upper()
    for key, token in choices.items():
        tok = token.upper()
        if text == tok:
            return key
    try:  # numeric tokens: "+1" == "1", "1.0E+00" == "1"
        number = float(text)
        for key, token in choices.items():
            try:
                if float(token) == number:
                    return key
            except ValueError:
                continue
    except ValueError:
        pass
    for key, token in choices.items():
        tok = token.upper()
        # SCPI long/short forms: "OSCILLOSCOPE" vs "OSC", "ATTENUATION" vs "ATT"
        if text and (text.startswith(tok) or tok.startswith(text)):
            return key
    raise replies.GarbledReply(f"reply {reply!r} is none of {sorted(set(choices.values()))}")


class ScpiProperty:
    """Descriptor behind :func:`control`, :func:`measurement` and :func:`setting`."""

    def __init__(
        self,
        get_cmd: str | None,
        set_cmd: str | None,
        doc: str,
        *,
        validator: Validator | None = None,
        kind: type = float,
        choices: Mapping[Any, str] | None = None,
        get_process: Callable[[Any], Any] | None = None,
        set_process: Callable[[Any], Any] | None = None,
        check_set_errors: bool = True,
        safety: str | None = None,
    ) -> None:
        self.get_cmd = get_cmd
        self.set_cmd = set_cmd
        self.__doc__ = doc
        self.kind = kind
        self.choices = dict(choices) if choices is not None else None
        if validator is None and self.choices is not None:
            validator = strict_discrete_set(self.choices.keys())
        self.validator = validator
        self.get_process = get_process
        self.set_process = set_process
        self.check_set_errors = check_set_errors
        self.safety = safety
        self.name = "<property>"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    # --- get ---------------------------------------------------------------------------
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if self.get_cmd is None:
            raise AttributeError(f"{self.name} is write-only (a setting); it cannot be read")
        command = self.get_cmd.format(**obj.context)
        # a measurement (read-only property) is followed by an error-queue read
        reply = obj.ask_measurement(command) if self.set_cmd is None else obj.ask(command)
        value = self.parse(reply, command, obj.resource_name)
        return self.get_process(value) if self.get_process else value

    def parse(self, reply: str, command: str, resource: str) -> Any:
        """Parse one reply according to ``kind``/``choices``."""
        if self.choices is not None:
            try:
                return match_choice(reply, self.choices)
            except replies.GarbledReply as exc:
                raise replies.GarbledReply(f"{exc} (to {command!r} from {resource})") from None
        if self.kind is bool:
            return replies.parse_bool(reply, command=command, resource=resource)
        if self.kind is int:
            return replies.parse_int(reply, command=command, resource=resource)
        if self.kind is str:
            return replies.strip_reply(reply)
        return replies.parse_float(reply, command=command, resource=resource)

    # --- set ---------------------------------------------------------------------------
    def __set__(self, obj: Any, value: Any) -> None:
        if self.set_cmd is None:
            raise AttributeError(f"{self.name} is read-only (a measurement); it cannot be set")
        if self.validator is not None:
            value = self.validator(value, self.name)
        if self.safety is not None:
            obj.check_safety(self.safety, value)
        raw = self.set_process(value) if self.set_process else value
        if self.choices is not None:
            token = self.choices[raw]
        elif isinstance(raw, str):
            token = raw
        else:
            token = format_number(raw)
        command = self.set_cmd.format(value=token, **obj.context)
        obj.write(command)
        if self.check_set_errors:
            obj.check_errors(command)


def control(get_cmd: str, set_cmd: str, doc: str, **kwargs: Any) -> Any:
    """A read/write property; see :class:`ScpiProperty` for the keywords."""
    return ScpiProperty(get_cmd, set_cmd, doc, **kwargs)


def measurement(get_cmd: str, doc: str, **kwargs: Any) -> Any:
    """A read-only property (setting it raises ``AttributeError``)."""
    return ScpiProperty(get_cmd, None, doc, **kwargs)


def setting(set_cmd: str, doc: str, **kwargs: Any) -> Any:
    """A write-only property (reading it raises ``AttributeError``)."""
    return ScpiProperty(None, set_cmd, doc, **kwargs)


__all__ = ["ScpiProperty", "control", "format_number", "match_choice", "measurement", "setting"]
