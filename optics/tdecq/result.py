"""The frozen result and the validated settings of :func:`optics.tdecq.tdecq`."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from optics import validate
from optics.equalizer import MAX_TAPS, check_precursors, check_taps
from optics.errors import InvalidParameter, InvalidType
from optics.tdecq.ser import DEFAULT_TARGET_SER, q_target
from optics.waveform import Waveform


@dataclasses.dataclass(frozen=True, kw_only=True)
class TDECQResult:
    """Result of :func:`tdecq` (frozen).  Values in the waveform's SI unit unless stated.

    Attributes
    ----------
    tdecq_db : float
        TDECQ in dB (``inf`` when ``eye_closed``).
    ceq : float
        Noise-enhancement coefficient of the reference FFE (dimensionless).
    ceq_db : float
        ``10 log10(ceq)`` in dB; the PMD tables also limit ``tdecq_db - ceq_db``.
    taps : tuple of float
        Reference FFE taps (sum 1), main cursor at index ``n_precursors``.
    n_precursors : int
        Index of the main cursor.
    sigma_g : float
        Largest Gaussian noise (equalizer input) meeting the target SER.
    sigma_scope : float
        Scope noise credited, sigma_S.
    thresholds : tuple of float
        The three decision thresholds used (lowest first).
    levels : tuple of float
        Mean equalized value in each decision region (lowest first), in the windows.
    window_centres_ui : tuple of float
        Centres of the left and right histogram windows, UI from the eye crossing.
    window_width_ui : float
        Width of each window in UI.
    oma_outer : float
        OMA_outer = P3 - P0.
    average_power : float
        P_ave (mean of the samples).
    q_t : float
        ``Q^-1(target_ser/1.5)``.
    target_ser : float
        Target symbol error ratio.
    ser_left, ser_right : float
        SER of each window at the decision-point noise ``ceq * sigma_g`` (the larger
        equals ``target_ser``); for a closed eye, the SER floor as that noise -> 0.
    eye_closed : bool
        True when no noise level meets the target (``tdecq_db = inf``).
    bandwidth_hz : float
        Reference-receiver bandwidth (applied here, or assumed already applied).
    reference_filter : bool
        Whether the Bessel-Thomson filter was applied by :func:`tdecq`.
    unit : str
        Unit of the waveform (W, V, A).
    waveform : Waveform
        The reference-receiver output the measurement used (before the FFE; kept for
        :meth:`plot` and :meth:`equalized_waveform`, not part of ``to_dict``).
    timing : optics.timing.SymbolTiming
        Its recovered symbol timing.
    """

    tdecq_db: float
    ceq: float
    ceq_db: float
    taps: tuple[float, ...]
    n_precursors: int
    sigma_g: float
    sigma_scope: float
    thresholds: tuple[float, float, float]
    levels: tuple[float, float, float, float]
    window_centres_ui: tuple[float, float]
    window_width_ui: float
    oma_outer: float
    average_power: float
    q_t: float
    target_ser: float
    ser_left: float
    ser_right: float
    eye_closed: bool
    bandwidth_hz: float
    reference_filter: bool
    unit: str
    waveform: Waveform | None = dataclasses.field(default=None, repr=False, compare=False)
    timing: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def tdecq_minus_ceq_db(self) -> float:
        """``TDECQ - 10 log10(C_eq)`` in dB (limited separately in 802.3cd/cu/df tables)."""
        return self.tdecq_db - self.ceq_db

    def equalized_waveform(self) -> Waveform:
        """The reference-receiver output after the reference FFE (whole waveform)."""
        from optics.equalizer import apply_ffe

        if self.waveform is None:
            raise InvalidParameter("this TDECQResult carries no waveform to equalize")
        return apply_ffe(self.waveform, self.taps, n_precursors=self.n_precursors)

    def plot(self, ax: Any = None) -> Any:
        """Draw the equalized eye with its levels, the thresholds and the two windows.

        Uses :func:`optics.eye.plot_eye`; returns the matplotlib Axes.
        """
        from optics.eye import plot_eye

        return plot_eye(
            self.equalized_waveform(),
            ax=ax,
            timing=self.timing,
            levels=np.array(self.levels),
            thresholds=list(self.thresholds),
            windows_ui=[(c, self.window_width_ui) for c in self.window_centres_ui],
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON (``tdecq_db`` is ``inf`` for a closed eye)."""
        return {
            "tdecq_db": self.tdecq_db,
            "ceq": self.ceq,
            "ceq_db": self.ceq_db,
            "tdecq_minus_ceq_db": self.tdecq_minus_ceq_db,
            "taps": list(self.taps),
            "n_precursors": self.n_precursors,
            "sigma_g": self.sigma_g,
            "sigma_scope": self.sigma_scope,
            "thresholds": list(self.thresholds),
            "levels": list(self.levels),
            "window_centres_ui": list(self.window_centres_ui),
            "window_width_ui": self.window_width_ui,
            "oma_outer": self.oma_outer,
            "average_power": self.average_power,
            "q_t": self.q_t,
            "target_ser": self.target_ser,
            "ser_left": self.ser_left,
            "ser_right": self.ser_right,
            "eye_closed": self.eye_closed,
            "bandwidth_hz": self.bandwidth_hz,
            "reference_filter": self.reference_filter,
            "unit": self.unit,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class TDECQSettings:
    """Validated settings of :func:`tdecq` (see there for the meaning of each field)."""

    reference_filter: bool = True
    bandwidth_hz: float | None = None
    filter_order: int = 4
    n_taps: int = 5
    n_precursors: int | None = None
    taps: tuple[float, ...] | None = None
    optimize_taps: bool = True
    target_ser: float = DEFAULT_TARGET_SER
    sigma_scope: float = 0.0
    window_width_ui: float = 0.04
    window_spacing_ui: float = 0.10
    optimize_eye_centre: bool = True
    eye_centre_range_ui: float = 0.10
    optimize_thresholds: bool = False
    threshold_range_oma: float = 0.05

    def __post_init__(self) -> None:
        flags = ("reference_filter", "optimize_taps", "optimize_eye_centre", "optimize_thresholds")
        for name in flags:
            if not isinstance(getattr(self, name), bool):
                raise InvalidType(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.bandwidth_hz is not None:
            validate.positive("bandwidth_hz", self.bandwidth_hz, "Hz")
        validate.integer("filter_order", self.filter_order, 1, 10)
        validate.integer("n_taps", self.n_taps, 1, MAX_TAPS)
        check_precursors(self.n_precursors, self.n_taps)
        if self.taps is not None:
            taps = check_taps(self.taps)
            if taps.size != self.n_taps:
                raise InvalidParameter(
                    f"taps has {taps.size} values but n_taps = {self.n_taps}; give both "
                    "consistently"
                )
            if abs(float(taps.sum()) - 1.0) > 1e-6:
                raise InvalidParameter(
                    f"taps must sum to 1 (unity DC gain), they sum to {float(taps.sum()):.6g}"
                )
            object.__setattr__(self, "taps", tuple(float(v) for v in taps))
        q_target(self.target_ser)
        validate.non_negative("sigma_scope", self.sigma_scope)
        validate.in_range("window_width_ui", self.window_width_ui, 0.0, 0.5, low_inclusive=False)
        validate.in_range("window_spacing_ui", self.window_spacing_ui, 0.0, 0.8)
        if self.window_spacing_ui + self.window_width_ui > 0.9:
            raise InvalidParameter(
                f"window_spacing_ui + window_width_ui = "
                f"{self.window_spacing_ui + self.window_width_ui:g} UI: the windows must stay "
                "inside the eye (at most 0.9 UI)"
            )
        validate.in_range("eye_centre_range_ui", self.eye_centre_range_ui, 0.0, 0.3, unit="UI")
        validate.in_range("threshold_range_oma", self.threshold_range_oma, 0.0, 1.0 / 6.0)
