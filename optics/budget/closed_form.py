"""Closed-form physics of a link budget: penalty formulas and :class:`ClosedFormPhysics`.

Closed-form penalty estimates, each documented where it is computed: ER (OMA vs average power),
dispersion (small-signal power fading at the Nyquist frequency), RIN and MPI (Q degradation by
added Gaussian noise), the transmitter's own eye closure, and a thermal-noise-limited receiver.
The formulas are pure functions (Q for a PAM4 SER or BER, the Bessel-Thomson noise bandwidth,
the penalties); :class:`ClosedFormPhysics` combines them into the default physics column of
:func:`optics.budget.link_budget`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import integrate, special

from optics import validate
from optics.budget.conditions import T_REF_C, LinkConditions
from optics.budget.ledger import BudgetColumn, BudgetItem, _margin
from optics.budget.standard import _channel_items, _row_value, _rows, _single, _tx_oma
from optics.phy import PhySpec
from optics.phy.dispersion import LAMBDA0_RANGE_NM, dispersion_ps_per_nm_km


C_M_PER_S = 299_792_458.0


def q_inverse_for_ser(ser: float) -> float:
    """Q_t with 1.5·Q(Q_t) = SER (Gray PAM4, equally spaced levels).

    >>> round(q_inverse_for_ser(4.8e-4), 4)
    3.4141
    """
    ser = validate.in_range("ser", ser, 0.0, 1.5, low_inclusive=False, high_inclusive=False)
    return float(math.sqrt(2.0) * special.erfcinv(2.0 * ser / 1.5))


def q_for_ber(ber: float) -> float:
    """Q with BER = 0.75·Q(Q): Gray-coded PAM4, equally spaced levels, adjacent-level errors.

    SER = 1.5·Q(d/σ) for PAM4 with half level spacing d (3 inner levels, 2 tails each, over 4
    levels) and one bit error per symbol error with Gray coding, so BER = SER/2 = 0.75·Q(d/σ)
    (802.3 120.5 Gray map; same relation as :func:`q_inverse_for_ser` with SER = 2·BER).

    >>> round(q_for_ber(2.4e-4), 4)
    3.4141
    """
    ber = validate.in_range("ber", ber, 0.0, 0.375, low_inclusive=False, high_inclusive=False)
    return float(math.sqrt(2.0) * special.erfcinv(2.0 * ber / 0.75))


def bt4_noise_bandwidth_hz(f3db_hz: float) -> float:
    """Noise-equivalent bandwidth of the 4th-order Bessel-Thomson reference receiver, Hz.

    ENBW = ∫0^∞ |H(f)|² df for H(y) = 105/(105 + 105y + 45y² + 10y³ + y⁴), y = j·2.1139·f/f3dB
    (802.3 reference receiver, 121.8.5 / reference notes §2.1).  About 1.046·f3dB.
    """
    f3db_hz = validate.positive("f3db_hz", f3db_hz, "Hz")
    k = 2.113917674904216  # -3 dB point of the delay-normalised BT4

    def h2(x: float) -> float:
        y = 1j * k * x
        return abs(105.0 / (105.0 + 105.0 * y + 45.0 * y**2 + 10.0 * y**3 + y**4)) ** 2

    val = integrate.quad(h2, 0.0, 1.0)[0] + integrate.quad(h2, 1.0, np.inf, limit=200)[0]
    return float(val * f3db_hz)


def er_penalty_db(extinction_ratio_db: float) -> float:
    """OMA lost to a finite extinction ratio at fixed average power, relative to infinite ER, dB.

    OMA = 2·P_ave·(ER − 1)/(ER + 1) (ER linear), so the penalty is 10·log10((ER + 1)/(ER − 1)).
    Source: standard OMA/ER relations (e.g. Agrawal, *Fiber-Optic Communication Systems*, §5.4).

    >>> round(er_penalty_db(5.0), 3)
    2.844
    """
    er_db = validate.positive("extinction_ratio_db", extinction_ratio_db, "dB")
    er = 10.0 ** (er_db / 10.0)
    return 10.0 * math.log10((er + 1.0) / (er - 1.0))


def noise_penalty_db(relative_variance: float, q_t: float) -> float | None:
    """Optical power penalty of added Gaussian noise proportional to the signal, dB.

    With noise σ_x = OMA·sqrt(relative_variance) on each level and the PAM4 decision distance
    OMA/6, keeping Q = Q_t needs OMA² (1/36 − Q_t²·v) = Q_t²·σ_rx², i.e.

        penalty = −5·log10(1 − 36·Q_t²·v).

    This is the PAM4 form of the RIN penalty of Agrawal §5.4.5 (−5·log10(1 − r²Q²) for NRZ).
    Returns None when 36·Q_t²·v >= 1 (no power overcomes the noise: an error floor).
    """
    v = validate.non_negative("relative_variance", relative_variance)
    x = 36.0 * q_t**2 * v
    if x >= 1.0:
        return None
    return -5.0 * math.log10(1.0 - x)


def rin_relative_variance(rin_db_per_hz: float, noise_bandwidth_hz: float) -> float:
    """σ²/OMA² of RIN_OMA integrated over the receiver noise bandwidth: 10^(RIN/10)·B_n."""
    rin = validate.real("rin_db_per_hz", rin_db_per_hz)
    return 10.0 ** (rin / 10.0) * validate.positive("noise_bandwidth_hz", noise_bandwidth_hz, "Hz")


def mpi_relative_variance(crosstalk_db: float, extinction_ratio_db: float) -> float:
    """σ²/OMA² of multi-path interference beat noise on the top level (Gaussian approximation).

    Two fields of power P and X·P with random phase beat to an intensity noise of variance
    2·X·P² (Gimlett & Cheung, J. Lightwave Technol. 7(6), 1989).  On the top PAM4 level
    P3 = OMA·ER/(ER − 1), so σ²/OMA² = 2·X·(ER/(ER − 1))².  The Gaussian approximation is
    pessimistic: the real beat noise is bounded.
    """
    x = 10.0 ** (validate.real("crosstalk_db", crosstalk_db) / 10.0)
    er = 10.0 ** (validate.positive("extinction_ratio_db", extinction_ratio_db, "dB") / 10.0)
    return 2.0 * x * (er / (er - 1.0)) ** 2


def dispersion_fading_penalty_db(
    dispersion_ps_per_nm: float, wavelength_m: float, frequency_hz: float, chirp_alpha: float = 0.0
) -> float | None:
    """Eye-amplitude penalty of fibre dispersion from small-signal power fading, dB.

    An intensity-modulated carrier through fibre of accumulated dispersion D·L has the response
    H(f) = cos θ − α·sin θ with θ = π·λ²·D·L·f²/c (Devaux et al., J. Lightwave Technol. 11(12),
    1993; reference notes silicon-photonics §4; α sign conventions differ).  Evaluated at the
    Nyquist frequency baud/2 and without equalization, the penalty −10·log10|H| (photocurrent
    ∝ optical power) is a conservative ISI estimate.  Returns None at or past the first notch.
    """
    dl_s_per_m = validate.real("dispersion_ps_per_nm", dispersion_ps_per_nm) * 1e-12 / 1e-9
    lam = validate.positive("wavelength_m", wavelength_m, "m")
    f = validate.non_negative("frequency_hz", frequency_hz, "Hz")
    theta = math.pi * lam**2 * dl_s_per_m * f**2 / C_M_PER_S
    if abs(theta) >= math.pi / 2:
        return None
    h = math.cos(theta) - validate.real("chirp_alpha", chirp_alpha) * math.sin(theta)
    if h <= 0.0:
        return None
    return -10.0 * math.log10(h)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClosedFormPhysics:
    """Closed-form physics budget provider (callable ``(spec, conditions) -> BudgetColumn``).

    Parameters (defaults in brackets; each a documented assumption, not a standard value)
    ----------------------------------------------------------------------------------------
    tx_oma_outer_dbm : float or None
        Tx OMA at 25 °C [None: the worst compliant OMA of the PHY table].
    extinction_ratio_db : float
        Tx outer ER, dB [5.0].  Sets the average power, the ER penalty and the MPI level.
    tx_closure_db : float or None
        The transmitter's own eye closure (TECQ-like), dB [None: TDECQ max of the table].
    rin_db_per_hz : float or None
        RIN_OMA, dB/Hz [None: the table's limit].
    mpi_crosstalk_db : float or None
        Interferer/signal power ratio X, dB [None: Tx reflectance + Rx reflectance − 2·IL,
        the double reflection between transmitter and receiver (table values)].
    chirp_alpha : float
        Transmitter chirp factor for the fading model [0].
    responsivity_a_per_w : float
        Photodiode responsivity [0.7 A/W, typical Ge PD at 1310 nm; UNVERIFIED].
    tia_noise_a_per_rthz : float
        Input-referred TIA noise density [15 pA/√Hz; reference notes: typically 10-20].
    rx_implementation_penalty_db : float
        Receiver penalty beyond thermal noise (ISI, PD, noise shape) [2.0 dB; reference notes §3:
        a measured 112G receiver sits 1-3 dB above its noise-only estimate].
    ser_target : float or None
        SER for Q_t [None: the table's, or 4.8e-4].
    slope_t1_k : float
        Laser slope-efficiency temperature constant T1, P ∝ exp(−ΔT/T1) [260 K; reference notes].
    wavelength_drift_m_per_k : float
        Laser wavelength drift [0.09e-9 m/K; reference notes].
    """

    tx_oma_outer_dbm: float | None = None
    extinction_ratio_db: float = 5.0
    tx_closure_db: float | None = None
    rin_db_per_hz: float | None = None
    mpi_crosstalk_db: float | None = None
    chirp_alpha: float = 0.0
    responsivity_a_per_w: float = 0.7
    tia_noise_a_per_rthz: float = 15e-12
    rx_implementation_penalty_db: float = 2.0
    ser_target: float | None = None
    slope_t1_k: float = 260.0
    wavelength_drift_m_per_k: float = 0.09e-9

    def __post_init__(self) -> None:
        if self.tx_oma_outer_dbm is not None:
            validate.in_range("tx_oma_outer_dbm", self.tx_oma_outer_dbm, -40.0, 30.0, unit="dBm")
        validate.in_range("extinction_ratio_db", self.extinction_ratio_db, 0.0, 40.0, low_inclusive=False, unit="dB")
        if self.tx_closure_db is not None:
            validate.non_negative("tx_closure_db", self.tx_closure_db, "dB")
        if self.rin_db_per_hz is not None:
            validate.in_range("rin_db_per_hz", self.rin_db_per_hz, -200.0, -60.0, unit="dB/Hz")
        if self.mpi_crosstalk_db is not None:
            validate.in_range("mpi_crosstalk_db", self.mpi_crosstalk_db, -200.0, 0.0, unit="dB")
        validate.real("chirp_alpha", self.chirp_alpha)
        validate.positive("responsivity_a_per_w", self.responsivity_a_per_w, "A/W")
        validate.positive("tia_noise_a_per_rthz", self.tia_noise_a_per_rthz, "A/sqrt(Hz)")
        validate.non_negative("rx_implementation_penalty_db", self.rx_implementation_penalty_db, "dB")
        if self.ser_target is not None:
            validate.in_range("ser_target", self.ser_target, 0.0, 0.1, low_inclusive=False)
        validate.positive("slope_t1_k", self.slope_t1_k, "K")
        validate.non_negative("wavelength_drift_m_per_k", self.wavelength_drift_m_per_k, "m/K")

    def _table(self, spec: PhySpec, metric: str, side: str, default: float | None,
               allow_proposal: bool = False, allow_draft: bool = False) -> float | None:
        got = _row_value(spec, metric, side, allow_proposal, allow_draft)
        return default if got is None else got[0]

    def worst_dispersion_ps_per_nm(self, spec: PhySpec, cond: LinkConditions) -> tuple[float, float]:
        """(|D·L| worst case, wavelength) over the lanes at the laser temperature, ps/nm and m.

        Each lane's laser sits at its window centre at 25 °C and drifts by
        ``wavelength_drift_m_per_k``·(T − 25 °C); λ0 is the worst case in 1300-1324 nm.
        """
        worst = (0.0, spec.wavelength_windows_m[0][0])
        for lo, hi in spec.wavelength_windows_m:
            lam_m = 0.5 * (lo + hi) + self.wavelength_drift_m_per_k * (cond.temperature_c - T_REF_C)
            lam_nm = lam_m * 1e9
            d = max(abs(dispersion_ps_per_nm_km(lam_nm, l0, spec.dispersion.s0_ps_per_nm2_km
                                                  if spec.dispersion else 0.093)) for l0 in LAMBDA0_RANGE_NM)
            dl = d * cond.reach_m / 1000.0
            if dl >= worst[0]:
                worst = (dl, lam_m)
        return worst

    def __call__(self, spec: PhySpec, cond: LinkConditions) -> BudgetColumn:
        """The physics ledger for ``spec`` under ``cond`` (see class docstring)."""
        ser = self.ser_target or spec.ser_target or 4.8e-4
        q_t = q_inverse_for_ser(ser)
        baud = spec.symbol_rate_baud
        b_n = bt4_noise_bandwidth_hz(baud / 2.0)
        ap, ad = cond.allow_proposal, cond.allow_draft
        if self.tx_oma_outer_dbm is not None:
            oma25, oma_prop = self.tx_oma_outer_dbm, False
        else:
            oma25, _, oma_prop, _ = _tx_oma(spec, ap, cond.proposal, ad)
        d_t = cond.temperature_c - T_REF_C
        thermal_db = -10.0 * math.log10(math.e) * d_t / self.slope_t1_k
        er_pen = er_penalty_db(self.extinction_ratio_db)
        # average power that gives the 25 °C OMA: OMA = P_ave + 3.01 dB - ER penalty
        p_ave25 = oma25 - 10.0 * math.log10(2.0) + er_pen
        chan = _channel_items(spec, cond)
        il = sum(i.value for i in chan)
        dl, lam = self.worst_dispersion_ps_per_nm(spec, cond)
        disp = dispersion_fading_penalty_db(dl, lam, baud / 2.0, self.chirp_alpha)
        rin = self.rin_db_per_hz if self.rin_db_per_hz is not None else self._table(spec, "rin_db_per_hz", "max", -136.0, ap, ad)
        if self.mpi_crosstalk_db is not None:
            x_db, x_basis = self.mpi_crosstalk_db, "given"
        else:
            rt = self._table(spec, "tx_reflectance_db", "max", -26.0, ap, ad)
            rr = self._table(spec, "rx_reflectance_db", "max", -26.0, ap, ad)
            x_db, x_basis = rt + rr - 2.0 * il, f"Tx refl. {rt:g} + Rx refl. {rr:g} - 2 x IL {il:.2f} dB"
        v_rin = rin_relative_variance(rin, b_n)
        v_mpi = mpi_relative_variance(x_db, self.extinction_ratio_db)
        p_rin = noise_penalty_db(v_rin, q_t)
        p_both = noise_penalty_db(v_rin + v_mpi, q_t)
        p_mpi = None if p_both is None or p_rin is None else p_both - p_rin
        if self.tx_closure_db is not None:
            closure, closure_prop = self.tx_closure_db, False
        else:
            closure = _single(spec, "tdecq_db", "max", ap, ad)
            closure_prop = any(r.proposal for r in _rows(spec, "tdecq_db", ap, ad))
        sens_w = 6.0 * q_t * self.tia_noise_a_per_rthz * math.sqrt(b_n) / self.responsivity_a_per_w
        sens_dbm = 10.0 * math.log10(sens_w / 1e-3) + self.rx_implementation_penalty_db
        items = [
            BudgetItem("tx_average_power", "Tx average power", p_ave25, "dBm", +1,
                       f"gives OMA {oma25:.2f} dBm at 25 °C with ER {self.extinction_ratio_db:g} dB",
                       proposal=oma_prop),
            BudgetItem("oma_infinite_er", "OMA at infinite ER = 2 x P_ave", 10.0 * math.log10(2.0), "dB", +1,
                       "OMA = 2 P_ave (ER - 1)/(ER + 1)"),
            BudgetItem("er_penalty", "ER penalty", er_pen, "dB", -1, "10 log10((ER + 1)/(ER - 1)), ER linear"),
            BudgetItem("thermal_tx_change", "Tx power change with temperature", thermal_db, "dB", +1,
                       f"-10 log10(e) (T - 25 °C)/T1, T1 = {self.slope_t1_k:g} K"),
            *chan,
            BudgetItem("dispersion_penalty", "Dispersion penalty", disp, "dB", -1,
                       f"-10 log10|cos θ - α sin θ| at baud/2, |D L| = {dl:.3g} ps/nm at {lam * 1e9:.1f} nm"),
            BudgetItem("rin_penalty", "RIN penalty", p_rin, "dB", -1,
                       f"-5 log10(1 - 36 Q_t^2 RIN B_n), RIN {rin:g} dB/Hz, B_n {b_n / 1e9:.2f} GHz, Q_t {q_t:.4f}"),
            BudgetItem("mpi_penalty", "MPI penalty (increment over RIN)", p_mpi, "dB", -1,
                       f"beat noise 2X (ER/(ER-1))^2 OMA^2, X = {x_db:.1f} dB ({x_basis})"),
            BudgetItem("tx_closure", "Tx eye closure (TDECQ allocation)", closure, "dB", -1,
                       "given" if self.tx_closure_db is not None else "TDECQ max of the PHY table",
                       proposal=closure_prop),
            BudgetItem("rx_sensitivity", "Rx sensitivity OMA_outer", sens_dbm, "dBm", -1,
                       f"6 Q_t i_n sqrt(B_n)/R + {self.rx_implementation_penalty_db:g} dB; i_n "
                       f"{self.tia_noise_a_per_rthz * 1e12:g} pA/rtHz, R {self.responsivity_a_per_w:g} A/W"),
        ]
        notes = ["closed-form estimates (see basis of each item); TIA noise is taken as temperature independent"]
        if any(i.proposal for i in items):
            notes.append("PROPOSAL: Tx OMA, eye closure or channel lines use task-force numbers; advisory only")
        if disp is None:
            notes.append("dispersion: past the first power-fading notch at baud/2 (eye closed without EQ)")
        if p_rin is None or p_mpi is None:
            notes.append("RIN/MPI noise alone exceeds the Q_t budget (error floor)")
        return BudgetColumn("closed-form physics", tuple(items), _margin(items), tuple(notes))
