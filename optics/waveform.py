"""The one object that flows through the toolkit: a sampled waveform.

A :class:`Waveform` is produced by the link models in :mod:`models`, by the scope drivers in
:mod:`instruments` and by the file readers in :mod:`optics.io`; every metric, verdict and
plot in :mod:`optics` takes it.  Simulated and measured links therefore share one analysis
path.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from optics import validate
from optics.errors import InvalidParameter, InvalidType, InvalidWaveform

#: Fewest samples per symbol for which eye and TDECQ analysis is meaningful.
MIN_SAMPLES_PER_SYMBOL = 2.0
#: Largest sample magnitude accepted (SI units).  Far beyond any physical power, voltage or
#: current, it keeps squares and fourth powers in the analysis finite in float64.
MAX_ABS_SAMPLE = 1e60


class Quantity(enum.Enum):
    """Physical quantity held by a waveform, with its SI unit and its CSV column name."""

    OPTICAL_POWER = ("optical_power", "W", "power_w")
    VOLTAGE = ("voltage", "V", "voltage_v")
    CURRENT = ("current", "A", "current_a")

    def __init__(self, label: str, unit: str, column: str) -> None:
        self.label = label
        self.unit = unit
        self.column = column

    @classmethod
    def parse(cls, value: Quantity | str) -> Quantity:
        """Accept a :class:`Quantity`, its label (``"optical_power"``), unit (``"W"``) or column."""
        if isinstance(value, Quantity):
            return value
        if isinstance(value, str):
            key = value.strip()
            for q in cls:
                if key in (q.label, q.unit, q.column, q.name, q.name.lower()):
                    return q
        allowed = ", ".join(q.label for q in cls)
        raise InvalidParameter(f"unknown quantity {value!r}; allowed: {allowed}")


def _readonly(arr: np.ndarray) -> np.ndarray:
    """A read-only array of the samples: a copy, unless ``arr`` is already read-only and owns
    its memory (nobody holds a writable view of it then: a model hands over a fresh record
    without a second copy)."""
    if arr.base is None and not arr.flags.writeable and arr.flags.c_contiguous:
        return arr
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class Waveform:
    """A uniformly sampled real waveform, validated at construction and read-only.

    Parameters
    ----------
    samples : array_like of float
        The samples, in the SI unit of ``quantity`` (W, V or A).  1-D, finite, at least 2.
    sample_rate_hz : float
        Sample rate in Hz, > 0.
    quantity : Quantity or str
        What the samples are: ``"optical_power"`` (W), ``"voltage"`` (V) or ``"current"`` (A).
    symbol_rate_baud : float, optional
        Symbol rate in Bd if the waveform carries symbols.  Must give at least
        ``MIN_SAMPLES_PER_SYMBOL`` samples per symbol.
    pattern : array_like of int, optional
        The known, periodically repeated PAM4 symbol pattern (values 0..3).  It says nothing
        about alignment: analysis finds where the pattern starts in the samples.
    meta : mapping, optional
        Free metadata: ``source`` (``"model"``, ``"instrument"``, ``"file"``), settings,
        ``seed``, ``instrument_idn`` ...  Stored read-only.
    t0_s : float, optional
        Time of the first sample in s (default 0).

    Raises
    ------
    InvalidWaveform
        Empty, non-1-D or non-finite samples; non-positive rates; too few samples per
        symbol; pattern values outside 0..3.

    Examples
    --------
    >>> import numpy as np
    >>> from optics import Waveform
    >>> wf = Waveform(samples=np.full(64, 1e-3), sample_rate_hz=1e12, quantity="optical_power")
    >>> wf.duration_s
    6.4e-11
    """

    samples: np.ndarray
    sample_rate_hz: float
    quantity: Quantity = Quantity.OPTICAL_POWER
    symbol_rate_baud: float | None = None
    pattern: np.ndarray | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    t0_s: float = 0.0

    def __post_init__(self) -> None:
        try:
            samples = validate.finite_array("samples", self.samples, ndim=1, min_size=2)
            rate = validate.positive("sample_rate_hz", self.sample_rate_hz, "Hz")
            t0 = validate.real("t0_s", self.t0_s)
        except (InvalidParameter, InvalidType) as exc:
            raise InvalidWaveform(str(exc)) from None
        peak = max(float(samples.max()), -float(samples.min()))  # no |x| array
        if peak > MAX_ABS_SAMPLE:
            raise InvalidWaveform(
                f"samples reach {peak:.3g} in magnitude; the allowed range is +/-{MAX_ABS_SAMPLE:g} "
                f"(SI units: no optical power, voltage or current comes near it)"
            )
        object.__setattr__(self, "samples", _readonly(samples))
        object.__setattr__(self, "sample_rate_hz", rate)
        object.__setattr__(self, "t0_s", t0)
        object.__setattr__(self, "quantity", Quantity.parse(self.quantity))
        if self.symbol_rate_baud is not None:
            try:
                baud = validate.positive("symbol_rate_baud", self.symbol_rate_baud, "Bd")
            except (InvalidParameter, InvalidType) as exc:
                raise InvalidWaveform(str(exc)) from None
            sps = rate / baud
            if not np.isfinite(sps):  # e.g. 1e300 Hz / 1e-10 Bd overflows
                raise InvalidWaveform(
                    f"sample_rate_hz / symbol_rate_baud = {rate:g} / {baud:g} overflows; "
                    "check the units of both rates"
                )
            if sps < MIN_SAMPLES_PER_SYMBOL:
                raise InvalidWaveform(
                    f"symbol_rate_baud = {baud:g} Bd gives {sps:.3g} samples per symbol at "
                    f"sample_rate_hz = {rate:g} Hz; at least {MIN_SAMPLES_PER_SYMBOL:g} are needed"
                )
            object.__setattr__(self, "symbol_rate_baud", baud)
        if self.pattern is not None:
            pat = np.asarray(self.pattern)
            if pat.ndim != 1 or pat.size == 0:
                raise InvalidWaveform(f"pattern must be a non-empty 1-D array, got shape {pat.shape}")
            if pat.dtype == bool or not (np.issubdtype(pat.dtype, np.integer)
                                         or np.issubdtype(pat.dtype, np.floating)):
                raise InvalidWaveform(
                    f"pattern must hold integer PAM4 symbols 0..3, got dtype {pat.dtype}"
                )
            if not np.issubdtype(pat.dtype, np.integer):
                if not np.all(np.isfinite(pat)) or not np.all(pat == np.round(pat)):
                    raise InvalidWaveform("pattern must hold integer PAM4 symbols 0..3")
            if pat.min() < 0 or pat.max() > 3:
                raise InvalidWaveform(
                    f"pattern symbols must be in 0..3, got values from {pat.min()} to {pat.max()}"
                )
            object.__setattr__(self, "pattern", _readonly(pat.astype(np.uint8)))
        if not isinstance(self.meta, Mapping):
            raise InvalidWaveform(f"meta must be a mapping, got {type(self.meta).__name__}")
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    # --- derived quantities ---------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.samples.size)

    @property
    def unit(self) -> str:
        """SI unit of the samples."""
        return self.quantity.unit

    @property
    def dt_s(self) -> float:
        """Sample interval in s."""
        return 1.0 / self.sample_rate_hz

    @property
    def duration_s(self) -> float:
        """Length of the record in s (``n_samples / sample_rate_hz``)."""
        return self.n_samples / self.sample_rate_hz

    @property
    def time_s(self) -> np.ndarray:
        """Sample times in s, starting at ``t0_s``."""
        return self.t0_s + np.arange(self.n_samples) / self.sample_rate_hz

    @property
    def samples_per_symbol(self) -> float:
        """Samples per symbol; requires ``symbol_rate_baud``."""
        return self.sample_rate_hz / self.require_symbol_rate()

    @property
    def n_symbols(self) -> float:
        """Number of symbol periods in the record; requires ``symbol_rate_baud``."""
        return self.n_samples / self.samples_per_symbol

    def require_symbol_rate(self) -> float:
        """Return the symbol rate or raise :class:`InvalidWaveform` if it is unknown."""
        if self.symbol_rate_baud is None:
            raise InvalidWaveform(
                "this analysis needs the symbol rate: give symbol_rate_baud to the Waveform "
                "(or --symbol-rate on the command line)"
            )
        return self.symbol_rate_baud

    # --- derived waveforms ----------------------------------------------------------
    def replace(self, **changes: Any) -> Waveform:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def with_samples(self, samples: np.ndarray, **changes: Any) -> Waveform:
        """Return a copy carrying new samples (e.g. after a filter) and the same timing."""
        return dataclasses.replace(self, samples=samples, **changes)

    def with_meta(self, **entries: Any) -> Waveform:
        """Return a copy with ``entries`` added to the metadata."""
        meta = dict(self.meta)
        meta.update(entries)
        return dataclasses.replace(self, meta=meta)

    def __repr__(self) -> str:
        baud = f", symbol_rate_baud={self.symbol_rate_baud:g}" if self.symbol_rate_baud else ""
        pat = f", pattern={self.pattern.size} symbols" if self.pattern is not None else ""
        return (
            f"Waveform({self.n_samples} samples of {self.quantity.label} [{self.unit}], "
            f"sample_rate_hz={self.sample_rate_hz:g}{baud}{pat})"
        )
