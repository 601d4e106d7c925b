"""The compliance channel of a transmitter test: the fibre TDECQ is measured through.

IEEE 802.3 measures TDECQ after a compliance fibre at the dispersion extremes of the PMD (both
signs, reference notes section 2.1 step 2: "The dispersion is what separates TDECQ from TECQ";
121.8.5, 124.8.5, 140.7.5, 180.9.x) and TECQ back-to-back, without it.  The extremes are those
of the PHY table's ``[dispersion]`` model (:class:`optics.phy.dispersion.DispersionLimits`):
``D(λ) L`` with ``D = S0/4 (λ - λ0⁴/λ³)`` over the PHY's reach, most negative at the shortest
wavelength of its window with λ0 = 1324 nm, most positive at the longest with λ0 = 1300 nm
(1.6TBASE-DR8, 500 m of 1304.5-1317.5 nm: -0.927 / +0.80 ps/nm).

:func:`compliance_channel` picks the extreme of the larger magnitude, at its wavelength: for the
chirp-free field below the power-fading transfer of the fibre is ``cos θ``,
``θ = π λ² D L f² / c`` (:func:`models.fiber.fading_notch_frequencies_hz`), even in ``D``, so
both signs close the eye alike and the larger ``|D L|`` is the worse one.
:func:`through_compliance_fibre` propagates a transmitter's power record through it.

ASSUMPTION (stated, not from a source): the field is rebuilt from the power record as
``E = sqrt(P)``, i.e. without the modulator's chirp (a push-pull silicon Mach-Zehnder is close
to chirp-free; a chirped transmitter's TDECQ would differ between the two signs).  The fibre's
loss is not applied: TDECQ is scale-free, and the compliance channel's OMA is not what the Tx
OMA rows judge (those are measured at TP2, back-to-back).

One code path: yield prediction (:mod:`optics.volume.evaluate`), the virtual bench's scope
(:mod:`instruments.virtual.physics`) and ``optics simulate`` (:func:`models.lane_metrics.tx_metrics`)
all measure ``tdecq_db`` on :func:`through_compliance_fibre` of the Tx record and ``tecq_db`` on
the record itself.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from models.fiber import propagate_dispersion
from models.laser import OpticalField
from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Quantity, Waveform

#: Metadata key of the dispersion a record passed (``optics.tdecq.variants.DISPERSION_META_KEY``).
DISPERSION_META_KEY = "dispersion_ps_per_nm"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComplianceChannel:
    """The compliance fibre of a transmitter test (frozen).

    Parameters
    ----------
    dispersion_ps_per_nm : float
        Accumulated dispersion ``D L`` of the fibre, ps/nm, finite (|D L| <= 1000).
    wavelength_m : float
        The wavelength it is taken at (the worst one of the PHY's window), m, 1.0e-6 ... 1.7e-6.
    source : str
        Where the numbers come from (PHY, reach, window, fibre model).
    """

    dispersion_ps_per_nm: float
    wavelength_m: float
    source: str = ""

    def __post_init__(self) -> None:
        validate.in_range("dispersion_ps_per_nm", self.dispersion_ps_per_nm, -1000.0, 1000.0, unit="ps/nm")
        validate.in_range("wavelength_m", self.wavelength_m, 1.0e-6, 1.7e-6, unit="m")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``tdecq_compliance_channel`` of the Tx metrics)."""
        return dataclasses.asdict(self)


def compliance_channel(spec: Any) -> ComplianceChannel | None:
    """The compliance fibre of PHY ``spec`` (a :class:`optics.phy.PhySpec`): the dispersion
    extreme of the larger magnitude over its reach, at that extreme's wavelength (module notes);
    None for a table without a ``[dispersion]`` model.

    Examples
    --------
    >>> from optics.phy import load_phy
    >>> ch = compliance_channel(load_phy("1.6TBASE-DR8"))
    >>> round(ch.dispersion_ps_per_nm, 3), round(ch.wavelength_m * 1e9, 1)
    (-0.927, 1304.5)
    """
    d = getattr(spec, "dispersion", None)
    if d is None:
        return None
    if abs(d.min_ps_per_nm) >= abs(d.max_ps_per_nm):
        disp, lam_nm = d.min_ps_per_nm, d.window_nm[0]
    else:
        disp, lam_nm = d.max_ps_per_nm, d.window_nm[1]
    return ComplianceChannel(
        dispersion_ps_per_nm=float(disp), wavelength_m=float(lam_nm) * 1e-9,
        source=(f"{spec.name}: {d.reach_m:g} m of G.652 fibre, D = S0/4 (λ - λ0^4/λ^3), S0 {d.s0_ps_per_nm2_km:g} "
                f"ps/(nm^2 km), λ0 {d.lambda0_range_nm[0]:g}-{d.lambda0_range_nm[1]:g} nm, window "
                f"{d.window_nm[0]:g}-{d.window_nm[1]:g} nm: extremes {d.min_ps_per_nm:.4g} / {d.max_ps_per_nm:.4g} "
                "ps/nm, the larger magnitude taken"))


def through_compliance_fibre(wf: Waveform, channel: ComplianceChannel) -> Waveform:
    """A transmitter's optical-power record after the compliance fibre (chirp-free field).

    ``E = sqrt(P)``; ``E_out(f) = E(f) exp(-j β2 L/2 ω²)`` with ``β2 L = -D L λ²/(2πc)``
    (:func:`models.fiber.propagate_dispersion`); returns ``|E_out|²`` with
    ``meta["dispersion_ps_per_nm"]`` and ``meta["compliance_wavelength_m"]``.  Zero dispersion
    returns the record's samples unchanged.

    Raises
    ------
    InvalidType
        ``wf`` not an optical-power :class:`optics.Waveform`, or ``channel`` not a
        :class:`ComplianceChannel`.
    InvalidParameter
        A record with negative power (no field can be built from it).
    """
    if not isinstance(wf, Waveform) or wf.quantity is not Quantity.OPTICAL_POWER:
        raise InvalidType(f"the compliance fibre takes an optical-power Waveform, got {wf!r}")
    if not isinstance(channel, ComplianceChannel):
        raise InvalidType(f"channel must be a models.compliance.ComplianceChannel, got {type(channel).__name__}")
    p = np.asarray(wf.samples, dtype=np.float64)
    low = float(p.min())
    if low < 0.0:
        raise InvalidParameter(f"the record has negative optical power ({low:.3g} W): no field sqrt(P) to propagate")
    meta = {**(wf.meta or {}), DISPERSION_META_KEY: channel.dispersion_ps_per_nm,
            "compliance_wavelength_m": channel.wavelength_m}
    if channel.dispersion_ps_per_nm == 0.0:
        return wf.with_samples(p, meta=meta)
    light = OpticalField(field=np.sqrt(p).astype(np.complex128), sample_rate_hz=wf.sample_rate_hz,
                         wavelength_m=channel.wavelength_m)
    out = propagate_dispersion(light, channel.dispersion_ps_per_nm)
    return wf.with_samples(np.abs(out.field) ** 2, meta=meta)


def fading_angle_rad(channel: ComplianceChannel, frequency_hz: float) -> float:
    """``θ = π λ² D L f² / c`` of the fibre at ``frequency_hz`` (the small-signal intensity transfer
    of a chirp-free field is ``cos θ``)."""
    from models.laser import C_M_PER_S

    f = validate.non_negative("frequency_hz", frequency_hz, "Hz")
    return math.pi * channel.wavelength_m**2 * channel.dispersion_ps_per_nm * 1e-3 * f**2 / C_M_PER_S


__all__ = ["ComplianceChannel", "compliance_channel", "fading_angle_rad", "through_compliance_fibre"]
