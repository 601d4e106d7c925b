"""Symbol timing for TDECQ: a caller's timing checked and re-phased, or timing by pattern.

Step 2 of the TDECQ method (see :mod:`optics.tdecq`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from optics import validate
from optics.errors import InvalidParameter, InvalidType, NoEyeFound
from optics.waveform import Waveform


def _timing_by_pattern(wf: Waveform) -> Any:
    """Symbol timing of a waveform whose unequalized eye is closed, using its known pattern.

    Clock phase from the baud-rate spectral line of the squared slope (the method of
    :mod:`optics.timing`, which does not need an open eye); pattern offset from
    :func:`optics.timing.align_pattern` on the eye-centre samples (linear ISI keeps their
    correlation with the pattern high).

    Raises
    ------
    NoEyeFound
        No spectral line, or the pattern is not found decisively.
    """
    from optics.timing import (
        LINE_SNR_MIN,
        PATTERN_CORRELATION_MIN,
        PATTERN_SECOND_PEAK_MAX,
        SymbolTiming,
        align_pattern,
        sample_symbols,
    )

    x = wf.samples
    sps = wf.samples_per_symbol
    d2 = np.diff(x) ** 2
    n = np.arange(d2.size) + 0.5
    line = complex(np.sum(d2 * np.exp(-2j * math.pi * np.mod(n, sps) / sps)))
    noise = float(np.sqrt(np.sum(d2 * d2)))
    if noise == 0.0 or abs(line) / noise < LINE_SNR_MIN:
        raise NoEyeFound(
            f"no symbol-rate spectral line at {wf.symbol_rate_baud:g} Bd: wrong symbol rate or "
            "not a data signal"
        )
    centre = float(np.mod(-np.angle(line) * sps / (2.0 * math.pi) + 0.5 * sps, sps))
    if centre >= sps:
        centre = 0.0
    n_sym = int(math.floor((x.size - 1 - centre - 0.5 * sps) / sps)) + 1
    timing = SymbolTiming(sps, centre, n_sym, None)
    offset, rho, second = align_pattern(sample_symbols(wf, timing), wf.pattern)
    if rho < PATTERN_CORRELATION_MIN or second > PATTERN_SECOND_PEAK_MAX:
        raise NoEyeFound(
            f"no open PAM4 eye, and the known {wf.pattern.size}-symbol pattern was not found "
            f"in the waveform (correlation {rho:.2f}, at least {PATTERN_CORRELATION_MIN:g} "
            "needed): wrong symbol rate or pattern, or too much distortion"
        )
    return dataclasses.replace(timing, pattern_offset=offset)


def _check_timing(wf: Waveform, timing: Any) -> Any:
    """Validate a caller's :class:`~optics.timing.SymbolTiming` of ``wf``; return it.

    Raises
    ------
    InvalidType
        Not a SymbolTiming.
    InvalidParameter
        A rate more than ``MAX_RATE_OFFSET_PPM`` from ``wf``'s, a centre outside
        ``[0, sps)``, a symbol count other than the record's at that timing, or a pattern
        offset missing (``wf`` has a pattern), present (it has none) or out of range.
    """
    from optics.timing import MAX_RATE_OFFSET_PPM, SymbolTiming

    if not isinstance(timing, SymbolTiming):
        raise InvalidType(f"timing must be an optics.timing.SymbolTiming (from recover_timing), "
                          f"got {type(timing).__name__}")
    nominal = wf.samples_per_symbol
    sps = validate.positive("timing.samples_per_symbol", timing.samples_per_symbol)
    if abs(sps / nominal - 1.0) > MAX_RATE_OFFSET_PPM * 1e-6:
        raise InvalidParameter(
            f"timing.samples_per_symbol = {sps:.9g} differs from the waveform's {nominal:.9g} by "
            f"more than {MAX_RATE_OFFSET_PPM:g} ppm: a timing of another waveform?"
        )
    centre = validate.real("timing.centre_index", timing.centre_index)
    if not 0.0 <= centre < sps:
        raise InvalidParameter(
            f"timing.centre_index = {centre:g} must lie in [0, {sps:g}) (samples)"
        )
    expected = int(math.floor((wf.n_samples - 1 - centre - 0.5 * sps) / sps)) + 1
    if timing.n_symbols != expected:
        raise InvalidParameter(
            f"timing.n_symbols = {timing.n_symbols} but this {wf.n_samples}-sample record holds "
            f"{expected} symbols at that timing: a timing of another waveform?"
        )
    off = timing.pattern_offset
    if wf.pattern is None:
        if off is not None:
            raise InvalidParameter(
                f"timing.pattern_offset = {off} but the waveform carries no pattern"
            )
    elif off is None or isinstance(off, bool) or not isinstance(off, (int, np.integer)) \
            or not 0 <= off < wf.pattern.size:
        raise InvalidParameter(
            f"timing.pattern_offset = {_offset_text(off)}: the waveform carries a "
            f"{wf.pattern.size}-symbol pattern, so an offset in 0..{wf.pattern.size - 1} (from "
            "recover_timing) is needed"
        )
    return timing


def _offset_text(off: Any) -> str:
    """A pattern offset for a message: a NumPy integer as the Python int it holds."""
    return repr(off.item() if isinstance(off, np.generic) else off)


def _rephase(filt: Waveform, given: Any) -> Any:
    """Symbol timing of the filtered waveform from the caller's timing of the unfiltered one
    (:func:`optics.timing.rephase_timing`: rate and pattern alignment kept, clock phase
    measured on ``filt``).

    Raises
    ------
    NoEyeFound
        No baud-rate line in the filtered waveform.
    """
    from optics.timing import rephase_timing

    return rephase_timing(filt, given)
